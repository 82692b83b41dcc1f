//! The `users` table.

use crate::domain::{Email, Id, Timestamp};
use sqlx::SqliteConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub created_at: i64,
}

/// A user with the stored password hash, for sign-in only.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub id: String,
    pub email: String,
    pub password_hash: String,
}

pub async fn insert_user(
    conn: &mut SqliteConnection,
    id: &Id,
    email: &Email,
    password_hash: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)")
        .bind(id.as_str())
        .bind(email.as_str())
        .bind(password_hash)
        .bind(now.millis())
        .bind(now.millis())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_user(
    conn: &mut SqliteConnection,
    id: &Id,
) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, created_at FROM users WHERE id = ?")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
}

pub async fn find_credentials(
    conn: &mut SqliteConnection,
    email: &Email,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, password_hash FROM users WHERE email = ?")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await
}

pub async fn email_exists(conn: &mut SqliteConnection, email: &Email) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE email = ?)")
        .bind(email.as_str())
        .fetch_one(conn)
        .await
}

pub async fn count_users(conn: &mut SqliteConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await
}
