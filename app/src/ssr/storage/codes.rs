//! The `ticket_codes` table (rules: `domain::custody`): every entry code ever issued, with its
//! holder and state. At most one code per seat is valid (a partial unique index).

use super::Read;
use crate::domain::custody::{CodeStatus, Revocation};
use crate::domain::{Id, Ticket, Timestamp};
use sqlx::AnyConnection;

fn corrupt(err: crate::domain::UnknownStatus) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(err))
}

/// One code as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCode {
    pub code: String,
    pub ticket_id: Id,
    pub seat_id: Id,
    pub holder_id: Id,
    pub status: CodeStatus,
    pub revoked_why: Option<Revocation>,
    pub used_at: Option<Timestamp>,
}

type CodeRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
);

const COLUMNS: &str = "code, ticket_id, seat_id, holder_id, status, revoked_why, used_at";

fn stored(row: CodeRow) -> Result<StoredCode, sqlx::Error> {
    let (code, ticket_id, seat_id, holder_id, status, revoked_why, used_at) = row;
    Ok(StoredCode {
        code,
        ticket_id: Id::from_trusted(ticket_id),
        seat_id: Id::from_trusted(seat_id),
        holder_id: Id::from_trusted(holder_id),
        status: CodeStatus::parse(&status).map_err(corrupt)?,
        revoked_why: revoked_why
            .map(|why| Revocation::parse(&why))
            .transpose()
            .map_err(corrupt)?,
        used_at: used_at.map(Timestamp),
    })
}

/// The seat a ticket belongs to: its first listing's id, followed down the chain of resales.
pub async fn seat_of(conn: &mut AnyConnection, ticket: &Ticket) -> Result<Id, sqlx::Error> {
    let Some(parent) = &ticket.resold_from else {
        return Ok(ticket.id.clone());
    };
    let seat: Option<String> =
        sqlx::query_scalar("SELECT seat_id FROM ticket_codes WHERE ticket_id = $1 LIMIT 1")
            .bind(parent.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(seat.map_or_else(|| parent.clone(), Id::from_trusted))
}

/// Revokes the seat's valid code, if it has one; returns it.
pub async fn revoke_seat(
    conn: &mut AnyConnection,
    seat: &Id,
    why: Revocation,
    now: Timestamp,
) -> Result<Option<StoredCode>, sqlx::Error> {
    let row: Option<CodeRow> = sqlx::query_as(&format!(
        "UPDATE ticket_codes SET status = 'revoked', revoked_why = $1, revoked_at = $2 \
         WHERE seat_id = $3 AND status = 'valid' RETURNING {COLUMNS}"
    ))
    .bind(why.as_str())
    .bind(now.millis())
    .bind(seat.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(stored).transpose()
}

/// Issues `code` for `ticket` to `holder`. Fails on the unique index while the seat still has
/// a valid code: revoke it first, in the same transaction.
pub async fn issue(
    conn: &mut AnyConnection,
    code: &str,
    ticket: &Id,
    seat: &Id,
    holder: &Id,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_codes (code, ticket_id, seat_id, holder_id, status, issued_at) \
         VALUES ($1, $2, $3, $4, 'valid', $5)",
    )
    .bind(code)
    .bind(ticket.as_str())
    .bind(seat.as_str())
    .bind(holder.as_str())
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn find_code(
    conn: &mut AnyConnection,
    code: &str,
    read: Read,
) -> Result<Option<StoredCode>, sqlx::Error> {
    let lock = read.clause(conn);
    let row: Option<CodeRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM ticket_codes WHERE code = $1{lock}"
    ))
    .bind(code)
    .fetch_optional(conn)
    .await?;
    row.map(stored).transpose()
}

/// The code `holder` holds for `ticket` now (valid or used), if any.
pub async fn current_code(
    conn: &mut AnyConnection,
    ticket: &Id,
    holder: &Id,
) -> Result<Option<StoredCode>, sqlx::Error> {
    let row: Option<CodeRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM ticket_codes WHERE ticket_id = $1 AND holder_id = $2 \
         AND status IN ('valid', 'used') ORDER BY issued_at DESC LIMIT 1"
    ))
    .bind(ticket.as_str())
    .bind(holder.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(stored).transpose()
}

/// Admits a valid code once: true only for the scan that changed it.
pub async fn mark_used(
    conn: &mut AnyConnection,
    code: &str,
    by: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE ticket_codes SET status = 'used', used_at = $1, used_by = $2 \
         WHERE code = $3 AND status = 'valid'",
    )
    .bind(now.millis())
    .bind(by.as_str())
    .bind(code)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Every ticket `holder` has held a code for, with one code each: the one that still counts
/// (valid or used) if there is one, else the newest: the "Bought" list.
pub async fn list_held(
    conn: &mut AnyConnection,
    holder: &Id,
) -> Result<Vec<StoredCode>, sqlx::Error> {
    let rows: Vec<CodeRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM ticket_codes c WHERE holder_id = $1 AND NOT EXISTS ( \
           SELECT 1 FROM ticket_codes o WHERE o.ticket_id = c.ticket_id AND o.holder_id = c.holder_id \
             AND o.code <> c.code AND ( \
               (o.status <> 'revoked' AND c.status = 'revoked') \
               OR ((o.status = 'revoked') = (c.status = 'revoked') \
                   AND (o.issued_at > c.issued_at OR (o.issued_at = c.issued_at AND o.code > c.code))))) \
         ORDER BY issued_at DESC, code"
    ))
    .bind(holder.as_str())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(stored).collect()
}

/// At the event's door: (codes used, codes that admit or have admitted) over its tickets, the
/// "N of M checked in".
pub async fn door_count(conn: &mut AnyConnection, event: &Id) -> Result<(i64, i64), sqlx::Error> {
    let (used, held): (Option<i64>, i64) = sqlx::query_as(
        "SELECT CAST(SUM(CASE WHEN c.status = 'used' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(COUNT(*) AS BIGINT) FROM ticket_codes c JOIN tickets t ON t.id = c.ticket_id \
         WHERE t.event_id = $1 AND c.status IN ('valid', 'used')",
    )
    .bind(event.as_str())
    .fetch_one(conn)
    .await?;
    Ok((used.unwrap_or(0), held))
}

/// Everyone holding a valid code for a ticket of the event, once each.
pub async fn event_holders(conn: &mut AnyConnection, event: &Id) -> Result<Vec<Id>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT c.holder_id FROM ticket_codes c JOIN tickets t ON t.id = c.ticket_id \
         WHERE t.event_id = $1 AND c.status = 'valid' ORDER BY c.holder_id",
    )
    .bind(event.as_str())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(Id::from_trusted).collect())
}
