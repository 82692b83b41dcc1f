//! Cancelling an event (docs/RULES.md, "Cancelling an event"): everything stops at once, and
//! every order of its tickets is refunded once by a job that may stop anywhere and resume.

use crate::helpers::*;
use app::domain::Id;
use app::ssr::Ctx;
use app::ssr::payments::test_mode::TestGateway;
use app::ssr::payments::{Gateway, PaymentGateway};
use app::ssr::services::cancellation::{self, CLAIM_MS, RefundRound};
use app::ssr::storage::cancellations;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn gateway(app: &TestApp) -> &TestGateway {
    match &*app.state.gateway {
        Gateway::Test(gateway) => gateway,
        #[allow(unreachable_patterns)]
        _ => panic!("the tests run with the test-mode gateway"),
    }
}

async fn cancel(app: &TestApp, client: &Client, event: &str, reason: Value) -> reqwest::Response {
    app.post_json(
        client,
        &format!("/api/events/{event}/cancel"),
        &json!({ "reason": reason }),
    )
    .await
}

async fn refund_round(app: &TestApp) -> RefundRound {
    cancellation::refund_round(&Ctx::system(&app.state))
        .await
        .expect("a refund round")
}

async fn code_status(app: &TestApp, client: &Client, ticket: &str) -> String {
    let mine: Value = app.get_json(client, "/api/tickets/mine").await;
    mine["bought"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["ticket"]["id"] == ticket)
        .unwrap_or_else(|| panic!("{ticket} in {mine}"))["codeStatus"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn unbalanced(app: &TestApp) -> i64 {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    app::ssr::storage::ledger::unbalanced_transactions(&mut conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn cancelling_ends_every_sale_refunds_each_order_once_and_tells_everyone() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Gig <b>loud</b>", 30.0, 10).await;
    let buy = |who: &'static str| {
        let app = &app;
        let section = gig.section_id.clone();
        async move {
            let (client, email) = app.signed_in_user().await;
            let order = app.buy_seat(&client, &section).await;
            let _ = who;
            (client, email, order)
        }
    };
    // A holds a seat; B bought one and resold it to C; D bought one and lists it for resale;
    // E has a reservation and has not paid.
    let (a, a_email, a_order) = buy("a").await;
    let (b, b_email, b_order) = buy("b").await;
    let b_ticket = b_order["ticket"]["id"].as_str().unwrap().to_string();
    let resale: Value = app
        .post_json(
            &b,
            &format!("/api/tickets/{b_ticket}/resell"),
            &json!({ "price": 35 }),
        )
        .await
        .json()
        .await
        .unwrap();
    let (c, c_email) = app.signed_in_user().await;
    let c_order = app.buy(&c, resale["id"].as_str().unwrap()).await;
    let (d, d_email, d_order) = buy("d").await;
    let d_ticket = d_order["ticket"]["id"].as_str().unwrap().to_string();
    let listed = app
        .post_json(
            &d,
            &format!("/api/tickets/{d_ticket}/resell"),
            &json!({ "price": 40 }),
        )
        .await;
    assert_eq!(listed.status(), StatusCode::CREATED);
    let (e, e_email) = app.signed_in_user().await;
    let reserved = app
        .post_json(&e, "/api/orders", &json!({ "sectionId": gig.section_id }))
        .await;
    assert_eq!(reserved.status(), StatusCode::CREATED);
    let e_order: Value = reserved.json().await.unwrap();
    app.deliver_mail().await;
    let mail_before = app.mailbox().await.len();

    let cancelled = cancel(&app, &gig.organiser, &gig.event_id, json!("Storm <script>")).await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let event: Value = cancelled.json().await.unwrap();
    assert_eq!(event["status"], "cancelled");
    assert_eq!(event["cancelReason"], "Storm <script>");
    assert_eq!(event["available"], 0);

    // At once: the reservation is over, the resale listing withdrawn, every code void, the
    // event gone from the catalogue, and its seats can no longer be reserved.
    let e_now: Value = app
        .get_json(
            &e,
            &format!("/api/orders/{}", e_order["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(e_now["status"], "cancelled");
    let resales: Value = app
        .get_json(&client(), &format!("/api/tickets?eventId={}", gig.event_id))
        .await;
    assert_eq!(resales.as_array().map(Vec::len), Some(0), "{resales}");
    let catalogue: Value = app.get_json(&client(), "/api/events").await;
    assert!(!catalogue.to_string().contains(&gig.event_id));
    let a_ticket = a_order["ticket"]["id"].as_str().unwrap();
    assert_eq!(code_status(&app, &a, a_ticket).await, "revoked");
    assert_eq!(
        code_status(&app, &c, resale["id"].as_str().unwrap()).await,
        "revoked"
    );
    assert_eq!(code_status(&app, &d, &d_ticket).await, "revoked");
    let (f, _) = app.signed_in_user().await;
    assert_eq!(
        app.post_json(&f, "/api/orders", &json!({ "sectionId": gig.section_id }))
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(gateway(&app).refund_count(), 0, "refunds are the job's");

    // The job refunds the four paid orders (A, B's first sale, C's resale, D), each once.
    let round = refund_round(&app).await;
    assert_eq!(
        round,
        RefundRound {
            refunded: 4,
            failed: 0
        }
    );
    assert_eq!(refund_round(&app).await, RefundRound::default());
    assert_eq!(gateway(&app).refund_count(), 4);
    for order in [&a_order, &b_order, &c_order, &d_order] {
        let id = order["id"].as_str().unwrap();
        let charges = app.charges_of(id).await;
        assert_eq!(charges.len(), 1);
        assert_eq!(charges[0].status.as_str(), "refunded", "{id}");
    }
    let a_now: Value = app
        .get_json(
            &a,
            &format!("/api/orders/{}", a_order["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(a_now["status"], "cancelled");
    assert_eq!(
        unbalanced(&app).await,
        0,
        "every ledger transaction balances"
    );
    let mut conn = app.state.db.read.acquire().await.unwrap();
    assert_eq!(
        cancellations::progress(&mut conn, &Id::from_trusted(gig.event_id.clone()))
            .await
            .unwrap(),
        (4, 4)
    );
    drop(conn);
    // Nothing went back on sale, and no new code was issued.
    let event: Value = app
        .get_json(&gig.organiser, &format!("/api/events/{}", gig.event_id))
        .await;
    assert_eq!(event["available"], 0);
    assert_eq!(code_status(&app, &a, a_ticket).await, "revoked");

    // Each person is told once, the organiser with the count; the name stays text.
    app.deliver_mail().await;
    let mail = app.mailbox().await;
    let new = &mail[mail_before..];
    for to in [&a_email, &b_email, &c_email, &d_email, &e_email] {
        let theirs: Vec<_> = new
            .iter()
            .filter(|m| &m.to == to && m.subject == "Cancelled: Gig <b>loud</b>")
            .collect();
        assert_eq!(theirs.len(), 1, "{to}: {new:#?}");
        assert!(theirs[0].html.contains("Gig &lt;b&gt;loud&lt;/b&gt;"));
        assert!(theirs[0].html.contains("Storm &lt;script&gt;"));
    }
    let organiser_email = app.current_user(&gig.organiser).await["email"]
        .as_str()
        .unwrap()
        .to_string();
    let told = new
        .iter()
        .find(|m| m.to == organiser_email && m.subject.starts_with("Cancelled:"))
        .expect("the organiser is told");
    assert!(told.text.contains("Orders to refund"), "{}", told.text);
    assert!(told.text.contains('4'));

    // Once cancelled, always cancelled.
    assert_errors(
        cancel(&app, &gig.organiser, &gig.event_id, json!("Again")).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Event is already cancelled" }]),
    )
    .await;
}

#[tokio::test]
async fn only_its_organiser_or_an_admin_cancels_and_every_bad_reason_is_named() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Gig", 10.0, 2).await;
    let other = app.event_on_sale("Other", 10.0, 2).await;
    let path = format!("/api/events/{}/cancel", gig.event_id);
    let reason = json!({ "reason": "Ill" });
    assert_eq!(
        app.post_json(&client(), &path, &reason).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (plain, _) = app.signed_in_user().await;
    let (staff, staff_email) = app.signed_in_user().await;
    app.grant(&staff_email, app::domain::role::Role::Staff)
        .await;
    for stranger in [&plain, &staff, &other.organiser] {
        assert_eq!(
            app.post_json(stranger, &path, &reason).await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let cross_site = gig
        .organiser
        .post(app.url(&path))
        .header("origin", "https://evil.example")
        .json(&reason)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    for (body, message) in [
        (json!({}), "Reason is required"),
        (json!({ "reason": " \u{0}\t " }), "Reason is required"),
        (json!({ "reason": 5 }), "Reason must be text"),
        (
            json!({ "reason": "x".repeat(501) }),
            "Reason must be at most 500 characters",
        ),
    ] {
        assert_errors(
            app.post_json(&gig.organiser, &path, &body).await,
            StatusCode::BAD_REQUEST,
            json!([{ "message": message, "field": "reason" }]),
        )
        .await;
    }
    assert_eq!(
        app.post_json(&gig.organiser, "/api/events/not-an-id/cancel", &reason)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.post_json(
            &gig.organiser,
            "/api/events/00000000-0000-4000-8000-000000000000/cancel",
            &reason
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    // Nothing of that changed the event.
    let event: Value = app
        .get_json(&client(), &format!("/api/events/{}", gig.event_id))
        .await;
    assert_eq!(event["status"], "published");

    // An admin may; a past event may not be cancelled.
    let (admin, _) = app.admin().await;
    assert_eq!(
        app.post_json(&admin, &path, &reason).await.status(),
        StatusCode::OK
    );
    app.clock.advance(10 * 365 * 24 * 3600 * 1000);
    let (admin, _) = app.admin().await;
    assert_errors(
        cancel(&app, &admin, &other.event_id, json!("Late")).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "The event is over" }]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancellation_racing_reservations_and_payments_leaves_no_seat_sold_unrefunded() {
    let app = spawn_app_with(|config| {
        config.auth_rate_limit = 0;
        config.order_rate_limit = 0;
        config.max_live_orders = 0;
    })
    .await;
    let gig = app.event_on_sale("Race", 20.0, 40).await;
    let mut buyers = Vec::new();
    for _ in 0..24 {
        buyers.push(app.signed_in_user().await.0);
    }
    // Reservations made before, paid after the cancellation: late money, given back.
    let early = &buyers[0];
    let early_order: Value = app
        .post_json(
            early,
            "/api/orders",
            &json!({ "sectionId": gig.section_id }),
        )
        .await
        .json()
        .await
        .unwrap();
    let racing = buyers[1..].iter().map(|buyer| {
        let app = &app;
        let section = gig.section_id.clone();
        async move {
            let reserved = app
                .post_json(buyer, "/api/orders", &json!({ "sectionId": section }))
                .await;
            if reserved.status() != StatusCode::CREATED {
                return reserved.status();
            }
            let order: Value = reserved.json().await.unwrap();
            app.post_json(
                buyer,
                "/api/payments",
                &json!({ "orderId": order["id"], "token": "tok_visa" }),
            )
            .await
            .status()
        }
    });
    let cancelling = cancel(&app, &gig.organiser, &gig.event_id, json!("Flood"));
    let (answers, cancelled) = futures::future::join(join_all(racing), cancelling).await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    for status in &answers {
        assert!(
            [
                StatusCode::CREATED,
                StatusCode::BAD_REQUEST,
                StatusCode::CONFLICT
            ]
            .contains(status),
            "{answers:?}"
        );
    }
    let late = app
        .post_json(
            early,
            "/api/payments",
            &json!({ "orderId": early_order["id"], "token": "tok_visa" }),
        )
        .await;
    assert!(late.status().is_client_error(), "{}", late.status());

    refund_round(&app).await;
    // Afterwards: no order of the event is live or paid and unrefunded, no code admits, no
    // seat is on sale, and the ledger balances.
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders o JOIN tickets t ON t.id = o.ticket_id \
         WHERE t.event_id = $1 AND o.status <> 'cancelled'",
    )
    .bind(&gig.event_id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(open, 0, "every order is over");
    let completed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM charges c JOIN orders o ON o.id = c.order_id \
         JOIN tickets t ON t.id = o.ticket_id WHERE t.event_id = $1 AND c.status = 'completed'",
    )
    .bind(&gig.event_id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(completed, 0, "every payment that landed was given back");
    let valid: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ticket_codes c JOIN tickets t ON t.id = c.ticket_id \
         WHERE t.event_id = $1 AND c.status = 'valid'",
    )
    .bind(&gig.event_id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(valid, 0);
    drop(conn);
    let event: Value = app
        .get_json(&gig.organiser, &format!("/api/events/{}", gig.event_id))
        .await;
    assert_eq!(event["available"], 0);
    assert_eq!(unbalanced(&app).await, 0);
}

#[tokio::test]
async fn a_refund_job_stopped_midway_is_resumed_by_the_next_and_refunds_once() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Resumed", 25.0, 3).await;
    let (buyer, _) = app.signed_in_user().await;
    let order = app.buy_seat(&buyer, &gig.section_id).await;
    let order_id = Id::from_trusted(order["id"].as_str().unwrap().to_string());
    assert_eq!(
        cancel(&app, &gig.organiser, &gig.event_id, json!("Venue flooded"))
            .await
            .status(),
        StatusCode::OK
    );
    // A node claims the refund, asks the gateway, and dies before recording it.
    let now = app.clock.now();
    let mut tx = app.state.db.begin_write().await.unwrap();
    let claimed = cancellations::claim_next(
        &mut tx,
        now,
        app::domain::Timestamp(now.millis() + CLAIM_MS),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claimed.as_ref(), Some(&order_id));
    let charge = app.charges_of(order_id.as_str()).await.remove(0);
    gateway(&app)
        .refund(
            charge.stripe_id.as_deref().unwrap(),
            None,
            &charge.refund_key(),
        )
        .await
        .unwrap();
    // While its claim holds, no other node takes the refund over.
    assert_eq!(refund_round(&app).await, RefundRound::default());
    app.clock.advance(CLAIM_MS + 1);
    assert_eq!(
        refund_round(&app).await,
        RefundRound {
            refunded: 1,
            failed: 0
        }
    );
    assert_eq!(
        gateway(&app).refund_count(),
        1,
        "the same refund, not a second"
    );
    assert_eq!(
        app.charges_of(order_id.as_str()).await[0].status.as_str(),
        "refunded"
    );
    assert_eq!(refund_round(&app).await, RefundRound::default());
    assert_eq!(unbalanced(&app).await, 0);
}
