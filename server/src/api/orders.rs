//! `/api/orders`: reserve a ticket, list and show my orders, cancel one.

use super::tickets::TicketJson;
use super::{ApiJson, require_user};
use app::AppError;
use app::domain::{Id, Price, Timestamp};
use app::error::ErrorDetail;
use app::ssr::AppState;
use app::ssr::services::orders::{self, OrderWithTicket};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};
use tower_sessions::Session;

/// An order as the API shows it, with its ticket embedded.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderJson {
    id: String,
    user_id: String,
    status: &'static str,
    price: Value,
    expires_at: String,
    version: i64,
    created_at: String,
    ticket: TicketJson,
}

impl OrderJson {
    pub fn new(found: &OrderWithTicket, now: Timestamp) -> OrderJson {
        let order = &found.order;
        OrderJson {
            id: order.id.to_string(),
            user_id: order.buyer_id.to_string(),
            status: order.status_at(now).as_str(),
            price: order.price.to_json(),
            expires_at: order.expires_at.to_rfc3339(),
            version: order.version,
            created_at: order.created_at.to_rfc3339(),
            ticket: TicketJson::new(&found.ticket, now),
        }
    }
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
    State(state): State<AppState>,
    session: Session,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<OrderJson>), AppError> {
    let buyer = require_user(&session).await?;
    let ticket_id = parse_ticket_id(&body);
    let seen_price = parse_seen_price(&body);
    let (ticket_id, seen_price) = match (ticket_id, seen_price) {
        (Ok(ticket_id), Ok(seen_price)) => (ticket_id, seen_price),
        (ticket_id, seen_price) => {
            let mut details = ticket_id.err().map(|e| e.details()).unwrap_or_default();
            details.extend(seen_price.err());
            return Err(AppError::Invalid(details));
        }
    };
    state.order_limiter.check(buyer.clone())?;
    let now = state.clock.now();
    let settings = &state.settings;
    let reserved = orders::reserve_ticket(
        &state.db,
        &buyer,
        &ticket_id,
        seen_price,
        settings.reservation_window_ms,
        settings.max_live_orders,
        now,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(OrderJson::new(&reserved, now))))
}

pub async fn list_orders(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<OrderJson>>, AppError> {
    let buyer = require_user(&session).await?;
    let now = state.clock.now();
    let listed = orders::list_orders(&state.db, &buyer).await?;
    Ok(Json(
        listed.iter().map(|o| OrderJson::new(o, now)).collect(),
    ))
}

pub async fn get_order(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<OrderJson>, AppError> {
    let buyer = require_user(&session).await?;
    let id = Id::parse(&id)?;
    let found = orders::get_order(&state.db, &buyer, &id).await?;
    Ok(Json(OrderJson::new(&found, state.clock.now())))
}

pub async fn cancel_order(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let buyer = require_user(&session).await?;
    let id = Id::parse(&id)?;
    orders::cancel_order(&state.db, &buyer, &id, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}
