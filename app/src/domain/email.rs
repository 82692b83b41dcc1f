//! Email addresses as users type them, normalised so that two spellings of one address are equal.

use super::ErrorDetail;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The message shown for any address that cannot be an email address.
pub const INVALID_EMAIL: &str = "Email is not valid";

/// A syntactically plausible email address in one canonical spelling: NFKC (so fullwidth
/// `ａｄａ` is `ada`), trimmed and lower-cased (addresses are case-insensitive). Addresses with
/// invisible characters, or whose local part or a domain label mixes scripts (a Cyrillic `а`
/// among Latin letters), are refused: they exist to look like someone else's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld` with no spaces or control characters, a local part of at most
    /// 64 and a whole address of at most 254 characters, and a domain of dot-separated labels
    /// made of letters, digits and inner hyphens.
    pub fn parse(input: &str) -> Result<Email, ErrorDetail> {
        use unicode_normalization::UnicodeNormalization;
        use unicode_security::MixedScript;
        let invalid = || ErrorDetail::field("email", INVALID_EMAIL);
        let folded: String = input.nfkc().collect::<String>().to_lowercase();
        // Lower-casing can decompose (`İ`): compose again so one address has one spelling.
        let email: String = folded.trim().nfkc().collect();
        if email.is_empty() || email.chars().count() > 254 {
            return Err(invalid());
        }
        if email
            .chars()
            .any(|c| c.is_control() || super::text::is_invisible_format(c) || c == '\u{200D}')
        {
            return Err(invalid());
        }
        let (local, domain) = email.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.chars().count() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.chars().count() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let one_script =
            local.is_single_script() && labels.iter().all(|label| label.is_single_script());
        if local_ok && domain_ok && one_script {
            Ok(Email(email))
        } else {
            Err(invalid())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_normalises_them() {
        let cases = [
            ("ada@example.com", "ada@example.com"),
            ("  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"),
            ("a+tickets@sub.example.co.uk", "a+tickets@sub.example.co.uk"),
            ("x@xn--bcher-kva.example", "x@xn--bcher-kva.example"),
            ("élodie@café.fr", "élodie@café.fr"),
            // Fullwidth forms and compatibility characters are the address they look like.
            ("ａｄａ@ｅｘａｍｐｌｅ．ｃｏｍ", "ada@example.com"),
            ("ADA@EXAMPLE.COM", "ada@example.com"),
            ("e\u{301}lodie@cafe\u{301}.fr", "élodie@café.fr"),
            // One script throughout is fine, in any script.
            ("иван@пример.рф", "иван@пример.рф"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Email::parse(input).map(|e| e.0),
                Ok(expected.to_string()),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_what_cannot_be_an_address() {
        let too_long = format!("{}@example.com", "a".repeat(250));
        let long_local = format!("{}@example.com", "a".repeat(65));
        let cases = [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "ada@@example.com",
            "ada@exa mple.com",
            "ad a@example.com",
            "ada@-example.com",
            "ada@example-.com",
            "ada@example..com",
            ".ada@example.com",
            "ada.@example.com",
            "a..da@example.com",
            "ada@example.com.",
            "<ada>@example.com",
            too_long.as_str(),
            long_local.as_str(),
            // Lookalikes: a Cyrillic а or е among Latin letters, invisible or reordering
            // characters.
            "ada@ex\u{430}mple.com",
            "\u{430}da@example.com",
            "ada@examp\u{4cf}e.com",
            "a\u{200B}da@example.com",
            "ada@example.com\u{200B}",
            "ada\u{202E}@example.com",
            "ad\u{AD}a@example.com",
            "ada\u{0}@example.com",
        ];
        for input in cases {
            let err = Email::parse(input).expect_err(input);
            assert_eq!(err, ErrorDetail::field("email", INVALID_EMAIL), "{input}");
        }
    }
}
