//! Account recovery and protection: mailed single-use tokens (`user_tokens`), mail requests per
//! address (`mail_requests`) and failed sign-ins (`signin_failures`).

use crate::domain::account::TokenPurpose;
use crate::domain::{Email, Id, Timestamp};
use sqlx::AnyConnection;

pub async fn insert_token(
    conn: &mut AnyConnection,
    token_hash: &str,
    user_id: &Id,
    purpose: TokenPurpose,
    email: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO user_tokens (token_hash, user_id, purpose, email, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash)
    .bind(user_id.as_str())
    .bind(purpose.as_str())
    .bind(email)
    .bind(now.millis())
    .bind(now.millis() + purpose.lifetime_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// A token that was just used up.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UsedToken {
    pub user_id: String,
    pub email: String,
}

/// Uses the token up, if it exists for `purpose`, is unused and has not expired: one statement,
/// so of two requests with the same link exactly one gets it.
pub async fn use_token(
    conn: &mut AnyConnection,
    token_hash: &str,
    purpose: TokenPurpose,
    now: Timestamp,
) -> Result<Option<UsedToken>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE user_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1 \
         RETURNING user_id, email",
    )
    .bind(now.millis())
    .bind(token_hash)
    .bind(purpose.as_str())
    .fetch_optional(conn)
    .await
}

/// The token's owner and address if it would be accepted now, without using it up.
pub async fn peek_token(
    conn: &mut AnyConnection,
    token_hash: &str,
    purpose: TokenPurpose,
    now: Timestamp,
) -> Result<Option<UsedToken>, sqlx::Error> {
    sqlx::query_as(
        "SELECT user_id, email FROM user_tokens          WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(token_hash)
    .bind(purpose.as_str())
    .bind(now.millis())
    .fetch_optional(conn)
    .await
}

/// Ends every unused link of `purpose` for `user` (a newer one replaces them, or what they
/// were for happened another way).
pub async fn expire_tokens(
    conn: &mut AnyConnection,
    user_id: &Id,
    purpose: TokenPurpose,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE user_tokens SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
    )
    .bind(now.millis())
    .bind(user_id.as_str())
    .bind(purpose.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Notes a request that mails `email`, and returns how many such requests there were in the
/// hour before this one.
pub async fn note_mail_request(
    conn: &mut AnyConnection,
    email: &str,
    purpose: &str,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    let hour_ago = now.millis() - 3_600_000;
    let earlier: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mail_requests WHERE email = $1 AND purpose = $2 AND requested_at > $3",
    )
    .bind(email)
    .bind(purpose)
    .bind(hour_ago)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO mail_requests (email, purpose, requested_at) VALUES ($1, $2, $3)")
        .bind(email)
        .bind(purpose)
        .bind(now.millis())
        .execute(conn)
        .await?;
    Ok(earlier)
}

/// Until when sign-in for `email` is closed for this client (`scope` = its address) or for
/// everyone (`*`), whichever is later; `None` when it is open.
pub async fn signin_locked_until(
    conn: &mut AnyConnection,
    email: &str,
    client: &str,
    now: Timestamp,
) -> Result<Option<Timestamp>, sqlx::Error> {
    let until: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(locked_until) FROM signin_failures \
         WHERE email = $1 AND scope IN ($2, '*') AND locked_until > $3",
    )
    .bind(email)
    .bind(client)
    .bind(now.millis())
    .fetch_one(conn)
    .await?;
    Ok(until.map(Timestamp::from_millis))
}

/// Counts one more failed sign-in for `email` in `scope` and returns the count so far.
pub async fn count_signin_failure(
    conn: &mut AnyConnection,
    email: &str,
    scope: &str,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO signin_failures (email, scope, failures, updated_at) VALUES ($1, $2, 1, $3) \
         ON CONFLICT (email, scope) DO UPDATE \
         SET failures = signin_failures.failures + 1, updated_at = excluded.updated_at \
         RETURNING failures",
    )
    .bind(email)
    .bind(scope)
    .bind(now.millis())
    .fetch_one(conn)
    .await
}

pub async fn lock_signin(
    conn: &mut AnyConnection,
    email: &str,
    scope: &str,
    until: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE signin_failures SET locked_until = $1 WHERE email = $2 AND scope = $3")
        .bind(until.millis())
        .bind(email)
        .bind(scope)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the failures counted for `email` from this client and overall (a successful
/// sign-in, or a new password).
pub async fn clear_signin_failures(
    conn: &mut AnyConnection,
    email: &str,
    scopes: &[&str],
) -> Result<(), sqlx::Error> {
    for scope in scopes {
        sqlx::query("DELETE FROM signin_failures WHERE email = $1 AND scope = $2")
            .bind(email)
            .bind(scope)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Forgets every failed sign-in counted for `email`, from every client.
pub async fn clear_all_signin_failures(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM signin_failures WHERE email = $1")
        .bind(email)
        .execute(conn)
        .await?;
    Ok(())
}

/// Drops what no rule looks at any more: failures untouched for a day, mail requests older
/// than an hour, tokens a day past their expiry.
pub async fn prune(conn: &mut AnyConnection, now: Timestamp) -> Result<(), sqlx::Error> {
    let day_ago = now.millis() - 86_400_000;
    sqlx::query("DELETE FROM signin_failures WHERE updated_at < $1")
        .bind(day_ago)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM mail_requests WHERE requested_at < $1")
        .bind(now.millis() - 3_600_000)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM user_tokens WHERE expires_at < $1")
        .bind(day_ago)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks `user`'s address as proven (only if it is still `email`).
pub async fn mark_email_verified(
    conn: &mut AnyConnection,
    user_id: &Id,
    email: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), updated_at = $1 \
         WHERE id = $2 AND email = $3",
    )
    .bind(now.millis())
    .bind(user_id.as_str())
    .bind(email)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Moves `user` to a new, proven address (the unique index refuses one taken meanwhile).
pub async fn change_email(
    conn: &mut AnyConnection,
    user_id: &Id,
    email: &Email,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE users SET email = $1, email_verified_at = $2, updated_at = $2 WHERE id = $3",
    )
    .bind(email.as_str())
    .bind(now.millis())
    .bind(user_id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_password_hash(
    conn: &mut AnyConnection,
    user_id: &Id,
    password_hash: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now.millis())
        .bind(user_id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
