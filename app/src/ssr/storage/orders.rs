//! The `orders` table.

use super::{Backend, Read, backend};
use crate::domain::{Id, Order, OrderStatus, Price, Timestamp};
use sqlx::AnyConnection;

const COLUMNS: &str = "id, buyer_id, ticket_id, status, price_cents, buyer_fee_cents, seller_fee_cents, expires_at, version, created_at";

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: String,
    buyer_id: String,
    ticket_id: String,
    /// An unknown status fails the read (a corrupt row), instead of being guessed.
    #[sqlx(try_from = "String")]
    status: OrderStatus,
    price_cents: i64,
    buyer_fee_cents: i64,
    seller_fee_cents: i64,
    expires_at: i64,
    version: i64,
    created_at: i64,
}

impl From<OrderRow> for Order {
    fn from(row: OrderRow) -> Order {
        Order {
            id: Id::from_trusted(row.id),
            buyer_id: Id::from_trusted(row.buyer_id),
            ticket_id: Id::from_trusted(row.ticket_id),
            status: row.status,
            price: Price::from_stored(row.price_cents),
            buyer_fee_cents: row.buyer_fee_cents,
            seller_fee_cents: row.seller_fee_cents,
            expires_at: Timestamp::from_millis(row.expires_at),
            version: row.version,
            created_at: Timestamp::from_millis(row.created_at),
        }
    }
}

/// Inserts every order in one statement: all of them, or none when any is refused (a second
/// live or completed order for a ticket is a unique violation: the database's own guard
/// against double booking).
pub async fn insert_orders(conn: &mut AnyConnection, orders: &[Order]) -> Result<(), sqlx::Error> {
    if orders.is_empty() {
        return Ok(());
    }
    // Padded with NULL rows, which the `WHERE` leaves out.
    let (values, size) = super::values_rows(orders.len(), 11);
    let sql = format!(
        "INSERT INTO orders (id, buyer_id, ticket_id, status, price_cents, expires_at, version, created_at, updated_at, \
         buyer_fee_cents, seller_fee_cents) SELECT * FROM (VALUES {values}) AS new_orders WHERE column1 IS NOT NULL"
    );
    let mut query = sqlx::query(&sql);
    for order in orders {
        query = query
            .bind(order.id.as_str())
            .bind(order.buyer_id.as_str())
            .bind(order.ticket_id.as_str())
            .bind(order.status.as_str())
            .bind(order.price.cents())
            .bind(order.expires_at.millis())
            .bind(order.version)
            .bind(order.created_at.millis())
            .bind(order.created_at.millis())
            .bind(order.buyer_fee_cents)
            .bind(order.seller_fee_cents);
    }
    for _ in orders.len()..size {
        query = query
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(None::<&str>)
            .bind(None::<&str>);
        for _ in 0..7 {
            query = query.bind(None::<i64>);
        }
    }
    query.execute(conn).await?;
    Ok(())
}

/// When each live order of these buyers that holds a ticket after `now` lapses, by buyer: the
/// figures a hoarding limit counts at `now` or later.
pub async fn live_order_expiries(
    conn: &mut AnyConnection,
    buyers: &[&Id],
    now: Timestamp,
) -> Result<Vec<(Id, Timestamp)>, sqlx::Error> {
    let Some(last) = buyers.last() else {
        return Ok(Vec::new());
    };
    let (list, size) = super::in_list(buyers.len(), 2);
    let sql = format!(
        "SELECT buyer_id, expires_at FROM orders WHERE buyer_id IN {list} \
         AND status IN ('created', 'awaiting:payment') AND expires_at > $1"
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&sql).bind(now.millis());
    for n in 0..size {
        query = query.bind(buyers.get(n).unwrap_or(last).as_str());
    }
    let rows = query.fetch_all(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(buyer, expires_at)| (Id::from_trusted(buyer), Timestamp::from_millis(expires_at)))
        .collect())
}

pub async fn find_order(conn: &mut AnyConnection, id: &Id) -> Result<Option<Order>, sqlx::Error> {
    read_order(conn, id, Read::Plain).await
}

/// [`find_order`] holding the row until the transaction ends (see [`Read::Locked`]).
pub async fn lock_order(conn: &mut AnyConnection, id: &Id) -> Result<Option<Order>, sqlx::Error> {
    read_order(conn, id, Read::Locked).await
}

/// One order by id, read as `read` says.
pub async fn read_order(
    conn: &mut AnyConnection,
    id: &Id,
    read: Read,
) -> Result<Option<Order>, sqlx::Error> {
    let clause = read.clause(conn);
    let row: Option<OrderRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE id = $1{clause}"
    ))
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Order::from))
}

/// A buyer's orders, newest first.
pub async fn list_orders_by_buyer(
    conn: &mut AnyConnection,
    buyer: &Id,
) -> Result<Vec<Order>, sqlx::Error> {
    let rows: Vec<OrderRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE buyer_id = $1 ORDER BY created_at DESC, id DESC"
    ))
    .bind(buyer.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Order::from).collect())
}

/// Live orders whose window is over at `now`, oldest first. With `claim` (the sweep, inside its
/// write transaction) the rows are locked on PostgreSQL and those another node's sweep holds
/// are skipped, so each lapsed order is expired by one sweep while the others move on.
pub async fn list_lapsed_orders(
    conn: &mut AnyConnection,
    now: Timestamp,
    limit: i64,
    claim: bool,
) -> Result<Vec<Order>, sqlx::Error> {
    let lock = match backend(conn) {
        Backend::Postgres if claim => " FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let rows: Vec<OrderRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE status IN ('created', 'awaiting:payment') AND expires_at <= $1 \
         ORDER BY expires_at LIMIT $2{lock}"
    ))
    .bind(now.millis())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Order::from).collect())
}

/// Moves a live order to `status`, only if it is still live. Returns whether it changed.
pub async fn update_live_order_status(
    conn: &mut AnyConnection,
    id: &Id,
    status: OrderStatus,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE orders SET status = $1, version = version + 1, updated_at = $2 \
         WHERE id = $3 AND status IN ('created', 'awaiting:payment')",
    )
    .bind(status.as_str())
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Ends a completed order whose payment was refunded. Returns whether it changed.
pub async fn cancel_completed_order(
    conn: &mut AnyConnection,
    id: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE orders SET status = 'cancelled', version = version + 1, updated_at = $1 \
         WHERE id = $2 AND status = 'complete'",
    )
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Orders for the operator's console, newest first: all, or those whose id, ticket id or
/// buyer's address is the search.
pub async fn list_for_console(
    conn: &mut AnyConnection,
    search: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Order>, sqlx::Error> {
    let search = search.trim();
    let rows: Vec<OrderRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM orders WHERE $1 = '' OR id = $1 OR ticket_id = $1 \
         OR buyer_id IN (SELECT id FROM users WHERE email = $2) \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(search)
    .bind(search.to_lowercase())
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Order::from).collect())
}
