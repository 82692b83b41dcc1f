//! Orders: the reservation window and the order state machine. Pure rules with the time passed
//! in; storage and services apply them inside one write transaction.

use super::fees::{Breakdown, Fees};
use super::{DomainError, ErrorDetail};
use super::{Id, Price, Ticket, TicketStatus, Timestamp};
use serde::{Deserialize, Serialize};

pub const TICKET_RESERVED: &str = "Ticket is already reserved";
pub const TICKET_SOLD: &str = "Ticket is already sold";
pub const OWN_TICKET: &str = "You cannot buy your own ticket";
pub const PRICE_CHANGED: &str = "The price of this ticket has changed";
pub const ORDER_CANCELLED: &str = "Order is cancelled";
pub const ORDER_EXPIRED: &str = "Order has expired";
pub const ORDER_PAID: &str = "Order is already paid";
pub const TOO_MANY_RESERVATIONS: &str = "You already hold the most reservations allowed";

pub const TICKETS_EMPTY: &str = "Choose at least one ticket";
pub const TICKETS_REPEATED: &str = "Each ticket can be chosen once";
pub const TICKETS_OF_ONE_EVENT: &str = "Choose tickets of one event";
pub const TICKETS_TOO_MANY: &str = "Choose at most 20 tickets";
pub const QUANTITY_INVALID: &str = "Quantity must be a whole number of at least 1";

/// The refusal when a section has fewer than the seats asked for: `Only N seats left in this
/// section`, or that it is sold out.
pub fn seats_left(free: usize) -> String {
    match free {
        0 => super::event::SECTION_SOLD_OUT.to_string(),
        1 => "Only 1 seat left in this section".to_string(),
        n => format!("Only {n} seats left in this section"),
    }
}

/// Whether a buyer holding `held` tickets of an event may take `more`, the event allowing
/// `max` per buyer; the refusal names the limit.
pub fn within_holding_limit(held: usize, more: usize, max: u32) -> Result<(), String> {
    if held + more <= max as usize {
        Ok(())
    } else {
        Err(format!("You can hold at most {max} tickets for this event"))
    }
}

/// A buyer holding `live` reservations may take another unless that reaches `max` (0: no limit).
pub fn may_hold_another(live: i64, max: u32) -> bool {
    max == 0 || live < i64::from(max)
}

/// Where an order is in its life. `Created` and `AwaitingPayment` hold the ticket until
/// `expires_at`; `Complete` and `Cancelled` are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderStatus {
    #[serde(rename = "created")]
    Created,
    #[serde(rename = "awaiting:payment")]
    AwaitingPayment,
    #[serde(rename = "complete")]
    Complete,
    #[serde(rename = "cancelled")]
    Cancelled,
}

impl OrderStatus {
    /// Every status.
    pub const ALL: [OrderStatus; 4] = [
        OrderStatus::Created,
        OrderStatus::AwaitingPayment,
        OrderStatus::Complete,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Created => "created",
            OrderStatus::AwaitingPayment => "awaiting:payment",
            OrderStatus::Complete => "complete",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// A live order holds its ticket (until it expires).
    pub fn is_live(self) -> bool {
        matches!(self, OrderStatus::Created | OrderStatus::AwaitingPayment)
    }
}

super::error::stored_status!(OrderStatus, "order");

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub id: Id,
    pub buyer_id: Id,
    /// The order's first ticket (`lines[0]`), as the seed's one-ticket orders had it.
    pub ticket_id: Id,
    pub status: OrderStatus,
    /// The sum of the tickets' prices when they were reserved: what the buyer pays before the
    /// fee, whatever the sellers do later.
    pub price: Price,
    /// The buyer's fees at reservation (each ticket's rounded on its own), added to the price.
    pub buyer_fee_cents: i64,
    /// The sellers' fees at reservation, kept from their earnings.
    pub seller_fee_cents: i64,
    pub expires_at: Timestamp,
    pub version: i64,
    pub created_at: Timestamp,
    /// Every ticket of the order, in seat order, with its own amounts. Never empty.
    pub lines: Vec<OrderLine>,
}

/// One ticket of an order, with its amounts as fixed at reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub ticket_id: Id,
    pub price: Price,
    pub buyer_fee_cents: i64,
    pub seller_fee_cents: i64,
    /// Refunded on its own (the order stands for its other tickets).
    pub refunded: bool,
}

impl OrderLine {
    /// A line for `ticket` at its price now, with the fees of the moment.
    pub fn for_ticket(ticket: &Ticket, fees: &Fees) -> OrderLine {
        let amounts = fees.breakdown(ticket.price);
        OrderLine {
            ticket_id: ticket.id.clone(),
            price: ticket.price,
            buyer_fee_cents: amounts.buyer_fee_cents,
            seller_fee_cents: amounts.seller_fee_cents,
            refunded: false,
        }
    }

    /// This ticket's share of the order's amounts.
    pub fn amounts(&self) -> Breakdown {
        let price_cents = self.price.cents();
        Breakdown {
            price_cents,
            buyer_fee_cents: self.buyer_fee_cents,
            total_cents: price_cents + self.buyer_fee_cents,
            seller_fee_cents: self.seller_fee_cents,
            seller_net_cents: price_cents - self.seller_fee_cents,
        }
    }
}

impl Order {
    /// A new reservation of `ticket` by `buyer` at `now`, holding it for `window_ms`, with the
    /// fees of the moment.
    pub fn reserve(
        id: Id,
        ticket: &Ticket,
        buyer: &Id,
        now: Timestamp,
        window_ms: i64,
        fees: &Fees,
    ) -> Order {
        Order::reserve_all(
            id,
            vec![OrderLine::for_ticket(ticket, fees)],
            buyer,
            now,
            window_ms,
        )
    }

    /// A new reservation of several tickets (`lines`, at least one, in seat order) by `buyer` at
    /// `now`, holding them for `window_ms`: the order's amounts are the lines' sums.
    pub fn reserve_all(
        id: Id,
        lines: Vec<OrderLine>,
        buyer: &Id,
        now: Timestamp,
        window_ms: i64,
    ) -> Order {
        let sum = |cents: fn(&OrderLine) -> i64| lines.iter().map(cents).sum::<i64>();
        Order {
            id,
            buyer_id: buyer.clone(),
            ticket_id: lines
                .first()
                .map(|line| line.ticket_id.clone())
                .expect("an order holds at least one ticket"),
            status: OrderStatus::Created,
            price: Price::from_stored(sum(|line| line.price.cents())),
            buyer_fee_cents: sum(|line| line.buyer_fee_cents),
            seller_fee_cents: sum(|line| line.seller_fee_cents),
            expires_at: now.plus_millis(window_ms),
            version: 0,
            created_at: now,
            lines,
        }
    }

    /// The ids of the order's tickets, in seat order.
    pub fn ticket_ids(&self) -> impl Iterator<Item = &Id> {
        self.lines.iter().map(|line| &line.ticket_id)
    }

    /// What the buyer pays: the price and the buyer's fee.
    pub fn total_cents(&self) -> i64 {
        self.price.cents() + self.buyer_fee_cents
    }

    /// The amounts of this order, as they were fixed at reservation.
    pub fn amounts(&self) -> Breakdown {
        let price_cents = self.price.cents();
        Breakdown {
            price_cents,
            buyer_fee_cents: self.buyer_fee_cents,
            total_cents: self.total_cents(),
            seller_fee_cents: self.seller_fee_cents,
            seller_net_cents: price_cents - self.seller_fee_cents,
        }
    }

    /// Holds its ticket at `now`: live and its window not yet over.
    pub fn is_live_at(&self, now: Timestamp) -> bool {
        self.status.is_live() && now < self.expires_at
    }

    /// Live in storage but past its window: the sweeper (or the next writer) cancels it.
    pub fn has_lapsed_at(&self, now: Timestamp) -> bool {
        self.status.is_live() && now >= self.expires_at
    }

    /// The status a user sees at `now`: a lapsed order is cancelled, swept or not.
    pub fn status_at(&self, now: Timestamp) -> OrderStatus {
        if self.has_lapsed_at(now) {
            OrderStatus::Cancelled
        } else {
            self.status
        }
    }

    /// Milliseconds of the window left at `now` (0 once it is over or the order is final).
    pub fn millis_left_at(&self, now: Timestamp) -> i64 {
        if self.is_live_at(now) {
            self.expires_at.millis() - now.millis()
        } else {
            0
        }
    }

    /// The order as it stands after moving to `status`: every change moves the version on.
    pub fn moved_to(&self, status: OrderStatus) -> Order {
        Order {
            status,
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// Only the buyer may see or change an order.
    pub fn check_owner(&self, user: &Id) -> Result<(), DomainError> {
        if &self.buyer_id == user {
            Ok(())
        } else {
            Err(DomainError::Forbidden)
        }
    }

    /// The buyer cancels: only a live order can be (a lapsed one already is).
    pub fn cancel(&self, now: Timestamp) -> Result<OrderStatus, DomainError> {
        match self.status_at(now) {
            OrderStatus::Created | OrderStatus::AwaitingPayment => Ok(OrderStatus::Cancelled),
            OrderStatus::Complete => Err(DomainError::invalid(ORDER_PAID)),
            OrderStatus::Cancelled => Err(DomainError::invalid(ORDER_CANCELLED)),
        }
    }

    /// Payment may start on a live order only.
    pub fn can_be_paid_at(&self, now: Timestamp) -> Result<(), DomainError> {
        match self.status {
            OrderStatus::Complete => Err(DomainError::invalid(ORDER_PAID)),
            OrderStatus::Cancelled => Err(DomainError::invalid(ORDER_CANCELLED)),
            _ if self.has_lapsed_at(now) => Err(DomainError::invalid(ORDER_EXPIRED)),
            _ => Ok(()),
        }
    }
}

/// One line of a hosted checkout page: what the buyer is shown and pays for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutLine {
    pub name: String,
    /// A ticket's price and buyer's fee.
    pub unit_amount_cents: i64,
    pub quantity: u64,
}

/// The longest line name a checkout page is given.
const LINE_NAME_MAX_CHARS: usize = 200;

/// `order` as lines of a hosted checkout: an event's own seats of one section at one price on
/// one line (with how many), each resale listing or other listing on a line of its own. Each
/// line's unit amount is a ticket's price and fee, so the lines add up to the order's total.
/// `tickets` are the order's tickets (any order).
pub fn checkout_lines(order: &Order, tickets: &[Ticket]) -> Vec<CheckoutLine> {
    let mut lines: Vec<(Option<&Id>, CheckoutLine)> = Vec::new();
    for line in &order.lines {
        let Some(ticket) = tickets.iter().find(|t| t.id == line.ticket_id) else {
            continue;
        };
        let unit = line.amounts().total_cents;
        let section = ticket
            .event_seat
            .as_ref()
            .filter(|_| ticket.is_primary())
            .map(|seat| &seat.section_id);
        if let Some(section) = section
            && let Some((_, same)) = lines
                .iter_mut()
                .find(|(s, l)| *s == Some(section) && l.unit_amount_cents == unit)
        {
            same.quantity += 1;
            continue;
        }
        let name = match (
            section,
            ticket.event_seat.as_ref().and_then(|s| s.seat.as_ref()),
        ) {
            (None, Some(seat)) => format!("{} ({seat}, resale)", ticket.title),
            (None, None) if ticket.event_seat.is_some() => format!("{} (resale)", ticket.title),
            _ => ticket.title.clone(),
        };
        lines.push((
            section,
            CheckoutLine {
                name: name.chars().take(LINE_NAME_MAX_CHARS).collect(),
                unit_amount_cents: unit,
                quantity: 1,
            },
        ));
    }
    lines.into_iter().map(|(_, line)| line).collect()
}

/// Whether `buyer` may reserve `ticket` at `now`, having seen `seen_price` (if they say).
/// The order of checks is what the buyer needs to hear first: own ticket, sold, held by someone
/// else, then a changed price.
pub fn check_reservation(
    ticket: &Ticket,
    buyer: &Id,
    seen_price: Option<Price>,
    now: Timestamp,
) -> Result<(), DomainError> {
    if &ticket.seller_id == buyer {
        return Err(DomainError::invalid(OWN_TICKET));
    }
    match ticket.status_at(now) {
        TicketStatus::Sold => return Err(DomainError::invalid(TICKET_SOLD)),
        TicketStatus::Reserved => return Err(DomainError::invalid(TICKET_RESERVED)),
        TicketStatus::Removed => {
            return Err(DomainError::invalid(super::ticket::LISTING_REMOVED));
        }
        TicketStatus::Available => {}
    }
    match seen_price {
        Some(seen) if seen != ticket.price => Err(DomainError::Conflict(ErrorDetail::field(
            "price",
            PRICE_CHANGED,
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod hoarding_tests {
    use super::{may_hold_another, seats_left, within_holding_limit};

    #[test]
    fn a_buyer_holds_at_most_the_events_limit_of_its_tickets() {
        for (held, more, max, allowed) in [
            (0, 8, 8, true),
            (0, 9, 8, false),
            (6, 2, 8, true),
            (7, 2, 8, false),
            (8, 0, 8, true),
            (0, 1, 1, true),
            (1, 1, 1, false),
            (0, usize::MAX / 2, 20, false),
        ] {
            let answer = within_holding_limit(held, more, max);
            assert_eq!(answer.is_ok(), allowed, "{held} + {more} of {max}");
            if let Err(message) = answer {
                assert_eq!(
                    message,
                    format!("You can hold at most {max} tickets for this event")
                );
            }
        }
    }

    #[test]
    fn the_seats_left_are_counted_in_words() {
        assert_eq!(seats_left(0), "This section is sold out");
        assert_eq!(seats_left(1), "Only 1 seat left in this section");
        assert_eq!(seats_left(3), "Only 3 seats left in this section");
    }

    #[test]
    fn a_buyer_holds_at_most_max_live_reservations_unless_unlimited() {
        for (live, max, allowed) in [
            (0, 4, true),
            (3, 4, true),
            (4, 4, false),
            (9, 4, false),
            (1000, 0, true),
            (0, 1, true),
            (1, 1, false),
        ] {
            assert_eq!(may_hold_another(live, max), allowed, "{live} of {max}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Category;
    use proptest::prelude::*;

    fn id(n: u32) -> Id {
        Id::from_trusted(format!("00000000-0000-7000-8000-{n:012}"))
    }

    fn ticket() -> Ticket {
        Ticket {
            id: id(1),
            title: "Cup final".into(),
            price: Price::from_stored(5000),
            face_value: None,
            seller_id: id(2),
            order_id: None,
            version: 0,
            category: Category::Sports,
            venue: None,
            starts_at: None,
            time_zone: None,
            status: TicketStatus::Available,
            reserved_until: None,
            resold_from: None,
            created_at: Timestamp(0),
            event_seat: None,
        }
    }

    #[test]
    fn statuses_round_trip_through_storage_and_json() {
        for status in [
            OrderStatus::Created,
            OrderStatus::AwaitingPayment,
            OrderStatus::Complete,
            OrderStatus::Cancelled,
        ] {
            assert_eq!(OrderStatus::parse(status.as_str()), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
    }

    #[test]
    fn an_order_holds_its_ticket_for_the_window_and_not_a_millisecond_longer() {
        let order = Order::reserve(
            id(3),
            &ticket(),
            &id(4),
            Timestamp(1_000),
            900_000,
            &Fees::default(),
        );
        assert_eq!(order.price, Price::from_stored(5000));
        assert_eq!(order.expires_at, Timestamp(901_000));
        assert!(order.is_live_at(Timestamp(900_999)));
        assert_eq!(order.millis_left_at(Timestamp(1_000)), 900_000);
        assert!(!order.is_live_at(Timestamp(901_000)));
        assert_eq!(order.status_at(Timestamp(901_000)), OrderStatus::Cancelled);
        assert_eq!(order.millis_left_at(Timestamp(901_000)), 0);
    }

    #[test]
    fn reservation_rules_at_fixed_times() {
        let buyer = id(4);
        let now = Timestamp(10_000);
        let seen = Some(Price::from_stored(5000));
        let mut held = ticket();
        held.status = TicketStatus::Reserved;
        held.order_id = Some(id(9));
        held.reserved_until = Some(Timestamp(10_001));
        let mut lapsed = held.clone();
        lapsed.reserved_until = Some(now);
        let mut sold = ticket();
        sold.status = TicketStatus::Sold;
        type Case<'a> = (&'a Ticket, &'a Id, Option<Price>, Result<(), DomainError>);
        let cases: [Case; 7] = [
            (&ticket(), &buyer, seen, Ok(())),
            (&ticket(), &buyer, None, Ok(())),
            (
                &ticket(),
                &id(2),
                seen,
                Err(DomainError::invalid(OWN_TICKET)),
            ),
            (
                &held,
                &buyer,
                seen,
                Err(DomainError::invalid(TICKET_RESERVED)),
            ),
            (&lapsed, &buyer, seen, Ok(())),
            (&sold, &buyer, seen, Err(DomainError::invalid(TICKET_SOLD))),
            (
                &ticket(),
                &buyer,
                Some(Price::from_stored(4000)),
                Err(DomainError::Conflict(ErrorDetail::field(
                    "price",
                    PRICE_CHANGED,
                ))),
            ),
        ];
        for (ticket, buyer, seen, expected) in cases {
            assert_eq!(
                check_reservation(ticket, buyer, seen, now),
                expected,
                "{:?} {seen:?}",
                ticket.status
            );
        }
    }

    #[test]
    fn checkout_lines_group_a_sections_seats_and_add_up_to_the_total() {
        use crate::domain::ticket::EventSeat;
        let fees = Fees {
            buyer: crate::domain::fees::Percent::parse("10").unwrap(),
            seller: crate::domain::fees::Percent::parse("5").unwrap(),
        };
        let seat = |n: u32, section: u32, price: i64, resold: bool| {
            let mut t = ticket();
            t.id = id(100 + n);
            t.title = "Show — Stalls".into();
            t.price = Price::from_stored(price);
            t.resold_from = resold.then(|| id(900 + n));
            t.event_seat = Some(EventSeat {
                event_id: id(50),
                section_id: id(section),
                seat: Some(format!("Row A, Seat {n}")),
            });
            t
        };
        let tickets = [
            seat(1, 60, 4000, false),
            seat(2, 60, 4000, false),
            seat(3, 61, 2500, false),
            seat(4, 60, 3999, true),
        ];
        let lines = tickets
            .iter()
            .map(|t| OrderLine::for_ticket(t, &fees))
            .collect();
        let order = Order::reserve_all(id(3), lines, &id(4), Timestamp(0), 1_000);
        let checkout = checkout_lines(&order, &tickets);
        assert_eq!(
            checkout,
            vec![
                CheckoutLine {
                    name: "Show — Stalls".into(),
                    unit_amount_cents: 4400,
                    quantity: 2
                },
                CheckoutLine {
                    name: "Show — Stalls".into(),
                    unit_amount_cents: 2750,
                    quantity: 1
                },
                CheckoutLine {
                    name: "Show — Stalls (Row A, Seat 4, resale)".into(),
                    unit_amount_cents: 4399,
                    quantity: 1,
                },
            ]
        );
        let sum: i64 = checkout
            .iter()
            .map(|l| l.unit_amount_cents * l.quantity as i64)
            .sum();
        assert_eq!(sum, order.total_cents());
        // An other listing (no event) is one line of its own title.
        let single = Order::reserve(id(5), &ticket(), &id(4), Timestamp(0), 1_000, &fees);
        assert_eq!(
            checkout_lines(&single, &[ticket()]),
            vec![CheckoutLine {
                name: "Cup final".into(),
                unit_amount_cents: 5500,
                quantity: 1
            }]
        );
    }

    #[test]
    fn cancelling_and_paying_follow_the_state_machine() {
        let order = Order::reserve(
            id(3),
            &ticket(),
            &id(4),
            Timestamp(0),
            1_000,
            &Fees::default(),
        );
        assert_eq!(order.cancel(Timestamp(999)), Ok(OrderStatus::Cancelled));
        assert_eq!(
            order.cancel(Timestamp(1_000)),
            Err(DomainError::invalid(ORDER_CANCELLED))
        );
        assert_eq!(order.can_be_paid_at(Timestamp(999)), Ok(()));
        assert_eq!(
            order.can_be_paid_at(Timestamp(1_000)),
            Err(DomainError::invalid(ORDER_EXPIRED))
        );
        let paid = Order {
            status: OrderStatus::Complete,
            ..order.clone()
        };
        assert_eq!(
            paid.cancel(Timestamp(0)),
            Err(DomainError::invalid(ORDER_PAID))
        );
        assert_eq!(
            paid.can_be_paid_at(Timestamp(0)),
            Err(DomainError::invalid(ORDER_PAID))
        );
        assert_eq!(order.check_owner(&id(4)), Ok(()));
        assert_eq!(order.check_owner(&id(2)), Err(DomainError::Forbidden));
    }

    /// What can happen to one ticket, in any order, at any time.
    #[derive(Debug, Clone)]
    enum Step {
        Reserve { buyer: u32, seen_price: Option<i64> },
        Cancel { order: usize, by: u32 },
        Pay { order: usize },
        Reprice { cents: i64 },
        Tick { millis: i64 },
        Sweep,
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (
                (2u32..6),
                proptest::option::of(prop_oneof![Just(5000i64), Just(6000i64)])
            )
                .prop_map(|(buyer, seen_price)| Step::Reserve { buyer, seen_price }),
            ((0usize..8), (2u32..6)).prop_map(|(order, by)| Step::Cancel { order, by }),
            (0usize..8).prop_map(|order| Step::Pay { order }),
            prop_oneof![Just(5000i64), Just(6000i64)].prop_map(|cents| Step::Reprice { cents }),
            (0i64..1_500).prop_map(|millis| Step::Tick { millis }),
            Just(Step::Sweep),
        ]
    }

    /// A model of the services' transactions built from the domain rules alone: every step
    /// applies the same checks, in the same order, as the real write transaction does.
    struct Model {
        ticket: Ticket,
        orders: Vec<Order>,
        now: Timestamp,
    }

    impl Model {
        /// Frees the ticket from a lapsed order (what the sweeper and every writer do first).
        fn sweep(&mut self) {
            let now = self.now;
            for order in &mut self.orders {
                if order.has_lapsed_at(now) {
                    order.status = OrderStatus::Cancelled;
                    if self.ticket.order_id.as_ref() == Some(&order.id)
                        && self.ticket.status == TicketStatus::Reserved
                    {
                        self.ticket.status = TicketStatus::Available;
                        self.ticket.order_id = None;
                        self.ticket.reserved_until = None;
                    }
                }
            }
        }

        fn apply(&mut self, step: &Step) {
            let now = self.now;
            match step {
                Step::Reserve { buyer, seen_price } => {
                    let seen = seen_price.map(Price::from_stored);
                    if check_reservation(&self.ticket, &id(*buyer), seen, now).is_ok() {
                        self.sweep();
                        let order = Order::reserve(
                            id(100 + self.orders.len() as u32),
                            &self.ticket,
                            &id(*buyer),
                            now,
                            1_000,
                            &Fees::default(),
                        );
                        assert_eq!(
                            Some(order.price),
                            seen.or(Some(self.ticket.price)),
                            "the buyer pays what they saw"
                        );
                        self.ticket.status = TicketStatus::Reserved;
                        self.ticket.order_id = Some(order.id.clone());
                        self.ticket.reserved_until = Some(order.expires_at);
                        self.orders.push(order);
                    }
                }
                Step::Cancel { order, by } => {
                    if let Some(order) = self.orders.get_mut(*order)
                        && order.check_owner(&id(*by)).is_ok()
                        && let Ok(status) = order.cancel(now)
                    {
                        order.status = status;
                        if self.ticket.order_id.as_ref() == Some(&order.id)
                            && self.ticket.status == TicketStatus::Reserved
                        {
                            self.ticket.status = TicketStatus::Available;
                            self.ticket.order_id = None;
                            self.ticket.reserved_until = None;
                        }
                    }
                }
                Step::Pay { order } => {
                    if let Some(order) = self.orders.get_mut(*order)
                        && order.can_be_paid_at(now).is_ok()
                    {
                        order.status = OrderStatus::Complete;
                        assert_eq!(
                            self.ticket.order_id.as_ref(),
                            Some(&order.id),
                            "a payable order holds the ticket"
                        );
                        self.ticket.status = TicketStatus::Sold;
                        self.ticket.reserved_until = None;
                    }
                }
                Step::Reprice { cents } => {
                    if self.ticket.can_be_edited_by(&id(2), now).is_ok() {
                        self.sweep();
                        self.ticket.price = Price::from_stored(*cents);
                    }
                }
                Step::Tick { millis } => self.now = self.now.plus_millis(*millis),
                Step::Sweep => self.sweep(),
            }
        }

        fn check_invariants(&self) {
            let live: Vec<&Order> = self
                .orders
                .iter()
                .filter(|o| o.is_live_at(self.now))
                .collect();
            assert!(live.len() <= 1, "two live orders on one ticket: {live:?}");
            let complete = self
                .orders
                .iter()
                .filter(|o| o.status == OrderStatus::Complete)
                .count();
            assert!(complete <= 1, "sold twice");
            if self.ticket.status_at(self.now) == TicketStatus::Sold {
                assert!(live.is_empty(), "a sold ticket with a live order");
                assert_eq!(complete, 1);
            }
            if let Some(order) = live.first() {
                assert_eq!(self.ticket.status_at(self.now), TicketStatus::Reserved);
                assert_eq!(self.ticket.order_id.as_ref(), Some(&order.id));
            } else {
                assert_ne!(
                    self.ticket.status_at(self.now),
                    TicketStatus::Reserved,
                    "held by nobody"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn no_sequence_of_events_double_books_a_ticket(steps in proptest::collection::vec(step(), 1..60)) {
            let mut model = Model { ticket: ticket(), orders: Vec::new(), now: Timestamp(0) };
            for step in &steps {
                model.apply(step);
                model.check_invariants();
            }
        }
    }
}
