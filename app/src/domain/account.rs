//! Rules for recovering and protecting an account: how long mailed links live, how many reset
//! mails one address gets, and how repeated wrong passwords slow sign-in down.

/// A verification link (sign-up, change of address) works this long.
pub const VERIFY_LINK_MS: i64 = 24 * 3600 * 1000;
/// A password-reset link works this long.
pub const RESET_LINK_MS: i64 = 30 * 60 * 1000;
/// Reset mails one address gets per hour, however many are asked for.
pub const RESET_MAILS_PER_HOUR: i64 = 3;
/// Verification mails a signed-in user can have re-sent per hour.
pub const VERIFY_MAILS_PER_HOUR: i64 = 3;

pub const INVALID_LINK: &str = "Link is invalid or has expired";
pub const WRONG_PASSWORD: &str = "Password is incorrect";
pub const COMMON_PASSWORD: &str = "Password is too common";

/// What a mailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Proves the current address (sent at sign-up, and again on request).
    Verify,
    /// Sets a new password.
    Reset,
    /// Moves the account to the address it was sent to.
    ChangeEmail,
}

impl TokenPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenPurpose::Verify => "verify",
            TokenPurpose::Reset => "reset",
            TokenPurpose::ChangeEmail => "email",
        }
    }

    pub fn lifetime_ms(self) -> i64 {
        match self {
            TokenPurpose::Reset => RESET_LINK_MS,
            TokenPurpose::Verify | TokenPurpose::ChangeEmail => VERIFY_LINK_MS,
        }
    }
}

/// Failed sign-ins allowed for one address from one client before each further one waits.
pub const FREE_FAILURES_PER_CLIENT: i64 = 5;
/// The same for one address from all clients together (a spread-out attack).
pub const FREE_FAILURES_IN_ALL: i64 = 20;
/// The first wait; each further failure doubles it.
pub const FIRST_LOCK_MS: i64 = 30 * 1000;
/// The longest wait: an attack can never keep the owner out longer than this at a time, and a
/// password reset always works.
pub const LONGEST_LOCK_MS: i64 = 15 * 60 * 1000;

/// How long sign-in for an address stays closed after its `failures`-th failure in a row, when
/// `free` failures are allowed without a wait: none up to `free`, then 30 s, 1 min, 2 min, …
/// up to 15 minutes.
pub fn lock_after_failure_ms(failures: i64, free: i64) -> Option<i64> {
    if failures < free {
        return None;
    }
    let doublings = (failures - free).min(20) as u32;
    Some(
        FIRST_LOCK_MS
            .saturating_mul(1_i64 << doublings)
            .min(LONGEST_LOCK_MS),
    )
}

/// Whole minutes to tell someone to wait, rounded up (at least one).
pub fn minutes_to_wait(remaining_ms: i64) -> i64 {
    ((remaining_ms.max(1) + 59_999) / 60_000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_failures_and_double_up_to_fifteen_minutes() {
        let free = FREE_FAILURES_PER_CLIENT;
        assert_eq!(lock_after_failure_ms(1, free), None);
        assert_eq!(lock_after_failure_ms(free - 1, free), None);
        assert_eq!(lock_after_failure_ms(free, free), Some(30_000));
        assert_eq!(lock_after_failure_ms(free + 1, free), Some(60_000));
        assert_eq!(lock_after_failure_ms(free + 4, free), Some(480_000));
        assert_eq!(lock_after_failure_ms(free + 5, free), Some(900_000));
        assert_eq!(lock_after_failure_ms(i64::MAX, free), Some(900_000));
    }

    #[test]
    fn waits_are_told_in_whole_minutes_rounded_up() {
        assert_eq!(minutes_to_wait(1), 1);
        assert_eq!(minutes_to_wait(30_000), 1);
        assert_eq!(minutes_to_wait(60_000), 1);
        assert_eq!(minutes_to_wait(60_001), 2);
        assert_eq!(minutes_to_wait(900_000), 15);
        assert_eq!(minutes_to_wait(-5), 1);
    }

    #[test]
    fn links_live_as_long_as_the_spec_says() {
        assert_eq!(TokenPurpose::Verify.lifetime_ms(), 86_400_000);
        assert_eq!(TokenPurpose::ChangeEmail.lifetime_ms(), 86_400_000);
        assert_eq!(TokenPurpose::Reset.lifetime_ms(), 1_800_000);
    }
}
