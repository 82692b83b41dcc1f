//! Venue time zones: an event's time is entered and shown on the venue's clock, stored as the
//! instant plus the zone, and given in the API with the venue's offset.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn show(starts_at: &str, time_zone: Value) -> Value {
    json!({ "title": "Arctic Monkeys", "price": 45.5, "category": "concert",
            "startsAt": starts_at, "timeZone": time_zone })
}

/// The page of one ticket, as HTML.
async fn ticket_page(app: &TestApp, client: &reqwest::Client, id: &Value) -> String {
    let response = app
        .get(client, &format!("/tickets/{}", id.as_str().unwrap()))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// Posts the listing form as a browser without JavaScript does; returns the new listing's id.
async fn list_by_form(app: &TestApp, client: &reqwest::Client, fields: &[(&str, &str)]) -> String {
    let response = client
        .post(app.url("/_fn/list_ticket"))
        .header("accept", "text/html")
        .header("referer", app.url("/tickets/new"))
        .form(fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "listing by form");
    let location = response.headers()["location"].to_str().unwrap();
    location
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_show_in_london_is_on_london_time_in_summer_and_winter() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let summer = app
        .create_ticket(&seller, &show("2031-07-05T19:00", json!("Europe/London")))
        .await;
    assert_eq!(summer["startsAt"], "2031-07-05T19:00:00.000+01:00");
    assert_eq!(summer["timeZone"], "Europe/London");
    let winter = app
        .create_ticket(&seller, &show("2031-12-06T19:00", json!("Europe/London")))
        .await;
    assert_eq!(winter["startsAt"], "2031-12-06T19:00:00.000+00:00");

    // Anyone sees the venue's time on the page, with the abbreviation of that day.
    let page = ticket_page(&app, &client(), &summer["id"]).await;
    assert!(page.contains("Sat 5 Jul 2031, 19:00 BST"), "{page}");
    assert!(
        page.contains(r#"datetime="2031-07-05T19:00:00.000+01:00""#),
        "{page}"
    );
    assert!(page.contains("Europe/London time"));
    let page = ticket_page(&app, &client(), &winter["id"]).await;
    assert!(page.contains("Sat 6 Dec 2031, 19:00 GMT"), "{page}");
    // And on the browse page and in the API's list.
    let home = app.get(&client(), "/tickets").await.text().await.unwrap();
    assert!(home.contains("Sat 5 Jul 2031, 19:00 BST"));
    let listed: Vec<Value> = app.get_json(&client(), "/api/tickets").await;
    assert!(
        listed
            .iter()
            .any(|t| t["startsAt"] == "2031-07-05T19:00:00.000+01:00"
                && t["timeZone"] == "Europe/London")
    );
}

#[tokio::test]
async fn the_same_wall_clock_time_in_new_york_is_a_different_instant() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let new_york = app
        .create_ticket(
            &seller,
            &show("2031-07-05T19:00", json!("America/New_York")),
        )
        .await;
    assert_eq!(new_york["startsAt"], "2031-07-05T19:00:00.000-04:00");
    let page = ticket_page(&app, &client(), &new_york["id"]).await;
    assert!(page.contains("Sat 5 Jul 2031, 19:00 EDT"));
    // An explicit offset is the instant itself, shown on the venue's clock.
    let given = app
        .create_ticket(
            &seller,
            &show("2031-07-05T19:00:00Z", json!("America/New_York")),
        )
        .await;
    assert_eq!(given["startsAt"], "2031-07-05T15:00:00.000-04:00");
}

#[tokio::test]
async fn a_listing_without_a_zone_is_shown_in_utc_labelled_so() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &show("2031-07-05T19:00", Value::Null))
        .await;
    assert_eq!(ticket["startsAt"], "2031-07-05T19:00:00.000Z");
    assert_eq!(ticket["timeZone"], Value::Null);
    let page = ticket_page(&app, &client(), &ticket["id"]).await;
    assert!(page.contains("Sat 5 Jul 2031, 19:00 UTC"));
}

#[tokio::test]
async fn a_time_the_clocks_skip_is_refused_and_a_repeated_one_is_the_first() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    // 30 March 2031, 01:00 GMT: London's clocks jump to 02:00.
    let response = app
        .post_json(
            &seller,
            "/api/tickets",
            &show("2031-03-30T01:30", json!("Europe/London")),
        )
        .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "field": "startsAt", "message":
            "2031-03-30 01:30 does not happen in Europe/London: the clocks go forward then; pick another time" }]),
    )
    .await;
    // 26 October 2031, 02:00 BST: back to 01:00, so 01:30 happens twice; the first counts.
    let twice = app
        .create_ticket(&seller, &show("2031-10-26T01:30", json!("Europe/London")))
        .await;
    assert_eq!(twice["startsAt"], "2031-10-26T01:30:00.000+01:00");
}

#[tokio::test]
async fn hostile_or_unknown_zones_are_refused_and_nothing_is_listed() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let invalid = json!([{ "field": "timeZone",
        "message": "Time zone must be an IANA time zone such as Europe/London" }]);
    for zone in [
        json!("Mars/Olympus_Mons"),
        json!("<script>alert(1)</script>"),
        json!("Europe/London\u{0}"),
        json!("Europe/\u{202e}London"),
        json!("Europe/London\r\nSet-Cookie: a=b"),
        json!("E".repeat(10_000)),
        json!(42),
        json!(["Europe/London"]),
        json!({ "name": "Europe/London" }),
    ] {
        let response = app
            .post_json(
                &seller,
                "/api/tickets",
                &show("2031-07-05T19:00", zone.clone()),
            )
            .await;
        assert_errors(response, StatusCode::BAD_REQUEST, invalid.clone()).await;
    }
    let mine: Vec<Value> = app.get_json(&client(), "/api/tickets").await;
    assert!(mine.is_empty(), "{mine:?}");
    // Any case is the zone's own name.
    let ticket = app
        .create_ticket(&seller, &show("2031-07-05T19:00", json!("europe/LONDON")))
        .await;
    assert_eq!(ticket["timeZone"], "Europe/London");
}

#[tokio::test]
async fn editing_keeps_the_zone_unless_changed_and_a_resale_inherits_it() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &show("2031-07-05T19:00", json!("Europe/Berlin")))
        .await;
    let id = ticket["id"].as_str().unwrap();
    // The seller's edit form shows the venue's clock and zone.
    let page = ticket_page(&app, &seller, &ticket["id"]).await;
    assert!(page.contains(r#"value="2031-07-05T19:00""#), "{page}");
    assert!(
        page.contains(r#"<option value="Europe/Berlin" selected"#),
        "{page}"
    );
    // Moving the show to Lisbon's clock keeps 19:00 there, an hour later for Berlin.
    let moved = seller
        .put(app.url(&format!("/api/tickets/{id}")))
        .json(&show("2031-07-05T19:00", json!("Europe/Lisbon")))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["startsAt"], "2031-07-05T19:00:00.000+01:00");
    assert_eq!(moved["timeZone"], "Europe/Lisbon");

    let (buyer, _) = app.signed_in_user().await;
    app.buy(&buyer, id).await;
    let response = app
        .post_json(
            &buyer,
            &format!("/api/tickets/{id}/resell"),
            &json!({ "price": 45.5 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let resale: Value = response.json().await.unwrap();
    assert_eq!(resale["startsAt"], "2031-07-05T19:00:00.000+01:00");
    assert_eq!(resale["timeZone"], "Europe/Lisbon");
}

#[tokio::test]
async fn the_form_starts_on_the_sellers_last_zone_else_the_sites_default() {
    let app = spawn_app_with(|config| {
        config.default_time_zone = app::domain::Zone::parse("Europe/Dublin").unwrap();
    })
    .await;
    let (seller, _) = app.signed_in_user().await;
    let form = app.get(&seller, "/tickets/new").await.text().await.unwrap();
    assert!(
        form.contains(r#"<option value="Europe/Dublin" selected"#),
        "{form}"
    );
    assert!(form.contains(r#"<label for="time_zone">Time zone of the venue</label>"#));
    // Listed by the form, without JavaScript: the wall-clock time is read in the chosen zone.
    let id = list_by_form(
        &app,
        &seller,
        &[
            ("title", "Hamilton"),
            ("price", "80"),
            ("category", "theater"),
            ("starts_at", "2031-12-06T19:30"),
            ("time_zone", "America/Chicago"),
        ],
    )
    .await;
    let ticket: Value = app.get_json(&client(), &format!("/api/tickets/{id}")).await;
    assert_eq!(ticket["startsAt"], "2031-12-06T19:30:00.000-06:00");
    assert_eq!(ticket["timeZone"], "America/Chicago");
    let form = app.get(&seller, "/tickets/new").await.text().await.unwrap();
    assert!(form.contains(r#"<option value="America/Chicago" selected"#));
    // Another seller still starts on the site's default.
    let (other, _) = app.signed_in_user().await;
    let form = app.get(&other, "/tickets/new").await.text().await.unwrap();
    assert!(form.contains(r#"<option value="Europe/Dublin" selected"#));
}
