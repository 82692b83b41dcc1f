//! Opening the database — SQLite (the embedded default) or PostgreSQL, chosen by the URL's
//! scheme — and running its migrations. Storage talks to either through sqlx's `Any` driver.
//!
//! SQLite: WAL, foreign keys, a busy timeout. Writes go through a pool of exactly one connection,
//! so write transactions queue inside the process instead of fighting over SQLite's single write
//! lock; reads use a wider pool and, thanks to WAL, never wait for writers.
//!
//! PostgreSQL: one pool serves reads and writes; write transactions hold the rows they decide on
//! with `SELECT … FOR NO KEY UPDATE` (see `storage::Read::Locked`), so any number of processes can share
//! the database.

use crate::ssr::storage::Backend;
use anyhow::Context;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::{Executor, PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// The page cache of each SQLite connection that only reads (in SQLite's notation: negative
/// is KiB), a quarter of SQLite's default.
const READ_CACHE_KIB: &str = "-512";

/// The pool the session store keeps its own table in, in the same database.
#[derive(Clone, Debug)]
pub enum SessionPool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone, Debug)]
pub struct Db {
    /// Many connections, for reads.
    pub read: AnyPool,
    /// For every write transaction: one connection on SQLite, the read pool on PostgreSQL.
    pub write: AnyPool,
    /// For the session store, which speaks its database's own driver.
    pub sessions: SessionPool,
    backend: Backend,
    /// Counts write transactions begun, so caches of reads can tell when they may be stale.
    writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The storage-fault count this database's write connection was last checked against.
    faults_seen: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// SQLite: set once [`Db::start_checkpoints`] copies the log into the database, so the write
    /// connection leaves that to it (see there).
    checkpoints_elsewhere: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Storage faults (read-only file, disk full, I/O errors, a lost server) seen by this process.
static STORAGE_FAULTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Whether `err` says the storage itself failed (as opposed to a bug or a refused constraint):
/// the database cannot be reached, SQLite reports a read-only, full, locked or failing file, or
/// PostgreSQL a lost connection, exhausted resources, a shutdown or a read-only transaction.
/// Such errors answer 503 and make the next write transaction use a fresh connection.
///
/// Waiting too long for a pooled connection is not one: it says the server is busy, not that
/// the storage failed. It answers 503 too, and leaves the connections as they are.
pub fn is_storage_fault(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else {
                return false;
            };
            if db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some()
            {
                // SQLSTATE classes: 08 connection, 53 resources, 57 operator intervention,
                // 58 system; and 25006, a read-only transaction.
                matches!(&code[..2.min(code.len())], "08" | "53" | "57" | "58") || code == "25006"
            } else {
                // SQLite's primary result codes: BUSY 5, LOCKED 6, NOMEM 7, READONLY 8,
                // IOERR 10, FULL 13, CANTOPEN 14.
                code.parse::<i64>()
                    .is_ok_and(|code| matches!(code & 0xff, 5 | 6 | 7 | 8 | 10 | 13 | 14))
            }
        }
        _ => false,
    }
}

/// Records that a storage fault happened, so write connections are replaced before their next use.
pub fn note_storage_fault() {
    STORAGE_FAULTS.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
}

impl Db {
    /// Opens the database at `url` and runs its migrations: `sqlite://…` (the file and its
    /// folder are created if missing) or `postgres://…`.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        let db = Db::open(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    /// Opens the database at `url` without touching its schema.
    pub async fn open(url: &str) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        match backend_of(url)? {
            Backend::Postgres => Db::open_postgres(url).await,
            Backend::Sqlite => Db::open_sqlite(url).await,
        }
    }

    /// Brings the schema up to date (each backend has its own migrations, with one meaning).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("../migrations/sqlite")
                    .run(&self.write)
                    .await
            }
            Backend::Postgres => {
                sqlx::migrate!("../migrations/postgres")
                    .run(&self.write)
                    .await
            }
        }
        .context("failed to run database migrations")
    }

    async fn open_sqlite(url: &str) -> anyhow::Result<Db> {
        use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
        let options = SqliteConnectOptions::from_str(url)
            .with_context(|| format!("invalid DATABASE_URL `{url}`"))?
            .create_if_missing(true);
        if let Some(folder) = options.get_filename().parent()
            && !folder.as_os_str().is_empty()
        {
            std::fs::create_dir_all(folder).with_context(|| {
                format!("failed to create the database folder {}", folder.display())
            })?;
        }
        // The file is created here, with WAL set once for good; every connection then sets the
        // per-connection settings.
        // Every signed-in request reads its session here first.
        let sessions = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(
                options
                    .clone()
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    .pragma("cache_size", READ_CACHE_KIB),
            )
            .await
            .with_context(|| format!("failed to open the database {url}"))?;
        let any_url = format!("sqlite://{}", options.get_filename().display());
        let checkpoints_elsewhere = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let pool = |max: u32, min: u32, cache: &'static str, writer: bool| {
            let elsewhere = checkpoints_elsewhere.clone();
            AnyPoolOptions::new()
                .max_connections(max)
                .min_connections(min)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(move |conn, _| {
                    // SQLite's default: the connection whose commit fills the log past 1,000
                    // pages copies it into the database.
                    let checkpoint =
                        if writer && elsewhere.load(std::sync::atomic::Ordering::Acquire) {
                            0
                        } else {
                            1000
                        };
                    Box::pin(async move {
                        conn.execute(
                            format!(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA temp_store = MEMORY; PRAGMA cache_size = {cache}; \
                                 PRAGMA wal_autocheckpoint = {checkpoint};"
                            )
                            .as_str(),
                        )
                        .await
                        .map(|_| ())
                    })
                })
        };
        // SQLite's own default page cache (2 MB a connection) for the writer, which rewrites
        // the same pages again and again; a quarter of that for each reader, whose hot pages
        // the browse cache keeps anyway and whose misses the system's file cache serves.
        let write = pool(1, 0, "-2000", true)
            .connect(&any_url)
            .await
            .with_context(|| format!("failed to open the database {url}"))?;
        let read = pool(4, 1, READ_CACHE_KIB, false)
            .connect(&any_url)
            .await
            .context("failed to open read connections")?;
        let mut db = Db::assemble(read, write, SessionPool::Sqlite(sessions), Backend::Sqlite);
        db.checkpoints_elsewhere = checkpoints_elsewhere;
        Ok(db)
    }

    async fn open_postgres(url: &str) -> anyhow::Result<Db> {
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .with_context(|| format!("failed to connect to the database {}", redact(url)))?;
        let sessions = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .with_context(|| format!("failed to connect to the database {}", redact(url)))?;
        Ok(Db::assemble(
            pool.clone(),
            pool,
            SessionPool::Postgres(sessions),
            Backend::Postgres,
        ))
    }

    fn assemble(read: AnyPool, write: AnyPool, sessions: SessionPool, backend: Backend) -> Db {
        Db {
            read,
            write,
            sessions,
            backend,
            writes: Default::default(),
            faults_seen: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(
                STORAGE_FAULTS.load(std::sync::atomic::Ordering::Acquire),
            )),
            checkpoints_elsewhere: Default::default(),
        }
    }

    /// SQLite: from now on, copies the write-ahead log into the database every `every`, from
    /// a reading connection, for as long as the database is open; `None` on PostgreSQL.
    ///
    /// Left to SQLite, the commit that fills the log past 1,000 pages does the copying (and
    /// its `fsync`) before it returns, and every reservation in that commit waits for it: tens
    /// of milliseconds, every few dozen commits, on the one connection that writes. Here the
    /// writer only appends, and a reader copies what no reader still needs (a passive
    /// checkpoint, which never blocks the writer). Commands that write without a server (seed,
    /// restore) keep SQLite's own way.
    pub async fn start_checkpoints(&self, every: Duration) -> Option<tokio::task::JoinHandle<()>> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        self.checkpoints_elsewhere
            .store(true, std::sync::atomic::Ordering::Release);
        // The write connection open now was set up before: it stops copying too. (Any later
        // one is set up so by `after_connect`.)
        if let Ok(mut writer) = self.write.acquire().await
            && let Err(err) = writer.execute("PRAGMA wal_autocheckpoint = 0").await
        {
            tracing::warn!(error = %err, "the write connection still copies the log itself");
        }
        let db = self.clone();
        Some(tokio::spawn(async move {
            let mut ticker = tokio::time::interval(every);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                match db.copy_log().await {
                    Ok(_) => {}
                    Err(sqlx::Error::PoolClosed) => return,
                    Err(err) => tracing::warn!(error = %err, "copying the write-ahead log failed"),
                }
            }
        }))
    }

    /// SQLite: copies into the database what of the write-ahead log no reader still needs,
    /// without waiting for anyone. Returns the log's length and how much of it is now copied,
    /// in pages.
    pub async fn copy_log(&self) -> Result<(i64, i64), sqlx::Error> {
        let mut conn = self.read.acquire().await?;
        let (_busy, log, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&mut *conn)
                .await?;
        Ok((log, copied))
    }

    pub fn backend(&self) -> Backend {
        self.backend
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
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.writes
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.begin_write_keeping_reads().await
    }

    /// [`Db::begin_write`] for a transaction that can only take listings off sale (a
    /// reservation): reads cached under the current [`Db::write_generation`] stay, and the
    /// caller tells the cache what it took (`BrowseCache::taken`).
    pub async fn begin_write_keeping_reads(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
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
            Err(err) if is_storage_fault(&err) => {
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

    async fn spawn_begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        let pool = self.write.clone();
        let begin = match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        };
        tokio::spawn(async move { pool.begin_with(begin).await })
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

    /// Gives back what a burst left open: closes the idle connections the pools opened beyond
    /// their minimum (on SQLite each has its own page cache, parsed schema, prepared statements
    /// and thread) and, on SQLite, empties the page cache of each connection kept. Meant for a
    /// quiet moment: whatever is closed is opened again on demand. Returns how many connections
    /// were closed.
    pub async fn release_idle(&self) -> usize {
        let mut closed = close_idle(&self.read).await;
        if self.backend == Backend::Sqlite {
            // On PostgreSQL the write pool is the read pool.
            closed += close_idle(&self.write).await;
        }
        closed += match &self.sessions {
            SessionPool::Sqlite(pool) => close_idle(pool).await,
            SessionPool::Postgres(pool) => close_idle(pool).await,
        };
        if self.backend == Backend::Sqlite {
            empty_page_caches(&self.read).await;
            empty_page_caches(&self.write).await;
            if let SessionPool::Sqlite(pool) = &self.sessions {
                empty_page_caches(pool).await;
            }
        }
        closed
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
        match &self.sessions {
            SessionPool::Sqlite(pool) => pool.close().await,
            SessionPool::Postgres(pool) => pool.close().await,
        }
    }
}

/// Closes the pool's idle connections beyond its minimum; returns how many.
async fn close_idle<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> usize {
    let minimum = pool.options().get_min_connections();
    let extra = pool.size().saturating_sub(minimum) as usize;
    let mut closed = 0;
    for conn in std::iter::from_fn(|| pool.try_acquire()).take(extra.min(pool.num_idle())) {
        if let Err(err) = conn.close().await {
            tracing::debug!(error = %err, "an idle connection did not close cleanly");
        }
        closed += 1;
    }
    closed
}

/// SQLite: empties the page cache of each of the pool's idle connections.
async fn empty_page_caches<DB: sqlx::Database>(pool: &sqlx::Pool<DB>)
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut kept: Vec<_> = std::iter::from_fn(|| pool.try_acquire())
        .take(pool.num_idle())
        .collect();
    for conn in &mut kept {
        if let Err(err) = (&mut **conn).execute("PRAGMA shrink_memory").await {
            tracing::debug!(error = %err, "a connection kept its page cache");
        }
    }
}

/// Which backend a `DATABASE_URL` names. Anything but `sqlite:` and `postgres://` is refused: a
/// misspelt or foreign scheme must not quietly become the name of a new SQLite file.
fn backend_of(url: &str) -> anyhow::Result<Backend> {
    match url.split_once(':').map(|(scheme, _)| scheme) {
        Some("sqlite") => Ok(Backend::Sqlite),
        Some("postgres" | "postgresql") if url.contains("://") => Ok(Backend::Postgres),
        _ => anyhow::bail!(
            "DATABASE_URL `{}` names no database this server can use: give sqlite://PATH (the \
             embedded default) or postgres://USER:PASSWORD@HOST/DATABASE",
            redact(url)
        ),
    }
}

/// `url` without its password, for messages: `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Connection;

    #[test]
    fn only_sqlite_and_postgres_urls_name_a_database() {
        for url in [
            "sqlite://data/ticketing.db",
            "sqlite:t.db",
            "sqlite::memory:",
        ] {
            assert_eq!(backend_of(url).unwrap(), Backend::Sqlite, "{url}");
        }
        for url in ["postgres://u:p@h/db", "postgresql://h/db"] {
            assert_eq!(backend_of(url).unwrap(), Backend::Postgres, "{url}");
        }
        for url in [
            "mysql://root:hunter2@db/tickets",
            "data/ticketing.db",
            "postgres:db",
            "SQLITE://x.db",
            "",
            "<script>://x",
        ] {
            let message = backend_of(url).unwrap_err().to_string();
            assert!(message.contains("sqlite://PATH"), "{url}: {message}");
            assert!(
                !message.contains("hunter2"),
                "the password is not repeated: {message}"
            );
        }
    }

    #[tokio::test]
    async fn a_quiet_moment_closes_the_idle_connections_a_burst_opened_and_keeps_busy_ones() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        let SessionPool::Sqlite(sessions) = db.sessions.clone() else {
            unreachable!("a SQLite database")
        };
        // A burst: every connection of every pool in use at once.
        let mut readers = Vec::new();
        for _ in 0..4 {
            readers.push(db.read.acquire().await.unwrap());
        }
        let writer = db.write.acquire().await.unwrap();
        let mut session_readers = Vec::new();
        for _ in 0..4 {
            session_readers.push(sessions.acquire().await.unwrap());
        }
        for conn in &mut readers {
            let one: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!(one, 0);
        }
        assert_eq!(
            (db.read.size(), db.write.size(), sessions.size()),
            (4, 1, 4)
        );
        // Two readers are still busy when the burst is over.
        let mut busy: Vec<_> = readers.drain(..2).collect();
        drop((readers, writer, session_readers));
        returned(&db.read, 2).await;
        returned(&db.write, 1).await;
        returned(&sessions, 4).await;

        let closed = db.release_idle().await;
        assert_eq!(
            closed,
            2 + 1 + 4,
            "the idle readers, the writer and the session readers"
        );
        assert_eq!(
            (db.read.size(), db.write.size(), sessions.size()),
            (2, 0, 0)
        );
        // The busy ones were left alone and still answer.
        for conn in &mut busy {
            let one: i64 = sqlx::query_scalar("SELECT 1")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!(one, 1);
        }
        drop(busy);
        returned(&db.read, 2).await;
        // The pool keeps its minimum of one reader, with its page cache emptied.
        db.release_idle().await;
        assert_eq!(db.read.size(), 1);

        // What was closed opens again on demand: writes, reads and sessions all work.
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query("INSERT INTO t VALUES (7)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let seven: i64 = sqlx::query_scalar("SELECT x FROM t")
            .fetch_one(&db.read)
            .await
            .unwrap();
        assert_eq!(seven, 7);
        let none: i64 =
            sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'nope'")
                .fetch_one(&sessions)
                .await
                .unwrap();
        assert_eq!(none, 0);
        assert_eq!(db.write.size(), 1);
    }

    /// Waits until `idle` connections are back in `pool` (a dropped connection goes back by a
    /// task of its own).
    async fn returned<DB: sqlx::Database>(pool: &sqlx::Pool<DB>, idle: usize) {
        for _ in 0..10_000 {
            if pool.num_idle() >= idle {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("{idle} connections did not come back to the pool");
    }

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

    /// Storage faults are counted process-wide: tests that note them, or that watch the write
    /// connection survive, take turns.
    static FAULTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    #[tokio::test]
    async fn a_busy_pool_is_a_503_for_that_request_and_leaves_the_write_connection_alone() {
        let _turn = FAULTS.lock().await;
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        // A temporary table lives as long as the connection that made it.
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("CREATE TEMP TABLE marker (x INTEGER)")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert!(!is_storage_fault(&sqlx::Error::PoolTimedOut));
        assert_eq!(
            crate::AppError::from(sqlx::Error::PoolTimedOut),
            crate::AppError::Unavailable,
            "no connection free in time: 503, not 500"
        );
        let mut tx = db.begin_write().await.unwrap();
        sqlx::query("INSERT INTO marker VALUES (1)")
            .execute(&mut *tx)
            .await
            .expect("the same write connection, not a fresh one");
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn writes_heal_after_the_write_connection_could_not_write() {
        let _turn = FAULTS.lock().await;
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
