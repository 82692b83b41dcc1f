//! `/api/orders`: the 15-minute reservation window, under races.

use crate::helpers::*;
use app::domain::{Id, OrderStatus, Price};
use app::ssr::Ctx;
use app::ssr::clock::ManualClock;
use app::ssr::services::orders::ReserveTicket;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;

async fn reserve(
    app: &TestApp,
    client: &Client,
    ticket_id: &str,
    price: Option<Value>,
) -> reqwest::Response {
    let mut body = json!({ "ticketId": ticket_id });
    if let Some(price) = price {
        body["price"] = price;
    }
    app.post_json(client, "/api/orders", &body).await
}

async fn delete(app: &TestApp, client: &Client, path: &str) -> reqwest::Response {
    client
        .delete(app.url(path))
        .send()
        .await
        .expect("request sent")
}

async fn put(app: &TestApp, client: &Client, path: &str, body: &Value) -> reqwest::Response {
    client
        .put(app.url(path))
        .json(body)
        .send()
        .await
        .expect("request sent")
}

/// A seller with one ticket at 20.00, and a buyer, each signed in on their own client.
async fn seller_ticket_and_buyer(app: &TestApp) -> (Client, Value, Client) {
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(
            &seller,
            &json!({ "title": "Cup final", "price": 20, "category": "sports" }),
        )
        .await;
    let (buyer, _) = app.signed_in_user().await;
    (seller, ticket, buyer)
}

async fn listed_ids(app: &TestApp) -> Vec<String> {
    let listed: Vec<Value> = app.get_json(&client(), "/api/tickets").await;
    listed
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

/// The order's status as stored (not as derived at read time), to see what the sweeper did.
async fn stored_status(app: &TestApp, order_id: &str) -> OrderStatus {
    let mut conn = app.state.db.read.acquire().await.unwrap();
    app::ssr::storage::orders::find_order(&mut conn, &Id::from_trusted(order_id.to_string()))
        .await
        .unwrap()
        .expect("the order exists")
        .status
}

#[tokio::test]
async fn reserving_signed_out_is_401() {
    let app = spawn_app().await;
    let (_, ticket, _) = seller_ticket_and_buyer(&app).await;
    let response = reserve(&app, &client(), ticket["id"].as_str().unwrap(), None).await;
    assert_errors(
        response,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
    let response = app.get(&client(), "/api/orders").await;
    assert_errors(
        response,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
}

#[tokio::test]
async fn reserving_an_unknown_ticket_is_404_and_a_bad_ticket_id_400() {
    let app = spawn_app().await;
    let (buyer, _) = app.signed_in_user().await;
    let response = reserve(&app, &buyer, "0191f4b2-5c3a-7d11-8e2f-0123456789ab", None).await;
    assert_errors(
        response,
        StatusCode::NOT_FOUND,
        json!([{ "message": "Not found" }]),
    )
    .await;
    let response = reserve(&app, &buyer, "not-an-id", None).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Ticket id is not valid", "field": "ticketId" }]),
    )
    .await;
    let response = app.post_json(&buyer, "/api/orders", &json!({})).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Ticket id is required", "field": "ticketId" }]),
    )
    .await;
}

#[tokio::test]
async fn a_seller_cannot_buy_their_own_ticket() {
    let app = spawn_app().await;
    let (seller, ticket, _) = seller_ticket_and_buyer(&app).await;
    let response = reserve(&app, &seller, ticket["id"].as_str().unwrap(), None).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "You cannot buy your own ticket" }]),
    )
    .await;
}

#[tokio::test]
async fn a_reservation_snapshots_the_price_and_holds_the_ticket_for_the_window() {
    let app = spawn_app().await;
    let (_, ticket, buyer) = seller_ticket_and_buyer(&app).await;
    let ticket_id = ticket["id"].as_str().unwrap();
    let before = app.clock.now();
    let response = reserve(&app, &buyer, ticket_id, Some(json!(20))).await;
    let after = app.clock.now();
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "created");
    assert_eq!(order["price"], json!(20));
    assert_eq!(order["userId"], app.current_user(&buyer).await["id"]);
    assert_eq!(order["version"], 0);
    assert_eq!(order["ticket"]["id"], ticket["id"]);
    assert_eq!(order["ticket"]["status"], "reserved");
    assert_eq!(order["ticket"]["orderId"], order["id"]);
    let expires =
        app::domain::Timestamp::parse_rfc3339(order["expiresAt"].as_str().unwrap()).unwrap();
    let window = 15 * 60 * 1000;
    assert!(
        expires >= before.plus_millis(window) && expires <= after.plus_millis(window),
        "expiresAt {expires:?} is 15 minutes after the request"
    );

    assert!(
        !listed_ids(&app).await.contains(&ticket_id.to_string()),
        "a held ticket is not listed"
    );
    let (other, _) = app.signed_in_user().await;
    let response = reserve(&app, &other, ticket_id, None).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Ticket is already reserved" }]),
    )
    .await;
    assert_eq!(
        app.events_for(order["id"].as_str().unwrap()).await,
        ["OrderCreated"]
    );
}

#[tokio::test]
async fn a_changed_price_is_409_and_reserves_nothing() {
    let app = spawn_app().await;
    let (seller, ticket, buyer) = seller_ticket_and_buyer(&app).await;
    let ticket_id = ticket["id"].as_str().unwrap();
    let edit = put(
        &app,
        &seller,
        &format!("/api/tickets/{ticket_id}"),
        &json!({ "title": "Cup final", "price": 25 }),
    )
    .await;
    assert_eq!(edit.status(), StatusCode::OK);

    let response = reserve(&app, &buyer, ticket_id, Some(json!(20))).await;
    assert_errors(
        response,
        StatusCode::CONFLICT,
        json!([{ "message": "The price of this ticket has changed", "field": "price" }]),
    )
    .await;
    assert!(
        listed_ids(&app).await.contains(&ticket_id.to_string()),
        "still on sale"
    );
    let mine: Vec<Value> = app.get_json(&buyer, "/api/orders").await;
    assert!(mine.is_empty());

    let response = reserve(&app, &buyer, ticket_id, Some(json!(25))).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "asked again at the new price"
    );
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["price"], json!(25));
    let response = reserve(&app, &buyer, ticket_id, Some(json!("25"))).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Price must be a number", "field": "price" }]),
    )
    .await;
}

#[tokio::test]
async fn the_seller_cannot_change_the_price_of_a_reserved_ticket() {
    let app = spawn_app().await;
    let (seller, ticket, buyer) = seller_ticket_and_buyer(&app).await;
    let ticket_id = ticket["id"].as_str().unwrap();
    let order: Value = reserve(&app, &buyer, ticket_id, Some(json!(20)))
        .await
        .json()
        .await
        .unwrap();
    let edit = put(
        &app,
        &seller,
        &format!("/api/tickets/{ticket_id}"),
        &json!({ "title": "Cup final", "price": 99 }),
    )
    .await;
    assert_errors(
        edit,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Cannot edit a reserved ticket" }]),
    )
    .await;
    let shown: Value = app
        .get_json(
            &buyer,
            &format!("/api/orders/{}", order["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(shown["price"], json!(20));
    assert_eq!(shown["ticket"]["price"], json!(20));
}

#[tokio::test]
async fn showing_an_order_is_for_its_buyer_only() {
    let app = spawn_app().await;
    let (seller, ticket, buyer) = seller_ticket_and_buyer(&app).await;
    let order: Value = reserve(&app, &buyer, ticket["id"].as_str().unwrap(), None)
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/api/orders/{}", order["id"].as_str().unwrap());

    let shown = app.get(&buyer, &path).await;
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(shown.json::<Value>().await.unwrap(), order);

    let response = app.get(&seller, &path).await;
    assert_errors(
        response,
        StatusCode::FORBIDDEN,
        json!([{ "message": "Forbidden" }]),
    )
    .await;
    let response = app.get(&client(), &path).await;
    assert_errors(
        response,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
    let response = app
        .get(&buyer, "/api/orders/0191f4b2-5c3a-7d11-8e2f-0123456789ab")
        .await;
    assert_errors(
        response,
        StatusCode::NOT_FOUND,
        json!([{ "message": "Not found" }]),
    )
    .await;
    let response = app.get(&buyer, "/api/orders/nope").await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Invalid id" }]),
    )
    .await;
}

#[tokio::test]
async fn my_orders_are_mine_only_newest_first_with_their_tickets() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let (buyer, _) = app.signed_in_user().await;
    let (other, _) = app.signed_in_user().await;
    let mut mine = Vec::new();
    for title in ["First", "Second", "Third"] {
        let ticket = app
            .create_ticket(&seller, &json!({ "title": title, "price": 10 }))
            .await;
        let order: Value = reserve(&app, &buyer, ticket["id"].as_str().unwrap(), None)
            .await
            .json()
            .await
            .unwrap();
        mine.push(order["id"].clone());
    }
    let theirs = app
        .create_ticket(&seller, &json!({ "title": "Theirs", "price": 10 }))
        .await;
    assert_eq!(
        reserve(&app, &other, theirs["id"].as_str().unwrap(), None)
            .await
            .status(),
        StatusCode::CREATED
    );

    let listed: Vec<Value> = app.get_json(&buyer, "/api/orders").await;
    let ids: Vec<&Value> = listed.iter().map(|o| &o["id"]).collect();
    mine.reverse();
    assert_eq!(
        ids,
        mine.iter().collect::<Vec<_>>(),
        "newest first, and no one else's"
    );
    let titles: Vec<&str> = listed
        .iter()
        .map(|o| o["ticket"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Third", "Second", "First"]);
}

#[tokio::test]
async fn cancelling_frees_the_ticket_at_once_and_only_once() {
    let app = spawn_app().await;
    let (seller, ticket, buyer) = seller_ticket_and_buyer(&app).await;
    let ticket_id = ticket["id"].as_str().unwrap();
    let order: Value = reserve(&app, &buyer, ticket_id, None)
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["id"].as_str().unwrap();
    let path = format!("/api/orders/{order_id}");

    let response = delete(&app, &seller, &path).await;
    assert_errors(
        response,
        StatusCode::FORBIDDEN,
        json!([{ "message": "Forbidden" }]),
    )
    .await;
    let response = delete(&app, &client(), &path).await;
    assert_errors(
        response,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
    let response = delete(
        &app,
        &buyer,
        "/api/orders/0191f4b2-5c3a-7d11-8e2f-0123456789ab",
    )
    .await;
    assert_errors(
        response,
        StatusCode::NOT_FOUND,
        json!([{ "message": "Not found" }]),
    )
    .await;

    let response = delete(&app, &buyer, &path).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.bytes().await.unwrap().is_empty());
    let shown: Value = app.get_json(&buyer, &path).await;
    assert_eq!(shown["status"], "cancelled");
    assert_eq!(shown["ticket"]["status"], "available");
    assert!(
        listed_ids(&app).await.contains(&ticket_id.to_string()),
        "back on sale"
    );

    let response = delete(&app, &buyer, &path).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Order is cancelled" }]),
    )
    .await;
    assert_eq!(
        app.events_for(order_id).await,
        ["OrderCreated", "OrderCancelled"]
    );

    let (next, _) = app.signed_in_user().await;
    assert_eq!(
        reserve(&app, &next, ticket_id, None).await.status(),
        StatusCode::CREATED,
        "someone else can buy it now"
    );
    let edit = put(
        &app,
        &seller,
        &format!("/api/tickets/{ticket_id}"),
        &json!({ "title": "x", "price": 1 }),
    )
    .await;
    assert_eq!(
        edit.status(),
        StatusCode::BAD_REQUEST,
        "and it is held again"
    );
}

/// ≥ 50 buyers, each their own signed-in user, order the same ticket at the same instant, over
/// 20 tickets: exactly one wins each ticket, every other buyer hears "already reserved", and
/// nothing fails.
/// No rate limits and no cap on reservations per buyer: the race tests make many orders per
/// account on purpose.
fn unlimited(config: &mut server::Config) {
    config.auth_rate_limit = 0;
    config.order_rate_limit = 0;
    config.max_live_orders = 0;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_buyers_racing_for_each_of_twenty_tickets_make_exactly_one_order_each() {
    let app = spawn_app_with(unlimited).await;
    let (seller, _) = app.signed_in_user().await;
    let buyers: Vec<Client> = join_all((0..50).map(|_| app.signed_in_user()))
        .await
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    for round in 0..20 {
        let ticket = app
            .create_ticket(
                &seller,
                &json!({ "title": format!("Final #{round}"), "price": 30 }),
            )
            .await;
        let ticket_id = ticket["id"].as_str().unwrap();
        let responses = join_all(
            buyers
                .iter()
                .map(|buyer| reserve(&app, buyer, ticket_id, Some(json!(30)))),
        )
        .await;
        let mut created = Vec::new();
        for response in responses {
            match response.status() {
                StatusCode::CREATED => created.push(response.json::<Value>().await.unwrap()),
                StatusCode::BAD_REQUEST => {
                    let body: Value = response.json().await.unwrap();
                    assert_eq!(
                        body,
                        json!({ "errors": [{ "message": "Ticket is already reserved" }] })
                    );
                }
                other => panic!("round {round}: unexpected status {other}"),
            }
        }
        assert_eq!(created.len(), 1, "round {round}: exactly one winner");
        let shown: Value = app
            .get_json(&seller, &format!("/api/tickets/{ticket_id}"))
            .await;
        assert_eq!(
            shown["orderId"], created[0]["id"],
            "the ticket is held by the winner's order"
        );
    }
}

/// A seller's price edit against a buyer's reservation (at the old price): the database
/// serializes them, so exactly one lands, and a successful order carries the price sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_price_edit_racing_a_reservation_never_both_succeed() {
    let app = spawn_app_with(unlimited).await;
    let (seller, _) = app.signed_in_user().await;
    let (buyer, _) = app.signed_in_user().await;
    let (mut orders_won, mut edits_won) = (0, 0);
    for round in 0..40 {
        let ticket = app
            .create_ticket(
                &seller,
                &json!({ "title": format!("Gig #{round}"), "price": 10 }),
            )
            .await;
        let ticket_id = ticket["id"].as_str().unwrap();
        let edit_path = format!("/api/tickets/{ticket_id}");
        let edit_body = json!({ "title": format!("Gig #{round}"), "price": 12 });
        let (edit, order) = tokio::join!(
            put(&app, &seller, &edit_path, &edit_body),
            reserve(&app, &buyer, ticket_id, Some(json!(10)))
        );
        match (edit.status(), order.status()) {
            (StatusCode::OK, StatusCode::CONFLICT) => edits_won += 1,
            (StatusCode::BAD_REQUEST, StatusCode::CREATED) => {
                let order: Value = order.json().await.unwrap();
                assert_eq!(
                    order["price"],
                    json!(10),
                    "the buyer pays the price they sent"
                );
                let edit: Value = edit.json().await.unwrap();
                assert_eq!(
                    edit,
                    json!({ "errors": [{ "message": "Cannot edit a reserved ticket" }] })
                );
                orders_won += 1;
            }
            other => panic!("round {round}: edit and order answered {other:?}"),
        }
    }
    assert_eq!(orders_won + edits_won, 40);
}

#[tokio::test]
async fn an_expired_order_frees_the_ticket_without_any_request() {
    let app = spawn_app().await;
    let (_, ticket, buyer) = seller_ticket_and_buyer(&app).await;
    let ticket_id = ticket["id"].as_str().unwrap();
    let order: Value = reserve(&app, &buyer, ticket_id, None)
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["id"].as_str().unwrap();
    assert_eq!(stored_status(&app, order_id).await, OrderStatus::Created);

    // The window ends; nothing but the sweep (run here once, as the background task runs it
    // every second) touches the order.
    move_past_expiry(&app.clock, &order);
    let swept = app::ssr::services::orders::expire_orders(&Ctx::system(&app.state))
        .await
        .unwrap();
    assert!(swept <= 1, "only this order had lapsed");
    assert_eq!(stored_status(&app, order_id).await, OrderStatus::Cancelled);
    assert_eq!(
        app.events_for(order_id).await,
        ["OrderCreated", "OrderExpired"]
    );
    assert!(
        listed_ids(&app).await.contains(&ticket_id.to_string()),
        "back on sale"
    );
    let shown: Value = app
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "cancelled");
    let response = delete(&app, &buyer, &format!("/api/orders/{order_id}")).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Order is cancelled" }]),
    )
    .await;
}

#[tokio::test]
async fn an_order_that_expires_while_the_server_is_down_is_expired_at_the_next_start() {
    let app = spawn_app().await;
    let (_, ticket, buyer) = seller_ticket_and_buyer(&app).await;
    let ticket_id = ticket["id"].as_str().unwrap().to_string();
    let order: Value = reserve(&app, &buyer, &ticket_id, None)
        .await
        .json()
        .await
        .unwrap();
    let order_id = order["id"].as_str().unwrap().to_string();

    let stopped = app.stop().await;
    // The window ends while nothing runs.
    move_past_expiry(&stopped.clock, &order);
    let app = stopped.start().await;
    assert_eq!(
        stored_status(&app, &order_id).await,
        OrderStatus::Cancelled,
        "expired before the restarted server answered anything"
    );
    assert_eq!(
        app.events_for(&order_id).await,
        ["OrderCreated", "OrderExpired"]
    );
    assert!(
        listed_ids(&app).await.contains(&ticket_id),
        "back on sale after the restart"
    );
}

#[tokio::test]
async fn a_lapsed_order_never_blocks_the_next_buyer_even_before_the_sweeper_runs() {
    let app = spawn_app().await;
    let (_, ticket, buyer) = seller_ticket_and_buyer(&app).await;
    let ticket_id = Id::parse(ticket["id"].as_str().unwrap()).unwrap();
    let first: Value = reserve(&app, &buyer, ticket_id.as_str(), None)
        .await
        .json()
        .await
        .unwrap();
    let (next, _) = app.signed_in_user().await;
    let next_id = Id::parse(app.current_user(&next).await["id"].as_str().unwrap()).unwrap();

    // Sixteen minutes from now, as the service sees it: the real sweeper cannot have run yet.
    let later = Arc::new(ManualClock::at(app.clock.now().plus_millis(16 * 60 * 1000)));
    let as_next_buyer_later = Ctx::system(&app.state).acting_as(next_id).with_clock(later);
    let reserve = ReserveTicket {
        ticket_id,
        seen_price: Some(Price::from_cents(2000).unwrap()),
    };
    let second = app::ssr::services::orders::reserve_ticket(&as_next_buyer_later, reserve)
        .await
        .expect("the lapsed order does not hold the ticket");
    assert_eq!(second.ticket.order_id.as_ref(), Some(&second.order.id));
    let first_id = first["id"].as_str().unwrap();
    assert_eq!(
        stored_status(&app, first_id).await,
        OrderStatus::Cancelled,
        "expired in the same transaction"
    );
    assert_eq!(
        app.events_for(first_id).await,
        ["OrderCreated", "OrderExpired"]
    );
}

/// In an on-sale most attempts find the seat already taken. They are refused from a read, not
/// queued behind the one writer: here a transaction holds the ticket's row (and, on SQLite, the
/// only write connection) while a late buyer tries, and the refusal still arrives.
#[tokio::test]
async fn a_taken_seat_is_refused_without_waiting_for_the_writer() {
    let app = spawn_app().await;
    let (_, order) = app.reserved_order().await;
    let ticket = order["ticket"]["id"].as_str().unwrap().to_string();
    let (late, _) = app.signed_in_user().await;

    let mut busy = app.state.db.begin_write().await.unwrap();
    app::ssr::storage::tickets::lock_ticket(&mut busy, &Id::from_trusted(ticket.clone()))
        .await
        .unwrap();
    let refused = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        reserve(&app, &late, &ticket, None),
    )
    .await
    .expect("refused while the writer is busy");
    assert_errors(
        refused,
        StatusCode::BAD_REQUEST,
        json!([{ "message": app::domain::order::TICKET_RESERVED }]),
    )
    .await;
    busy.rollback().await.unwrap();

    // The writer free again, a seat still on sale is reserved as ever.
    let (seller, _) = app.signed_in_user().await;
    let free = app
        .create_ticket(
            &seller,
            &json!({ "title": "Cup final, row B", "price": 45.5 }),
        )
        .await;
    let reserved = reserve(&app, &late, free["id"].as_str().unwrap(), None).await;
    assert_eq!(reserved.status(), StatusCode::CREATED);
}

/// SQLite has one writer, so reservations that arrive together share its transactions (group
/// commit). Each is still decided and answered on its own: every buyer of a seat nobody else
/// wants gets it, exactly one of those racing for the same seat does, a seller is refused their
/// own seat, and what the database holds is exactly what was answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reservations_arriving_together_share_a_transaction_but_not_their_answers() {
    let app = spawn_app_with(unlimited).await;
    let (seller, _) = app.signed_in_user().await;
    let buyers: Vec<Client> = join_all((0..40).map(|_| app.signed_in_user()))
        .await
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    let mut seats = Vec::new();
    for n in 0..30 {
        let seat = app
            .create_ticket(
                &seller,
                &json!({ "title": format!("Together seat {n}"), "price": 25 }),
            )
            .await;
        seats.push(seat["id"].as_str().unwrap().to_string());
    }
    let contested = app
        .create_ticket(
            &seller,
            &json!({ "title": "Together front row", "price": 90 }),
        )
        .await;
    let contested = contested["id"].as_str().unwrap().to_string();
    let (own_seller, _) = app.signed_in_user().await;
    let own = app
        .create_ticket(
            &own_seller,
            &json!({ "title": "Together own seat", "price": 10 }),
        )
        .await;
    let own = own["id"].as_str().unwrap().to_string();

    let before = app.state.reservations.shared_transactions();
    let mut attempts: Vec<(&Client, String, &str)> = Vec::new();
    for (n, buyer) in buyers.iter().enumerate() {
        match seats.get(n) {
            Some(seat) => attempts.push((buyer, seat.clone(), "alone")),
            None => attempts.push((buyer, contested.clone(), "contested")),
        }
    }
    attempts.push((&own_seller, own.clone(), "own"));
    let answers = join_all(
        attempts
            .iter()
            .map(|(client, ticket, _)| reserve(&app, client, ticket, None)),
    )
    .await;

    let mut winners = 0;
    let mut answered_orders = Vec::new();
    for ((_, ticket, kind), response) in attempts.iter().zip(answers) {
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        match *kind {
            "alone" => {
                assert_eq!(status, StatusCode::CREATED, "{body}");
                assert_eq!(body["ticket"]["id"], json!(ticket));
                answered_orders.push(body["id"].as_str().unwrap().to_string());
            }
            "contested" if status == StatusCode::CREATED => {
                winners += 1;
                answered_orders.push(body["id"].as_str().unwrap().to_string());
            }
            "contested" => assert_eq!(
                body,
                json!({ "errors": [{ "message": "Ticket is already reserved" }] })
            ),
            _ => assert_eq!(status, StatusCode::BAD_REQUEST, "{body}"),
        }
    }
    assert_eq!(winners, 1, "exactly one buyer gets the contested seat");

    let mut conn = app.state.db.read.acquire().await.unwrap();
    let mut stored: Vec<String> = sqlx::query_scalar("SELECT id FROM orders")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    stored.sort();
    answered_orders.sort();
    assert_eq!(
        stored, answered_orders,
        "the database holds exactly the orders answered"
    );

    if !on_postgres() {
        let after = app.state.reservations.shared_transactions();
        assert!(
            after.0 > before.0 && after.1 - before.1 >= 2,
            "some reservations shared a transaction: {before:?} → {after:?}"
        );
    }
}

/// A batch's statements are padded to a power of two with empty rows, so that one prepared
/// statement serves every batch size. Whatever the size, they write exactly the batch: every
/// seat asked for and free is taken, a seat already taken is not, and there is one order and
/// one event for each reservation, none for the padding.
#[tokio::test]
async fn a_batch_of_any_size_writes_exactly_its_reservations() {
    use app::domain::Order;
    use app::ssr::storage::{event_log, orders, tickets};
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let (_, buyer_email) = app.signed_in_user().await;
    let buyer: String = {
        let mut conn = app.state.db.read.acquire().await.unwrap();
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(&buyer_email)
            .fetch_one(&mut *conn)
            .await
            .unwrap()
    };
    let buyer = Id::from_trusted(buyer);
    // A seat taken before the batches: a batch asking for it must leave it alone.
    let (_, taken) = app.reserved_order().await;
    let taken = Id::from_trusted(taken["ticket"]["id"].as_str().unwrap().to_string());

    for size in [1usize, 2, 3, 5, 7, 9] {
        let mut ids = Vec::new();
        for n in 0..size {
            let ticket = app
                .create_ticket(
                    &seller,
                    &json!({ "title": format!("Batch {size} seat {n}"), "price": 25 }),
                )
                .await;
            ids.push(Id::from_trusted(ticket["id"].as_str().unwrap().to_string()));
        }
        let now = app.clock.now();
        let settings = app.state.settings.clone();
        let mut tx = app.state.db.begin_write().await.unwrap();
        let mut asked: Vec<&Id> = ids.iter().collect();
        asked.push(&taken);
        let seats = tickets::lock_tickets(&mut tx, &asked).await.unwrap();
        assert_eq!(seats.len(), size + 1, "every seat asked for is read");
        let made: Vec<Order> = seats
            .iter()
            .map(|seat| {
                Order::reserve(
                    app::ssr::clock::new_id(),
                    seat,
                    &buyer,
                    now,
                    settings.reservation_window_ms,
                    &settings.fees,
                )
            })
            .collect();
        let holds: Vec<tickets::Hold> = made
            .iter()
            .map(|order| tickets::Hold {
                ticket_id: &order.ticket_id,
                order_id: &order.id,
                until: order.expires_at,
                now,
            })
            .collect();
        let mut held: Vec<Id> = tickets::reserve_ticket_rows(&mut tx, &holds)
            .await
            .unwrap()
            .into_iter()
            .map(|seat| seat.id)
            .collect();
        held.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(
            held, expected,
            "batch of {size}: the free seats, and only those"
        );
        let kept: Vec<Order> = made.into_iter().filter(|o| o.ticket_id != taken).collect();
        orders::insert_orders(&mut tx, &kept).await.unwrap();
        let news: Vec<event_log::NewEvent> = kept
            .iter()
            .map(|order| event_log::NewEvent {
                event_type: "OrderCreated",
                aggregate_id: &order.id,
                payload: json!({ "id": order.id }),
                at: now,
            })
            .collect();
        event_log::insert_events(&mut tx, &news).await.unwrap();
        tx.commit().await.unwrap();

        let mut conn = app.state.db.read.acquire().await.unwrap();
        for order in &kept {
            let stored = orders::find_order(&mut conn, &order.id).await.unwrap();
            assert_eq!(stored.as_ref(), Some(order), "batch of {size}");
            let logged = event_log::list_events_for(&mut conn, &order.id)
                .await
                .unwrap();
            assert_eq!(logged.len(), 1, "batch of {size}: one event per order");
        }
        let orders_of_batch: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM orders WHERE ticket_id IN (SELECT id FROM tickets WHERE title LIKE $1)",
        )
        .bind(format!("Batch {size} seat %"))
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!(
            orders_of_batch, size as i64,
            "batch of {size}: no order for the padding"
        );
    }
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let empty_events: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM event_log WHERE event_type IS NULL OR aggregate_id IS NULL",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(empty_events, 0);
    let taken_by: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders WHERE ticket_id = $1")
        .bind(taken.as_str())
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(taken_by, 1, "the seat taken before keeps its one order");
}

/// `POST /api/orders` for `ticket_id`, owning what it needs (to run as a task of its own).
async fn post_order(url: String, client: Client, ticket_id: String) -> reqwest::Response {
    client
        .post(url)
        .json(&json!({ "ticketId": ticket_id }))
        .send()
        .await
        .unwrap()
}

/// Waits (10 s at most) until `ready` holds: for something the server does on its own time,
/// such as noticing that a client hung up.
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !ready() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{what}");
}

/// On SQLite, reservations queue for the one writer. One that waited is decided when its
/// transaction runs: its window starts then, not when it was queued. One whose buyer hung up
/// while it waited is dropped: nobody is left holding a seat for a buyer who is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_reservation_is_decided_when_it_runs_and_dropped_when_its_buyer_hangs_up() {
    let app = spawn_app_with(unlimited).await;
    if on_postgres() {
        // Each reservation takes a transaction of its own there: nothing queues.
        return;
    }
    let (seller, _) = app.signed_in_user().await;
    let mut seats = Vec::new();
    for n in 0..3 {
        let seat = app
            .create_ticket(
                &seller,
                &json!({ "title": format!("Queued seat {n}"), "price": 30 }),
            )
            .await;
        seats.push(seat["id"].as_str().unwrap().to_string());
    }
    let (first, _) = app.signed_in_user().await;
    let (gone, _) = app.signed_in_user().await;
    let (last, _) = app.signed_in_user().await;
    let reservations = &app.state.reservations;

    // Something else holds the one write connection for a while.
    let busy = app.state.db.begin_write().await.unwrap();
    // The first buyer's reservation takes the writer's turn, and waits for the connection.
    let batches = reservations.batches_taken();
    let first_answer = tokio::spawn(post_order(
        app.url("/api/orders"),
        first.clone(),
        seats[0].clone(),
    ));
    until("the first reservation runs", || {
        reservations.batches_taken() > batches && reservations.waiting() == (0, 0)
    })
    .await;
    // The next one queues behind it; its buyer gives up.
    let gone_answer = tokio::spawn(post_order(
        app.url("/api/orders"),
        gone.clone(),
        seats[1].clone(),
    ));
    until("the second reservation queues", || {
        reservations.waiting() == (1, 0)
    })
    .await;
    gone_answer.abort();
    until("the server notices the buyer hung up", || {
        reservations.waiting() == (1, 1)
    })
    .await;

    // Five minutes pass before the writer is free.
    app.clock.advance(5 * 60 * 1000);
    let freed_at = app.clock.now();
    busy.rollback().await.unwrap();
    let response = first_answer.await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let order: Value = response.json().await.unwrap();
    let expires =
        app::domain::Timestamp::parse_rfc3339(order["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(
        expires,
        freed_at.plus_millis(15 * 60 * 1000),
        "the whole window, from when the reservation was decided"
    );

    // The next reservation runs; the abandoned one is not run with it.
    let response = post_order(app.url("/api/orders"), last.clone(), seats[2].clone()).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(reservations.waiting(), (0, 0));
    let abandoned: Value = app
        .get_json(&client(), &format!("/api/tickets/{}", seats[1]))
        .await;
    assert_eq!(abandoned["status"], "available", "{abandoned}");
    let mine: Value = app.get_json(&gone, "/api/orders").await;
    assert_eq!(mine, json!([]), "the buyer who hung up holds nothing");
}
