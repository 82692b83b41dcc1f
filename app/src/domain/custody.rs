//! Ticket custody (docs/RULES.md, "Entry codes"): one valid code per seat, what a code's state
//! says at the door, and how a typed or scanned code is read. Pure: storage keeps the codes,
//! the database's partial unique index guards the one-valid-code rule.

use super::Timestamp;

/// Where an entry code stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeStatus {
    /// Admits its holder once.
    Valid,
    /// Admitted someone already.
    Used,
    /// Replaced: the seat was resold, transferred or refunded.
    Revoked,
}

super::error::stored_status!(CodeStatus, "ticket code");

impl CodeStatus {
    pub const ALL: [CodeStatus; 3] = [CodeStatus::Valid, CodeStatus::Used, CodeStatus::Revoked];

    pub fn as_str(self) -> &'static str {
        match self {
            CodeStatus::Valid => "valid",
            CodeStatus::Used => "used",
            CodeStatus::Revoked => "revoked",
        }
    }
}

/// Why a code was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revocation {
    Resold,
    Transferred,
    Refunded,
}

super::error::stored_status!(Revocation, "code revocation");

impl Revocation {
    pub const ALL: [Revocation; 3] = [
        Revocation::Resold,
        Revocation::Transferred,
        Revocation::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Revocation::Resold => "resold",
            Revocation::Transferred => "transferred",
            Revocation::Refunded => "refunded",
        }
    }

    /// What the door and the holder's page say.
    pub fn explain(self) -> &'static str {
        match self {
            Revocation::Resold => "Resold — this code is no longer valid",
            Revocation::Transferred => "Transferred — this code is no longer valid",
            Revocation::Refunded => "Refunded — this code is no longer valid",
        }
    }
}

/// What a scan at the door finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckIn {
    /// First admission, recorded now.
    Valid {
        at: Timestamp,
    },
    /// Admitted before, at `at`.
    AlreadyUsed {
        at: Timestamp,
    },
    Revoked(Option<Revocation>),
    /// A code of another event, or of an other listing: not admitted at this door.
    WrongEvent,
    /// No such code.
    Unknown,
}

impl CheckIn {
    /// The API's `result`.
    pub fn result(self) -> &'static str {
        match self {
            CheckIn::Valid { .. } => "valid",
            CheckIn::AlreadyUsed { .. } => "already_used",
            CheckIn::Revoked(_) => "revoked",
            CheckIn::WrongEvent => "wrong_event",
            CheckIn::Unknown => "unknown",
        }
    }

    /// When the code first admitted someone, if it has.
    pub fn checked_in_at(self) -> Option<Timestamp> {
        match self {
            CheckIn::Valid { at } | CheckIn::AlreadyUsed { at } => Some(at),
            CheckIn::Revoked(_) | CheckIn::WrongEvent | CheckIn::Unknown => None,
        }
    }
}

/// The longest input read as a code: anything longer is no code of ours.
pub const MAX_CODE_INPUT: usize = 200;

/// A typed or scanned code in its stored form (`TKT-` and four groups of eight upper-case hex
/// digits), whatever the case, spacing or dashes; `None` for anything that cannot be one (it
/// is then simply unknown at the door).
pub fn normalize_code(input: &str) -> Option<String> {
    if input.chars().count() > MAX_CODE_INPUT {
        return None;
    }
    let compact: String = input
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let hex = compact.strip_prefix("TKT")?;
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!(
        "TKT-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..16],
        &hex[16..24],
        &hex[24..32]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "TKT-0123ABCD-4567EF01-89ABCDEF-00112233";

    #[test]
    fn codes_are_read_whatever_the_case_spacing_or_dashes() {
        for input in [
            CODE,
            "tkt-0123abcd-4567ef01-89abcdef-00112233",
            "  TKT 0123ABCD 4567EF01 89ABCDEF 00112233 ",
            "TKT0123ABCD4567EF0189ABCDEF00112233",
        ] {
            assert_eq!(normalize_code(input).as_deref(), Some(CODE), "{input}");
        }
        for junk in [
            "",
            "TKT-",
            "TKT-0123ABCD-4567EF01-89ABCDEF-0011223",
            "TKT-0123ABCD-4567EF01-89ABCDEF-001122334",
            "TKT-0123ABCG-4567EF01-89ABCDEF-00112233",
            "<script>alert(1)</script>",
            "TKT-0123ABCD-4567EF01-89ABCDEF-00112233\u{0}",
            "ＴＫＴ-0123ABCD-4567EF01-89ABCDEF-00112233",
        ] {
            assert_eq!(normalize_code(junk), None, "{junk:?}");
        }
        assert_eq!(normalize_code(&"-".repeat(10_000)), None);
    }

    #[test]
    fn statuses_read_back_what_they_store() {
        for status in CodeStatus::ALL {
            assert_eq!(CodeStatus::parse(status.as_str()), Ok(status));
        }
        for why in Revocation::ALL {
            assert_eq!(Revocation::parse(why.as_str()), Ok(why));
        }
        assert!(CodeStatus::parse("VALID").is_err());
    }

    #[test]
    fn a_scan_says_when_the_code_first_admitted() {
        let at = Timestamp(1_000);
        assert_eq!(CheckIn::Valid { at }.checked_in_at(), Some(at));
        assert_eq!(CheckIn::AlreadyUsed { at }.result(), "already_used");
        assert_eq!(
            CheckIn::Revoked(Some(Revocation::Resold)).checked_in_at(),
            None
        );
        assert_eq!(CheckIn::Unknown.result(), "unknown");
    }
}
