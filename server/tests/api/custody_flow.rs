//! Random sequences of what happens to one seat of an event — bought, resold, bought again, refunded,
//! scanned at the door — run through the real services against the real database: after every
//! step the seat has at most one valid code, and a code that was revoked or used never admits.

use crate::helpers::*;
use app::domain::custody::CheckIn;
use app::domain::role::Role;
use app::domain::{Id, Price, TicketStatus};
use app::ssr::Ctx;
use app::ssr::services::door;
use app::ssr::services::orders::{self, ReserveTicket};
use app::ssr::services::payments::{self, PayOrder};
use app::ssr::services::refunds::{self, RefundOrder};
use app::ssr::services::tickets::{self, ResellTicket};
use app::ssr::services::transfers::{self, TransferTicket};
use app::ssr::services::users::{self, Credentials};
use app::ssr::storage;
use proptest::prelude::*;

const BUYERS: usize = 3;

#[derive(Debug, Clone)]
enum Step {
    /// A buyer buys whichever listing of the seat is on sale.
    Buy { buyer: usize },
    /// Whoever holds the seat puts it up for resale.
    Resell,
    /// The n-th order so far is refunded.
    Refund { order: usize },
    /// The n-th code ever issued for the seat is scanned.
    Scan { code: usize },
    /// Whoever holds the seat gives it to a buyer.
    Transfer { to: usize },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0..BUYERS).prop_map(|buyer| Step::Buy { buyer }),
        2 => Just(Step::Resell),
        1 => (0usize..8).prop_map(|order| Step::Refund { order }),
        2 => (0usize..8).prop_map(|code| Step::Scan { code }),
        2 => (0..BUYERS).prop_map(|to| Step::Transfer { to }),
    ]
}

struct World {
    app: TestApp,
    seller: Id,
    buyers: Vec<Id>,
    emails: Vec<String>,
}

impl World {
    fn acting(&self, user: &Id) -> Ctx {
        Ctx::system(&self.app.state).acting_as(user.clone())
    }

    /// The newest listing of the seat that someone owns, and its owner.
    async fn holder(&self, listings: &[Id]) -> Option<(Id, Id)> {
        let mut conn = self.app.state.db.read.acquire().await.unwrap();
        for id in listings.iter().rev() {
            if let Some(owner) = storage::tickets::find_owner(&mut conn, id).await.unwrap() {
                return Some((id.clone(), owner));
            }
        }
        None
    }

    /// Every code issued for the seat, oldest first: (code, status).
    async fn codes(&self, seat: &Id) -> Vec<(String, String)> {
        let mut conn = self.app.state.db.read.acquire().await.unwrap();
        sqlx::query_as(
            "SELECT code, status FROM ticket_codes WHERE seat_id = $1 ORDER BY issued_at, code",
        )
        .bind(seat.as_str())
        .fetch_all(&mut *conn)
        .await
        .unwrap()
    }
}

async fn run_case(world: &World, steps: &[Step]) -> Result<(), TestCaseError> {
    // One seat of an event, sold by its organiser.
    let sale = world.app.event_on_sale("Derby", 20.0, 1).await;
    let event = Id::from_trusted(sale.event_id.clone());
    let seat: Id = {
        let mut conn = world.app.state.db.read.acquire().await.unwrap();
        let id: String = sqlx::query_scalar("SELECT id FROM tickets WHERE section_id = $1")
            .bind(&sale.section_id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        Id::from_trusted(id)
    };
    let first = tickets::get_ticket(&world.acting(&world.seller), &seat)
        .await
        .unwrap();
    // The seat's listings, in the order they were made.
    let mut listings = vec![first.id.clone()];
    let mut orders_made: Vec<Id> = Vec::new();
    let mut issued: Vec<String> = Vec::new();
    for step in steps {
        match step {
            Step::Buy { buyer } => {
                let mut on_sale = None;
                for id in &listings {
                    let ticket = tickets::get_ticket(&world.acting(&world.seller), id)
                        .await
                        .unwrap();
                    if ticket.status_at(world.app.clock.now()) == TicketStatus::Available {
                        on_sale = Some(ticket);
                    }
                }
                let Some(ticket) = on_sale else { continue };
                let buyer = world.acting(&world.buyers[*buyer]);
                let Ok(reserved) = orders::reserve_ticket(
                    &buyer,
                    ReserveTicket {
                        ticket_id: ticket.id,
                        seen_price: None,
                    },
                )
                .await
                else {
                    continue; // their own listing
                };
                payments::pay_order(
                    &buyer,
                    PayOrder {
                        order_id: reserved.order.id.clone(),
                        token: "tok_visa".into(),
                    },
                )
                .await
                .unwrap();
                orders_made.push(reserved.order.id);
            }
            Step::Resell => {
                // The newest sold listing's owner tries; the rules decide.
                if let Some((ticket_id, owner)) = world.holder(&listings).await
                    && let Ok(listing) = tickets::resell_ticket(
                        &world.acting(&owner),
                        ResellTicket {
                            ticket_id,
                            price: Price::from_cents(2100).unwrap(),
                            face_value: None,
                        },
                    )
                    .await
                {
                    listings.push(listing.id);
                }
            }
            Step::Transfer { to } => {
                if let Some((ticket_id, owner)) = world.holder(&listings).await {
                    let _ = transfers::transfer_ticket(
                        &world.acting(&owner),
                        TransferTicket {
                            ticket_id,
                            email: world.emails[*to].clone(),
                        },
                    )
                    .await;
                }
            }
            Step::Refund { order } => {
                if let Some(order_id) = orders_made.get(*order) {
                    let _ = refunds::refund_order(
                        &Ctx::system(&world.app.state),
                        RefundOrder {
                            ticket_id: None,
                            order_id: order_id.clone(),
                            reason: "Random refund".into(),
                            by: app::ssr::services::refunds::Operator::CommandLine,
                        },
                    )
                    .await;
                }
            }
            Step::Scan { code } => {
                issued = world
                    .codes(&seat)
                    .await
                    .into_iter()
                    .map(|(c, _)| c)
                    .collect();
                if let Some(code) = issued.get(*code) {
                    let before = world.codes(&seat).await;
                    let status = before.iter().find(|(c, _)| c == code).unwrap().1.clone();
                    let scan = door::check_in(&world.acting(&world.seller), &event, code)
                        .await
                        .unwrap();
                    match scan.outcome {
                        CheckIn::Valid { .. } => {
                            prop_assert_eq!(status, "valid", "only a valid code admits")
                        }
                        CheckIn::AlreadyUsed { .. } => prop_assert_eq!(status, "used"),
                        CheckIn::Revoked(_) => prop_assert_eq!(status, "revoked"),
                        CheckIn::Unknown => prop_assert!(false, "an issued code is known"),
                        CheckIn::WrongEvent => {
                            prop_assert!(false, "a code of the seat is for the seat's event")
                        }
                    }
                }
            }
        }
        let codes = world.codes(&seat).await;
        let valid = codes.iter().filter(|(_, s)| s == "valid").count();
        prop_assert!(valid <= 1, "two valid codes for one seat: {:?}", codes);
        // Nothing issued is ever forgotten.
        prop_assert!(codes.len() >= issued.len());
    }
    Ok(())
}

/// Cases default to 32; `PROPTEST_CASES` runs more.
#[test]
fn no_sequence_of_sales_resales_refunds_and_scans_gives_a_seat_two_valid_codes() {
    let runtime = property_runtime(2);
    let world = runtime.block_on(async {
        let app = spawn_app_with(|config| {
            config.auth_rate_limit = 0;
            config.order_rate_limit = 0;
            config.max_live_orders = 0;
        })
        .await;
        let system = Ctx::system(&app.state);
        let mut ids = Vec::new();
        let mut emails = Vec::new();
        for n in 0..=BUYERS {
            let credentials = Credentials {
                email: unique_email(),
                password: "correct horse battery".to_string(),
                ..Default::default()
            };
            let user = users::create_user(&system, &credentials).await.unwrap();
            if n == 0 {
                app::ssr::services::roles::grant_role(&system, &user.email, Role::Staff)
                    .await
                    .unwrap();
            }
            ids.push(user.id);
            emails.push(user.email);
        }
        let seller = ids.remove(0);
        emails.remove(0);
        World {
            app,
            seller,
            buyers: ids,
            emails,
        }
    });
    check_property(32, &prop::collection::vec(step(), 1..30), |steps| {
        runtime.block_on(run_case(&world, &steps))
    });
}
