//! Two-factor sign-in: what a code looks like as typed, and the messages.

pub const CODE_REQUIRED: &str = "Two-factor code required";
pub const INVALID_CODE: &str = "Invalid two-factor code";
pub const ALREADY_ON: &str = "Two-factor sign-in is already on";
pub const NOT_SET_UP: &str = "Start the two-factor set-up first";
pub const NOT_ON: &str = "Two-factor sign-in is not on";

/// Recovery codes given when two-factor sign-in is turned on.
pub const RECOVERY_CODES: usize = 10;
/// Characters in a recovery code (lower-case base32: 50 random bits).
pub const RECOVERY_CODE_CHARS: usize = 10;

/// What was typed in the code field: an authenticator code or a recovery code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypedCode {
    /// Six digits from the authenticator app.
    Totp(String),
    /// A recovery code, normalised (lower case, no separators).
    Recovery(String),
}

/// Reads the code field: spaces and dashes are ignored and letters may be in any case.
/// Anything else is no code at all.
pub fn parse_code(input: &str) -> Option<TypedCode> {
    if input.len() > 64 {
        return None;
    }
    let kept: String = input
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '\t'))
        .collect::<String>()
        .to_ascii_lowercase();
    if kept.len() == 6 && kept.bytes().all(|b| b.is_ascii_digit()) {
        Some(TypedCode::Totp(kept))
    } else if kept.len() == RECOVERY_CODE_CHARS
        && kept
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
    {
        Some(TypedCode::Recovery(kept))
    } else {
        None
    }
}

/// A recovery code as shown to the user: two groups of five (`abcde-fgh23`).
pub fn format_recovery_code(code: &str) -> String {
    if code.len() == RECOVERY_CODE_CHARS && code.is_ascii() {
        format!("{}-{}", &code[..5], &code[5..])
    } else {
        code.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_typed() {
        let cases = [
            ("123456", Some(TypedCode::Totp("123456".into()))),
            (" 123 456 ", Some(TypedCode::Totp("123456".into()))),
            (
                "abcde-fgh23",
                Some(TypedCode::Recovery("abcdefgh23".into())),
            ),
            (
                "ABCDE FGH23",
                Some(TypedCode::Recovery("abcdefgh23".into())),
            ),
            ("12345", None),
            ("1234567", None),
            ("abcde-fgh18", None),
            ("<script>", None),
            ("１２３４５６", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_code(input), expected, "{input:?}");
        }
        assert_eq!(parse_code(&"1".repeat(100_000)), None);
    }

    #[test]
    fn recovery_codes_show_in_two_groups() {
        assert_eq!(format_recovery_code("abcdefgh23"), "abcde-fgh23");
        assert_eq!(format_recovery_code("short"), "short");
    }
}
