//! Choosing the payment gateway from the settings, and the browser's return from Stripe Checkout.

use crate::Config;
use app::domain::Id;
use app::ssr::payments::Gateway;
use app::ssr::payments::stripe::StripeGateway;
use app::ssr::{AppState, services};
use axum::extract::{Path, Query, State};
use axum::response::Redirect;
use std::collections::HashMap;
use tower_sessions::Session;

/// Stripe when a secret key is configured, otherwise the built-in test mode.
pub fn gateway(config: &Config) -> anyhow::Result<Gateway> {
    match config
        .stripe_secret_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        None => Ok(Gateway::test_mode()),
        Some(key) => {
            let api_base = config
                .stripe_api_base
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty());
            Ok(Gateway::Stripe(Box::new(StripeGateway::new(
                key, api_base,
            )?)))
        }
    }
}

/// `GET /orders/:id/checkout-return`: where Stripe Checkout sends the buyer back. The server
/// asks Stripe for the session's real state (the query string proves nothing), settles the
/// payment if it went through, and shows the order page.
pub async fn checkout_return(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Redirect {
    let Ok(Some(user)) = app::ssr::session::user_id(&session).await else {
        return Redirect::to("/auth/signin");
    };
    let Ok(order_id) = Id::parse(&id) else {
        return Redirect::to("/orders");
    };
    let session_id = params.get("session_id").map(String::as_str);
    if let Err(err) = services::payments::confirm_checkout(
        &state.db,
        &*state.gateway,
        &user,
        &order_id,
        session_id,
        &*state.clock,
    )
    .await
    {
        tracing::warn!(error = %err, order = %order_id, "checkout return could not be confirmed");
    }
    Redirect::to(&format!("/orders/{order_id}"))
}
