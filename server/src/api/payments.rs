//! `POST /api/payments` (pay an order with a Stripe token) and `POST /api/webhooks/stripe`.

use super::ApiJson;
use super::openapi::Refusals;
use app::AppError;
use app::domain::{Charge, Id};
use app::error::ErrorDetail;
use app::ssr::Ctx;
use app::ssr::payments::webhook;
use app::ssr::services::payments::{self, PayOrder};
use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A charge as the API shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChargeJson {
    id: String,
    order_id: String,
    /// `created`, `completed`, `failed` or `refunded`.
    status: &'static str,
    #[schema(value_type = f64)]
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

/// A payment: the order and a card token (`tok_visa` and friends in test mode).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayBody {
    #[serde(default)]
    #[schema(value_type = String)]
    order_id: Option<Value>,
    #[serde(default)]
    #[schema(value_type = String)]
    token: Option<Value>,
}

fn required_text<'a>(
    value: Option<&'a Value>,
    field: &str,
    message: &str,
) -> Result<&'a str, ErrorDetail> {
    value
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
        .ok_or_else(|| ErrorDetail::field(field, message))
}

#[utoipa::path(post, path = "/payments", tag = "payments", request_body = PayBody,
    responses((status = 201, body = ChargeJson, description = "Paid"), Refusals))]
pub async fn pay_order(
    ctx: Ctx,
    ApiJson(body): ApiJson<PayBody>,
) -> Result<(StatusCode, Json<ChargeJson>), AppError> {
    ctx.user()?;
    let order_id = required_text(body.order_id.as_ref(), "orderId", "Order id is required")
        .and_then(|id| {
            Id::parse(id).map_err(|_| ErrorDetail::field("orderId", "Order id is not valid"))
        });
    let token = required_text(body.token.as_ref(), "token", "Token is required");
    let input = match (order_id, token) {
        (Ok(order_id), Ok(token)) => PayOrder {
            order_id,
            token: token.to_string(),
        },
        (order_id, token) => {
            return Err(AppError::Invalid(
                [order_id.err(), token.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            ));
        }
    };
    let charge = payments::pay_order(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(ChargeJson::from(&charge))))
}

#[derive(Serialize, ToSchema)]
pub struct ReceivedJson {
    received: bool,
}

/// Stripe's deliveries: the signature is checked over the raw body before anything is read.
#[utoipa::path(post, path = "/webhooks/stripe", tag = "payments",
    request_body(content = Object, description = "A Stripe event, signed in `Stripe-Signature`"),
    responses((status = 200, body = ReceivedJson), Refusals))]
pub async fn stripe_webhook(
    ctx: Ctx,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ReceivedJson>, AppError> {
    let secret = ctx
        .settings()
        .stripe_webhook_secret
        .as_ref()
        .ok_or_else(|| {
            AppError::invalid("Webhooks are not enabled on this server (STRIPE_WEBHOOK_SECRET)")
        })?;
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now_seconds = ctx.now().millis() / 1000;
    if let Err(err) = webhook::verify_any(&body, signature, secret.expose(), now_seconds) {
        tracing::warn!(error = %err, "refused a webhook delivery");
        return Err(AppError::invalid("Invalid webhook signature"));
    }
    let event = webhook::decode(&body).map_err(|err| AppError::invalid(&err.to_string()))?;
    payments::apply_stripe_event(&ctx, event).await?;
    Ok(Json(ReceivedJson { received: true }))
}
