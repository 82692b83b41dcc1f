//! Events (docs/RULES.md, "Events"): organisers create drafts with sections, edit them, and publish them, which
//! puts one ticket per seat on sale. Drafts are nobody else's business; the seats are sold from
//! the event, never listed one by one.

use crate::helpers::*;
use app::domain::role::Role;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn event_body(name: &str) -> Value {
    json!({
        "name": name,
        "category": "concert",
        "venue": "Brixton Academy",
        "city": "London",
        "timeZone": "Europe/London",
        "startsAt": "2030-12-05T19:30",
        "description": "Doors at 7.\n\nNo re-entry.",
        "sections": [
            { "name": "Standing", "price": 35, "capacity": 120 },
            { "name": "Circle", "price": 52.5,
              "seating": { "rows": [{ "label": "A", "seats": 10 }, { "label": "B", "seats": 12 }] } }
        ]
    })
}

/// An organiser with a verified address, signed in: (client, email).
async fn organiser(app: &TestApp) -> (Client, String) {
    let (client, email, _) = app.verified_user().await;
    app.grant(&email, Role::Organiser).await;
    (client, email)
}

async fn create(app: &TestApp, client: &Client, body: &Value) -> Value {
    let response = app.post_json(client, "/api/events", body).await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "create: {answer}");
    answer
}

async fn put_json(app: &TestApp, client: &Client, path: &str, body: &Value) -> reqwest::Response {
    client
        .put(app.url(path))
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn publish(app: &TestApp, client: &Client, id: &str) -> reqwest::Response {
    app.post_json(client, &format!("/api/events/{id}/publish"), &json!({}))
        .await
}

#[tokio::test]
async fn an_organiser_creates_a_draft_that_only_they_and_admins_see() {
    let app = spawn_app().await;
    let (owner, _) = organiser(&app).await;
    let event = create(&app, &owner, &event_body("The Kooks")).await;
    assert_eq!(event["status"], "draft");
    assert_eq!(event["slug"], "the-kooks-2030-12-05");
    assert_eq!(event["startsAt"], "2030-12-05T19:30:00.000+00:00");
    assert_eq!(event["timeZone"], "Europe/London");
    assert_eq!(event["maxPerBuyer"], 8);
    assert_eq!(
        event["resale"],
        json!({ "enabled": true, "capPercent": null })
    );
    let sections = event["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 2);
    assert_eq!(sections[0]["capacity"], 120);
    assert_eq!(sections[0]["seating"], Value::Null);
    assert_eq!(sections[1]["capacity"], 22);
    assert_eq!(sections[1]["price"], 52.5);
    assert_eq!(
        sections[1]["seating"]["rows"][1],
        json!({ "label": "B", "seats": 12 })
    );
    // Nothing is on sale before publishing.
    assert_eq!(event["available"], 0);
    assert_eq!(event["fromPrice"], Value::Null);

    let id = event["id"].as_str().unwrap();
    let (stranger, _) = app.signed_in_user().await;
    let (other_organiser, _) = organiser(&app).await;
    for client in [&client(), &stranger, &other_organiser] {
        for path in [
            format!("/api/events/{id}"),
            "/api/events/the-kooks-2030-12-05".into(),
        ] {
            assert_eq!(app.get(client, &path).await.status(), StatusCode::NOT_FOUND);
        }
    }
    let (admin, _) = app.admin().await;
    for client in [&owner, &admin] {
        let seen: Value = app
            .get_json(client, "/api/events/the-kooks-2030-12-05")
            .await;
        assert_eq!(seen["id"], event["id"]);
    }
    // Another event of the same name on the same day gets a slug of its own.
    let again = create(&app, &owner, &event_body("The Kooks!")).await;
    assert_eq!(again["slug"], "the-kooks-2030-12-05-2");
}

#[tokio::test]
async fn only_organisers_and_admins_create_events() {
    let app = spawn_app().await;
    assert_errors(
        app.post_json(&client(), "/api/events", &event_body("X"))
            .await,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
    let (buyer, _) = app.signed_in_user().await;
    assert_errors(
        app.post_json(&buyer, "/api/events", &event_body("X")).await,
        StatusCode::FORBIDDEN,
        json!([{ "message": "Forbidden" }]),
    )
    .await;
    let (admin, _) = app.admin().await;
    create(&app, &admin, &event_body("An admin's event")).await;
}

#[tokio::test]
async fn every_invalid_field_of_an_event_is_named_and_nothing_is_written() {
    let app = spawn_app().await;
    let (owner, _) = organiser(&app).await;
    let body = json!({
        "name": "<script>\u{202E}</script>",
        "venue": 42,
        "city": "x".repeat(81),
        "timeZone": "Mars/Olympus",
        "startsAt": "2030-12-05T19:30",
        "description": "y".repeat(5_001),
        "maxPerBuyer": 0,
        "resale": { "enabled": "yes", "capPercent": 50 },
        "sections": [
            { "name": "", "price": -1, "capacity": 0 },
            { "name": "Box", "price": 10, "capacity": 2, "seating": { "rows": [{ "label": "A", "seats": 2 }] } },
            { "name": "Circle", "price": 10, "seating": { "rows": [{ "label": "AAAAAAAAA", "seats": 201 }] } }
        ]
    });
    let response = app.post_json(&owner, "/api/events", &body).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let errors: Value = response.json().await.unwrap();
    let fields: Vec<&str> = errors["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    for expected in [
        "venue",
        "name",
        "city",
        "timeZone",
        "description",
        "maxPerBuyer",
        "resale.enabled",
        "resale.capPercent",
        "sections[0].name",
        "sections[0].price",
        "sections[0].capacity",
        "sections[1].capacity",
        "sections[2].seating.rows[0].label",
        "sections[2].seating.rows[0].seats",
    ] {
        assert!(fields.contains(&expected), "{expected} not in {errors}");
    }
    assert!(
        errors["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["field"] == "venue" && e["message"] == "Venue must be text")
    );
    let mine: Value = app.get_json(&owner, "/api/tickets/mine").await;
    assert_eq!(mine["selling"], json!([]));
    // An event in the past is refused when created.
    let mut past = event_body("Yesterday");
    past["startsAt"] = json!("2020-01-01T20:00");
    assert_errors(
        app.post_json(&owner, "/api/events", &past).await,
        StatusCode::BAD_REQUEST,
        json!([{ "field": "startsAt", "message": "The event must start in the future" }]),
    )
    .await;
}

#[tokio::test]
async fn publishing_puts_every_seat_on_sale_once_and_only_from_the_event() {
    let app = spawn_app().await;
    let (owner, email) = app.signed_in_user().await;
    app.grant(&email, Role::Organiser).await;
    let event = create(&app, &owner, &event_body("Publish me")).await;
    let id = event["id"].as_str().unwrap().to_string();
    // An unverified organiser is told what to do first.
    assert_errors(
        publish(&app, &owner, &id).await,
        StatusCode::FORBIDDEN,
        json!([{ "message": "Verify your email address first" }]),
    )
    .await;
    let token = token_sent(&app, &email, "verify").await;
    let verified = app
        .post_json(&owner, "/api/users/verify", &json!({ "token": token }))
        .await;
    assert_eq!(verified.status(), StatusCode::OK);
    let (rival, _) = organiser(&app).await;
    assert_eq!(
        publish(&app, &rival, &id).await.status(),
        StatusCode::NOT_FOUND,
        "another organiser's draft is not there for them"
    );

    // Eight publishes at once: one puts the seats on sale, the others are refused.
    let attempts = join_all((0..8).map(|_| publish(&app, &owner, &id))).await;
    let statuses: Vec<StatusCode> = attempts.iter().map(|r| r.status()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::BAD_REQUEST)
    );
    let published: Value = app.get_json(&client(), &format!("/api/events/{id}")).await;
    assert_eq!(published["status"], "published");
    assert_eq!(published["available"], 142);
    assert_eq!(published["fromPrice"], 35);
    let sections = published["sections"].as_array().unwrap();
    assert_eq!(sections[0]["available"], 120);
    assert_eq!(sections[1]["available"], 22);
    assert_eq!(sections[1]["sold"], 0);
    assert_errors(
        publish(&app, &owner, &id).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Event is already published" }]),
    )
    .await;

    // The seats are not listed one by one: neither on the browse list nor as the organiser's.
    let listed: Vec<Value> = app.get_json(&client(), "/api/tickets?q=Publish").await;
    assert!(listed.is_empty(), "{listed:?}");
    let mine: Value = app.get_json(&owner, "/api/tickets/mine").await;
    assert_eq!(mine["selling"], json!([]));
    assert!(
        app.events_for(&id)
            .await
            .contains(&"EventPublished".to_string())
    );
}

#[tokio::test]
async fn a_published_event_grows_but_never_loses_a_taken_seat() {
    let app = spawn_app().await;
    let (owner, _) = organiser(&app).await;
    let event = create(&app, &owner, &event_body("Grow")).await;
    let id = event["id"].as_str().unwrap().to_string();
    assert_eq!(publish(&app, &owner, &id).await.status(), StatusCode::OK);
    let current: Value = app.get_json(&owner, &format!("/api/events/{id}")).await;
    let standing = current["sections"][0]["id"].clone();
    let circle = current["sections"][1]["id"].clone();

    let mut body = event_body("Grow");
    body["version"] = current["version"].clone();
    body["sections"] = json!([
        { "id": standing, "name": "Standing", "price": 40, "capacity": 150 },
        { "id": circle, "name": "Circle", "price": 52.5,
          "seating": { "rows": [{ "label": "A", "seats": 12 }, { "label": "B", "seats": 12 }, { "label": "C", "seats": 5 }] } },
        { "name": "Box", "price": 90, "capacity": 4 }
    ]);
    let response = put_json(&app, &owner, &format!("/api/events/{id}"), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let grown: Value = response.json().await.unwrap();
    assert_eq!(
        grown["slug"], current["slug"],
        "the slug stays once published"
    );
    let available: Vec<i64> = grown["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["available"].as_i64().unwrap())
        .collect();
    assert_eq!(available, [150, 29, 4]);
    assert_eq!(grown["fromPrice"], 40);

    // The edit was made from an older version: refused, nothing changes.
    let stale = put_json(&app, &owner, &format!("/api/events/{id}"), &body).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);

    // Rows may not shrink or be reordered once published; a section cannot change kind.
    let mut shrink = body.clone();
    shrink["version"] = grown["version"].clone();
    shrink["sections"][1]["seating"]["rows"] = json!([{ "label": "A", "seats": 11 }]);
    shrink["sections"][0] = json!({ "id": standing, "name": "Standing", "price": 40,
        "seating": { "rows": [{ "label": "A", "seats": 150 }] } });
    let response = put_json(&app, &owner, &format!("/api/events/{id}"), &shrink).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let errors: Value = response.json().await.unwrap();
    let fields: Vec<&str> = errors["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert!(fields.contains(&"sections[0].capacity"), "{errors}");
    assert!(fields.contains(&"sections[1].seating.rows"), "{errors}");
    let unchanged: Value = app.get_json(&owner, &format!("/api/events/{id}")).await;
    assert_eq!(unchanged["version"], grown["version"]);
    assert_eq!(unchanged["available"], 183);

    // Another organiser may not edit it.
    let (rival, _) = organiser(&app).await;
    let response = put_json(&app, &rival, &format!("/api/events/{id}"), &body).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn buyers_get_the_front_most_free_seat_and_a_section_sells_each_seat_once() {
    // Thirty sign-ups from one address in a minute would be limited otherwise.
    let app = spawn_app_with(|config| config.auth_rate_limit = 0).await;
    let (owner, _) = organiser(&app).await;
    let event = create(&app, &owner, &event_body("Front rows")).await;
    let id = event["id"].as_str().unwrap().to_string();
    let circle = event["sections"][1]["id"].as_str().unwrap().to_string();
    // A draft's section is not on sale.
    let (early, _) = app.signed_in_user().await;
    assert_eq!(
        app.post_json(&early, "/api/orders", &json!({ "sectionId": circle }))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(publish(&app, &owner, &id).await.status(), StatusCode::OK);

    // The organiser cannot buy their own seats.
    assert_errors(
        app.post_json(&owner, "/api/orders", &json!({ "sectionId": circle }))
            .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "You cannot buy your own ticket" }]),
    )
    .await;
    // A price the buyer saw that is no longer the section's: nothing is reserved.
    let stale = app
        .post_json(
            &early,
            "/api/orders",
            &json!({ "sectionId": circle, "price": 50 }),
        )
        .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);

    let first = app
        .post_json(
            &early,
            "/api/orders",
            &json!({ "sectionId": circle, "price": 52.5 }),
        )
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["ticket"]["seat"], "Row A, Seat 1");
    assert_eq!(first["ticket"]["eventId"], event["id"]);
    assert_eq!(first["ticket"]["sectionId"], circle.as_str());
    assert_eq!(first["ticket"]["primary"], true);
    assert_eq!(first["ticket"]["title"], "Front rows — Circle");

    // Thirty buyers at once for the 21 seats left: each seat goes to exactly one of them.
    let buyers = join_all((0..30).map(|_| app.signed_in_user())).await;
    let ask = json!({ "sectionId": circle });
    let answers = join_all(
        buyers
            .iter()
            .map(|(buyer, _)| app.post_json(buyer, "/api/orders", &ask)),
    )
    .await;
    let mut seats = Vec::new();
    let mut sold_out = 0;
    for answer in answers {
        match answer.status() {
            StatusCode::CREATED => {
                let order: Value = answer.json().await.unwrap();
                seats.push(order["ticket"]["seat"].as_str().unwrap().to_string());
            }
            StatusCode::BAD_REQUEST => {
                let body: Value = answer.json().await.unwrap();
                assert_eq!(
                    body,
                    json!({ "errors": [{ "field": "quantity", "message": "This section is sold out" }] })
                );
                sold_out += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(seats.len(), 21, "every seat left is sold");
    assert_eq!(sold_out, 9);
    seats.sort();
    seats.dedup();
    assert_eq!(seats.len(), 21, "no seat twice");
    assert!(!seats.contains(&"Row A, Seat 1".to_string()));
    let now: Value = app.get_json(&client(), &format!("/api/events/{id}")).await;
    assert_eq!(now["sections"][1]["available"], 0);
    assert_eq!(now["sections"][1]["reserved"], 22);
    assert_eq!(now["available"], 120);
}

#[tokio::test]
async fn the_catalogue_lists_published_upcoming_events_by_words_category_and_days() {
    let app = spawn_app().await;
    // Monday 2 December 2030, 09:00 in London.
    app.clock
        .move_past(app::domain::Timestamp::parse_rfc3339("2030-12-02T09:00:00Z").unwrap());
    let (owner, _) = organiser(&app).await;
    let mut ids = std::collections::HashMap::new();
    for (name, category, city, zone, starts) in [
        (
            "Jazz Night",
            "concert",
            "London",
            "Europe/London",
            "2030-12-02T20:00",
        ),
        (
            "Rock Fest",
            "concert",
            "Paris",
            "Europe/Paris",
            "2030-12-07T18:00",
        ),
        (
            "Sunday Derby",
            "sports",
            "Leeds",
            "Europe/London",
            "2030-12-08T15:00",
        ),
        (
            "Opera <b>Gala</b>",
            "theater",
            "New York",
            "America/New_York",
            "2030-12-20T19:00",
        ),
        (
            "New Year Show",
            "other",
            "Berlin",
            "Europe/Berlin",
            "2031-01-10T20:00",
        ),
    ] {
        let mut body = event_body(name);
        body["category"] = json!(category);
        body["city"] = json!(city);
        body["timeZone"] = json!(zone);
        body["startsAt"] = json!(starts);
        let event = create(&app, &owner, &body).await;
        let id = event["id"].as_str().unwrap().to_string();
        assert_eq!(publish(&app, &owner, &id).await.status(), StatusCode::OK);
        ids.insert(id, name);
    }
    create(&app, &owner, &event_body("Draft only")).await;

    let names = |events: Vec<Value>| -> Vec<String> {
        events
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    let list = |query: &'static str| {
        let app = &app;
        async move {
            let response = app.get(&client(), &format!("/api/events{query}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            names(response.json().await.unwrap())
        }
    };
    assert_eq!(
        list("").await,
        [
            "Jazz Night",
            "Rock Fest",
            "Sunday Derby",
            "Opera <b>Gala</b>",
            "New Year Show"
        ]
    );
    assert_eq!(list("?when=today").await, ["Jazz Night"]);
    assert_eq!(list("?when=weekend").await, ["Rock Fest", "Sunday Derby"]);
    assert_eq!(
        list("?when=month").await,
        [
            "Jazz Night",
            "Rock Fest",
            "Sunday Derby",
            "Opera <b>Gala</b>"
        ]
    );
    assert_eq!(
        list("?from=2030-12-07&to=2030-12-20").await,
        ["Rock Fest", "Sunday Derby", "Opera <b>Gala</b>"]
    );
    assert_eq!(list("?q=paris").await, ["Rock Fest"]);
    assert_eq!(list("?q=gal").await, ["Opera <b>Gala</b>"]);
    assert_eq!(list("?category=sports").await, ["Sunday Derby"]);
    assert_eq!(
        list("?when=month&category=theater").await,
        ["Opera <b>Gala</b>"]
    );
    assert!(list("?page=2").await.is_empty());
    let catalogue: Vec<Value> = app.get_json(&client(), "/api/events").await;
    assert_eq!(catalogue[0]["fromPrice"], 35);
    assert_eq!(catalogue[0]["available"], 142);
    assert_eq!(catalogue[0]["isPast"], false);

    for (query, field) in [
        ("?when=tomorrow", "when"),
        ("?from=02/12/2030", "from"),
        ("?to=%3Cscript%3E", "to"),
        ("?page=0", "page"),
        ("?category=opera", "category"),
    ] {
        let response = app.get(&client(), &format!("/api/events{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["field"], field, "{query}");
    }

    // Six hours after it starts, an event without an end is over and leaves the catalogue.
    app.clock
        .move_past(app::domain::Timestamp::parse_rfc3339("2030-12-03T02:00:00Z").unwrap());
    assert_eq!(list("?when=month").await[0], "Rock Fest");
}

#[tokio::test]
async fn an_organiser_names_door_staff_and_deletes_drafts_and_nobody_else_may() {
    let app = spawn_app().await;
    let (owner, _) = organiser(&app).await;
    let event = create(&app, &owner, &event_body("Staffed")).await;
    let id = event["id"].as_str().unwrap().to_string();
    let (door, door_email) = app.signed_in_user().await;
    let door_id = app.current_user(&door).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let staff_path = format!("/api/events/{id}/staff");

    let added = app
        .post_json(&owner, &staff_path, &json!({ "email": door_email }))
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let added: Value = added.json().await.unwrap();
    assert_eq!(
        added,
        json!({ "staff": [{ "id": door_id, "email": door_email }] })
    );
    // Adding them again changes nothing.
    let again: Value = app
        .post_json(&owner, &staff_path, &json!({ "email": door_email }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, added);
    assert_errors(
        app.post_json(
            &owner,
            &staff_path,
            &json!({ "email": "nobody@example.com" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        json!([{ "field": "email", "message": "No account has this email address" }]),
    )
    .await;
    assert_errors(
        app.post_json(&owner, &staff_path, &json!({ "email": 7 }))
            .await,
        StatusCode::BAD_REQUEST,
        json!([{ "field": "email", "message": "Email must be text" }]),
    )
    .await;

    // Nobody but the organiser (and admins) manages the staff or deletes the draft.
    let (rival, _) = organiser(&app).await;
    for (client, expected) in [
        (client(), StatusCode::UNAUTHORIZED),
        (door.clone(), StatusCode::FORBIDDEN),
        (rival.clone(), StatusCode::NOT_FOUND),
    ] {
        let add = app
            .post_json(&client, &staff_path, &json!({ "email": door_email }))
            .await;
        assert_eq!(add.status(), expected);
        let delete = client
            .delete(app.url(&format!("/api/events/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(delete.status(), expected);
    }

    let removed = owner
        .delete(app.url(&format!("{staff_path}/{door_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::OK);
    assert_eq!(
        removed.json::<Value>().await.unwrap(),
        json!({ "staff": [] })
    );
    let gone = owner
        .delete(app.url(&format!("{staff_path}/{door_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // A draft is deleted; a published event is not.
    let deleted = owner
        .delete(app.url(&format!("/api/events/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&owner, &format!("/api/events/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let published = create(&app, &owner, &event_body("Kept")).await;
    let published_id = published["id"].as_str().unwrap();
    assert_eq!(
        publish(&app, &owner, published_id).await.status(),
        StatusCode::OK
    );
    let refused = owner
        .delete(app.url(&format!("/api/events/{published_id}")))
        .send()
        .await
        .unwrap();
    assert_errors(
        refused,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Event is already published" }]),
    )
    .await;
}

#[tokio::test]
async fn an_address_that_cannot_be_a_slug_names_no_event() {
    let app = spawn_app().await;
    for path in [
        "/api/events/%00%01%7F%C2%85%E2%80%AE",
        "/api/events/The-Kooks",
        "/api/events/%3Cscript%3E",
        "/api/events/a%20b",
    ] {
        assert_errors(
            app.get(&client(), path).await,
            StatusCode::NOT_FOUND,
            json!([{ "message": "Not found" }]),
        )
        .await;
    }
    let long = format!("/api/events/{}", "a".repeat(5_000));
    assert_eq!(
        app.get(&client(), &long).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn drafts_of_one_name_created_at_once_each_get_a_slug_of_their_own() {
    let app = spawn_app().await;
    let (owner, _) = organiser(&app).await;
    let body = event_body("Same Name");
    let answers = join_all((0..8).map(|_| app.post_json(&owner, "/api/events", &body))).await;
    let mut slugs = Vec::new();
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::CREATED);
        let event: Value = answer.json().await.unwrap();
        slugs.push(event["slug"].as_str().unwrap().to_string());
    }
    slugs.sort();
    slugs.dedup();
    assert_eq!(slugs.len(), 8, "{slugs:?}");
    assert!(slugs.contains(&"same-name-2030-12-05".to_string()));
}

#[tokio::test]
async fn event_writes_posted_from_another_site_are_refused() {
    let app = spawn_app().await;
    let (owner, _) = organiser(&app).await;
    let event = create(&app, &owner, &event_body("Guarded")).await;
    let id = event["id"].as_str().unwrap();
    for (method, path) in [
        (reqwest::Method::POST, "/api/events".to_string()),
        (reqwest::Method::PUT, format!("/api/events/{id}")),
        (reqwest::Method::POST, format!("/api/events/{id}/publish")),
        (reqwest::Method::POST, format!("/api/events/{id}/staff")),
        (reqwest::Method::DELETE, format!("/api/events/{id}")),
    ] {
        let response = owner
            .request(method.clone(), app.url(&path))
            .header("Origin", "https://evil.example")
            .header("Sec-Fetch-Site", "cross-site")
            .json(&event_body("Forged"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
    let unchanged: Value = app.get_json(&owner, &format!("/api/events/{id}")).await;
    assert_eq!(unchanged["status"], "draft");
    assert_eq!(unchanged["version"], event["version"]);
}

#[tokio::test]
async fn an_events_resale_rule_decides_whether_and_how_dear_its_seats_resell() {
    let app = spawn_app().await;
    let (owner, _) = organiser(&app).await;
    let on_sale = |name: &str, resale: Value| {
        let (app, owner) = (&app, &owner);
        let body = json!({
            "name": name,
            "venue": "Hall",
            "timeZone": "Europe/London",
            "startsAt": "2030-12-05T19:30",
            "resale": resale,
            "sections": [{ "name": "Standing", "price": 20, "capacity": 5 }]
        });
        async move {
            let event = create(app, owner, &body).await;
            let id = event["id"].as_str().unwrap().to_string();
            assert_eq!(publish(app, owner, &id).await.status(), StatusCode::OK);
            (id, event["sections"][0]["id"].as_str().unwrap().to_string())
        }
    };
    let resell = |client: &Client, ticket: &str, price: f64| {
        let (app, client, path) = (
            &app,
            client.clone(),
            format!("/api/tickets/{ticket}/resell"),
        );
        async move {
            app.post_json(&client, &path, &json!({ "price": price }))
                .await
        }
    };

    // Resale off: refused, whatever the price.
    let (_, closed) = on_sale("No resale", json!({ "enabled": false })).await;
    let (buyer, _) = app.signed_in_user().await;
    let seat = app.buy_seat(&buyer, &closed).await["ticket"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_errors(
        resell(&buyer, &seat, 20.0).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Resale is not allowed for this event" }]),
    )
    .await;

    // Capped at 110 % of the 20.00 face value: 22.00 is the most.
    let (capped_id, capped) =
        on_sale("Capped", json!({ "enabled": true, "capPercent": 110 })).await;
    let seat = app.buy_seat(&buyer, &capped).await["ticket"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let dear = resell(&buyer, &seat, 22.01).await;
    assert_eq!(dear.status(), StatusCode::BAD_REQUEST);
    let errors: Value = dear.json().await.unwrap();
    assert_eq!(errors["errors"][0]["field"], "price", "{errors}");
    assert!(
        errors["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("Price is above the resale cap of 22"),
        "{errors}"
    );
    let listed = resell(&buyer, &seat, 22.0).await;
    assert_eq!(listed.status(), StatusCode::CREATED);
    let listing: Value = listed.json().await.unwrap();
    assert_eq!(
        listing["eventId"],
        capped_id.as_str(),
        "listed under its event"
    );
    assert_eq!(listing["primary"], false);
}

#[tokio::test]
async fn the_attendee_list_is_its_organisers_and_its_csv_never_runs_as_a_formula() {
    let app = spawn_app().await;
    let (owner, _) = organiser(&app).await;
    let hostile = "=HYPERLINK(\"http://evil.example\",\"click\")";
    let body = json!({
        "name": "Listed gig",
        "venue": "Hall",
        "timeZone": "Europe/London",
        "startsAt": "2030-12-05T19:30",
        "sections": [
            { "name": hostile, "price": 20, "capacity": 5 },
            { "name": "Circle", "price": 30,
              "seating": { "rows": [{ "label": "C", "seats": 4 }] } }
        ]
    });
    let event = create(&app, &owner, &body).await;
    let id = event["id"].as_str().unwrap().to_string();
    assert_eq!(publish(&app, &owner, &id).await.status(), StatusCode::OK);
    let (standing, circle) = (
        event["sections"][0]["id"].as_str().unwrap().to_string(),
        event["sections"][1]["id"].as_str().unwrap().to_string(),
    );
    let (first, first_email) = app.signed_in_user().await;
    let (second, second_email) = app.signed_in_user().await;
    app.buy_seat(&first, &standing).await;
    let seated = app.buy_seat(&second, &circle).await;
    // The seated holder is admitted at the door.
    let mine: Value = app.get_json(&second, "/api/tickets/mine").await;
    let code = mine["bought"][0]["code"].as_str().unwrap().to_string();
    let door = app
        .post_json(
            &owner,
            "/api/check-ins",
            &json!({ "code": code, "eventId": id }),
        )
        .await;
    assert_eq!(door.status(), StatusCode::OK);

    let path = format!("/api/events/{id}/attendees");
    let list: Value = app.get_json(&owner, &path).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["email"], first_email.as_str());
    assert_eq!(list[0]["section"], hostile);
    assert_eq!(list[0]["seat"], Value::Null);
    assert_eq!(list[0]["codeStatus"], "valid");
    assert_eq!(list[0]["checkedInAt"], Value::Null);
    assert_eq!(list[1]["email"], second_email.as_str());
    assert_eq!(list[1]["ticketId"], seated["ticket"]["id"]);
    assert_eq!(list[1]["seat"], "Row C, Seat 1");
    assert_eq!(list[1]["codeStatus"], "used");
    assert!(list[1]["checkedInAt"].as_str().is_some());

    let csv = owner
        .get(app.url(&path))
        .header("accept", "text/csv")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(content_type(&csv), "text/csv; charset=utf-8");
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attendees-listed-gig-2030-12-05.csv")
    );
    let text = csv.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "ticketId,email,section,seat,codeStatus,checkedInAt"
    );
    assert_eq!(lines.len(), 3, "{text}");
    // The formula is text in a spreadsheet: quoted once by CSV, prefixed with ' first.
    assert!(
        lines[1].contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\""),
        "{}",
        lines[1]
    );
    assert!(!text.contains(",=") && !text.contains("\n="));
    assert!(lines[2].contains(",Row C, Seat 1,") || lines[2].contains(",\"Row C, Seat 1\","));

    // Nobody else's business.
    assert_eq!(
        app.get(&client(), &path).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (other, _) = organiser(&app).await;
    assert_eq!(app.get(&other, &path).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&first, &path).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(
            &owner,
            "/api/events/00000000-0000-4000-8000-000000000000/attendees"
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    let (admin, _) = app.admin().await;
    assert_eq!(app.get(&admin, &path).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn holders_are_mailed_when_the_date_time_or_venue_changes_and_only_then() {
    let app = spawn_app().await;
    let (owner, _) = organiser(&app).await;
    let mut body = json!({
        "name": "Moved <gig>",
        "venue": "Hall",
        "timeZone": "Europe/London",
        "startsAt": "2030-12-05T19:30",
        "sections": [{ "name": "Standing", "price": 20, "capacity": 5 }]
    });
    let event = create(&app, &owner, &body).await;
    let id = event["id"].as_str().unwrap().to_string();
    assert_eq!(publish(&app, &owner, &id).await.status(), StatusCode::OK);
    body["sections"][0]["id"] = event["sections"][0]["id"].clone();
    let (holder, holder_email) = app.signed_in_user().await;
    app.buy_seat(&holder, event["sections"][0]["id"].as_str().unwrap())
        .await;
    app.deliver_mail().await;
    let changed = |mail: &[Mail]| {
        mail.iter()
            .filter(|m| m.to == holder_email && m.subject == "Changed: Moved <gig>")
            .count()
    };

    // A new description is nobody's news.
    body["description"] = json!("Doors at 7");
    let edited = put_json(&app, &owner, &format!("/api/events/{id}"), &body).await;
    assert_eq!(edited.status(), StatusCode::OK);
    app.deliver_mail().await;
    assert_eq!(changed(&app.mailbox().await), 0);

    // A new venue and time are: told once, on the venue's clock; the ticket follows.
    body["venue"] = json!("The <b>Other</b> Hall");
    body["startsAt"] = json!("2030-12-05T20:15");
    let edited = put_json(&app, &owner, &format!("/api/events/{id}"), &body).await;
    assert_eq!(edited.status(), StatusCode::OK);
    app.deliver_mail().await;
    let mail = app.mailbox().await;
    assert_eq!(changed(&mail), 1);
    let told = mail
        .iter()
        .find(|m| m.to == holder_email && m.subject == "Changed: Moved <gig>")
        .unwrap();
    assert!(told.text.contains("20:15"), "{}", told.text);
    assert!(told.html.contains("The &lt;b&gt;Other&lt;/b&gt; Hall"));
    let mine: Value = app.get_json(&holder, "/api/tickets/mine").await;
    assert_eq!(
        mine["bought"][0]["ticket"]["venue"],
        "The <b>Other</b> Hall"
    );
}
