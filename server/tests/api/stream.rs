//! `GET /api/tickets/stream`: every public change of a ticket reaches subscribers on every
//! node, with no user data. Events are awaited as they arrive (with a generous limit so a
//! broken feed fails instead of hanging), never waited for by sleeping.

use crate::helpers::*;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

/// An open stream, read event by event.
struct Subscription {
    body: futures::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buffer: String,
}

impl Subscription {
    async fn open(app: &TestApp) -> Subscription {
        let response = client()
            .get(app.url("/api/tickets/stream"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream"),
            "{:?}",
            response.headers()
        );
        let subscription = Subscription {
            body: response
                .bytes_stream()
                .map(|r| r.map(|b| b.to_vec()))
                .boxed(),
            buffer: String::new(),
        };
        // Subscribed before the answer's headers were sent: every change from here on comes.
        assert!(app.state.ticket_feed.subscribers() > 0);
        subscription
    }

    /// The next `ticket` event's data.
    async fn next(&mut self) -> Value {
        self.next_of("ticket").await
    }

    /// The next event's data of this kind (`ticket` or `availability`).
    async fn next_of(&mut self, kind: &str) -> Value {
        let wanted = format!("event: {kind}");
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let is_ticket = block.lines().any(|l| l == wanted);
                let data: String = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                if is_ticket {
                    return serde_json::from_str(&data).unwrap();
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.body.next())
                .await
                .expect("an event within 20 s")
                .expect("the stream is open")
                .unwrap();
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// The statuses of `ticket_id` until it reaches `last`.
    async fn statuses_of(&mut self, ticket_id: &str, last: &str) -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let event = self.next().await;
            if event["id"] == ticket_id {
                // Public facts only.
                let keys: Vec<&str> = event
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str)
                    .collect();
                for private in ["userId", "orderId", "sellerId", "buyerId", "email"] {
                    assert!(!keys.contains(&private), "{event}");
                }
                let status = event["status"].as_str().unwrap().to_string();
                seen.push(status.clone());
                if status == last {
                    return seen;
                }
            }
        }
    }
}

#[tokio::test]
async fn a_subscriber_hears_a_ticket_listed_reserved_released_and_sold() {
    let app = spawn_app().await;
    let mut stream = Subscription::open(&app).await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(
            &seller,
            &json!({ "title": "Cup <b>final</b>", "price": 20 }),
        )
        .await;
    let id = ticket["id"].as_str().unwrap();
    assert_eq!(stream.statuses_of(id, "available").await, ["available"]);

    let (buyer, _) = app.signed_in_user().await;
    let order: Value = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": id }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(stream.statuses_of(id, "reserved").await, ["reserved"]);
    let cancelled = buyer
        .delete(app.url(&format!("/api/orders/{}", order["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    assert_eq!(stream.statuses_of(id, "available").await, ["available"]);

    let current: Value = app.get_json(&seller, &format!("/api/tickets/{id}")).await;
    let edited = seller
        .put(app.url(&format!("/api/tickets/{id}")))
        .json(&json!({ "title": "Cup <b>final</b>", "price": 25, "version": current["version"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        edited.status(),
        StatusCode::OK,
        "{}",
        edited.text().await.unwrap()
    );
    let repriced = stream.next().await;
    assert_eq!(
        (repriced["id"].as_str(), repriced["price"].as_str()),
        (Some(id), Some("$25.00"))
    );
    assert_eq!(
        repriced["title"], "Cup <b>final</b>",
        "text as typed; pages escape it"
    );

    app.buy(&buyer, id).await;
    let seen = stream.statuses_of(id, "sold").await;
    assert_eq!(seen.last().map(String::as_str), Some("sold"));
}

#[tokio::test]
async fn a_change_made_on_one_node_reaches_subscribers_of_another() {
    let nodes = spawn_nodes(2, |_| {}).await;
    let mut on_second = Subscription::open(&nodes[1]).await;
    let (seller, _) = nodes[0].signed_in_user().await;
    let ticket = nodes[0]
        .create_ticket(&seller, &json!({ "title": "Derby", "price": 15 }))
        .await;
    let id = ticket["id"].as_str().unwrap();
    let (buyer, _) = nodes[0].signed_in_user().await;
    let reserved = nodes[0]
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": id }))
        .await;
    assert_eq!(reserved.status(), StatusCode::CREATED);
    assert_eq!(
        on_second.statuses_of(id, "reserved").await.last().unwrap(),
        "reserved"
    );
}

#[tokio::test]
async fn a_taken_down_listing_is_announced_removed() {
    let app = spawn_app().await;
    let mut stream = Subscription::open(&app).await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Fake", "price": 20 }))
        .await;
    let id = ticket["id"].as_str().unwrap();
    let (admin, email) = app.signed_in_user().await;
    app.grant(&email, app::domain::role::Role::Admin).await;
    let removed = app
        .post_json(
            &admin,
            &format!("/api/admin/tickets/{id}/takedown"),
            &json!({ "reason": "Fraud" }),
        )
        .await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(
        stream.statuses_of(id, "removed").await.last().unwrap(),
        "removed"
    );
}

#[tokio::test]
async fn an_events_seats_are_announced_as_their_sections_counts_not_one_by_one() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Counted Gig", 15.0, 3).await;
    let mut stream = Subscription::open(&app).await;
    let (buyer, _) = app.signed_in_user().await;
    let reserved = app
        .post_json(
            &buyer,
            "/api/orders",
            &json!({ "sectionId": gig.section_id }),
        )
        .await;
    assert_eq!(reserved.status(), StatusCode::CREATED);
    let heard = stream.next_of("availability").await;
    assert_eq!(
        heard,
        json!({
            "type": "availability",
            "eventId": gig.event_id,
            "sectionId": gig.section_id,
            "available": 2,
        })
    );
    // The seat itself is never announced as a listing: the next listing heard of is this one.
    let (seller, _) = app.signed_in_user().await;
    let listed = app
        .create_ticket(&seller, &json!({ "title": "Elsewhere", "price": 9 }))
        .await;
    assert_eq!(stream.next().await["id"], listed["id"]);
    let order: Value = reserved.json().await.unwrap();
    let cancelled = buyer
        .delete(app.url(&format!("/api/orders/{}", order["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert!(cancelled.status().is_success());
    assert_eq!(stream.next_of("availability").await["available"], 3);
}
