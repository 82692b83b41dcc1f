//! The JSON API under `/api`. Handlers only translate: who is asking (the [`app::ssr::Ctx`]
//! extractor), parse the body into the service's typed input, call one service, shape the
//! answer. Every error leaves as the `{errors:[…]}` envelope,
//! including unknown routes, wrong methods, malformed JSON and oversized bodies.

pub mod admin;
mod check_ins;
mod extract;
pub mod openapi;
mod orders;
mod payments;
mod payouts;
pub mod stream;
pub(crate) mod tickets;
mod users;

use app::AppError;
use app::ssr::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};

pub use extract::{ApiJson, ApiQuery};

/// Largest JSON body the API reads.
pub const API_BODY_LIMIT: usize = 16 * 1024;
/// Stripe events carry whole objects; they get more room.
pub const WEBHOOK_BODY_LIMIT: usize = 512 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users/signup", post(users::sign_up))
        .route("/users/signin", post(users::sign_in))
        .route("/users/signout", post(users::sign_out))
        .route("/users/currentuser", get(users::current_user))
        .route("/users/verify", post(users::verify_email))
        .route("/users/verify/resend", post(users::resend_verification))
        .route("/users/password-reset", post(users::request_password_reset))
        .route("/users/password-reset/confirm", post(users::reset_password))
        .route("/users/password", post(users::change_password))
        .route("/users/email", post(users::change_email))
        .route("/users/2fa/setup", post(users::two_factor_setup))
        .route("/users/2fa/enable", post(users::two_factor_enable))
        .route("/users/2fa/disable", post(users::two_factor_disable))
        .route(
            "/users/sessions",
            get(users::list_sessions).delete(users::end_other_sessions),
        )
        .route("/users/sessions/{id}", delete(users::end_session))
        .route(
            "/tickets",
            get(tickets::browse_tickets).post(tickets::list_ticket),
        )
        .route("/tickets/mine", get(tickets::my_tickets))
        .route("/tickets/stream", get(stream::ticket_stream))
        .route(
            "/tickets/{id}",
            get(tickets::get_ticket).put(tickets::edit_ticket),
        )
        .route("/tickets/{id}/resell", post(tickets::resell_ticket))
        .route(
            "/tickets/{id}/transfer",
            post(tickets::transfer_ticket).delete(tickets::cancel_transfer),
        )
        .route(
            "/orders",
            get(orders::list_orders).post(orders::reserve_ticket),
        )
        .route(
            "/orders/{id}",
            get(orders::get_order).delete(orders::cancel_order),
        )
        .route("/payments", post(payments::pay_order))
        .route("/check-ins", post(check_ins::check_in))
        .route("/openapi.json", get(openapi::document))
        .route("/events", get(admin::events))
        .route("/admin/orders/{id}/refund", post(admin::refund_order))
        .route("/admin/tickets/{id}/takedown", post(admin::take_down))
        .route(
            "/admin/users/{id}/suspend",
            post(admin::suspend).delete(admin::lift_suspension),
        )
        .route(
            "/admin/users/{id}/payouts/hold",
            post(admin::hold_payouts).delete(admin::release_payouts),
        )
        .route("/admin/audit", get(admin::audit))
        .route("/payouts", get(payouts::overview))
        .route("/payouts/account", post(payouts::connect_account))
        .route(
            "/webhooks/stripe",
            post(payments::stripe_webhook).layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT)),
        )
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
