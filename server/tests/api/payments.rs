//! `POST /api/payments` and `POST /api/webhooks/stripe` with the
//! built-in test-mode gateway.

use crate::helpers::*;
use app::domain::{ChargeStatus, Id, OrderStatus};
use app::ssr::Ctx;
use app::ssr::payments::Gateway;
use app::ssr::payments::webhook::sign;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

pub(crate) const WEBHOOK_SECRET: &str = "whsec_test_ticketing";

/// A seller's ticket at 20.00 reserved by a buyer: returns the buyer's client, the order and the ticket id.
async fn reserved_order(app: &TestApp) -> (Client, Value, String) {
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 20 }))
        .await;
    let ticket_id = ticket["id"].as_str().unwrap().to_string();
    let (buyer, _) = app.signed_in_user().await;
    let response = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": ticket_id }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    (buyer, response.json().await.unwrap(), ticket_id)
}

async fn pay(app: &TestApp, client: &Client, order_id: &str, token: &str) -> reqwest::Response {
    app.post_json(
        client,
        "/api/payments",
        &json!({ "orderId": order_id, "token": token }),
    )
    .await
}

async fn ticket_json(app: &TestApp, ticket_id: &str) -> Value {
    app.get_json(&client(), &format!("/api/tickets/{ticket_id}"))
        .await
}

fn test_gateway(app: &TestApp) -> &app::ssr::payments::test_mode::TestGateway {
    match &*app.state.gateway {
        Gateway::Test(gateway) => gateway,
        #[allow(unreachable_patterns)]
        _ => panic!("the tests run with the test-mode gateway"),
    }
}

#[tokio::test]
async fn paying_signed_out_is_401() {
    let app = spawn_app().await;
    let (_, order, _) = reserved_order(&app).await;
    let response = pay(&app, &client(), order["id"].as_str().unwrap(), "tok_visa").await;
    assert_errors(
        response,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
}

#[tokio::test]
async fn paying_an_unknown_order_is_404() {
    let app = spawn_app().await;
    let (buyer, _) = app.signed_in_user().await;
    let response = pay(
        &app,
        &buyer,
        "0191f4b2-5c3a-7d11-8e2f-0123456789ab",
        "tok_visa",
    )
    .await;
    assert_errors(
        response,
        StatusCode::NOT_FOUND,
        json!([{ "message": "Not found" }]),
    )
    .await;
}

#[tokio::test]
async fn paying_someone_elses_order_is_403_and_charges_nothing() {
    let app = spawn_app().await;
    let (_, order, _) = reserved_order(&app).await;
    let (stranger, _) = app.signed_in_user().await;
    let order_id = order["id"].as_str().unwrap();
    let response = pay(&app, &stranger, order_id, "tok_visa").await;
    assert_errors(
        response,
        StatusCode::FORBIDDEN,
        json!([{ "message": "Forbidden" }]),
    )
    .await;
    assert!(app.charges_of(order_id).await.is_empty());
    assert_eq!(test_gateway(&app).charge_count(), 0);
}

#[tokio::test]
async fn a_token_and_an_order_id_are_required() {
    let app = spawn_app().await;
    let (buyer, order, _) = reserved_order(&app).await;
    let response = app
        .post_json(&buyer, "/api/payments", &json!({ "orderId": order["id"] }))
        .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Token is required", "field": "token" }]),
    )
    .await;
    let response = app
        .post_json(
            &buyer,
            "/api/payments",
            &json!({ "orderId": order["id"], "token": "  " }),
        )
        .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Token is required", "field": "token" }]),
    )
    .await;
    let response = app.post_json(&buyer, "/api/payments", &json!({})).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([
            { "message": "Order id is required", "field": "orderId" },
            { "message": "Token is required", "field": "token" },
        ]),
    )
    .await;
}

#[tokio::test]
async fn a_successful_payment_completes_the_order_and_sells_the_ticket() {
    let app = spawn_app().await;
    let (buyer, order, ticket_id) = reserved_order(&app).await;
    let order_id = order["id"].as_str().unwrap();
    let response = pay(&app, &buyer, order_id, "tok_visa").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let charge: Value = response.json().await.unwrap();
    assert_eq!(charge["orderId"], order["id"]);
    assert_eq!(charge["status"], "completed");
    assert_eq!(charge["amount"], json!(20), "the order's price");
    assert!(charge["id"].is_string());

    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "complete");
    assert_eq!(ticket_json(&app, &ticket_id).await["status"], "sold");
    let charges = app.charges_of(order_id).await;
    assert_eq!(charges.len(), 1);
    assert!(
        charges[0]
            .stripe_id
            .as_deref()
            .is_some_and(|id| id.starts_with("pi_"))
    );
    let charge_id = charges[0].id.to_string();
    assert_eq!(
        app.events_for(&charge_id).await,
        ["ChargeCreated", "ChargeCompleted"]
    );
    assert_eq!(
        app.events_for(order_id).await,
        ["OrderCreated", "OrderCompleted"]
    );

    let again = pay(&app, &buyer, order_id, "tok_visa").await;
    assert_errors(
        again,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Order is already paid" }]),
    )
    .await;
    let cancel = buyer
        .delete(app.url(&format!("/api/orders/{order_id}")))
        .send()
        .await
        .unwrap();
    assert_errors(
        cancel,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Order is already paid" }]),
    )
    .await;
    assert_eq!(test_gateway(&app).charge_count(), 1);
}

#[tokio::test]
async fn the_buyer_pays_the_reserved_price_even_if_the_listing_changed_before() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Gig", "price": 20 }))
        .await;
    let id = ticket["id"].as_str().unwrap();
    let edit = seller
        .put(app.url(&format!("/api/tickets/{id}")))
        .json(&json!({ "title": "Gig", "price": 35.5 }))
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), StatusCode::OK);
    let (buyer, _) = app.signed_in_user().await;
    let order: Value = app
        .post_json(
            &buyer,
            "/api/orders",
            &json!({ "ticketId": id, "price": 35.5 }),
        )
        .await
        .json()
        .await
        .unwrap();
    let charge: Value = pay(&app, &buyer, order["id"].as_str().unwrap(), "pm_card_visa")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(charge["amount"], json!(35.5));
}

#[tokio::test]
async fn a_declined_card_cancels_the_order_and_frees_the_ticket() {
    let app = spawn_app().await;
    let (buyer, order, ticket_id) = reserved_order(&app).await;
    let order_id = order["id"].as_str().unwrap();
    let response = pay(&app, &buyer, order_id, "tok_chargeDeclined").await;
    assert_errors(
        response,
        StatusCode::PAYMENT_REQUIRED,
        json!([{ "message": "Your card was declined." }]),
    )
    .await;

    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "cancelled");
    assert_eq!(ticket_json(&app, &ticket_id).await["status"], "available");
    let listed: Vec<Value> = app.get_json(&client(), "/api/tickets").await;
    assert!(
        listed.iter().any(|t| t["id"] == ticket_id.as_str()),
        "back on sale"
    );
    let charges = app.charges_of(order_id).await;
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].status, ChargeStatus::Failed);
    assert_eq!(
        charges[0].failure_message.as_deref(),
        Some("Your card was declined.")
    );
    assert_eq!(
        app.events_for(order_id).await,
        ["OrderCreated", "OrderCancelled"]
    );

    let again = pay(&app, &buyer, order_id, "tok_visa").await;
    assert_errors(
        again,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Order is cancelled" }]),
    )
    .await;
}

#[tokio::test]
async fn an_unknown_token_is_a_field_error_and_the_order_stays_payable() {
    let app = spawn_app().await;
    let (buyer, order, _) = reserved_order(&app).await;
    let order_id = order["id"].as_str().unwrap();
    let response = pay(&app, &buyer, order_id, "tok_mastercard_real").await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "The payment token is not valid", "field": "token" }]),
    )
    .await;
    assert_eq!(
        pay(&app, &buyer, order_id, "tok_visa").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_cancelled_or_expired_order_cannot_be_paid() {
    let app = spawn_app_with(|config| config.reservation_window = 1_000).await;
    let (buyer, order, _) = reserved_order(&app).await;
    let order_id = order["id"].as_str().unwrap();
    let cancel = buyer
        .delete(app.url(&format!("/api/orders/{order_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::NO_CONTENT);
    let response = pay(&app, &buyer, order_id, "tok_visa").await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Order is cancelled" }]),
    )
    .await;

    let (buyer, order, _) = reserved_order(&app).await;
    let order_id = order["id"].as_str().unwrap();
    move_past_expiry(&app.clock, &order);
    let response = pay(&app, &buyer, order_id, "tok_visa").await;
    let body: Value = response.json().await.unwrap();
    // Before the sweeper runs the order reads as expired; after, as cancelled by expiry.
    assert!(
        body == json!({ "errors": [{ "message": "Order has expired" }] })
            || body == json!({ "errors": [{ "message": "Order is cancelled" }] }),
        "{body}"
    );
    assert_eq!(
        test_gateway(&app).charge_count(),
        0,
        "no money was asked for"
    );
}

/// However often the buyer clicks: exactly one payment, one completed charge, one call that
/// moves money. Clicks that arrive while it is in flight wait for it and get its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_payments_of_one_order_charge_once() {
    let app = spawn_app().await;
    let (buyer, order, _) = reserved_order(&app).await;
    let order_id = order["id"].as_str().unwrap();
    let responses = join_all((0..8).map(|_| pay(&app, &buyer, order_id, "tok_visa"))).await;
    let mut paid_charges = std::collections::HashSet::new();
    for response in responses {
        match response.status() {
            StatusCode::CREATED => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["status"], "completed");
                paid_charges.insert(body["id"].as_str().unwrap().to_string());
            }
            StatusCode::BAD_REQUEST => {
                let body: Value = response.json().await.unwrap();
                assert_eq!(
                    body,
                    json!({ "errors": [{ "message": "Order is already paid" }] })
                );
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(paid_charges.len(), 1, "every success is the same charge");
    let completed = app
        .charges_of(order_id)
        .await
        .into_iter()
        .filter(|c| c.status == ChargeStatus::Completed)
        .count();
    assert_eq!(completed, 1);
    assert_eq!(test_gateway(&app).charge_count(), 1);
}

// ---- webhooks ----

async fn spawn_with_webhooks(window_ms: i64) -> TestApp {
    spawn_app_with(|config| {
        config.stripe_webhook_secret = Some(WEBHOOK_SECRET.to_string());
        config.reservation_window = window_ms;
    })
    .await
}

/// A charge recorded and in flight, as when a browser went to Stripe Checkout and never came back.
async fn payment_in_flight(app: &TestApp, buyer: &Client, order: &Value) -> app::domain::Charge {
    let user = Id::parse(app.current_user(buyer).await["id"].as_str().unwrap()).unwrap();
    let order_id = Id::parse(order["id"].as_str().unwrap()).unwrap();
    let (charge, _) = app::ssr::services::payments::begin_payment(
        &Ctx::system(&app.state).acting_as(user),
        &order_id,
    )
    .await
    .expect("payment begins");
    charge
}

fn succeeded_event(event_id: &str, charge: &app::domain::Charge, pi: &str) -> String {
    json!({
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "data": { "object": { "id": pi, "object": "payment_intent", "status": "succeeded",
                              "metadata": { "charge_id": charge.id, "order_id": charge.order_id } } }
    })
    .to_string()
}

async fn deliver(app: &TestApp, body: &str, signature: &str) -> reqwest::Response {
    client()
        .post(app.url("/api/webhooks/stripe"))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// What the app's clock says, in seconds (webhook signatures carry it).
fn now_seconds(app: &TestApp) -> i64 {
    app.clock.now().millis() / 1000
}

async fn stored_order_status(app: &TestApp, order_id: &str) -> OrderStatus {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    app::ssr::storage::orders::find_order(&mut conn, &Id::from_trusted(order_id.to_string()))
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn a_signed_webhook_completes_the_payment_once_however_often_it_arrives() {
    let app = spawn_with_webhooks(15 * 60 * 1000).await;
    let (buyer, order, ticket_id) = reserved_order(&app).await;
    let charge = payment_in_flight(&app, &buyer, &order).await;
    let body = succeeded_event("evt_1", &charge, "pi_from_checkout");
    for _ in 0..2 {
        let response = deliver(
            &app,
            &body,
            &sign(body.as_bytes(), WEBHOOK_SECRET, now_seconds(&app)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    // The same payment announced again under another event id changes nothing either.
    let other = succeeded_event("evt_2", &charge, "pi_from_checkout");
    assert_eq!(
        deliver(
            &app,
            &other,
            &sign(other.as_bytes(), WEBHOOK_SECRET, now_seconds(&app))
        )
        .await
        .status(),
        StatusCode::OK
    );

    let order_id = order["id"].as_str().unwrap();
    assert_eq!(
        stored_order_status(&app, order_id).await,
        OrderStatus::Complete
    );
    assert_eq!(ticket_json(&app, &ticket_id).await["status"], "sold");
    assert_eq!(
        app.events_for(charge.id.as_str()).await,
        ["ChargeCreated", "ChargeCompleted"]
    );
    let charges = app.charges_of(order_id).await;
    assert_eq!(charges[0].stripe_id.as_deref(), Some("pi_from_checkout"));
}

#[tokio::test]
async fn tampered_wrongly_signed_and_stale_webhooks_are_refused_and_change_nothing() {
    let app = spawn_with_webhooks(15 * 60 * 1000).await;
    let (buyer, order, _) = reserved_order(&app).await;
    let charge = payment_in_flight(&app, &buyer, &order).await;
    let body = succeeded_event("evt_bad", &charge, "pi_x");
    let refused = json!([{ "message": "Invalid webhook signature" }]);

    let tampered = body.replace("pi_x", "pi_y");
    let response = deliver(
        &app,
        &tampered,
        &sign(body.as_bytes(), WEBHOOK_SECRET, now_seconds(&app)),
    )
    .await;
    assert_errors(response, StatusCode::BAD_REQUEST, refused.clone()).await;
    let response = deliver(
        &app,
        &body,
        &sign(body.as_bytes(), "whsec_someone_else", now_seconds(&app)),
    )
    .await;
    assert_errors(response, StatusCode::BAD_REQUEST, refused.clone()).await;
    let response = deliver(
        &app,
        &body,
        &sign(body.as_bytes(), WEBHOOK_SECRET, now_seconds(&app) - 301),
    )
    .await;
    assert_errors(response, StatusCode::BAD_REQUEST, refused.clone()).await;
    let response = deliver(&app, &body, "").await;
    assert_errors(response, StatusCode::BAD_REQUEST, refused).await;

    let order_id = order["id"].as_str().unwrap();
    assert_eq!(
        stored_order_status(&app, order_id).await,
        OrderStatus::AwaitingPayment
    );
    assert_eq!(
        app.charges_of(order_id).await[0].status,
        ChargeStatus::Created
    );
    assert_eq!(app.events_for(charge.id.as_str()).await, ["ChargeCreated"]);
}

#[tokio::test]
async fn money_arriving_after_the_order_expired_is_refunded_exactly_once() {
    let app = spawn_with_webhooks(1_000).await;
    let (buyer, order, ticket_id) = reserved_order(&app).await;
    let charge = payment_in_flight(&app, &buyer, &order).await;
    move_past_expiry(&app.clock, &order);
    for event_id in ["evt_late_1", "evt_late_1", "evt_late_2"] {
        let body = succeeded_event(event_id, &charge, "pi_late");
        let response = deliver(
            &app,
            &body,
            &sign(body.as_bytes(), WEBHOOK_SECRET, now_seconds(&app)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let order_id = order["id"].as_str().unwrap();
    let charges = app.charges_of(order_id).await;
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].status, ChargeStatus::Refunded);
    assert!(
        charges[0]
            .stripe_refund_id
            .as_deref()
            .is_some_and(|id| id.starts_with("re_"))
    );
    assert_eq!(
        test_gateway(&app).refund_count(),
        1,
        "one refund at the provider"
    );
    assert_eq!(
        app.events_for(charge.id.as_str()).await,
        ["ChargeCreated", "ChargeRefunded"]
    );
    assert_eq!(
        stored_order_status(&app, order_id).await,
        OrderStatus::Cancelled
    );
    assert_eq!(
        ticket_json(&app, &ticket_id).await["status"],
        "available",
        "the ticket is not sold"
    );

    // The buyer sees why on their order.
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "cancelled");
}

#[tokio::test]
async fn webhooks_are_refused_when_no_secret_is_configured() {
    let app = spawn_app().await;
    let body =
        json!({ "id": "evt_1", "type": "payment_intent.succeeded", "data": { "object": {} } })
            .to_string();
    let response = deliver(
        &app,
        &body,
        &sign(body.as_bytes(), WEBHOOK_SECRET, now_seconds(&app)),
    )
    .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Webhooks are not enabled on this server (STRIPE_WEBHOOK_SECRET)" }]),
    )
    .await;
}

pub(crate) async fn deliver_signed(app: &TestApp, event: Value) -> reqwest::Response {
    let body = event.to_string();
    deliver(
        app,
        &body,
        &sign(body.as_bytes(), WEBHOOK_SECRET, now_seconds(app)),
    )
    .await
}

#[tokio::test]
async fn a_completed_checkout_session_webhook_completes_the_payment() {
    let app = spawn_with_webhooks(15 * 60 * 1000).await;
    let (buyer, order, ticket_id) = reserved_order(&app).await;
    let charge = payment_in_flight(&app, &buyer, &order).await;
    let event = json!({
        "id": "evt_cs_1",
        "type": "checkout.session.completed",
        "data": { "object": { "id": "cs_test_1", "object": "checkout.session", "payment_status": "paid",
                              "payment_intent": "pi_from_session", "client_reference_id": charge.id } }
    });
    assert_eq!(deliver_signed(&app, event).await.status(), StatusCode::OK);
    let order_id = order["id"].as_str().unwrap();
    assert_eq!(
        stored_order_status(&app, order_id).await,
        OrderStatus::Complete
    );
    assert_eq!(ticket_json(&app, &ticket_id).await["status"], "sold");
    let charges = app.charges_of(order_id).await;
    assert_eq!(charges[0].status, ChargeStatus::Completed);
    assert_eq!(charges[0].stripe_id.as_deref(), Some("pi_from_session"));
}

#[tokio::test]
async fn a_failed_payment_webhook_cancels_the_order_with_the_banks_reason() {
    let app = spawn_with_webhooks(15 * 60 * 1000).await;
    let (buyer, order, ticket_id) = reserved_order(&app).await;
    let charge = payment_in_flight(&app, &buyer, &order).await;
    let event = json!({
        "id": "evt_failed_1",
        "type": "payment_intent.payment_failed",
        "data": { "object": { "id": "pi_failed", "object": "payment_intent", "status": "requires_payment_method",
                              "metadata": { "charge_id": charge.id },
                              "last_payment_error": { "message": "Your card has insufficient funds." } } }
    });
    assert_eq!(deliver_signed(&app, event).await.status(), StatusCode::OK);
    let order_id = order["id"].as_str().unwrap();
    assert_eq!(
        stored_order_status(&app, order_id).await,
        OrderStatus::Cancelled
    );
    assert_eq!(ticket_json(&app, &ticket_id).await["status"], "available");
    let charges = app.charges_of(order_id).await;
    assert_eq!(charges[0].status, ChargeStatus::Failed);
    assert_eq!(
        charges[0].failure_message.as_deref(),
        Some("Your card has insufficient funds.")
    );
}

#[tokio::test]
async fn a_refund_made_at_stripe_is_recorded_on_the_charge() {
    let app = spawn_with_webhooks(15 * 60 * 1000).await;
    let (buyer, order, _) = reserved_order(&app).await;
    let order_id = order["id"].as_str().unwrap();
    assert_eq!(
        pay(&app, &buyer, order_id, "tok_visa").await.status(),
        StatusCode::CREATED
    );
    let paid = app.charges_of(order_id).await.remove(0);
    let event = json!({
        "id": "evt_refunded_1",
        "type": "charge.refunded",
        "data": { "object": { "id": "ch_1", "object": "charge", "payment_intent": paid.stripe_id, "refunded": true,
                              "refunds": { "data": [{ "id": "re_from_dashboard" }] } } }
    });
    assert_eq!(deliver_signed(&app, event).await.status(), StatusCode::OK);
    let refunded = app.charges_of(order_id).await.remove(0);
    assert_eq!(refunded.status, ChargeStatus::Refunded);
    assert_eq!(
        refunded.stripe_refund_id.as_deref(),
        Some("re_from_dashboard")
    );
    assert_eq!(
        app.events_for(paid.id.as_str()).await,
        ["ChargeCreated", "ChargeCompleted", "ChargeRefunded"]
    );
}
