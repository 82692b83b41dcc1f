//! `/api/check-ins`: staff scan entry codes at the door.

use super::ApiJson;
use super::openapi::Refusals;
use super::tickets::TicketJson;
use app::AppError;
use app::ssr::Ctx;
use app::ssr::services::custody;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckInJson {
    /// `valid`, `already_used`, `revoked` or `unknown`.
    result: &'static str,
    ticket: Option<TicketJson>,
    checked_in_at: Option<String>,
    /// Why a revoked code no longer admits: `resold`, `transferred` or `refunded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// The code scanned or typed at the door.
#[derive(Deserialize, ToSchema)]
pub struct CheckInBody {
    #[serde(default)]
    #[schema(value_type = String)]
    code: Option<Value>,
}

/// `POST /api/check-ins {code}`: 200 with the result whatever the code (an unknown code is a
/// result, not an error); 401 signed out, 403 without the staff or admin role.
#[utoipa::path(post, path = "/check-ins", tag = "door", request_body = CheckInBody,
    responses((status = 200, body = CheckInJson), Refusals))]
pub async fn check_in(
    ctx: Ctx,
    ApiJson(body): ApiJson<CheckInBody>,
) -> Result<Json<CheckInJson>, AppError> {
    app::ssr::services::roles::require_staff(&ctx).await?;
    let code = match &body.code {
        Some(Value::String(code)) => code.clone(),
        Some(_) => return Err(AppError::invalid_field("code", "Code must be text")),
        None => return Err(AppError::invalid_field("code", "Code is required")),
    };
    let scan = custody::check_in(&ctx, &code).await?;
    let reason = match scan.outcome {
        app::domain::custody::CheckIn::Revoked(why) => why.map(|w| w.as_str()),
        _ => None,
    };
    Ok(Json(CheckInJson {
        result: scan.outcome.result(),
        ticket: scan.ticket.as_ref().map(|t| TicketJson::new(t, &ctx)),
        checked_in_at: scan.outcome.checked_in_at().map(|t| t.to_rfc3339()),
        reason,
    }))
}
