//! The append-only log of domain events, written in the transaction of the change.

use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

/// On PostgreSQL, transactions that append events take turns from their first event to their
/// commit (SQLite has one writer anyway), so ids become visible in the order they were given:
/// a reader that has seen event N never later finds a smaller id committed, and paging the log
/// with `after` misses nothing.
const EVENT_ORDER_LOCK: i64 = 0x7469_636b_6576;

/// Appends one event and returns its id (monotonically increasing, in commit order).
pub async fn insert_event(
    conn: &mut AnyConnection,
    event_type: &str,
    aggregate_id: &Id,
    payload: serde_json::Value,
    at: Timestamp,
) -> Result<i64, sqlx::Error> {
    if super::backend(conn) == super::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(EVENT_ORDER_LOCK)
            .execute(&mut *conn)
            .await?;
    }
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
    if super::backend(conn) == super::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(EVENT_ORDER_LOCK)
            .execute(&mut *conn)
            .await?;
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

/// Up to `limit` events after the id `after` (exclusive), oldest first.
pub async fn list_events_after(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<EventRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, event_type, aggregate_id, payload, created_at FROM event_log WHERE id > $1 \
         ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// The newest event's id (0 when there is none).
pub async fn last_event_id(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM event_log")
        .fetch_one(conn)
        .await
}
