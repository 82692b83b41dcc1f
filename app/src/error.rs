//! The one application error. It travels from services to both adapters: the JSON API renders it
//! as the `{errors:[{message, field?}]}` envelope, the pages show its messages next to the inputs.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::DomainError;
pub use crate::domain::ErrorDetail;

/// Everything that can go wrong, by what the caller should do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 400: the input or a business rule says no; one detail per invalid field.
    #[error("{}", first_message(.0))]
    Invalid(Vec<ErrorDetail>),
    /// 401: not signed in.
    #[error("Not authorized")]
    Unauthenticated,
    /// 403: signed in, but not allowed.
    #[error("Forbidden")]
    Forbidden,
    /// 403 that says what to do first (an organiser publishing before proving their address).
    #[error("{0}")]
    NotYet(String),
    /// 403: the account was suspended by an admin.
    #[error("Account suspended")]
    Suspended,
    /// 403 for a browser form posted from another site.
    #[error("Cross-site requests are not allowed")]
    CrossSite,
    /// 404: unknown id or route.
    #[error("Not found")]
    NotFound,
    /// 405 on a known API route.
    #[error("Method not allowed")]
    MethodNotAllowed,
    /// 409: a stale version or a changed price.
    #[error("{}", .0.message)]
    Conflict(ErrorDetail),
    /// 402: the card was declined; the message is the bank's reason.
    #[error("{0}")]
    PaymentDeclined(String),
    /// 502: the payment provider could not be reached; the payment settles later.
    #[error(
        "The payment could not be confirmed right now; your order will show the result shortly"
    )]
    PaymentUnavailable,
    /// 408: the request's body did not arrive in time.
    #[error("The request took too long to arrive")]
    TimedOut,
    /// 413.
    #[error("Request body is too large")]
    PayloadTooLarge,
    /// 415.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429.
    #[error("Too many attempts, please wait a minute and try again")]
    TooManyRequests,
    /// 429 that says how long to wait (sign-in for an address after repeated wrong passwords).
    #[error("{0}")]
    SlowDown(String),
    /// 503.
    #[error("Error connecting to database")]
    Unavailable,
    /// 503 when a node has no room for more of something (live-update subscribers).
    #[error("The server is busy; please try again shortly")]
    Busy,
    /// 500: anything unexpected. Its cause stays on the server: logged once where the error
    /// leaves it, never serialized, never shown.
    #[error("Something went wrong")]
    Internal(#[serde(skip)] Cause),
}

/// Why an internal error happened, for the server's log. It is not part of an error's identity
/// (two internal errors are equal whatever their causes) and never travels to a client.
#[derive(Clone, Default)]
pub struct Cause(Option<std::sync::Arc<str>>);

impl Cause {
    pub fn new(text: String) -> Cause {
        Cause(Some(text.into()))
    }

    pub fn text(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

impl std::fmt::Debug for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Some(text) => write!(f, "Cause({text})"),
            None => f.write_str("Cause(unknown)"),
        }
    }
}

impl PartialEq for Cause {
    fn eq(&self, _: &Cause) -> bool {
        true
    }
}

impl Eq for Cause {}

fn first_message(details: &[ErrorDetail]) -> String {
    details
        .first()
        .map(|d| d.message.clone())
        .unwrap_or_else(|| "Invalid request".to_string())
}

impl AppError {
    /// A 400 with one message that belongs to no single input.
    pub fn invalid(message: &str) -> AppError {
        AppError::Invalid(vec![ErrorDetail::message(message)])
    }

    /// A 500 read back from a response, whose cause is not known here.
    pub fn internal_unexplained() -> AppError {
        AppError::Internal(Cause::default())
    }

    /// Logs an internal error's cause. Called once, where the error leaves the server: the
    /// API's response, a server function's answer, a page that shows it.
    pub fn log_cause(&self) {
        #[cfg(feature = "ssr")]
        if let AppError::Internal(cause) = self {
            tracing::error!(
                cause = cause.text().unwrap_or("unknown"),
                "unexpected error"
            );
        }
    }

    /// A 400 for one input.
    pub fn invalid_field(field: &str, message: &str) -> AppError {
        AppError::Invalid(vec![ErrorDetail::field(field, message)])
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) => 400,
            AppError::Unauthenticated => 401,
            AppError::PaymentDeclined(_) => 402,
            AppError::Forbidden
            | AppError::CrossSite
            | AppError::Suspended
            | AppError::NotYet(_) => 403,
            AppError::NotFound => 404,
            AppError::MethodNotAllowed => 405,
            AppError::TimedOut => 408,
            AppError::Conflict(_) => 409,
            AppError::PayloadTooLarge => 413,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::TooManyRequests | AppError::SlowDown(_) => 429,
            AppError::Internal(_) => 500,
            AppError::PaymentUnavailable => 502,
            AppError::Unavailable | AppError::Busy => 503,
        }
    }

    /// The entries of the error envelope.
    pub fn details(&self) -> Vec<ErrorDetail> {
        match self {
            AppError::Invalid(details) if !details.is_empty() => details.clone(),
            AppError::Conflict(detail) => vec![detail.clone()],
            other => vec![ErrorDetail::message(&other.to_string())],
        }
    }

    /// The message for one input, if this error has one for it.
    pub fn field_message(&self, field: &str) -> Option<String> {
        self.details()
            .into_iter()
            .find(|d| d.field.as_deref() == Some(field))
            .map(|d| d.message)
    }

    /// Messages that belong to no input the form shows (shown above the form).
    pub fn messages_except(&self, shown_fields: &[&str]) -> Vec<String> {
        self.details()
            .into_iter()
            .filter(|d| {
                d.field
                    .as_deref()
                    .is_none_or(|f| !shown_fields.contains(&f))
            })
            .map(|d| d.message)
            .collect()
    }
}

/// A business rule's refusal, as the application answers it.
impl From<DomainError> for AppError {
    fn from(refusal: DomainError) -> AppError {
        match refusal {
            DomainError::Invalid(details) => AppError::Invalid(details),
            DomainError::Forbidden => AppError::Forbidden,
            DomainError::Conflict(detail) => AppError::Conflict(detail),
        }
    }
}

impl From<ErrorDetail> for AppError {
    fn from(detail: ErrorDetail) -> AppError {
        AppError::Invalid(vec![detail])
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => {
                AppError::invalid("The form could not be read; please fill it in again")
            }
            ServerFnErrorErr::Request(_) => AppError::Unavailable,
            other => AppError::Internal(Cause::new(other.to_string())),
        }
    }

    /// Server functions answer errors in the same `{errors:[…]}` envelope as the JSON API; on
    /// the server this also gives the response the error's status code.
    fn ser(&self) -> leptos::server_fn::Bytes {
        #[cfg(feature = "ssr")]
        {
            crate::ssr::error_response::set_server_fn_status(self);
            self.log_cause();
        }
        let envelope = serde_json::json!({ "errors": self.details() });
        leptos::server_fn::Bytes::from(envelope.to_string())
    }

    fn de(data: leptos::server_fn::Bytes) -> Self {
        AppError::from_envelope(&data)
    }
}

/// The error envelope as it travels.
#[derive(Deserialize)]
struct Envelope {
    errors: Vec<ErrorDetail>,
}

impl AppError {
    /// Reads an error back from its envelope. The variants with a fixed message are recognised
    /// by it; any other entries are a refusal to show (`Invalid`).
    pub fn from_envelope(data: &[u8]) -> AppError {
        let Ok(Envelope { errors }) = serde_json::from_slice::<Envelope>(data) else {
            return AppError::internal_unexplained();
        };
        if let [only] = errors.as_slice()
            && only.field.is_none()
        {
            let fixed = [
                AppError::Unauthenticated,
                AppError::Forbidden,
                AppError::CrossSite,
                AppError::NotFound,
                AppError::MethodNotAllowed,
                AppError::PaymentUnavailable,
                AppError::TimedOut,
                AppError::PayloadTooLarge,
                AppError::TooManyRequests,
                AppError::Unavailable,
                AppError::internal_unexplained(),
            ];
            if let Some(known) = fixed.into_iter().find(|e| e.to_string() == only.message) {
                return known;
            }
        }
        if errors.is_empty() {
            return AppError::internal_unexplained();
        }
        AppError::Invalid(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_entries_keep_fields_and_fixed_messages() {
        let both = AppError::Invalid(vec![
            ErrorDetail::field("email", "Email is not valid"),
            ErrorDetail::field("password", "Password must be between 8 and 128 characters"),
        ]);
        assert_eq!(both.status(), 400);
        assert_eq!(
            both.field_message("password").as_deref(),
            Some("Password must be between 8 and 128 characters")
        );
        assert!(both.messages_except(&["email", "password"]).is_empty());
        assert_eq!(
            AppError::internal_unexplained().details(),
            vec![ErrorDetail::message("Something went wrong")]
        );
        assert_eq!(
            AppError::Unauthenticated.details(),
            vec![ErrorDetail::message("Not authorized")]
        );
        assert_eq!(
            serde_json::to_value(ErrorDetail::message("Not found")).unwrap(),
            serde_json::json!({"message": "Not found"})
        );
    }

    #[test]
    fn server_function_errors_travel_as_the_envelope_and_come_back() {
        let cases = [
            AppError::NotFound,
            AppError::Unauthenticated,
            AppError::Forbidden,
            AppError::TooManyRequests,
            AppError::TimedOut,
            AppError::Unavailable,
            AppError::internal_unexplained(),
            AppError::invalid_field("title", "Title is required"),
            AppError::invalid("Ticket is already reserved"),
        ];
        for error in cases {
            let bytes = error.ser();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(body, serde_json::json!({ "errors": error.details() }));
            assert_eq!(AppError::de(bytes), error);
        }
        assert_eq!(
            AppError::from_envelope(b"<html>"),
            AppError::internal_unexplained()
        );
    }
}
