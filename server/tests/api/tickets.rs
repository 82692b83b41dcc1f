//! `/api/tickets`: listing, showing, editing, browsing.

use crate::helpers::*;
use app::domain::{Category, Id, Price, TicketDraft, Title};
use app::ssr::Ctx;
use app::ssr::clock::ManualClock;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

fn concert() -> Value {
    json!({ "title": "Arctic Monkeys — Live at the Arena", "price": 45.5, "category": "concert",
            "venue": "The Arena", "startsAt": "2031-06-01T19:30:00Z" })
}

async fn create(app: &TestApp, client: &reqwest::Client, body: &Value) -> Value {
    app.create_ticket(client, body).await
}

async fn put(app: &TestApp, client: &reqwest::Client, id: &str, body: &Value) -> reqwest::Response {
    client
        .put(app.url(&format!("/api/tickets/{id}")))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn events_for(app: &TestApp, id: &str) -> Vec<String> {
    app.events_for(id).await
}

fn price_error(message: &str) -> Value {
    json!([{ "message": message, "field": "price" }])
}

#[tokio::test]
async fn creating_a_ticket_signed_out_is_401() {
    let app = spawn_app().await;
    let response = app.post_json(&client(), "/api/tickets", &concert()).await;
    assert_errors(
        response,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
}

#[tokio::test]
async fn a_ticket_needs_a_title() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let required = json!([{ "message": "Title is required", "field": "title" }]);
    for title in [
        json!(""),
        json!("   "),
        json!(null),
        json!(42),
        json!(["a"]),
    ] {
        let response = app
            .post_json(
                &client,
                "/api/tickets",
                &json!({ "title": title, "price": 10 }),
            )
            .await;
        assert_errors(response, StatusCode::BAD_REQUEST, required.clone()).await;
    }
    let response = app
        .post_json(&client, "/api/tickets", &json!({ "price": 10 }))
        .await;
    assert_errors(response, StatusCode::BAD_REQUEST, required).await;
    let response = app
        .post_json(
            &client,
            "/api/tickets",
            &json!({ "title": "x".repeat(121), "price": 10 }),
        )
        .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Title must be at most 120 characters", "field": "title" }]),
    )
    .await;
}

#[tokio::test]
async fn a_ticket_needs_a_valid_price() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let cases = [
        (json!(-10), "Price must be greater than 0"),
        (json!(0), "Price must be greater than 0"),
        (json!("twenty"), "Price must be a number"),
        (json!("20"), "Price must be a number"),
        (json!(null), "Price must be a number"),
        (json!(10.005), "Price must have at most 2 decimals"),
        (json!(1_000_000.01), "Price must be at most 1,000,000.00"),
    ];
    for (price, message) in cases {
        let response = app
            .post_json(
                &client,
                "/api/tickets",
                &json!({ "title": "Gig", "price": price }),
            )
            .await;
        assert_errors(response, StatusCode::BAD_REQUEST, price_error(message)).await;
    }
    let response = app
        .post_json(&client, "/api/tickets", &json!({ "title": "Gig" }))
        .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        price_error("Price must be a number"),
    )
    .await;
}

#[tokio::test]
async fn every_invalid_field_is_reported() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let body =
        json!({ "title": "", "price": -1, "category": "opera", "venue": 7, "startsAt": "soon" });
    let response = app.post_json(&client, "/api/tickets", &body).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([
            { "message": "Title is required", "field": "title" },
            { "message": "Price must be greater than 0", "field": "price" },
            { "message": "Category must be one of sports, concert, theater, other", "field": "category" },
            { "message": "Venue must be text", "field": "venue" },
            { "message": "Event date must be a date and time such as 2026-12-31T20:00:00Z", "field": "startsAt" },
        ]),
    )
    .await;
    let listed: Vec<Value> = app.get_json(&client, "/api/tickets").await;
    assert!(listed.is_empty(), "nothing was created");
}

#[tokio::test]
async fn a_valid_ticket_is_created_available_at_version_0_and_persisted() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let me = app.current_user(&client).await;
    let ticket = create(&app, &client, &concert()).await;
    assert_eq!(ticket["title"], "Arctic Monkeys — Live at the Arena");
    assert_eq!(ticket["price"], json!(45.5));
    assert_eq!(ticket["category"], "concert");
    assert_eq!(ticket["venue"], "The Arena");
    assert_eq!(ticket["startsAt"], "2031-06-01T19:30:00.000Z");
    assert_eq!(ticket["status"], "available");
    assert_eq!(ticket["version"], 0);
    assert_eq!(ticket["orderId"], Value::Null);
    assert_eq!(ticket["userId"], me["id"]);
    assert!(
        ticket["createdAt"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let id = ticket["id"].as_str().unwrap();
    let shown: Value = app
        .get_json(&crate::helpers::client(), &format!("/api/tickets/{id}"))
        .await;
    assert_eq!(shown, ticket, "what was stored is what is shown, to anyone");
    assert_eq!(events_for(&app, id).await, ["TicketCreated"]);
}

#[tokio::test]
async fn optional_fields_can_be_left_out() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let ticket = create(
        &app,
        &client,
        &json!({ "title": "Mystery gig", "price": 20 }),
    )
    .await;
    assert_eq!(ticket["price"], json!(20));
    assert_eq!(ticket["category"], "other");
    assert_eq!(ticket["venue"], Value::Null);
    assert_eq!(ticket["startsAt"], Value::Null);
}

#[tokio::test]
async fn showing_tickets_unknown_and_malformed_ids() {
    let app = spawn_app().await;
    let response = app
        .get(
            &client(),
            "/api/tickets/0191f4b2-5c3a-7d11-8e2f-0123456789ab",
        )
        .await;
    assert_errors(
        response,
        StatusCode::NOT_FOUND,
        json!([{ "message": "Not found" }]),
    )
    .await;
    let response = app.get(&client(), "/api/tickets/not-an-id").await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Invalid id" }]),
    )
    .await;
}

#[tokio::test]
async fn the_listing_shows_available_tickets_but_not_reserved_or_sold_ones() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let on_sale = create(&app, &client, &json!({ "title": "On sale", "price": 10 })).await;
    let held = create(&app, &client, &json!({ "title": "Held", "price": 10 })).await;
    let sold = create(&app, &client, &json!({ "title": "Sold", "price": 10 })).await;
    reserve_directly(&app, held["id"].as_str().unwrap(), 60_000).await;
    mark_sold_directly(&app, sold["id"].as_str().unwrap()).await;

    let listed: Vec<Value> = app.get_json(&client, "/api/tickets").await;
    let titles: Vec<&str> = listed
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["On sale"]);
    assert_eq!(listed[0], on_sale);

    let shown: Value = app
        .get_json(
            &client,
            &format!("/api/tickets/{}", held["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        shown["status"], "reserved",
        "reserved tickets are still shown by id"
    );
    assert!(shown["orderId"].is_string());
}

#[tokio::test]
async fn a_lapsed_reservation_puts_the_ticket_back_in_the_listing() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let ticket = create(
        &app,
        &client,
        &json!({ "title": "Briefly held", "price": 10 }),
    )
    .await;
    let id = ticket["id"].as_str().unwrap();
    // Held until one millisecond ago: nobody swept it, yet it is available.
    reserve_directly(&app, id, -1).await;
    let listed: Vec<Value> = app.get_json(&client, "/api/tickets").await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["status"], "available");
    assert_eq!(listed[0]["orderId"], Value::Null);
    let response = put(
        &app,
        &client,
        id,
        &json!({ "title": "Edited", "price": 11 }),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "and its seller may edit it again"
    );
}

#[tokio::test]
async fn updating_signed_out_is_401() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let ticket = create(&app, &client, &concert()).await;
    let response = put(
        &app,
        &crate::helpers::client(),
        ticket["id"].as_str().unwrap(),
        &json!({ "title": "Mine now", "price": 1 }),
    )
    .await;
    assert_errors(
        response,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
}

#[tokio::test]
async fn updating_someone_elses_ticket_is_403_and_changes_nothing() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let (stranger, _) = app.signed_in_user().await;
    let ticket = create(&app, &seller, &concert()).await;
    let id = ticket["id"].as_str().unwrap();
    let response = put(
        &app,
        &stranger,
        id,
        &json!({ "title": "Mine now", "price": 1 }),
    )
    .await;
    assert_errors(
        response,
        StatusCode::FORBIDDEN,
        json!([{ "message": "Forbidden" }]),
    )
    .await;
    let shown: Value = app.get_json(&stranger, &format!("/api/tickets/{id}")).await;
    assert_eq!(shown, ticket);
    assert_eq!(events_for(&app, id).await, ["TicketCreated"]);
}

#[tokio::test]
async fn updating_an_unknown_ticket_is_404_and_a_malformed_id_400() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let response = put(
        &app,
        &client,
        "0191f4b2-5c3a-7d11-8e2f-0123456789ab",
        &json!({ "title": "x", "price": 1 }),
    )
    .await;
    assert_errors(
        response,
        StatusCode::NOT_FOUND,
        json!([{ "message": "Not found" }]),
    )
    .await;
    let response = put(&app, &client, "nope", &json!({ "title": "x", "price": 1 })).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Invalid id" }]),
    )
    .await;
}

#[tokio::test]
async fn updating_with_invalid_fields_is_400_and_changes_nothing() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let ticket = create(&app, &client, &concert()).await;
    let id = ticket["id"].as_str().unwrap();
    let response = put(&app, &client, id, &json!({ "title": "", "price": 0 })).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([
            { "message": "Title is required", "field": "title" },
            { "message": "Price must be greater than 0", "field": "price" },
        ]),
    )
    .await;
    let shown: Value = app.get_json(&client, &format!("/api/tickets/{id}")).await;
    assert_eq!(shown, ticket);
}

#[tokio::test]
async fn the_seller_updates_the_ticket_and_the_version_goes_up() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let ticket = create(&app, &client, &concert()).await;
    let id = ticket["id"].as_str().unwrap();
    let body = json!({ "title": "Arctic Monkeys — front row", "price": 99.99, "category": "concert", "version": 0 });
    let response = put(&app, &client, id, &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let updated: Value = response.json().await.unwrap();
    assert_eq!(updated["title"], "Arctic Monkeys — front row");
    assert_eq!(updated["price"], json!(99.99));
    assert_eq!(updated["version"], 1);
    assert_eq!(
        updated["venue"],
        Value::Null,
        "a PUT replaces the listing: omitted optional fields are cleared"
    );
    let shown: Value = app
        .get_json(&crate::helpers::client(), &format!("/api/tickets/{id}"))
        .await;
    assert_eq!(shown, updated, "persisted");
    assert_eq!(
        events_for(&app, id).await,
        ["TicketCreated", "TicketUpdated"]
    );
}

#[tokio::test]
async fn a_stale_version_is_409() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let ticket = create(&app, &client, &concert()).await;
    let id = ticket["id"].as_str().unwrap();
    assert_eq!(
        put(
            &app,
            &client,
            id,
            &json!({ "title": "First", "price": 1, "version": 0 })
        )
        .await
        .status(),
        StatusCode::OK
    );
    let response = put(
        &app,
        &client,
        id,
        &json!({ "title": "Second", "price": 2, "version": 0 }),
    )
    .await;
    assert_errors(
        response,
        StatusCode::CONFLICT,
        json!([{ "message": "This ticket was changed since you loaded it; reload it and try again", "field": "version" }]),
    )
    .await;
    let shown: Value = app.get_json(&client, &format!("/api/tickets/{id}")).await;
    assert_eq!(shown["title"], "First");
    assert_eq!(
        events_for(&app, id).await,
        ["TicketCreated", "TicketUpdated"]
    );
}

#[tokio::test]
async fn a_reserved_ticket_cannot_be_edited() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let ticket = create(&app, &client, &concert()).await;
    let id = ticket["id"].as_str().unwrap();
    reserve_directly(&app, id, 60_000).await;
    let response = put(
        &app,
        &client,
        id,
        &json!({ "title": "Cheaper", "price": 1 }),
    )
    .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Cannot edit a reserved ticket" }]),
    )
    .await;
    let sold = create(&app, &client, &concert()).await;
    mark_sold_directly(&app, sold["id"].as_str().unwrap()).await;
    let response = put(
        &app,
        &client,
        sold["id"].as_str().unwrap(),
        &json!({ "title": "Cheaper", "price": 1 }),
    )
    .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Cannot edit a reserved ticket" }]),
    )
    .await;
}

/// Lists `count` tickets for one seller straight through the service, with varied categories,
/// prices, dates and titles, one millisecond apart so "newest" has a definite order.
async fn seed(app: &TestApp, count: usize) -> Id {
    let (client, _) = app.signed_in_user().await;
    let seller = Id::from_trusted(
        app.current_user(&client).await["id"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let start = app.clock.now();
    let words = [
        "Jazz night",
        "Cup final",
        "Hamlet",
        "Rock festival",
        "Comedy club",
        "Derby",
    ];
    for i in 0..count {
        let category = Category::ALL[i % 4];
        let draft = TicketDraft {
            title: Title::parse(&format!("{} #{i}", words[i % words.len()])).unwrap(),
            price: Price::from_cents(1000 + ((i * 7919) % 500) as i64 * 100 + i as i64).unwrap(),
            face_value: None,
            category,
            venue: Some(format!("Hall {}", i % 10)),
            starts_at: (i % 5 != 0)
                .then(|| start.plus_millis(86_400_000 * (1 + ((i * 37) % 300) as i64))),
            time_zone: None,
        };
        let at = Arc::new(ManualClock::at(start.plus_millis(i as i64)));
        let ctx = Ctx::system(&app.state)
            .acting_as(seller.clone())
            .with_clock(at);
        app::ssr::services::tickets::list_ticket(&ctx, draft)
            .await
            .unwrap();
    }
    seller
}

async fn page(app: &TestApp, query: &str) -> (Vec<Value>, i64) {
    let response = app.get(&client(), &format!("/api/tickets{query}")).await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    let total = response.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (response.json().await.unwrap(), total)
}

#[tokio::test]
async fn browsing_searches_filters_sorts_and_pages_hundreds_of_tickets() {
    let app = spawn_app().await;
    seed(&app, 300).await;

    // Pages of 24, newest first, covering everything exactly once.
    let (first, total) = page(&app, "").await;
    assert_eq!(total, 300);
    assert_eq!(first.len(), 24);
    assert!(first[0]["title"].as_str().unwrap().ends_with("#299"));
    let mut seen = std::collections::HashSet::new();
    for n in 1..=13 {
        let (tickets, _) = page(&app, &format!("?page={n}")).await;
        assert_eq!(
            tickets.len(),
            if n == 13 { 300 - 24 * 12 } else { 24 },
            "page {n}"
        );
        for t in tickets {
            assert!(
                seen.insert(t["id"].as_str().unwrap().to_string()),
                "listed twice"
            );
        }
    }
    assert_eq!(seen.len(), 300);
    assert!(page(&app, "?page=14").await.0.is_empty());

    // Category filter.
    let (sports, total) = page(&app, "?category=sports").await;
    assert_eq!(total, 75);
    assert!(sports.iter().all(|t| t["category"] == "sports"));

    // Title search: every word, as prefixes, any letter case, combined with the filter.
    let (found, total) = page(&app, "?q=ROCK%20fest").await;
    assert_eq!(total, 50);
    assert!(
        found
            .iter()
            .all(|t| t["title"].as_str().unwrap().starts_with("Rock festival"))
    );
    let (found, total) = page(&app, "?q=hamlet&category=theater").await;
    assert!(
        total > 0
            && found
                .iter()
                .all(|t| t["title"].as_str().unwrap().starts_with("Hamlet")
                    && t["category"] == "theater")
    );
    assert_eq!(page(&app, "?q=zzzz").await.1, 0);

    // Sort by price: ascending over the whole result, across pages.
    let mut prices = Vec::new();
    for n in 1..=13 {
        prices.extend(
            page(&app, &format!("?sort=price&page={n}"))
                .await
                .0
                .iter()
                .map(|t| t["price"].as_f64().unwrap()),
        );
    }
    assert_eq!(prices.len(), 300);
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "prices ascend");

    // Sort by event date: soonest first, undated last.
    let mut dates = Vec::new();
    for n in 1..=13 {
        dates.extend(
            page(&app, &format!("?sort=date&page={n}"))
                .await
                .0
                .iter()
                .map(|t| t["startsAt"].as_str().map(String::from)),
        );
    }
    let dated: Vec<&String> = dates.iter().flatten().collect();
    assert_eq!(dated.len(), 240);
    assert!(dated.windows(2).all(|w| w[0] <= w[1]), "dates ascend");
    assert!(
        dates[240..].iter().all(Option::is_none),
        "undated listings come last"
    );
}

#[tokio::test]
async fn browsing_refuses_unknown_sorts_categories_and_pages() {
    let app = spawn_app().await;
    let response = app
        .get(&client(), "/api/tickets?sort=random&category=opera&page=0")
        .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([
            { "message": "Category must be one of sports, concert, theater, other", "field": "category" },
            { "message": "Sort must be one of date, price, new", "field": "sort" },
            { "message": "Page must be a whole number from 1", "field": "page" },
        ]),
    )
    .await;
}

#[tokio::test]
async fn past_events_are_not_listed() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    create(
        &app,
        &client,
        &json!({ "title": "Last year's gig", "price": 10, "startsAt": "2020-01-01T20:00:00Z" }),
    )
    .await;
    create(
        &app,
        &client,
        &json!({ "title": "Next year's gig", "price": 10, "startsAt": "2099-01-01T20:00:00Z" }),
    )
    .await;
    let (listed, total) = page(&app, "").await;
    assert_eq!(total, 1);
    assert_eq!(listed[0]["title"], "Next year's gig");
}

/// Holds a ticket for `millis` from now, as a reservation would (orders arrive with the next issue).
async fn reserve_directly(app: &TestApp, ticket_id: &str, millis: i64) {
    let now = app.clock.now();
    let mut tx = app.state.db.begin_write().await.unwrap();
    let taken = app::ssr::storage::tickets::reserve_ticket_row(
        &mut tx,
        &Id::from_trusted(ticket_id.to_string()),
        &app::ssr::clock::new_id(),
        now.plus_millis(millis),
        now,
    )
    .await
    .unwrap();
    assert!(taken.is_some());
    tx.commit().await.unwrap();
}

async fn mark_sold_directly(app: &TestApp, ticket_id: &str) {
    sqlx::query("UPDATE tickets SET status = 'sold', order_id = $1 WHERE id = $2")
        .bind(app::ssr::clock::new_id().as_str())
        .bind(ticket_id)
        .execute(&app.state.db.write)
        .await
        .unwrap();
}

/// Counting stops at 1,000 so a browse page costs the same however many tickets are on sale;
/// past that the listing says there are more and still offers the next page.
#[tokio::test]
async fn past_a_thousand_listings_the_count_stops_but_paging_goes_on() {
    let app = spawn_app().await;
    seed(&app, 1_010).await;
    let response = app.get(&client(), "/api/tickets?page=42").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers().get("x-total-count").is_none(),
        "no exact count past the cap"
    );
    assert_eq!(response.headers()["x-has-more"], "true", "page 43 exists");
    let listed: Vec<Value> = response.json().await.unwrap();
    assert_eq!(listed.len(), 24);
    let last = app.get(&client(), "/api/tickets?page=43").await;
    assert_eq!(last.headers()["x-has-more"], "false");
    let listed: Vec<Value> = last.json().await.unwrap();
    assert_eq!(listed.len(), 1_010 - 42 * 24);

    let (_, total) = page(&app, "?category=sports").await;
    assert!(total < 1_000, "a narrower filter is counted exactly");
}

/// The titles on the first browse page for `word`, and the total the page reports.
async fn titles_for(app: &TestApp, word: &str) -> (Vec<String>, i64) {
    let (listed, total) = page(app, &format!("?q={word}")).await;
    let titles = listed
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_string())
        .collect();
    (titles, total)
}

/// During an on-sale every reservation is a write. They no longer empty the browse cache (which
/// would send every visitor to the database): a page cached a moment ago still serves, for at
/// most a second, but never with a listing reserved since.
#[tokio::test]
async fn a_reservation_hides_its_listing_from_cached_pages_without_emptying_them() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let seat = |n: u32| json!({ "title": format!("Stadium cachecheck seat {n}"), "price": 40 });
    let first = app.create_ticket(&seller, &seat(1)).await;
    let second = app.create_ticket(&seller, &seat(2)).await;
    // Signing in is a write too: done before the page is cached.
    let (buyer, _) = app.signed_in_user().await;
    let (titles, total) = titles_for(&app, "cachecheck").await;
    assert_eq!(titles.len(), 2);
    assert_eq!(total, 2);

    // Behind the app's back (no write transaction of its own), the second listing is renamed:
    // whoever still sees the old name was served from the cache.
    let mut conn = app.state.db.write.acquire().await.unwrap();
    sqlx::query("UPDATE tickets SET title = 'Stadium cachecheck renamed' WHERE id = $1")
        .bind(second["id"].as_str().unwrap())
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);

    let reserved = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": first["id"] }))
        .await;
    assert_eq!(reserved.status(), StatusCode::CREATED);
    let (titles, total) = titles_for(&app, "cachecheck").await;
    assert_eq!(
        titles,
        ["Stadium cachecheck seat 2"],
        "cached, minus the reserved seat"
    );
    assert_eq!(total, 1);

    // A second later the page is read afresh.
    app.clock
        .advance(app::ssr::browse_cache::BrowseCache::MAX_AGE_MS);
    let (titles, _) = titles_for(&app, "cachecheck").await;
    assert_eq!(titles, ["Stadium cachecheck renamed"]);

    // Any other write still empties the cache at once: a new listing shows straight away, and
    // so does a reservation cancelled (its seat back on sale).
    app.create_ticket(&seller, &seat(3)).await;
    let (titles, _) = titles_for(&app, "cachecheck").await;
    assert_eq!(titles.len(), 2);
    let order: Value = reserved.json().await.unwrap();
    let cancelled = buyer
        .delete(app.url(&format!("/api/orders/{}", order["id"].as_str().unwrap())))
        .send()
        .await
        .unwrap();
    assert!(cancelled.status().is_success(), "{}", cancelled.status());
    let (titles, _) = titles_for(&app, "cachecheck").await;
    assert_eq!(titles.len(), 3);
}

/// Many buyers reserve while many visitors browse, all at once: once the reservations are
/// answered, no page (cached or not, the clock standing still) lists a reserved seat.
#[tokio::test]
async fn racing_reservations_and_browsing_never_leave_a_reserved_seat_listed() {
    let app = spawn_app_with(|config| {
        config.max_live_orders = 0;
        config.order_rate_limit = 0;
    })
    .await;
    let (seller, _) = app.signed_in_user().await;
    let mut ids = Vec::new();
    for n in 0..20 {
        let ticket = app
            .create_ticket(
                &seller,
                &json!({ "title": format!("Stadium racecheck seat {n}"), "price": 40 }),
            )
            .await;
        ids.push(ticket["id"].as_str().unwrap().to_string());
    }
    assert_eq!(titles_for(&app, "racecheck").await.1, 20);
    let (buyer, _) = app.signed_in_user().await;
    let reserving = ids.iter().take(15).map(|id| {
        let (app, buyer) = (&app, &buyer);
        async move {
            app.post_json(buyer, "/api/orders", &json!({ "ticketId": id }))
                .await
                .status()
        }
    });
    let browsing = (0..30).map(|_| titles_for(&app, "racecheck"));
    let (statuses, _) = tokio::join!(
        futures::future::join_all(reserving),
        futures::future::join_all(browsing)
    );
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    let mut expected: Vec<String> = (15..20)
        .map(|n| format!("Stadium racecheck seat {n}"))
        .collect();
    expected.sort();
    let (mut titles, total) = titles_for(&app, "racecheck").await;
    titles.sort();
    assert_eq!(titles, expected);
    // A cached page's total may still count a seat reserved while it was read (never fewer
    // than it lists); a second later it is exact.
    assert!((5..=20).contains(&total), "{total}");
    app.clock
        .advance(app::ssr::browse_cache::BrowseCache::MAX_AGE_MS);
    let (mut titles, total) = titles_for(&app, "racecheck").await;
    titles.sort();
    assert_eq!(titles, expected);
    assert_eq!(total, 5);
}

/// At the end of each second a busy page falls out of the cache while dozens of visitors ask
/// for it: they wait for one read of it rather than each reading the same rows.
#[tokio::test]
async fn visitors_missing_the_same_page_together_cause_one_read() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    for n in 0..3 {
        app.create_ticket(
            &seller,
            &json!({ "title": format!("Arena onceread seat {n}"), "price": 30 }),
        )
        .await;
    }
    let cache = &app.state.browse_cache;
    for round in 0..2 {
        let before = cache.pages_read();
        let visits = (0..40).map(|_| {
            let app = &app;
            async move {
                let response = client()
                    .get(app.url("/api/tickets?q=onceread"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), StatusCode::OK);
                let listed: Vec<Value> = response.json().await.unwrap();
                listed.len()
            }
        });
        let counts = futures::future::join_all(visits).await;
        assert!(counts.iter().all(|&n| n == 3), "{counts:?}");
        assert_eq!(cache.pages_read() - before, 1, "round {round}");
        // A second later the page is read again, once.
        app.clock
            .advance(app::ssr::browse_cache::BrowseCache::MAX_AGE_MS);
    }
}
