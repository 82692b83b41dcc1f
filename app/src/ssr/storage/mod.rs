//! SQL lives here and only here. Every function takes `&mut SqliteConnection`, so services can
//! run several of them inside one transaction.

pub mod charges;
pub mod events;
pub mod orders;
pub mod tickets;
pub mod users;

/// True when `err` is SQLite refusing a row because of a UNIQUE constraint or index.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
