//! Orders of several seats (docs/RULES.md, "Orders of several seats"): best available, chosen
//! seats all or nothing, the per-buyer limit, one payment for the whole order, and races that
//! really race. Run on SQLite and, with `.ci/with-postgres`, on PostgreSQL.

use crate::helpers::*;
use app::domain::role::Role;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;

/// A seated event on sale: rows A (4 seats), B (6) and C (6) at $10, at most `max` per buyer.
async fn seated_event(app: &TestApp, max: u32) -> (OnSaleSeated, Value) {
    let (organiser, email, _) = app.verified_user().await;
    app.grant(&email, Role::Organiser).await;
    let body = json!({
        "name": "Seated <Show>", "category": "theater", "venue": "Hall", "city": "York",
        "timeZone": "Europe/London", "startsAt": "2030-06-01T19:30", "maxPerBuyer": max,
        "sections": [
            { "name": "Stalls", "price": 10,
              "seating": { "rows": [
                  { "label": "A", "seats": 4 }, { "label": "B", "seats": 6 }, { "label": "C", "seats": 6 }
              ] } },
            { "name": "Standing", "price": 5, "capacity": 30 }
        ]
    });
    let created = app.post_json(&organiser, "/api/events", &body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let event: Value = created.json().await.unwrap();
    let id = event["id"].as_str().unwrap().to_string();
    let published = app
        .post_json(&organiser, &format!("/api/events/{id}/publish"), &json!({}))
        .await;
    assert_eq!(published.status(), StatusCode::OK);
    let stalls = event["sections"][0]["id"].as_str().unwrap().to_string();
    let standing = event["sections"][1]["id"].as_str().unwrap().to_string();
    (
        OnSaleSeated {
            organiser,
            event_id: id,
            stalls,
            standing,
        },
        event,
    )
}

struct OnSaleSeated {
    organiser: Client,
    event_id: String,
    stalls: String,
    standing: String,
}

fn seats_of(order: &Value) -> Vec<String> {
    order["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["seat"].as_str().unwrap_or("").to_string())
        .collect()
}

fn ids_of(order: &Value) -> Vec<String> {
    order["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// How many valid codes each of these tickets has (1 while its holder's, 0 once refunded), in
/// their order.
async fn valid_codes(app: &TestApp, ids: &[String]) -> Vec<i64> {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let mut valid = Vec::new();
    for id in ids {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM ticket_codes WHERE ticket_id = $1 AND status = 'valid'",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        valid.push(n);
    }
    valid
}

/// The section's `available` figure as the event reports it.
async fn available(app: &TestApp, client: &Client, event: &str, section: usize) -> i64 {
    let json: Value = app.get_json(client, &format!("/api/events/{event}")).await;
    json["sections"][section]["available"].as_i64().unwrap()
}

/// Every seat of the event's stalls with its label: (id, "Row A, Seat 1").
async fn stall_seats(app: &TestApp, event: &str) -> Vec<(String, String)> {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    sqlx::query_as(
        "SELECT t.id, t.seat FROM tickets t JOIN event_sections s ON s.id = t.section_id \
         WHERE t.event_id = $1 AND s.position = 0 AND t.resold_from IS NULL ORDER BY t.seat_order",
    )
    .bind(event)
    .fetch_all(&mut *conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn best_available_gives_the_front_most_adjacent_seats_and_one_order_holds_them() {
    let app = spawn_app().await;
    let (gig, _) = seated_event(&app, 8).await;
    let (buyer, _) = app.signed_in_user().await;
    let answer = app
        .post_json(
            &buyer,
            "/api/orders",
            &json!({ "sectionId": gig.stalls, "quantity": 3, "price": 30 }),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let order: Value = answer.json().await.unwrap();
    assert_eq!(
        seats_of(&order),
        ["Row A, Seat 1", "Row A, Seat 2", "Row A, Seat 3"]
    );
    assert_eq!(
        order["ticket"], order["tickets"][0],
        "`ticket` stays the first"
    );
    assert_eq!(order["price"], json!(30));
    assert_eq!(
        order["total"].as_f64(),
        Some(30.0 + order["fee"].as_f64().unwrap())
    );
    // Row A has one seat left: two together come from row B.
    let (second, _) = app.signed_in_user().await;
    let order: Value = app
        .post_json(
            &second,
            "/api/orders",
            &json!({ "sectionId": gig.stalls, "quantity": 2 }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seats_of(&order), ["Row B, Seat 1", "Row B, Seat 2"]);
    assert_eq!(
        available(&app, &gig.organiser, &gig.event_id, 0).await,
        16 - 5
    );
    // General admission: any places.
    let order: Value = app
        .post_json(
            &second,
            "/api/orders",
            &json!({ "sectionId": gig.standing, "quantity": 4 }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(order["tickets"].as_array().unwrap().len(), 4);
    assert_eq!(order["price"], json!(20));
    // The buyer's order list and the order itself show every seat.
    let shown: Value = app
        .get_json(
            &second,
            &format!("/api/orders/{}", order["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(ids_of(&shown), ids_of(&order));
}

#[tokio::test]
async fn chosen_seats_are_reserved_all_or_none() {
    let app = spawn_app().await;
    let (gig, _) = seated_event(&app, 8).await;
    let seats = stall_seats(&app, &gig.event_id).await;
    let (first, _) = app.signed_in_user().await;
    let taken = app
        .post_json(&first, "/api/orders", &json!({ "ticketIds": [seats[5].0] }))
        .await;
    assert_eq!(taken.status(), StatusCode::CREATED);
    let before = available(&app, &gig.organiser, &gig.event_id, 0).await;
    // Three seats of row B, one of them held by the first buyer: nothing is reserved.
    let (second, _) = app.signed_in_user().await;
    let wanted = json!({ "ticketIds": [seats[4].0, seats[5].0, seats[6].0] });
    assert_errors(
        app.post_json(&second, "/api/orders", &wanted).await,
        StatusCode::BAD_REQUEST,
        json!([{ "field": "ticketIds", "message": "Ticket is already reserved" }]),
    )
    .await;
    assert_eq!(
        available(&app, &gig.organiser, &gig.event_id, 0).await,
        before
    );
    // Without the taken one, at the sum the buyer saw.
    let wanted = json!({ "ticketIds": [seats[6].0, seats[4].0], "price": 20 });
    let answer = app.post_json(&second, "/api/orders", &wanted).await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    let order: Value = answer.json().await.unwrap();
    assert_eq!(
        seats_of(&order),
        ["Row B, Seat 1", "Row B, Seat 3"],
        "in seat order"
    );
    // A price that is not the sum is 409, and nothing is held.
    let wanted = json!({ "ticketIds": [seats[7].0, seats[8].0], "price": 10 });
    assert_errors(
        app.post_json(&second, "/api/orders", &wanted).await,
        StatusCode::CONFLICT,
        json!([{ "field": "price", "message": "The price of this ticket has changed" }]),
    )
    .await;
    assert_eq!(
        available(&app, &gig.organiser, &gig.event_id, 0).await,
        before - 2
    );
}

#[tokio::test]
async fn bad_requests_for_several_seats_are_refused_with_their_field() {
    let app = spawn_app().await;
    let (gig, _) = seated_event(&app, 8).await;
    let other = app.event_on_sale("Elsewhere", 10.0, 5).await;
    let seats = stall_seats(&app, &gig.event_id).await;
    let other_seat = {
        let mut conn = app.state.db.read.acquire().await.unwrap();
        let id: String = sqlx::query_scalar("SELECT id FROM tickets WHERE event_id = $1 LIMIT 1")
            .bind(&other.event_id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        id
    };
    let (buyer, _) = app.signed_in_user().await;
    let twenty_one: Vec<&String> = seats.iter().map(|(id, _)| id).take(16).collect();
    let mut too_many: Vec<String> = twenty_one.iter().map(|s| s.to_string()).collect();
    too_many.extend((0..5).map(|_| uuid_like()));
    let cases = [
        (
            json!({ "ticketIds": [] }),
            "ticketIds",
            "Choose at least one ticket",
        ),
        (
            json!({ "ticketIds": [seats[0].0, seats[0].0] }),
            "ticketIds",
            "Each ticket can be chosen once",
        ),
        (
            json!({ "ticketIds": too_many }),
            "ticketIds",
            "Choose at most 20 tickets",
        ),
        (
            json!({ "ticketIds": ["<script>"] }),
            "ticketIds",
            "Ticket id is not valid",
        ),
        (
            json!({ "ticketIds": "x\u{0}" }),
            "ticketIds",
            "Ticket ids must be a list of ticket ids",
        ),
        (
            json!({ "ticketIds": [seats[0].0, other_seat] }),
            "ticketIds",
            "Choose tickets of one event",
        ),
        (
            json!({ "sectionId": gig.stalls, "quantity": 0 }),
            "quantity",
            "Quantity must be a whole number of at least 1",
        ),
        (
            json!({ "sectionId": gig.stalls, "quantity": -1 }),
            "quantity",
            "Quantity must be a whole number of at least 1",
        ),
        (
            json!({ "sectionId": gig.stalls, "quantity": 1.5 }),
            "quantity",
            "Quantity must be a whole number of at least 1",
        ),
        (
            json!({ "sectionId": gig.stalls, "quantity": "2" }),
            "quantity",
            "Quantity must be a whole number of at least 1",
        ),
        (
            json!({ "sectionId": gig.stalls, "quantity": 1e300 }),
            "quantity",
            "Quantity must be a whole number of at least 1",
        ),
        (
            json!({ "sectionId": gig.stalls, "quantity": 9 }),
            "quantity",
            "You can hold at most 8 tickets for this event",
        ),
        (
            json!({ "sectionId": gig.stalls, "quantity": 1_000_000_000u64 }),
            "quantity",
            "You can hold at most 8 tickets for this event",
        ),
    ];
    for (body, field, message) in cases {
        assert_errors(
            app.post_json(&buyer, "/api/orders", &body).await,
            StatusCode::BAD_REQUEST,
            json!([{ "field": field, "message": message }]),
        )
        .await;
    }
    let both = json!({ "ticketIds": [seats[0].0], "sectionId": gig.stalls });
    let answer = app.post_json(&buyer, "/api/orders", &both).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    // The organiser cannot buy their own seats; a visitor signed out cannot buy at all.
    assert_errors(
        app.post_json(
            &gig.organiser,
            "/api/orders",
            &json!({ "sectionId": gig.stalls, "quantity": 2 }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "You cannot buy your own ticket" }]),
    )
    .await;
    let answer = app
        .post_json(
            &client(),
            "/api/orders",
            &json!({ "ticketIds": [seats[0].0] }),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        available(&app, &gig.organiser, &gig.event_id, 0).await,
        16,
        "nothing held"
    );
}

/// A well-formed id of no ticket.
fn uuid_like() -> String {
    app::ssr::clock::new_id().to_string()
}

#[tokio::test]
async fn a_buyer_holds_at_most_the_events_limit_across_orders_and_bought_tickets() {
    let app = spawn_app_with(|config| config.max_live_orders = 0).await;
    let (gig, _) = seated_event(&app, 4).await;
    let (buyer, _) = app.signed_in_user().await;
    app.reserve_and_pay(&buyer, json!({ "sectionId": gig.standing, "quantity": 2 }))
        .await;
    let held = app
        .post_json(
            &buyer,
            "/api/orders",
            &json!({ "sectionId": gig.stalls, "quantity": 1 }),
        )
        .await;
    assert_eq!(held.status(), StatusCode::CREATED);
    // Two bought and one held: two more is one too many, one more fits.
    assert_errors(
        app.post_json(&buyer, "/api/orders", &json!({ "sectionId": gig.stalls, "quantity": 2 }))
            .await,
        StatusCode::BAD_REQUEST,
        json!([{ "field": "quantity", "message": "You can hold at most 4 tickets for this event" }]),
    )
    .await;
    let seats = stall_seats(&app, &gig.event_id).await;
    assert_errors(
        app.post_json(&buyer, "/api/orders", &json!({ "ticketIds": [seats[10].0, seats[11].0] }))
            .await,
        StatusCode::BAD_REQUEST,
        json!([{ "field": "ticketIds", "message": "You can hold at most 4 tickets for this event" }]),
    )
    .await;
    let last = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": seats[12].0 }))
        .await;
    assert_eq!(last.status(), StatusCode::CREATED);
    assert_errors(
        app.post_json(&buyer, "/api/orders", &json!({ "ticketId": seats[13].0 })).await,
        StatusCode::BAD_REQUEST,
        json!([{ "field": "ticketId", "message": "You can hold at most 4 tickets for this event" }]),
    )
    .await;
    // A cancelled order no longer counts.
    let held: Value = held.json().await.unwrap();
    let cancelled = buyer
        .delete(app.url(&format!("/api/orders/{}", held["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    let again = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": seats[13].0 }))
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn one_payment_sells_every_seat_each_with_its_own_code_and_a_refund_takes_them_all_back() {
    let app = spawn_app().await;
    let (gig, _) = seated_event(&app, 8).await;
    let (buyer, _) = app.signed_in_user().await;
    let order = app
        .reserve_and_pay(&buyer, json!({ "sectionId": gig.stalls, "quantity": 3 }))
        .await;
    let order_id = order["id"].as_str().unwrap().to_string();
    let charges = app.charges_of(&order_id).await;
    assert_eq!(charges.len(), 1, "one charge");
    assert_eq!(
        charges[0].amount.cents(),
        (order["total"].as_f64().unwrap() * 100.0).round() as i64,
        "of the whole total"
    );
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "complete");
    let codes: HashSet<String> = {
        let mut conn = app.state.db.read.acquire().await.unwrap();
        let ids = ids_of(&order);
        let mut codes = HashSet::new();
        for id in &ids {
            let code: String = sqlx::query_scalar(
                "SELECT code FROM ticket_codes WHERE ticket_id = $1 AND status = 'valid'",
            )
            .bind(id)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
            codes.insert(code);
        }
        codes
    };
    assert_eq!(codes.len(), 3, "one code per seat");
    app.deliver_mail().await;
    let receipt = app
        .mailbox()
        .await
        .into_iter()
        .find(|m| m.subject.starts_with("Your 3 tickets"))
        .expect("one receipt for the order");
    for code in &codes {
        assert!(receipt.text.contains(code.as_str()), "{}", receipt.text);
    }
    for seat in ["Row A, Seat 1", "Row A, Seat 2", "Row A, Seat 3"] {
        assert!(receipt.text.contains(seat), "{}", receipt.text);
    }
    // Each seat's QR code travels inside the message and scans as that seat's code.
    let scanned: std::collections::BTreeSet<String> = receipt.qr_codes.iter().cloned().collect();
    assert_eq!(receipt.qr_codes.len(), 3, "one QR image per seat");
    assert_eq!(
        scanned,
        codes
            .iter()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
    );
    for code in &codes {
        assert!(
            receipt.html.contains(&format!("src=\"cid:qr.{code}\"")),
            "{}",
            receipt.html
        );
    }
    {
        let mut conn = app.state.db.read.acquire().await.unwrap();
        let sales: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM ledger_transactions WHERE order_id = $1 AND kind = 'sale'",
        )
        .bind(&order_id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!(sales, 3, "a sale per ticket");
        assert_eq!(
            app::ssr::storage::ledger::unbalanced_transactions(&mut conn)
                .await
                .unwrap(),
            0
        );
    }
    // The operator refunds the order: every seat is back on sale, every code void.
    let (admin, _) = app.admin().await;
    let refunded = app
        .post_json(
            &admin,
            &format!("/api/admin/orders/{order_id}/refund"),
            &json!({ "reason": "Asked <nicely>" }),
        )
        .await;
    assert_eq!(refunded.status(), StatusCode::OK);
    assert_eq!(available(&app, &gig.organiser, &gig.event_id, 0).await, 16);
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let valid: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ticket_codes c JOIN tickets t ON t.id = c.ticket_id \
         WHERE t.event_id = $1 AND c.status = 'valid'",
    )
    .bind(&gig.event_id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(valid, 0);
    let refunds: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ledger_transactions WHERE order_id = $1 AND kind = 'refund'",
    )
    .bind(&order_id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(refunds, 3, "a refund per ticket");
    assert_eq!(
        app::ssr::storage::ledger::unbalanced_transactions(&mut conn)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn expiry_and_cancelling_free_every_seat_of_the_order() {
    let app = spawn_app().await;
    let (gig, _) = seated_event(&app, 8).await;
    let (buyer, _) = app.signed_in_user().await;
    let order: Value = app
        .post_json(
            &buyer,
            "/api/orders",
            &json!({ "sectionId": gig.stalls, "quantity": 4 }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(available(&app, &gig.organiser, &gig.event_id, 0).await, 12);
    move_past_expiry(&app.clock, &order);
    let ctx = app::ssr::Ctx::system(&app.state);
    let expired = app::ssr::services::orders::expire_orders(&ctx)
        .await
        .unwrap();
    assert_eq!(expired, 1, "one order");
    assert_eq!(available(&app, &gig.organiser, &gig.event_id, 0).await, 16);
    let order: Value = app
        .post_json(
            &buyer,
            "/api/orders",
            &json!({ "sectionId": gig.stalls, "quantity": 4 }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        seats_of(&order)[0],
        "Row A, Seat 1",
        "the same front seats again"
    );
    let cancelled = buyer
        .delete(app.url(&format!("/api/orders/{}", order["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    assert_eq!(available(&app, &gig.organiser, &gig.event_id, 0).await, 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_buyers_asking_for_four_of_a_hundred_seats_never_share_or_split() {
    let app = spawn_app_with(|config| {
        config.auth_rate_limit = 0;
        config.order_rate_limit = 0;
    })
    .await;
    let gig = app.event_on_sale("Rush", 10.0, 100).await;
    let mut buyers = Vec::new();
    for _ in 0..200 {
        buyers.push(app.signed_in_user().await.0);
    }
    let body = json!({ "sectionId": gig.section_id, "quantity": 4 });
    let answers = join_all(
        buyers
            .iter()
            .map(|buyer| app.post_json(buyer, "/api/orders", &body)),
    )
    .await;
    let mut seats = HashSet::new();
    let (mut orders, mut refused) = (0, 0);
    for answer in answers {
        match answer.status() {
            StatusCode::CREATED => {
                let order: Value = answer.json().await.unwrap();
                let ids = ids_of(&order);
                assert_eq!(ids.len(), 4, "no order partly filled");
                for id in ids {
                    assert!(seats.insert(id), "a seat in two orders");
                }
                orders += 1;
            }
            StatusCode::BAD_REQUEST => {
                let body: Value = answer.json().await.unwrap();
                let message = body["errors"][0]["message"].as_str().unwrap().to_string();
                assert!(
                    message == "This section is sold out" || message.starts_with("Only "),
                    "{message}"
                );
                refused += 1;
            }
            other => panic!("{other}"),
        }
    }
    assert_eq!(orders, 25, "every seat sold, four at a time");
    assert_eq!(orders + refused, 200, "every buyer answered");
    assert_eq!(available(&app, &gig.organiser, &gig.event_id, 0).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn buyers_picking_overlapping_seats_get_all_theirs_or_none() {
    let app = spawn_app_with(|config| {
        config.auth_rate_limit = 0;
        config.order_rate_limit = 0;
    })
    .await;
    let (gig, _) = seated_event(&app, 8).await;
    let seats: Vec<String> = stall_seats(&app, &gig.event_id)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let mut buyers = Vec::new();
    for _ in 0..30 {
        buyers.push(app.signed_in_user().await.0);
    }
    // Each buyer wants three consecutive seats starting at a seat of their own: neighbours
    // overlap.
    let bodies: Vec<Value> = (0..buyers.len())
        .map(|n| json!({ "ticketIds": seats[n % 14..n % 14 + 3] }))
        .collect();
    let answers = join_all(
        buyers
            .iter()
            .zip(&bodies)
            .map(|(buyer, body)| app.post_json(buyer, "/api/orders", body)),
    )
    .await;
    let mut held = HashSet::new();
    for answer in answers {
        match answer.status() {
            StatusCode::CREATED => {
                let order: Value = answer.json().await.unwrap();
                let ids = ids_of(&order);
                assert_eq!(ids.len(), 3);
                for id in ids {
                    assert!(held.insert(id), "a seat in two orders");
                }
            }
            StatusCode::BAD_REQUEST => {}
            other => panic!("{other}"),
        }
    }
    assert!(!held.is_empty());
    let (_, counted) = {
        let mut conn = app.state.db.read.acquire().await.unwrap();
        let reserved: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM tickets WHERE event_id = $1 AND status = 'reserved'",
        )
        .bind(&gig.event_id)
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        ((), reserved)
    };
    assert_eq!(
        counted as usize,
        held.len(),
        "no seat held outside an order"
    );
}

async fn html(app: &TestApp, client: &Client, path: &str) -> String {
    let response = app.get(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

/// A form post as a browser without JavaScript makes it from `page`.
async fn post_form(
    app: &TestApp,
    who: &Client,
    page: &str,
    function: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    who.post(app.url(function))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url(page))
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_event_page_sells_by_quantity_and_by_seat_map_without_javascript() {
    let app = spawn_app().await;
    let (gig, event) = seated_event(&app, 4).await;
    let path = format!("/events/{}", event["slug"].as_str().unwrap());
    let seats = stall_seats(&app, &gig.event_id).await;
    let (first, _) = app.signed_in_user().await;
    app.post_json(&first, "/api/orders", &json!({ "ticketIds": [seats[1].0] }))
        .await;
    let (buyer, _) = app.signed_in_user().await;
    let page = html(&app, &buyer, &path).await;
    // A quantity from 1 to the event's limit, and a seat map whose taken seat cannot be ticked.
    assert!(page.contains("<option value=\"4\">4</option>"), "{page}");
    assert!(
        !page.contains("<option value=\"5\">"),
        "no more than the limit"
    );
    assert!(page.contains("Choose your seats in Stalls"));
    assert!(
        page.contains("Row A, Seat 2 (taken)"),
        "the taken seat says so"
    );
    let taken = format!("value=\"{}\" disabled", seats[1].0);
    assert!(page.contains(&taken), "{page}");
    assert!(page.contains(&format!("value=\"{}\"", seats[2].0)));

    // Three ticked seats, one Buy: one order holds them, at the sum of their prices.
    let answer = post_form(
        &app,
        &buyer,
        &path,
        "/_fn/reserve_seats",
        &[
            ("ticket_ids[]", ""),
            ("ticket_ids[]", &seats[4].0),
            ("ticket_ids[]", &seats[2].0),
            ("ticket_ids[]", &seats[3].0),
            ("price", "10.00"),
        ],
    )
    .await;
    assert!(answer.status().is_redirection(), "{}", answer.status());
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/orders/"), "{location}");
    let order = html(&app, &buyer, &location).await;
    assert!(order.contains("3 tickets"), "{order}");
    for seat in ["Row A, Seat 3", "Row A, Seat 4", "Row B, Seat 1"] {
        assert!(order.contains(seat), "{seat} on the order page");
    }
    // The page now offers at most the one seat the buyer may still take.
    let page = html(&app, &buyer, &path).await;
    assert!(!page.contains("<option value=\"2\">"), "{page}");

    // Nothing ticked, or past the limit: refused, and said on the page.
    let (other, _) = app.signed_in_user().await;
    let nothing = post_form(
        &app,
        &other,
        &path,
        "/_fn/reserve_seats",
        &[("ticket_ids[]", ""), ("price", "10.00")],
    )
    .await;
    assert!(nothing.status().is_redirection());
    let back = nothing.headers()["location"].to_str().unwrap().to_string();
    let back = back.trim_start_matches(&app.url("")).to_string();
    assert!(
        html(&app, &other, &back)
            .await
            .contains("Choose at least one ticket")
    );
    let mut five: Vec<(&str, &str)> = seats[6..11]
        .iter()
        .map(|(id, _)| ("ticket_ids[]", id.as_str()))
        .collect();
    five.push(("price", "10.00"));
    let over = post_form(&app, &other, &path, "/_fn/reserve_seats", &five).await;
    let back = over.headers()["location"].to_str().unwrap().to_string();
    let back = back.trim_start_matches(&app.url("")).to_string();
    assert!(
        html(&app, &other, &back)
            .await
            .contains("You can hold at most 4 tickets for this event")
    );
    // Best available by quantity, without JavaScript.
    let bought = post_form(
        &app,
        &other,
        &path,
        "/_fn/reserve_seat",
        &[
            ("section_id", &gig.standing),
            ("price", "5.00"),
            ("quantity", "3"),
        ],
    )
    .await;
    let location = bought.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/orders/"), "{location}");
    let orders: Value = app.get(&other, "/api/orders").await.json().await.unwrap();
    assert_eq!(orders[0]["tickets"].as_array().unwrap().len(), 3);
    assert_eq!(orders[0]["price"], json!(15));

    // From another site, or signed out: refused, nothing reserved.
    let (late, _) = app.signed_in_user().await;
    let refused = late
        .post(app.url("/_fn/reserve_seats"))
        .header("origin", "https://evil.example")
        .form(&[("ticket_ids[]", seats[12].0.as_str()), ("price", "10.00")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let anonymous = post_form(
        &app,
        &client(),
        &path,
        "/_fn/reserve_seats",
        &[("ticket_ids[]", &seats[12].0), ("price", "10.00")],
    )
    .await;
    assert!(anonymous.status().is_redirection());
    let orders: Value = app.get(&late, "/api/orders").await.json().await.unwrap();
    assert_eq!(orders.as_array().map(Vec::len), Some(0));
    let held: i64 = {
        let mut conn = app.state.db.read.acquire().await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE id = $1 AND status = 'reserved'")
            .bind(&seats[12].0)
            .fetch_one(&mut *conn)
            .await
            .unwrap()
    };
    assert_eq!(held, 0);
}

#[tokio::test]
async fn one_sellers_resale_listings_of_a_row_are_shown_and_bought_together() {
    let app = spawn_app().await;
    let (gig, event) = seated_event(&app, 8).await;
    let path = format!("/events/{}", event["slug"].as_str().unwrap());
    let (holder, _) = app.signed_in_user().await;
    let order = app
        .reserve_and_pay(&holder, json!({ "sectionId": gig.stalls, "quantity": 2 }))
        .await;
    for id in ids_of(&order) {
        let resold = app
            .post_json(
                &holder,
                &format!("/api/tickets/{id}/resell"),
                &json!({ "price": 9 }),
            )
            .await;
        assert_eq!(resold.status(), StatusCode::CREATED, "{id}");
    }
    let (buyer, _) = app.signed_in_user().await;
    let page = html(&app, &buyer, &path).await;
    assert!(page.contains("2 tickets, Row A"), "{page}");
    assert!(page.contains("Buy all 2"));
    // Bought together at the sum, as the page's form sends them.
    let listings: Value = app
        .get_json(&buyer, &format!("/api/tickets?eventId={}", gig.event_id))
        .await;
    let ids: Vec<String> = listings["tickets"]
        .as_array()
        .or(listings.as_array())
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    let bought = app
        .post_json(
            &buyer,
            "/api/orders",
            &json!({ "ticketIds": ids, "price": 18 }),
        )
        .await;
    assert_eq!(bought.status(), StatusCode::CREATED);
    let order: Value = bought.json().await.unwrap();
    assert_eq!(seats_of(&order), ["Row A, Seat 1", "Row A, Seat 2"]);
}

#[tokio::test]
async fn one_ticket_of_an_order_is_refunded_on_its_own_and_sold_again() {
    let app = spawn_app().await;
    let (gig, _) = seated_event(&app, 8).await;
    let (buyer, _) = app.signed_in_user().await;
    let order = app
        .reserve_and_pay(&buyer, json!({ "sectionId": gig.stalls, "quantity": 3 }))
        .await;
    let order_id = order["id"].as_str().unwrap().to_string();
    let ids = ids_of(&order);
    let (admin, _) = app.admin().await;
    let refund = |body: Value| {
        let path = format!("/api/admin/orders/{order_id}/refund");
        let admin = admin.clone();
        let app = &app;
        async move { app.post_json(&admin, &path, &body).await }
    };
    // Hostile bodies first: nothing is refunded.
    for (body, field, message) in [
        (
            json!({ "reason": "x", "ticketId": "<b>" }),
            "ticketId",
            "Ticket id is not valid",
        ),
        (
            json!({ "reason": "x", "ticketId": 7 }),
            "ticketId",
            "Ticket id is not valid",
        ),
        (
            json!({ "reason": "x", "ticketId": uuid_like() }),
            "ticketId",
            "This ticket is not in the order",
        ),
    ] {
        assert_errors(
            refund(body).await,
            StatusCode::BAD_REQUEST,
            json!([{ "field": field, "message": message }]),
        )
        .await;
    }
    let as_buyer = app
        .post_json(
            &buyer,
            &format!("/api/admin/orders/{order_id}/refund"),
            &json!({ "reason": "mine", "ticketId": ids[1] }),
        )
        .await;
    assert_eq!(as_buyer.status(), StatusCode::FORBIDDEN);

    // The middle seat alone: its price and fee back, the order stands for the other two.
    let answer = refund(json!({ "reason": "Cannot <come>", "ticketId": ids[1] })).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "complete");
    assert_errors(
        refund(json!({ "reason": "again", "ticketId": ids[1] })).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Order is already refunded" }]),
    )
    .await;
    assert_eq!(
        valid_codes(&app, &ids).await,
        vec![1, 0, 1],
        "only the refunded seat's code is void"
    );
    assert_eq!(available(&app, &gig.organiser, &gig.event_id, 0).await, 14);

    // The refunded seat sells again, although the order that had it stands.
    let (next, _) = app.signed_in_user().await;
    let again = app
        .reserve_and_pay(&next, json!({ "ticketIds": [ids[1]] }))
        .await;
    assert_eq!(ids_of(&again), vec![ids[1].clone()]);

    // The rest of the order: the two seats left, and the new buyer's seat untouched.
    let answer = refund(json!({ "reason": "Rest" })).await;
    assert_eq!(answer.status(), StatusCode::OK);
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "cancelled");
    assert_eq!(
        valid_codes(&app, &ids).await,
        vec![0, 1, 0],
        "the seat sold again keeps its new code"
    );
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let refunds: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ledger_transactions WHERE order_id = $1 AND kind = 'refund'",
    )
    .bind(&order_id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(refunds, 3, "each ticket refunded once");
    assert_eq!(
        app::ssr::storage::ledger::unbalanced_transactions(&mut conn)
            .await
            .unwrap(),
        0
    );
    let charge = &app.charges_of(&order_id).await[0];
    assert_eq!(charge.status, app::domain::ChargeStatus::Refunded);
}

#[tokio::test]
async fn the_console_refunds_one_seat_of_an_order_with_a_plain_form() {
    let app = spawn_app().await;
    let (gig, _) = seated_event(&app, 8).await;
    let (buyer, buyer_email) = app.signed_in_user().await;
    let order = app
        .reserve_and_pay(&buyer, json!({ "sectionId": gig.stalls, "quantity": 3 }))
        .await;
    let order_id = order["id"].as_str().unwrap().to_string();
    let ids = ids_of(&order);
    let (admin, _) = app.admin().await;
    let console = format!("/admin/orders?q={}", buyer_email.replace('+', "%2B"));
    let page = html(&app, &admin, &console).await;
    for seat in ["Row A, Seat 1", "Row A, Seat 2", "Row A, Seat 3"] {
        assert!(page.contains(&format!(">{seat} alone<")), "{page}");
    }
    let post = |who: &Client, form: Vec<(&'static str, String)>| {
        who.post(app.url("/_fn/admin_refund"))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", app.url(&console))
            .form(&form)
            .send()
    };
    let form = |ticket: &str| {
        vec![
            ("order_id", order_id.clone()),
            ("reason", "Seat <b>broken</b>".to_string()),
            ("ticket_id", ticket.to_string()),
        ]
    };
    // Hostile or foreign ticket ids, the buyer, another site: nothing is refunded.
    for ticket in ["<script>", "\u{0}", &"9".repeat(5000), &uuid_like()] {
        let refused = post(&admin, form(ticket)).await.unwrap();
        assert!(refused.status().is_redirection(), "{ticket}");
    }
    let signed_out = post(&client(), form(&ids[1])).await.unwrap();
    assert!(signed_out.status().is_redirection() || signed_out.status().is_client_error());
    let by_buyer = post(&buyer, form(&ids[1])).await.unwrap();
    assert!(by_buyer.status().is_redirection() || by_buyer.status().is_client_error());
    let cross_site = admin
        .post(app.url("/_fn/admin_refund"))
        .header("origin", "https://evil.example")
        .form(&form(&ids[1]))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(valid_codes(&app, &ids).await, vec![1, 1, 1]);

    // The middle seat alone: the order stands for the other two, which the form still offers.
    let done = post(&admin, form(&ids[1])).await.unwrap();
    assert!(done.status().is_redirection());
    assert_eq!(valid_codes(&app, &ids).await, vec![1, 0, 1]);
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "complete");
    let page = html(&app, &admin, &console).await;
    assert!(page.contains(">Row A, Seat 1 alone<"), "{page}");
    assert!(!page.contains(">Row A, Seat 2 alone<"), "{page}");

    // The whole order (an empty choice): the rest of it.
    let rest = post(&admin, form("")).await.unwrap();
    assert!(rest.status().is_redirection());
    assert_eq!(valid_codes(&app, &ids).await, vec![0, 0, 0]);
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "cancelled");
}

#[tokio::test]
async fn a_ticket_given_to_a_friend_counts_toward_their_limit() {
    let app = spawn_app_with(|config| config.max_live_orders = 0).await;
    let (gig, _) = seated_event(&app, 2).await;
    let (giver, _) = app.signed_in_user().await;
    let given = app
        .reserve_and_pay(&giver, json!({ "sectionId": gig.standing, "quantity": 2 }))
        .await;
    let (friend, friend_email) = app.signed_in_user().await;
    app.reserve_and_pay(&friend, json!({ "sectionId": gig.stalls, "quantity": 1 }))
        .await;
    let held = app
        .post_json(
            &friend,
            "/api/orders",
            &json!({ "sectionId": gig.stalls, "quantity": 1 }),
        )
        .await;
    assert_eq!(held.status(), StatusCode::CREATED);
    // One bought and one held: a ticket given would be a third.
    let ids = ids_of(&given);
    let path = format!("/api/tickets/{}/transfer", ids[0]);
    assert_errors(
        app.post_json(&giver, &path, &json!({ "email": friend_email }))
            .await,
        StatusCode::BAD_REQUEST,
        json!([{ "field": "email", "message": "You can hold at most 2 tickets for this event" }]),
    )
    .await;
    // Once the held order is cancelled, the gift fits.
    let held: Value = held.json().await.unwrap();
    let cancelled = friend
        .delete(app.url(&format!("/api/orders/{}", held["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    let answer = app
        .post_json(&giver, &path, &json!({ "email": friend_email }))
        .await;
    assert_eq!(
        answer.status(),
        StatusCode::OK,
        "{}",
        answer.text().await.unwrap()
    );
}

#[tokio::test]
async fn gifts_waiting_for_a_new_account_stop_at_its_limit() {
    let app = spawn_app().await;
    let (gig, _) = seated_event(&app, 1).await;
    let newcomer = unique_email();
    let mut givers = Vec::new();
    for _ in 0..2 {
        let (giver, _) = app.signed_in_user().await;
        let order = app
            .reserve_and_pay(&giver, json!({ "sectionId": gig.standing }))
            .await;
        let ticket = order["ticket"]["id"].as_str().unwrap().to_string();
        let path = format!("/api/tickets/{ticket}/transfer");
        let answer = app
            .post_json(&giver, &path, &json!({ "email": newcomer }))
            .await;
        assert_eq!(answer.status(), StatusCode::OK);
        givers.push((giver, ticket));
    }
    // The newcomer signs up: one gift arrives, the other goes back to its giver.
    let client = client();
    let signed_up = app
        .sign_up(&client, &newcomer, "correct horse battery")
        .await;
    assert!(signed_up.status().is_success(), "{}", signed_up.status());
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let owners: Vec<String> = {
        let mut owners = Vec::new();
        for (_, ticket) in &givers {
            let holder: String = sqlx::query_scalar(
                "SELECT u.email FROM ticket_codes c JOIN users u ON u.id = c.holder_id \
                 WHERE c.ticket_id = $1 AND c.status = 'valid'",
            )
            .bind(ticket)
            .fetch_one(&mut *conn)
            .await
            .unwrap();
            owners.push(holder);
        }
        owners
    };
    assert_eq!(
        owners.iter().filter(|o| **o == newcomer).count(),
        1,
        "one gift within the limit of 1: {owners:?}"
    );
}

/// What can happen to an on-sale of several seats, in any order.
#[derive(Debug, Clone)]
enum Step {
    /// A buyer asks for best-available seats of the stalls (seated) or the standing section.
    Best {
        buyer: usize,
        seated: bool,
        quantity: u32,
    },
    /// A buyer ticks `count` stall seats from the `first`.
    Chosen {
        buyer: usize,
        first: usize,
        count: usize,
    },
    Cancel {
        order: usize,
    },
    Pay {
        order: usize,
    },
    /// An operator refunds one ticket of an order, or all that is left of it.
    Refund {
        order: usize,
        ticket: Option<usize>,
    },
    /// Time passes (16 minutes lapse every hold), and the sweeper runs.
    Tick {
        minutes: i64,
    },
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0usize..3, any::<bool>(), 1u32..5)
            .prop_map(|(buyer, seated, quantity)| Step::Best { buyer, seated, quantity }),
        3 => (0usize..3, 0usize..16, 1usize..4)
            .prop_map(|(buyer, first, count)| Step::Chosen { buyer, first, count }),
        1 => (0usize..12).prop_map(|order| Step::Cancel { order }),
        3 => (0usize..12).prop_map(|order| Step::Pay { order }),
        1 => (0usize..12, proptest::option::of(0usize..4))
            .prop_map(|(order, ticket)| Step::Refund { order, ticket }),
        1 => prop::sample::select(vec![5i64, 16]).prop_map(|minutes| Step::Tick { minutes }),
    ]
}

/// After every step: no ticket held by two orders, every live order holds each of its seats,
/// every paid ticket not refunded has its buyer's code, nobody holds more than the limit, and
/// every ledger transaction balances.
async fn check_invariants(app: &TestApp, event: &str, max: i64) -> Result<(), String> {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let now = app.clock.now().millis();
    let doubled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT ticket_id FROM order_tickets WHERE holds = 1 \
         GROUP BY ticket_id HAVING COUNT(*) > 1) AS d",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    if doubled > 0 {
        return Err(format!("{doubled} tickets held by two orders"));
    }
    let unheld: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM order_tickets ot JOIN orders o ON o.id = ot.order_id \
         JOIN tickets t ON t.id = ot.ticket_id WHERE o.status IN ('created', 'awaiting:payment') \
         AND o.expires_at > $1 AND NOT (t.order_id = o.id AND t.status = 'reserved')",
    )
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    if unheld > 0 {
        return Err(format!(
            "{unheld} seats of live orders not held by them (a split order)"
        ));
    }
    let codeless: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM order_tickets ot JOIN orders o ON o.id = ot.order_id \
         WHERE o.status = 'complete' AND ot.refunded_at IS NULL AND NOT EXISTS (\
         SELECT 1 FROM ticket_codes c WHERE c.ticket_id = ot.ticket_id AND c.holder_id = o.buyer_id \
         AND c.status IN ('valid', 'used'))",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    if codeless > 0 {
        return Err(format!(
            "{codeless} paid tickets without their buyer's code"
        ));
    }
    let buyers: Vec<String> = sqlx::query_scalar("SELECT DISTINCT buyer_id FROM orders")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    for buyer in buyers {
        let held = app::ssr::storage::orders::tickets_held_for_event(
            &mut conn,
            &app::domain::Id::parse(&buyer).unwrap(),
            &app::domain::Id::parse(event).unwrap(),
            app.clock.now(),
        )
        .await
        .unwrap();
        if held > max {
            return Err(format!("a buyer holds {held} tickets, past {max}"));
        }
    }
    let unbalanced = app::ssr::storage::ledger::unbalanced_transactions(&mut conn)
        .await
        .unwrap();
    if unbalanced > 0 {
        return Err(format!("{unbalanced} unbalanced ledger transactions"));
    }
    Ok(())
}

#[test]
fn random_mixes_of_orders_payments_cancellations_expiries_and_refunds_keep_every_seat_straight() {
    use proptest::prelude::*;
    let runtime = property_runtime(2);
    check_property(16, &prop::collection::vec(step(), 1..24), |steps| {
        runtime.block_on(async {
            let app = spawn_app_with(|config| {
                config.max_live_orders = 0;
                config.order_rate_limit = 0;
                config.auth_rate_limit = 0;
            })
            .await;
            let (gig, _) = seated_event(&app, 5).await;
            let seats = stall_seats(&app, &gig.event_id).await;
            let mut buyers = Vec::new();
            for _ in 0..3 {
                buyers.push(app.signed_in_user().await.0);
            }
            let (admin, _) = app.admin().await;
            let mut orders: Vec<Value> = Vec::new();
            for step in &steps {
                match step {
                    Step::Best {
                        buyer,
                        seated,
                        quantity,
                    } => {
                        let section = if *seated { &gig.stalls } else { &gig.standing };
                        let body = json!({ "sectionId": section, "quantity": quantity });
                        let answer = app.post_json(&buyers[*buyer], "/api/orders", &body).await;
                        let status = answer.status();
                        prop_assert!(
                            status == StatusCode::CREATED || status == StatusCode::BAD_REQUEST,
                            "{}",
                            status
                        );
                        if status == StatusCode::CREATED {
                            let order: Value = answer.json().await.unwrap();
                            prop_assert_eq!(
                                order["tickets"].as_array().unwrap().len(),
                                *quantity as usize
                            );
                            orders.push(order);
                        }
                    }
                    Step::Chosen {
                        buyer,
                        first,
                        count,
                    } => {
                        let ids: Vec<&String> = seats
                            .iter()
                            .skip(*first)
                            .take(*count)
                            .map(|(id, _)| id)
                            .collect();
                        let body = json!({ "ticketIds": ids });
                        let answer = app.post_json(&buyers[*buyer], "/api/orders", &body).await;
                        let status = answer.status();
                        prop_assert!(
                            status == StatusCode::CREATED || status == StatusCode::BAD_REQUEST,
                            "{}",
                            status
                        );
                        if status == StatusCode::CREATED {
                            let order: Value = answer.json().await.unwrap();
                            prop_assert_eq!(order["tickets"].as_array().unwrap().len(), ids.len());
                            orders.push(order);
                        }
                    }
                    Step::Cancel { order } | Step::Pay { order } | Step::Refund { order, .. }
                        if *order >= orders.len() => {}
                    Step::Cancel { order } => {
                        let order = &orders[*order];
                        let buyer = buyer_of(&app, &buyers, order).await;
                        let path = format!("/api/orders/{}", order["id"].as_str().unwrap());
                        let answer = buyer.delete(app.url(&path)).send().await.unwrap();
                        prop_assert!(
                            answer.status() == StatusCode::NO_CONTENT
                                || answer.status() == StatusCode::BAD_REQUEST
                        );
                    }
                    Step::Pay { order } => {
                        let order = &orders[*order];
                        let buyer = buyer_of(&app, &buyers, order).await;
                        let body = json!({ "orderId": order["id"], "token": "tok_visa" });
                        let answer = app.post_json(buyer, "/api/payments", &body).await;
                        prop_assert!(
                            answer.status() == StatusCode::CREATED
                                || answer.status() == StatusCode::BAD_REQUEST,
                            "{}",
                            answer.status()
                        );
                    }
                    Step::Refund { order, ticket } => {
                        let order = &orders[*order];
                        let mut body = json!({ "reason": "Property" });
                        if let Some(n) = ticket {
                            let ids = ids_of(order);
                            body["ticketId"] = json!(ids[n % ids.len()]);
                        }
                        let path =
                            format!("/api/admin/orders/{}/refund", order["id"].as_str().unwrap());
                        let answer = app.post_json(&admin, &path, &body).await;
                        prop_assert!(
                            answer.status() == StatusCode::OK
                                || answer.status() == StatusCode::BAD_REQUEST,
                            "{}",
                            answer.status()
                        );
                    }
                    Step::Tick { minutes } => {
                        app.clock.advance(minutes * 60_000);
                        app::ssr::services::orders::expire_orders(&app::ssr::Ctx::system(
                            &app.state,
                        ))
                        .await
                        .unwrap();
                    }
                }
                if let Err(broken) = check_invariants(&app, &gig.event_id, 5).await {
                    return Err(TestCaseError::fail(format!("after {step:?}: {broken}")));
                }
            }
            Ok(())
        })
    });
}

/// The client of the buyer whose order `order` is.
async fn buyer_of<'a>(app: &TestApp, buyers: &'a [Client], order: &Value) -> &'a Client {
    for buyer in buyers {
        let user = app.current_user(buyer).await;
        if user["id"] == order["userId"] {
            return buyer;
        }
    }
    panic!("no buyer holds {order}")
}
