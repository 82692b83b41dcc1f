//! The JSON API under `/api` (SPEC §3). Handlers only translate: read the session, parse the
//! body, call one service, shape the answer. Every error leaves as the `{errors:[…]}` envelope,
//! including unknown routes, wrong methods, malformed JSON and oversized bodies.

mod extract;
mod users;

use app::AppError;
use app::ssr::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use extract::ApiJson;

/// Largest JSON body the API reads.
pub const API_BODY_LIMIT: usize = 16 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/signup", post(users::sign_up))
        .route("/users/signin", post(users::sign_in))
        .route("/users/signout", post(users::sign_out))
        .route("/users/currentuser", get(users::current_user))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(API_BODY_LIMIT))
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
