//! Races around events that really race (docs/RULES.md, "Events"): publishing against an edit,
//! a section growing while its seats sell, and two nodes cancelling one event at once. Run on
//! SQLite and, with `.ci/with-postgres`, on PostgreSQL.

use crate::helpers::*;
use app::domain::role::Role;
use app::ssr::Ctx;
use app::ssr::payments::Gateway;
use app::ssr::services::cancellation;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn draft_body(capacity: u32) -> Value {
    json!({
        "name": "Raced", "venue": "Hall", "timeZone": "Europe/London",
        "startsAt": "2030-06-01T19:30",
        "sections": [{ "name": "Standing", "price": 10, "capacity": capacity }]
    })
}

/// The event's seats as stored: (tickets of its section, the section's capacity, sold + held +
/// on sale as the event reports them).
async fn seats(app: &TestApp, client: &Client, event: &str) -> (i64, i64, i64) {
    let json: Value = app.get_json(client, &format!("/api/events/{event}")).await;
    let section = &json["sections"][0];
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let tickets: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets WHERE event_id = $1 AND resold_from IS NULL",
    )
    .bind(event)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    let counted = section["sold"].as_i64().unwrap()
        + section["reserved"].as_i64().unwrap()
        + section["available"].as_i64().unwrap();
    (tickets, section["capacity"].as_i64().unwrap(), counted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn publishing_racing_an_edit_puts_exactly_the_stored_sections_seats_on_sale() {
    let app = spawn_app().await;
    let (owner, email, _) = app.verified_user().await;
    app.grant(&email, Role::Organiser).await;
    for round in 0..6u32 {
        let created: Value = app
            .post_json(&owner, "/api/events", &draft_body(5))
            .await
            .json()
            .await
            .unwrap();
        let id = created["id"].as_str().unwrap().to_string();
        let section = created["sections"][0]["id"].as_str().unwrap().to_string();
        let mut edited = draft_body(5 + round + 1);
        edited["sections"][0]["id"] = json!(section);
        let edit = owner
            .put(app.url(&format!("/api/events/{id}")))
            .json(&edited)
            .send();
        let (publish_path, empty) = (format!("/api/events/{id}/publish"), json!({}));
        let publish = app.post_json(&owner, &publish_path, &empty);
        let (edit, publish) = futures::future::join(edit, publish).await;
        let (edit, publish) = (edit.unwrap().status(), publish.status());
        assert_eq!(publish, StatusCode::OK, "round {round}");
        assert!(edit == StatusCode::OK || edit.is_client_error(), "{edit}");
        // Whichever came first, the seats on sale are exactly the stored section's.
        let (tickets, capacity, counted) = seats(&app, &owner, &id).await;
        assert_eq!(tickets, capacity, "round {round}: edit {edit}");
        assert_eq!(counted, capacity);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_section_growing_while_its_seats_sell_sells_each_seat_once() {
    let app = spawn_app_with(|config| {
        config.auth_rate_limit = 0;
        config.order_rate_limit = 0;
        config.max_live_orders = 0;
    })
    .await;
    let gig = app.event_on_sale("Growing", 10.0, 4).await;
    let event: Value = app
        .get_json(&gig.organiser, &format!("/api/events/{}", gig.event_id))
        .await;
    let mut buyers = Vec::new();
    for _ in 0..12 {
        buyers.push(app.signed_in_user().await.0);
    }
    let order_body = json!({ "sectionId": gig.section_id });
    let selling = buyers
        .iter()
        .map(|buyer| app.post_json(buyer, "/api/orders", &order_body));
    let mut grown = draft_body(10);
    grown["name"] = json!("Growing");
    grown["city"] = json!("Leeds");
    grown["category"] = json!("concert");
    grown["sections"][0]["id"] = event["sections"][0]["id"].clone();
    grown["sections"][0]["price"] = json!(10);
    let growing = gig
        .organiser
        .put(app.url(&format!("/api/events/{}", gig.event_id)))
        .json(&grown)
        .send();
    let (answers, grew) = futures::future::join(join_all(selling), growing).await;
    assert_eq!(grew.unwrap().status(), StatusCode::OK);
    let mut seats_taken = std::collections::HashSet::new();
    let mut refused = 0;
    for answer in answers {
        match answer.status() {
            StatusCode::CREATED => {
                let order: Value = answer.json().await.unwrap();
                assert!(
                    seats_taken.insert(order["ticket"]["id"].as_str().unwrap().to_string()),
                    "a seat in two orders"
                );
            }
            StatusCode::BAD_REQUEST => refused += 1,
            other => panic!("{other}"),
        }
    }
    // Ten seats in the end: every buyer up to ten got one, each a different seat.
    assert_eq!(seats_taken.len() + refused, 12);
    assert!(seats_taken.len() <= 10);
    let (tickets, capacity, counted) = seats(&app, &gig.organiser, &gig.event_id).await;
    assert_eq!((tickets, capacity, counted), (10, 10, 10));
    let held: i64 = app
        .get_json::<Value>(&gig.organiser, &format!("/api/events/{}", gig.event_id))
        .await["sections"][0]["reserved"]
        .as_i64()
        .unwrap();
    assert_eq!(held as usize, seats_taken.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_cancelling_at_once_cancel_once_and_refund_each_order_once() {
    let nodes = spawn_nodes(2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let gig = a.event_on_sale("Twice Cancelled", 12.0, 6).await;
    for _ in 0..4 {
        let (buyer, _) = a.signed_in_user().await;
        a.buy_seat(&buyer, &gig.section_id).await;
    }
    // The organiser's session is in the database: the same cookie works on either node.
    let (path, reason) = (
        format!("/api/events/{}/cancel", gig.event_id),
        json!({ "reason": "Both doors" }),
    );
    let (first, second) = futures::future::join(
        a.post_json(&gig.organiser, &path, &reason),
        b.post_json(&gig.organiser, &path, &reason),
    )
    .await;
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST]);
    // Both nodes' refund jobs run at once, twice.
    for _ in 0..2 {
        let rounds = join_all([a, b].map(|node| async move {
            cancellation::refund_round(&Ctx::system(&node.state)).await
        }))
        .await;
        for round in rounds {
            round.expect("a refund round");
        }
    }
    let refunds: usize = [a, b]
        .iter()
        .map(|node| match &*node.state.gateway {
            Gateway::Test(gateway) => gateway.refund_count(),
            #[allow(unreachable_patterns)]
            _ => panic!("the tests run with the test-mode gateway"),
        })
        .sum();
    assert_eq!(refunds, 4, "each order refunded once, by one node");
    let mut conn = a.state.db.read.acquire().await.unwrap();
    assert_eq!(
        app::ssr::storage::cancellations::progress(
            &mut conn,
            &app::domain::Id::from_trusted(gig.event_id.clone())
        )
        .await
        .unwrap(),
        (4, 4)
    );
    assert_eq!(
        app::ssr::storage::ledger::unbalanced_transactions(&mut conn)
            .await
            .unwrap(),
        0
    );
}
