//! Random days of a marketplace — sales with and without event dates, time passing, sellers
//! connecting payout accounts, payout rounds, refunds, and a payment provider that loses
//! answers, is unreachable or refuses — run through the real services against the real
//! database. After every step what is stored must add up: every ledger transaction balances,
//! the provider holds what is owed plus the platform's fees, the balances agree with the
//! earnings they come from, and the provider never sent a seller more than the ledger says was
//! paid out (exactly that, once every retry has run).

use crate::helpers::*;
use app::domain::ledger::{Account, Kind};
use app::domain::{Category, Id, Price, TicketDraft, Timestamp, Title};
use app::ssr::Ctx;
use app::ssr::payments::Gateway;
use app::ssr::payments::test_mode::{TestGateway, TransferStep};
use app::ssr::services::orders::{self, ReserveTicket};
use app::ssr::services::payments::{self, PayOrder};
use app::ssr::services::payouts::{self, Round};
use app::ssr::services::refunds::{self, RefundOrder};
use app::ssr::services::tickets;
use app::ssr::services::users::{self, Credentials};
use app::ssr::storage;
use proptest::prelude::*;

const SELLERS: usize = 3;
const HOUR: i64 = 3_600_000;

#[derive(Debug, Clone)]
enum Step {
    /// A seller's listing is bought and paid; the event is `days` ahead, or undated.
    Sell {
        seller: usize,
        cents: i64,
        days: Option<i64>,
    },
    Tick {
        hours: i64,
    },
    Connect {
        seller: usize,
    },
    Round,
    /// The n-th sale so far is refunded.
    Refund {
        sale: usize,
    },
    /// The provider's next transfer call goes wrong this way.
    Trouble(TransferStep),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..SELLERS, 1i64..50_000, prop::option::of(0i64..5))
            .prop_map(|(seller, cents, days)| Step::Sell { seller, cents, days }),
        3 => prop::sample::select(vec![1i64, 12, 49]).prop_map(|hours| Step::Tick { hours }),
        2 => (0..SELLERS).prop_map(|seller| Step::Connect { seller }),
        4 => Just(Step::Round),
        2 => (0usize..30).prop_map(|sale| Step::Refund { sale }),
        1 => prop_oneof![
            Just(TransferStep::LoseAnswer),
            Just(TransferStep::Unreachable),
            Just(TransferStep::Refuse("Your destination account cannot receive transfers".into())),
        ]
        .prop_map(Step::Trouble),
    ]
}

struct World {
    app: TestApp,
    sellers: Vec<Id>,
    buyer: Id,
}

impl World {
    fn system(&self) -> Ctx {
        Ctx::system(&self.app.state)
    }

    fn gateway(&self) -> &TestGateway {
        match &*self.app.state.gateway {
            Gateway::Test(gateway) => gateway,
            Gateway::Stripe(_) => unreachable!("test mode"),
        }
    }

    async fn sell(&self, seller: &Id, cents: i64, days: Option<i64>) -> Id {
        let now = self.app.clock.now();
        let draft = TicketDraft {
            title: Title::parse("Gig").unwrap(),
            price: Price::from_cents(cents).unwrap(),
            face_value: None,
            category: Category::Concert,
            venue: None,
            starts_at: days.map(|d| Timestamp(now.millis() + d * 24 * HOUR + HOUR)),
            time_zone: None,
        };
        let ticket = tickets::list_ticket(&self.system().acting_as(seller.clone()), draft)
            .await
            .unwrap();
        let buyer = self.system().acting_as(self.buyer.clone());
        let reserved = orders::reserve_ticket(
            &buyer,
            ReserveTicket {
                ticket_id: ticket.id,
                seen_price: None,
            },
        )
        .await
        .unwrap();
        payments::pay_order(
            &buyer,
            PayOrder {
                order_id: reserved.order.id.clone(),
                token: "tok_visa".into(),
            },
        )
        .await
        .unwrap();
        reserved.order.id
    }

    /// Checks what is stored; with `settled`, also that every transfer made is recorded.
    async fn check(&self, settled: bool) -> Result<(), TestCaseError> {
        let mut conn = self.app.state.db.read.acquire().await.unwrap();
        let ledger = &mut *conn;
        prop_assert_eq!(
            storage::ledger::unbalanced_transactions(ledger)
                .await
                .unwrap(),
            0
        );
        let provider = storage::ledger::sum(ledger, &Account::Provider)
            .await
            .unwrap();
        let fees = -storage::ledger::sum(ledger, &Account::PlatformFees)
            .await
            .unwrap();
        let mut owed = 0;
        let transfers = self.gateway().transfers();
        for seller in &self.sellers {
            let pending = -storage::ledger::sum(ledger, &Account::SellerPending(seller.clone()))
                .await
                .unwrap();
            let available =
                -storage::ledger::sum(ledger, &Account::SellerAvailable(seller.clone()))
                    .await
                    .unwrap();
            let paid_out = storage::ledger::sum_of_kind(
                ledger,
                &Account::SellerAvailable(seller.clone()),
                Kind::Payout,
            )
            .await
            .unwrap();
            owed += pending + available;
            // The balances are what the earnings say, never a counter of their own.
            let earnings = storage::payouts::list_earnings(ledger, seller, 10_000)
                .await
                .unwrap();
            use app::domain::payout::EarningStatus::*;
            let in_escrow: i64 = earnings
                .iter()
                .filter(|e| e.status == Pending)
                .map(|e| e.net_cents)
                .sum();
            let released: i64 = earnings
                .iter()
                .filter(|e| [Available, Paid].contains(&e.status))
                .map(|e| e.net_cents)
                .sum();
            prop_assert_eq!(pending, in_escrow);
            prop_assert_eq!(available, released - paid_out);
            // What the provider sent this seller: at least what the ledger paid out, and more
            // only while a transfer's answer is still unrecorded.
            let account = storage::payouts::find_account(ledger, seller, storage::Read::Plain)
                .await
                .unwrap();
            let sent: i64 = transfers
                .iter()
                .filter(|t| {
                    account
                        .as_ref()
                        .is_some_and(|a| a.stripe_account_id == t.destination)
                })
                .map(|t| t.amount_cents)
                .sum();
            if settled {
                prop_assert_eq!(sent, paid_out, "sent exactly what was paid out");
            } else {
                prop_assert!(sent >= paid_out, "sent {} < paid out {}", sent, paid_out);
            }
        }
        prop_assert_eq!(provider, owed + fees);
        Ok(())
    }
}

async fn run_case(world: &World, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut sales: Vec<Id> = Vec::new();
    for step in steps {
        match step {
            Step::Sell {
                seller,
                cents,
                days,
            } => sales.push(world.sell(&world.sellers[*seller], *cents, *days).await),
            Step::Tick { hours } => world.app.clock.advance(hours * HOUR),
            Step::Connect { seller } => {
                let ctx = world.system().acting_as(world.sellers[*seller].clone());
                payouts::connect_account(&ctx).await.unwrap();
            }
            Step::Round => {
                payouts::run_round(&world.system()).await.unwrap();
            }
            Step::Refund { sale } => {
                if let Some(order_id) = sales.get(*sale) {
                    let refund = RefundOrder {
                        ticket_id: None,
                        order_id: order_id.clone(),
                        reason: "Cancelled".into(),
                        by: app::ssr::services::refunds::Operator::CommandLine,
                    };
                    match refunds::refund_order(&world.system(), refund).await {
                        Ok(_) => {}
                        Err(err) => prop_assert_eq!(err.to_string(), refunds::ALREADY_REFUNDED),
                    }
                }
            }
            Step::Trouble(trouble) => world.gateway().script_transfers(vec![trouble.clone()]),
        }
        world.check(false).await?;
    }
    // Let every retry come due and run; then every transfer made is recorded, once.
    world.gateway().script_transfers(Vec::new());
    for _ in 0..10 {
        world.app.clock.advance(2 * HOUR);
        if payouts::run_round(&world.system()).await.unwrap() == Round::default() {
            break;
        }
    }
    world.check(true).await
}

/// Cases default to 32; `PROPTEST_CASES` runs more.
#[test]
fn money_adds_up_after_any_sequence_of_sales_payouts_and_refunds() {
    let runtime = property_runtime(2);
    let world = runtime.block_on(async {
        let app = spawn_app_with(|config| {
            config.auth_rate_limit = 0;
            config.order_rate_limit = 0;
            config.max_live_orders = 0;
            config.buyer_fee_percent = app::domain::fees::Percent::parse("7.5").unwrap();
            config.seller_fee_percent = app::domain::fees::Percent::parse("3.33").unwrap();
        })
        .await;
        let system = Ctx::system(&app.state);
        let mut ids = Vec::new();
        for _ in 0..=SELLERS {
            let credentials = Credentials {
                email: unique_email(),
                password: "correct horse battery".to_string(),
                ..Default::default()
            };
            let user = users::create_user(&system, &credentials).await.unwrap();
            let mut tx = app.state.db.begin_write().await.unwrap();
            let email = user.email.to_string();
            storage::accounts::mark_email_verified(&mut tx, &user.id, &email, app.clock.now())
                .await
                .unwrap();
            tx.commit().await.unwrap();
            ids.push(user.id);
        }
        let buyer = ids.remove(0);
        World {
            app,
            sellers: ids,
            buyer,
        }
    });
    check_property(32, &prop::collection::vec(step(), 1..40), |steps| {
        runtime.block_on(run_case(&world, &steps))
    });
}
