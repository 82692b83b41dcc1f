//! The `ticket_transfers` table: tickets given to someone by email.

use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

/// A transfer waiting for its recipient to make an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingTransfer {
    pub id: Id,
    pub ticket_id: Id,
    pub sender_id: Id,
    pub email: String,
}

pub struct NewTransfer<'a> {
    pub id: &'a Id,
    pub ticket_id: &'a Id,
    pub sender_id: &'a Id,
    pub email: &'a str,
    /// Set when it completes at once.
    pub recipient_id: Option<&'a Id>,
}

/// Records a transfer, completed (with a recipient) or pending. False when the ticket has a
/// pending transfer already.
pub async fn insert_transfer(
    conn: &mut AnyConnection,
    transfer: &NewTransfer<'_>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let (status, settled) = match transfer.recipient_id {
        Some(_) => ("completed", Some(now.millis())),
        None => ("pending", None),
    };
    let result = sqlx::query(
        "INSERT INTO ticket_transfers (id, ticket_id, sender_id, email, recipient_id, status, created_at, settled_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(transfer.id.as_str())
    .bind(transfer.ticket_id.as_str())
    .bind(transfer.sender_id.as_str())
    .bind(transfer.email)
    .bind(transfer.recipient_id.map(Id::as_str))
    .bind(status)
    .bind(now.millis())
    .bind(settled)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

type Row = (String, String, String, String);

fn pending(row: Row) -> PendingTransfer {
    let (id, ticket_id, sender_id, email) = row;
    PendingTransfer {
        id: Id::from_trusted(id),
        ticket_id: Id::from_trusted(ticket_id),
        sender_id: Id::from_trusted(sender_id),
        email,
    }
}

/// The ticket's pending transfer, if it has one.
pub async fn pending_for_ticket(
    conn: &mut AnyConnection,
    ticket: &Id,
) -> Result<Option<PendingTransfer>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, ticket_id, sender_id, email FROM ticket_transfers \
         WHERE ticket_id = $1 AND status = 'pending'",
    )
    .bind(ticket.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(pending))
}

/// Pending transfers to this address, oldest first.
pub async fn pending_for_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Vec<PendingTransfer>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, ticket_id, sender_id, email FROM ticket_transfers \
         WHERE email = $1 AND status = 'pending' ORDER BY created_at, id",
    )
    .bind(email)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(pending).collect())
}

/// Settles a pending transfer: `completed` to `recipient`, or `cancelled` without one. False
/// when it was no longer pending.
pub async fn settle(
    conn: &mut AnyConnection,
    id: &Id,
    recipient: Option<&Id>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let status = if recipient.is_some() {
        "completed"
    } else {
        "cancelled"
    };
    let result = sqlx::query(
        "UPDATE ticket_transfers SET status = $1, recipient_id = $2, settled_at = $3 \
         WHERE id = $4 AND status = 'pending'",
    )
    .bind(status)
    .bind(recipient.map(Id::as_str))
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}
