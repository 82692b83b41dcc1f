//! The `tickets` table and its title search index.

use super::{Backend, Read, backend};
use crate::domain::{Category, Id, Price, Ticket, TicketDraft, TicketStatus, Timestamp, Zone};
use sqlx::AnyConnection;

const COLUMNS: &str = "id, title, price_cents, face_value_cents, seller_id, order_id, version, category, venue, \
                       starts_at, time_zone, status, reserved_until, resold_from, created_at, removed_at, seller_suspended, \
                       event_id, section_id, seat";

#[derive(sqlx::FromRow)]
struct TicketRow {
    id: String,
    title: String,
    price_cents: i64,
    face_value_cents: Option<i64>,
    seller_id: String,
    order_id: Option<String>,
    version: i64,
    category: String,
    venue: Option<String>,
    starts_at: Option<i64>,
    time_zone: Option<String>,
    /// An unknown status fails the read (a corrupt row), instead of being guessed.
    #[sqlx(try_from = "String")]
    status: TicketStatus,
    reserved_until: Option<i64>,
    resold_from: Option<String>,
    created_at: i64,
    removed_at: Option<i64>,
    seller_suspended: i64,
    event_id: Option<String>,
    section_id: Option<String>,
    seat: Option<String>,
}

impl From<TicketRow> for Ticket {
    fn from(row: TicketRow) -> Ticket {
        Ticket {
            id: Id::from_trusted(row.id),
            title: row.title,
            price: Price::from_stored(row.price_cents),
            face_value: row.face_value_cents.map(Price::from_stored),
            seller_id: Id::from_trusted(row.seller_id),
            order_id: row.order_id.map(Id::from_trusted),
            version: row.version,
            category: Category::parse(Some(&row.category)).unwrap_or_default(),
            venue: row.venue,
            starts_at: row.starts_at.map(Timestamp::from_millis),
            // Every stored name came from `Zone::name`, and the database keeps old names as
            // aliases; a name it does not know shows the time in UTC, labelled so.
            time_zone: row.time_zone.and_then(|name| Zone::parse(&name).ok()),
            // Off sale whatever was last written: taken down, or unsold while its seller is
            // suspended (a sale or a live hold stands).
            status: if row.removed_at.is_some()
                || (row.seller_suspended == 1 && row.status == TicketStatus::Available)
            {
                TicketStatus::Removed
            } else {
                row.status
            },
            reserved_until: row.reserved_until.map(Timestamp::from_millis),
            resold_from: row.resold_from.map(Id::from_trusted),
            created_at: Timestamp::from_millis(row.created_at),
            event_seat: match (row.event_id, row.section_id) {
                (Some(event_id), Some(section_id)) => Some(crate::domain::ticket::EventSeat {
                    event_id: Id::from_trusted(event_id),
                    section_id: Id::from_trusted(section_id),
                    seat: row.seat,
                }),
                _ => None,
            },
        }
    }
}

pub async fn insert_ticket(
    conn: &mut AnyConnection,
    id: &Id,
    seller: &Id,
    draft: &TicketDraft,
    resold_from: Option<&Id>,
    now: Timestamp,
) -> Result<Ticket, sqlx::Error> {
    let row: TicketRow = sqlx::query_as(&format!(
        "INSERT INTO tickets (id, title, price_cents, seller_id, category, venue, starts_at, resold_from, created_at, updated_at, face_value_cents, time_zone) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {COLUMNS}"
    ))
    .bind(id.as_str())
    .bind(draft.title.as_str())
    .bind(draft.price.cents())
    .bind(seller.as_str())
    .bind(draft.category.as_str())
    .bind(draft.venue.as_deref())
    .bind(draft.starts_at.map(Timestamp::millis))
    .bind(resold_from.map(Id::as_str))
    .bind(now.millis())
    .bind(now.millis())
    .bind(draft.face_value.map(Price::cents))
    .bind(draft.time_zone.map(Zone::name))
    .fetch_one(conn)
    .await?;
    Ok(row.into())
}

/// Places a new listing at an event's seat: a resale of that seat is listed under its event.
pub async fn place_at_seat(
    conn: &mut AnyConnection,
    id: &Id,
    seat: &crate::domain::ticket::EventSeat,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE tickets SET event_id = $1, section_id = $2, seat = $3 WHERE id = $4")
        .bind(seat.event_id.as_str())
        .bind(seat.section_id.as_str())
        .bind(seat.seat.as_deref())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// The time zone of the seller's most recently written listing that has one.
pub async fn last_time_zone(
    conn: &mut AnyConnection,
    seller: &Id,
) -> Result<Option<Zone>, sqlx::Error> {
    let name: Option<String> = sqlx::query_scalar(
        "SELECT time_zone FROM tickets WHERE seller_id = $1 AND time_zone IS NOT NULL \
         ORDER BY updated_at DESC, id DESC LIMIT 1",
    )
    .bind(seller.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(name.and_then(|name| Zone::parse(&name).ok()))
}

pub async fn find_ticket(conn: &mut AnyConnection, id: &Id) -> Result<Option<Ticket>, sqlx::Error> {
    read_ticket(conn, id, Read::Plain).await
}

/// [`find_ticket`] holding the row until the transaction ends (see [`Read::Locked`]).
pub async fn lock_ticket(conn: &mut AnyConnection, id: &Id) -> Result<Option<Ticket>, sqlx::Error> {
    read_ticket(conn, id, Read::Locked).await
}

/// The tickets with these ids, each held as [`lock_ticket`] holds one, in no particular order
/// (ids without a ticket are left out). One statement however many: the IN list is padded to
/// a power of two with the last id, so few statements are prepared.
pub async fn lock_tickets(
    conn: &mut AnyConnection,
    ids: &[&Id],
) -> Result<Vec<Ticket>, sqlx::Error> {
    read_tickets(conn, ids, Read::Locked).await
}

/// The tickets with these ids, read as `read` says, in no particular order.
pub async fn read_tickets(
    conn: &mut AnyConnection,
    ids: &[&Id],
    read: Read,
) -> Result<Vec<Ticket>, sqlx::Error> {
    let Some(last) = ids.last() else {
        return Ok(Vec::new());
    };
    let clause = read.clause(conn);
    let (list, size) = super::in_list(ids.len(), 1);
    // In id order: transactions locking overlapping sets take their rows in one order, so
    // that they wait for each other instead of deadlocking (PostgreSQL).
    let sql = format!("SELECT {COLUMNS} FROM tickets WHERE id IN {list} ORDER BY id{clause}");
    let mut query = sqlx::query_as::<_, TicketRow>(&sql);
    for n in 0..size {
        query = query.bind(ids.get(n).unwrap_or(last).as_str());
    }
    let rows = query.fetch_all(conn).await?;
    Ok(rows.into_iter().map(Ticket::from).collect())
}

/// [`read_tickets`] holding them, waiting for transactions that hold them now to end; `None`
/// when waiting would deadlock (PostgreSQL found this transaction and another each waiting for
/// the other): the wait alone is undone, and the transaction goes on without these tickets.
pub async fn wait_for_tickets(
    conn: &mut AnyConnection,
    ids: &[&Id],
) -> Result<Option<Vec<Ticket>>, sqlx::Error> {
    if super::backend(conn) != super::Backend::Postgres {
        return read_tickets(conn, ids, Read::Locked).await.map(Some);
    }
    sqlx::query("SAVEPOINT wait_for_tickets")
        .execute(&mut *conn)
        .await?;
    match read_tickets(conn, ids, Read::Locked).await {
        Ok(tickets) => {
            sqlx::query("RELEASE SAVEPOINT wait_for_tickets")
                .execute(&mut *conn)
                .await?;
            Ok(Some(tickets))
        }
        Err(sqlx::Error::Database(db)) if db.code().as_deref() == Some("40P01") => {
            sqlx::query("ROLLBACK TO SAVEPOINT wait_for_tickets")
                .execute(&mut *conn)
                .await?;
            Ok(None)
        }
        Err(err) => Err(err),
    }
}

/// The tickets' places in their event's seat order: (section's position, seat's order), a
/// resale listing taking its seat's. Tickets not of an event come first, as (0, 0).
pub async fn seat_order_keys(
    conn: &mut AnyConnection,
    ids: &[&Id],
) -> Result<std::collections::HashMap<Id, (i64, i64)>, sqlx::Error> {
    let Some(last) = ids.last() else {
        return Ok(Default::default());
    };
    let (list, size) = super::in_list(ids.len(), 1);
    let sql = format!(
        "SELECT t.id, COALESCE(s.position, 0), COALESCE(t.seat_order, o.seat_order, 0) \
         FROM tickets t LEFT JOIN event_sections s ON s.id = t.section_id \
         LEFT JOIN tickets o ON o.id = t.resold_from WHERE t.id IN {list}"
    );
    let mut query = sqlx::query_as::<_, (String, i64, i64)>(&sql);
    for n in 0..size {
        query = query.bind(ids.get(n).unwrap_or(last).as_str());
    }
    let rows = query.fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(id, section, seat)| (Id::from_trusted(id), (section, seat)))
        .collect())
}

/// One ticket by id, read as `read` says.
pub async fn read_ticket(
    conn: &mut AnyConnection,
    id: &Id,
    read: Read,
) -> Result<Option<Ticket>, sqlx::Error> {
    let clause = read.clause(conn);
    let row: Option<TicketRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE id = $1{clause}"
    ))
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Ticket::from))
}

/// Rewrites the seller's fields and bumps the version, only if the version is still `version`.
/// Returns the updated ticket, or `None` when someone else changed it first.
pub async fn update_ticket_fields(
    conn: &mut AnyConnection,
    id: &Id,
    version: i64,
    draft: &TicketDraft,
    now: Timestamp,
) -> Result<Option<Ticket>, sqlx::Error> {
    let row: Option<TicketRow> = sqlx::query_as(&format!(
        "UPDATE tickets SET title = $1, price_cents = $2, category = $3, venue = $4, starts_at = $5, \
         version = version + 1, updated_at = $6, face_value_cents = $9, time_zone = $10 \
         WHERE id = $7 AND version = $8 RETURNING {COLUMNS}"
    ))
    .bind(draft.title.as_str())
    .bind(draft.price.cents())
    .bind(draft.category.as_str())
    .bind(draft.venue.as_deref())
    .bind(draft.starts_at.map(Timestamp::millis))
    .bind(now.millis())
    .bind(id.as_str())
    .bind(version)
    .bind(draft.face_value.map(Price::cents))
    .bind(draft.time_zone.map(Zone::name))
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Ticket::from))
}

/// How the browse page orders listings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sort {
    /// Soonest event first; listings without a date last.
    Date,
    /// Cheapest first.
    Price,
    /// Most recently listed first.
    #[default]
    New,
}

/// A page of the browse query.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct BrowseFilter {
    /// Words every title must contain (each also as a prefix), from [`search_terms`].
    pub search: Option<Vec<String>>,
    pub category: Option<Category>,
    pub sort: Sort,
    pub scope: Scope,
    pub limit: i64,
    pub offset: i64,
}

/// Which listings a browse reads, of those that are not an event's own unsold seats.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// Other listings and resale listings of every event (`GET /api/tickets`).
    #[default]
    All,
    /// Only other listings, for events not on this site (the `/tickets` page).
    OtherListings,
    /// The resale listings of one event (`GET /api/tickets?eventId=`).
    ResaleOf(Id),
}

/// What a buyer could reserve at `$1` (the time now): not sold, not held, event not over, not
/// taken down, seller not suspended. The browse page and the operator's dashboard count the
/// same listings by it.
pub(super) const ON_SALE: &str = "status <> 'sold' AND (status = 'available' OR reserved_until <= $1) \
     AND (starts_at IS NULL OR starts_at >= $1) AND removed_at IS NULL AND seller_suspended = 0";

/// Listings other than an event's own seats: other listings, and resale listings of any kind.
/// An event's unsold seats are sold from its page, never listed one by one.
pub(super) const NOT_PRIMARY_SEAT: &str = "(event_id IS NULL OR resold_from IS NOT NULL)";

/// The `FROM … WHERE …` of the browse query for `filter`, with `$1` the time now and the
/// category and search, when given, as `$2` and on; returns it with the next free placeholder.
fn browse_conditions(backend: Backend, filter: &BrowseFilter) -> (String, usize) {
    let mut sql = format!(" FROM tickets WHERE {ON_SALE} AND {NOT_PRIMARY_SEAT}");
    let mut next = 2;
    match filter.scope {
        Scope::All => {}
        Scope::OtherListings => sql.push_str(" AND event_id IS NULL"),
        Scope::ResaleOf(_) => {
            sql.push_str(&format!(" AND event_id = ${next}"));
            next += 1;
        }
    }
    if filter.category.is_some() {
        sql.push_str(&format!(" AND category = ${next}"));
        next += 1;
    }
    if filter.search.is_some() {
        sql.push_str(&match backend {
            Backend::Sqlite => format!(
                " AND rowid IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ${next})"
            ),
            Backend::Postgres => format!(" AND search @@ to_tsquery('simple', ${next})"),
        });
        next += 1;
    }
    (sql, next)
}

/// The search words as the backend's full-text query: FTS5's `"word"* "word"*`, or
/// PostgreSQL's `word:* & word:*`.
pub(super) fn search_query(backend: Backend, terms: &[String]) -> String {
    match backend {
        Backend::Sqlite => terms
            .iter()
            .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" "),
        // Terms are letters and digits only (see `search_terms`), so nothing needs quoting.
        Backend::Postgres => terms
            .iter()
            .map(|word| format!("{word}:*"))
            .collect::<Vec<_>>()
            .join(" & "),
    }
}

/// Binds the browse query's values in the order [`browse_conditions`] numbered them.
fn bind_browse<'q, O>(
    query: sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>,
    backend: Backend,
    filter: &'q BrowseFilter,
    now: Timestamp,
) -> sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>> {
    let mut query = query.bind(now.millis());
    if let Scope::ResaleOf(event) = &filter.scope {
        query = query.bind(event.as_str());
    }
    if let Some(category) = filter.category {
        query = query.bind(category.as_str());
    }
    if let Some(terms) = &filter.search {
        query = query.bind(search_query(backend, terms));
    }
    query
}

/// Listings a buyer can reserve at `now` (not sold, not held, event not over), filtered,
/// ordered and paged.
pub async fn list_available_tickets(
    conn: &mut AnyConnection,
    filter: &BrowseFilter,
    now: Timestamp,
) -> Result<Vec<Ticket>, sqlx::Error> {
    let backend = backend(conn);
    let (conditions, next) = browse_conditions(backend, filter);
    let order = match filter.sort {
        Sort::Date => "starts_at IS NULL, starts_at, created_at DESC, id",
        Sort::Price => "price_cents, created_at DESC, id",
        Sort::New => "created_at DESC, id DESC",
    };
    let sql = format!(
        "SELECT {COLUMNS}{conditions} ORDER BY {order} LIMIT ${next} OFFSET ${}",
        next + 1
    );
    let rows: Vec<TicketRow> = bind_browse(sqlx::query_as(&sql), backend, filter, now)
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(conn)
        .await?;
    Ok(rows.into_iter().map(Ticket::from).collect())
}

/// How many listings [`list_available_tickets`] would page through, counting no further than
/// `cap` (so the cost of a count is bounded however many tickets are on sale).
pub async fn count_available_tickets(
    conn: &mut AnyConnection,
    filter: &BrowseFilter,
    now: Timestamp,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    let backend = backend(conn);
    let (conditions, next) = browse_conditions(backend, filter);
    let sql = format!("SELECT COUNT(*) FROM (SELECT 1{conditions} LIMIT ${next}) AS capped");
    let (count,): (i64,) = bind_browse(sqlx::query_as(&sql), backend, filter, now)
        .bind(cap)
        .fetch_one(conn)
        .await?;
    Ok(count)
}

/// The words typed into the search box that titles must contain: letters and digits only,
/// so operators and quotes typed by the user are plain text (`tay swi` finds "Taylor Swift",
/// each word also matching as a prefix). `None` when there is nothing to search for.
pub fn search_terms(input: &str) -> Option<Vec<String>> {
    let terms: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(8)
        .map(str::to_string)
        .collect();
    (!terms.is_empty()).then_some(terms)
}

/// All tickets a user sells or sold, newest first.
pub async fn list_tickets_by_seller(
    conn: &mut AnyConnection,
    seller: &Id,
) -> Result<Vec<Ticket>, sqlx::Error> {
    let rows: Vec<TicketRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE seller_id = $1 AND {NOT_PRIMARY_SEAT} \
         ORDER BY created_at DESC"
    ))
    .bind(seller.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Ticket::from).collect())
}

/// Marks a ticket held by `order_id` until `until`, only if it is not held or sold at `now`.
/// Returns the ticket as it now stands, or `None` if the row was not taken.
pub async fn reserve_ticket_row(
    conn: &mut AnyConnection,
    ticket_id: &Id,
    order_id: &Id,
    until: Timestamp,
    now: Timestamp,
) -> Result<Option<Ticket>, sqlx::Error> {
    let hold = Hold {
        ticket_id,
        order_id,
        until,
        now,
    };
    Ok(reserve_ticket_rows(conn, &[hold]).await?.pop())
}

/// A ticket to mark held: by which order, until when, decided at `now`.
pub struct Hold<'a> {
    pub ticket_id: &'a Id,
    pub order_id: &'a Id,
    pub until: Timestamp,
    pub now: Timestamp,
}

/// [`reserve_ticket_row`] for several tickets (each at most once) in one statement: each row
/// is taken only if it is not held or sold at its hold's `now`. Returns the tickets taken, as
/// they now stand, in no particular order.
pub async fn reserve_ticket_rows(
    conn: &mut AnyConnection,
    holds: &[Hold<'_>],
) -> Result<Vec<Ticket>, sqlx::Error> {
    if holds.is_empty() {
        return Ok(Vec::new());
    }
    // Padded with NULL rows, which match no ticket.
    let (values, size) = super::values_rows(holds.len(), 4);
    let sql = format!(
        "WITH held (held_ticket, held_order, held_until, held_now) AS (VALUES {values}) \
         UPDATE tickets SET status = 'reserved', order_id = held_order, reserved_until = held_until, \
         version = version + 1, updated_at = held_now FROM held \
         WHERE id = held_ticket AND (status = 'available' OR (status = 'reserved' AND reserved_until <= held_now)) \
         AND removed_at IS NULL AND seller_suspended = 0 RETURNING {COLUMNS}"
    );
    let mut query = sqlx::query_as::<_, TicketRow>(&sql);
    for hold in holds {
        query = query
            .bind(hold.ticket_id.as_str())
            .bind(hold.order_id.as_str())
            .bind(hold.until.millis())
            .bind(hold.now.millis());
    }
    for _ in holds.len()..size {
        query = query
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(None::<i64>)
            .bind(None::<i64>);
    }
    let rows = query.fetch_all(conn).await?;
    Ok(rows.into_iter().map(Ticket::from).collect())
}

/// Frees a ticket held by `order_id` (cancelled or expired order). Does nothing when another
/// order holds it or it was sold. Returns whether the row was freed.
pub async fn release_ticket_row(
    conn: &mut AnyConnection,
    ticket_id: &Id,
    order_id: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tickets SET status = 'available', order_id = NULL, reserved_until = NULL, version = version + 1, \
         updated_at = $1 WHERE id = $2 AND order_id = $3 AND status = 'reserved'",
    )
    .bind(now.millis())
    .bind(ticket_id.as_str())
    .bind(order_id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// [`release_ticket_row`] for every ticket of an order. Returns how many rows were freed.
pub async fn release_ticket_rows(
    conn: &mut AnyConnection,
    ticket_ids: &[&Id],
    order_id: &Id,
    now: Timestamp,
) -> Result<u64, sqlx::Error> {
    let Some(last) = ticket_ids.last() else {
        return Ok(0);
    };
    let (list, size) = super::in_list(ticket_ids.len(), 3);
    let sql = format!(
        "UPDATE tickets SET status = 'available', order_id = NULL, reserved_until = NULL, \
         version = version + 1, updated_at = $1 WHERE order_id = $2 AND status = 'reserved' \
         AND id IN {list}"
    );
    let mut query = sqlx::query(&sql).bind(now.millis()).bind(order_id.as_str());
    for n in 0..size {
        query = query.bind(ticket_ids.get(n).unwrap_or(last).as_str());
    }
    Ok(query.execute(conn).await?.rows_affected())
}

/// Hands a held ticket to the buyer of `order_id`: sold, owned by `buyer` (the entry code is
/// issued in `ticket_codes`). Returns whether the row was still held by that order.
pub async fn mark_ticket_sold(
    conn: &mut AnyConnection,
    ticket_id: &Id,
    order_id: &Id,
    buyer: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tickets SET status = 'sold', owner_id = $1, reserved_until = NULL, \
         version = version + 1, updated_at = $2 WHERE id = $3 AND order_id = $4 AND status = 'reserved'",
    )
    .bind(buyer.as_str())
    .bind(now.millis())
    .bind(ticket_id.as_str())
    .bind(order_id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The resale listing made from `ticket`, if any.
pub async fn resale_of(conn: &mut AnyConnection, ticket: &Id) -> Result<Option<Id>, sqlx::Error> {
    let resale: Option<String> =
        sqlx::query_scalar("SELECT id FROM tickets WHERE resold_from = $1")
            .bind(ticket.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(resale.map(Id::from_trusted))
}

/// Who owns a sold ticket, if anyone.
pub async fn find_owner(
    conn: &mut AnyConnection,
    ticket_id: &Id,
) -> Result<Option<Id>, sqlx::Error> {
    let owner: Option<Option<String>> =
        sqlx::query_scalar("SELECT owner_id FROM tickets WHERE id = $1")
            .bind(ticket_id.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(owner.flatten().map(Id::from_trusted))
}

/// Gives a ticket sold by `order_id` back to its seller, on sale again at its current price:
/// the buyer no longer owns it and its code no longer admits. Returns whether it changed.
pub async fn return_to_seller(
    conn: &mut AnyConnection,
    ticket_id: &Id,
    order_id: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tickets SET status = 'available', order_id = NULL, owner_id = NULL, \
         reserved_until = NULL, version = version + 1, updated_at = $1 \
         WHERE id = $2 AND order_id = $3 AND status = 'sold'",
    )
    .bind(now.millis())
    .bind(ticket_id.as_str())
    .bind(order_id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether the ticket's buyer has put it up for resale (a listing made from it exists).
pub async fn has_resale(conn: &mut AnyConnection, ticket_id: &Id) -> Result<bool, sqlx::Error> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets WHERE resold_from = $1 AND removed_at IS NULL",
    )
    .bind(ticket_id.as_str())
    .fetch_one(conn)
    .await?;
    Ok(count > 0)
}

/// Gives a sold ticket to `owner` (a transfer); its entry code moves in `ticket_codes`.
pub async fn set_owner(
    conn: &mut AnyConnection,
    ticket_id: &Id,
    owner: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tickets SET owner_id = $1, version = version + 1, updated_at = $2 \
         WHERE id = $3 AND status = 'sold'",
    )
    .bind(owner.as_str())
    .bind(now.millis())
    .bind(ticket_id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Takes a listing off sale for good; refused (false) when it is sold or already taken down.
pub async fn take_down(
    conn: &mut AnyConnection,
    ticket_id: &Id,
    reason: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tickets SET removed_at = $1, removed_reason = $2, version = version + 1, \
         updated_at = $1 WHERE id = $3 AND removed_at IS NULL AND status <> 'sold'",
    )
    .bind(now.millis())
    .bind(reason)
    .bind(ticket_id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Why a listing was taken down, if it was.
pub async fn removed_reason(
    conn: &mut AnyConnection,
    ticket_id: &Id,
) -> Result<Option<String>, sqlx::Error> {
    let reason: Option<Option<String>> =
        sqlx::query_scalar("SELECT removed_reason FROM tickets WHERE id = $1")
            .bind(ticket_id.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(reason.flatten())
}

/// Takes a seller's listings off sale while they are suspended, or puts them back. Returns
/// the listings whose visibility changed.
pub async fn set_seller_suspended(
    conn: &mut AnyConnection,
    seller: &Id,
    suspended: bool,
    now: Timestamp,
) -> Result<Vec<Id>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "UPDATE tickets SET seller_suspended = $1, version = version + 1, updated_at = $2 \
         WHERE seller_id = $3 AND seller_suspended <> $1 RETURNING id",
    )
    .bind(i64::from(suspended))
    .bind(now.millis())
    .bind(seller.as_str())
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(Id::from_trusted).collect())
}

/// Listings for the operator's console, newest first: all of them, or those whose title has
/// the search words or whose id is the search.
pub async fn list_for_console(
    conn: &mut AnyConnection,
    search: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Ticket>, sqlx::Error> {
    let backend = backend(conn);
    let Some(terms) = search_terms(search) else {
        let rows: Vec<TicketRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM tickets ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
        ))
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await?;
        return Ok(rows.into_iter().map(Ticket::from).collect());
    };
    let matches = match backend {
        Backend::Sqlite => "rowid IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH $1)",
        Backend::Postgres => "search @@ to_tsquery('simple', $1)",
    };
    let rows: Vec<TicketRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE id = $2 OR {matches} \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(search_query(backend, &terms))
    .bind(search.trim())
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Ticket::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_become_prefix_terms_of_either_backend() {
        let terms = |input| search_terms(input).map(|t| search_query(Backend::Sqlite, &t));
        assert_eq!(terms("Taylor swi").as_deref(), Some("\"Taylor\"* \"swi\"*"));
        assert_eq!(
            terms("  AC/DC \"live\" OR NEAR(x) ").as_deref(),
            Some("\"AC\"* \"DC\"* \"live\"* \"OR\"* \"NEAR\"* \"x\"*")
        );
        assert_eq!(search_terms("   "), None);
        assert_eq!(search_terms("***"), None);
        let words = search_terms("AC/DC l'été").unwrap();
        assert_eq!(
            search_query(Backend::Postgres, &words),
            "AC:* & DC:* & l:* & été:*"
        );
    }
}
