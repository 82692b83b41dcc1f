//! The `tickets` table and its title search index.

use crate::domain::{Category, Id, Price, Ticket, TicketDraft, TicketStatus, Timestamp};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

const COLUMNS: &str = "id, title, price_cents, seller_id, order_id, version, category, venue, starts_at, status, \
                       reserved_until, resold_from, created_at";

#[derive(sqlx::FromRow)]
struct TicketRow {
    id: String,
    title: String,
    price_cents: i64,
    seller_id: String,
    order_id: Option<String>,
    version: i64,
    category: String,
    venue: Option<String>,
    starts_at: Option<i64>,
    /// An unknown status fails the read (a corrupt row), instead of being guessed.
    #[sqlx(try_from = "String")]
    status: TicketStatus,
    reserved_until: Option<i64>,
    resold_from: Option<String>,
    created_at: i64,
}

impl From<TicketRow> for Ticket {
    fn from(row: TicketRow) -> Ticket {
        Ticket {
            id: Id::from_trusted(row.id),
            title: row.title,
            price: Price::from_stored(row.price_cents),
            seller_id: Id::from_trusted(row.seller_id),
            order_id: row.order_id.map(Id::from_trusted),
            version: row.version,
            category: Category::parse(Some(&row.category)).unwrap_or_default(),
            venue: row.venue,
            starts_at: row.starts_at.map(Timestamp::from_millis),
            status: row.status,
            reserved_until: row.reserved_until.map(Timestamp::from_millis),
            resold_from: row.resold_from.map(Id::from_trusted),
            created_at: Timestamp::from_millis(row.created_at),
        }
    }
}

pub async fn insert_ticket(
    conn: &mut SqliteConnection,
    id: &Id,
    seller: &Id,
    draft: &TicketDraft,
    resold_from: Option<&Id>,
    now: Timestamp,
) -> Result<Ticket, sqlx::Error> {
    let row: TicketRow = sqlx::query_as(&format!(
        "INSERT INTO tickets (id, title, price_cents, seller_id, category, venue, starts_at, resold_from, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
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
    .fetch_one(conn)
    .await?;
    Ok(row.into())
}

pub async fn find_ticket(
    conn: &mut SqliteConnection,
    id: &Id,
) -> Result<Option<Ticket>, sqlx::Error> {
    let row: Option<TicketRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM tickets WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(row.map(Ticket::from))
}

/// Rewrites the seller's fields and bumps the version, only if the version is still `version`.
/// Returns the updated ticket, or `None` when someone else changed it first.
pub async fn update_ticket_fields(
    conn: &mut SqliteConnection,
    id: &Id,
    version: i64,
    draft: &TicketDraft,
    now: Timestamp,
) -> Result<Option<Ticket>, sqlx::Error> {
    let row: Option<TicketRow> = sqlx::query_as(&format!(
        "UPDATE tickets SET title = ?, price_cents = ?, category = ?, venue = ?, starts_at = ?, \
         version = version + 1, updated_at = ? WHERE id = ? AND version = ? RETURNING {COLUMNS}"
    ))
    .bind(draft.title.as_str())
    .bind(draft.price.cents())
    .bind(draft.category.as_str())
    .bind(draft.venue.as_deref())
    .bind(draft.starts_at.map(Timestamp::millis))
    .bind(now.millis())
    .bind(id.as_str())
    .bind(version)
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
    /// An FTS5 query built by [`fts_query`], or `None` for no title filter.
    pub search: Option<String>,
    pub category: Option<Category>,
    pub sort: Sort,
    pub limit: i64,
    pub offset: i64,
}

fn push_browse_conditions<'a>(
    query: &mut QueryBuilder<'a, Sqlite>,
    filter: &'a BrowseFilter,
    now: Timestamp,
) {
    query.push(" WHERE status <> 'sold' AND (status = 'available' OR reserved_until <= ");
    query.push_bind(now.millis());
    query.push(") AND (starts_at IS NULL OR starts_at >= ");
    query.push_bind(now.millis());
    query.push(")");
    if let Some(category) = filter.category {
        query.push(" AND category = ");
        query.push_bind(category.as_str());
    }
    if let Some(search) = &filter.search {
        query.push(" AND rowid IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ");
        query.push_bind(search.as_str());
        query.push(")");
    }
}

/// Listings a buyer can reserve at `now` (not sold, not held, event not over), filtered,
/// ordered and paged.
pub async fn list_available_tickets(
    conn: &mut SqliteConnection,
    filter: &BrowseFilter,
    now: Timestamp,
) -> Result<Vec<Ticket>, sqlx::Error> {
    let mut query = QueryBuilder::new(format!("SELECT {COLUMNS} FROM tickets"));
    push_browse_conditions(&mut query, filter, now);
    query.push(match filter.sort {
        Sort::Date => " ORDER BY starts_at IS NULL, starts_at, created_at DESC, id",
        Sort::Price => " ORDER BY price_cents, created_at DESC, id",
        Sort::New => " ORDER BY created_at DESC, id DESC",
    });
    query.push(" LIMIT ");
    query.push_bind(filter.limit);
    query.push(" OFFSET ");
    query.push_bind(filter.offset);
    let rows: Vec<TicketRow> = query.build_query_as().fetch_all(conn).await?;
    Ok(rows.into_iter().map(Ticket::from).collect())
}

/// How many listings [`list_available_tickets`] would page through, counting no further than
/// `cap` (so the cost of a count is bounded however many tickets are on sale).
pub async fn count_available_tickets(
    conn: &mut SqliteConnection,
    filter: &BrowseFilter,
    now: Timestamp,
    cap: i64,
) -> Result<i64, sqlx::Error> {
    let mut query = QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM tickets");
    push_browse_conditions(&mut query, filter, now);
    query.push(" LIMIT ");
    query.push_bind(cap);
    query.push(")");
    query.build_query_scalar().fetch_one(conn).await
}

/// Turns words typed into the search box into an FTS5 query that matches titles containing
/// every word (each also as a prefix: `tay swi` finds "Taylor Swift"). Operators and quotes
/// typed by the user are treated as plain text. `None` when there is nothing to search for.
pub fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(8)
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// All tickets a user sells or sold, newest first.
pub async fn list_tickets_by_seller(
    conn: &mut SqliteConnection,
    seller: &Id,
) -> Result<Vec<Ticket>, sqlx::Error> {
    let rows: Vec<TicketRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM tickets WHERE seller_id = ? ORDER BY created_at DESC"
    ))
    .bind(seller.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Ticket::from).collect())
}

/// Marks a ticket held by `order_id` until `until`, only if it is not held or sold at `now`.
/// Returns whether the row was taken.
pub async fn reserve_ticket_row(
    conn: &mut SqliteConnection,
    ticket_id: &Id,
    order_id: &Id,
    until: Timestamp,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tickets SET status = 'reserved', order_id = ?, reserved_until = ?, version = version + 1, updated_at = ? \
         WHERE id = ? AND (status = 'available' OR (status = 'reserved' AND reserved_until <= ?))",
    )
    .bind(order_id.as_str())
    .bind(until.millis())
    .bind(now.millis())
    .bind(ticket_id.as_str())
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Frees a ticket held by `order_id` (cancelled or expired order). Does nothing when another
/// order holds it or it was sold. Returns whether the row was freed.
pub async fn release_ticket_row(
    conn: &mut SqliteConnection,
    ticket_id: &Id,
    order_id: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tickets SET status = 'available', order_id = NULL, reserved_until = NULL, version = version + 1, \
         updated_at = ? WHERE id = ? AND order_id = ? AND status = 'reserved'",
    )
    .bind(now.millis())
    .bind(ticket_id.as_str())
    .bind(order_id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Hands a held ticket to the buyer of `order_id`: sold, owned by `buyer`, with its entry code.
/// Returns whether the row was still held by that order.
pub async fn mark_ticket_sold(
    conn: &mut SqliteConnection,
    ticket_id: &Id,
    order_id: &Id,
    buyer: &Id,
    code: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE tickets SET status = 'sold', owner_id = ?, ticket_code = ?, reserved_until = NULL, \
         version = version + 1, updated_at = ? WHERE id = ? AND order_id = ? AND status = 'reserved'",
    )
    .bind(buyer.as_str())
    .bind(code)
    .bind(now.millis())
    .bind(ticket_id.as_str())
    .bind(order_id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A ticket someone bought, with the code that gets them in and its resale listing, if any.
pub struct OwnedTicket {
    pub ticket: Ticket,
    pub code: String,
    pub resale_id: Option<Id>,
}

/// Tickets `owner` bought, most recent first.
pub async fn list_tickets_owned_by(
    conn: &mut SqliteConnection,
    owner: &Id,
) -> Result<Vec<OwnedTicket>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        ticket: TicketRow,
        ticket_code: Option<String>,
        resale_id: Option<String>,
    }
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("t.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {columns}, t.ticket_code, r.id AS resale_id FROM tickets t \
         LEFT JOIN tickets r ON r.resold_from = t.id \
         WHERE t.owner_id = ? AND t.status = 'sold' ORDER BY t.updated_at DESC"
    ))
    .bind(owner.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| OwnedTicket {
            ticket: row.ticket.into(),
            code: row.ticket_code.unwrap_or_default(),
            resale_id: row.resale_id.map(Id::from_trusted),
        })
        .collect())
}

/// Who owns a sold ticket, if anyone.
pub async fn find_owner(
    conn: &mut SqliteConnection,
    ticket_id: &Id,
) -> Result<Option<Id>, sqlx::Error> {
    let owner: Option<Option<String>> =
        sqlx::query_scalar("SELECT owner_id FROM tickets WHERE id = ?")
            .bind(ticket_id.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(owner.flatten().map(Id::from_trusted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_words_become_quoted_prefix_terms() {
        assert_eq!(
            fts_query("Taylor swi").as_deref(),
            Some("\"Taylor\"* \"swi\"*")
        );
        assert_eq!(
            fts_query("  AC/DC \"live\" OR NEAR(x) ").as_deref(),
            Some("\"AC\"* \"DC\"* \"live\"* \"OR\"* \"NEAR\"* \"x\"*")
        );
        assert_eq!(fts_query("   "), None);
        assert_eq!(fts_query("***"), None);
    }
}
