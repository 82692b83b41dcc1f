//! `/api/admin/*` (admins only: 401 signed out, 403 otherwise, decided by
//! `services::admin::require_admin`) and `/api/events` for integrators.

use super::openapi::Refusals;
use super::orders::OrderJson;
use super::tickets::TicketJson;
use super::{ApiJson, ApiQuery};
use app::AppError;
use app::domain::audit::{AuditEntry, parse_page};
use app::domain::{ErrorDetail, Id};
use app::ssr::AppState;
use app::ssr::Ctx;
use app::ssr::services::admin;
use axum::Json;
use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// Why: 1–500 characters, told to whoever the action affects and kept in the audit log.
#[derive(Deserialize, ToSchema)]
pub struct ReasonBody {
    #[serde(default)]
    #[schema(value_type = String)]
    reason: Option<Value>,
}

/// The required `reason`: text.
fn reason(value: &Option<Value>) -> Result<&str, AppError> {
    match value {
        Some(Value::String(reason)) => Ok(reason),
        Some(_) => Err(AppError::invalid_field("reason", "Reason must be text")),
        None => Err(AppError::invalid_field("reason", "Reason is required")),
    }
}

/// An id in the path; malformed ids are 404 like unknown ones.
fn path_id(id: &str) -> Result<Id, AppError> {
    Id::parse(id).map_err(|_| AppError::NotFound)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundedJson {
    #[serde(flatten)]
    order: OrderJson,
    refunded: bool,
}

/// A refund: why, and optionally which ticket of the order.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundBody {
    #[serde(default)]
    #[schema(value_type = String)]
    reason: Option<Value>,
    /// One ticket of the order (its price and its own fee); without it every ticket not yet
    /// refunded.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    ticket_id: Option<Value>,
}

/// `POST /api/admin/orders/:id/refund {reason, ticketId?}`: one ticket's price and fee, or every
/// ticket not refunded yet, back to the buyer.
#[utoipa::path(post, path = "/admin/orders/{id}/refund", tag = "admin", request_body = RefundBody,
    params(("id" = String, Path, description = "The order's id")),
    responses((status = 200, body = RefundedJson, description = "Refunded (the order is cancelled once none of its tickets is left)"), Refusals))]
pub async fn refund_order(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RefundBody>,
) -> Result<Json<RefundedJson>, AppError> {
    let ticket_id = match &body.ticket_id {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(
            Id::parse(text)
                .map_err(|_| AppError::invalid_field("ticketId", "Ticket id is not valid"))?,
        ),
        Some(_) => {
            return Err(AppError::invalid_field(
                "ticketId",
                "Ticket id is not valid",
            ));
        }
    };
    let order = admin::refund(&ctx, &path_id(&id)?, ticket_id, reason(&body.reason)?).await?;
    let found = app::ssr::services::orders::order_with_ticket(&ctx, order).await?;
    Ok(Json(RefundedJson {
        order: OrderJson::new(&found, &ctx),
        refunded: true,
    }))
}

/// `POST /api/admin/tickets/:id/takedown {reason}`.
#[utoipa::path(post, path = "/admin/tickets/{id}/takedown", tag = "admin", request_body = ReasonBody,
    params(("id" = String, Path, description = "The ticket's id")),
    responses((status = 200, body = TicketJson, description = "Taken down (`status: removed`)"), Refusals))]
pub async fn take_down(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<TicketJson>, AppError> {
    let ticket = admin::take_down(&ctx, &path_id(&id)?, reason(&body.reason)?).await?;
    Ok(Json(TicketJson::new(&ticket, &ctx)))
}

#[derive(Serialize, ToSchema)]
pub struct SuspendedJson {
    id: String,
    suspended: bool,
}

/// `POST /api/admin/users/:id/suspend {reason}`.
#[utoipa::path(post, path = "/admin/users/{id}/suspend", tag = "admin", request_body = ReasonBody,
    params(("id" = String, Path, description = "The user's id")),
    responses((status = 200, body = SuspendedJson), Refusals))]
pub async fn suspend(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<SuspendedJson>, AppError> {
    let user = path_id(&id)?;
    admin::suspend(&ctx, &user, reason(&body.reason)?).await?;
    Ok(Json(SuspendedJson {
        id: user.to_string(),
        suspended: true,
    }))
}

/// `DELETE /api/admin/users/:id/suspend`.
#[utoipa::path(delete, path = "/admin/users/{id}/suspend", tag = "admin",
    params(("id" = String, Path, description = "The user's id")),
    responses((status = 200, body = SuspendedJson), Refusals))]
pub async fn lift_suspension(
    ctx: Ctx,
    Path(id): Path<String>,
) -> Result<Json<SuspendedJson>, AppError> {
    let user = path_id(&id)?;
    admin::lift_suspension(&ctx, &user, "").await?;
    Ok(Json(SuspendedJson {
        id: user.to_string(),
        suspended: false,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Entries after this id (exclusive); default 0.
    after: Option<String>,
    /// 1–1,000; default 100.
    limit: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryJson {
    id: i64,
    actor_id: Option<String>,
    action: &'static str,
    target_type: String,
    target_id: String,
    reason: String,
    created_at: String,
}

impl From<&AuditEntry> for AuditEntryJson {
    fn from(entry: &AuditEntry) -> AuditEntryJson {
        AuditEntryJson {
            id: entry.id,
            actor_id: entry.actor_id.as_ref().map(Id::to_string),
            action: entry.action.as_str(),
            target_type: entry.target_type.clone(),
            target_id: entry.target_id.clone(),
            reason: entry.reason.clone(),
            created_at: entry.created_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AuditJson {
    entries: Vec<AuditEntryJson>,
}

/// `GET /api/admin/audit?after=&limit=`: oldest first; `limit` 1–1,000 (default 100).
#[utoipa::path(get, path = "/admin/audit", tag = "admin", params(PageQuery),
    responses((status = 200, body = AuditJson), Refusals))]
pub async fn audit(
    ctx: Ctx,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<AuditJson>, AppError> {
    let (after, limit) = page(&query)?;
    let entries = admin::audit_log(&ctx, after, limit).await?;
    Ok(Json(AuditJson {
        entries: entries.iter().map(AuditEntryJson::from).collect(),
    }))
}

fn page(query: &PageQuery) -> Result<(i64, i64), AppError> {
    parse_page(query.after.as_deref(), query.limit.as_deref(), 100, 1000)
        .map_err(|detail: ErrorDetail| AppError::from(detail))
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedEventJson {
    id: i64,
    #[serde(rename = "type")]
    event_type: String,
    aggregate_id: String,
    #[schema(value_type = Object)]
    payload: Value,
    created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct EventsJson {
    events: Vec<LoggedEventJson>,
    /// The `after` that reads on from here (the last id given, or the same `after`).
    next: i64,
}

/// The bearer token of the `Authorization` header, if there is one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// `GET /api/feed?after=&limit=`: the event log for integrators (bearer `ADMIN_TOKEN` or an
/// admin's session; 401 otherwise).
#[utoipa::path(get, path = "/feed", tag = "admin", params(PageQuery),
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = EventsJson), Refusals))]
pub async fn feed(
    ctx: Ctx,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<EventsJson>, AppError> {
    let token = headers
        .contains_key(axum::http::header::AUTHORIZATION)
        .then(|| bearer(&headers).unwrap_or(""));
    let (after, limit) = page(&query)?;
    let rows = admin::read_events(&ctx, token, after, limit).await?;
    let next = rows.last().map_or(after, |row| row.id);
    let events = rows
        .into_iter()
        .map(|row| LoggedEventJson {
            id: row.id,
            event_type: row.event_type,
            aggregate_id: row.aggregate_id,
            payload: serde_json::from_str(&row.payload).unwrap_or(Value::Null),
            created_at: app::domain::Timestamp::from_millis(row.created_at).to_rfc3339(),
        })
        .collect();
    Ok(Json(EventsJson { events, next }))
}

#[derive(Serialize, ToSchema)]
pub struct DoneJson {
    id: String,
    #[serde(rename = "payoutsHeld")]
    payouts_held: bool,
}

/// `POST /api/admin/users/:id/payouts/hold {reason}`: the seller's payouts wait.
#[utoipa::path(post, path = "/admin/users/{id}/payouts/hold", tag = "admin", request_body = ReasonBody,
    params(("id" = String, Path, description = "The seller's id")),
    responses((status = 200, body = DoneJson), Refusals))]
pub async fn hold_payouts(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<DoneJson>, AppError> {
    set_hold(ctx, id, body, true).await
}

/// `DELETE /api/admin/users/:id/payouts/hold {reason}`: they are sent again.
#[utoipa::path(delete, path = "/admin/users/{id}/payouts/hold", tag = "admin", request_body = ReasonBody,
    params(("id" = String, Path, description = "The seller's id")),
    responses((status = 200, body = DoneJson), Refusals))]
pub async fn release_payouts(
    ctx: Ctx,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReasonBody>,
) -> Result<Json<DoneJson>, AppError> {
    set_hold(ctx, id, body, false).await
}

async fn set_hold(
    ctx: Ctx,
    id: String,
    body: ReasonBody,
    held: bool,
) -> Result<Json<DoneJson>, AppError> {
    let user = path_id(&id)?;
    admin::hold_payouts(&ctx, &user, held, reason(&body.reason)?).await?;
    Ok(Json(DoneJson {
        id: user.to_string(),
        payouts_held: held,
    }))
}

/// Authorization for `/api/admin/*` and the `/admin` pages, in one place: the API answers 401
/// signed out and 403 to anyone but an admin; the pages render their refusal with status 403.
/// (The services check again: a server function posted directly is refused there.)
/// Anything else goes on untouched.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let api = path == "/api/admin" || path.starts_with("/api/admin/");
    let page = path == "/admin" || path.starts_with("/admin/");
    if !api && !page {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let verdict = match Ctx::from_request_parts(&mut parts, &state).await {
        Ok(ctx) => admin::require_admin(&ctx).await.map(|_| ()),
        Err(err) => Err(err),
    };
    let request = Request::from_parts(parts, body);
    match verdict {
        Ok(()) => next.run(request).await,
        Err(AppError::Unauthenticated | AppError::Forbidden) if page => {
            let mut response = next.run(request).await;
            if response.status().is_success() {
                *response.status_mut() = StatusCode::FORBIDDEN;
            }
            response
        }
        Err(err) => err.into_response(),
    }
}
