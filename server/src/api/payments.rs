//! `POST /api/payments` (pay an order with a Stripe token) and `POST /api/webhooks/stripe`.

use super::{ApiJson, require_user};
use app::AppError;
use app::domain::{Charge, Id};
use app::error::ErrorDetail;
use app::ssr::AppState;
use app::ssr::payments::webhook;
use app::ssr::services::payments::{self, StripeEvent};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde_json::{Map, Value};
use tower_sessions::Session;

/// A charge as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargeJson {
    id: String,
    order_id: String,
    status: &'static str,
    amount: Value,
    currency: String,
}

impl From<&Charge> for ChargeJson {
    fn from(charge: &Charge) -> ChargeJson {
        ChargeJson {
            id: charge.id.to_string(),
            order_id: charge.order_id.to_string(),
            status: charge.status.as_str(),
            amount: charge.amount.to_json(),
            currency: charge.currency.clone(),
        }
    }
}

fn required_text<'a>(
    body: &'a Map<String, Value>,
    field: &str,
    message: &str,
) -> Result<&'a str, ErrorDetail> {
    body.get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| ErrorDetail::field(field, message))
}

pub async fn pay_order(
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<ChargeJson>), AppError> {
    let user = require_user(&session).await?;
    let order_id = required_text(&body, "orderId", "Order id is required").and_then(|id| {
        Id::parse(id).map_err(|_| ErrorDetail::field("orderId", "Order id is not valid"))
    });
    let token = required_text(&body, "token", "Token is required");
    let (order_id, token) = match (order_id, token) {
        (Ok(order_id), Ok(token)) => (order_id, token),
        (order_id, token) => {
            return Err(AppError::Invalid(
                [order_id.err(), token.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            ));
        }
    };
    let currency = &state.settings.currency;
    let charge = payments::pay_order(
        &state.db,
        &state.gateway,
        &state.payments,
        &user,
        &order_id,
        token,
        currency,
        state.clock.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(ChargeJson::from(&charge))))
}

/// Stripe's deliveries: the signature is checked over the raw body before anything is read.
pub async fn stripe_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, AppError> {
    let secret = state
        .settings
        .stripe_webhook_secret
        .as_ref()
        .ok_or_else(|| {
            AppError::invalid("Webhooks are not enabled on this server (STRIPE_WEBHOOK_SECRET)")
        })?;
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now_seconds = state.clock.now().millis() / 1000;
    if let Err(err) = webhook::verify(&body, signature, secret.expose(), now_seconds) {
        tracing::warn!(error = %err, "refused a webhook delivery");
        return Err(AppError::invalid("Invalid webhook signature"));
    }
    let event: Value = serde_json::from_slice(&body)
        .map_err(|_| AppError::invalid("The request body is not valid JSON"))?;
    let (Some(id), Some(event_type)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err(AppError::invalid("The event has no id or type"));
    };
    let event = StripeEvent {
        id: id.to_string(),
        event_type: event_type.to_string(),
        object: event["data"]["object"].clone(),
    };
    payments::apply_stripe_event(&state.db, &*state.gateway, event, &*state.clock).await?;
    Ok(Json(serde_json::json!({ "received": true })))
}
