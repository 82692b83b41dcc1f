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

/// An order with its tickets.
#[derive(Debug, Clone)]
pub struct OrderWithTicket {
    pub order: Order,
    /// The order's first ticket (`tickets[0]`).
    pub ticket: Ticket,
    /// Every ticket of the order, in seat order.
    pub tickets: Vec<Ticket>,
}

impl OrderWithTicket {
    /// `order` with `tickets` (any order, at least the order's own) put in the order's seat
    /// order; `None` when one of its tickets is missing.
    fn new(order: Order, tickets: Vec<Ticket>) -> Option<OrderWithTicket> {
        let mut by_id: std::collections::HashMap<Id, Ticket> =
            tickets.into_iter().map(|t| (t.id.clone(), t)).collect();
        let tickets: Vec<Ticket> = order
            .ticket_ids()
            .map(|id| by_id.remove(id))
            .collect::<Option<_>>()?;
        Some(OrderWithTicket {
            ticket: tickets.first()?.clone(),
            tickets,
            order,
        })
    }

    /// `order` with its tickets as they stand.
    pub async fn read(conn: &mut AnyConnection, order: Order) -> Result<OrderWithTicket, AppError> {
        let ids: Vec<&Id> = order.ticket_ids().collect();
        let tickets = tickets::read_tickets(conn, &ids, Read::Plain).await?;
        OrderWithTicket::new(order, tickets).ok_or(AppError::NotFound)
    }
}

fn order_payload(order: &Order) -> serde_json::Value {
    json!({
        "id": order.id,
        "userId": order.buyer_id,
        "ticketId": order.ticket_id,
        "ticketIds": order.ticket_ids().collect::<Vec<_>>(),
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

/// Several chosen tickets of one event (seats from the seat map, resale listings), every one
/// or none, at the sum of the prices the buyer was shown.
#[derive(Debug, Clone)]
pub struct ReserveTickets {
    pub ticket_ids: Vec<Id>,
    pub seen_price: Option<Price>,
}

/// A buyer's reservation of `quantity` best-available seats of an event's section, at the sum
/// of the prices the buyer was shown.
#[derive(Debug, Clone)]
pub struct ReserveInSection {
    pub section_id: Id,
    pub quantity: u32,
    pub seen_price: Option<Price>,
}

/// What one reservation asks for.
#[derive(Debug, Clone)]
enum Wanted {
    /// One listing, as the seed has it (`ticketId`).
    One(Id),
    /// Chosen tickets of one event (`ticketIds`).
    Chosen(Vec<Id>),
    /// Best-available seats of a section (`sectionId`, `quantity`).
    Best { section_id: Id, quantity: u32 },
}

impl Wanted {
    /// The request's field a refusal names.
    fn field(&self) -> &'static str {
        match self {
            Wanted::One(_) => "ticketId",
            Wanted::Chosen(_) => "ticketIds",
            Wanted::Best { .. } => "quantity",
        }
    }

    /// The tickets named in the request (none for best available).
    fn chosen(&self) -> &[Id] {
        match self {
            Wanted::One(id) => std::slice::from_ref(id),
            Wanted::Chosen(ids) => ids,
            Wanted::Best { .. } => &[],
        }
    }

    /// A refusal of a ticket: as the seed says it for one listing, with the field for several.
    fn refusal(&self, err: crate::domain::DomainError) -> AppError {
        use crate::domain::DomainError;
        use crate::domain::order::TICKET_SOLD;
        match (self, err) {
            (Wanted::One(_), err) => err.into(),
            (_, DomainError::Invalid(details)) => AppError::Invalid(
                details
                    .into_iter()
                    .map(|d| {
                        // A chosen seat sold a moment ago is as taken as one held.
                        let message = if d.message == TICKET_SOLD {
                            TICKET_RESERVED.to_string()
                        } else {
                            d.message
                        };
                        crate::domain::ErrorDetail::field(self.field(), &message)
                    })
                    .collect(),
            ),
            (_, err) => err.into(),
        }
    }
}

/// Reserves `quantity` best-available seats of a published event's section (docs/RULES.md,
/// "Orders of several seats"): the front-most row with that many adjacent free seats, else
/// the fewest rows; any free places in general admission. Seats taken a moment before are
/// passed over for others; fewer free than asked is `Only N seats left in this section` (field
/// `quantity`). An unknown section, or one of an event not on sale, is 404.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), section_id = %input.section_id)
)]
pub async fn reserve_in_section(
    ctx: &Ctx,
    input: ReserveInSection,
) -> Result<OrderWithTicket, AppError> {
    if input.quantity == 0 {
        return Err(AppError::invalid_field(
            "quantity",
            crate::domain::order::QUANTITY_INVALID,
        ));
    }
    let wanted = Wanted::Best {
        section_id: input.section_id,
        quantity: input.quantity,
    };
    reserve(ctx, wanted, input.seen_price).await
}

/// Reserves chosen tickets of one event, all or none (docs/RULES.md, "Orders of several
/// seats"). Refusals name the field `ticketIds`: none chosen, one chosen twice, more than 20,
/// tickets of different events (or more than one listing without an event), or one taken.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), tickets = input.ticket_ids.len())
)]
pub async fn reserve_tickets(
    ctx: &Ctx,
    input: ReserveTickets,
) -> Result<OrderWithTicket, AppError> {
    use crate::domain::order::{TICKETS_EMPTY, TICKETS_REPEATED, TICKETS_TOO_MANY};
    let ids = input.ticket_ids;
    let refuse = |message| Err(AppError::invalid_field("ticketIds", message));
    if ids.is_empty() {
        return refuse(TICKETS_EMPTY);
    }
    if ids.len() > crate::domain::event::MAX_PER_BUYER_MAX as usize {
        return refuse(TICKETS_TOO_MANY);
    }
    let distinct: std::collections::HashSet<&Id> = ids.iter().collect();
    if distinct.len() < ids.len() {
        return refuse(TICKETS_REPEATED);
    }
    reserve(ctx, Wanted::Chosen(ids), input.seen_price).await
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
    reserve(ctx, Wanted::One(input.ticket_id), input.seen_price).await
}

async fn reserve(
    ctx: &Ctx,
    wanted: Wanted,
    seen_price: Option<Price>,
) -> Result<OrderWithTicket, AppError> {
    let buyer = ctx.user()?;
    ctx.app().order_limiter.check(buyer.clone())?;
    // In an on-sale most attempts find the seats already taken. A plain read says so without
    // queueing for the one writer (or the tickets' row locks): they were taken at that moment,
    // so refusing then is what the locked check would have answered a moment earlier.
    look_before_reserving(ctx, buyer, &wanted, seen_price).await?;
    let attempt = Attempt {
        buyer: buyer.clone(),
        wanted,
        seen_price,
    };
    // Reservations arriving together share a transaction: SQLite has one writer, and on
    // PostgreSQL a transaction per reservation would spend most of an on-sale on commits and
    // on colliding over the same front seats (a batch decides its seats in one place, and
    // batches of other nodes pass over the seats it holds).
    let reserved = ctx.app().reservations.reserve(ctx, attempt).await?;
    for ticket in &reserved.tickets {
        ctx.app()
            .browse_cache
            .taken(&ticket.id, ctx.db().write_generation());
    }
    metrics::counter!("ticketing_reservations_total").increment(1);
    Ok(reserved)
}

/// The checks a plain read can make before the writer is asked: each refusal here is one the
/// transaction would give too.
async fn look_before_reserving(
    ctx: &Ctx,
    buyer: &Id,
    wanted: &Wanted,
    seen_price: Option<Price>,
) -> Result<(), AppError> {
    use crate::domain::event::{EVENT_CANCELLED, EventStatus};
    use crate::domain::order::{
        OWN_TICKET, TICKETS_OF_ONE_EVENT, seats_left, within_holding_limit,
    };
    use crate::ssr::storage::events;
    let now = ctx.now();
    let mut conn = ctx.db().read.acquire().await?;
    match wanted {
        Wanted::One(_) | Wanted::Chosen(_) => {
            let ids: Vec<&Id> = wanted.chosen().iter().collect();
            let seen = tickets::read_tickets(&mut conn, &ids, Read::Plain).await?;
            if seen.len() < ids.len() {
                return Err(AppError::NotFound);
            }
            if let Wanted::Chosen(_) = wanted {
                let events: std::collections::HashSet<Option<&Id>> = seen
                    .iter()
                    .map(|t| t.event_seat.as_ref().map(|s| &s.event_id))
                    .collect();
                if seen.len() > 1 && (events.len() > 1 || events.contains(&None)) {
                    return Err(AppError::invalid_field("ticketIds", TICKETS_OF_ONE_EVENT));
                }
            }
            for ticket in &seen {
                check_reservation(ticket, buyer, None, now).map_err(|e| wanted.refusal(e))?;
            }
            let total: i64 = seen.iter().map(|t| t.price.cents()).sum();
            check_seen_total(total, seen_price)?;
        }
        Wanted::Best {
            section_id,
            quantity,
        } => {
            let event_id = match events::section_event(&mut conn, section_id).await? {
                Some((event, EventStatus::Published)) => event,
                Some((_, EventStatus::Cancelled)) => {
                    return Err(AppError::invalid(EVENT_CANCELLED));
                }
                _ => return Err(AppError::NotFound),
            };
            let event = events::find_event(&mut conn, &event_id)
                .await?
                .ok_or(AppError::NotFound)?;
            if &event.organiser_id == buyer {
                return Err(AppError::invalid(OWN_TICKET));
            }
            within_holding_limit(0, *quantity as usize, event.max_per_buyer)
                .map_err(|message| AppError::invalid_field("quantity", &message))?;
            let free =
                events::count_free_seats(&mut conn, section_id, now, i64::from(*quantity)).await?;
            if free < i64::from(*quantity) {
                return Err(AppError::invalid_field(
                    "quantity",
                    &seats_left(free as usize),
                ));
            }
        }
    }
    Ok(())
}

/// A changed price (the sum of the tickets' prices now against what the buyer saw) is 409.
fn check_seen_total(total_cents: i64, seen: Option<Price>) -> Result<(), AppError> {
    use crate::domain::order::PRICE_CHANGED;
    match seen {
        Some(seen) if seen.cents() != total_cents => Err(AppError::Conflict(
            crate::domain::ErrorDetail::field("price", PRICE_CHANGED),
        )),
        _ => Ok(()),
    }
}

/// One buyer's attempt to reserve, as read from their request. It is decided at the time its
/// transaction runs, not when it was asked for: a reservation that waited for the writer gets
/// the whole window, and is checked against the event's start as it is then.
pub struct Attempt {
    buyer: Id,
    wanted: Wanted,
    seen_price: Option<Price>,
}

/// A reservation in a transaction of its own.
async fn reserve_alone(ctx: &Ctx, attempt: &Attempt) -> Result<OrderWithTicket, AppError> {
    // A reservation only takes listings off sale: cached browse pages stay, minus these.
    let mut tx = ctx.db().begin_write_keeping_reads().await?;
    let now = ctx.now();
    let answer = reserve_in(&mut tx, ctx, &[attempt], now)
        .await?
        .pop()
        .ok_or_else(lost)?;
    tx.commit().await?;
    answer
}

/// Free seats read from a section for one transaction's best-available picks.
struct SectionSeats {
    event: crate::domain::event::Event,
    rows: Vec<crate::domain::event::Row>,
    /// Front-most first, with each seat's label.
    free: Vec<(Id, Option<String>)>,
    /// Seats found taken after all (a lapsed hold another transaction is settling).
    unusable: std::collections::HashSet<Id>,
    /// Of those, the ones passed over only because another transaction held them at that
    /// moment (PostgreSQL): they may be free again once it ends.
    busy: std::collections::HashSet<Id>,
}

/// Free seats read for best available in one go: enough for any batch (a batch holds at most
/// 64 reservations of at most 20 seats) while the front of the section decides.
const FREE_SEATS_READ: i64 = 2048;

/// Everything one batch of reservations has decided so far, in memory, as the attempts before
/// the next one left it.
struct Batch {
    tickets: std::collections::HashMap<Id, Ticket>,
    decided: std::collections::HashSet<Id>,
    sections: std::collections::HashMap<Id, SectionSeats>,
    events: std::collections::HashMap<Id, crate::domain::event::Event>,
    /// Live orders held, by buyer, with when they lapse (for `MAX_LIVE_ORDERS`).
    live: Vec<(Id, Timestamp)>,
    /// Tickets held by buyer and event (for each event's per-buyer limit).
    holding: std::collections::HashMap<(Id, Id), usize>,
}

/// The reservations themselves, inside the caller's write transaction, in the order given and
/// all at `now` (read once the transaction holds the writer); each is answered on its own. `Err`
/// means the transaction must not be committed: the database failed, or its guard refused an
/// order the checks allowed.
///
/// The chosen tickets are read (and held) in one statement; each attempt is then decided by the
/// domain on its tickets as the attempts before it left them, all of an attempt's tickets or
/// none. The tickets decided on are taken in one conditional update, and the orders, their
/// tickets and their `OrderCreated` events written in one statement each, so a batch costs the
/// database a handful of statements however large.
async fn reserve_in(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    attempts: &[&Attempt],
    now: Timestamp,
) -> Result<Vec<Result<OrderWithTicket, AppError>>, AppError> {
    let settings = ctx.settings();
    let ids: Vec<&Id> = attempts.iter().flat_map(|a| a.wanted.chosen()).collect();
    // An event's cancellation waits for these reservations, or they for it (never both).
    storage::events::share_events_of(tx, &ids).await?;
    let mut batch = Batch {
        tickets: tickets::lock_tickets(tx, &ids)
            .await?
            .into_iter()
            .map(|ticket| (ticket.id.clone(), ticket))
            .collect(),
        decided: Default::default(),
        sections: Default::default(),
        events: Default::default(),
        live: Vec::new(),
        holding: Default::default(),
    };
    // Two transactions reserving for one buyer count what they hold one after the other.
    let mut buyers: Vec<&Id> = attempts.iter().map(|a| &a.buyer).collect();
    buyers.sort();
    buyers.dedup();
    storage::users::lock_users(tx, &buyers).await?;
    if settings.max_live_orders > 0 {
        batch.live = orders::live_order_expiries(tx, &buyers, now).await?;
    }

    let mut answers: Vec<Result<Order, AppError>> = Vec::with_capacity(attempts.len());
    for attempt in attempts {
        let answer = decide(tx, ctx, &mut batch, attempt, now).await?;
        if let Ok(order) = &answer {
            for id in order.ticket_ids() {
                batch.decided.insert(id.clone());
                if let Some(ticket) = batch.tickets.get(id) {
                    let held = ticket.held_by(&order.id, order.expires_at);
                    batch.tickets.insert(id.clone(), held);
                }
            }
        }
        answers.push(answer);
    }

    // The domain said yes; the database has the last word. Either guard refusing (the
    // conditional update here, the partial unique index when the orders are written) means
    // another buyer got there first.
    let holds: Vec<tickets::Hold> = answers
        .iter()
        .filter_map(|answer| answer.as_ref().ok())
        .flat_map(|order| {
            order.ticket_ids().map(|ticket_id| tickets::Hold {
                ticket_id,
                order_id: &order.id,
                until: order.expires_at,
                now,
            })
        })
        .collect();
    let mut taken: std::collections::HashMap<Id, Ticket> = tickets::reserve_ticket_rows(tx, &holds)
        .await?
        .into_iter()
        .map(|ticket| (ticket.id.clone(), ticket))
        .collect();
    let mut answers_with_tickets = Vec::with_capacity(answers.len());
    for answer in answers {
        let order = match answer {
            Ok(order) => order,
            Err(err) => {
                answers_with_tickets.push(Err(err));
                continue;
            }
        };
        let held: Vec<Ticket> = order
            .ticket_ids()
            .filter_map(|id| taken.remove(id))
            .filter(|ticket| ticket.order_id.as_ref() == Some(&order.id))
            .collect();
        if held.len() < order.lines.len() {
            // All or nothing: the seats this order did take go back at once.
            let ids: Vec<&Id> = held.iter().map(|t| &t.id).collect();
            tickets::release_ticket_rows(tx, &ids, &order.id, now).await?;
            answers_with_tickets.push(Err(AppError::invalid(TICKET_RESERVED)));
            continue;
        }
        answers_with_tickets.push(OrderWithTicket::new(order, held).ok_or_else(lost));
    }
    let orders: Vec<Order> = answers_with_tickets
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
    Ok(answers_with_tickets)
}

/// One attempt decided on the batch as the attempts before it left it: the order to write, or
/// the buyer's refusal. `Err` of the outer result is the database failing.
async fn decide(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    batch: &mut Batch,
    attempt: &Attempt,
    now: Timestamp,
) -> Result<Result<Order, AppError>, AppError> {
    use crate::domain::order::{OrderLine, within_holding_limit};
    let settings = ctx.settings();
    let Attempt {
        buyer,
        wanted,
        seen_price,
    } = attempt;
    let chosen = match wanted {
        Wanted::Best {
            section_id,
            quantity,
        } => match pick_best(tx, batch, buyer, section_id, *quantity, now).await? {
            Ok(ids) => ids,
            Err(refusal) => return Ok(Err(refusal)),
        },
        _ => {
            let mut ids = Vec::with_capacity(wanted.chosen().len());
            for id in wanted.chosen() {
                match usable(tx, batch, buyer, id, now).await? {
                    Ok(()) => ids.push(id.clone()),
                    Err(refusal) => return Ok(Err(wanted.refusal(refusal))),
                }
            }
            if ids.len() > 1 {
                // An order's tickets are kept in seat order, however they were chosen.
                let refs: Vec<&Id> = ids.iter().collect();
                let keys = tickets::seat_order_keys(tx, &refs).await?;
                ids.sort_by_key(|id| keys.get(id).copied());
            }
            ids
        }
    };
    let lines: Vec<OrderLine> = chosen
        .iter()
        .filter_map(|id| batch.tickets.get(id))
        .map(|ticket| OrderLine::for_ticket(ticket, &settings.fees))
        .collect();
    if lines.is_empty() || lines.len() < chosen.len() {
        return Ok(Err(AppError::NotFound));
    }
    let total: i64 = lines.iter().map(|line| line.price.cents()).sum();
    if let Err(refusal) = check_seen_total(total, *seen_price) {
        return Ok(Err(refusal));
    }
    if settings.max_live_orders > 0 {
        let held = batch
            .live
            .iter()
            .filter(|(holder, until)| holder == buyer && *until > now)
            .count() as i64;
        if !may_hold_another(held, settings.max_live_orders) {
            return Ok(Err(AppError::invalid(TOO_MANY_RESERVATIONS)));
        }
    }
    // The event's per-buyer limit, counting what the buyer holds of it now.
    let event_id = batch
        .tickets
        .get(&chosen[0])
        .and_then(|t| t.event_seat.as_ref())
        .map(|seat| seat.event_id.clone());
    if let Some(event_id) = event_id {
        let key = (buyer.clone(), event_id.clone());
        let held = match batch.holding.get(&key) {
            Some(held) => *held,
            None => orders::tickets_held_for_event(tx, buyer, &event_id, now).await? as usize,
        };
        let event = match batch.events.get(&event_id) {
            Some(event) => event.clone(),
            None => {
                let event = storage::events::find_event(tx, &event_id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                batch.events.insert(event_id.clone(), event.clone());
                event
            }
        };
        if let Err(message) = within_holding_limit(held, lines.len(), event.max_per_buyer) {
            return Ok(Err(AppError::invalid_field(wanted.field(), &message)));
        }
        batch.holding.insert(key, held + lines.len());
    }
    let order = Order::reserve_all(
        clock::new_id(),
        lines,
        buyer,
        now,
        settings.reservation_window_ms,
    );
    batch.live.push((buyer.clone(), order.expires_at));
    Ok(Ok(order))
}

/// Whether `buyer` may take ticket `id` now, as the batch left it: a lapsed hold on it is freed
/// first. The refusal is the domain's.
async fn usable(
    tx: &mut AnyConnection,
    batch: &mut Batch,
    buyer: &Id,
    id: &Id,
    now: Timestamp,
) -> Result<Result<(), crate::domain::DomainError>, AppError> {
    use crate::domain::DomainError;
    let Some(mut ticket) = batch.tickets.get(id).cloned() else {
        return Ok(Err(DomainError::invalid(
            crate::domain::ticket::LISTING_REMOVED,
        )));
    };
    if !batch.decided.contains(id) && ticket.live_order_at(now).is_none() {
        // Its hold had lapsed and the sweeper had not yet freed it: freed now, first.
        match free_lapsed_hold(tx, &ticket, now).await? {
            Freed::Nothing => {}
            Freed::Released => {
                ticket = tickets::lock_ticket(tx, id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                batch.tickets.insert(id.clone(), ticket.clone());
            }
            Freed::Busy => return Ok(Err(DomainError::invalid(TICKET_RESERVED))),
        }
    }
    // The domain's refusal is this attempt's answer, not a failure of the transaction.
    if let Err(refusal) = check_reservation(&ticket, buyer, None, now) {
        return Ok(Err(refusal));
    }
    if batch.decided.contains(id) {
        return Ok(Err(DomainError::invalid(TICKET_RESERVED)));
    }
    Ok(Ok(()))
}

/// Best available for one attempt, from the section's free seats as the batch left them: seats
/// found taken after all are passed over for others. The refusal says how many are left.
async fn pick_best(
    tx: &mut AnyConnection,
    batch: &mut Batch,
    buyer: &Id,
    section_id: &Id,
    quantity: u32,
    now: Timestamp,
) -> Result<Result<Vec<Id>, AppError>, AppError> {
    use crate::domain::best_available::{FreeSeat, best_available};
    use crate::domain::event::{EVENT_CANCELLED, EventStatus, Seating, seat_place};
    use crate::domain::order::{OWN_TICKET, seats_left};
    use crate::ssr::storage::events;
    if !batch.sections.contains_key(section_id) {
        let event_id = match events::section_event(tx, section_id).await? {
            Some((event, EventStatus::Published)) => event,
            Some((_, EventStatus::Cancelled)) => {
                return Ok(Err(AppError::invalid(EVENT_CANCELLED)));
            }
            _ => return Ok(Err(AppError::NotFound)),
        };
        // Its cancellation waits for this reservation, or it for the cancellation.
        events::share_event(tx, &event_id).await?;
        let event = events::find_event(tx, &event_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let rows = events::list_sections(tx, &event_id)
            .await?
            .into_iter()
            .find(|section| &section.id == section_id)
            .map(|section| match section.seating {
                Seating::Seated { rows } => rows,
                Seating::General { .. } => Vec::new(),
            })
            .unwrap_or_default();
        let free = events::free_seats_placed(tx, section_id, now, FREE_SEATS_READ).await?;
        batch.events.insert(event_id, event.clone());
        batch.sections.insert(
            section_id.clone(),
            SectionSeats {
                event,
                rows,
                free,
                unusable: Default::default(),
                busy: Default::default(),
            },
        );
    }
    loop {
        let Some(section) = batch.sections.get(section_id) else {
            return Ok(Err(AppError::NotFound));
        };
        if &section.event.organiser_id == buyer {
            return Ok(Err(AppError::invalid(OWN_TICKET)));
        }
        let free: Vec<FreeSeat<Id>> = section
            .free
            .iter()
            .filter(|(id, _)| !batch.decided.contains(id) && !section.unusable.contains(id))
            .map(|(id, label)| FreeSeat {
                id: id.clone(),
                place: label
                    .as_deref()
                    .and_then(|label| seat_place(&section.rows, label)),
            })
            .collect();
        let Some(picked) = best_available(&free, quantity as usize) else {
            // Before saying how few are left: seats another transaction only held for a moment
            // (another node's batch trying them too) are waited for and looked at again.
            let busy: Vec<Id> = batch
                .sections
                .get_mut(section_id)
                .map(|section| section.busy.drain().collect())
                .unwrap_or_default();
            if busy.is_empty() {
                return Ok(Err(AppError::invalid_field(
                    "quantity",
                    &seats_left(free.len()),
                )));
            }
            let refs: Vec<&Id> = busy.iter().collect();
            let Some(waited) = tickets::wait_for_tickets(tx, &refs).await? else {
                // That transaction waits for this one: they stay passed over.
                continue;
            };
            for ticket in waited {
                batch.tickets.insert(ticket.id.clone(), ticket);
            }
            if let Some(section) = batch.sections.get_mut(section_id) {
                for id in &busy {
                    section.unusable.remove(id);
                }
            }
            continue;
        };
        // Read and held now; on PostgreSQL a seat another transaction is taking is skipped.
        let unread: Vec<&Id> = picked
            .iter()
            .filter(|id| !batch.tickets.contains_key(*id))
            .collect();
        let read = tickets::read_tickets(tx, &unread, Read::LockedUnlessBusy).await?;
        for ticket in read {
            batch.tickets.insert(ticket.id.clone(), ticket);
        }
        let mut all_usable = true;
        for id in &picked {
            let read = batch.tickets.contains_key(id);
            let ok = read && usable(tx, batch, buyer, id, now).await?.is_ok();
            if !ok {
                all_usable = false;
                if let Some(section) = batch.sections.get_mut(section_id) {
                    section.unusable.insert(id.clone());
                    if !read {
                        section.busy.insert(id.clone());
                    }
                }
            }
        }
        if all_usable {
            return Ok(Ok(picked));
        }
    }
}

/// Group commit of reservations (SQLite's one writer; on PostgreSQL one batch at a time per
/// node, batches of several nodes side by side). Reservations that arrive while the writer is busy
/// wait together and then go in one transaction: each is decided on its own (its ticket
/// locked and checked, the partial unique index guarding its order) and answered on its own,
/// but they share one `BEGIN`, one commit and the pages they touch, which is most of what a
/// reservation costs. Should one of them fail after writing, the transaction is rolled back
/// and every one of them runs again in a transaction of its own.
pub struct Reservations {
    waiting: std::sync::Mutex<Vec<Waiting>>,
    /// Batches that may run at once on this node.
    writers: std::sync::Arc<tokio::sync::Semaphore>,
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

impl Default for Reservations {
    fn default() -> Reservations {
        Reservations::new(1)
    }
}

impl Reservations {
    /// Most reservations in one transaction.
    const MAX_BATCH: usize = 64;

    /// Group commit with up to `writers` batches running at once (at least one).
    pub fn new(writers: usize) -> Reservations {
        Reservations {
            waiting: Default::default(),
            writers: std::sync::Arc::new(tokio::sync::Semaphore::new(writers.max(1))),
            next: Default::default(),
            shared: Default::default(),
            batches: Default::default(),
        }
    }

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
                writer = self.writers.clone().acquire_owned() => match writer {
                    Ok(writer) => writer,
                    // The semaphore is never closed.
                    Err(_) => return Err(lost()),
                },
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
    let ids: Vec<&Id> = order.ticket_ids().collect();
    tickets::release_ticket_rows(conn, &ids, &order.id, now).await?;
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

/// How many more tickets of `event` the signed-in buyer may take now (its per-buyer limit less
/// what they hold); `None` when nobody is signed in.
pub async fn allowance(
    ctx: &Ctx,
    event: &crate::domain::event::Event,
) -> Result<Option<u32>, AppError> {
    let Some(buyer) = ctx.actor() else {
        return Ok(None);
    };
    let held = orders::tickets_held_for_event(
        &mut *ctx.db().read.acquire().await?,
        buyer,
        &event.id,
        ctx.now(),
    )
    .await?;
    Ok(Some(
        (i64::from(event.max_per_buyer) - held).clamp(0, i64::from(u32::MAX)) as u32,
    ))
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
    OrderWithTicket::read(&mut conn, order).await
}

/// An order with its ticket (for answers about an order someone else acted on).
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %order.id)
)]
pub async fn order_with_ticket(ctx: &Ctx, order: Order) -> Result<OrderWithTicket, AppError> {
    OrderWithTicket::read(&mut *ctx.db().read.acquire().await?, order).await
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
    let ids: Vec<&Id> = orders.iter().flat_map(Order::ticket_ids).collect();
    let mut found = std::collections::HashMap::new();
    for chunk in ids.chunks(512) {
        for ticket in tickets::read_tickets(&mut conn, chunk, Read::Plain).await? {
            found.insert(ticket.id.clone(), ticket);
        }
    }
    for order in orders {
        let own = order
            .ticket_ids()
            .filter_map(|id| found.get(id).cloned())
            .collect();
        listed.extend(OrderWithTicket::new(order, own));
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
        let ids: Vec<&Id> = batch.iter().flat_map(Order::ticket_ids).collect();
        let free: std::collections::HashSet<Id> =
            tickets::read_tickets(&mut tx, &ids, Read::LockedUnlessBusy)
                .await?
                .into_iter()
                .map(|ticket| ticket.id)
                .collect();
        let mut expired_now = 0;
        for order in batch
            .iter()
            .filter(|order| order.ticket_ids().all(|id| free.contains(id)))
        {
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
