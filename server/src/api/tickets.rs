//! `/api/tickets`: browse, show, list and edit tickets.

use super::openapi::Refusals;
use super::{ApiJson, ApiQuery};
use app::AppError;
use app::domain::BrowseQuery;
use app::domain::{DomainError, Id, Price, Ticket, TicketDraft, TicketStatus, Title};
use app::error::ErrorDetail;
use app::ssr::Ctx;
use app::ssr::services::browse;
use app::ssr::services::tickets::{self, EditTicket};
use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A ticket as the API shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketJson {
    id: String,
    title: String,
    #[schema(value_type = f64)]
    price: Value,
    /// What a buyer pays: the price and the buyer's fee.
    #[schema(value_type = f64)]
    buyer_price: Value,
    #[schema(value_type = Option<f64>)]
    face_value: Option<Value>,
    /// `sports`, `concert`, `theater` or `other`.
    category: &'static str,
    venue: Option<String>,
    /// RFC 3339 with the venue's offset on that day (`2026-07-04T19:00:00.000+01:00`), or in
    /// UTC (`Z`) for a listing without a time zone.
    starts_at: Option<String>,
    /// The venue's IANA time zone (`Europe/London`); `null` for listings shown in UTC.
    time_zone: Option<&'static str>,
    /// `available`, `reserved`, `sold` or `removed`, as of the request.
    status: &'static str,
    /// The seller.
    user_id: String,
    /// The holding order while reserved, the paying order once sold.
    order_id: Option<String>,
    version: i64,
    created_at: String,
    /// The event on this site the ticket is for; `null` for an other listing.
    event_id: Option<String>,
    /// Its section of that event.
    section_id: Option<String>,
    /// `Row C, Seat 12`; `null` for general admission and other listings.
    seat: Option<String>,
    /// True for a seat the event's organiser sells, false for a resale or an other listing.
    primary: bool,
}

/// A listing as its seller writes it. Fields are read leniently: a field of the wrong type is
/// reported as that field being invalid.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketBody {
    /// 1–120 characters, one line.
    #[serde(default)]
    #[schema(value_type = String)]
    title: Option<Value>,
    /// More than 0, at most 1,000,000, two decimals at most.
    #[serde(default)]
    #[schema(value_type = f64)]
    price: Option<Value>,
    /// The price printed on the ticket (required while resale prices are capped).
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    face_value: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    category: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    venue: Option<Value>,
    /// RFC 3339 with an offset, or the venue's wall-clock time (`2026-07-04T19:00`) read in
    /// `timeZone` (in UTC without one).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    starts_at: Option<Value>,
    /// The venue's IANA time zone, such as `Europe/London`: the event's time is shown there.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    time_zone: Option<Value>,
    /// When editing: the version the edit is based on (absent: whatever is current).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    version: Option<Value>,
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
            starts_at: ticket.starts_at.map(|at| at.rfc3339_in(ticket.time_zone)),
            time_zone: ticket.time_zone.map(app::domain::Zone::name),
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
            event_id: ticket.event_seat.as_ref().map(|e| e.event_id.to_string()),
            section_id: ticket.event_seat.as_ref().map(|e| e.section_id.to_string()),
            seat: ticket.event_seat.as_ref().and_then(|e| e.seat.clone()),
            primary: ticket.is_primary(),
        }
    }
}

/// Reads an optional text field: absent or null is `None`; anything but a string is an error
/// for that field.
fn optional_text<'a>(
    value: Option<&'a Value>,
    field: &str,
    message: &str,
) -> Result<Option<&'a str>, ErrorDetail> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(ErrorDetail::field(field, message)),
    }
}

/// Validates a ticket body; every invalid field is reported.
fn parse_draft(body: &TicketBody) -> Result<TicketDraft, DomainError> {
    let title = Title::from_json(body.title.as_ref());
    let price = Price::from_json(body.price.as_ref());
    let category = optional_text(
        body.category.as_ref(),
        "category",
        app::domain::ticket::CATEGORY_INVALID,
    );
    let venue = optional_text(body.venue.as_ref(), "venue", "Venue must be text");
    let starts_at = optional_text(
        body.starts_at.as_ref(),
        "startsAt",
        app::domain::ticket::STARTS_AT_INVALID,
    );
    let time_zone = optional_text(
        body.time_zone.as_ref(),
        "timeZone",
        app::domain::zone::TIME_ZONE_INVALID,
    );
    let face_value = app::domain::money::face_value_from_json(body.face_value.as_ref());
    TicketDraft::parse(
        title, price, face_value, category, venue, starts_at, time_zone,
    )
}

/// `version` for optimistic concurrency: absent means "whatever is current".
fn parse_version(body: &TicketBody) -> Result<Option<i64>, AppError> {
    match &body.version {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .filter(|v| *v >= 0)
            .map(Some)
            .ok_or_else(|| AppError::invalid_field("version", "Version must be a whole number")),
    }
}

/// Listings a buyer can reserve now, 24 a page. `x-total-count` and `x-total-pages` give the
/// count (up to a cap), `x-has-more` whether there is a next page.
#[utoipa::path(get, path = "/tickets", tag = "tickets", params(BrowseQuery),
    responses((status = 200, body = Vec<TicketJson>), Refusals))]
pub async fn browse_tickets(
    ctx: Ctx,
    ApiQuery(query): ApiQuery<BrowseQuery>,
) -> Result<Response, AppError> {
    let (filter, number) = browse::browse_filter(&query)?;
    // Everybody asking for the same page while it is unchanged gets the same bytes.
    if let Some(kept) = browse::kept_rendering::<BrowseJson>(&ctx, &filter, "") {
        return Ok(kept.response());
    }
    let page = browse::browse_filtered(&ctx, filter.clone(), number).await?;
    let listed: Vec<TicketJson> = page
        .tickets
        .iter()
        .map(|t| TicketJson::new(t, &ctx))
        .collect();
    let body = serde_json::to_vec(&listed)
        .map_err(|err| app::ssr::error_response::internal(anyhow::Error::from(err)))?;
    let mut headers = HeaderMap::new();
    if let Some(total_pages) = page.total_pages() {
        headers.insert("x-total-count", HeaderValue::from(page.total));
        headers.insert("x-total-pages", HeaderValue::from(total_pages));
    }
    headers.insert(
        "x-has-more",
        HeaderValue::from_static(if page.has_next { "true" } else { "false" }),
    );
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let rendered = std::sync::Arc::new(BrowseJson::new(headers, body));
    // Counted twice: the compressed copies come on top.
    let bytes = 2 * rendered.body.len();
    browse::keep_rendering(&ctx, &filter, "", page.version, rendered.clone(), bytes);
    Ok(rendered.response())
}

/// A browse page as `GET /api/tickets` answers it, kept with the cached page (see
/// [`browse::keep_rendering`]); compressed once for each encoding a client asks for.
pub(crate) struct BrowseJson {
    headers: HeaderMap,
    body: axum::body::Bytes,
    gzip: std::sync::OnceLock<axum::body::Bytes>,
    brotli: std::sync::OnceLock<axum::body::Bytes>,
}

impl BrowseJson {
    fn new(headers: HeaderMap, body: Vec<u8>) -> BrowseJson {
        BrowseJson {
            headers,
            body: body.into(),
            gzip: Default::default(),
            brotli: Default::default(),
        }
    }

    fn response(&self) -> Response {
        let mut response = Response::new(axum::body::Body::from(self.body.clone()));
        *response.headers_mut() = self.headers.clone();
        response
    }

    /// The answer in `encoding`, as the compression layer would have made it.
    pub(crate) fn respond(&self, encoding: crate::encoding::Encoding) -> Response {
        use crate::encoding::Encoding;
        let body = match encoding {
            Encoding::Identity => return self.response(),
            Encoding::Gzip => self.gzip.get_or_init(|| crate::encoding::gzip(&self.body)),
            Encoding::Brotli => self
                .brotli
                .get_or_init(|| crate::encoding::brotli(&self.body)),
        };
        let mut response = Response::new(axum::body::Body::from(body.clone()));
        let headers = response.headers_mut();
        headers.clone_from(&self.headers);
        encoding.label(headers);
        response
    }
}

/// The kept answer to `GET /api/tickets?{query}`, if the page it shows is unchanged.
pub(crate) fn kept_browse(ctx: &Ctx, query: &str) -> Option<std::sync::Arc<BrowseJson>> {
    let filter = crate::page_cache::browse_filter_of(query)?;
    browse::kept_rendering::<BrowseJson>(ctx, &filter, "")
}

#[utoipa::path(get, path = "/tickets/{id}", tag = "tickets",
    params(("id" = String, Path, description = "The ticket's id")),
    responses((status = 200, body = TicketJson), Refusals))]
pub async fn get_ticket(ctx: Ctx, Path(id): Path<String>) -> Result<Json<TicketJson>, AppError> {
    let ticket = tickets::get_ticket(&ctx, &Id::parse(&id)?).await?;
    Ok(Json(TicketJson::new(&ticket, &ctx)))
}

#[utoipa::path(post, path = "/tickets", tag = "tickets", request_body = TicketBody,
    responses((status = 201, body = TicketJson), Refusals))]
pub async fn list_ticket(
    ctx: Ctx,
    ApiJson(body): ApiJson<TicketBody>,
) -> Result<(StatusCode, Json<TicketJson>), AppError> {
    ctx.user()?;
    let ticket = tickets::list_ticket(&ctx, parse_draft(&body)?).await?;
    Ok((StatusCode::CREATED, Json(TicketJson::new(&ticket, &ctx))))
}

#[utoipa::path(put, path = "/tickets/{id}", tag = "tickets", request_body = TicketBody,
    params(("id" = String, Path, description = "The ticket's id")),
    responses((status = 200, body = TicketJson), Refusals))]
pub async fn edit_ticket(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TicketBody>,
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
#[utoipa::path(post, path = "/tickets/{id}/resell", tag = "tickets", request_body = ResellBody,
    params(("id" = String, Path, description = "The bought ticket's id")),
    responses((status = 201, body = TicketJson, description = "The new listing"), Refusals))]
pub async fn resell_ticket(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResellBody>,
) -> Result<(StatusCode, Json<TicketJson>), AppError> {
    ctx.user()?;
    let ticket_id = Id::parse(&id)?;
    let price = Price::from_json(body.price.as_ref());
    let face_value = app::domain::money::face_value_from_json(body.face_value.as_ref());
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

/// A resale: the asking price, and the face value when the original listing had none.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResellBody {
    #[serde(default)]
    #[schema(value_type = f64)]
    price: Option<Value>,
    #[serde(default)]
    #[schema(value_type = Option<f64>)]
    face_value: Option<Value>,
}

/// One ticket the signed-in user holds or held, with its code's state.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeldJson {
    ticket: TicketJson,
    /// Null once revoked.
    code: Option<String>,
    /// `valid`, `used` or `revoked`.
    code_status: &'static str,
    resale_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MineJson {
    bought: Vec<HeldJson>,
    selling: Vec<TicketJson>,
}

/// `GET /api/tickets/mine`: what the signed-in user bought (with entry codes) and sells.
#[utoipa::path(get, path = "/tickets/mine", tag = "tickets",
    responses((status = 200, body = MineJson), Refusals))]
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

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransferJson {
    ticket_id: String,
    email: String,
    /// `completed`, or `pending` until an account is made with the address.
    status: &'static str,
}

/// Who is given the ticket.
#[derive(Deserialize, ToSchema)]
pub struct TransferBody {
    #[serde(default)]
    #[schema(value_type = String)]
    email: Option<Value>,
}

/// `POST /api/tickets/:id/transfer {email}`.
#[utoipa::path(post, path = "/tickets/{id}/transfer", tag = "tickets", request_body = TransferBody,
    params(("id" = String, Path, description = "The bought ticket's id")),
    responses((status = 200, body = TransferJson), Refusals))]
pub async fn transfer_ticket(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TransferBody>,
) -> Result<Json<TransferJson>, AppError> {
    use app::ssr::services::transfers::{self, TransferTicket};
    ctx.user()?;
    let ticket_id = Id::parse(&id)?;
    let email = match &body.email {
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
#[utoipa::path(delete, path = "/tickets/{id}/transfer", tag = "tickets",
    params(("id" = String, Path, description = "The ticket's id")),
    responses((status = 204, description = "The transfer is cancelled"), Refusals))]
pub async fn cancel_transfer(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    ctx.user()?;
    app::ssr::services::transfers::cancel_transfer(&ctx, &Id::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
