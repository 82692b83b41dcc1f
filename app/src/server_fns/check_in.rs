//! The door's server functions: the events a user may check people in at, one event's door
//! with its count, and a scan. The last scan's result waits in the (server-side) session so
//! that a plain form post, redirected back to `/check-in?event=…`, shows it too.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One scan as the door shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInView {
    /// The event whose door scanned it.
    pub event_id: String,
    /// `valid`, `already_used`, `revoked`, `wrong_event` or `unknown`.
    pub result: String,
    /// In large letters: "Valid", "Already used at 19:42 UTC", "Resold — …", "Unknown".
    pub headline: String,
    pub title: Option<String>,
    pub starts_at: Option<String>,
    /// The code as read.
    pub code: String,
}

/// An event whose door the user may open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorChoice {
    pub id: String,
    pub name: String,
    /// Date and time on the venue's clock.
    pub when: String,
    pub venue: String,
}

/// One event's door: "N of M checked in".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenDoor {
    pub event: DoorChoice,
    pub admitted: i64,
    pub holders: i64,
}

/// The check-in page: the doors this user may open, or the one they opened with the last
/// scan's result there (once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DoorView {
    /// Not for them: they scan at no door.
    NotStaff,
    /// Choose the event.
    Choose(Vec<DoorChoice>),
    Open {
        door: Box<OpenDoor>,
        last: Option<Box<CheckInView>>,
    },
}

#[cfg(feature = "ssr")]
const LAST_SCAN: &str = "last_check_in";

#[cfg(feature = "ssr")]
impl From<&crate::domain::event::Event> for DoorChoice {
    fn from(event: &crate::domain::event::Event) -> DoorChoice {
        DoorChoice {
            id: event.id.to_string(),
            name: event.name.clone(),
            when: event.starts_at.display_in(Some(event.time_zone)),
            venue: event.venue.clone(),
        }
    }
}

/// The event a door form names: 400 `Choose the event` (field `eventId`) when it names none.
#[cfg(feature = "ssr")]
pub fn door_event(event_id: &str) -> Result<crate::domain::Id, AppError> {
    if event_id.trim().is_empty() {
        return Err(AppError::invalid_field("eventId", CHOOSE_THE_EVENT));
    }
    crate::domain::Id::parse(event_id.trim())
        .map_err(|detail| AppError::invalid_field("eventId", &detail.message))
}

pub use crate::domain::event::CHOOSE_THE_EVENT;

#[server(prefix = "/_fn", endpoint = "check_in_code")]
pub async fn check_in_code(event_id: String, code: String) -> Result<(), AppError> {
    use crate::domain::custody::{CheckIn, MAX_CODE_INPUT};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let event = door_event(&event_id)?;
    let scan = crate::ssr::services::door::check_in(&ctx, &event, &code).await?;
    let headline = match scan.outcome {
        CheckIn::Valid { .. } => "Valid".to_string(),
        CheckIn::AlreadyUsed { at } => format!("Already used at {}", at.to_clock()),
        CheckIn::Revoked(why) => why
            .map_or("This code is no longer valid", |why| why.explain())
            .to_string(),
        CheckIn::WrongEvent => match &scan.other_event {
            Some(name) => format!("Wrong event — this code is for {name}"),
            None => "Wrong event — this code is for no event here".to_string(),
        },
        CheckIn::Unknown => "Unknown".to_string(),
    };
    let view = CheckInView {
        event_id: event.to_string(),
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
    leptos_axum::redirect(&format!("/check-in?event={event}"));
    Ok(())
}

/// `/check-in` (no event: the doors to choose from) or `/check-in?event=ID` (that door).
#[server(prefix = "/_fn", endpoint = "door_state")]
pub async fn door_state(event: Option<String>) -> Result<DoorView, AppError> {
    use crate::ssr::services::{door, users};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let may_scan = users::current_user(&ctx)
        .await?
        .is_some_and(|user| user.staff);
    if !may_scan {
        return Ok(DoorView::NotStaff);
    }
    let Some(event) = event.filter(|e| !e.trim().is_empty()) else {
        let doors = door::doors(&ctx).await?;
        return Ok(DoorView::Choose(
            doors.iter().map(DoorChoice::from).collect(),
        ));
    };
    let id = door_event(&event)?;
    let open = door::door(&ctx, &id).await?;
    let last = ctx
        .visitor()?
        .session
        .remove::<CheckInView>(LAST_SCAN)
        .await?
        .filter(|last| last.event_id == open.event.id.as_str())
        .map(Box::new);
    Ok(DoorView::Open {
        door: Box::new(OpenDoor {
            event: DoorChoice::from(&open.event),
            admitted: open.admitted,
            holders: open.holders,
        }),
        last,
    })
}
