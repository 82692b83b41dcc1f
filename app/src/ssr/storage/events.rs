//! The append-only log of domain events, written in the transaction of the change.

use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

/// Appends one event and returns its id (monotonically increasing).
pub async fn insert_event(
    conn: &mut AnyConnection,
    event_type: &str,
    aggregate_id: &Id,
    payload: serde_json::Value,
    at: Timestamp,
) -> Result<i64, sqlx::Error> {
    let id = sqlx::query_scalar(
        "INSERT INTO events (event_type, aggregate_id, payload, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(event_type)
    .bind(aggregate_id.as_str())
    .bind(payload.to_string())
    .bind(at.millis())
    .fetch_one(conn)
    .await?;
    Ok(id)
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
        "SELECT id, event_type, aggregate_id, payload, created_at FROM events WHERE aggregate_id = $1 ORDER BY id",
    )
    .bind(aggregate_id.as_str())
    .fetch_all(conn)
    .await
}
