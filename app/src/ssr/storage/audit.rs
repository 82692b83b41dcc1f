//! `audit_log`: appended to, read, and nothing else (the database refuses updates and deletes).

use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    actor_id: Option<String>,
    #[sqlx(try_from = "String")]
    action: AuditAction,
    target_type: String,
    target_id: String,
    reason: String,
    created_at: i64,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> AuditEntry {
        AuditEntry {
            id: row.id,
            actor_id: row.actor_id.map(Id::from_trusted),
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            reason: row.reason,
            created_at: Timestamp::from_millis(row.created_at),
        }
    }
}

/// Appends one entry, in the transaction of the action it records.
pub async fn append(
    conn: &mut AnyConnection,
    actor: Option<&Id>,
    action: AuditAction,
    target_id: &str,
    reason: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (actor_id, action, target_type, target_id, reason, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(actor.map(Id::as_str))
    .bind(action.as_str())
    .bind(action.target_type())
    .bind(target_id)
    .bind(reason)
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Up to `limit` entries after the id `after`, oldest first.
pub async fn list_after(
    conn: &mut AnyConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT id, actor_id, action, target_type, target_id, reason, created_at FROM audit_log \
         WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}

/// The newest `limit` entries, newest first (the console's log page).
pub async fn list_latest(
    conn: &mut AnyConnection,
    limit: i64,
    before: Option<i64>,
) -> Result<Vec<AuditEntry>, sqlx::Error> {
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT id, actor_id, action, target_type, target_id, reason, created_at FROM audit_log \
         WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(AuditEntry::from).collect())
}
