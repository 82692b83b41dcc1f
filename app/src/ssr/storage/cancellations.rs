//! What cancelling an event writes: the event's tickets off sale, its codes revoked, its live
//! orders ended, and the `cancellation_refunds` rows the refund job works through (see the
//! migration `event_cancellation` for the rows' life).

use super::{Backend, backend};
use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

/// The live orders (not yet paid, whether or not their window has passed) holding a ticket of
/// the event.
pub async fn live_orders_of_event(
    conn: &mut AnyConnection,
    event: &Id,
) -> Result<Vec<Id>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT o.id FROM orders o JOIN tickets t ON t.id = o.ticket_id \
         WHERE t.event_id = $1 AND o.status IN ('created', 'awaiting:payment') ORDER BY o.id",
    )
    .bind(event.as_str())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(Id::from_trusted).collect())
}

/// The sellers of the event's resale listings still on sale (or held), once each.
pub async fn resale_sellers(conn: &mut AnyConnection, event: &Id) -> Result<Vec<Id>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT seller_id FROM tickets WHERE event_id = $1 AND resold_from IS NOT NULL \
         AND status <> 'sold' AND removed_at IS NULL ORDER BY seller_id",
    )
    .bind(event.as_str())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(Id::from_trusted).collect())
}

/// Takes every ticket of the event off sale for good (its unsold seats, its resale listings,
/// and the sold ones, which are refunded): a held one is let go of first. Returns how many.
pub async fn remove_event_tickets(
    conn: &mut AnyConnection,
    event: &Id,
    reason: &str,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tickets SET removed_at = $1, removed_reason = $2, \
         order_id = CASE WHEN status = 'reserved' THEN NULL ELSE order_id END, \
         status = CASE WHEN status = 'reserved' THEN 'available' ELSE status END, \
         reserved_until = NULL, version = version + 1, updated_at = $1 \
         WHERE event_id = $3 AND removed_at IS NULL",
    )
    .bind(now.millis())
    .bind(reason)
    .bind(event.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// Revokes every valid code of the event's tickets (as refunded: every sale is refunded).
/// Returns the holders whose codes were revoked, once each.
pub async fn revoke_event_codes(
    conn: &mut AnyConnection,
    event: &Id,
    now: Timestamp,
) -> Result<Vec<Id>, sqlx::Error> {
    let holders = super::codes::event_holders(&mut *conn, event).await?;
    sqlx::query(
        "UPDATE ticket_codes SET status = 'revoked', revoked_why = 'refunded', revoked_at = $1 \
         WHERE status = 'valid' AND ticket_id IN (SELECT id FROM tickets WHERE event_id = $2)",
    )
    .bind(now.millis())
    .bind(event.as_str())
    .execute(conn)
    .await?;
    Ok(holders)
}

/// One pending refund for every completed order of the event's tickets (an order queued
/// before is left as it is). Returns how many were queued.
pub async fn queue_refunds(
    conn: &mut AnyConnection,
    event: &Id,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO cancellation_refunds (order_id, event_id, created_at) \
         SELECT o.id, $1, $2 FROM orders o JOIN tickets t ON t.id = o.ticket_id \
         WHERE t.event_id = $1 AND o.status = 'complete' \
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(event.as_str())
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(result.rows_affected())
}

/// The buyers of the event's orders queued for a refund.
pub async fn refunded_buyers(conn: &mut AnyConnection, event: &Id) -> Result<Vec<Id>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT o.buyer_id FROM cancellation_refunds r JOIN orders o ON o.id = r.order_id \
         WHERE r.event_id = $1 ORDER BY o.buyer_id",
    )
    .bind(event.as_str())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(Id::from_trusted).collect())
}

/// Claims the oldest pending refund nobody holds a claim on at `now`, until `until`; its
/// order. On PostgreSQL a row another node is claiming is skipped, not waited for.
pub async fn claim_next(
    conn: &mut AnyConnection,
    now: Timestamp,
    until: Timestamp,
) -> Result<Option<Id>, sqlx::Error> {
    let skip = match backend(conn) {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let order: Option<String> = sqlx::query_scalar(&format!(
        "UPDATE cancellation_refunds SET claimed_until = $1, attempts = attempts + 1 \
         WHERE order_id = (SELECT order_id FROM cancellation_refunds WHERE status = 'pending' \
           AND (claimed_until IS NULL OR claimed_until <= $2) \
           ORDER BY created_at, order_id LIMIT 1{skip}) \
         AND status = 'pending' AND (claimed_until IS NULL OR claimed_until <= $2) \
         RETURNING order_id"
    ))
    .bind(until.millis())
    .bind(now.millis())
    .fetch_optional(conn)
    .await?;
    Ok(order.map(Id::from_trusted))
}

/// The refund of `order` is recorded: done. Returns whether it was still pending.
pub async fn mark_done(
    conn: &mut AnyConnection,
    order: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE cancellation_refunds SET status = 'done', done_at = $1, claimed_until = NULL \
         WHERE order_id = $2 AND status = 'pending'",
    )
    .bind(now.millis())
    .bind(order.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The refund of `order` failed at the gateway: tried again from `at`.
pub async fn retry_at(
    conn: &mut AnyConnection,
    order: &Id,
    error: &str,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE cancellation_refunds SET claimed_until = $1, last_error = $2 \
         WHERE order_id = $3 AND status = 'pending'",
    )
    .bind(at.millis())
    .bind(error)
    .bind(order.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// The event's refunds: (done, all).
pub async fn progress(conn: &mut AnyConnection, event: &Id) -> Result<(i64, i64), sqlx::Error> {
    let (done, all): (Option<i64>, i64) = sqlx::query_as(
        "SELECT CAST(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS BIGINT), \
         CAST(COUNT(*) AS BIGINT) FROM cancellation_refunds WHERE event_id = $1",
    )
    .bind(event.as_str())
    .fetch_one(conn)
    .await?;
    Ok((done.unwrap_or(0), all))
}

/// When the next pending refund may be tried, if any is pending.
pub async fn next_due(conn: &mut AnyConnection) -> Result<Option<Timestamp>, sqlx::Error> {
    let at: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT MIN(COALESCE(claimed_until, 0)) FROM cancellation_refunds WHERE status = 'pending'",
    )
    .fetch_optional(conn)
    .await?;
    Ok(at.flatten().map(Timestamp::from_millis))
}
