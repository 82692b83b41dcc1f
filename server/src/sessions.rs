//! The session store: tower-sessions' SQLite or PostgreSQL store, in the application's own
//! database, so every node sees every session. Beside each signed-in session it keeps a row in
//! `user_sessions` (who, which browser, since when, last seen), which tower-sessions cannot
//! index, so that users can list their sessions and end them.

use app::ssr::db::{Db, SessionPool};
use app::ssr::storage::user_sessions::{self, SessionRecord};
use async_trait::async_trait;
use sqlx::AnyPool;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, ExpiredDeletion, Result, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

#[derive(Clone, Debug)]
pub struct Sessions {
    store: Store,
    /// Where `user_sessions` is written (the application's write pool).
    db: AnyPool,
    /// For recording a signed-in session in step with suspensions (a write transaction).
    app_db: Db,
}

#[derive(Clone, Debug)]
enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Sessions {
    /// The store in `db`, its table created if missing.
    pub async fn open(db: &Db) -> anyhow::Result<Sessions> {
        let store = match &db.sessions {
            SessionPool::Sqlite(pool) => Store::Sqlite(
                SqliteStore::new(pool.clone())
                    .with_table_name("sessions")
                    .map_err(|e| anyhow::anyhow!("invalid session table name: {e}"))?,
            ),
            SessionPool::Postgres(pool) => Store::Postgres(
                PostgresStore::new(pool.clone())
                    .with_table_name("sessions")
                    .map_err(|e| anyhow::anyhow!("invalid session table name: {e}"))?,
            ),
        };
        match &store {
            Store::Sqlite(store) => store.migrate().await,
            Store::Postgres(store) => store.migrate().await,
        }
        .map_err(|e| anyhow::anyhow!("failed to create the sessions table: {e}"))?;
        Ok(Sessions {
            store,
            db: db.write.clone(),
            app_db: db.clone(),
        })
    }

    /// Brings `user_sessions` in line with a session just written.
    async fn note(&self, record: &Record) -> Result<()> {
        let id = record.id.to_string();
        let user_id = record
            .data
            .get(app::ssr::session::USER_ID)
            .and_then(|v| v.as_str());
        let Some(user_id) = user_id else {
            let mut conn = self.db.acquire().await.map_err(backend)?;
            return user_sessions::forget(&mut conn, &id).await.map_err(backend);
        };
        let millis = |key: &str| record.data.get(key).and_then(|v| v.as_i64());
        let signed_in_at = millis(app::ssr::session::SIGNED_IN_AT).unwrap_or(0);
        let user_agent = record
            .data
            .get(app::ssr::session::USER_AGENT)
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let expires_at = (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64;
        let session = SessionRecord {
            session_id: &id,
            user_id,
            user_agent,
            created_at: signed_in_at,
            last_seen_at: millis(app::ssr::session::SEEN_AT).unwrap_or(signed_in_at),
            expires_at,
        };
        // Whether a suspended account's session is recorded is the accounts service's rule.
        app::ssr::services::accounts::record_session(&self.app_db, &session)
            .await
            .map_err(|err| Error::Backend(format!("{err:?}")))
    }
}

fn backend(err: sqlx::Error) -> Error {
    Error::Backend(err.to_string())
}

#[async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> Result<()> {
        match &self.store {
            Store::Sqlite(store) => store.create(record).await,
            Store::Postgres(store) => store.create(record).await,
        }?;
        self.note(record).await
    }

    async fn save(&self, record: &Record) -> Result<()> {
        if record.data.contains_key(app::ssr::session::USER_ID) {
            // A signed-in session without its row was ended (by its user, or by a password
            // change) while this request ran: saving it would bring it back.
            let mut conn = self.db.acquire().await.map_err(backend)?;
            if !user_sessions::exists(&mut conn, &record.id.to_string())
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
        }
        match &self.store {
            Store::Sqlite(store) => store.save(record).await,
            Store::Postgres(store) => store.save(record).await,
        }?;
        self.note(record).await
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let mut record = match &self.store {
            Store::Sqlite(store) => store.load(id).await,
            Store::Postgres(store) => store.load(id).await,
        }?;
        // A session signed in before sessions were listed has no row yet: give it one, once.
        if let Some(record) = record.as_mut()
            && record.data.contains_key(app::ssr::session::USER_ID)
            && !record.data.contains_key(app::ssr::session::USER_AGENT)
        {
            record.data.insert(
                app::ssr::session::USER_AGENT.to_string(),
                serde_json::Value::String("(signed in before sessions were listed)".into()),
            );
            match &self.store {
                Store::Sqlite(store) => store.save(record).await,
                Store::Postgres(store) => store.save(record).await,
            }?;
            self.note(record).await?;
        }
        Ok(record)
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        match &self.store {
            Store::Sqlite(store) => store.delete(id).await,
            Store::Postgres(store) => store.delete(id).await,
        }?;
        let mut conn = self.db.acquire().await.map_err(backend)?;
        user_sessions::forget(&mut conn, &id.to_string())
            .await
            .map_err(backend)
    }
}

#[async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> Result<()> {
        match &self.store {
            Store::Sqlite(store) => store.delete_expired().await,
            Store::Postgres(store) => store.delete_expired().await,
        }?;
        let mut conn = self.db.acquire().await.map_err(backend)?;
        let now = app::domain::Timestamp::from_millis(
            (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64,
        );
        user_sessions::prune(&mut conn, now).await.map_err(backend)
    }
}
