//! `/api/tickets`: browse, show, list and edit tickets.

use super::{ApiJson, ApiQuery};
use app::AppError;
use app::domain::{DomainError, Id, Price, Ticket, TicketDraft, TicketStatus, Timestamp, Title};
use app::error::ErrorDetail;
use app::ssr::Ctx;
use app::ssr::services::tickets::{self, BrowseQuery, EditTicket};
use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A ticket as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketJson {
    id: String,
    title: String,
    price: Value,
    /// What a buyer pays: the price and the buyer's fee.
    buyer_price: Value,
    face_value: Option<Value>,
    category: &'static str,
    venue: Option<String>,
    starts_at: Option<String>,
    status: &'static str,
    user_id: String,
    order_id: Option<String>,
    version: i64,
    created_at: String,
}

impl TicketJson {
    pub fn new(ticket: &Ticket, ctx: &Ctx) -> TicketJson {
        let status = ticket.status_at(ctx.now());
        TicketJson {
            id: ticket.id.to_string(),
            title: ticket.title.clone(),
            price: ticket.price.to_json(),
            buyer_price: Price::from_stored(
                ctx.settings().fees.breakdown(ticket.price).total_cents,
            )
            .to_json(),
            face_value: ticket.face_value.map(Price::to_json),
            category: ticket.category.as_str(),
            venue: ticket.venue.clone(),
            starts_at: ticket.starts_at.map(Timestamp::to_rfc3339),
            status: status.as_str(),
            user_id: ticket.seller_id.to_string(),
            order_id: match status {
                TicketStatus::Available | TicketStatus::Removed => None,
                TicketStatus::Reserved | TicketStatus::Sold => {
                    ticket.order_id.as_ref().map(Id::to_string)
                }
            },
            version: ticket.version,
            created_at: ticket.created_at.to_rfc3339(),
        }
    }
}

/// Reads an optional text field: absent or null is `None`; anything but a string is an error
/// for that field.
fn optional_text<'a>(
    body: &'a Map<String, Value>,
    field: &str,
    message: &str,
) -> Result<Option<&'a str>, ErrorDetail> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ErrorDetail::field(field, message)),
    }
}

/// Validates a ticket body; every invalid field is reported.
fn parse_draft(body: &Map<String, Value>) -> Result<TicketDraft, DomainError> {
    let title = Title::from_json(body.get("title"));
    let price = Price::from_json(body.get("price"));
    let category = optional_text(body, "category", app::domain::ticket::CATEGORY_INVALID);
    let venue = optional_text(body, "venue", "Venue must be text");
    let starts_at = optional_text(body, "startsAt", app::domain::ticket::STARTS_AT_INVALID);
    let face_value = app::domain::money::face_value_from_json(body.get("faceValue"));
    TicketDraft::parse(title, price, face_value, category, venue, starts_at)
}

/// `version` for optimistic concurrency: absent means "whatever is current".
fn parse_version(body: &Map<String, Value>) -> Result<Option<i64>, AppError> {
    match body.get("version") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or_else(|| AppError::invalid_field("version", "Version must be a whole number")),
    }
}

#[derive(Deserialize, Default)]
pub struct BrowseParams {
    q: Option<String>,
    category: Option<String>,
    sort: Option<String>,
    page: Option<String>,
}

pub async fn browse_tickets(
    ctx: Ctx,
    ApiQuery(params): ApiQuery<BrowseParams>,
) -> Result<(HeaderMap, Json<Vec<TicketJson>>), AppError> {
    let query = BrowseQuery {
        q: params.q,
        category: params.category,
        sort: params.sort,
        page: params.page,
    };
    let page = tickets::browse_tickets(&ctx, &query).await?;
    let mut headers = HeaderMap::new();
    if let Some(total_pages) = page.total_pages() {
        headers.insert("x-total-count", HeaderValue::from(page.total));
        headers.insert("x-total-pages", HeaderValue::from(total_pages));
    }
    headers.insert(
        "x-has-more",
        HeaderValue::from_static(if page.has_next { "true" } else { "false" }),
    );
    let listed = page.tickets.iter().map(|t| TicketJson::new(t, &ctx));
    Ok((headers, Json(listed.collect())))
}

pub async fn get_ticket(ctx: Ctx, Path(id): Path<String>) -> Result<Json<TicketJson>, AppError> {
    let ticket = tickets::get_ticket(&ctx, &Id::parse(&id)?).await?;
    Ok(Json(TicketJson::new(&ticket, &ctx)))
}

pub async fn list_ticket(
    ctx: Ctx,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<TicketJson>), AppError> {
    ctx.user()?;
    let ticket = tickets::list_ticket(&ctx, parse_draft(&body)?).await?;
    Ok((StatusCode::CREATED, Json(TicketJson::new(&ticket, &ctx))))
}

pub async fn edit_ticket(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<TicketJson>, AppError> {
    ctx.user()?;
    let input = EditTicket {
        ticket_id: Id::parse(&id)?,
        expected_version: parse_version(&body)?,
        draft: parse_draft(&body),
    };
    let ticket = tickets::edit_ticket(&ctx, input).await?;
    Ok(Json(TicketJson::new(&ticket, &ctx)))
}

/// `POST /api/tickets/:id/resell` `{price, faceValue?}`: the holder of a bought ticket lists it
/// again. The face value is the original listing's (or the given one, when the original had
/// none; else what was paid), and the resale cap applies.
pub async fn resell_ticket(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<TicketJson>), AppError> {
    ctx.user()?;
    let ticket_id = Id::parse(&id)?;
    let price = Price::from_json(body.get("price"));
    let face_value = app::domain::money::face_value_from_json(body.get("faceValue"));
    let input = match (price, face_value) {
        (Ok(price), Ok(face_value)) => tickets::ResellTicket {
            ticket_id,
            price,
            face_value,
        },
        (price, face_value) => {
            return Err(AppError::Invalid(
                [price.err(), face_value.err()]
                    .into_iter()
                    .flatten()
                    .collect(),
            ));
        }
    };
    let listing = tickets::resell_ticket(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(TicketJson::new(&listing, &ctx))))
}

/// One ticket the signed-in user holds or held, with its code's state.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeldJson {
    ticket: TicketJson,
    /// Null once revoked.
    code: Option<String>,
    code_status: &'static str,
    resale_id: Option<String>,
}

#[derive(Serialize)]
pub struct MineJson {
    bought: Vec<HeldJson>,
    selling: Vec<TicketJson>,
}

/// `GET /api/tickets/mine`.
pub async fn my_tickets(ctx: Ctx) -> Result<Json<MineJson>, AppError> {
    let mine = tickets::my_tickets(&ctx).await?;
    Ok(Json(MineJson {
        bought: mine
            .bought
            .iter()
            .map(|held| HeldJson {
                ticket: TicketJson::new(&held.ticket, &ctx),
                code: (held.code.status != app::domain::custody::CodeStatus::Revoked)
                    .then(|| held.code.code.clone()),
                code_status: held.code.status.as_str(),
                resale_id: held.resale_id.as_ref().map(Id::to_string),
            })
            .collect(),
        selling: mine
            .selling
            .iter()
            .map(|t| TicketJson::new(t, &ctx))
            .collect(),
    }))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferJson {
    ticket_id: String,
    email: String,
    /// `completed`, or `pending` until an account is made with the address.
    status: &'static str,
}

/// `POST /api/tickets/:id/transfer {email}`.
pub async fn transfer_ticket(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<TransferJson>, AppError> {
    use app::ssr::services::transfers::{self, TransferTicket};
    ctx.user()?;
    let ticket_id = Id::parse(&id)?;
    let email = match body.get("email") {
        Some(Value::String(email)) => email.clone(),
        Some(_) => return Err(AppError::invalid_field("email", "Email must be text")),
        None => return Err(AppError::invalid_field("email", "Email is required")),
    };
    let done = transfers::transfer_ticket(&ctx, TransferTicket { ticket_id, email }).await?;
    Ok(Json(TransferJson {
        ticket_id: done.ticket_id.to_string(),
        email: done.email,
        status: if done.completed {
            "completed"
        } else {
            "pending"
        },
    }))
}

/// `DELETE /api/tickets/:id/transfer`: the sender cancels a pending transfer.
pub async fn cancel_transfer(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    ctx.user()?;
    app::ssr::services::transfers::cancel_transfer(&ctx, &Id::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
