//! The `users` table.

use crate::domain::{Email, Id, Timestamp};
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub email_verified_at: Option<i64>,
    /// 1 when two-factor sign-in is on.
    pub two_factor: i64,
    /// `staff`, `admin` or none.
    pub role: Option<String>,
    pub created_at: i64,
}

/// A user with the stored password hash, for sign-in only.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub id: String,
    pub email: String,
    pub password_hash: String,
}

/// A new account; `verified` when the address needs no proof (demo accounts).
pub async fn insert_user(
    conn: &mut AnyConnection,
    id: &Id,
    email: &Email,
    password_hash: &str,
    verified: bool,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email, password_hash, email_verified_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.as_str())
        .bind(email.as_str())
        .bind(password_hash)
        .bind(verified.then_some(now.millis()))
        .bind(now.millis())
        .bind(now.millis())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_user(conn: &mut AnyConnection, id: &Id) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, email, email_verified_at, \
         CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS two_factor, role, created_at \
         FROM users WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(conn)
    .await
}

pub async fn find_credentials(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, password_hash FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await
}

pub async fn find_credentials_by_id(
    conn: &mut AnyConnection,
    id: &Id,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, password_hash FROM users WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
}

pub async fn email_exists(conn: &mut AnyConnection, email: &Email) -> Result<bool, sqlx::Error> {
    let found: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE email = $1) THEN 1 ELSE 0 END",
    )
    .bind(email.as_str())
    .fetch_one(conn)
    .await?;
    Ok(found == 1)
}

/// Holds `id`'s row until the transaction ends (see [`super::Read::Locked`]), so that two
/// transactions deciding about the same user (how many reservations they hold) take turns.
pub async fn lock_user(conn: &mut AnyConnection, id: &Id) -> Result<(), sqlx::Error> {
    let clause = super::Read::Locked.clause(conn);
    if !clause.is_empty() {
        sqlx::query(&format!("SELECT id FROM users WHERE id = $1{clause}"))
            .bind(id.as_str())
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub async fn count_users(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await
}

/// A user's role, if they have one.
pub async fn find_role(
    conn: &mut AnyConnection,
    user: &Id,
) -> Result<Option<crate::domain::role::Role>, sqlx::Error> {
    let role: Option<Option<String>> = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(user.as_str())
        .fetch_optional(conn)
        .await?;
    role.flatten()
        .map(|r| crate::domain::role::Role::parse(&r))
        .transpose()
        .map_err(|err| sqlx::Error::Decode(Box::new(err)))
}

/// Sets (or with `None` removes) the role of the user with this address; false when there is
/// no such user.
pub async fn set_role(
    conn: &mut AnyConnection,
    email: &str,
    role: Option<crate::domain::role::Role>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("UPDATE users SET role = $1, updated_at = $2 WHERE email = $3")
        .bind(role.map(|r| r.as_str()))
        .bind(now.millis())
        .bind(email)
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The id of the account with this address, if there is one.
pub async fn find_id_by_email(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<Id>, sqlx::Error> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(id.map(Id::from_trusted))
}
