//! A consistent copy of a running SQLite database (`ticketing backup`).

use sqlx::AnyConnection;

/// Writes the whole database, as of one moment, to a new file at `path` (SQLite's
/// `VACUUM INTO`: a read transaction, so writers on any node carry on meanwhile). The file must
/// not exist yet.
pub async fn vacuum_into(conn: &mut AnyConnection, path: &str) -> Result<(), sqlx::Error> {
    sqlx::query("VACUUM INTO $1")
        .bind(path)
        .execute(conn)
        .await?;
    Ok(())
}

/// SQLite's `PRAGMA integrity_check`: `["ok"]`, or what is wrong.
pub async fn integrity_check(conn: &mut AnyConnection) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(conn)
        .await
}
