//! Orders: reserve a ticket for the reservation window, cancel, show, list, and expire.
//!
//! Every change runs in one `BEGIN IMMEDIATE` transaction on the single write connection, so a
//! seller's edit and a buyer's reservation of the same ticket are serialized by SQLite. Inside
//! it the domain decides, a conditional update takes the ticket row, and the partial unique
//! index on `orders` refuses a second live order whatever the code above it did.

use crate::domain::order::{
    TICKET_RESERVED, TOO_MANY_RESERVATIONS, check_reservation, may_hold_another,
};
use crate::domain::{Id, Order, OrderStatus, Price, Ticket, Timestamp};
use crate::error::AppError;
use crate::ssr::clock::{self, SharedClock};
use crate::ssr::db::Db;
use crate::ssr::storage::events::insert_event;
use crate::ssr::storage::{self, orders, tickets};
use serde_json::json;
use sqlx::SqliteConnection;

/// How many lapsed orders one sweep cancels per transaction (keeps the write lock short).
const SWEEP_BATCH: i64 = 200;

/// An order with the ticket it is for.
#[derive(Debug, Clone)]
pub struct OrderWithTicket {
    pub order: Order,
    pub ticket: Ticket,
}

fn order_payload(order: &Order) -> serde_json::Value {
    json!({
        "id": order.id,
        "userId": order.buyer_id,
        "ticketId": order.ticket_id,
        "status": order.status.as_str(),
        "priceCents": order.price.cents(),
        "expiresAt": order.expires_at.to_rfc3339(),
        "version": order.version,
    })
}

/// Reserves `ticket_id` for `buyer` for `window_ms`. `seen_price` is the price the buyer was
/// shown: if the seller changed it meanwhile, nothing is reserved (409). A buyer already holding
/// `max_live` live reservations (0: no limit) is refused, so one account cannot hoard the
/// inventory; the count is taken inside the write transaction, so racing requests cannot slip
/// past it.
pub async fn reserve_ticket(
    db: &Db,
    buyer: &Id,
    ticket_id: &Id,
    seen_price: Option<Price>,
    window_ms: i64,
    max_live: u32,
    now: Timestamp,
) -> Result<OrderWithTicket, AppError> {
    let mut tx = db.begin_write().await?;
    let ticket = tickets::find_ticket(&mut tx, ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    check_reservation(&ticket, buyer, seen_price, now)?;
    if max_live > 0 {
        let live = orders::count_live_orders_by_buyer(&mut tx, buyer, now).await?;
        if !may_hold_another(live, max_live) {
            return Err(AppError::invalid(TOO_MANY_RESERVATIONS));
        }
    }
    expire_lapsed_hold(&mut tx, &ticket, now).await?;

    let order = Order::reserve(clock::new_id(), &ticket, buyer, now, window_ms);
    // The domain said yes; the database has the last word. Either guard refusing means another
    // buyer got there first.
    if !tickets::reserve_ticket_row(&mut tx, &ticket.id, &order.id, order.expires_at, now).await? {
        return Err(AppError::invalid(TICKET_RESERVED));
    }
    match orders::insert_order(&mut tx, &order).await {
        Err(err) if storage::is_unique_violation(&err) => {
            return Err(AppError::invalid(TICKET_RESERVED));
        }
        other => other?,
    }
    insert_event(
        &mut tx,
        "OrderCreated",
        &order.id,
        order_payload(&order),
        now,
    )
    .await?;
    let ticket = tickets::find_ticket(&mut tx, &ticket.id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(OrderWithTicket { order, ticket })
}

/// If `ticket` is held by an order whose window is over, cancels that order as expired and
/// frees the ticket, inside the caller's transaction. Writers call this before deciding, so
/// correctness never waits for the sweeper.
/// Returns whether it expired one.
pub async fn expire_lapsed_hold(
    conn: &mut SqliteConnection,
    ticket: &Ticket,
    now: Timestamp,
) -> Result<bool, AppError> {
    let Some(order_id) = ticket.order_id.as_ref() else {
        return Ok(false);
    };
    if ticket.live_order_at(now).is_some() {
        return Ok(false);
    }
    match orders::find_order(conn, order_id).await? {
        Some(order) if order.has_lapsed_at(now) => expire_order(conn, &order, now).await,
        _ => Ok(false),
    }
}

/// Cancels `order` as expired (freeing its ticket) if its window is over at `now`, inside the
/// caller's transaction. Returns whether it did.
pub async fn expire_lapsed_order(
    conn: &mut SqliteConnection,
    order: &Order,
    now: Timestamp,
) -> Result<bool, AppError> {
    if order.has_lapsed_at(now) {
        expire_order(conn, order, now).await
    } else {
        Ok(false)
    }
}

/// Cancels one lapsed order and frees its ticket, appending `OrderExpired`. Returns whether it
/// was still live.
async fn expire_order(
    conn: &mut SqliteConnection,
    order: &Order,
    now: Timestamp,
) -> Result<bool, AppError> {
    if !orders::update_live_order_status(conn, &order.id, OrderStatus::Cancelled, now).await? {
        return Ok(false);
    }
    tickets::release_ticket_row(conn, &order.ticket_id, &order.id, now).await?;
    let expired = Order {
        status: OrderStatus::Cancelled,
        version: order.version + 1,
        ..order.clone()
    };
    insert_event(
        conn,
        "OrderExpired",
        &order.id,
        order_payload(&expired),
        now,
    )
    .await?;
    Ok(true)
}

/// The buyer cancels a live order; its ticket is on sale again at once.
pub async fn cancel_order(
    db: &Db,
    user: &Id,
    order_id: &Id,
    now: Timestamp,
) -> Result<Order, AppError> {
    let mut tx = db.begin_write().await?;
    let order = orders::find_order(&mut tx, order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    order.check_owner(user)?;
    if let Err(refusal) = order.cancel(now) {
        // A lapsed order is cancelled by expiry: record that before saying no.
        if order.has_lapsed_at(now) {
            expire_order(&mut tx, &order, now).await?;
            tx.commit().await?;
        }
        return Err(refusal);
    }
    if !orders::update_live_order_status(&mut tx, &order.id, OrderStatus::Cancelled, now).await? {
        return Err(AppError::invalid(crate::domain::order::ORDER_CANCELLED));
    }
    tickets::release_ticket_row(&mut tx, &order.ticket_id, &order.id, now).await?;
    let cancelled = Order {
        status: OrderStatus::Cancelled,
        version: order.version + 1,
        ..order
    };
    insert_event(
        &mut tx,
        "OrderCancelled",
        &cancelled.id,
        order_payload(&cancelled),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(cancelled)
}

/// One of `user`'s orders with its ticket (403 for someone else's).
pub async fn get_order(db: &Db, user: &Id, order_id: &Id) -> Result<OrderWithTicket, AppError> {
    let mut conn = db.read.acquire().await?;
    let order = orders::find_order(&mut conn, order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    order.check_owner(user)?;
    let ticket = tickets::find_ticket(&mut conn, &order.ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(OrderWithTicket { order, ticket })
}

/// All of `user`'s orders, newest first, each with its ticket.
pub async fn list_orders(db: &Db, user: &Id) -> Result<Vec<OrderWithTicket>, AppError> {
    let mut conn = db.read.acquire().await?;
    let orders = orders::list_orders_by_buyer(&mut conn, user).await?;
    let mut listed = Vec::with_capacity(orders.len());
    for order in orders {
        if let Some(ticket) = tickets::find_ticket(&mut conn, &order.ticket_id).await? {
            listed.push(OrderWithTicket { order, ticket });
        }
    }
    Ok(listed)
}

/// Cancels every order whose window is over at `now` and frees its ticket. Returns how many.
pub async fn expire_orders(db: &Db, now: Timestamp) -> Result<usize, AppError> {
    let mut expired = 0;
    loop {
        // A cheap read first: most sweeps find nothing and never take the write lock.
        let lapsed = orders::list_lapsed_orders(&mut *db.read.acquire().await?, now, 1).await?;
        if lapsed.is_empty() {
            return Ok(expired);
        }
        let mut tx = db.begin_write().await?;
        let batch = orders::list_lapsed_orders(&mut tx, now, SWEEP_BATCH).await?;
        for order in &batch {
            if expire_order(&mut tx, order, now).await? {
                expired += 1;
            }
        }
        tx.commit().await?;
        if (batch.len() as i64) < SWEEP_BATCH {
            return Ok(expired);
        }
    }
}

/// The background sweeper: a sweep at once (orders that lapsed while the server was down),
/// then one about every second, until the process ends.
pub async fn run_expiry_sweeper(db: Db, clock: SharedClock, every: std::time::Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match expire_orders(&db, clock.now()).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "expired lapsed orders"),
            Err(err) => tracing::warn!(error = %err, "order expiry sweep failed; retrying"),
        }
    }
}
