//! Two-factor sign-in: the TOTP secrets in `users`, and `recovery_codes`.

use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TwoFactor {
    pub totp_secret: Option<String>,
    pub totp_pending_secret: Option<String>,
}

pub async fn find(conn: &mut AnyConnection, user: &Id) -> Result<Option<TwoFactor>, sqlx::Error> {
    sqlx::query_as("SELECT totp_secret, totp_pending_secret FROM users WHERE id = $1")
        .bind(user.as_str())
        .fetch_optional(conn)
        .await
}

pub async fn set_pending(
    conn: &mut AnyConnection,
    user: &Id,
    secret: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET totp_pending_secret = $1 WHERE id = $2 AND totp_secret IS NULL")
        .bind(secret)
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Turns two-factor on with the pending secret `secret`, counting `step` as used. Returns
/// false when the pending secret changed meanwhile (another set-up) or it is already on.
pub async fn enable(
    conn: &mut AnyConnection,
    user: &Id,
    secret: &str,
    step: i64,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE users SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, \
         totp_last_step = $1, updated_at = $2 \
         WHERE id = $3 AND totp_secret IS NULL AND totp_pending_secret = $4",
    )
    .bind(step)
    .bind(now.millis())
    .bind(user.as_str())
    .bind(secret)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn disable(
    conn: &mut AnyConnection,
    user: &Id,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_last_step = NULL, \
         updated_at = $1 WHERE id = $2",
    )
    .bind(now.millis())
    .bind(user.as_str())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Accepts the code of `step` if no code of that step or a later one was accepted before: one
/// statement, so two sign-ins racing with one code cannot both pass.
pub async fn use_step(conn: &mut AnyConnection, user: &Id, step: i64) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE users SET totp_last_step = $1 \
         WHERE id = $2 AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(user.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Replaces the user's recovery codes.
pub async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    user: &Id,
    hashes: &[String],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user.as_str())
        .execute(&mut *conn)
        .await?;
    for hash in hashes {
        sqlx::query(
            "INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)",
        )
        .bind(user.as_str())
        .bind(hash)
        .bind(now.millis())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Uses up an unused recovery code; false if there is none such.
pub async fn use_recovery_code(
    conn: &mut AnyConnection,
    user: &Id,
    hash: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
    )
    .bind(now.millis())
    .bind(user.as_str())
    .bind(hash)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}
