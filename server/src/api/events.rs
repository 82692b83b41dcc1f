//! `/api/events/…`: organisers create, edit and publish events; anyone reads a published one.

use super::ApiJson;
use super::openapi::Refusals;
use app::AppError;
use app::domain::event::{EventDraft, EventInput, RowInput, Seating, SectionInput, SiteRules};
use app::domain::{DomainError, ErrorDetail, Id, Price};
use app::ssr::Ctx;
use app::ssr::services::events::{self, EditEvent, EventDetails};
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// An event as the API shows it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventJson {
    id: String,
    slug: String,
    name: String,
    category: &'static str,
    venue: String,
    city: String,
    time_zone: &'static str,
    /// RFC 3339 with the venue's offset.
    starts_at: String,
    ends_at: Option<String>,
    description: String,
    /// The image, at most 1200 px wide (`/media/<hash>.jpg`), when it has one.
    image_url: Option<String>,
    /// The same at most 400 px wide, for cards.
    image_small_url: Option<String>,
    /// `draft`, `published` or `cancelled`.
    status: &'static str,
    /// Why it was cancelled (null unless it was).
    cancel_reason: Option<String>,
    organiser_id: String,
    max_per_buyer: u32,
    resale: ResaleJson,
    sections: Vec<SectionJson>,
    /// The lowest price of a section with seats on sale.
    #[schema(value_type = Option<f64>)]
    from_price: Option<Value>,
    /// The lowest price of its resale listings on sale.
    #[schema(value_type = Option<f64>)]
    resale_from_price: Option<Value>,
    /// Seats on sale over all sections.
    available: i64,
    is_past: bool,
    version: i64,
    created_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResaleJson {
    enabled: bool,
    cap_percent: Option<u32>,
}

/// A section and how its seats stand.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SectionJson {
    id: String,
    name: String,
    #[schema(value_type = f64)]
    price: Value,
    capacity: u32,
    /// `null` for general admission; `{rows: [{label, seats}]}` for seated sections.
    #[schema(value_type = Option<Object>)]
    seating: Option<Value>,
    sold: i64,
    reserved: i64,
    available: i64,
}

impl EventJson {
    fn new(details: &EventDetails, ctx: &Ctx) -> EventJson {
        let event = &details.event;
        EventJson {
            id: event.id.to_string(),
            slug: event.slug.clone(),
            name: event.name.clone(),
            category: event.category.as_str(),
            venue: event.venue.clone(),
            city: event.city.clone(),
            time_zone: event.time_zone.name(),
            starts_at: event.time_zone.rfc3339(event.starts_at),
            ends_at: event.ends_at.map(|at| event.time_zone.rfc3339(at)),
            description: event.description.clone(),
            image_url: event.image.as_ref().map(|image| format!("/media/{image}")),
            image_small_url: event
                .image_small
                .as_ref()
                .map(|image| format!("/media/{image}")),
            status: event.status.as_str(),
            cancel_reason: event.cancel_reason.clone(),
            organiser_id: event.organiser_id.to_string(),
            max_per_buyer: event.max_per_buyer,
            resale: ResaleJson {
                enabled: event.resale.enabled,
                cap_percent: event.resale.cap_percent,
            },
            sections: details
                .sections
                .iter()
                .map(|(section, counts)| SectionJson {
                    id: section.id.to_string(),
                    name: section.name.clone(),
                    price: section.price.to_json(),
                    capacity: section.seating.capacity(),
                    seating: match &section.seating {
                        Seating::General { .. } => None,
                        Seating::Seated { rows } => Some(serde_json::json!({ "rows": rows })),
                    },
                    sold: counts.sold,
                    reserved: counts.reserved,
                    available: counts.available,
                })
                .collect(),
            from_price: details.from_price().map(Price::to_json),
            resale_from_price: details.resale_from.map(Price::to_json),
            available: details.available(),
            is_past: event.is_past(ctx.now()),
            version: event.version,
            created_at: event.created_at.to_rfc3339(),
        }
    }
}

/// An event's fields as an organiser sends them; every field is checked and each invalid one
/// reported under its name.
#[derive(Deserialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct EventBody {
    /// 1–120 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    name: Option<Value>,
    /// `sports`, `concert`, `theater` or `other` (default).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    category: Option<Value>,
    /// 1–120 characters.
    #[serde(default)]
    #[schema(value_type = String)]
    venue: Option<Value>,
    /// At most 80 characters.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    city: Option<Value>,
    /// The venue's IANA time zone, such as `Europe/London`.
    #[serde(default)]
    #[schema(value_type = String)]
    time_zone: Option<Value>,
    /// RFC 3339 with an offset, or the venue's wall-clock time (`2026-12-05T19:30`).
    #[serde(default)]
    #[schema(value_type = String)]
    starts_at: Option<Value>,
    /// After `startsAt`; optional.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    ends_at: Option<Value>,
    /// Plain text, at most 5,000 characters; blank lines make paragraphs.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    description: Option<Value>,
    /// 1–20 (default 8): the seats one buyer may hold for this event.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    max_per_buyer: Option<Value>,
    /// `{enabled, capPercent}`: whether tickets may be resold, and at most for what percent of
    /// face value.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    resale: Option<Value>,
    /// `[{id?, name, price, capacity}]` for general admission, or `[{id?, name, price,
    /// seating: {rows: [{label, seats}]}}]` for seated sections.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    sections: Option<Value>,
    /// When editing: the version the edit is based on (absent: whatever is current).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    version: Option<Value>,
}

/// Text, or the field's "must be text" error.
fn text(value: Option<&Value>, field: &str, label: &str) -> Result<Option<String>, ErrorDetail> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(ErrorDetail::field(field, &format!("{label} must be text"))),
    }
}

fn whole(value: Option<&Value>, field: &str, message: &str) -> Result<Option<i64>, ErrorDetail> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| ErrorDetail::field(field, message)),
        Some(_) => Err(ErrorDetail::field(field, message)),
    }
}

/// Reads the body into the domain's input; fields of the wrong type come back as errors to
/// report beside the domain's.
fn event_input(body: &EventBody) -> (EventInput, Vec<ErrorDetail>) {
    let mut wrong = Vec::new();
    let mut text_of = |value: Option<&Value>, field: &str, label: &str| {
        text(value, field, label).unwrap_or_else(|err| {
            wrong.push(err);
            None
        })
    };
    let name = text_of(body.name.as_ref(), "name", "Name");
    let category = text_of(body.category.as_ref(), "category", "Category");
    let venue = text_of(body.venue.as_ref(), "venue", "Venue");
    let city = text_of(body.city.as_ref(), "city", "City");
    let time_zone = text_of(body.time_zone.as_ref(), "timeZone", "Time zone");
    let starts_at = text_of(body.starts_at.as_ref(), "startsAt", "Start time");
    let ends_at = text_of(body.ends_at.as_ref(), "endsAt", "End time");
    let description = text_of(body.description.as_ref(), "description", "Description");
    let (resale_enabled, resale_cap_percent) = match &body.resale {
        None | Some(Value::Null) => (Ok(None), Ok(None)),
        Some(Value::Object(resale)) => (
            match resale.get("enabled") {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Bool(enabled)) => Ok(Some(*enabled)),
                Some(_) => Err(ErrorDetail::field(
                    "resale.enabled",
                    "Resale must be true or false",
                )),
            },
            whole(
                resale.get("capPercent"),
                "resale.capPercent",
                app::domain::event::RESALE_CAP_INVALID,
            ),
        ),
        Some(_) => (
            Err(ErrorDetail::field(
                "resale",
                "Resale must be an object of enabled and capPercent",
            )),
            Ok(None),
        ),
    };
    let sections = match &body.sections {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) if items.len() <= app::domain::event::SECTIONS_MAX => Ok(items
            .iter()
            .enumerate()
            .map(|(n, v)| section_input(n, v))
            .collect()),
        Some(Value::Array(_)) => Err(ErrorDetail::field(
            "sections",
            app::domain::event::TOO_MANY_SECTIONS,
        )),
        Some(_) => Err(ErrorDetail::field("sections", "Sections must be a list")),
    };
    let input = EventInput {
        name,
        category,
        venue,
        city,
        time_zone,
        starts_at,
        ends_at,
        description,
        max_per_buyer: whole(
            body.max_per_buyer.as_ref(),
            "maxPerBuyer",
            app::domain::event::MAX_PER_BUYER_INVALID,
        ),
        resale_enabled,
        resale_cap_percent,
        sections,
    };
    (input, wrong)
}

fn section_input(n: usize, value: &Value) -> SectionInput {
    let empty = serde_json::Map::new();
    let object = value.as_object().unwrap_or(&empty);
    let field = |name: &str| format!("sections[{n}].{name}");
    let get_text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_string);
    let rows = match object.get("seating") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(seating)) => match seating.get("rows") {
            Some(Value::Array(rows)) if rows.len() <= app::domain::event::ROWS_MAX => Ok(Some(
                rows.iter()
                    .map(|row| RowInput {
                        label: row.get("label").and_then(Value::as_str).map(str::to_string),
                        seats: row.get("seats").and_then(Value::as_i64).ok_or_else(|| {
                            ErrorDetail::field("seats", app::domain::event::SEATS_INVALID)
                        }),
                    })
                    .collect(),
            )),
            _ => Err(ErrorDetail::field(
                "seating.rows",
                app::domain::event::ROWS_INVALID,
            )),
        },
        Some(_) => Err(ErrorDetail::field(
            "seating.rows",
            app::domain::event::ROWS_INVALID,
        )),
    };
    SectionInput {
        id: get_text("id"),
        name: get_text("name"),
        price: Price::from_json(object.get("price")),
        capacity: whole(
            object.get("capacity"),
            &field("capacity"),
            app::domain::event::CAPACITY_INVALID,
        )
        .map_err(|_| ErrorDetail::field("capacity", app::domain::event::CAPACITY_INVALID)),
        rows,
    }
}

/// The body's type errors with what the domain says of the rest, nothing written: a wrongly
/// typed field is reported once, as such.
fn type_errors(ctx: &Ctx, input: EventInput, wrong: Vec<ErrorDetail>) -> AppError {
    let mut details = wrong.clone();
    if let Err(DomainError::Invalid(found)) =
        EventDraft::parse(input, SiteRules::default(), ctx.now(), false)
    {
        details.extend(
            found
                .into_iter()
                .filter(|d| !wrong.iter().any(|w| w.field == d.field)),
        );
    }
    AppError::Invalid(details)
}

/// What the catalogue is narrowed to.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogueParams {
    /// Words the name, venue or city must contain (each also as a prefix).
    q: Option<String>,
    /// `sports`, `concert`, `theater` or `other`.
    category: Option<String>,
    /// `today`, `weekend` or `month`, on each venue's clock.
    when: Option<String>,
    /// The first day, `YYYY-MM-DD`, on the venue's clock.
    from: Option<String>,
    /// The last day, `YYYY-MM-DD`, inclusive.
    to: Option<String>,
    /// From 1; 24 events a page.
    page: Option<String>,
}

/// `GET /api/events`: published events not yet over, soonest first, 24 a page.
#[utoipa::path(get, path = "/events", tag = "events", params(CatalogueParams),
    responses((status = 200, body = Vec<EventJson>), Refusals))]
pub async fn catalogue(
    ctx: Ctx,
    super::ApiQuery(params): super::ApiQuery<CatalogueParams>,
) -> Result<Json<Vec<EventJson>>, AppError> {
    let query = events::CatalogueQuery {
        q: params.q,
        category: params.category,
        when: params.when,
        from: params.from,
        to: params.to,
        page: params.page,
    };
    let found = events::catalogue(&ctx, &query).await?;
    Ok(Json(
        found
            .events
            .iter()
            .map(|d| EventJson::new(d, &ctx))
            .collect(),
    ))
}

/// `POST /api/events`: a new draft event with its sections, for an organiser (or an admin).
#[utoipa::path(post, path = "/events", tag = "events", request_body = EventBody,
    responses((status = 201, body = EventJson, description = "The draft"), Refusals))]
pub async fn create_event(
    ctx: Ctx,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<(StatusCode, Json<EventJson>), AppError> {
    events::require_organiser(&ctx).await?;
    let (input, wrong) = event_input(&body);
    if !wrong.is_empty() {
        return Err(type_errors(&ctx, input, wrong));
    }
    let details = events::create_event(&ctx, input).await?;
    Ok((StatusCode::CREATED, Json(EventJson::new(&details, &ctx))))
}

/// `GET /api/events/:idOrSlug`: an event with its sections; a draft only for its organiser
/// and admins (404 for anyone else).
#[utoipa::path(get, path = "/events/{id}", tag = "events",
    params(("id" = String, Path, description = "The event's id or slug")),
    responses((status = 200, body = EventJson), Refusals))]
pub async fn get_event(ctx: Ctx, Path(id): Path<String>) -> Result<Json<EventJson>, AppError> {
    let details = events::get_event(&ctx, &id).await?;
    Ok(Json(EventJson::new(&details, &ctx)))
}

/// `PUT /api/events/:id`: replaces every field and the sections (matched by `id`; a section
/// left out is removed). 409 when `version` is stale.
#[utoipa::path(put, path = "/events/{id}", tag = "events", request_body = EventBody,
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventJson), Refusals))]
pub async fn edit_event(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EventBody>,
) -> Result<Json<EventJson>, AppError> {
    events::require_organiser(&ctx).await?;
    let id = Id::parse(&id)?;
    let version = whole(
        body.version.as_ref(),
        "version",
        "Version must be a whole number",
    )?;
    let (input, wrong) = event_input(&body);
    if !wrong.is_empty() {
        return Err(type_errors(&ctx, input, wrong));
    }
    let details = events::edit_event(&ctx, EditEvent { id, input, version }).await?;
    Ok(Json(EventJson::new(&details, &ctx)))
}

/// `POST /api/events/:id/publish`: every seat goes on sale.
#[utoipa::path(post, path = "/events/{id}/publish", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventJson), Refusals))]
pub async fn publish_event(ctx: Ctx, Path(id): Path<String>) -> Result<Json<EventJson>, AppError> {
    events::require_organiser(&ctx).await?;
    let details = events::publish_event(&ctx, &Id::parse(&id)?).await?;
    Ok(Json(EventJson::new(&details, &ctx)))
}

/// One sold seat of an event and who holds it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttendeeJson {
    ticket_id: String,
    email: String,
    section: String,
    /// `Row C, Seat 12`; null for general admission.
    seat: Option<String>,
    /// `valid`, `used` or `revoked`.
    code_status: &'static str,
    checked_in_at: Option<String>,
}

/// How the attendee list is wanted: `?format=csv` (a link a browser follows) as `Accept:
/// text/csv` does.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttendeesFormat {
    /// `csv` for the CSV file.
    format: Option<String>,
}

/// `GET /api/events/:id/attendees`: every sold seat with its holder, for the event's organiser
/// and admins. With `Accept: text/csv`, the same as a CSV file whose cells a spreadsheet never
/// runs as formulas.
#[utoipa::path(get, path = "/events/{id}/attendees", tag = "events",
    params(("id" = String, Path, description = "The event's id"), AttendeesFormat),
    responses((status = 200, content(
        (Vec<AttendeeJson> = "application/json"),
        (String = "text/csv")
    )), Refusals))]
pub async fn attendees(
    ctx: Ctx,
    Path(id): Path<String>,
    super::ApiQuery(format): super::ApiQuery<AttendeesFormat>,
    headers: axum::http::HeaderMap,
) -> Result<axum::response::Response, AppError> {
    use axum::response::IntoResponse;
    events::require_organiser(&ctx).await?;
    let (event, attendees) = events::attendees(&ctx, &Id::parse(&id)?).await?;
    let rows: Vec<AttendeeJson> = attendees
        .into_iter()
        .map(|a| AttendeeJson {
            ticket_id: a.ticket_id.to_string(),
            email: a.email,
            section: a.section,
            seat: a.seat,
            code_status: a.code_status.as_str(),
            checked_in_at: a.used_at.map(|at| event.time_zone.rfc3339(at)),
        })
        .collect();
    let wants_csv = format.format.as_deref() == Some("csv")
        || headers
            .get(axum::http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"));
    if !wants_csv {
        return Ok(Json(rows).into_response());
    }
    let csv = attendees_csv(&rows).map_err(|err| {
        app::ssr::error_response::internal(anyhow::anyhow!("attendee CSV: {err}"))
    })?;
    let file = format!("attachment; filename=\"attendees-{}.csv\"", event.slug);
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/csv; charset=utf-8".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, file),
        ],
        csv,
    )
        .into_response())
}

/// The attendee list as CSV (RFC 4180, by the `csv` crate), every cell spreadsheet-safe.
fn attendees_csv(rows: &[AttendeeJson]) -> Result<String, csv::Error> {
    use app::domain::text::spreadsheet_safe;
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "ticketId",
        "email",
        "section",
        "seat",
        "codeStatus",
        "checkedInAt",
    ])?;
    for row in rows {
        out.write_record([
            spreadsheet_safe(&row.ticket_id).as_ref(),
            spreadsheet_safe(&row.email).as_ref(),
            spreadsheet_safe(&row.section).as_ref(),
            spreadsheet_safe(row.seat.as_deref().unwrap_or_default()).as_ref(),
            spreadsheet_safe(row.code_status).as_ref(),
            spreadsheet_safe(row.checked_in_at.as_deref().unwrap_or_default()).as_ref(),
        ])?;
    }
    let bytes = out.into_inner().map_err(|err| err.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Why the event is cancelled.
#[derive(Deserialize, ToSchema)]
pub struct CancelBody {
    #[serde(default)]
    #[schema(value_type = String)]
    reason: Option<Value>,
}

/// `POST /api/events/:id/cancel {reason}`: the event is cancelled at once; every order of its
/// tickets is refunded in the background.
#[utoipa::path(post, path = "/events/{id}/cancel", tag = "events", request_body = CancelBody,
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventJson), Refusals))]
pub async fn cancel_event(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CancelBody>,
) -> Result<Json<EventJson>, AppError> {
    events::require_organiser(&ctx).await?;
    let id = Id::parse(&id)?;
    let reason = match body.reason {
        Some(Value::String(reason)) => reason,
        Some(Value::Null) | None => String::new(),
        Some(_) => return Err(AppError::invalid_field("reason", "Reason must be text")),
    };
    let details = app::ssr::services::cancellation::cancel_event(&ctx, &id, &reason).await?;
    Ok(Json(EventJson::new(&details, &ctx)))
}

/// An event's door staff.
#[derive(Serialize, ToSchema)]
pub struct StaffJson {
    staff: Vec<StaffMemberJson>,
}

#[derive(Serialize, ToSchema)]
pub struct StaffMemberJson {
    id: String,
    email: String,
}

fn staff_json(staff: Vec<events::DoorStaff>) -> Json<StaffJson> {
    Json(StaffJson {
        staff: staff
            .into_iter()
            .map(|member| StaffMemberJson {
                id: member.id.to_string(),
                email: member.email,
            })
            .collect(),
    })
}

/// Who to add to the door staff.
#[derive(Deserialize, ToSchema)]
pub struct StaffBody {
    #[serde(default)]
    #[schema(value_type = String)]
    email: Option<Value>,
}

/// `POST /api/events/:id/staff {email}`: lets that account scan codes at this event's door
/// (its organiser and admins only).
#[utoipa::path(post, path = "/events/{id}/staff", tag = "events", request_body = StaffBody,
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = StaffJson), Refusals))]
pub async fn add_staff(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StaffBody>,
) -> Result<Json<StaffJson>, AppError> {
    events::require_organiser(&ctx).await?;
    let id = Id::parse(&id)?;
    let email = match &body.email {
        Some(Value::String(email)) => email.clone(),
        Some(Value::Null) | None => {
            return Err(AppError::invalid_field("email", "Email is required"));
        }
        Some(_) => return Err(AppError::invalid_field("email", "Email must be text")),
    };
    Ok(staff_json(events::add_door_staff(&ctx, &id, &email).await?))
}

/// `DELETE /api/events/:id/staff/:userId`: takes that account off this event's door staff.
#[utoipa::path(delete, path = "/events/{id}/staff/{user_id}", tag = "events",
    params(("id" = String, Path, description = "The event's id"),
        ("user_id" = String, Path, description = "The staff member's user id")),
    responses((status = 200, body = StaffJson), Refusals))]
pub async fn remove_staff(
    ctx: Ctx,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<Json<StaffJson>, AppError> {
    events::require_organiser(&ctx).await?;
    let (id, member) = (Id::parse(&id)?, Id::parse(&user_id)?);
    Ok(staff_json(
        events::remove_door_staff(&ctx, &id, &member).await?,
    ))
}

/// `DELETE /api/events/:id`: deletes a draft (400 once published).
#[utoipa::path(delete, path = "/events/{id}", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 204, description = "Deleted"), Refusals))]
pub async fn delete_event(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    events::require_organiser(&ctx).await?;
    events::delete_draft(&ctx, &Id::parse(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Largest image an organiser may upload.
pub const IMAGE_BODY_LIMIT: usize = 5 * 1024 * 1024;

/// The image types an upload may say it is.
const IMAGE_TYPES: [&str; 3] = ["image/jpeg", "image/png", "image/webp"];

/// `PUT /api/events/:id/image`: the event's image, as the request body (JPEG, PNG or WebP, at
/// most 5 MB and 40 megapixels). It is decoded, re-encoded at 1200 and 400 px wide as JPEG
/// without metadata, kept in the database and served from `/media/`.
#[utoipa::path(put, path = "/events/{id}/image", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    request_body(content = Vec<u8>, content_type = "image/jpeg", description = "JPEG, PNG or WebP, at most 5 MB"),
    responses((status = 200, body = EventJson), Refusals))]
pub async fn put_image(
    ctx: Ctx,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<EventJson>, AppError> {
    events::require_organiser(&ctx).await?;
    let id = Id::parse(&id)?;
    let declared = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !IMAGE_TYPES.contains(&declared.as_str()) {
        return Err(AppError::UnsupportedMediaType(
            "Send the image as image/jpeg, image/png or image/webp".to_string(),
        ));
    }
    let bytes = body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else if crate::security::timed_out(&rejection) {
            AppError::TimedOut
        } else {
            AppError::invalid("The request body could not be read")
        }
    })?;
    let details = events::set_image(&ctx, &id, bytes.to_vec()).await?;
    Ok(Json(EventJson::new(&details, &ctx)))
}

/// `DELETE /api/events/:id/image`: the event has no image any more.
#[utoipa::path(delete, path = "/events/{id}/image", tag = "events",
    params(("id" = String, Path, description = "The event's id")),
    responses((status = 200, body = EventJson), Refusals))]
pub async fn delete_image(ctx: Ctx, Path(id): Path<String>) -> Result<Json<EventJson>, AppError> {
    events::require_organiser(&ctx).await?;
    let details = events::remove_image(&ctx, &Id::parse(&id)?).await?;
    Ok(Json(EventJson::new(&details, &ctx)))
}
