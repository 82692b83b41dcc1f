//! Opaque identifiers: UUID text in canonical hyphenated lower-case form.

use super::ErrorDetail;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An id as it appears in URLs and JSON. Parsing checks the UUID syntax only; whether such a
/// record exists is for storage to say.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    /// A malformed id is a client error ("Invalid id"), distinct from an unknown one.
    pub fn parse(input: &str) -> Result<Id, ErrorDetail> {
        uuid::Uuid::try_parse(input.trim())
            .map(|uuid| Id(uuid.hyphenated().to_string()))
            .map_err(|_| ErrorDetail::message("Invalid id"))
    }

    /// Wraps an id produced by this server (already canonical).
    pub fn from_trusted(id: String) -> Id {
        Id(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonicalises_valid_ids_and_rejects_others() {
        assert_eq!(
            Id::parse("0191F4B2-5C3A-7D11-8E2F-0123456789AB")
                .unwrap()
                .as_str(),
            "0191f4b2-5c3a-7d11-8e2f-0123456789ab"
        );
        for bad in [
            "",
            "abc",
            "1",
            "0191f4b2-5c3a-7d11-8e2f-0123456789az",
            "../etc/passwd",
        ] {
            assert!(Id::parse(bad).is_err(), "{bad}");
        }
    }
}
