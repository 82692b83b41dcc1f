//! How an [`AppError`] leaves the server: the JSON envelope with its status code, and how
//! unexpected failures become `Internal` after their cause chain is logged.

use crate::error::AppError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({ "errors": self.details() });
        (status, Json(body)).into_response()
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::error!(error = %err, "database unavailable");
                AppError::Unavailable
            }
            other => internal(anyhow::Error::new(other).context("database error")),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> AppError {
        internal(err)
    }
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> AppError {
        internal(anyhow::Error::new(err).context("session store error"))
    }
}

/// Logs the whole cause chain and hides it from the user.
pub fn internal(err: anyhow::Error) -> AppError {
    tracing::error!(error = ?err, "unexpected error");
    AppError::Internal
}
