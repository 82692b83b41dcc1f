//! `/api/orders`: reserve a ticket, list and show my orders, cancel one.

use super::ApiJson;
use super::openapi::Refusals;
use super::tickets::TicketJson;
use app::AppError;
use app::domain::{Id, Price};
use app::error::ErrorDetail;
use app::ssr::Ctx;
use app::ssr::services::orders::{self, OrderWithTicket, ReserveTicket};
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// An order as the API shows it, with its ticket embedded.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderJson {
    id: String,
    /// The buyer.
    user_id: String,
    /// `created`, `awaiting:payment`, `complete` or `cancelled`, as of the request.
    status: &'static str,
    #[schema(value_type = f64)]
    price: Value,
    /// The buyer's fee, fixed at reservation.
    #[schema(value_type = f64)]
    fee: Value,
    /// What the buyer pays: `price + fee`.
    #[schema(value_type = f64)]
    total: Value,
    expires_at: String,
    version: i64,
    created_at: String,
    /// The order's first ticket (as orders of one ticket have it).
    ticket: TicketJson,
    /// Every ticket of the order, in seat order.
    tickets: Vec<TicketJson>,
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
            tickets: found
                .tickets
                .iter()
                .map(|ticket| TicketJson::new(ticket, ctx))
                .collect(),
        }
    }
}

/// Cents as a JSON number in major units (`0`, `2.05`).
pub(super) fn money(cents: i64) -> Value {
    Price::from_stored(cents).to_json()
}

/// A reservation, one of: a ticket (`ticketId`); chosen tickets of one event (`ticketIds`:
/// seats from the seat map, resale listings), all or none; or `quantity` best-available seats
/// of a section (`sectionId`). `price` is what the buyer was shown, the sum of the tickets'
/// prices before fees (refused with 409 when it has changed since).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReserveBody {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    ticket_id: Option<Value>,
    /// Instead of `ticketId`: up to 20 tickets of one event.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    ticket_ids: Option<Value>,
    /// Instead of `ticketId`: a section of a published event.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    section_id: Option<Value>,
    /// With `sectionId`: how many seats (default 1).
    #[serde(default)]
    #[schema(value_type = Option<u32>)]
    quantity: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    price: Option<Value>,
}

fn given(value: &Option<Value>) -> bool {
    value.as_ref().is_some_and(|v| !v.is_null())
}

/// `ticketId`: required, a well-formed id.
fn parse_ticket_id(body: &ReserveBody) -> Result<Id, AppError> {
    let text = body
        .ticket_id
        .as_ref()
        .and_then(Value::as_str)
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Err(AppError::invalid_field("ticketId", "Ticket id is required"));
    }
    Id::parse(text).map_err(|_| AppError::invalid_field("ticketId", "Ticket id is not valid"))
}

/// `price`: optional, what the buyer was shown.
fn parse_seen_price(body: &ReserveBody) -> Result<Option<Price>, ErrorDetail> {
    match body.price.as_ref() {
        None | Some(Value::Null) => Ok(None),
        value => Price::from_json(value).map(Some),
    }
}

#[utoipa::path(post, path = "/orders", tag = "orders", request_body = ReserveBody,
    responses((status = 201, body = OrderJson, description = "Reserved for the reservation window"), Refusals))]
pub async fn reserve_ticket(
    ctx: Ctx,
    ApiJson(body): ApiJson<ReserveBody>,
) -> Result<(StatusCode, Json<OrderJson>), AppError> {
    ctx.user()?;
    let shapes = [
        given(&body.ticket_id),
        given(&body.ticket_ids),
        given(&body.section_id),
    ];
    if shapes.iter().filter(|g| **g).count() > 1 {
        return Err(AppError::invalid(
            "Give one of ticketId, ticketIds or sectionId",
        ));
    }
    if given(&body.section_id) {
        return reserve_in_section(&ctx, &body).await;
    }
    if given(&body.ticket_ids) {
        return reserve_tickets(&ctx, &body).await;
    }
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

async fn reserve_in_section(
    ctx: &Ctx,
    body: &ReserveBody,
) -> Result<(StatusCode, Json<OrderJson>), AppError> {
    let section = match &body.section_id {
        Some(Value::String(text)) => {
            Id::parse(text).map_err(|_| ErrorDetail::field("sectionId", "Section id is not valid"))
        }
        _ => Err(ErrorDetail::field("sectionId", "Section id is not valid")),
    };
    let quantity = match &body.quantity {
        None | Some(Value::Null) => Ok(1),
        Some(value) => value
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| ErrorDetail::field("quantity", app::domain::order::QUANTITY_INVALID)),
    };
    let input = match (section, quantity, parse_seen_price(body)) {
        (Ok(section_id), Ok(quantity), Ok(seen_price)) => orders::ReserveInSection {
            section_id,
            quantity,
            seen_price,
        },
        (section, quantity, seen_price) => {
            let details = [section.err(), quantity.err(), seen_price.err()]
                .into_iter()
                .flatten()
                .collect();
            return Err(AppError::Invalid(details));
        }
    };
    let reserved = orders::reserve_in_section(ctx, input).await?;
    Ok((StatusCode::CREATED, Json(OrderJson::new(&reserved, ctx))))
}

async fn reserve_tickets(
    ctx: &Ctx,
    body: &ReserveBody,
) -> Result<(StatusCode, Json<OrderJson>), AppError> {
    let ids = match &body.ticket_ids {
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .and_then(|text| Id::parse(text).ok())
                    .ok_or_else(|| ErrorDetail::field("ticketIds", "Ticket id is not valid"))
            })
            .collect::<Result<Vec<Id>, _>>(),
        _ => Err(ErrorDetail::field(
            "ticketIds",
            "Ticket ids must be a list of ticket ids",
        )),
    };
    let input = match (ids, parse_seen_price(body)) {
        (Ok(ticket_ids), Ok(seen_price)) => orders::ReserveTickets {
            ticket_ids,
            seen_price,
        },
        (ids, seen_price) => {
            let details = [ids.err(), seen_price.err()]
                .into_iter()
                .flatten()
                .collect();
            return Err(AppError::Invalid(details));
        }
    };
    let reserved = orders::reserve_tickets(ctx, input).await?;
    Ok((StatusCode::CREATED, Json(OrderJson::new(&reserved, ctx))))
}

#[utoipa::path(get, path = "/orders", tag = "orders",
    responses((status = 200, body = Vec<OrderJson>, description = "The buyer's orders, newest first"), Refusals))]
pub async fn list_orders(ctx: Ctx) -> Result<Json<Vec<OrderJson>>, AppError> {
    let listed = orders::list_orders(&ctx).await?;
    Ok(Json(
        listed.iter().map(|o| OrderJson::new(o, &ctx)).collect(),
    ))
}

#[utoipa::path(get, path = "/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "The order's id")),
    responses((status = 200, body = OrderJson), Refusals))]
pub async fn get_order(ctx: Ctx, Path(id): Path<String>) -> Result<Json<OrderJson>, AppError> {
    ctx.user()?;
    let found = orders::get_order(&ctx, &Id::parse(&id)?).await?;
    Ok(Json(OrderJson::new(&found, &ctx)))
}

#[utoipa::path(delete, path = "/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "The order's id")),
    responses((status = 204, description = "Cancelled; the ticket is on sale again"), Refusals))]
pub async fn cancel_order(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    ctx.user()?;
    orders::cancel_order(&ctx, &Id::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
