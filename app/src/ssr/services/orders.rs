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
use crate::ssr::Ctx;
use crate::ssr::clock;
use crate::ssr::storage::events::insert_event;
use crate::ssr::storage::{self, Read, orders, tickets};
use serde_json::json;
use sqlx::AnyConnection;

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

/// What a buyer reserves: a ticket, at the price they were shown (if the page showed one).
#[derive(Debug, Clone)]
pub struct ReserveTicket {
    pub ticket_id: Id,
    pub seen_price: Option<Price>,
}

/// Reserves a ticket for the signed-in buyer for the reservation window. If the seller changed
/// the price since the buyer saw it, nothing is reserved (409). A buyer already holding
/// `MAX_LIVE_ORDERS` live reservations is refused, so one account cannot hoard the inventory;
/// the count is taken inside the write transaction, so racing requests cannot slip past it.
/// `ORDER_RATE_LIMIT` bounds how often one account may try.
pub async fn reserve_ticket(ctx: &Ctx, input: ReserveTicket) -> Result<OrderWithTicket, AppError> {
    let buyer = ctx.user()?;
    ctx.app().order_limiter.check(buyer.clone())?;
    let now = ctx.now();
    // In an on-sale most attempts find the seat already taken. A plain read says so without
    // queueing for the one writer (or the ticket's row lock): the seat was taken at that moment,
    // so refusing then is what the locked check below would have answered a moment earlier.
    let seen = tickets::find_ticket(&mut *ctx.db().read.acquire().await?, &input.ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    check_reservation(&seen, buyer, input.seen_price, now)?;
    let attempt = Attempt {
        buyer: buyer.clone(),
        input,
        now,
    };
    let reserved = match ctx.db().backend() {
        // SQLite has one writer: reservations arriving together share its transactions.
        storage::Backend::Sqlite => ctx.app().reservations.reserve(ctx, attempt).await?,
        // PostgreSQL locks rows: each reservation takes its own transaction, side by side.
        storage::Backend::Postgres => reserve_alone(ctx, &attempt).await?,
    };
    ctx.app()
        .browse_cache
        .taken(&reserved.ticket.id, ctx.db().write_generation());
    metrics::counter!("ticketing_reservations_total").increment(1);
    Ok(reserved)
}

/// One buyer's attempt to reserve one ticket, as read from their request.
pub struct Attempt {
    buyer: Id,
    input: ReserveTicket,
    now: Timestamp,
}

/// How an attempt inside a shared transaction ended without a reservation.
enum Failed {
    /// Refused before it wrote anything: the others in the transaction are unaffected.
    Refused(AppError),
    /// Went wrong after writing: the transaction must not be committed.
    Broken(AppError),
}

impl From<sqlx::Error> for Failed {
    fn from(err: sqlx::Error) -> Failed {
        Failed::Broken(err.into())
    }
}

/// A reservation in a transaction of its own.
async fn reserve_alone(ctx: &Ctx, attempt: &Attempt) -> Result<OrderWithTicket, AppError> {
    // A reservation only takes a listing off sale: cached browse pages stay, minus this one.
    let mut tx = ctx.db().begin_write_keeping_reads().await?;
    let reserved = match reserve_in(&mut tx, ctx, attempt).await {
        Ok(reserved) => reserved,
        Err(Failed::Refused(err) | Failed::Broken(err)) => return Err(err),
    };
    tx.commit().await?;
    Ok(reserved)
}

/// The reservation itself, inside the caller's write transaction.
async fn reserve_in(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    attempt: &Attempt,
) -> Result<OrderWithTicket, Failed> {
    let settings = ctx.settings();
    let Attempt { buyer, input, now } = attempt;
    let now = *now;
    let refused = Failed::Refused;
    // A database error is never a refusal: whatever it left of the transaction is not kept.
    let ticket = tickets::lock_ticket(tx, &input.ticket_id)
        .await?
        .ok_or(Failed::Refused(AppError::NotFound))?;
    check_reservation(&ticket, buyer, input.seen_price, now).map_err(|err| refused(err.into()))?;
    if settings.max_live_orders > 0 {
        // Two reservations by one buyer count their live orders one after the other.
        storage::users::lock_user(tx, buyer).await?;
        let live = orders::count_live_orders_by_buyer(tx, buyer, now).await?;
        if !may_hold_another(live, settings.max_live_orders) {
            return Err(refused(AppError::invalid(TOO_MANY_RESERVATIONS)));
        }
    }
    release_lapsed_hold(tx, &ticket, now)
        .await
        .map_err(Failed::Broken)?;

    let order = Order::reserve(
        clock::new_id(),
        &ticket,
        buyer,
        now,
        settings.reservation_window_ms,
        &settings.fees,
    );
    // The domain said yes; the database has the last word. Either guard refusing means another
    // buyer got there first.
    if !tickets::reserve_ticket_row(tx, &ticket.id, &order.id, order.expires_at, now).await? {
        return Err(refused(AppError::invalid(TICKET_RESERVED)));
    }
    match orders::insert_order(tx, &order).await {
        Err(err) if storage::is_unique_violation(&err) => {
            // The ticket's row was written: only a transaction of its own can undo that.
            return Err(Failed::Broken(AppError::invalid(TICKET_RESERVED)));
        }
        other => other?,
    }
    append_order_event(tx, "OrderCreated", &order, now)
        .await
        .map_err(Failed::Broken)?;
    let ticket = tickets::find_ticket(tx, &ticket.id)
        .await?
        .ok_or(Failed::Broken(AppError::NotFound))?;
    Ok(OrderWithTicket { order, ticket })
}

/// Group commit for SQLite's one writer. Reservations that arrive while the writer is busy
/// wait together and then go in one transaction: each is decided on its own (its ticket
/// locked and checked, the partial unique index guarding its order) and answered on its own,
/// but they share one `BEGIN`, one commit and the pages they touch, which is most of what a
/// reservation costs. Should one of them fail after writing, the transaction is rolled back
/// and every one of them runs again in a transaction of its own.
#[derive(Default)]
pub struct Reservations {
    waiting: std::sync::Mutex<Vec<Waiting>>,
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    next: std::sync::atomic::AtomicU64,
    /// Transactions committed with more than one attempt in them, and the attempts they held.
    shared: std::sync::Arc<SharedCounts>,
}

#[derive(Default)]
struct SharedCounts {
    transactions: std::sync::atomic::AtomicU64,
    attempts: std::sync::atomic::AtomicU64,
}

struct Waiting {
    id: u64,
    attempt: Attempt,
    answer: tokio::sync::oneshot::Sender<Result<OrderWithTicket, AppError>>,
}

impl Reservations {
    /// Most reservations in one transaction.
    const MAX_BATCH: usize = 64;

    async fn reserve(&self, ctx: &Ctx, attempt: Attempt) -> Result<OrderWithTicket, AppError> {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (answer, mut answered) = tokio::sync::oneshot::channel();
        self.lock_waiting().push(Waiting {
            id,
            attempt,
            answer,
        });
        loop {
            // Either another batch answers this attempt, or this request takes the writer
            // and runs the next batch itself.
            let writer = tokio::select! {
                biased;
                result = &mut answered => return result.unwrap_or_else(|_| Err(lost())),
                writer = self.writer.clone().lock_owned() => writer,
            };
            if let Ok(result) = answered.try_recv() {
                return result;
            }
            let batch: Vec<Waiting> = {
                let mut waiting = self.lock_waiting();
                let take = waiting.len().min(Self::MAX_BATCH);
                waiting.drain(..take).collect()
            };
            let ours = batch.iter().any(|w| w.id == id);
            // The batch runs as a task of its own: the request that started it may be dropped
            // (its client hung up) without failing the others.
            let ctx = ctx.clone();
            let shared = self.shared.clone();
            let run = tokio::spawn(async move {
                let _writer = writer;
                run_batch(&ctx, batch, &shared).await;
            });
            if ours {
                let _ = run.await;
                return answered.await.unwrap_or_else(|_| Err(lost()));
            }
        }
    }

    /// How many shared transactions have committed, and how many attempts (reservations and
    /// refusals) they answered.
    pub fn shared_transactions(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.shared.transactions.load(Relaxed),
            self.shared.attempts.load(Relaxed),
        )
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, Vec<Waiting>> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn lost() -> AppError {
    crate::ssr::error_response::internal(anyhow::anyhow!("a reservation batch ended unanswered"))
}

async fn run_batch(ctx: &Ctx, batch: Vec<Waiting>, shared: &SharedCounts) {
    if batch.len() > 1 {
        match reserve_together(ctx, &batch).await {
            Ok(results) => {
                use std::sync::atomic::Ordering::Relaxed;
                shared.transactions.fetch_add(1, Relaxed);
                shared.attempts.fetch_add(batch.len() as u64, Relaxed);
                metrics::histogram!("ticketing_reservation_batch_size").record(batch.len() as f64);
                for (waiting, result) in batch.into_iter().zip(results) {
                    let _ = waiting.answer.send(result);
                }
                return;
            }
            Err(err) => {
                tracing::debug!(error = ?err, size = batch.len(), "a reservation batch failed; running its reservations one by one");
            }
        }
    }
    for waiting in batch {
        let result = reserve_alone(ctx, &waiting.attempt).await;
        let _ = waiting.answer.send(result);
    }
}

/// Every attempt in one transaction, or `Err` (and nothing committed) if any went wrong after
/// writing or the commit failed.
async fn reserve_together(
    ctx: &Ctx,
    batch: &[Waiting],
) -> Result<Vec<Result<OrderWithTicket, AppError>>, AppError> {
    let mut tx = ctx.db().begin_write_keeping_reads().await?;
    let mut results = Vec::with_capacity(batch.len());
    for waiting in batch {
        match reserve_in(&mut tx, ctx, &waiting.attempt).await {
            Ok(reserved) => results.push(Ok(reserved)),
            Err(Failed::Refused(err)) => results.push(Err(err)),
            Err(Failed::Broken(err)) => return Err(err),
        }
    }
    tx.commit().await?;
    Ok(results)
}

/// Why a live order ends without being paid. Each way ends it the same way — the order is
/// cancelled, its ticket is on sale again, and one event with the order as it now stands is
/// appended — and only the event's name differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// The reservation window ran out.
    Expired,
    /// The buyer cancelled.
    Cancelled,
    /// The bank declined the payment.
    Declined,
    /// An admin took the listing down.
    TakenDown,
}

impl Release {
    fn event(self) -> &'static str {
        match self {
            Release::Expired => "OrderExpired",
            Release::Cancelled | Release::Declined | Release::TakenDown => "OrderCancelled",
        }
    }
}

/// Ends a live order without payment and frees its ticket, inside the caller's transaction.
/// Returns the order as it now stands, or `None` if it was no longer live (someone else ended
/// it first).
pub async fn release_order(
    conn: &mut AnyConnection,
    order: &Order,
    why: Release,
    now: Timestamp,
) -> Result<Option<Order>, AppError> {
    if !orders::update_live_order_status(conn, &order.id, OrderStatus::Cancelled, now).await? {
        return Ok(None);
    }
    tickets::release_ticket_row(conn, &order.ticket_id, &order.id, now).await?;
    let released = order.moved_to(OrderStatus::Cancelled);
    append_order_event(conn, why.event(), &released, now).await?;
    Ok(Some(released))
}

/// Appends `event_type` with `order` as it now stands: every order event carries the same
/// payload, whichever path changed the order.
pub async fn append_order_event(
    conn: &mut AnyConnection,
    event_type: &str,
    order: &Order,
    now: Timestamp,
) -> Result<(), AppError> {
    insert_event(conn, event_type, &order.id, order_payload(order), now).await?;
    Ok(())
}

/// Releases `order` as expired if its window is over at `now`, inside the caller's
/// transaction. Writers call this before deciding, so correctness never waits for the sweeper.
/// Returns whether it did.
pub async fn release_if_lapsed(
    conn: &mut AnyConnection,
    order: &Order,
    now: Timestamp,
) -> Result<bool, AppError> {
    if !order.has_lapsed_at(now) {
        return Ok(false);
    }
    Ok(release_order(conn, order, Release::Expired, now)
        .await?
        .is_some())
}

/// Releases the order holding `ticket` if its window is over (see [`release_if_lapsed`]).
pub async fn release_lapsed_hold(
    conn: &mut AnyConnection,
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
        Some(order) => release_if_lapsed(conn, &order, now).await,
        None => Ok(false),
    }
}

/// `order_id`, if it is `buyer`'s: 404 for no such order, 403 for someone else's.
pub async fn buyers_order(
    conn: &mut AnyConnection,
    buyer: &Id,
    order_id: &Id,
    read: Read,
) -> Result<Order, AppError> {
    let order = orders::read_order(conn, order_id, read)
        .await?
        .ok_or(AppError::NotFound)?;
    order.check_owner(buyer)?;
    Ok(order)
}

/// The buyer cancels a live order; its ticket is on sale again at once.
pub async fn cancel_order(ctx: &Ctx, order_id: &Id) -> Result<Order, AppError> {
    let user = ctx.user()?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let order = buyers_order(&mut tx, user, order_id, Read::Locked).await?;
    if let Err(refusal) = order.cancel(now) {
        // A lapsed order is cancelled by expiry: record that before saying no.
        if release_if_lapsed(&mut tx, &order, now).await? {
            tx.commit().await?;
        }
        return Err(refusal.into());
    }
    let cancelled = release_order(&mut tx, &order, Release::Cancelled, now)
        .await?
        .ok_or_else(|| AppError::invalid(crate::domain::order::ORDER_CANCELLED))?;
    tx.commit().await?;
    Ok(cancelled)
}

/// One of the signed-in buyer's orders with its ticket (403 for someone else's).
pub async fn get_order(ctx: &Ctx, order_id: &Id) -> Result<OrderWithTicket, AppError> {
    let user = ctx.user()?;
    let mut conn = ctx.db().read.acquire().await?;
    let order = buyers_order(&mut conn, user, order_id, Read::Plain).await?;
    let ticket = tickets::find_ticket(&mut conn, &order.ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(OrderWithTicket { order, ticket })
}

/// An order with its ticket (for answers about an order someone else acted on).
pub async fn order_with_ticket(ctx: &Ctx, order: Order) -> Result<OrderWithTicket, AppError> {
    let ticket = tickets::find_ticket(&mut *ctx.db().read.acquire().await?, &order.ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(OrderWithTicket { order, ticket })
}

/// All of the signed-in buyer's orders, newest first, each with its ticket.
pub async fn list_orders(ctx: &Ctx) -> Result<Vec<OrderWithTicket>, AppError> {
    let user = ctx.user()?;
    let mut conn = ctx.db().read.acquire().await?;
    let orders = orders::list_orders_by_buyer(&mut conn, user).await?;
    let mut listed = Vec::with_capacity(orders.len());
    for order in orders {
        if let Some(ticket) = tickets::find_ticket(&mut conn, &order.ticket_id).await? {
            listed.push(OrderWithTicket { order, ticket });
        }
    }
    Ok(listed)
}

/// Releases every order whose window is over and frees its ticket. Returns how many.
pub async fn expire_orders(ctx: &Ctx) -> Result<usize, AppError> {
    let db = ctx.db();
    let now = ctx.now();
    let mut expired = 0;
    loop {
        // A cheap read first: most sweeps find nothing and never take the write lock.
        let lapsed =
            orders::list_lapsed_orders(&mut *db.read.acquire().await?, now, 1, false).await?;
        if lapsed.is_empty() {
            return Ok(expired);
        }
        let mut tx = db.begin_write().await?;
        let batch = orders::list_lapsed_orders(&mut tx, now, SWEEP_BATCH, true).await?;
        for order in &batch {
            if release_if_lapsed(&mut tx, order, now).await? {
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
pub async fn run_expiry_sweeper(ctx: Ctx, every: std::time::Duration) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match expire_orders(&ctx).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "expired lapsed orders"),
            Err(err) => tracing::warn!(error = ?err, "order expiry sweep failed; retrying"),
        }
    }
}
