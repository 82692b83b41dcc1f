//! The domain's own refusals. They know nothing of HTTP or of the web framework: the
//! application error maps them to statuses at the edge.

use serde::{Deserialize, Serialize};

/// One reason an input or a request was refused: a message, and the input it belongs to when
/// there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorDetail {
    pub fn field(field: &str, message: &str) -> ErrorDetail {
        ErrorDetail {
            message: message.to_string(),
            field: Some(field.to_string()),
        }
    }

    pub fn message(message: &str) -> ErrorDetail {
        ErrorDetail {
            message: message.to_string(),
            field: None,
        }
    }
}

/// What a business rule can say instead of yes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input, or the state of things, does not allow it; one detail per reason.
    #[error("{}", .0.first().map(|d| d.message.as_str()).unwrap_or("Invalid request"))]
    Invalid(Vec<ErrorDetail>),
    /// It is someone else's.
    #[error("Forbidden")]
    Forbidden,
    /// What the caller saw has changed since (a version, a price).
    #[error("{}", .0.message)]
    Conflict(ErrorDetail),
}

impl DomainError {
    /// A refusal with one message that belongs to no single input.
    pub fn invalid(message: &str) -> DomainError {
        DomainError::Invalid(vec![ErrorDetail::message(message)])
    }
}

impl From<ErrorDetail> for DomainError {
    fn from(detail: ErrorDetail) -> DomainError {
        DomainError::Invalid(vec![detail])
    }
}

/// A status read from storage that no version of this program writes: the row is corrupt, and
/// reading it fails instead of guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} status `{value}`")]
pub struct UnknownStatus {
    pub kind: &'static str,
    pub value: String,
}

/// Gives a status kept in storage as text its reading back: `parse`, and `TryFrom<String>` for
/// the row types. The status lists every value in `ALL` and names it with `as_str`.
macro_rules! stored_status {
    ($status:ident, $kind:literal) => {
        impl $status {
            /// Reads a stored status; anything else is a corrupt row.
            pub fn parse(stored: &str) -> Result<$status, $crate::domain::UnknownStatus> {
                $status::ALL
                    .into_iter()
                    .find(|status| status.as_str() == stored)
                    .ok_or_else(|| $crate::domain::UnknownStatus {
                        kind: $kind,
                        value: stored.to_string(),
                    })
            }
        }

        impl TryFrom<String> for $status {
            type Error = $crate::domain::UnknownStatus;

            fn try_from(stored: String) -> Result<$status, Self::Error> {
                $status::parse(&stored)
            }
        }
    };
}
pub(crate) use stored_status;
