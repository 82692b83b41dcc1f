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
use crate::ssr::storage::event_log::{NewEvent, insert_event, insert_events};
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

/// A buyer's reservation of one seat of an event's section: the front-most free one.
#[derive(Debug, Clone)]
pub struct ReserveInSection {
    pub section_id: Id,
    pub seen_price: Option<Price>,
}

/// Reserves the front-most free seat of a published event's section, as [`reserve_ticket`]
/// does for one listing. A seat someone else took a moment before is passed over for the next
/// free one; none left is `This section is sold out` (field `quantity`). An unknown section, or
/// one of an event not on sale, is 404.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), section_id = %input.section_id)
)]
pub async fn reserve_in_section(
    ctx: &Ctx,
    input: ReserveInSection,
) -> Result<OrderWithTicket, AppError> {
    use crate::domain::event::{EventStatus, SECTION_SOLD_OUT};
    use crate::domain::order::{TICKET_RESERVED, TICKET_SOLD};
    use crate::ssr::storage::events;
    /// Seats tried from one read of the section before reading it again.
    const CANDIDATES: i64 = 8;
    /// Reads of the section before giving up on a section that is selling out as we ask.
    const ROUNDS: usize = 8;
    ctx.user()?;
    {
        let mut conn = ctx.db().read.acquire().await?;
        match events::section_event(&mut conn, &input.section_id).await? {
            Some((_, EventStatus::Published)) => {}
            Some((_, EventStatus::Cancelled)) => {
                return Err(AppError::invalid(crate::domain::event::EVENT_CANCELLED));
            }
            _ => return Err(AppError::NotFound),
        }
    }
    let sold_out = || AppError::invalid_field("quantity", SECTION_SOLD_OUT);
    for _ in 0..ROUNDS {
        let seats = {
            let mut conn = ctx.db().read.acquire().await?;
            events::free_seats(&mut conn, &input.section_id, ctx.now(), CANDIDATES).await?
        };
        if seats.is_empty() {
            return Err(sold_out());
        }
        for ticket_id in seats {
            let attempt = ReserveTicket {
                ticket_id,
                seen_price: input.seen_price,
            };
            match reserve_ticket(ctx, attempt).await {
                Err(AppError::Invalid(details))
                    if details
                        .iter()
                        .all(|d| d.message == TICKET_RESERVED || d.message == TICKET_SOLD) =>
                {
                    continue;
                }
                other => return other,
            }
        }
    }
    Err(sold_out())
}

/// Reserves a ticket for the signed-in buyer for the reservation window. If the seller changed
/// the price since the buyer saw it, nothing is reserved (409). A buyer already holding
/// `MAX_LIVE_ORDERS` live reservations is refused, so one account cannot hoard the inventory;
/// the count is taken inside the write transaction, so racing requests cannot slip past it.
/// `ORDER_RATE_LIMIT` bounds how often one account may try.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), ticket_id = %input.ticket_id)
)]
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

/// One buyer's attempt to reserve one ticket, as read from their request. It is decided at
/// the time its transaction runs, not when it was asked for: a reservation that waited for
/// the writer gets the whole window, and is checked against the event's start as it is then.
pub struct Attempt {
    buyer: Id,
    input: ReserveTicket,
}

/// A reservation in a transaction of its own.
async fn reserve_alone(ctx: &Ctx, attempt: &Attempt) -> Result<OrderWithTicket, AppError> {
    // A reservation only takes a listing off sale: cached browse pages stay, minus this one.
    let mut tx = ctx.db().begin_write_keeping_reads().await?;
    let now = ctx.now();
    let answer = reserve_in(&mut tx, ctx, &[attempt], now)
        .await?
        .pop()
        .ok_or_else(lost)?;
    tx.commit().await?;
    answer
}

/// The reservations themselves, inside the caller's write transaction, in the order given and
/// all at `now` (read once the transaction holds the writer); each is answered on its own. `Err` means the transaction must not be committed: the
/// database failed, or its guard refused an order the checks allowed.
///
/// The tickets are read (and held) in one statement; each attempt is then decided by the
/// domain on its ticket as the attempts before it left it. The tickets decided on are taken
/// in one conditional update, and their orders and `OrderCreated` events written in one
/// statement each, so a batch costs the database a handful of statements however large.
async fn reserve_in(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    attempts: &[&Attempt],
    now: Timestamp,
) -> Result<Vec<Result<OrderWithTicket, AppError>>, AppError> {
    use std::collections::{HashMap, HashSet};
    let settings = ctx.settings();
    let ids: Vec<&Id> = attempts.iter().map(|a| &a.input.ticket_id).collect();
    // An event's cancellation waits for these reservations, or they for it (never both).
    storage::events::share_events_of(tx, &ids).await?;
    let mut tickets: HashMap<Id, Ticket> = tickets::lock_tickets(tx, &ids)
        .await?
        .into_iter()
        .map(|ticket| (ticket.id.clone(), ticket))
        .collect();
    // Live orders already held, counted at each attempt's own moment.
    let mut live: Vec<(Id, Timestamp)> = Vec::new();
    if settings.max_live_orders > 0 {
        // Two transactions reserving for one buyer count their live orders one after the other.
        let mut buyers: Vec<&Id> = attempts.iter().map(|a| &a.buyer).collect();
        buyers.sort();
        buyers.dedup();
        for buyer in &buyers {
            storage::users::lock_user(tx, buyer).await?;
        }
        live = orders::live_order_expiries(tx, &buyers, now).await?;
    }

    let mut answers: Vec<Result<Order, AppError>> = Vec::with_capacity(attempts.len());
    let mut decided: HashSet<Id> = HashSet::new();
    for attempt in attempts {
        let Attempt { buyer, input } = attempt;
        let Some(mut ticket) = tickets.get(&input.ticket_id).cloned() else {
            answers.push(Err(AppError::NotFound));
            continue;
        };
        if !decided.contains(&ticket.id) && ticket.live_order_at(now).is_none() {
            // Its hold had lapsed and the sweeper had not yet freed it: freed now, first.
            match free_lapsed_hold(tx, &ticket, now).await? {
                Freed::Nothing => {}
                Freed::Released => {
                    ticket = tickets::lock_ticket(tx, &ticket.id)
                        .await?
                        .ok_or(AppError::NotFound)?;
                }
                Freed::Busy => {
                    answers.push(Err(AppError::invalid(TICKET_RESERVED)));
                    continue;
                }
            }
        }
        if let Err(err) = check_reservation(&ticket, buyer, input.seen_price, now) {
            answers.push(Err(err.into()));
            continue;
        }
        if decided.contains(&ticket.id) {
            answers.push(Err(AppError::invalid(TICKET_RESERVED)));
            continue;
        }
        if settings.max_live_orders > 0 {
            let held = live
                .iter()
                .filter(|(holder, until)| holder == buyer && *until > now)
                .count() as i64;
            if !may_hold_another(held, settings.max_live_orders) {
                answers.push(Err(AppError::invalid(TOO_MANY_RESERVATIONS)));
                continue;
            }
        }
        let order = Order::reserve(
            clock::new_id(),
            &ticket,
            buyer,
            now,
            settings.reservation_window_ms,
            &settings.fees,
        );
        live.push((buyer.clone(), order.expires_at));
        decided.insert(ticket.id.clone());
        tickets.insert(
            ticket.id.clone(),
            ticket.held_by(&order.id, order.expires_at),
        );
        answers.push(Ok(order));
    }

    // The domain said yes; the database has the last word. Either guard refusing (the
    // conditional update here, the partial unique index when the orders are written) means
    // another buyer got there first.
    let holds: Vec<tickets::Hold> = answers
        .iter()
        .filter_map(|answer| {
            let order = answer.as_ref().ok()?;
            Some(tickets::Hold {
                ticket_id: &order.ticket_id,
                order_id: &order.id,
                until: order.expires_at,
                now,
            })
        })
        .collect();
    let mut taken: HashMap<Id, Ticket> = tickets::reserve_ticket_rows(tx, &holds)
        .await?
        .into_iter()
        .map(|ticket| (ticket.id.clone(), ticket))
        .collect();
    let answers: Vec<Result<OrderWithTicket, AppError>> = answers
        .into_iter()
        .map(|answer| {
            let order = answer?;
            match taken.remove(&order.ticket_id) {
                Some(ticket) if ticket.order_id.as_ref() == Some(&order.id) => {
                    Ok(OrderWithTicket { order, ticket })
                }
                _ => Err(AppError::invalid(TICKET_RESERVED)),
            }
        })
        .collect();
    let orders: Vec<Order> = answers
        .iter()
        .filter_map(|answer| Some(answer.as_ref().ok()?.order.clone()))
        .collect();
    match orders::insert_orders(tx, &orders).await {
        // Another live order for one of the tickets: the database's guard refused what the
        // checks above allowed. Only a transaction of its own can undo the rows already written.
        Err(err) if storage::refused_by(&err) == Some(storage::Guard::TicketTaken) => {
            return Err(AppError::invalid(TICKET_RESERVED));
        }
        other => other?,
    }
    let events: Vec<NewEvent> = orders
        .iter()
        .map(|order| NewEvent {
            event_type: "OrderCreated",
            aggregate_id: &order.id,
            payload: order_payload(order),
            at: order.created_at,
        })
        .collect();
    insert_events(tx, &events).await?;
    Ok(answers)
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
    /// Batches taken from the queue so far.
    batches: std::sync::atomic::AtomicU64,
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
            let batch = self.next_batch();
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

    /// The next attempts to run together, oldest first: up to [`Self::MAX_BATCH`] of those whose
    /// requests still wait for an answer. An attempt whose client hung up while it waited is
    /// dropped unanswered (nothing is reserved for a buyer who is gone).
    fn next_batch(&self) -> Vec<Waiting> {
        let mut waiting = self.lock_waiting();
        waiting.retain(|w| !w.answer.is_closed());
        let take = waiting.len().min(Self::MAX_BATCH);
        self.batches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        waiting.drain(..take).collect()
    }

    /// How many batches have been taken from the queue (each then runs as soon as it can).
    pub fn batches_taken(&self) -> u64 {
        self.batches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many attempts wait for the writer, and how many of those were given up by their
    /// clients (they are dropped when the next batch is taken).
    pub fn waiting(&self) -> (usize, usize) {
        let waiting = self.lock_waiting();
        let gone = waiting.iter().filter(|w| w.answer.is_closed()).count();
        (waiting.len(), gone)
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
    let now = ctx.now();
    let attempts: Vec<&Attempt> = batch.iter().map(|waiting| &waiting.attempt).collect();
    let results = reserve_in(&mut tx, ctx, &attempts, now).await?;
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
#[tracing::instrument(skip_all, fields(order_id = %order.id, why = ?why))]
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
#[tracing::instrument(skip_all, fields(order_id = %order.id, event = event_type))]
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
#[tracing::instrument(skip_all, fields(order_id = %order.id))]
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
#[tracing::instrument(skip_all, fields(ticket_id = %ticket.id))]
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

/// What a reservation did about the lapsed hold on its ticket.
enum Freed {
    /// There was none to free.
    Nothing,
    /// The lapsed order was expired, and the ticket freed.
    Released,
    /// Another transaction holds the order (a sweep, or its buyer cancelling or paying).
    Busy,
}

/// [`release_lapsed_hold`] for a transaction that holds the ticket's row. Those that act on an
/// order (the sweep, a cancellation, a payment) take the order's row and then its ticket's; so
/// waiting here for the order's row, with the ticket's held, could deadlock (PostgreSQL). The
/// order is taken only if nobody holds it; if somebody does, the seat is theirs to settle at
/// this moment: `Busy`.
async fn free_lapsed_hold(
    conn: &mut AnyConnection,
    ticket: &Ticket,
    now: Timestamp,
) -> Result<Freed, AppError> {
    let Some(order_id) = ticket.order_id.as_ref() else {
        return Ok(Freed::Nothing);
    };
    if ticket.live_order_at(now).is_some() {
        return Ok(Freed::Nothing);
    }
    match orders::read_order(conn, order_id, Read::LockedUnlessBusy).await? {
        Some(order) if release_if_lapsed(conn, &order, now).await? => Ok(Freed::Released),
        Some(_) => Ok(Freed::Nothing),
        None if orders::find_order(conn, order_id).await?.is_some() => Ok(Freed::Busy),
        None => Ok(Freed::Nothing),
    }
}

/// `order_id`, if it is `buyer`'s: 404 for no such order, 403 for someone else's.
#[tracing::instrument(level = "debug", skip_all, fields(buyer_id = %buyer, order_id = %order_id))]
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
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %order_id)
)]
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
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %order_id)
)]
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
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %order.id)
)]
pub async fn order_with_ticket(ctx: &Ctx, order: Order) -> Result<OrderWithTicket, AppError> {
    let ticket = tickets::find_ticket(&mut *ctx.db().read.acquire().await?, &order.ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(OrderWithTicket { order, ticket })
}

/// All of the signed-in buyer's orders, newest first, each with its ticket.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
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
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
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
        // Their tickets too, before anything is written: a reservation holding one of them
        // frees its lapsed hold itself (or is refused), and waiting for it here, with the
        // event log's turn taken, could deadlock (PostgreSQL).
        let ids: Vec<&Id> = batch.iter().map(|order| &order.ticket_id).collect();
        let free: std::collections::HashSet<Id> =
            tickets::read_tickets(&mut tx, &ids, Read::LockedUnlessBusy)
                .await?
                .into_iter()
                .map(|ticket| ticket.id)
                .collect();
        let mut expired_now = 0;
        for order in batch.iter().filter(|order| free.contains(&order.ticket_id)) {
            if release_if_lapsed(&mut tx, order, now).await? {
                expired_now += 1;
            }
        }
        tx.commit().await?;
        expired += expired_now;
        if (batch.len() as i64) < SWEEP_BATCH || expired_now == 0 {
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
