//! TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps) through totp-rs, and the random
//! secrets and recovery codes of two-factor sign-in.

use crate::domain::Timestamp;
use crate::domain::two_factor::RECOVERY_CODE_CHARS;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// A new shared secret: 160 random bits, in base32 as authenticator apps take it.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::from(bytes).to_base32()
}

fn totp(secret: &str, email: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_skew(1)
        .with_secret(secret)
        .with_account_name(email)
        .with_issuer(Some("Ticketing"))
        .build()
        .ok()
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn otpauth_url(secret: &str, email: &str) -> Option<String> {
    totp(secret, email)?.to_url().ok()
}

/// The time step whose code `code` is, if it is the code of the step at `now` or of the one
/// before or after (clocks drift); `None` otherwise.
pub fn matching_step(secret: &str, code: &str, now: Timestamp) -> Option<i64> {
    let seconds = u64::try_from(now.millis() / 1000).ok()?;
    // The account name only appears in the otpauth address, not in codes.
    let step = totp(secret, "account")?.check(code, seconds)?;
    i64::try_from(step).ok()
}

/// The code of `now`'s step (tests and tools).
pub fn code_at(secret: &str, now: Timestamp) -> Option<String> {
    let seconds = u64::try_from(now.millis() / 1000).ok()?;
    Some(totp(secret, "account")?.generate(seconds).to_string())
}

/// Fresh recovery codes, as typed by the user later (lower-case base32, no separator).
pub fn new_recovery_codes(count: usize) -> Vec<String> {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut rng = rand::rngs::OsRng;
    (0..count)
        .map(|_| {
            (0..RECOVERY_CODE_CHARS)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect()
        })
        .collect()
}

/// How a recovery code is stored: its SHA-256 (the code has 50 random bits; nobody can guess
/// one from its hash, and the sign-in throttle stops guessing it online).
pub fn recovery_hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_the_step_and_its_neighbours_match_and_no_others() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let now = Timestamp::from_millis(1_800_000_000_000);
        let step = 1_800_000_000 / 30;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(matching_step(&secret, &code, now), Some(step));
        let later = Timestamp::from_millis(now.millis() + 30_000);
        assert_eq!(matching_step(&secret, &code, later), Some(step));
        let much_later = Timestamp::from_millis(now.millis() + 61_000);
        assert_eq!(matching_step(&secret, &code, much_later), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
        assert_eq!(matching_step("not base32!", &code, now), None);
    }

    #[test]
    fn rfc_6238_test_vector() {
        // RFC 6238 appendix B, SHA-1: secret "12345678901234567890", T = 59 s → 94287082 (8
        // digits); its last six digits are the 6-digit code.
        let secret = Secret::from(b"12345678901234567890".to_vec()).to_base32();
        assert_eq!(
            code_at(&secret, Timestamp::from_millis(59_000)).unwrap(),
            "287082"
        );
    }

    #[test]
    fn the_otpauth_address_names_the_site_and_the_account() {
        let url = otpauth_url("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "ada@example.com").unwrap();
        assert!(
            url.starts_with("otpauth://totp/Ticketing:ada%40example.com?"),
            "{url}"
        );
        assert!(url.contains("secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"));
        assert!(url.contains("issuer=Ticketing"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_well_formed() {
        let codes = new_recovery_codes(10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for code in &codes {
            assert!(matches!(
                crate::domain::two_factor::parse_code(code),
                Some(crate::domain::two_factor::TypedCode::Recovery(_))
            ));
        }
    }
}
