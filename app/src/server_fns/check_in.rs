//! The door's server functions: check a code in, and read the last result back. The result
//! waits in the (server-side) session so that a plain form post, redirected back to
//! `/check-in`, shows it too.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One scan as the door shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInView {
    /// `valid`, `already_used`, `revoked` or `unknown`.
    pub result: String,
    /// In large letters: "Valid", "Already used at 19:42 UTC", "Resold — …", "Unknown".
    pub headline: String,
    pub title: Option<String>,
    pub starts_at: Option<String>,
    /// The code as read.
    pub code: String,
}

/// The check-in page: whether this user may scan, and the last scan's result (once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorView {
    pub staff: bool,
    pub last: Option<CheckInView>,
}

#[cfg(feature = "ssr")]
const LAST_SCAN: &str = "last_check_in";

#[server(prefix = "/_fn", endpoint = "check_in_code")]
pub async fn check_in_code(code: String) -> Result<(), AppError> {
    use crate::domain::custody::{CheckIn, MAX_CODE_INPUT};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let scan = crate::ssr::services::custody::check_in(&ctx, &code).await?;
    let headline = match scan.outcome {
        CheckIn::Valid { .. } => "Valid".to_string(),
        CheckIn::AlreadyUsed { at } => format!("Already used at {}", at.to_clock()),
        CheckIn::Revoked(why) => why
            .map_or("This code is no longer valid", |why| why.explain())
            .to_string(),
        CheckIn::Unknown => "Unknown".to_string(),
    };
    let view = CheckInView {
        result: scan.outcome.result().to_string(),
        headline,
        title: scan.ticket.as_ref().map(|t| t.title.clone()),
        starts_at: scan
            .ticket
            .as_ref()
            .and_then(|t| t.starts_at.map(|at| at.display_in(t.time_zone))),
        code: code.trim().chars().take(MAX_CODE_INPUT).collect(),
    };
    ctx.visitor()?.session.insert(LAST_SCAN, &view).await?;
    leptos_axum::redirect("/check-in");
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "door_state")]
pub async fn door_state() -> Result<DoorView, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let staff = crate::ssr::services::roles::is_staff(&ctx).await?;
    let last = if staff {
        ctx.visitor()?
            .session
            .remove::<CheckInView>(LAST_SCAN)
            .await?
    } else {
        None
    };
    Ok(DoorView { staff, last })
}
