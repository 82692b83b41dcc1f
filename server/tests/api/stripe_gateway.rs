//! The whole payment path with the Stripe gateway, against the localstripe emulator: the API
//! call confirms a real PaymentIntent, a decline frees the ticket, and money that arrives after
//! the reservation ran out — announced by the emulator's own signed webhook — is refunded at
//! Stripe. The emulator's tests are `#[ignore]`d, so a plain `cargo test` passes on a machine
//! without it; `.ci/test` runs them with `--ignored`.

use crate::helpers::*;
use crate::localstripe::localstripe;
use crate::recorded_stripe::recording_stripe;
use app::domain::{ChargeStatus, Id};
use app::ssr::Ctx;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const WEBHOOK_SECRET: &str = "whsec_localstripe_ticketing";

/// The app with the Stripe gateway pointed at `base`.
async fn spawn_with_stripe_at(base: &str) -> TestApp {
    spawn_app_with(|config| {
        config.stripe_secret_key = Some("sk_test_ticketing".into());
        config.stripe_api_base = Some(base.to_string());
    })
    .await
}

#[tokio::test]
#[ignore = "needs the Stripe emulator (localstripe); .ci/test runs it with --ignored"]
async fn a_payment_through_stripe_completes_the_order() {
    let emulator = localstripe().await;
    let app = spawn_with_stripe_at(&emulator.base).await;
    let (buyer, order) = app.reserved_order().await;
    let order_id = order["id"].as_str().unwrap();
    let response = app
        .post_json(
            &buyer,
            "/api/payments",
            &json!({ "orderId": order_id, "token": "pm_card_visa" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let charge: Value = response.json().await.unwrap();
    assert_eq!(charge["status"], "completed");
    assert_eq!(charge["amount"], json!(45.5));
    let stored = app.charges_of(order_id).await;
    assert!(
        stored[0]
            .stripe_id
            .as_deref()
            .is_some_and(|id| id.starts_with("pi_"))
    );
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "complete");
    assert_eq!(shown["ticket"]["status"], "sold");
}

#[tokio::test]
#[ignore = "needs the Stripe emulator (localstripe); .ci/test runs it with --ignored"]
async fn a_card_declined_at_stripe_is_402_and_frees_the_ticket() {
    let emulator = localstripe().await;
    let app = spawn_with_stripe_at(&emulator.base).await;
    let (buyer, order) = app.reserved_order().await;
    let order_id = order["id"].as_str().unwrap();
    let body = json!({ "orderId": order_id, "token": "pm_card_chargeCustomerFail" });
    let response = app.post_json(&buyer, "/api/payments", &body).await;
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
    assert_eq!(shown["ticket"]["status"], "available");
}

#[tokio::test]
#[ignore = "needs the Stripe emulator (localstripe); .ci/test runs it with --ignored"]
async fn late_money_announced_by_stripes_webhook_is_refunded_at_stripe() {
    let emulator = localstripe().await;
    let app = spawn_app_with(|config| {
        config.stripe_secret_key = Some("sk_test_ticketing".into());
        config.stripe_api_base = Some(emulator.base.clone());
        config.stripe_webhook_secret = Some(WEBHOOK_SECRET.into());
        config.reservation_window = 1_000;
    })
    .await;
    emulator
        .send_webhooks_to(&app.url("/api/webhooks/stripe"), WEBHOOK_SECRET)
        .await;
    let (buyer, order) = app.reserved_order().await;
    let order_id = Id::parse(order["id"].as_str().unwrap()).unwrap();
    let user = Id::parse(app.current_user(&buyer).await["id"].as_str().unwrap()).unwrap();
    // The buyer starts paying (as on a Checkout page) and the reservation runs out meanwhile.
    let (charge, _) = app::ssr::services::payments::begin_payment(
        &Ctx::system(&app.state).acting_as(user),
        &order_id,
    )
    .await
    .unwrap();
    move_past_expiry(&app.clock, &order);
    // Then the money arrives at Stripe.
    let paid = Client::new()
        .post(format!("{}/v1/payment_intents", emulator.base))
        .basic_auth("sk_test_ticketing", Some(""))
        .form(&[
            ("amount", "4550"),
            ("currency", "usd"),
            ("payment_method", "pm_card_visa"),
            ("confirm", "true"),
            ("metadata[charge_id]", charge.id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(paid.status().is_success());

    // The emulator's signed `payment_intent.succeeded` reaches us about a second later.
    let deadline = Instant::now() + Duration::from_secs(20);
    let refunded = loop {
        let charges = app.charges_of(order_id.as_str()).await;
        if charges[0].status == ChargeStatus::Refunded {
            break charges[0].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the late payment was not refunded within 20 s: {charges:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let refund_id = refunded
        .stripe_refund_id
        .expect("the refund id is recorded");
    assert!(refund_id.starts_with("re_"), "{refund_id}");
    let refund: Value = Client::new()
        .get(format!("{}/v1/refunds/{refund_id}", emulator.base))
        .basic_auth("sk_test_ticketing", Some(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        refund["amount"], 4550,
        "the emulator holds the refund of the whole payment"
    );
    assert_eq!(
        app.events_for(charge.id.as_str()).await,
        ["ChargeCreated", "ChargeRefunded"]
    );
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "cancelled");
}

#[tokio::test]
async fn a_browser_pays_on_stripe_checkout_and_its_return_is_checked_with_stripe() {
    let (base, recorder) = recording_stripe().await;
    let app = spawn_app_with(|config| {
        config.stripe_secret_key = Some("sk_test_recorded".into());
        config.stripe_api_base = Some(base.clone());
    })
    .await;
    let (buyer, order) = app.reserved_order().await;
    let order_id = order["id"].as_str().unwrap();

    // The Pay button is a plain form post, answered with a redirect to Stripe Checkout.
    let response = buyer
        .post(app.url("/_fn/start_checkout"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url(&format!("/orders/{order_id}")))
        .form(&[("order_id", order_id)])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with("https://checkout.stripe.com/c/pay/cs_test_a1ReCoRdEd"),
        "{location}"
    );

    // A made-up session id in the return address changes nothing.
    let forged = buyer
        .get(app.url(&format!(
            "/orders/{order_id}/checkout-return?session_id=cs_test_forged"
        )))
        .send()
        .await
        .unwrap();
    assert!(forged.status().is_redirection());
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "awaiting:payment");

    // The real return: the server asks Stripe, which says the session is paid.
    let back = buyer
        .get(app.url(&format!(
            "/orders/{order_id}/checkout-return?session_id=cs_test_a1ReCoRdEd"
        )))
        .send()
        .await
        .unwrap();
    assert!(back.status().is_redirection());
    assert_eq!(
        back.headers()["location"],
        format!("/orders/{order_id}").as_str()
    );
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "complete");
    let charges = app.charges_of(order_id).await;
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].status, ChargeStatus::Completed);
    assert_eq!(
        charges[0].stripe_id.as_deref(),
        Some("pi_3ReCoRdEdCheckout")
    );
    let seen = recorder.seen.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|s| s.method == "GET" && s.path == "/v1/checkout/sessions/cs_test_a1ReCoRdEd"),
        "the session's state came from Stripe: {seen:?}"
    );
}
