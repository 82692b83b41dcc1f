//! The `orders` table.

use super::{Backend, Read, backend};
use crate::domain::{Id, Order, OrderLine, OrderStatus, Price, Timestamp};
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

impl OrderRow {
    fn into_order(self, lines: Vec<OrderLine>) -> Order {
        Order {
            id: Id::from_trusted(self.id),
            buyer_id: Id::from_trusted(self.buyer_id),
            ticket_id: Id::from_trusted(self.ticket_id),
            status: self.status,
            price: Price::from_stored(self.price_cents),
            buyer_fee_cents: self.buyer_fee_cents,
            seller_fee_cents: self.seller_fee_cents,
            expires_at: Timestamp::from_millis(self.expires_at),
            version: self.version,
            created_at: Timestamp::from_millis(self.created_at),
            lines,
        }
    }
}

#[derive(sqlx::FromRow)]
struct LineRow {
    order_id: String,
    ticket_id: String,
    price_cents: i64,
    buyer_fee_cents: i64,
    seller_fee_cents: i64,
    refunded_at: Option<i64>,
}

/// The orders of `rows` with their tickets, read in one statement per 512 orders.
async fn with_lines(
    conn: &mut AnyConnection,
    rows: Vec<OrderRow>,
) -> Result<Vec<Order>, sqlx::Error> {
    use std::collections::HashMap;
    let mut lines: HashMap<String, Vec<OrderLine>> = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(512) {
        let (list, size) = super::in_list(chunk.len(), 1);
        let sql = format!(
            "SELECT order_id, ticket_id, price_cents, buyer_fee_cents, seller_fee_cents, \
             refunded_at FROM order_tickets WHERE order_id IN {list} ORDER BY order_id, position"
        );
        let mut query = sqlx::query_as::<_, LineRow>(&sql);
        for n in 0..size {
            query = query.bind(chunk[n.min(chunk.len() - 1)].id.as_str());
        }
        for line in query.fetch_all(&mut *conn).await? {
            lines.entry(line.order_id).or_default().push(OrderLine {
                ticket_id: Id::from_trusted(line.ticket_id),
                price: Price::from_stored(line.price_cents),
                buyer_fee_cents: line.buyer_fee_cents,
                seller_fee_cents: line.seller_fee_cents,
                refunded: line.refunded_at.is_some(),
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let lines = lines.remove(&row.id).unwrap_or_default();
            row.into_order(lines)
        })
        .collect())
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
    query.execute(&mut *conn).await?;
    insert_lines(conn, orders).await
}

/// Every order's tickets (`order_tickets`), in one statement per 256 tickets.
async fn insert_lines(conn: &mut AnyConnection, orders: &[Order]) -> Result<(), sqlx::Error> {
    let lines: Vec<(&Order, usize, &OrderLine)> = orders
        .iter()
        .flat_map(|order| {
            order
                .lines
                .iter()
                .enumerate()
                .map(move |(position, line)| (order, position, line))
        })
        .collect();
    for chunk in lines.chunks(256) {
        let (values, size) = super::values_rows(chunk.len(), 7);
        let sql = format!(
            "INSERT INTO order_tickets (order_id, position, ticket_id, price_cents, buyer_fee_cents, \
             seller_fee_cents, holds) SELECT * FROM (VALUES {values}) AS new_lines WHERE column1 IS NOT NULL"
        );
        let mut query = sqlx::query(&sql);
        for (order, position, line) in chunk {
            query = query
                .bind(order.id.as_str())
                .bind(*position as i64)
                .bind(line.ticket_id.as_str())
                .bind(line.price.cents())
                .bind(line.buyer_fee_cents)
                .bind(line.seller_fee_cents)
                // The order holds each of its tickets until it ends or the ticket is refunded.
                .bind(1i64);
        }
        for _ in chunk.len()..size {
            query = query
                .bind(None::<&str>)
                .bind(None::<i64>)
                .bind(None::<&str>)
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(None::<i64>)
                .bind(None::<i64>);
        }
        query.execute(&mut *conn).await?;
    }
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

/// How many tickets of `event` the buyer holds at `now`: those in their live orders, and those
/// they hold with a valid or used code (listed for resale or not).
pub async fn tickets_held_for_event(
    conn: &mut AnyConnection,
    buyer: &Id,
    event: &Id,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM orders o JOIN order_tickets ot ON ot.order_id = o.id \
         JOIN tickets t ON t.id = ot.ticket_id WHERE o.buyer_id = $1 \
         AND o.status IN ('created', 'awaiting:payment') AND o.expires_at > $2 AND t.event_id = $3) \
         + (SELECT COUNT(*) FROM ticket_codes c JOIN tickets t ON t.id = c.seat_id \
         WHERE c.holder_id = $1 AND c.status IN ('valid', 'used') AND t.event_id = $3)",
    )
    .bind(buyer.as_str())
    .bind(now.millis())
    .bind(event.as_str())
    .fetch_one(conn)
    .await
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
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        Some(row) => Ok(with_lines(conn, vec![row]).await?.pop()),
        None => Ok(None),
    }
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
    .fetch_all(&mut *conn)
    .await?;
    with_lines(conn, rows).await
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
    .fetch_all(&mut *conn)
    .await?;
    with_lines(conn, rows).await
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
    .execute(&mut *conn)
    .await?;
    let changed = result.rows_affected() == 1;
    if changed && status == OrderStatus::Cancelled {
        let_go_of_tickets(conn, id).await?;
    }
    Ok(changed)
}

/// The order no longer holds any of its tickets (it ended).
async fn let_go_of_tickets(conn: &mut AnyConnection, id: &Id) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE order_tickets SET holds = NULL WHERE order_id = $1 AND holds = 1")
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks one ticket of a paid order refunded: the order no longer holds it. Returns whether it
/// changed (false when it was refunded already).
pub async fn refund_line(
    conn: &mut AnyConnection,
    order_id: &Id,
    ticket_id: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE order_tickets SET refunded_at = $1, holds = NULL \
         WHERE order_id = $2 AND ticket_id = $3 AND refunded_at IS NULL",
    )
    .bind(now.millis())
    .bind(order_id.as_str())
    .bind(ticket_id.as_str())
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
    .execute(&mut *conn)
    .await?;
    let changed = result.rows_affected() == 1;
    if changed {
        let_go_of_tickets(conn, id).await?;
    }
    Ok(changed)
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
    .fetch_all(&mut *conn)
    .await?;
    with_lines(conn, rows).await
}
