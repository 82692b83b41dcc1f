//! SQL lives here and only here. Every function takes `&mut AnyConnection`, so services can
//! run several of them inside one transaction.

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod cancellations;
pub mod charges;
pub mod codes;
pub mod console;
pub mod event_log;
pub mod events;
pub mod ledger;
pub mod orders;
pub mod outbox;
pub mod payouts;
pub mod secrets;
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
    /// [`Read::Locked`] if no other transaction holds the row, else no row (`FOR NO KEY UPDATE
    /// SKIP LOCKED`): for a transaction that must not wait for that one.
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

/// Placeholders for `rows` rows of `fields` values each, numbered from `$first`:
/// `($1, $2), ($3, $4)` for `placeholders(2, 2, 1)`. For multi-row `VALUES` and (one field a row)
/// `IN` lists.
pub fn placeholders(rows: usize, fields: usize, first: usize) -> String {
    (0..rows)
        .map(|row| {
            let row = (0..fields)
                .map(|field| format!("${}", first + row * fields + field))
                .collect::<Vec<_>>();
            format!("({})", row.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `VALUES` rows for `count` rows of `fields` values each, from `$1`, padded to a power of
/// two like [`in_list`]; and the number of rows in it. The caller binds its rows and then
/// fills the rest with NULLs, which its statement skips (`WHERE column1 IS NOT NULL`, or a
/// join that a NULL key never matches). So one statement per power of two serves every batch
/// size, and stays prepared on the connection instead of being parsed for each batch.
pub fn values_rows(count: usize, fields: usize) -> (String, usize) {
    let size = count.next_power_of_two();
    (placeholders(size, fields, 1), size)
}

/// An `IN` list of `count` placeholders from `$first`, padded to a power of two (repeat the
/// last value to fill it), so that few different statements are prepared; and its length.
pub fn in_list(count: usize, first: usize) -> (String, usize) {
    let size = count.next_power_of_two();
    let list = (first..first + size)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ");
    (format!("({list})"), size)
}

/// The unique indexes whose refusal is an answer to give, not a fault: what each one guards.
/// Every other unique violation is a bug, and stays an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// `users_email_unique`: one account per address.
    EmailTaken,
    /// `order_tickets_one_live_per_ticket`: one live or paid order holds a ticket.
    TicketTaken,
    /// `charges_one_in_flight_per_order`: one payment under way per order.
    PaymentUnderWay,
    /// `tickets_resold_once`: a bought ticket is listed for resale once.
    ResoldOnce,
}

/// Each guard's index (its name in both databases' migrations, which PostgreSQL reports) and
/// the columns SQLite names instead when it refuses a row.
const GUARDS: [(&str, &str, Guard); 4] = [
    ("users_email_unique", "users.email", Guard::EmailTaken),
    (
        "order_tickets_one_live_per_ticket",
        "order_tickets.ticket_id",
        Guard::TicketTaken,
    ),
    (
        "charges_one_in_flight_per_order",
        "charges.order_id",
        Guard::PaymentUnderWay,
    ),
    (
        "tickets_resold_once",
        "tickets.resold_from",
        Guard::ResoldOnce,
    ),
];

/// Which guard refused the row `err` is about, if `err` is one of theirs: read from the
/// constraint's name on PostgreSQL, from the columns SQLite's message names on SQLite.
pub fn refused_by(err: &sqlx::Error) -> Option<Guard> {
    let sqlx::Error::Database(db) = err else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    let named = db.constraint();
    let columns = db
        .message()
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or_default();
    GUARDS
        .iter()
        .find(|(index, sqlite_columns, _)| {
            named == Some(*index)
                || columns == *sqlite_columns
                || columns == format!("index '{index}'")
        })
        .map(|(_, _, guard)| *guard)
}

#[cfg(test)]
mod placeholder_tests {
    use super::{in_list, placeholders, values_rows};

    #[test]
    fn placeholders_number_rows_and_fields_from_the_first() {
        assert_eq!(placeholders(2, 2, 1), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(1, 3, 5), "($5, $6, $7)");
        assert_eq!(placeholders(0, 4, 1), "");
    }

    #[test]
    fn values_rows_are_padded_to_a_power_of_two() {
        assert_eq!(values_rows(1, 2), ("($1, $2)".to_string(), 1));
        assert_eq!(values_rows(3, 1), ("($1), ($2), ($3), ($4)".to_string(), 4));
        assert_eq!(values_rows(4, 1).1, 4);
        assert_eq!(values_rows(33, 11).1, 64);
    }

    #[test]
    fn in_lists_are_padded_to_a_power_of_two() {
        assert_eq!(in_list(1, 1), ("($1)".to_string(), 1));
        assert_eq!(in_list(3, 2), ("($2, $3, $4, $5)".to_string(), 4));
        assert_eq!(in_list(4, 1).1, 4);
        assert_eq!(in_list(17, 1).1, 32);
    }
}
