//! The door (docs/RULES.md, "The door"): who may scan an event's codes, the doors a user may
//! open, and the scan itself. A code admits only at its own event's door, and only once,
//! however many doors scan it at the same moment.

use crate::domain::custody::{CheckIn, CodeStatus, normalize_code};
use crate::domain::event::{Event, EventStatus};
use crate::domain::{Id, Ticket};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::storage::{Read, codes, events, tickets, users};
use sqlx::AnyConnection;

/// The most events `/check-in` offers to choose from.
pub const DOORS_LISTED: i64 = 50;

/// One event's door as its staff see it: the "N of M checked in".
#[derive(Debug, Clone)]
pub struct Door {
    pub event: Event,
    /// Codes used at the door.
    pub admitted: i64,
    /// Codes that admit or have admitted someone: one per seat sold.
    pub holders: i64,
}

/// What a scan at the door found, with the ticket the code belongs to.
pub struct Scan {
    pub outcome: CheckIn,
    pub ticket: Option<Ticket>,
    /// For [`CheckIn::WrongEvent`]: the name of the event the code is for (none for a code of
    /// an other listing).
    pub other_event: Option<String>,
}

/// The event `id` when the signed-in user may scan at its door: 401 signed out, 404 when there
/// is no such event (or it is a draft they do not run), 403 when it is not theirs to scan.
async fn open(ctx: &Ctx, conn: &mut AnyConnection, id: &Id) -> Result<(Id, Event), AppError> {
    let user = ctx.user()?.clone();
    let roles = users::find_roles(conn, &user).await?;
    let event = events::find_event(conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if event.status == EventStatus::Draft && !event.is_run_by(&user, roles.is_admin()) {
        return Err(AppError::NotFound);
    }
    let on_staff = events::is_staff(conn, id, &user).await?;
    if !event.door_open_to(&user, roles, on_staff) {
        return Err(AppError::Forbidden);
    }
    Ok((user, event))
}

/// Checks a code in at the door of event `id`: the first scan of a valid code of this event
/// admits it and records it; every other scan says why not. A code of another event, or of an
/// other listing, is `wrong_event` and changes nothing.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn check_in(ctx: &Ctx, id: &Id, input: &str) -> Result<Scan, AppError> {
    let mut conn = ctx.db().read.acquire().await?;
    let (staff, event) = open(ctx, &mut conn, id).await?;
    let unknown = Scan {
        outcome: CheckIn::Unknown,
        ticket: None,
        other_event: None,
    };
    let Some(code) = normalize_code(input) else {
        return Ok(unknown);
    };
    // A code's ticket, and a ticket's event, never change: read before the write.
    let Some(found) = codes::find_code(&mut conn, &code, Read::Plain).await? else {
        return Ok(unknown);
    };
    let ticket = tickets::find_ticket(&mut conn, &found.ticket_id).await?;
    let of_event = ticket
        .as_ref()
        .and_then(|t| t.event_seat.as_ref())
        .map(|seat| seat.event_id.clone());
    if of_event.as_ref() != Some(&event.id) {
        let other_event = match &of_event {
            Some(other) => events::find_event(&mut conn, other).await?.map(|e| e.name),
            None => None,
        };
        return Ok(Scan {
            outcome: CheckIn::WrongEvent,
            ticket,
            other_event,
        });
    }
    drop(conn);
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let admitted = codes::mark_used(&mut tx, &code, &staff, now).await?;
    let stored = codes::find_code(&mut tx, &code, Read::Plain).await?;
    tx.commit().await?;
    let Some(stored) = stored else {
        return Ok(unknown);
    };
    let outcome = match (admitted, stored.status) {
        (true, _) => CheckIn::Valid { at: now },
        (false, CodeStatus::Used) => CheckIn::AlreadyUsed {
            at: stored.used_at.unwrap_or(now),
        },
        (false, _) => CheckIn::Revoked(stored.revoked_why),
    };
    Ok(Scan {
        outcome,
        ticket,
        other_event: None,
    })
}

/// The door of event `id` with its count, for those who may scan there.
#[tracing::instrument(level = "debug", skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn door(ctx: &Ctx, id: &Id) -> Result<Door, AppError> {
    let mut conn = ctx.db().read.acquire().await?;
    let (_, event) = open(ctx, &mut conn, id).await?;
    let (admitted, holders) = codes::door_count(&mut conn, id).await?;
    Ok(Door {
        event,
        admitted,
        holders,
    })
}

/// The published events not yet over whose door the signed-in user may open, soonest (so
/// today's) first: every one for admins and global staff, else those they organise or were
/// named door staff of. At most [`DOORS_LISTED`].
#[tracing::instrument(level = "debug", skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn doors(ctx: &Ctx) -> Result<Vec<Event>, AppError> {
    let user = ctx.user()?.clone();
    let mut conn = ctx.db().read.acquire().await?;
    let roles = users::find_roles(&mut conn, &user).await?;
    let every = roles.checks_in();
    Ok(events::list_doors(
        &mut conn,
        (!every).then_some(&user),
        ctx.now(),
        DOORS_LISTED,
    )
    .await?)
}
