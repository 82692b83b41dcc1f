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
    /// The storage-fault count this database's write connection was last checked against.
    faults_seen: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Storage faults (read-only file, disk full, I/O errors) seen by this process.
static STORAGE_FAULTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Whether `err` says the storage itself failed (as opposed to a bug or a refused constraint):
/// the database cannot be reached, or SQLite reports a read-only, full, locked or failing file.
/// Such errors answer 503 and make the next write transaction use a fresh connection.
pub fn is_storage_fault(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| code.parse::<i64>().ok())
            // Primary result codes: BUSY 5, LOCKED 6, NOMEM 7, READONLY 8, IOERR 10, FULL 13,
            // CANTOPEN 14.
            .is_some_and(|code| matches!(code & 0xff, 5 | 6 | 7 | 8 | 10 | 13 | 14)),
        _ => false,
    }
}

/// Records that a storage fault happened, so write connections are replaced before their next use.
pub fn note_storage_fault() {
    STORAGE_FAULTS.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
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
            faults_seen: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(
                STORAGE_FAULTS.load(std::sync::atomic::Ordering::Acquire),
            )),
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
    ///
    /// After a storage fault (say the file was briefly read-only, and the connection SQLite
    /// reopened then can only read) the write connection is closed and opened afresh, so writes
    /// heal as soon as the cause is gone instead of failing until a restart.
    pub async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let faults = STORAGE_FAULTS.load(std::sync::atomic::Ordering::Acquire);
        if self
            .faults_seen
            .swap(faults, std::sync::atomic::Ordering::AcqRel)
            != faults
        {
            tracing::warn!("replacing the write connection after a storage fault");
            let suspect = self.write.acquire().await?.detach();
            drop(suspect);
        }
        match self.spawn_begin().await {
            Err(err) if is_storage_fault(&err) && !matches!(err, sqlx::Error::PoolTimedOut) => {
                // The connection cannot even begin (say it was opened while the file was
                // read-only): try once more on a fresh one.
                tracing::warn!(error = %err, "the write connection cannot write; replacing it");
                note_storage_fault();
                self.faults_seen.store(
                    STORAGE_FAULTS.load(std::sync::atomic::Ordering::Acquire),
                    std::sync::atomic::Ordering::Release,
                );
                let broken = self.write.acquire().await?.detach();
                drop(broken);
                self.spawn_begin().await
            }
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

    /// Whether the database answers a query (the health check).
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query_scalar::<_, i64>("SELECT 1")
            .fetch_one(&self.read)
            .await
            .map(|_| ())
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

    #[tokio::test]
    async fn writes_heal_after_the_write_connection_could_not_write() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // What a connection reopened while the file was unwritable is like: it can only read.
        sqlx::query("PRAGMA query_only = ON")
            .execute(&db.write)
            .await
            .unwrap();
        let mut tx = db
            .begin_write()
            .await
            .expect("a connection that cannot begin is replaced at once");
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut *tx)
            .await
            .expect("the fresh connection writes");
        tx.commit().await.unwrap();

        // A fault in the middle of a transaction: that request fails with 503, the next heals.
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("PRAGMA query_only = ON")
            .execute(&mut *tx)
            .await
            .unwrap();
        let err = sqlx::query("INSERT INTO t VALUES (2)")
            .execute(&mut *tx)
            .await
            .unwrap_err();
        drop(tx);
        assert!(is_storage_fault(&err), "{err}");
        assert_eq!(
            crate::AppError::from(err),
            crate::AppError::Unavailable,
            "a storage fault is a 503, not a 500"
        );
        let mut tx = db.begin_write().await.expect("a fresh write connection");
        sqlx::query("INSERT INTO t VALUES (3)")
            .execute(&mut *tx)
            .await
            .expect("writes work again without a restart");
        tx.commit().await.unwrap();
    }
}
