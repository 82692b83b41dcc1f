//! Choosing the payment gateway from the settings, and the browser's return from Stripe Checkout.

use crate::Config;
use app::domain::Id;
use app::ssr::payments::Gateway;
use app::ssr::payments::stripe::StripeGateway;
use app::ssr::{Ctx, services};
use axum::extract::{Path, Query};
use axum::response::Redirect;
use std::collections::HashMap;

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
    ctx: Ctx,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Redirect {
    if ctx.user().is_err() {
        return Redirect::to("/auth/signin");
    }
    let Ok(order_id) = Id::parse(&id) else {
        return Redirect::to("/orders");
    };
    let session_id = params.get("session_id").map(String::as_str);
    if let Err(err) = services::payments::checkout_return(&ctx, &order_id, session_id).await {
        tracing::warn!(error = ?err, order = %order_id, "checkout return could not be confirmed");
    }
    Redirect::to(&format!("/orders/{order_id}"))
}
