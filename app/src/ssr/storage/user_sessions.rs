//! `user_sessions`: who is signed in where, beside tower-sessions' own table (`sessions`),
//! which keeps the session data but knows nothing of users. Ending a session deletes it from
//! both, in one transaction, so it ends on every node at once.

use super::Backend;
use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

/// A signed-in session as its user sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserSession {
    pub session_id: String,
    pub public_id: String,
    pub user_agent: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub struct SessionRecord<'a> {
    pub session_id: &'a str,
    pub user_id: &'a str,
    pub user_agent: &'a str,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// Writes down (or brings up to date) a signed-in session; a new one gets a fresh public id.
pub async fn record(
    conn: &mut AnyConnection,
    session: &SessionRecord<'_>,
    public_id: &Id,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_sessions (session_id, public_id, user_id, user_agent, created_at, \
         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (session_id) DO UPDATE SET user_id = excluded.user_id, \
         user_agent = excluded.user_agent, last_seen_at = excluded.last_seen_at, \
         expires_at = excluded.expires_at",
    )
    .bind(session.session_id)
    .bind(public_id.as_str())
    .bind(session.user_id)
    .bind(session.user_agent)
    .bind(session.created_at)
    .bind(session.last_seen_at)
    .bind(session.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn exists(conn: &mut AnyConnection, session_id: &str) -> Result<bool, sqlx::Error> {
    let found: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM user_sessions WHERE session_id = $1) THEN 1 ELSE 0 END",
    )
    .bind(session_id)
    .fetch_one(conn)
    .await?;
    Ok(found == 1)
}

pub async fn forget(conn: &mut AnyConnection, session_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_sessions WHERE session_id = $1")
        .bind(session_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// `user`'s sessions that have not expired, most recently seen first.
pub async fn list_for_user(
    conn: &mut AnyConnection,
    user_id: &Id,
    now: Timestamp,
) -> Result<Vec<UserSession>, sqlx::Error> {
    sqlx::query_as(
        "SELECT session_id, public_id, user_agent, created_at, last_seen_at FROM user_sessions \
         WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC, created_at DESC",
    )
    .bind(user_id.as_str())
    .bind(now.millis())
    .fetch_all(conn)
    .await
}

/// tower-sessions' table: `sessions` on SQLite, `tower_sessions.sessions` on PostgreSQL (its
/// store keeps a schema of its own there).
fn session_table(conn: &AnyConnection) -> &'static str {
    match super::backend(conn) {
        Backend::Sqlite => "sessions",
        Backend::Postgres => "tower_sessions.sessions",
    }
}

/// Ends `user`'s sessions whose public id is `public_id`; returns whether there was one.
pub async fn end_one(
    conn: &mut AnyConnection,
    user_id: &Id,
    public_id: &str,
) -> Result<bool, sqlx::Error> {
    let table = session_table(conn);
    let session_id: Option<String> = sqlx::query_scalar(
        "DELETE FROM user_sessions WHERE user_id = $1 AND public_id = $2 RETURNING session_id",
    )
    .bind(user_id.as_str())
    .bind(public_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(session_id) = session_id else {
        return Ok(false);
    };
    sqlx::query(&format!("DELETE FROM {table} WHERE id = $1"))
        .bind(&session_id)
        .execute(conn)
        .await?;
    Ok(true)
}

/// Ends the session with this id, whoever's it is (its data and its row).
pub async fn end_session_id(conn: &mut AnyConnection, session_id: &str) -> Result<(), sqlx::Error> {
    let table = session_table(conn);
    sqlx::query(&format!("DELETE FROM {table} WHERE id = $1"))
        .bind(session_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM user_sessions WHERE session_id = $1")
        .bind(session_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ends all of `user`'s sessions except `keep` (the one asking, if any); returns how many.
pub async fn end_all_but(
    conn: &mut AnyConnection,
    user_id: &Id,
    keep: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let table = session_table(conn);
    let keep = keep.unwrap_or("");
    sqlx::query(&format!(
        "DELETE FROM {table} WHERE id IN \
         (SELECT session_id FROM user_sessions WHERE user_id = $1 AND session_id <> $2)"
    ))
    .bind(user_id.as_str())
    .bind(keep)
    .execute(&mut *conn)
    .await?;
    let ended = sqlx::query("DELETE FROM user_sessions WHERE user_id = $1 AND session_id <> $2")
        .bind(user_id.as_str())
        .bind(keep)
        .execute(conn)
        .await?;
    Ok(ended.rows_affected())
}

/// Drops the rows of sessions that expired (tower-sessions deletes its own).
pub async fn prune(conn: &mut AnyConnection, now: Timestamp) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM user_sessions WHERE expires_at <= $1")
        .bind(now.millis())
        .execute(conn)
        .await?;
    Ok(())
}
