//! The `site_secrets` table: secrets the site makes for itself, one row per name.

use sqlx::AnyConnection;

/// Stores `value` under `name` unless a value is stored there already (another node may have
/// made one first); either way the stored value is the one to use.
pub async fn insert_secret_if_absent(
    conn: &mut AnyConnection,
    name: &str,
    value: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO site_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(value)
    .execute(conn)
    .await?;
    Ok(())
}

/// The value stored under `name`, if any.
pub async fn find_secret(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT value FROM site_secrets WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
}
