//! `/api/check-ins`: door staff scan entry codes at one event's door.

use super::ApiJson;
use super::openapi::Refusals;
use super::tickets::TicketJson;
use app::AppError;
use app::domain::ErrorDetail;
use app::domain::custody::CheckIn;
use app::server_fns::CHOOSE_THE_EVENT;
use app::ssr::Ctx;
use app::ssr::services::door;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckInJson {
    /// `valid`, `already_used`, `revoked`, `wrong_event` or `unknown`.
    result: &'static str,
    ticket: Option<TicketJson>,
    checked_in_at: Option<String>,
    /// Why a revoked code no longer admits: `resold`, `transferred` or `refunded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    /// With `wrong_event`: the name of the event the code is for (null for an other listing).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    event_name: Option<Option<String>>,
}

/// The code scanned or typed at the door, and the event whose door it is.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckInBody {
    #[serde(default)]
    #[schema(value_type = String)]
    code: Option<Value>,
    #[serde(default)]
    #[schema(value_type = String)]
    event_id: Option<Value>,
}

/// `POST /api/check-ins {code, eventId}`: 200 with the result whatever the code (an unknown
/// code, or one of another event, is a result, not an error); 400 without an event; 401 signed
/// out; 403 for anyone who may not scan at this event's door; 404 no such event.
#[utoipa::path(post, path = "/check-ins", tag = "door", request_body = CheckInBody,
    responses((status = 200, body = CheckInJson), Refusals))]
pub async fn check_in(
    ctx: Ctx,
    ApiJson(body): ApiJson<CheckInBody>,
) -> Result<Json<CheckInJson>, AppError> {
    ctx.user()?;
    let mut errors = Vec::new();
    let code = match &body.code {
        Some(Value::String(code)) => Some(code.clone()),
        Some(_) => {
            errors.push(ErrorDetail::field("code", "Code must be text"));
            None
        }
        None => {
            errors.push(ErrorDetail::field("code", "Code is required"));
            None
        }
    };
    let event = match &body.event_id {
        Some(Value::String(id)) => match app::server_fns::door_event(id) {
            Ok(id) => Some(id),
            Err(AppError::Invalid(details)) => {
                errors.extend(details);
                None
            }
            Err(other) => return Err(other),
        },
        Some(Value::Null) | None => {
            errors.push(ErrorDetail::field("eventId", CHOOSE_THE_EVENT));
            None
        }
        Some(_) => {
            errors.push(ErrorDetail::field("eventId", "Event id must be text"));
            None
        }
    };
    let (Some(code), Some(event), true) = (code, event, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let scan = door::check_in(&ctx, &event, &code).await?;
    let reason = match scan.outcome {
        CheckIn::Revoked(why) => why.map(|w| w.as_str()),
        _ => None,
    };
    let event_name = (scan.outcome == CheckIn::WrongEvent).then_some(scan.other_event);
    Ok(Json(CheckInJson {
        result: scan.outcome.result(),
        ticket: scan.ticket.as_ref().map(|t| TicketJson::new(t, &ctx)),
        checked_in_at: scan.outcome.checked_in_at().map(|t| t.to_rfc3339()),
        reason,
        event_name,
    }))
}
