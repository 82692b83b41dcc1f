//! SQL lives here and only here. Every function takes `&mut AnyConnection`, so services can
//! run several of them inside one transaction.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod charges;
pub mod codes;
pub mod console;
pub mod events;
pub mod ledger;
pub mod orders;
pub mod outbox;
pub mod payouts;
pub mod tickets;
pub mod transfers;
pub mod two_factor;
pub mod user_sessions;
pub mod users;

/// The database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn backend(conn: &sqlx::AnyConnection) -> Backend {
    match conn.backend_name() {
        "PostgreSQL" => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// How a transaction reads a row it may decide on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// Just read it (pages, and checks that change nothing).
    Plain,
    /// Hold the row until the transaction ends: `FOR NO KEY UPDATE` on PostgreSQL, so another
    /// transaction deciding on it (a reservation and an edit, a retry and a settlement, another
    /// node) goes first or waits and the row read is the one the decision sees; nothing on
    /// SQLite, where `BEGIN IMMEDIATE` already holds the database's one write lock.
    Locked,
    /// [`Read::Locked`] if no other transaction holds the row, else no row (`FOR UPDATE SKIP
    /// LOCKED`): for a transaction that must not wait for that one.
    LockedUnlessBusy,
}

impl Read {
    /// What the `SELECT` ends with.
    pub fn clause(self, conn: &sqlx::AnyConnection) -> &'static str {
        match (self, backend(conn)) {
            // Not `FOR UPDATE`: that also stops other transactions from checking a foreign
            // key against the row (inserting an order for a held ticket, or updating a ticket
            // twice in one transaction, checks its seller's row), which deadlocks two
            // transactions that each hold what the other checks.
            (Read::Locked, Backend::Postgres) => " FOR NO KEY UPDATE",
            (Read::LockedUnlessBusy, Backend::Postgres) => " FOR NO KEY UPDATE SKIP LOCKED",
            _ => "",
        }
    }
}

/// True when `err` is the database refusing a row because of a UNIQUE constraint or index.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
