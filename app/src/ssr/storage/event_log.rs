//! The append-only log of domain events, written in the transaction of the change.
//!
//! Readers page through the log in commit order: a reader that has seen event N never later
//! finds an event before N committed, so paging with `after` misses nothing. SQLite has one
//! writer, so its ids are in commit order. On PostgreSQL transactions commit side by side, and
//! an id taken first may commit last; events there are numbered after they commit instead
//! ([`number_new_events`], which every reader runs first), and the number is what readers see
//! as the id. Writers never wait for one another to append.

use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

/// The turn numberers take on PostgreSQL, from numbering to commit.
const NUMBERING_LOCK: i64 = 0x7469_636b_6576;

/// Appends one event and returns its row id (its place in the log once numbered, on SQLite).
pub async fn insert_event(
    conn: &mut AnyConnection,
    event_type: &str,
    aggregate_id: &Id,
    payload: serde_json::Value,
    at: Timestamp,
) -> Result<i64, sqlx::Error> {
    let id = sqlx::query_scalar(
        "INSERT INTO event_log (event_type, aggregate_id, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(event_type)
    .bind(aggregate_id.as_str())
    .bind(payload.to_string())
    .bind(at.millis())
    .fetch_one(conn)
    .await?;
    Ok(id)
}

/// An event to append with others: its type, what it is about, its payload and when.
pub struct NewEvent<'a> {
    pub event_type: &'a str,
    pub aggregate_id: &'a Id,
    pub payload: serde_json::Value,
    pub at: Timestamp,
}

/// Appends several events in one statement, their ids in the order given.
pub async fn insert_events(
    conn: &mut AnyConnection,
    events: &[NewEvent<'_>],
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    // Padded with NULL rows, which the `WHERE` leaves out.
    let (values, size) = super::values_rows(events.len(), 4);
    let sql = format!(
        "INSERT INTO event_log (event_type, aggregate_id, payload, created_at) \
         SELECT * FROM (VALUES {values}) AS new_events WHERE column1 IS NOT NULL"
    );
    let mut query = sqlx::query(&sql);
    for event in events {
        query = query
            .bind(event.event_type)
            .bind(event.aggregate_id.as_str())
            .bind(event.payload.to_string())
            .bind(event.at.millis());
    }
    for _ in events.len()..size {
        query = query
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(None::<i64>);
    }
    query.execute(conn).await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub event_type: String,
    pub aggregate_id: String,
    pub payload: String,
    pub created_at: i64,
}

/// The column that orders the log, shown to readers as the event's id.
fn order_column(conn: &AnyConnection) -> &'static str {
    match super::backend(conn) {
        super::Backend::Postgres => "position",
        super::Backend::Sqlite => "id",
    }
}

/// PostgreSQL: numbers the events committed since the last numbering, after the last number
/// given, in the order of their row ids. Run it in a transaction of its own and commit at
/// once: numberers take turns until their commit, so each starts after the one before it
/// committed, and numbers become visible in the order they were given. An event committed
/// while this runs is numbered by the next one. A no-op on SQLite, and whenever nothing waits.
pub async fn number_new_events(conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
    if super::backend(conn) != super::Backend::Postgres {
        return Ok(0);
    }
    let waiting: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM event_log WHERE position IS NULL)")
            .fetch_one(&mut *conn)
            .await?;
    if !waiting {
        return Ok(0);
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(NUMBERING_LOCK)
        .execute(&mut *conn)
        .await?;
    // A statement of its own, after the turn: it sees what the numberer before committed.
    let numbered = sqlx::query(
        "WITH last AS (SELECT COALESCE(MAX(position), 0) AS position FROM event_log), \
         fresh AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM event_log \
         WHERE position IS NULL) \
         UPDATE event_log SET position = last.position + fresh.n FROM last, fresh \
         WHERE event_log.id = fresh.id",
    )
    .execute(conn)
    .await?;
    Ok(numbered.rows_affected())
}

/// Events of one aggregate, oldest first.
pub async fn list_events_for(
    conn: &mut AnyConnection,
    aggregate_id: &Id,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_type, aggregate_id, payload, created_at FROM event_log WHERE aggregate_id = $1 ORDER BY id",
    )
    .bind(aggregate_id.as_str())
    .fetch_all(conn)
    .await
}

/// Up to `limit` events after `after` (exclusive) in the log's order, oldest first, each with
/// its place in the log as its id. On PostgreSQL only numbered events are read: run
/// [`number_new_events`] first to read everything committed so far.
pub async fn list_events_after(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    let order = order_column(conn);
    sqlx::query_as(&format!(
        "SELECT {order} AS id, event_type, aggregate_id, payload, created_at FROM event_log \
         WHERE {order} > $1 ORDER BY {order} LIMIT $2"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The place of the log's last (numbered) event, 0 when there is none.
pub async fn last_event_id(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    let order = order_column(conn);
    sqlx::query_scalar(&format!("SELECT COALESCE(MAX({order}), 0) FROM event_log"))
        .fetch_one(conn)
        .await
}
