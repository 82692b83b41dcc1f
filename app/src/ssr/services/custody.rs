//! Who holds each seat's one valid entry code (docs/RULES.md, "Entry codes"): codes change
//! hands in the transaction of the sale, refund or transfer that moves the seat, and the door
//! admits each valid code once.

use crate::domain::custody::{CheckIn, CodeStatus, Revocation, normalize_code};
use crate::domain::{Id, Ticket, Timestamp};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::storage::{Read, codes, tickets};
use sqlx::AnyConnection;

/// Gives `holder` a new valid code for `ticket_id`, revoking (for `why`) whatever code the
/// seat had, inside the caller's transaction. Returns the new code.
#[tracing::instrument(skip_all, fields(ticket_id = %ticket_id, holder_id = %holder))]
pub async fn hand_over(
    conn: &mut AnyConnection,
    ticket_id: &Id,
    holder: &Id,
    why: Revocation,
    now: Timestamp,
) -> Result<String, AppError> {
    let ticket = tickets::find_ticket(conn, ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let seat = codes::seat_of(conn, &ticket).await?;
    codes::revoke_seat(conn, &seat, why, now).await?;
    let code = crate::ssr::clock::new_ticket_code();
    codes::issue(conn, &code, &ticket.id, &seat, holder, now).await?;
    Ok(code)
}

/// A refunded sale, inside the refund's transaction: the buyer's code is revoked; when the
/// ticket was a resale, its reseller (who has it back) gets a new code for the ticket they
/// bought, so the seat keeps one holder who can get in.
#[tracing::instrument(skip_all, fields(ticket_id = %ticket.id))]
pub async fn take_back(
    conn: &mut AnyConnection,
    ticket: &Ticket,
    now: Timestamp,
) -> Result<(), AppError> {
    let seat = codes::seat_of(conn, ticket).await?;
    codes::revoke_seat(conn, &seat, Revocation::Refunded, now).await?;
    if let Some(parent) = &ticket.resold_from {
        hand_over(conn, parent, &ticket.seller_id, Revocation::Refunded, now).await?;
    }
    Ok(())
}

/// Why the holder cannot pass this ticket on (resell or transfer it), if they cannot.
#[tracing::instrument(level = "debug", skip_all, fields(ticket_id = %ticket, holder_id = %holder))]
pub async fn check_transferable(
    conn: &mut AnyConnection,
    ticket: &Id,
    holder: &Id,
) -> Result<(), AppError> {
    match codes::current_code(conn, ticket, holder).await? {
        Some(code) if code.status == CodeStatus::Valid => Ok(()),
        Some(_) => Err(AppError::invalid(USED)),
        None => Err(AppError::Forbidden),
    }
}

pub const USED: &str = "This ticket was used at the door";

/// What a scan at the door found, with the ticket the code belongs to.
pub struct Scan {
    pub outcome: CheckIn,
    pub ticket: Option<Ticket>,
}

/// Checks a code in at the door: the first scan of a valid code admits and records it; every
/// other scan says why not. Staff and admins only.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn check_in(ctx: &Ctx, input: &str) -> Result<Scan, AppError> {
    let staff = super::roles::require_staff(ctx).await?;
    let Some(code) = normalize_code(input) else {
        return Ok(Scan {
            outcome: CheckIn::Unknown,
            ticket: None,
        });
    };
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let admitted = codes::mark_used(&mut tx, &code, &staff, now).await?;
    let stored = codes::find_code(&mut tx, &code, Read::Plain).await?;
    tx.commit().await?;
    let Some(stored) = stored else {
        return Ok(Scan {
            outcome: CheckIn::Unknown,
            ticket: None,
        });
    };
    let outcome = match (admitted, stored.status) {
        (true, _) => CheckIn::Valid { at: now },
        (false, CodeStatus::Used) => CheckIn::AlreadyUsed {
            at: stored.used_at.unwrap_or(now),
        },
        (false, _) => CheckIn::Revoked(stored.revoked_why),
    };
    let ticket =
        tickets::find_ticket(&mut *ctx.db().read.acquire().await?, &stored.ticket_id).await?;
    Ok(Scan { outcome, ticket })
}
