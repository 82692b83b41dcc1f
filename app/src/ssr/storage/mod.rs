//! SQL lives here and only here. Every function takes `&mut AnyConnection`, so services can
//! run several of them inside one transaction.

pub mod charges;
pub mod events;
pub mod orders;
pub mod tickets;
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

/// What a read in a write transaction adds to hold the rows it decides on until the
/// transaction ends: `FOR UPDATE` on PostgreSQL; nothing on SQLite, where `BEGIN IMMEDIATE`
/// already holds the database's one write lock.
pub fn for_update(conn: &sqlx::AnyConnection) -> &'static str {
    match backend(conn) {
        Backend::Postgres => " FOR UPDATE",
        Backend::Sqlite => "",
    }
}

/// True when `err` is the database refusing a row because of a UNIQUE constraint or index.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
