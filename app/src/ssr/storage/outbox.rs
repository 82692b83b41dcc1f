//! The `outbox` table: messages waiting to be delivered, written in the same transaction as the
//! change that causes them.

use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

/// A message the worker has claimed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// Delivery attempts so far, this one included.
    pub attempts: i64,
}

pub struct NewMail<'a> {
    pub id: &'a Id,
    pub kind: &'a str,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
}

pub async fn insert_mail(
    conn: &mut AnyConnection,
    mail: &NewMail<'_>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, kind, recipient, subject, text_body, html_body, created_at, \
         attempts, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8)",
    )
    .bind(mail.id.as_str())
    .bind(mail.kind)
    .bind(mail.recipient)
    .bind(mail.subject)
    .bind(mail.text_body)
    .bind(mail.html_body)
    .bind(now.millis())
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims up to `limit` messages that are due and not claimed by a live lease, for
/// `lease_ms`: each attempt is counted as it is claimed. On PostgreSQL rows another node is
/// claiming right now are skipped (`SKIP LOCKED`), so every node's worker takes different mail.
pub async fn claim_due(
    conn: &mut AnyConnection,
    now: Timestamp,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<QueuedMail>, sqlx::Error> {
    let skip_locked = match super::backend(conn) {
        super::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        super::Backend::Sqlite => "",
    };
    sqlx::query_as(&format!(
        "UPDATE outbox SET leased_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox \
             WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2 \
               AND (leased_until IS NULL OR leased_until <= $2) \
             ORDER BY next_attempt_at, id LIMIT $3{skip_locked}) \
         RETURNING id, kind, recipient, subject, text_body, html_body, attempts"
    ))
    .bind(now.millis() + lease_ms)
    .bind(now.millis())
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Delivered: the bodies are cleared (they may hold single-use links), the envelope stays as a
/// record of what was sent.
pub async fn mark_sent(
    conn: &mut AnyConnection,
    id: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET sent_at = $1, leased_until = NULL, text_body = '', html_body = '', \
         last_error = NULL WHERE id = $2",
    )
    .bind(now.millis())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Not delivered this time: try again at `retry_at`.
pub async fn mark_retry(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    retry_at: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1, leased_until = NULL, last_error = $2 WHERE id = $3",
    )
    .bind(retry_at.millis())
    .bind(error)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Refused for good: kept, with the reason, and never tried again.
pub async fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    error: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE outbox SET failed_at = $1, leased_until = NULL, last_error = $2, text_body = '', \
         html_body = '' WHERE id = $3",
    )
    .bind(now.millis())
    .bind(error)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A message's delivery state, for tests and the operator.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailRecord {
    pub id: String,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub last_error: Option<String>,
}

pub async fn list_mail(conn: &mut AnyConnection) -> Result<Vec<MailRecord>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, kind, recipient, subject, attempts, sent_at, failed_at, last_error \
         FROM outbox ORDER BY created_at, id",
    )
    .fetch_all(conn)
    .await
}

/// Messages not yet delivered nor given up on (the mail queue's depth).
pub async fn count_waiting(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")
        .fetch_one(conn)
        .await
}
