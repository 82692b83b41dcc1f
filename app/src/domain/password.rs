//! Passwords as typed at sign-up and sign-in. The plain text is a secret: it cannot be printed
//! with `{:?}` or serialised, only handed to the hasher.

use super::ErrorDetail;
use std::fmt;

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;
pub const INVALID_PASSWORD: &str = "Password must be between 8 and 128 characters";

/// A password of 8 to 128 characters (counted as Unicode scalar values, spaces included).
pub struct Password(String);

impl Password {
    /// The length rule is the only rule: long passphrases beat composition rules.
    pub fn parse(input: &str) -> Result<Password, ErrorDetail> {
        let chars = input.chars().count();
        if (PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
            Ok(Password(input.to_string()))
        } else {
            Err(ErrorDetail::field("password", INVALID_PASSWORD))
        }
    }

    /// Accepts whatever was typed at sign-in, so that a wrong password is never told apart from a
    /// malformed one (both are "Invalid credentials").
    pub fn for_sign_in(input: &str) -> Password {
        Password(input.to_string())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_decides() {
        let cases: [(String, bool); 8] = [
            (String::new(), false),
            ("1234567".into(), false),
            ("12345678".into(), true),
            ("correct horse battery staple".into(), true),
            ("ñ".repeat(8), true),
            ("a".repeat(128), true),
            ("a".repeat(129), false),
            ("       ".into(), false),
        ];
        for (input, ok) in cases {
            let result = Password::parse(&input);
            assert_eq!(result.is_ok(), ok, "{input:?}");
            if let Err(err) = result {
                assert_eq!(err, ErrorDetail::field("password", INVALID_PASSWORD));
            }
        }
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let password = Password::parse("hunter2hunter2").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }
}
