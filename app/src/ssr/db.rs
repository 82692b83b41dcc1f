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
            .max_connections(8)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.read_only(false))
            .await
            .context("failed to open read connections")?;
        Ok(Db { read, write })
    }

    /// A write transaction that takes SQLite's write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction that reads and then writes can never fail to upgrade its lock.
    pub async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.write.begin_with("BEGIN IMMEDIATE").await
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}
