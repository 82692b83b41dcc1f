//! Opening the SQLite database: WAL, foreign keys, a busy timeout, embedded migrations.
//!
//! Writes go through a pool of exactly one connection, so write transactions queue inside the
//! process instead of fighting over SQLite's single write lock; reads use a wider pool and, thanks
//! to WAL, never wait for writers.

use anyhow::Context;
use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Db {
    /// Many connections, for reads.
    pub read: SqlitePool,
    /// One connection, for every write transaction.
    pub write: SqlitePool,
    /// Counts write transactions begun, so caches of reads can tell when they may be stale.
    writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Db {
    /// Opens (creating if missing, with its folder) the database at `url` and runs migrations.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("invalid DATABASE_URL `{url}`"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("temp_store", "memory");
        if let Some(folder) = options.get_filename().parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder).with_context(|| {
                format!("failed to create the database folder {}", folder.display())
            })?;
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .with_context(|| format!("failed to open the database {url}"))?;
        sqlx::migrate!("../migrations")
            .run(&write)
            .await
            .context("failed to run database migrations")?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(false))
            .await
            .context("failed to open read connections")?;
        Ok(Db {
            read,
            write,
            writes: Default::default(),
        })
    }

    /// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction that reads and then writes can never fail to upgrade its lock.
    ///
    /// sqlx 0.8 awaits once more after SQLite has begun a custom `BEGIN`; a caller dropped in
    /// between (a client that hung up mid-request) would leave the one write connection inside
    /// a transaction that nobody owns, and every later write would fail. So the begin runs as a
    /// task of its own, which always finishes and hands the transaction over (or drops it,
    /// rolling back). Should the connection be found inside a transaction all the same, it is
    /// closed (SQLite rolls back) and replaced.
    pub async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        match self.spawn_begin().await {
            Err(sqlx::Error::InvalidSavePointStatement) => {
                tracing::error!("the write connection was left inside a transaction; replacing it");
                let stuck = self.write.acquire().await?.detach();
                drop(stuck);
                self.spawn_begin().await
            }
            other => other,
        }
    }

    /// Changes whenever a write transaction begins: a read cached under one generation is
    /// stale once it moves on.
    pub fn write_generation(&self) -> u64 {
        self.writes.load(std::sync::atomic::Ordering::Acquire)
    }

    async fn spawn_begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        let pool = self.write.clone();
        tokio::spawn(async move { pool.begin_with("BEGIN IMMEDIATE").await })
            .await
            .map_err(|_| sqlx::Error::WorkerCrashed)?
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[tokio::test]
    async fn a_write_connection_left_inside_a_transaction_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        {
            // What a request cancelled at the wrong moment leaves behind: a BEGIN that sqlx
            // counts as open, on a connection back in the pool, with no transaction to end it.
            let mut conn = db.write.acquire().await.unwrap();
            let orphan = conn.begin().await.unwrap();
            std::mem::forget(orphan);
        }
        let mut tx = db.begin_write().await.expect("a usable write transaction");
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut again = db.begin_write().await.unwrap();
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut *again)
            .await
            .unwrap();
        again.commit().await.unwrap();
    }
}
