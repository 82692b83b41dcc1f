//! The Stripe gateway (async-stripe) against two stand-ins for Stripe:
//!
//! - `localstripe`, a Stripe emulator from PyPI that `.ci/setup` installs into
//!   `target/localstripe` (or set `LOCALSTRIPE`): real PaymentIntent confirmation, declines and
//!   refunds over HTTP.
//! - Recorded Stripe API responses served by a small local HTTP server, for what the emulator
//!   lacks: Checkout Sessions, PaymentMethods made from `tok_…` tokens, and checking the
//!   `Idempotency-Key` header our client sends (the emulator ignores it).
//!
//! The emulator's tests are `#[ignore]`d, so a plain `cargo test` passes on a machine without
//! it; `.ci/test` runs them with `--ignored`.

use app::domain::order::CheckoutLine;
use app::ssr::payments::stripe::StripeGateway;
use app::ssr::payments::{
    ChargeOutcome, ChargeRequest, CheckoutRequest, CheckoutState, GatewayError, PaymentGateway,
};

#[path = "support/localstripe.rs"]
mod localstripe;
#[path = "support/recorded_stripe.rs"]
mod recorded_stripe;

use localstripe::{free_port, localstripe};
use recorded_stripe::{form_value, recording_stripe};

fn request(token: &str, key: &str) -> ChargeRequest {
    ChargeRequest {
        amount_cents: 4550,
        currency: "usd".into(),
        token: token.into(),
        idempotency_key: key.into(),
        order_id: "0191f4b2-5c3a-7d11-8e2f-0123456789ab".into(),
        charge_id: "0191f4b2-5c3a-7d11-8e2f-0123456789ac".into(),
        description: "Cup final".into(),
    }
}

#[tokio::test]
#[ignore = "needs the Stripe emulator (localstripe); .ci/test runs it with --ignored"]
async fn a_payment_intent_confirmed_with_a_test_card_succeeds_at_localstripe() {
    let emulator = localstripe().await;
    let gateway = StripeGateway::new("sk_test_ticketing", Some(&emulator.base)).unwrap();
    let outcome = gateway
        .charge(&request("pm_card_visa", "ticketing-order-ok"))
        .await
        .unwrap();
    let ChargeOutcome::Succeeded { stripe_id } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(stripe_id.starts_with("pi_"), "{stripe_id}");

    // The emulator holds the PaymentIntent with our amount and metadata.
    let stored: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/payment_intents/{stripe_id}", emulator.base))
        .basic_auth("sk_test_ticketing", Some(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["amount"], 4550);
    assert_eq!(stored["currency"], "usd");
    assert_eq!(stored["status"], "succeeded");
}

#[tokio::test]
#[ignore = "needs the Stripe emulator (localstripe); .ci/test runs it with --ignored"]
async fn a_declined_card_comes_back_as_a_decline_with_the_banks_message() {
    let emulator = localstripe().await;
    let gateway = StripeGateway::new("sk_test_ticketing", Some(&emulator.base)).unwrap();
    // localstripe declines the card 4000 0000 0000 0341 (`pm_card_chargeCustomerFail`).
    let outcome = gateway
        .charge(&request(
            "pm_card_chargeCustomerFail",
            "ticketing-order-declined",
        ))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ChargeOutcome::Declined {
            stripe_id: None,
            message: "Your card was declined.".into()
        }
    );
}

#[tokio::test]
#[ignore = "needs the Stripe emulator (localstripe); .ci/test runs it with --ignored"]
async fn late_money_is_refunded_at_localstripe() {
    let emulator = localstripe().await;
    let gateway = StripeGateway::new("sk_test_ticketing", Some(&emulator.base)).unwrap();
    let ChargeOutcome::Succeeded { stripe_id } = gateway
        .charge(&request("pm_card_visa", "ticketing-order-late"))
        .await
        .unwrap()
    else {
        panic!("the payment succeeds")
    };
    let refund_id = gateway
        .refund(&stripe_id, None, "ticketing-refund-late")
        .await
        .unwrap();
    assert!(refund_id.starts_with("re_"), "{refund_id}");
    let refunds: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v1/refunds/{refund_id}", emulator.base))
        .basic_auth("sk_test_ticketing", Some(""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(refunds["amount"], 4550, "the whole payment is given back");
}

#[tokio::test]
async fn an_unreachable_stripe_is_a_provider_error_not_a_decline() {
    let gateway = StripeGateway::new(
        "sk_test_ticketing",
        Some(&format!("http://127.0.0.1:{}", free_port())),
    )
    .unwrap();
    let outcome = gateway
        .charge(&request("pm_card_visa", "ticketing-order-down"))
        .await;
    assert!(
        matches!(outcome, Err(GatewayError::Provider(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_token_payment_sends_our_idempotency_key_amount_and_metadata() {
    let (base, recorder) = recording_stripe().await;
    let gateway = StripeGateway::new("sk_test_recorded", Some(&base)).unwrap();
    let outcome = gateway
        .charge(&request("tok_visa", "ticketing-order-0191f4b2"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ChargeOutcome::Succeeded {
            stripe_id: "pi_3ReCoRdEdPaYmEnT".into()
        }
    );

    let seen = recorder.seen.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        2,
        "a PaymentMethod from the token, then the PaymentIntent: {seen:?}"
    );
    assert_eq!(seen[0].path, "/v1/payment_methods");
    assert_eq!(
        form_value(&seen[0].body, "card[token]").as_deref(),
        Some("tok_visa")
    );
    assert_eq!(
        seen[0].idempotency_key.as_deref(),
        Some("ticketing-order-0191f4b2-pm")
    );

    let intent = &seen[1];
    assert_eq!(
        (intent.method.as_str(), intent.path.as_str()),
        ("POST", "/v1/payment_intents")
    );
    assert_eq!(
        intent.idempotency_key.as_deref(),
        Some("ticketing-order-0191f4b2"),
        "the key derived from the order"
    );
    assert_eq!(
        intent.authorization.as_deref(),
        Some("Bearer sk_test_recorded")
    );
    assert_eq!(form_value(&intent.body, "amount").as_deref(), Some("4550"));
    assert_eq!(form_value(&intent.body, "currency").as_deref(), Some("usd"));
    assert_eq!(form_value(&intent.body, "confirm").as_deref(), Some("true"));
    assert_eq!(
        form_value(&intent.body, "payment_method").as_deref(),
        Some("pm_1ReCoRdEdCaRd")
    );
    assert_eq!(
        form_value(&intent.body, "metadata[charge_id]").as_deref(),
        Some("0191f4b2-5c3a-7d11-8e2f-0123456789ac")
    );
}

#[tokio::test]
async fn a_checkout_session_is_opened_and_its_real_state_read_back() {
    let (base, recorder) = recording_stripe().await;
    let gateway = StripeGateway::new("sk_test_recorded", Some(&base)).unwrap();
    let checkout = CheckoutRequest {
        charge: request("", "ticketing-order-0191f4b2"),
        title: "Cup final and 2 more tickets".into(),
        // Two seats of a section on one line, a resale listing on its own: 2 × 15.00 + 15.50.
        lines: vec![
            CheckoutLine {
                name: "Cup final — Stand".into(),
                unit_amount_cents: 1500,
                quantity: 2,
            },
            CheckoutLine {
                name: "Cup final — Stand (Row A, Seat 1, resale)".into(),
                unit_amount_cents: 1550,
                quantity: 1,
            },
        ],
        success_url:
            "https://tickets.example.org/orders/o/checkout-return?session_id={CHECKOUT_SESSION_ID}"
                .into(),
        cancel_url: "https://tickets.example.org/orders/o/checkout-return?cancelled=1".into(),
    };
    let session = gateway.create_checkout(&checkout).await.unwrap();
    assert_eq!(session.id, "cs_test_a1ReCoRdEd");
    assert!(
        session.url.starts_with("https://checkout.stripe.com/"),
        "{}",
        session.url
    );
    let state = gateway.fetch_checkout(&session.id).await.unwrap();
    assert_eq!(
        state,
        CheckoutState::Paid {
            payment_intent: "pi_3ReCoRdEdCheckout".into()
        }
    );

    let seen = recorder.seen.lock().unwrap().clone();
    let create = &seen[0];
    assert_eq!(create.path, "/v1/checkout/sessions");
    assert_eq!(
        create.idempotency_key.as_deref(),
        Some("ticketing-checkout-0191f4b2-5c3a-7d11-8e2f-0123456789ac")
    );
    assert_eq!(form_value(&create.body, "mode").as_deref(), Some("payment"));
    for (field, value) in [
        ("line_items[0][price_data][unit_amount]", "1500"),
        ("line_items[0][quantity]", "2"),
        (
            "line_items[0][price_data][product_data][name]",
            "Cup final — Stand",
        ),
        ("line_items[1][price_data][unit_amount]", "1550"),
        ("line_items[1][quantity]", "1"),
        (
            "line_items[1][price_data][product_data][name]",
            "Cup final — Stand (Row A, Seat 1, resale)",
        ),
    ] {
        assert_eq!(
            form_value(&create.body, field).as_deref(),
            Some(value),
            "{field}"
        );
    }
    assert_eq!(form_value(&create.body, "line_items[2][quantity]"), None);
    assert_eq!(
        form_value(&create.body, "client_reference_id").as_deref(),
        Some("0191f4b2-5c3a-7d11-8e2f-0123456789ac")
    );
    assert_eq!(
        form_value(&create.body, "payment_intent_data[metadata][charge_id]").as_deref(),
        Some("0191f4b2-5c3a-7d11-8e2f-0123456789ac"),
        "the webhook for the PaymentIntent can find our charge"
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("GET", "/v1/checkout/sessions/cs_test_a1ReCoRdEd")
    );
}
