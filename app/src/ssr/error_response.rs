//! How an [`AppError`] leaves the server: the JSON envelope with its status code (and the log
//! line of an unexpected failure's cause), and how unexpected failures become `Internal` with
//! their cause chain.

use crate::error::AppError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log_cause();
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::json!({ "errors": self.details() });
        (status, Json(body)).into_response()
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> AppError {
        if matches!(err, sqlx::Error::PoolTimedOut) {
            // Every connection stayed busy for the pool's whole wait: the server is overloaded
            // for a moment. This request is refused; the connections are fine.
            tracing::warn!("no database connection came free in time");
            return AppError::Unavailable;
        }
        if crate::ssr::db::is_storage_fault(&err) {
            // The next write transaction replaces the connection (see `Db::begin_write`), so
            // writes heal by themselves once the cause is gone.
            crate::ssr::db::note_storage_fault();
            tracing::error!(error = %err, "database unavailable");
            return AppError::Unavailable;
        }
        internal(anyhow::Error::new(err).context("database error"))
    }
}

/// Gives a server function's error response the status of its error: server functions answer
/// every error with 500 unless told otherwise, and a refusal is not a bug.
pub fn set_server_fn_status(error: &AppError) {
    if let Some(options) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
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

/// An unexpected failure: the whole cause chain goes with the error, to be logged where it
/// leaves the server, and is never shown.
pub fn internal(err: anyhow::Error) -> AppError {
    AppError::Internal(crate::error::Cause::new(format!("{err:?}")))
}
