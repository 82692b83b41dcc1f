//! The JSON API under `/api`. Handlers only translate: who is asking (the [`app::ssr::Ctx`]
//! extractor), parse the body into the service's typed input, call one service, shape the
//! answer. Every error leaves as the `{errors:[…]}` envelope,
//! including unknown routes, wrong methods, malformed JSON and oversized bodies.

pub mod admin;
mod check_ins;
pub(crate) mod events;
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
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub use extract::{ApiJson, ApiQuery};

/// Largest JSON body the API reads.
pub const API_BODY_LIMIT: usize = 16 * 1024;
/// Stripe events carry whole objects; they get more room.
pub const WEBHOOK_BODY_LIMIT: usize = 512 * 1024;

/// Every JSON route under `/api`, each registered from its handler's `#[utoipa::path]`, which
/// gives both its address and its entry in the OpenAPI document: this is the one list of routes
/// (the document, the router and the tests' fuzzer all read it). A new route goes here.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(users::sign_up))
        .routes(routes!(users::sign_in))
        .routes(routes!(users::sign_out))
        .routes(routes!(users::current_user))
        .routes(routes!(users::verify_email))
        .routes(routes!(users::resend_verification))
        .routes(routes!(users::request_password_reset))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::change_password))
        .routes(routes!(users::change_email))
        .routes(routes!(users::two_factor_setup))
        .routes(routes!(users::two_factor_enable))
        .routes(routes!(users::two_factor_disable))
        .routes(routes!(users::list_sessions, users::end_other_sessions))
        .routes(routes!(users::end_session))
        .routes(routes!(tickets::browse_tickets, tickets::list_ticket))
        .routes(routes!(tickets::my_tickets))
        .routes(routes!(stream::ticket_stream))
        .routes(routes!(tickets::get_ticket, tickets::edit_ticket))
        .routes(routes!(tickets::resell_ticket))
        .routes(routes!(tickets::transfer_ticket, tickets::cancel_transfer))
        .routes(routes!(orders::list_orders, orders::reserve_ticket))
        .routes(routes!(orders::get_order, orders::cancel_order))
        .routes(routes!(payments::pay_order))
        .routes(routes!(check_ins::check_in))
        .routes(routes!(openapi::document))
        .routes(routes!(admin::feed))
        .routes(routes!(events::catalogue, events::create_event))
        .routes(routes!(
            events::get_event,
            events::edit_event,
            events::delete_event
        ))
        .routes(routes!(events::add_staff))
        .routes(routes!(events::remove_staff))
        .routes(routes!(events::publish_event))
        .routes(routes!(events::cancel_event))
        .routes(routes!(events::attendees))
        .routes(
            routes!(events::put_image, events::delete_image)
                .layer(DefaultBodyLimit::max(events::IMAGE_BODY_LIMIT)),
        )
        .routes(routes!(admin::refund_order))
        .routes(routes!(admin::take_down))
        .routes(routes!(admin::suspend, admin::lift_suspension))
        .routes(routes!(admin::hold_payouts, admin::release_payouts))
        .routes(routes!(admin::audit))
        .routes(routes!(payouts::overview))
        .routes(routes!(payouts::connect_account))
        .routes(routes!(payments::stripe_webhook).layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT)))
}

/// The routes of [`routes()`] as the server answers them: unknown addresses and wrong methods in
/// the error envelope, bodies within [`API_BODY_LIMIT`].
pub fn router() -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    router
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
