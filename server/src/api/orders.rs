//! `/api/orders`: reserve a ticket, list and show my orders, cancel one.

use super::ApiJson;
use super::tickets::TicketJson;
use app::AppError;
use app::domain::{Id, Price};
use app::error::ErrorDetail;
use app::ssr::Ctx;
use app::ssr::services::orders::{self, OrderWithTicket, ReserveTicket};
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};

/// An order as the API shows it, with its ticket embedded.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderJson {
    id: String,
    user_id: String,
    status: &'static str,
    price: Value,
    /// The buyer's fee, fixed at reservation.
    fee: Value,
    /// What the buyer pays: `price + fee`.
    total: Value,
    expires_at: String,
    version: i64,
    created_at: String,
    ticket: TicketJson,
}

impl OrderJson {
    pub fn new(found: &OrderWithTicket, ctx: &Ctx) -> OrderJson {
        let (order, now) = (&found.order, ctx.now());
        OrderJson {
            id: order.id.to_string(),
            user_id: order.buyer_id.to_string(),
            status: order.status_at(now).as_str(),
            price: order.price.to_json(),
            fee: money(order.buyer_fee_cents),
            total: money(order.total_cents()),
            expires_at: order.expires_at.to_rfc3339(),
            version: order.version,
            created_at: order.created_at.to_rfc3339(),
            ticket: TicketJson::new(&found.ticket, ctx),
        }
    }
}

/// Cents as a JSON number in major units (`0`, `2.05`).
pub(super) fn money(cents: i64) -> Value {
    Price::from_stored(cents).to_json()
}

/// `ticketId`: required, a well-formed id.
fn parse_ticket_id(body: &Map<String, Value>) -> Result<Id, AppError> {
    let text = body
        .get("ticketId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Err(AppError::invalid_field("ticketId", "Ticket id is required"));
    }
    Id::parse(text).map_err(|_| AppError::invalid_field("ticketId", "Ticket id is not valid"))
}

/// `price`: optional, what the buyer was shown.
fn parse_seen_price(body: &Map<String, Value>) -> Result<Option<Price>, ErrorDetail> {
    match body.get("price") {
        None | Some(Value::Null) => Ok(None),
        value => Price::from_json(value).map(Some),
    }
}

pub async fn reserve_ticket(
    ctx: Ctx,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<OrderJson>), AppError> {
    ctx.user()?;
    let input = match (parse_ticket_id(&body), parse_seen_price(&body)) {
        (Ok(ticket_id), Ok(seen_price)) => ReserveTicket {
            ticket_id,
            seen_price,
        },
        (ticket_id, seen_price) => {
            let mut details = ticket_id.err().map(|e| e.details()).unwrap_or_default();
            details.extend(seen_price.err());
            return Err(AppError::Invalid(details));
        }
    };
    let reserved = orders::reserve_ticket(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(OrderJson::new(&reserved, &ctx))))
}

pub async fn list_orders(ctx: Ctx) -> Result<Json<Vec<OrderJson>>, AppError> {
    let listed = orders::list_orders(&ctx).await?;
    Ok(Json(
        listed.iter().map(|o| OrderJson::new(o, &ctx)).collect(),
    ))
}

pub async fn get_order(ctx: Ctx, Path(id): Path<String>) -> Result<Json<OrderJson>, AppError> {
    ctx.user()?;
    let found = orders::get_order(&ctx, &Id::parse(&id)?).await?;
    Ok(Json(OrderJson::new(&found, &ctx)))
}

pub async fn cancel_order(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    ctx.user()?;
    orders::cancel_order(&ctx, &Id::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
