//! Password hashing with argon2id (19 MiB, 2 passes), always on a blocking thread so a burst of
//! sign-ins never stalls the async workers. Unknown accounts are verified against a dummy hash so
//! that timing does not reveal which emails are registered.

use crate::domain::Password;
use anyhow::Context;
use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;

/// A PHC string such as `$argon2id$v=19$m=19456,t=2,p=1$…`. Never printed, never serialised.
pub struct PasswordHashString(String);

impl PasswordHashString {
    pub fn from_stored(phc: String) -> PasswordHashString {
        PasswordHashString(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hasher() -> Argon2<'static> {
    // OWASP's argon2id recommendation: m = 19 MiB, t = 2, p = 1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a random password, computed once, to verify against when the email is unknown.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    let random = uuid::Uuid::now_v7().to_string();
    hasher()
        .hash_password(random.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// At most one hash per core at a time: each takes 19 MiB and a core for tens of
/// milliseconds, so a burst of sign-ins queues here instead of swamping memory and starving
/// every other request.
static HASHING: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

async fn hashing_slot() -> anyhow::Result<tokio::sync::SemaphorePermit<'static>> {
    HASHING
        .acquire()
        .await
        .context("the password hashing queue is closed")
}

pub async fn hash_password(password: Password) -> anyhow::Result<PasswordHashString> {
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|hash| PasswordHashString(hash.to_string()))
            .map_err(|e| anyhow::anyhow!("argon2 failed: {e}"))
    })
    .await
    .context("password hashing task failed")?
}

/// True when `password` matches `stored`; with no stored hash, spends the same effort and says no.
pub async fn verify_password(
    stored: Option<PasswordHashString>,
    password: Password,
) -> anyhow::Result<bool> {
    let _slot = hashing_slot().await?;
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.map(|s| s.0).unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| anyhow::anyhow!("stored hash is not a PHC string: {e}"))?;
        let matches = hasher()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
    .context("password verification task failed")?
}

/// Computes the dummy hash ahead of the first unknown-email sign-in.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let hash = hash_password(Password::parse("correct horse").unwrap())
            .await
            .unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let stored = || Some(PasswordHashString::from_stored(hash.as_str().to_string()));
        assert!(
            verify_password(stored(), Password::for_sign_in("correct horse"))
                .await
                .unwrap()
        );
        assert!(
            !verify_password(stored(), Password::for_sign_in("wrong horse"))
                .await
                .unwrap()
        );
        assert!(
            !verify_password(None, Password::for_sign_in("correct horse"))
                .await
                .unwrap()
        );
    }
}

/// A password someone is choosing (sign-up, change, reset): 8–128 characters, and not a
/// commonly used one. "Common" is zxcvbn's estimate of fewer than 10^8 guesses (score below
/// 3), which covers its lists of the most used passwords, words and names, keyboard walks,
/// dates, repeats and the user's own address. `field` names the input for the error.
pub fn new_password(
    input: &str,
    email: &str,
    field: &str,
) -> Result<Password, crate::domain::ErrorDetail> {
    let password = Password::parse(input).map_err(|err| crate::domain::ErrorDetail {
        field: Some(field.to_string()),
        ..err
    })?;
    let local_part = email.split('@').next().unwrap_or_default();
    let estimate = zxcvbn::zxcvbn(password.expose(), &[email, local_part, "ticketing"]);
    if (estimate.score() as u8) < 3 {
        return Err(crate::domain::ErrorDetail::field(
            field,
            crate::domain::account::COMMON_PASSWORD,
        ));
    }
    Ok(password)
}

#[cfg(test)]
mod policy_tests {
    use super::*;

    #[test]
    fn common_and_guessable_passwords_are_refused() {
        for common in [
            "password",
            "password1",
            "12345678",
            "qwertyuiop",
            "iloveyou",
            "letmein123",
            "sunshine",
            "football1",
            "P@ssw0rd",
            "aaaaaaaaaa",
            "jane.doe@example.com",
            "janedoe1",
            "ticketing-demo",
        ] {
            let refused = new_password(common, "jane.doe@example.com", "password").unwrap_err();
            assert_eq!(refused.message, "Password is too common", "{common}");
            assert_eq!(refused.field.as_deref(), Some("password"));
        }
    }

    #[test]
    fn passphrases_and_random_strings_are_accepted() {
        for fine in [
            "correct horse battery",
            "tram lamp violet oyster",
            "x7#Qp!v9Lm2z",
        ] {
            assert!(
                new_password(fine, "jane@example.com", "password").is_ok(),
                "{fine}"
            );
        }
    }

    #[test]
    fn the_length_rule_still_comes_first_with_the_callers_field() {
        let short = new_password("Zq9!", "a@b.c", "newPassword").unwrap_err();
        assert_eq!(short.field.as_deref(), Some("newPassword"));
        assert!(short.message.contains("between 8 and 128"));
        assert!(new_password(&"x".repeat(129), "a@b.c", "password").is_err());
    }
}
