//! Who holds each seat's one valid entry code (docs/RULES.md, "Entry codes"): codes change
//! hands in the transaction of the sale, refund or transfer that moves the seat. The door
//! (`door`) admits each valid code once.

use crate::domain::custody::{CodeStatus, Revocation};
use crate::domain::{Id, Ticket, Timestamp};
use crate::error::AppError;
use crate::ssr::storage::{codes, tickets};
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
