//! Random sequences of what buyers, the seller, the clock and the sweeper do to one ticket, run
//! through the real services against the real SQLite database: after every step, what is stored
//! must still describe one seat sold at most once.

use crate::helpers::*;
use app::AppError;
use app::domain::order::OWN_TICKET;
use app::domain::{Id, Order, OrderStatus, Price, Ticket, TicketDraft, TicketStatus, Title};
use app::ssr::Ctx;
use app::ssr::services::orders::{self, ReserveTicket};
use app::ssr::services::payments::{self, PayOrder};
use app::ssr::services::tickets::{self, EditTicket};
use app::ssr::services::users::{self, Credentials};
use app::ssr::storage;
use proptest::prelude::*;

const BUYERS: usize = 3;

#[derive(Debug, Clone)]
enum Step {
    /// A buyer reserves, at the price they saw (or without saying).
    Reserve { buyer: usize, seen: Option<i64> },
    /// Someone (maybe not its buyer) cancels the n-th order made so far.
    Cancel { order: usize, by: usize },
    /// The n-th order's buyer pays, with a card that pays or one that is declined.
    Pay { order: usize, declined: bool },
    /// The seller changes the price.
    Reprice { cents: i64 },
    /// Time passes (the reservation window is 15 minutes).
    Tick { minutes: i64 },
    /// The background sweep runs.
    Sweep,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..BUYERS, prop::option::of(prop::sample::select(vec![2000i64, 2500]))).prop_map(|(buyer, seen)| Step::Reserve { buyer, seen }),
        2 => (0..8usize, 0..BUYERS).prop_map(|(order, by)| Step::Cancel { order, by }),
        2 => (0..8usize, prop::bool::weighted(0.3)).prop_map(|(order, declined)| Step::Pay { order, declined }),
        2 => prop::sample::select(vec![2000i64, 2500]).prop_map(|cents| Step::Reprice { cents }),
        2 => prop::sample::select(vec![1i64, 7, 14, 16]).prop_map(|minutes| Step::Tick { minutes }),
        1 => Just(Step::Sweep),
    ]
}

struct World {
    app: TestApp,
    seller: Id,
    buyers: Vec<Id>,
}

impl World {
    /// An app with a seller and `buyers` buyers, and at most `max_live_orders` live
    /// reservations per buyer (0: no limit).
    async fn new(buyers: usize, max_live_orders: u32) -> World {
        let app = spawn_app_with(|config| {
            config.auth_rate_limit = 0;
            config.order_rate_limit = 0;
            config.max_live_orders = max_live_orders;
        })
        .await;
        let system = Ctx::system(&app.state);
        let mut ids = Vec::new();
        for _ in 0..=buyers {
            let credentials = Credentials {
                email: unique_email(),
                password: "correct horse battery".to_string(),
                ..Default::default()
            };
            ids.push(users::create_user(&system, &credentials).await.unwrap().id);
        }
        let seller = ids.remove(0);
        World {
            app,
            seller,
            buyers: ids,
        }
    }

    fn as_user(&self, user: &Id) -> Ctx {
        Ctx::system(&self.app.state).acting_as(user.clone())
    }

    /// The ticket and every order for it, as stored.
    async fn stored(&self, ticket_id: &Id) -> (Ticket, Vec<Order>) {
        let mut conn = self.app.state.db.read.acquire().await.unwrap();
        let ticket = storage::tickets::find_ticket(&mut conn, ticket_id)
            .await
            .unwrap()
            .unwrap();
        let mut orders = Vec::new();
        for buyer in &self.buyers {
            let theirs = storage::orders::list_orders_by_buyer(&mut conn, buyer)
                .await
                .unwrap();
            orders.extend(theirs.into_iter().filter(|o| &o.ticket_id == ticket_id));
        }
        (ticket, orders)
    }
}

async fn run_case(world: &World, steps: &[Step]) -> Result<(), TestCaseError> {
    let draft = TicketDraft {
        title: Title::parse("Cup final").unwrap(),
        price: Price::from_cents(2000).unwrap(),
        face_value: None,
        category: app::domain::Category::Sports,
        venue: None,
        starts_at: None,
        time_zone: None,
    };
    let ticket = tickets::list_ticket(&world.as_user(&world.seller), draft)
        .await
        .unwrap();
    let mut made: Vec<Id> = Vec::new();
    for step in steps {
        match step {
            Step::Reserve { buyer, seen } => {
                let price_before = world.stored(&ticket.id).await.0.price;
                let input = ReserveTicket {
                    ticket_id: ticket.id.clone(),
                    seen_price: seen.map(|cents| Price::from_cents(cents).unwrap()),
                };
                if let Ok(reserved) =
                    orders::reserve_ticket(&world.as_user(&world.buyers[*buyer]), input).await
                {
                    let expected = seen.map_or(price_before, |c| Price::from_cents(c).unwrap());
                    prop_assert_eq!(
                        reserved.order.price,
                        expected,
                        "the buyer pays what they saw"
                    );
                    made.push(reserved.order.id);
                }
            }
            Step::Cancel { order, by } => {
                if let Some(id) = made.get(*order) {
                    let _ = orders::cancel_order(&world.as_user(&world.buyers[*by]), id).await;
                }
            }
            Step::Pay { order, declined } => {
                if let Some(id) = made.get(*order) {
                    let (_, stored) = world.stored(&ticket.id).await;
                    let buyer = &stored.iter().find(|o| &o.id == id).unwrap().buyer_id;
                    let token = if *declined {
                        "tok_chargeDeclined"
                    } else {
                        "tok_visa"
                    };
                    let input = PayOrder {
                        order_id: id.clone(),
                        token: token.to_string(),
                    };
                    let _ = payments::pay_order(&world.as_user(buyer), input).await;
                }
            }
            Step::Reprice { cents } => {
                let input = EditTicket {
                    ticket_id: ticket.id.clone(),
                    draft: Ok(TicketDraft {
                        title: Title::parse("Cup final").unwrap(),
                        price: Price::from_cents(*cents).unwrap(),
                        face_value: None,
                        category: app::domain::Category::Sports,
                        venue: None,
                        starts_at: None,
                        time_zone: None,
                    }),
                    expected_version: None,
                };
                let _ = tickets::edit_ticket(&world.as_user(&world.seller), input).await;
            }
            Step::Tick { minutes } => world.app.clock.advance(minutes * 60_000),
            Step::Sweep => {
                orders::expire_orders(&Ctx::system(&world.app.state))
                    .await
                    .unwrap();
            }
        }

        let now = world.app.clock.now();
        let (stored_ticket, stored_orders) = world.stored(&ticket.id).await;
        let live: Vec<&Order> = stored_orders.iter().filter(|o| o.is_live_at(now)).collect();
        let complete = stored_orders
            .iter()
            .filter(|o| o.status == OrderStatus::Complete)
            .count();
        prop_assert!(live.len() <= 1, "two live orders on one ticket: {:?}", live);
        prop_assert!(complete <= 1, "sold twice: {:?}", stored_orders);
        match stored_ticket.status_at(now) {
            TicketStatus::Sold => {
                prop_assert!(live.is_empty(), "a sold ticket with a live order");
                prop_assert_eq!(complete, 1);
            }
            TicketStatus::Reserved => {
                prop_assert_eq!(live.len(), 1, "reserved by nobody");
                prop_assert_eq!(stored_ticket.order_id.as_ref(), Some(&live[0].id));
            }
            TicketStatus::Available => {
                prop_assert!(live.is_empty(), "on sale while held: {:?}", live);
                prop_assert_eq!(complete, 0, "on sale after it was sold");
            }
            TicketStatus::Removed => prop_assert!(false, "nobody took this listing down"),
        }
    }
    Ok(())
}

/// Cases default to 48; `PROPTEST_CASES` runs more.
#[test]
fn no_sequence_of_steps_on_the_real_database_double_books_a_ticket() {
    let runtime = property_runtime(2);
    let world = runtime.block_on(World::new(BUYERS, 0));
    check_property(48, &prop::collection::vec(step(), 1..40), |steps| {
        runtime.block_on(run_case(&world, &steps))
    });
}

/// Buyers arriving together: a rush of attempts on a few tickets, all at once, so SQLite's
/// group commit decides several in one transaction.
#[derive(Debug, Clone)]
enum Rush {
    /// These attempts at the same moment: (buyer, ticket, price seen).
    Attempts(Vec<(usize, usize, Option<i64>)>),
    /// A buyer cancels the n-th order made so far in this case.
    Cancel { order: usize },
    /// Time passes.
    Tick { minutes: i64 },
    /// The background sweep runs.
    Sweep,
}

/// Tickets listed in each rush case: the seller's, and (the last) one of buyer 0's own.
const RUSH_TICKETS: usize = 4;
const RUSH_BUYERS: usize = 4;
/// Live reservations one buyer may hold in the rush cases.
const RUSH_LIMIT: usize = 2;

fn rush() -> impl Strategy<Value = Rush> {
    let attempt = (
        0..RUSH_BUYERS,
        0..RUSH_TICKETS,
        prop::option::of(prop::sample::select(vec![2000i64, 2500])),
    );
    prop_oneof![
        6 => prop::collection::vec(attempt, 1..14).prop_map(Rush::Attempts),
        2 => (0..12usize).prop_map(|order| Rush::Cancel { order }),
        2 => prop::sample::select(vec![1i64, 7, 16]).prop_map(|minutes| Rush::Tick { minutes }),
        1 => Just(Rush::Sweep),
    ]
}

async fn run_rush(world: &World, steps: &[Rush]) -> Result<(), TestCaseError> {
    // Earlier cases' holds have lapsed: every buyer starts with nothing live.
    world.app.clock.advance(16 * 60_000);
    let mut listed = Vec::new();
    for n in 0..RUSH_TICKETS {
        let seller = if n + 1 == RUSH_TICKETS {
            &world.buyers[0]
        } else {
            &world.seller
        };
        let draft = TicketDraft {
            title: Title::parse(&format!("Rush seat {n}")).unwrap(),
            price: Price::from_cents(2000).unwrap(),
            face_value: None,
            category: app::domain::Category::Concert,
            venue: None,
            starts_at: None,
            time_zone: None,
        };
        listed.push(
            tickets::list_ticket(&world.as_user(seller), draft)
                .await
                .unwrap(),
        );
    }
    let mut made: Vec<Order> = Vec::new();
    for step in steps {
        let now = world.app.clock.now();
        match step {
            Rush::Attempts(attempts) => {
                let mut before = Vec::new();
                for ticket in &listed {
                    before.push(world.stored(&ticket.id).await.0);
                }
                let answers =
                    futures::future::join_all(attempts.iter().map(|(buyer, ticket, seen)| {
                        let ctx = world.as_user(&world.buyers[*buyer]);
                        let input = ReserveTicket {
                            ticket_id: listed[*ticket].id.clone(),
                            seen_price: seen.map(|cents| Price::from_cents(cents).unwrap()),
                        };
                        tokio::spawn(async move { orders::reserve_ticket(&ctx, input).await })
                    }))
                    .await;
                let mut won = [0usize; RUSH_TICKETS];
                for ((buyer, ticket, seen), answer) in attempts.iter().zip(answers) {
                    match answer.unwrap() {
                        Ok(reserved) => {
                            won[*ticket] += 1;
                            prop_assert_eq!(&reserved.order.buyer_id, &world.buyers[*buyer]);
                            prop_assert_eq!(&reserved.order.ticket_id, &listed[*ticket].id);
                            prop_assert_eq!(
                                reserved.order.price,
                                seen.map_or(before[*ticket].price, |c| Price::from_cents(c)
                                    .unwrap()),
                                "the buyer pays what they saw"
                            );
                            prop_assert_eq!(
                                reserved.ticket.order_id.as_ref(),
                                Some(&reserved.order.id),
                                "answered with the ticket it holds"
                            );
                            prop_assert_eq!(
                                world.app.events_for(reserved.order.id.as_str()).await,
                                ["OrderCreated"]
                            );
                            made.push(reserved.order);
                        }
                        Err(err) => {
                            let refused =
                                matches!(err, AppError::Invalid(_) | AppError::Conflict(_));
                            prop_assert!(
                                refused,
                                "an attempt failed instead of being refused: {err:?}"
                            );
                            if world.buyers[*buyer] == listed[*ticket].seller_id {
                                prop_assert_eq!(err.to_string(), OWN_TICKET);
                            }
                        }
                    }
                }
                let mut live_after = Vec::new();
                for buyer in &world.buyers {
                    live_after.push(live_orders_of(world, buyer, now).await);
                }
                for (n, ticket) in listed.iter().enumerate() {
                    prop_assert!(won[n] <= 1, "{} buyers won one seat", won[n]);
                    // A seat on sale that an eligible buyer asked for is not left on sale: each
                    // attempt on it could only have been refused because another buyer took it.
                    let stored = world.stored(&ticket.id).await.0;
                    let asked = attempts.iter().any(|(buyer, t, seen)| {
                        *t == n
                            && world.buyers[*buyer] != ticket.seller_id
                            && seen.is_none_or(|c| c == before[n].price.cents())
                            && live_after[*buyer] < RUSH_LIMIT
                    });
                    // On PostgreSQL a seat whose lapsed hold the background sweep is ending at
                    // that moment is refused rather than waited for (waiting could deadlock).
                    let sweepable = on_postgres() && before[n].status == TicketStatus::Reserved;
                    if before[n].status_at(now) == TicketStatus::Available && asked && !sweepable {
                        prop_assert_eq!(
                            stored.status_at(now),
                            TicketStatus::Reserved,
                            "seat {} left on sale",
                            n
                        );
                    }
                }
            }
            Rush::Cancel { order } => {
                if let Some(order) = made.get(*order) {
                    let buyer = world.as_user(&order.buyer_id);
                    let _ = orders::cancel_order(&buyer, &order.id).await;
                }
            }
            Rush::Tick { minutes } => world.app.clock.advance(minutes * 60_000),
            Rush::Sweep => {
                orders::expire_orders(&Ctx::system(&world.app.state))
                    .await
                    .unwrap();
            }
        }

        let now = world.app.clock.now();
        for buyer in &world.buyers {
            let live = live_orders_of(world, buyer, now).await;
            prop_assert!(live <= RUSH_LIMIT, "a buyer holds {live} reservations");
        }
        for ticket in &listed {
            let (stored, orders) = world.stored(&ticket.id).await;
            let live: Vec<&Order> = orders.iter().filter(|o| o.is_live_at(now)).collect();
            prop_assert!(live.len() <= 1, "two live orders on one ticket: {:?}", live);
            match stored.status_at(now) {
                TicketStatus::Reserved => {
                    prop_assert_eq!(live.len(), 1, "reserved by nobody");
                    prop_assert_eq!(stored.order_id.as_ref(), Some(&live[0].id));
                }
                TicketStatus::Available => prop_assert!(live.is_empty(), "on sale while held"),
                other => prop_assert!(false, "nobody sold or removed this seat: {other:?}"),
            }
        }
    }
    Ok(())
}

/// `buyer`'s orders that hold a seat at `now`, on any ticket.
async fn live_orders_of(world: &World, buyer: &Id, now: app::domain::Timestamp) -> usize {
    let mut conn = world.app.state.db.read.acquire().await.unwrap();
    let orders = storage::orders::list_orders_by_buyer(&mut conn, buyer)
        .await
        .unwrap();
    orders.iter().filter(|o| o.is_live_at(now)).count()
}

/// Cases default to 48; `PROPTEST_CASES` runs more.
#[test]
fn no_rush_of_buyers_on_the_real_database_double_books_a_seat_or_leaves_one_unsold() {
    let runtime = property_runtime(4);
    let world = runtime.block_on(World::new(RUSH_BUYERS, RUSH_LIMIT as u32));
    check_property(48, &prop::collection::vec(rush(), 1..12), |steps| {
        runtime.block_on(run_rush(&world, &steps))
    });
    if !on_postgres() {
        let (shared, _) = world.app.state.reservations.shared_transactions();
        assert!(shared > 0, "some rushes shared a transaction");
    }
}
