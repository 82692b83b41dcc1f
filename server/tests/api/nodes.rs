//! Several application nodes on one database, as a promoter runs them behind a load balancer:
//! every guard holds across nodes, because none of them lives in one process's memory. Runs on
//! SQLite (nodes sharing one file) and, in the PostgreSQL pass, on PostgreSQL.

use crate::helpers::*;
use app::domain::{Email, Id, OrderStatus};
use app::ssr::Ctx;
use app::ssr::payments::webhook::sign;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use tower_sessions::SessionStore;

const WEBHOOK_SECRET: &str = "whsec_test_nodes";

fn unlimited(config: &mut server::Config) {
    config.auth_rate_limit = 0;
    config.order_rate_limit = 0;
    config.max_live_orders = 0;
}

/// `count` accounts signed in, made straight in the shared session store (so the test spends
/// its time racing, not hashing passwords): the cookie value of each.
async fn signed_in_buyers(node: &TestApp, count: usize) -> Vec<String> {
    let system = Ctx::system(&node.state);
    let emails: Vec<Email> = (0..count)
        .map(|_| Email::parse(&unique_email()).unwrap())
        .collect();
    let ids = app::ssr::services::users::create_demo_users(&system, &emails, PASSWORD)
        .await
        .unwrap();
    let store = server::sessions::Sessions::open(&node.state.db)
        .await
        .unwrap();
    let now = node.clock.now().millis();
    let mut cookies = Vec::with_capacity(count);
    for id in ids {
        let mut record = tower_sessions::session::Record {
            id: Default::default(),
            data: [
                ("user_id".to_string(), json!(id.as_str())),
                ("signed_in_at".to_string(), json!(now)),
                ("seen_at".to_string(), json!(now)),
            ]
            .into_iter()
            .collect(),
            expiry_date: time::OffsetDateTime::now_utc() + time::Duration::days(1),
        };
        store.create(&mut record).await.unwrap();
        cookies.push(format!("{SESSION_COOKIE}={}", record.id));
    }
    cookies
}

/// Every buyer (a session cookie) posts `body` to `/api/orders` at once, buyer n on node
/// n mod N: each answer's status and JSON body, in the buyers' order.
async fn order_on_every_node(
    nodes: &[TestApp],
    buyers: &[String],
    body: &Value,
) -> Vec<(StatusCode, Value)> {
    let http = Client::new();
    join_all(buyers.iter().enumerate().map(|(n, cookie)| {
        let (http, url) = (http.clone(), nodes[n % nodes.len()].url("/api/orders"));
        async move {
            let response = http
                .post(url)
                .header("cookie", cookie)
                .json(body)
                .send()
                .await
                .expect("every buyer is answered");
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    }))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_buyers_spread_over_three_nodes_make_exactly_one_order() {
    let nodes = spawn_nodes(3, unlimited).await;
    let (seller, _) = nodes[0].signed_in_user().await;
    let ticket = nodes[0]
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 20 }))
        .await;
    let ticket_id = ticket["id"].as_str().unwrap().to_string();
    let buyers = signed_in_buyers(&nodes[1], 1000).await;

    let answers = order_on_every_node(&nodes, &buyers, &json!({ "ticketId": ticket_id })).await;

    let won: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .collect();
    assert_eq!(won.len(), 1, "exactly one winner across the nodes");
    for (status, body) in &answers {
        if *status != StatusCode::CREATED {
            assert_eq!(*status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(
                body,
                &json!({ "errors": [{ "message": "Ticket is already reserved" }] })
            );
        }
    }
    let order_id = won[0].1["id"].as_str().unwrap();
    for node in &nodes {
        let shown: Value = node
            .get_json(&client(), &format!("/api/tickets/{ticket_id}"))
            .await;
        assert_eq!(
            shown["status"], "reserved",
            "every node sees the one reservation"
        );
        assert_eq!(shown["orderId"], order_id);
    }
}

/// The signed-in user as `node` sees the session in `cookie`.
async fn current_user_with(node: &TestApp, cookie: &str) -> Value {
    let me: Value = Client::new()
        .get(node.url("/api/users/currentuser"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    me["currentUser"].clone()
}

#[tokio::test]
async fn a_session_made_on_one_node_is_valid_on_the_others_and_ends_on_all() {
    let nodes = spawn_nodes(3, unlimited).await;
    let email = unique_email();
    let signed_up = nodes[0].sign_up(&client(), &email, PASSWORD).await;
    assert_eq!(signed_up.status(), StatusCode::CREATED);
    let pair = set_cookie(&signed_up, SESSION_COOKIE).unwrap();
    let cookie = pair.split(';').next().unwrap().to_string();
    for node in &nodes {
        assert_eq!(
            current_user_with(node, &cookie).await["email"],
            email.as_str(),
            "signed in on every node"
        );
    }
    let out = Client::new()
        .post(nodes[1].url("/api/users/signout"))
        .header("cookie", &cookie)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::OK);
    for node in &nodes {
        assert!(
            current_user_with(node, &cookie).await.is_null(),
            "the same cookie is signed out on every node"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lapsed_reservation_is_expired_once_whichever_nodes_sweep() {
    let nodes = spawn_nodes(3, unlimited).await;
    let (buyer, order) = nodes[0].reserved_order().await;
    let order_id = order["id"].as_str().unwrap();
    move_past_expiry(&nodes[0].clock, &order);

    // Every node's sweep runs at once, twice over.
    let sweeps = join_all(nodes.iter().chain(nodes.iter()).map(|node| async move {
        app::ssr::services::orders::expire_orders(&Ctx::system(&node.state))
            .await
            .unwrap()
    }))
    .await;
    assert_eq!(
        sweeps.iter().sum::<usize>(),
        1,
        "swept by one node: {sweeps:?}"
    );
    assert_eq!(
        nodes[2].events_for(order_id).await,
        ["OrderCreated", "OrderExpired"]
    );
    let stored = {
        let mut conn = nodes[1].state.db.read.acquire().await.unwrap();
        app::ssr::storage::orders::find_order(&mut conn, &Id::parse(order_id).unwrap())
            .await
            .unwrap()
            .unwrap()
    };
    assert_eq!(stored.status, OrderStatus::Cancelled);
    let shown: Value = nodes[1]
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "cancelled");
}

/// Delivers one signed webhook body `count` times at once, spread over every node.
async fn deliver_everywhere(nodes: &[TestApp], body: &str, count: usize) {
    let seconds = nodes[0].clock.now().millis() / 1000;
    let signature = sign(body.as_bytes(), WEBHOOK_SECRET, seconds);
    let answers = join_all((0..count).map(|i| {
        let node = &nodes[i % nodes.len()];
        client()
            .post(node.url("/api/webhooks/stripe"))
            .header("content-type", "application/json")
            .header("stripe-signature", signature.clone())
            .body(body.to_string())
            .send()
    }))
    .await;
    for answer in answers {
        assert_eq!(answer.unwrap().status(), StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_webhook_delivered_to_every_node_at_once_is_applied_once() {
    let nodes = spawn_nodes(3, |config| {
        unlimited(config);
        config.stripe_webhook_secret = Some(WEBHOOK_SECRET.to_string());
    })
    .await;
    let (buyer, order) = nodes[0].reserved_order().await;
    let order_id = order["id"].as_str().unwrap();
    let user = Id::parse(nodes[0].current_user(&buyer).await["id"].as_str().unwrap()).unwrap();
    // A payment in flight, as when the buyer went to Stripe Checkout and Stripe reports back.
    let (charge, _) = app::ssr::services::payments::begin_payment(
        &Ctx::system(&nodes[1].state).acting_as(user),
        &Id::parse(order_id).unwrap(),
    )
    .await
    .expect("payment begins");

    let succeeded = json!({
        "id": "evt_paid", "object": "event", "type": "payment_intent.succeeded",
        "data": { "object": { "id": "pi_nodes", "object": "payment_intent", "status": "succeeded",
                              "metadata": { "charge_id": charge.id, "order_id": order_id } } }
    })
    .to_string();
    deliver_everywhere(&nodes, &succeeded, 24).await;
    assert_eq!(
        nodes[2].events_for(charge.id.as_str()).await,
        ["ChargeCreated", "ChargeCompleted"]
    );
    let shown: Value = nodes[2]
        .get_json(&buyer, &format!("/api/orders/{order_id}"))
        .await;
    assert_eq!(shown["status"], "complete");

    // A refund made in Stripe's dashboard, announced to every node at once.
    let refunded = json!({
        "id": "evt_refund", "object": "event", "type": "charge.refunded",
        "data": { "object": { "id": "ch_nodes", "object": "charge", "payment_intent": "pi_nodes",
                              "refunds": { "data": [{ "id": "re_nodes" }] } } }
    })
    .to_string();
    deliver_everywhere(&nodes, &refunded, 24).await;
    assert_eq!(
        nodes[0].events_for(charge.id.as_str()).await,
        ["ChargeCreated", "ChargeCompleted", "ChargeRefunded"]
    );
    let recorded: i64 = {
        let mut conn = nodes[1].state.db.read.acquire().await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM stripe_events")
            .fetch_one(&mut *conn)
            .await
            .unwrap()
    };
    assert_eq!(recorded, 2, "each event id recorded once");
}

/// Whether `node` shows the error of the link at `location` (else it drops the link).
async fn shows_the_error(node: &TestApp, location: &str) -> bool {
    let response = node.get(&client(), location).await;
    match response.status() {
        StatusCode::OK => response
            .text()
            .await
            .unwrap()
            .contains("Invalid credentials"),
        StatusCode::SEE_OTHER => false,
        other => panic!("{location}: {other}"),
    }
}

/// Without JavaScript, a refused form comes back to its page with the error signed into the
/// address. The browser may follow that address to any node, or after a restart: every node of
/// a database signs with the key kept in it, so each shows the error.
#[tokio::test]
async fn a_form_error_signed_by_one_node_is_shown_by_another_and_after_a_restart() {
    let mut nodes = spawn_nodes(2, |_| {}).await;
    let location = nodes[0].refused_sign_in().await;
    assert!(shows_the_error(&nodes[0], &location).await);
    assert!(
        shows_the_error(&nodes[1], &location).await,
        "the other node shows it"
    );
    let restarted = nodes.pop().unwrap().stop().await.start().await;
    assert!(
        shows_the_error(&restarted, &location).await,
        "and so does a restarted one"
    );
}

/// With `SECRET_KEY` set, the key comes from it: nodes sharing the secret accept each other's
/// links whatever database they use, and a site with another secret does not.
#[tokio::test]
async fn with_a_secret_key_the_nodes_sharing_it_accept_each_others_links() {
    let secret = |key: &'static str| {
        move |config: &mut server::Config| {
            config.secret_key = Some(key.to_string());
        }
    };
    let first = spawn_app_with(secret("one secret shared by every node of the site")).await;
    let second = spawn_app_with(secret("one secret shared by every node of the site")).await;
    let other = spawn_app_with(secret("another site's secret, which signs other links")).await;
    let location = first.refused_sign_in().await;
    assert!(shows_the_error(&second, &location).await);
    assert!(!shows_the_error(&other, &location).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_on_sale_spread_over_three_nodes_sells_every_seat_once_in_whole_orders() {
    let nodes = spawn_nodes(3, unlimited).await;
    let (organiser, organiser_email, _) = nodes[0].verified_user().await;
    nodes[0]
        .grant(&organiser_email, app::domain::role::Role::Organiser)
        .await;
    // 200 seats in four rows of 50, and 500 buyers asking for two each at once, a third on
    // each node: 100 win.
    let rows: Vec<Value> = (0..4)
        .map(|n| json!({ "label": format!("R{n}"), "seats": 50 }))
        .collect();
    let created: Value = nodes[0]
        .post_json(
            &organiser,
            "/api/events",
            &json!({
                "name": "Rush over nodes",
                "venue": "Hall",
                "city": "Leeds",
                "timeZone": "Europe/London",
                "startsAt": "2030-06-01T19:30",
                "maxPerBuyer": 8,
                "sections": [{ "name": "Stalls", "price": 20, "seating": { "rows": rows } }]
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let event_id = created["id"].as_str().unwrap().to_string();
    let section_id = created["sections"][0]["id"].as_str().unwrap().to_string();
    let published = nodes[1]
        .post_json(
            &organiser,
            &format!("/api/events/{event_id}/publish"),
            &json!({}),
        )
        .await;
    assert_eq!(published.status(), StatusCode::OK);
    let buyers = signed_in_buyers(&nodes[2], 500).await;

    let body = json!({ "sectionId": section_id, "quantity": 2, "price": 40 });
    let answers = order_on_every_node(&nodes, &buyers, &body).await;

    let mut seats = std::collections::HashSet::new();
    let mut orders = 0;
    for (status, body) in &answers {
        match *status {
            StatusCode::CREATED => {
                let tickets = body["tickets"].as_array().unwrap();
                assert_eq!(tickets.len(), 2, "no order partly filled: {body}");
                for ticket in tickets {
                    assert!(
                        seats.insert(ticket["id"].as_str().unwrap().to_string()),
                        "a seat in two orders"
                    );
                }
                orders += 1;
            }
            StatusCode::BAD_REQUEST => {
                let message = body["errors"][0]["message"].as_str().unwrap_or_default();
                assert!(
                    message == "This section is sold out" || message.starts_with("Only "),
                    "{body}"
                );
            }
            other => panic!("every buyer gets an order or a refusal, not {other}: {body}"),
        }
    }
    assert_eq!(
        orders, 100,
        "every seat sold, two at a time, however the nodes raced"
    );
    for node in &nodes {
        let shown: Value = node
            .get_json(&client(), &format!("/api/events/{event_id}"))
            .await;
        assert_eq!(
            shown["sections"][0]["available"], 0,
            "every node sees it sold out"
        );
    }
    let mut conn = nodes[0].state.db.read.acquire().await.unwrap();
    let held: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM order_tickets ot JOIN orders o ON o.id = ot.order_id \
         JOIN tickets t ON t.id = ot.ticket_id WHERE t.event_id = $1 AND o.status = 'created'",
    )
    .bind(&event_id)
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert_eq!(held, 200, "every seat held by exactly one live order");
}
