//! Sellers get paid (docs/RULES.md, "Payouts and refunds"): escrow until `PAYOUT_DELAY` after
//! the event or the sale, payout accounts, the payout job with its retries and its guard
//! against paying twice, and refunds before and after a payout. Time moves by the test clock;
//! the payout job runs when a test runs a round.

use crate::helpers::*;
use app::domain::Id;
use app::domain::ledger::Account;
use app::ssr::Ctx;
use app::ssr::payments::Gateway;
use app::ssr::payments::test_mode::{TestGateway, TransferStep};
use app::ssr::services::payouts::{self, Round};
use app::ssr::services::refunds::{self, RefundOrder};
use app::ssr::storage::ledger;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const DAY: i64 = 86_400_000;

fn with_fees(config: &mut server::Config) {
    config.buyer_fee_percent = app::domain::fees::Percent::parse("10").unwrap();
    config.seller_fee_percent = app::domain::fees::Percent::parse("5").unwrap();
    config.max_live_orders = 0;
    config.order_rate_limit = 0;
}

fn gateway(app: &TestApp) -> &TestGateway {
    match &*app.state.gateway {
        Gateway::Test(gateway) => gateway,
        Gateway::Stripe(_) => panic!("these tests use the test-mode gateway"),
    }
}

async fn round(app: &TestApp) -> Round {
    payouts::run_round(&Ctx::system(&app.state)).await.unwrap()
}

/// Lists `body` as `seller`, and has a new buyer reserve and pay for it: (buyer, order).
async fn sell(app: &TestApp, seller: &Client, body: Value) -> (Client, Value) {
    let ticket = app.create_ticket(seller, &body).await;
    let (buyer, _) = app.signed_in_user().await;
    let order = app.buy(&buyer, ticket["id"].as_str().unwrap()).await;
    (buyer, order)
}

async fn overview(app: &TestApp, seller: &Client) -> Value {
    let response = app.get(seller, "/api/payouts").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn connect(app: &TestApp, seller: &Client) -> reqwest::Response {
    app.post_json(seller, "/api/payouts/account", &json!({}))
        .await
}

/// The ledger's view: (provider, platform fees, seller pending, seller available).
async fn books(app: &TestApp, seller: &str) -> (i64, i64, i64, i64) {
    let seller = Id::parse(seller).unwrap();
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let mut sum = async |account: Account| ledger::sum(&mut conn, &account).await.unwrap();
    let provider = sum(Account::Provider).await;
    let fees = -sum(Account::PlatformFees).await;
    let pending = -sum(Account::SellerPending(seller.clone())).await;
    let available = -sum(Account::SellerAvailable(seller)).await;
    assert_eq!(
        ledger::unbalanced_transactions(&mut conn).await.unwrap(),
        0,
        "every transaction balances"
    );
    (provider, fees, pending, available)
}

async fn refund(app: &TestApp, order: &Value) -> Result<app::domain::Order, app::AppError> {
    refunds::refund_order(
        &Ctx::system(&app.state),
        RefundOrder {
            ticket_id: None,
            order_id: Id::parse(order["id"].as_str().unwrap()).unwrap(),
            reason: "The event was cancelled".into(),
            by: app::ssr::services::refunds::Operator::CommandLine,
        },
    )
    .await
}

#[tokio::test]
async fn an_earning_waits_in_escrow_then_is_paid_to_the_connected_account() {
    let app = spawn_app_with(with_fees).await;
    let (seller, seller_email, seller_id) = app.verified_user().await;
    let sold_at = app.clock.now();
    sell(
        &app,
        &seller,
        json!({ "title": "Cup final", "price": 20.5 }),
    )
    .await;

    // 20.50 at 10 % + 5 %: the buyer paid 22.55, the seller is owed 19.47, in escrow.
    let shown = overview(&app, &seller).await;
    assert_eq!(shown["pending"], json!(19.47));
    assert_eq!(shown["available"], json!(0));
    assert_eq!(shown["paidOut"], json!(0));
    assert_eq!(shown["account"]["status"], "none");
    let release_at = app::domain::Timestamp(sold_at.millis() + 2 * DAY).to_rfc3339();
    assert_eq!(shown["nextReleaseAt"], json!(release_at));
    assert_eq!(shown["earnings"][0]["amount"], json!(19.47));
    assert_eq!(shown["earnings"][0]["status"], "pending");
    assert_eq!(shown["earnings"][0]["releaseAt"], json!(release_at));
    assert_eq!(books(&app, &seller_id).await, (2255, 308, 1947, 0));

    // Nothing moves until the delay is over, whoever runs the job.
    app.clock.advance(2 * DAY - 1);
    assert_eq!(round(&app).await, Round::default());
    app.clock.advance(1);
    let first = round(&app).await;
    assert_eq!((first.released, first.started), (1, 0), "no account yet");
    let shown = overview(&app, &seller).await;
    assert_eq!(shown["pending"], json!(0));
    assert_eq!(shown["available"], json!(19.47));
    assert_eq!(shown["earnings"][0]["status"], "available");
    assert_eq!(shown["nextReleaseAt"], Value::Null);

    // Connecting in test mode is instant; the next round pays the whole available balance.
    let connected = connect(&app, &seller).await;
    assert_eq!(connected.status(), StatusCode::OK);
    let connected: Value = connected.json().await.unwrap();
    assert_eq!(connected, json!({ "status": "ready" }));
    let paid = round(&app).await;
    assert_eq!((paid.started, paid.paid), (1, 1));
    let shown = overview(&app, &seller).await;
    assert_eq!(shown["available"], json!(0));
    assert_eq!(shown["paidOut"], json!(19.47));
    assert_eq!(shown["earnings"][0]["status"], "paid");
    let payout = &shown["payouts"][0];
    assert_eq!(payout["amount"], json!(19.47));
    assert_eq!(payout["status"], "paid");
    let transfers = gateway(&app).transfers();
    assert_eq!(transfers.len(), 1);
    assert_eq!(payout["stripeTransferId"], json!(transfers[0].id));
    assert_eq!(transfers[0].amount_cents, 1947);
    assert_eq!(transfers[0].currency, "usd");
    assert!(transfers[0].destination.starts_with("acct_test_"));
    assert_eq!(
        transfers[0].transfer_group,
        format!("ticketing-payout-{}", payout["id"].as_str().unwrap())
    );
    // The provider is left holding exactly the platform's fees.
    assert_eq!(books(&app, &seller_id).await, (308, 308, 0, 0));

    // The seller is told.
    app.deliver_mail().await;
    let mail = app.mailbox().await;
    let sent = mail
        .iter()
        .find(|m| m.to == seller_email && m.subject == "Payout sent: $19.47")
        .expect("a payout email");
    assert!(sent.text.contains("/payouts"), "{}", sent.text);

    // Later rounds pay nothing more.
    assert_eq!(round(&app).await, Round::default());
    assert_eq!(gateway(&app).transfers().len(), 1);
}

#[tokio::test]
async fn escrow_ends_two_days_after_the_event_not_the_sale() {
    let app = spawn_app_with(with_fees).await;
    let (seller, _, _) = app.verified_user().await;
    connect(&app, &seller).await;
    let starts_at = app::domain::Timestamp(app.clock.now().millis() + 10 * DAY);
    sell(
        &app,
        &seller,
        json!({ "title": "Derby", "price": 10, "startsAt": starts_at.to_rfc3339() }),
    )
    .await;
    let shown = overview(&app, &seller).await;
    let release_at = app::domain::Timestamp(starts_at.millis() + 2 * DAY);
    assert_eq!(
        shown["earnings"][0]["releaseAt"],
        json!(release_at.to_rfc3339())
    );
    app.clock.advance(3 * DAY);
    assert_eq!(
        round(&app).await,
        Round::default(),
        "the sale's date does not count"
    );
    app.clock.advance(9 * DAY);
    let paid = round(&app).await;
    assert_eq!((paid.released, paid.started, paid.paid), (1, 1, 1));
    assert_eq!(overview(&app, &seller).await["paidOut"], json!(9.5));
}

#[tokio::test]
async fn a_payout_account_needs_a_verified_address_and_a_signed_in_seller() {
    let app = spawn_app().await;
    let (unverified, _) = app.signed_in_user().await;
    assert_errors(
        connect(&app, &unverified).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": payouts::VERIFY_FIRST }]),
    )
    .await;
    assert_eq!(
        overview(&app, &unverified).await["account"]["status"],
        "none"
    );

    for path in ["/api/payouts", "/api/payouts/account"] {
        let signed_out = if path.ends_with("account") {
            app.post_json(&client(), path, &json!({})).await
        } else {
            app.get(&client(), path).await
        };
        assert_errors(
            signed_out,
            StatusCode::UNAUTHORIZED,
            json!([{ "message": "Not authorized" }]),
        )
        .await;
    }

    // Another site cannot connect an account in a signed-in seller's name.
    let (seller, _, _) = app.verified_user().await;
    let cross_site = seller
        .post(app.url("/api/payouts/account"))
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(overview(&app, &seller).await["account"]["status"], "none");

    // Hostile bodies: not an object, huge, markup — a clear error or a harmless connect.
    for body in ["[]", "\"<script>\"", "{\"x\":\"\\u0000\"}"] {
        let response = seller
            .post(app.url("/api/payouts/account"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            [StatusCode::OK, StatusCode::BAD_REQUEST].contains(&response.status()),
            "{body}: {}",
            response.status()
        );
    }
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(100_000));
    let response = seller
        .post(app.url("/api/payouts/account"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Connecting twice keeps one account.
    let first: Value = connect(&app, &seller).await.json().await.unwrap();
    let again: Value = connect(&app, &seller).await.json().await.unwrap();
    assert_eq!(
        (first["status"].clone(), again["status"].clone()),
        (json!("ready"), json!("ready"))
    );
}

#[tokio::test]
async fn a_transfer_whose_answer_was_lost_is_found_again_not_sent_twice() {
    let app = spawn_app_with(|c| c.payout_delay = 0).await;
    let (seller, _, seller_id) = app.verified_user().await;
    connect(&app, &seller).await;
    sell(&app, &seller, json!({ "title": "Gig", "price": 30 })).await;

    // The transfer is made at the provider, but the answer never reaches us.
    gateway(&app).script_transfers(vec![TransferStep::LoseAnswer]);
    let lost = round(&app).await;
    assert_eq!((lost.started, lost.paid), (1, 0));
    let shown = overview(&app, &seller).await;
    assert_eq!(shown["payouts"][0]["status"], "pending");
    assert_eq!(shown["available"], json!(30), "not recorded as paid yet");
    assert_eq!(gateway(&app).transfers().len(), 1);

    // Not retried before its time; then found at the provider and recorded, once.
    assert_eq!(round(&app).await, Round::default());
    app.clock.advance(30_000);
    let found = round(&app).await;
    assert_eq!(found.paid, 1);
    assert_eq!(gateway(&app).transfers().len(), 1, "one transfer in all");
    let shown = overview(&app, &seller).await;
    assert_eq!(shown["payouts"].as_array().unwrap().len(), 1);
    assert_eq!(shown["payouts"][0]["status"], "paid");
    assert_eq!(
        shown["payouts"][0]["stripeTransferId"],
        json!(gateway(&app).transfers()[0].id)
    );
    assert_eq!(books(&app, &seller_id).await, (0, 0, 0, 0));
}

#[tokio::test]
async fn an_unreachable_provider_is_retried_and_a_refusal_leaves_the_money_available() {
    let app = spawn_app_with(|c| c.payout_delay = 0).await;
    let (seller, _, _) = app.verified_user().await;
    connect(&app, &seller).await;
    sell(&app, &seller, json!({ "title": "Gig", "price": 12.34 })).await;

    let refusal = "Your destination account needs to have at least one of the following \
                   capabilities enabled: transfers";
    gateway(&app).script_transfers(vec![
        TransferStep::Unreachable,
        TransferStep::Refuse(refusal.into()),
    ]);
    assert_eq!(round(&app).await.paid, 0);
    app.clock.advance(30_000);
    let refused = round(&app).await;
    assert_eq!(refused.failed, 1);
    let shown = overview(&app, &seller).await;
    assert_eq!(shown["payouts"][0]["status"], "failed");
    assert_eq!(shown["available"], json!(12.34));
    assert_eq!(shown["earnings"][0]["status"], "available");
    assert!(gateway(&app).transfers().is_empty());

    // The next round starts a new payout, with a new key, and it goes through.
    let retried = round(&app).await;
    assert_eq!((retried.started, retried.paid), (1, 1));
    let shown = overview(&app, &seller).await;
    let statuses: Vec<&str> = shown["payouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["paid", "failed"]);
    assert_eq!(shown["paidOut"], json!(12.34));
    assert_eq!(shown["available"], json!(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn payout_rounds_racing_pay_each_balance_once() {
    let app = spawn_app_with(|c| {
        with_fees(c);
        c.payout_delay = 0;
    })
    .await;
    let mut sellers = Vec::new();
    for n in 0..3 {
        let (seller, _, id) = app.verified_user().await;
        connect(&app, &seller).await;
        for k in 0..2 {
            sell(
                &app,
                &seller,
                json!({ "title": format!("Seat {n}-{k}"), "price": 20.5 }),
            )
            .await;
        }
        sellers.push((seller, id));
    }
    let rounds = join_all((0..12).map(|_| round(&app))).await;
    let paid: usize = rounds.iter().map(|r| r.paid).sum();
    assert_eq!(paid, 3, "{rounds:?}");
    let transfers = gateway(&app).transfers();
    assert_eq!(transfers.len(), 3);
    assert!(transfers.iter().all(|t| t.amount_cents == 2 * 1947));
    for (seller, id) in &sellers {
        assert_eq!(overview(&app, seller).await["paidOut"], json!(38.94));
        assert_eq!(books(&app, id).await.3, 0);
    }
}

#[tokio::test]
async fn a_refund_in_escrow_gives_everything_back_and_puts_the_ticket_on_sale() {
    let app = spawn_app_with(with_fees).await;
    let (seller, seller_email, seller_id) = app.verified_user().await;
    let (buyer, order) = sell(
        &app,
        &seller,
        json!({ "title": "Opera <Tosca>", "price": 20.5 }),
    )
    .await;
    let order_id = order["id"].as_str().unwrap();
    let ticket_id = order["ticket"]["id"].as_str().unwrap();
    let mine = app.get(&buyer, "/tickets/mine").await.text().await.unwrap();
    assert!(mine.contains("Opera &lt;Tosca&gt;"), "the buyer's ticket");

    let refunded = refund(&app, &order).await.unwrap();
    assert_eq!(refunded.status, app::domain::OrderStatus::Cancelled);
    assert_eq!(gateway(&app).refund_count(), 1);

    // Every cent is back where it came from.
    assert_eq!(books(&app, &seller_id).await, (0, 0, 0, 0));
    let shown = overview(&app, &seller).await;
    assert_eq!(shown["earnings"][0]["status"], "reversed");
    assert_eq!(shown["pending"], json!(0));
    assert_eq!(
        app.charges_of(order_id).await[0].status,
        app::domain::ChargeStatus::Refunded
    );
    let order_now: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(order_now["status"], "cancelled");

    // The ticket is the seller's and on sale again; the buyer's code is gone.
    let ticket: Value = app
        .get_json(&client(), &format!("/api/tickets/{ticket_id}"))
        .await;
    assert_eq!(ticket["status"], "available");
    assert_eq!(ticket["userId"], json!(seller_id));
    let mine = app.get(&buyer, "/tickets/mine").await.text().await.unwrap();
    assert!(
        mine.contains("Refunded — this code is no longer valid"),
        "no longer the buyer's: {mine}"
    );
    assert!(!mine.contains("data-testid=\"ticket-code\""));
    assert!(
        app.events_for(order_id)
            .await
            .contains(&"OrderRefunded".to_string())
    );

    // Both are told, with the markup in the title harmless.
    app.deliver_mail().await;
    let mail = app.mailbox().await;
    let to_seller = mail
        .iter()
        .find(|m| m.to == seller_email && m.subject.starts_with("Sale refunded"))
        .expect("the seller is told");
    assert!(to_seller.html.contains("Opera &lt;Tosca&gt;"));
    assert!(
        mail.iter()
            .any(|m| m.subject == "Refunded: Opera <Tosca>" && m.text.contains("$22.55"))
    );

    // A second refund is refused, and changes nothing.
    let again = refund(&app, &order).await.unwrap_err();
    assert_eq!(again.to_string(), refunds::ALREADY_REFUNDED);
    assert_eq!(gateway(&app).refund_count(), 1);

    // Someone else can buy the seat now.
    let (_, second) = sell_existing(&app, ticket_id).await;
    assert_eq!(second["status"], "complete");
}

/// A new buyer reserves and pays for an existing listing; returns the order as it now stands.
async fn sell_existing(app: &TestApp, ticket_id: &str) -> (Client, Value) {
    let (buyer, _) = app.signed_in_user().await;
    let order = app.buy(&buyer, ticket_id).await;
    let shown = app
        .get_json(
            &buyer,
            &format!("/api/orders/{}", order["id"].as_str().unwrap()),
        )
        .await;
    (buyer, shown)
}

#[tokio::test]
async fn a_refund_after_the_payout_leaves_the_seller_owing_until_later_sales_repay_it() {
    let app = spawn_app_with(|c| {
        with_fees(c);
        c.payout_delay = 0;
    })
    .await;
    let (seller, _, seller_id) = app.verified_user().await;
    connect(&app, &seller).await;
    let (_, order) = sell(&app, &seller, json!({ "title": "Gig", "price": 20.5 })).await;
    assert_eq!(round(&app).await.paid, 1);

    refund(&app, &order).await.unwrap();
    let shown = overview(&app, &seller).await;
    assert_eq!(
        shown["available"],
        json!(-19.47),
        "the seller owes the payout"
    );
    assert_eq!(shown["earnings"][0]["status"], "reversed");
    // The provider paid the buyer back in full and had sent the seller 19.47.
    assert_eq!(books(&app, &seller_id).await, (-1947, 0, 0, -1947));

    // The next sale repays the debt first: nothing to pay out.
    sell(&app, &seller, json!({ "title": "Gig 2", "price": 20.5 })).await;
    let repaid = round(&app).await;
    assert_eq!((repaid.released, repaid.paid), (1, 0));
    assert_eq!(overview(&app, &seller).await["available"], json!(0));
    // The one after is paid.
    sell(&app, &seller, json!({ "title": "Gig 3", "price": 20.5 })).await;
    assert_eq!(round(&app).await.paid, 1);
    let shown = overview(&app, &seller).await;
    assert_eq!(shown["paidOut"], json!(38.94));
    assert_eq!(gateway(&app).transfers().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refunds_racing_on_one_order_refund_it_once() {
    let app = spawn_app_with(with_fees).await;
    let (seller, _, seller_id) = app.verified_user().await;
    let (_, order) = sell(&app, &seller, json!({ "title": "Gig", "price": 20.5 })).await;
    let results = join_all((0..10).map(|_| refund(&app, &order))).await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(err.to_string(), refunds::ALREADY_REFUNDED);
    }
    assert_eq!(gateway(&app).refund_count(), 1);
    assert_eq!(books(&app, &seller_id).await, (0, 0, 0, 0));
}

#[tokio::test]
async fn only_a_paid_order_whose_ticket_was_not_resold_can_be_refunded() {
    let app = spawn_app().await;
    let (buyer, reserved) = app.reserved_order().await;
    let not_paid = refund(&app, &reserved).await.unwrap_err();
    assert_eq!(not_paid.to_string(), refunds::NOT_PAID);
    let unknown = refund(
        &app,
        &json!({ "id": Id::parse("0191f4b2-5c3a-7d11-8e2f-0123456789ab").unwrap().to_string() }),
    )
    .await
    .unwrap_err();
    assert!(matches!(unknown, app::AppError::NotFound), "{unknown:?}");

    // A ticket its buyer has put up for resale is not taken back from under the new listing.
    let paid = app
        .post_json(
            &buyer,
            "/api/payments",
            &json!({ "orderId": reserved["id"], "token": "tok_visa" }),
        )
        .await;
    assert_eq!(paid.status(), StatusCode::CREATED);
    let ticket_id = reserved["ticket"]["id"].as_str().unwrap();
    let resale = app
        .post_json(
            &buyer,
            &format!("/api/tickets/{ticket_id}/resell"),
            &json!({ "price": 50 }),
        )
        .await;
    assert_eq!(resale.status(), StatusCode::CREATED);
    let refused = refund(&app, &reserved).await.unwrap_err();
    assert_eq!(refused.to_string(), refunds::RESOLD);
    assert_eq!(gateway(&app).refund_count(), 0);

    // Reasons are required, kept printable and bounded.
    assert!(refunds::parse_reason(" \u{0} ").is_err());
    assert!(refunds::parse_reason(&"x".repeat(501)).is_err());
    assert_eq!(
        refunds::parse_reason("Cancelled\u{7}<b>show</b>").unwrap(),
        "Cancelled <b>show</b>"
    );
}

#[tokio::test]
async fn a_refund_made_at_stripes_dashboard_reverses_the_sale_once() {
    let app = spawn_app_with(|c| {
        with_fees(c);
        c.stripe_webhook_secret = Some(crate::payments::WEBHOOK_SECRET.into());
    })
    .await;
    let (seller, _, seller_id) = app.verified_user().await;
    let (_, order) = sell(&app, &seller, json!({ "title": "Gig", "price": 20.5 })).await;
    let charge = app
        .charges_of(order["id"].as_str().unwrap())
        .await
        .remove(0);
    let event = json!({
        "id": "evt_dashboard_refund",
        "type": "charge.refunded",
        "data": { "object": {
            "payment_intent": charge.stripe_id,
            "metadata": { "charge_id": charge.id },
            "refunds": { "data": [{ "id": "re_dashboard" }] }
        } }
    });
    for _ in 0..2 {
        let response = crate::payments::deliver_signed(&app, event.clone()).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(books(&app, &seller_id).await, (0, 0, 0, 0));
    let stored = app
        .charges_of(order["id"].as_str().unwrap())
        .await
        .remove(0);
    assert_eq!(stored.stripe_refund_id.as_deref(), Some("re_dashboard"));
    let ticket: Value = app
        .get_json(
            &client(),
            &format!("/api/tickets/{}", order["ticket"]["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(ticket["status"], "available");
    assert_eq!(
        gateway(&app).refund_count(),
        0,
        "Stripe refunded it already"
    );
}

#[tokio::test]
async fn a_seller_onboards_at_stripe_connect_and_is_paid_by_transfer() {
    let (base, recorder) = crate::recorded_stripe::recording_stripe().await;
    let app = spawn_app_with(|c| {
        c.stripe_secret_key = Some("sk_test_recorded".into());
        c.stripe_api_base = Some(base.clone());
        c.stripe_webhook_secret = Some(crate::payments::WEBHOOK_SECRET.into());
        c.payout_delay = 0;
    })
    .await;
    let (seller, seller_email, seller_id) = app.verified_user().await;

    // An Express account, and a link to finish onboarding that comes back to our page.
    let connected: Value = connect(&app, &seller).await.json().await.unwrap();
    assert_eq!(connected["status"], "onboarding");
    assert_eq!(
        connected["onboardingUrl"],
        "https://connect.stripe.com/setup/e/acct_1ReCoRdEdSeLLeR/ReCoRdEdLiNk"
    );
    let seen = recorder.seen.lock().unwrap().clone();
    let account = seen.iter().find(|s| s.path == "/v1/accounts").unwrap();
    let form = |s: &crate::recorded_stripe::Seen, name: &str| {
        crate::recorded_stripe::form_value(&s.body, name)
    };
    assert_eq!(form(account, "type").as_deref(), Some("express"));
    assert_eq!(form(account, "email"), Some(seller_email));
    assert_eq!(
        form(account, "capabilities[transfers][requested]").as_deref(),
        Some("true")
    );
    assert_eq!(
        account.idempotency_key,
        Some(format!("ticketing-account-{seller_id}"))
    );
    let link = seen.iter().find(|s| s.path == "/v1/account_links").unwrap();
    assert_eq!(
        form(link, "account").as_deref(),
        Some("acct_1ReCoRdEdSeLLeR")
    );
    assert_eq!(form(link, "type").as_deref(), Some("account_onboarding"));
    assert_eq!(
        form(link, "return_url"),
        Some(app.url("/payouts?onboarding=return"))
    );
    assert_eq!(
        form(link, "refresh_url"),
        Some(app.url("/payouts?onboarding=refresh"))
    );

    // Connecting again reuses the account and makes a fresh link.
    connect(&app, &seller).await;
    let accounts = recorder
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path == "/v1/accounts")
        .count();
    assert_eq!(accounts, 1);

    // Stripe tells us the account is ready; an account that is not ours is ignored.
    for account in ["acct_1ReCoRdEdSeLLeR", "acct_someone_else"] {
        let event = json!({
            "id": format!("evt_account_{account}"),
            "type": "account.updated",
            "data": { "object": {
                "id": account,
                "capabilities": { "transfers": "active" },
                "details_submitted": true,
                "requirements": { "disabled_reason": null }
            } }
        });
        let response = crate::payments::deliver_signed(&app, event).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(overview(&app, &seller).await["account"]["status"], "ready");

    // A sale (the recorded PaymentIntent succeeds), then the transfer.
    sell(&app, &seller, json!({ "title": "Gig", "price": 20 })).await;
    let paid = round(&app).await;
    assert_eq!(paid.paid, 1, "{paid:?}");
    let shown = overview(&app, &seller).await;
    assert_eq!(
        shown["payouts"][0]["stripeTransferId"],
        "tr_1ReCoRdEdTrAnSfEr"
    );
    let payout_id = shown["payouts"][0]["id"].as_str().unwrap().to_string();
    let seen = recorder.seen.lock().unwrap().clone();
    let transfer = seen.iter().find(|s| s.path == "/v1/transfers").unwrap();
    assert_eq!(
        transfer.idempotency_key,
        Some(format!("ticketing-payout-{payout_id}"))
    );
    assert_eq!(form(transfer, "amount").as_deref(), Some("2000"));
    assert_eq!(form(transfer, "currency").as_deref(), Some("usd"));
    assert_eq!(
        form(transfer, "destination").as_deref(),
        Some("acct_1ReCoRdEdSeLLeR")
    );
    assert_eq!(
        form(transfer, "transfer_group"),
        Some(format!("ticketing-payout-{payout_id}"))
    );
}

#[tokio::test]
async fn stripe_refusing_a_transfer_fails_the_payout_and_keeps_the_balance() {
    let (base, _recorder) = crate::recorded_stripe::refusing_stripe().await;
    let app = spawn_app_with(|c| {
        c.stripe_secret_key = Some("sk_test_recorded".into());
        c.stripe_api_base = Some(base.clone());
        c.payout_delay = 0;
    })
    .await;
    let (seller, _, seller_id) = app.verified_user().await;
    connect(&app, &seller).await;
    // Ready by Stripe's own word, read back when the seller returns from onboarding.
    let back = app.get(&seller, "/payouts?onboarding=return").await;
    assert_eq!(back.status(), StatusCode::OK);
    assert_eq!(overview(&app, &seller).await["account"]["status"], "ready");
    sell(&app, &seller, json!({ "title": "Gig", "price": 20 })).await;
    let refused = round(&app).await;
    assert_eq!(refused.failed, 1, "{refused:?}");
    let shown = overview(&app, &seller).await;
    assert_eq!(shown["payouts"][0]["status"], "failed");
    assert_eq!(shown["available"], json!(20));
    assert_eq!(books(&app, &seller_id).await.3, 2000);
}

#[tokio::test]
async fn the_payouts_page_works_without_javascript() {
    let app = spawn_app_with(|c| c.payout_delay = 0).await;
    let (seller, _, _) = app.verified_user().await;
    sell(
        &app,
        &seller,
        json!({ "title": "<script>alert(1)</script> Gig", "price": 25 }),
    )
    .await;
    let page = app.get(&seller, "/payouts").await.text().await.unwrap();
    assert!(
        page.contains("In escrow") && page.contains("$25.00"),
        "{page}"
    );
    assert!(page.contains("Not connected"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; Gig"));
    assert!(!page.contains("<script>alert(1)"));

    // The connect button is a plain form; test mode connects at once and comes back.
    let posted = seller
        .post(app.url("/_fn/connect_payout_account"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url("/payouts"))
        .form(&[("", "")])
        .send()
        .await
        .unwrap();
    assert!(posted.status().is_redirection(), "{}", posted.status());
    assert_eq!(posted.headers()["location"], "/payouts?notice=connected");
    let page = app
        .get(&seller, "/payouts?notice=connected")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your payout account is connected."));
    assert!(page.contains("Ready for payouts"));

    assert_eq!(round(&app).await.paid, 1);
    let page = app.get(&seller, "/payouts").await.text().await.unwrap();
    assert!(page.contains("Sent") && page.contains("Paid out"), "{page}");

    // Signed out, the page asks to sign in and shows nothing of anyone's.
    let signed_out = app.get(&client(), "/payouts").await.text().await.unwrap();
    assert!(signed_out.contains("Sign in to see what your sales have earned"));
    assert!(!signed_out.contains("$25.00"));
}
