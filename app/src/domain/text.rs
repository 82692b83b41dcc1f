//! Text as users type it, made safe to store and show: Unicode NFC, surrounding spaces trimmed,
//! and no control or invisible formatting characters. Those characters can hide or reorder what
//! a reader sees (a right-to-left override turning `gpj.exe` around, a zero-width space making
//! two identical-looking titles differ), so they are refused with a field error rather than
//! silently dropped.

use super::ErrorDetail;
use unicode_normalization::UnicodeNormalization;

/// Characters that change how text is laid out or are invisible: bidirectional controls,
/// zero-width characters, fillers and other format characters.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD              // soft hyphen
        | 0x034F            // combining grapheme joiner
        | 0x061C            // Arabic letter mark
        | 0x115F | 0x1160   // Hangul fillers
        | 0x17B4 | 0x17B5   // Khmer inherent vowels
        | 0x180B..=0x180F   // Mongolian variation selectors and vowel separator
        | 0x200B..=0x200F   // zero-width space, (non-)joiners, LRM, RLM
        | 0x2028 | 0x2029   // line and paragraph separators
        | 0x202A..=0x202E   // bidi embeddings and overrides
        | 0x2060..=0x206F   // word joiner, invisible operators, bidi isolates
        | 0x3164            // Hangul filler
        | 0xFE00..=0xFE0E   // variation selectors other than the emoji one
        | 0xFEFF            // byte order mark
        | 0xFFA0            // half-width Hangul filler
        | 0xFFF9..=0xFFFB   // interlinear annotations
        | 0x1D173..=0x1D17A // musical format characters
        | 0xE0000..=0xE0FFF // tags and variation selectors supplement
    )
}

/// Whether a zero-width joiner at this place joins two emoji (as in 👩‍💻), the one use it has
/// in a title.
fn joins_emoji(before: Option<char>, after: Option<char>) -> bool {
    let pictographic = |c: Option<char>| {
        c.is_some_and(|c| {
            let code = c as u32;
            !c.is_alphanumeric() && (code >= 0x2190 || code == 0xFE0F)
        })
    };
    pictographic(before) && pictographic(after)
}

/// One line of text (a title, a venue): NFC, trimmed, and without control characters
/// (newlines and tabs included) or invisible formatting characters. `label` names the field in
/// the message.
pub fn clean_line(field: &str, label: &str, input: &str) -> Result<String, ErrorDetail> {
    let text: String = input.nfc().collect();
    let text = text.trim();
    let chars: Vec<char> = text.chars().collect();
    let refused = chars.iter().enumerate().any(|(i, &c)| {
        if c == '\u{200D}' {
            let before = i.checked_sub(1).map(|j| chars[j]);
            return !joins_emoji(before, chars.get(i + 1).copied());
        }
        c.is_control() || is_invisible_format(c)
    });
    if refused {
        return Err(ErrorDetail::field(
            field,
            &format!("{label} must not contain control or invisible characters"),
        ));
    }
    Ok(text.to_string())
}

/// A cell for a CSV file that people open in a spreadsheet: text that a spreadsheet would run
/// as a formula (beginning with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with
/// `'`, which spreadsheets show as text. Everything else is kept as it is.
pub fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => std::borrow::Cow::Owned(format!("'{cell}")),
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_made_text() {
        for (cell, kept) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tindent", "'\tindent"),
            ("\rline", "'\rline"),
            ("Row C, Seat 12", "Row C, Seat 12"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), kept, "{cell:?}");
        }
    }

    proptest! {
        #[test]
        fn no_cell_begins_a_formula(cell in ".*") {
            let safe = spreadsheet_safe(&cell);
            let first = safe.chars().next();
            prop_assert!(!matches!(first, Some('=' | '+' | '-' | '@' | '\t' | '\r')));
            // Nothing is lost: the cell is the input, or the input after one quote.
            prop_assert!(safe == cell || safe.strip_prefix('\'') == Some(cell.as_str()));
        }
    }

    #[test]
    fn ordinary_text_is_kept_in_composed_form() {
        let cases = [
            ("  Hamlet  ", "Hamlet"),
            ("Cafe\u{301} Concert", "Café Concert"),
            ("Ünïcødé — ✓ 🎸", "Ünïcødé — ✓ 🎸"),
            (
                "Family 👨\u{200D}👩\u{200D}👧 day",
                "Family 👨\u{200D}👩\u{200D}👧 day",
            ),
            ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                clean_line("title", "Title", input).as_deref(),
                Ok(expected),
                "{input:?}"
            );
        }
    }

    #[test]
    fn control_and_invisible_characters_are_refused() {
        let cases = [
            "a\0b",
            "line\nbreak",
            "tab\there",
            "bell\u{7}",
            "c1\u{85}x",
            "\u{9b}31m",
            "right\u{202E}gpj.exe",
            "iso\u{2066}late",
            "zero\u{200B}width",
            "join\u{200D}ed",
            "bom\u{FEFF}",
            "soft\u{AD}hyphen",
            "tag\u{E0041}",
        ];
        for input in cases {
            assert_eq!(
                clean_line("venue", "Venue", input),
                Err(ErrorDetail::field(
                    "venue",
                    "Venue must not contain control or invisible characters"
                )),
                "{input:?}"
            );
        }
    }
}
