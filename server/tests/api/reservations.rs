//! Random sequences of what buyers, the seller, the clock and the sweeper do to one ticket, run
//! through the real services against the real SQLite database: after every step, what is stored
//! must still describe one seat sold at most once.

use crate::helpers::*;
use app::domain::{Id, Order, OrderStatus, Price, Ticket, TicketDraft, TicketStatus, Title};
use app::ssr::Ctx;
use app::ssr::services::orders::{self, ReserveTicket};
use app::ssr::services::payments::{self, PayOrder};
use app::ssr::services::tickets::{self, EditTicket};
use app::ssr::services::users::{self, Credentials};
use app::ssr::storage;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

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
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let world = runtime.block_on(async {
        let app = spawn_app_with(|config| {
            config.auth_rate_limit = 0;
            config.order_rate_limit = 0;
            config.max_live_orders = 0;
        })
        .await;
        let system = Ctx::system(&app.state);
        let mut ids = Vec::new();
        for _ in 0..=BUYERS {
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
    });
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        ..ProptestConfig::default()
    });
    let result = runner.run(&prop::collection::vec(step(), 1..40), |steps| {
        runtime.block_on(run_case(&world, &steps))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
