//! The organiser's pages (docs/RULES.md, "Events"), driven as a browser without JavaScript
//! drives them: plain form posts to the server functions, then the page they come back to.

use crate::helpers::*;
use app::domain::role::Role;
use app::ssr::Ctx;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

const HOSTILE: &str = "</svg><script>alert(1)</script>\"'<b>";

/// An organiser with a verified address, signed in.
async fn organiser(app: &TestApp) -> Client {
    let (client, email, _) = app.verified_user().await;
    app.grant(&email, Role::Organiser).await;
    client
}

/// A form posted from `page` as a browser without JavaScript posts it.
async fn post_form(
    app: &TestApp,
    client: &Client,
    function: &str,
    page: &str,
    fields: &[(&str, &str)],
) -> Response {
    client
        .post(app.url(&format!("/_fn/{function}")))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url(page))
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// Where a form post sent the browser, as a path.
fn location(app: &TestApp, response: &Response) -> String {
    assert!(response.status().is_redirection(), "{}", response.status());
    let to = response.headers()["location"].to_str().unwrap();
    to.trim_start_matches(&app.url(""))
        .trim_end_matches('?')
        .to_string()
}

async fn html(app: &TestApp, client: &Client, path: &str) -> String {
    app.get(client, path).await.text().await.unwrap()
}

async fn event_json(app: &TestApp, client: &Client, id: &str) -> Value {
    app.get(client, &format!("/api/events/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

const DETAILS: [(&str, &str); 10] = [
    ("category", "theater"),
    ("venue", "Old Vic"),
    ("city", "London"),
    ("time_zone", "Europe/London"),
    ("starts_at", "2030-06-01T19:30"),
    ("ends_at", ""),
    ("description", "Act one.\n\nAct two."),
    ("max_per_buyer", "6"),
    ("resale", "yes"),
    ("resale_cap", "120"),
];

/// Creates a draft through the new-event form; its id.
async fn create_draft(app: &TestApp, client: &Client, name: &str) -> String {
    let mut fields = vec![("name", name)];
    fields.extend(DETAILS);
    let created = post_form(app, client, "save_event", "/organise/new", &fields).await;
    let to = location(app, &created);
    to.strip_prefix("/organise/")
        .unwrap_or_else(|| panic!("{to}"))
        .to_string()
}

#[tokio::test]
async fn an_organiser_builds_publishes_and_follows_an_event_without_javascript() {
    let app = spawn_app().await;
    let owner = organiser(&app).await;
    let name = format!("Hamlet {HOSTILE}");
    let id = create_draft(&app, &owner, &name).await;
    let page = format!("/organise/{id}");
    let event = event_json(&app, &owner, &id).await;
    assert_eq!(event["status"], "draft");
    assert_eq!(event["name"], name.as_str());
    assert_eq!(event["maxPerBuyer"], 6);
    assert_eq!(event["resale"]["capPercent"], 120);
    assert_eq!(event["startsAt"], "2030-06-01T19:30:00.000+01:00");

    let shown = html(&app, &owner, &page).await;
    assert!(
        shown.contains("Hamlet &lt;/svg&gt;&lt;script&gt;"),
        "{shown}"
    );
    assert!(!shown.contains("<script>alert(1)"));
    assert!(shown.contains("No sections yet"));
    // Publishing without a section says why, on the page.
    let refused = post_form(&app, &owner, "publish_event", &page, &[("event_id", &id)]).await;
    let back = location(&app, &refused);
    assert!(
        html(&app, &owner, &back)
            .await
            .contains("Add a section first")
    );

    // A standing section and a seated one (its rows typed one per line).
    let version = |e: &Value| e["version"].as_i64().unwrap().to_string();
    let v = version(&event_json(&app, &owner, &id).await);
    let added = post_form(
        &app,
        &owner,
        "save_section",
        &page,
        &[
            ("event_id", &id),
            ("version", &v),
            ("section_id", ""),
            ("name", "Stalls"),
            ("price", "40"),
            ("seating", "general"),
            ("capacity", "3"),
            ("rows", ""),
        ],
    )
    .await;
    assert_eq!(location(&app, &added), page);
    let v = version(&event_json(&app, &owner, &id).await);
    let seated = [
        ("event_id", id.as_str()),
        ("version", v.as_str()),
        ("section_id", ""),
        ("name", "Circle"),
        ("price", "55.50"),
        ("seating", "seated"),
        ("capacity", ""),
        ("rows", "A 2\nB: 3"),
    ];
    post_form(&app, &owner, "save_section", &page, &seated).await;
    let event = event_json(&app, &owner, &id).await;
    assert_eq!(event["sections"][1]["capacity"], 5);
    assert_eq!(event["sections"][1]["seating"]["rows"][1]["label"], "B");
    // The same form again, now stale: refused, nothing added.
    let stale = post_form(&app, &owner, "save_section", &page, &seated).await;
    let back = location(&app, &stale);
    assert!(
        html(&app, &owner, &back).await.contains("changed since"),
        "stale"
    );
    assert_eq!(
        event_json(&app, &owner, &id).await["sections"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Rows that are not rows are said plainly.
    let v = version(&event);
    let circle = event["sections"][1]["id"].as_str().unwrap().to_string();
    let bad = post_form(
        &app,
        &owner,
        "save_section",
        &page,
        &[
            ("event_id", &id),
            ("version", &v),
            ("section_id", &circle),
            ("name", "Circle"),
            ("price", "55.50"),
            ("seating", "seated"),
            ("rows", "front row please"),
        ],
    )
    .await;
    let back = location(&app, &bad);
    assert!(
        html(&app, &owner, &back)
            .await
            .contains("Write one row per line")
    );

    let published = post_form(&app, &owner, "publish_event", &page, &[("event_id", &id)]).await;
    assert_eq!(location(&app, &published), page);
    let event = event_json(&app, &owner, &id).await;
    assert_eq!(event["status"], "published");

    // A sale shows in the list, the chart, the attendees and their CSV.
    let (buyer, buyer_email) = app.signed_in_user().await;
    app.buy_seat(&buyer, event["sections"][0]["id"].as_str().unwrap())
        .await;
    let list = html(&app, &owner, "/organise").await;
    assert!(list.contains("1 of 8"), "{list}");
    assert!(list.contains("$40.00"));
    let shown = html(&app, &owner, &page).await;
    assert!(shown.contains("<svg"), "{shown}");
    assert_eq!(shown.matches("class=\"bar\"").count(), 1);
    assert!(shown.contains("Tickets sold per day: Hamlet &lt;/svg&gt;"));
    assert!(shown.contains(&buyer_email));
    let csv = app
        .get(&owner, &format!("/api/events/{id}/attendees?format=csv"))
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(csv.text().await.unwrap().contains(&buyer_email));

    // Door staff are added by address and removed again.
    let (_, helper_email) = app.signed_in_user().await;
    post_form(
        &app,
        &owner,
        "add_door_staff",
        &page,
        &[("event_id", &id), ("email", &helper_email)],
    )
    .await;
    assert!(
        html(&app, &owner, &page)
            .await
            .contains(&format!("Remove {helper_email}"))
    );
    let nobody = post_form(
        &app,
        &owner,
        "add_door_staff",
        &page,
        &[("event_id", &id), ("email", "nobody@example.com")],
    )
    .await;
    let back = location(&app, &nobody);
    assert!(
        html(&app, &owner, &back)
            .await
            .contains("No account has this email address")
    );

    // Cancelling asks for the box to be ticked, then refunds the buyer.
    let unticked = post_form(
        &app,
        &owner,
        "cancel_event",
        &page,
        &[("event_id", &id), ("reason", "Flood")],
    )
    .await;
    let back = location(&app, &unticked);
    assert!(
        html(&app, &owner, &back)
            .await
            .contains("Tick the box to confirm")
    );
    assert_eq!(event_json(&app, &owner, &id).await["status"], "published");
    post_form(
        &app,
        &owner,
        "cancel_event",
        &page,
        &[
            ("event_id", &id),
            ("reason", "Flood <i>damage</i>"),
            ("confirm", "yes"),
        ],
    )
    .await;
    let shown = html(&app, &owner, &page).await;
    assert!(
        shown.contains("Cancelled: Flood &lt;i&gt;damage&lt;/i&gt;"),
        "{shown}"
    );
    assert!(shown.contains("Refunds: 0 of 1 done"));
    app::ssr::services::cancellation::refund_round(&Ctx::system(&app.state))
        .await
        .unwrap();
    assert!(
        html(&app, &owner, &page)
            .await
            .contains("Refunds: 1 of 1 done")
    );
}

#[tokio::test]
async fn organiser_pages_and_forms_are_nobody_elses() {
    let app = spawn_app().await;
    let owner = organiser(&app).await;
    let id = create_draft(&app, &owner, "Private Rehearsal").await;
    let page = format!("/organise/{id}");
    let other = organiser(&app).await;
    let (plain, _) = app.signed_in_user().await;

    let list = html(&app, &other, "/organise").await;
    assert!(!list.contains("Private Rehearsal"));
    let theirs = app.get(&other, &page).await;
    assert_eq!(
        theirs.status(),
        StatusCode::NOT_FOUND,
        "another's draft is not there"
    );
    assert!(
        html(&app, &plain, "/organise")
            .await
            .contains("This page is for organisers")
    );
    assert!(
        html(&app, &client(), "/organise")
            .await
            .contains("Organisers sign in")
    );
    assert!(
        html(&app, &client(), &page)
            .await
            .contains("Organisers sign in")
    );

    let v = event_json(&app, &owner, &id).await["version"].to_string();
    let section = [
        ("event_id", id.as_str()),
        ("version", v.as_str()),
        ("section_id", ""),
        ("name", "Pit"),
        ("price", "10"),
        ("seating", "general"),
        ("capacity", "5"),
    ];
    for who in [&other, &plain, &client()] {
        post_form(&app, who, "save_section", &page, &section).await;
        post_form(&app, who, "publish_event", &page, &[("event_id", &id)]).await;
    }
    let cross_site = owner
        .post(app.url("/_fn/save_section"))
        .header("origin", "https://evil.example")
        .form(&section)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let event = event_json(&app, &owner, &id).await;
    assert_eq!(event["status"], "draft");
    assert_eq!(event["sections"].as_array().unwrap().len(), 0, "{event}");
    // Hostile field values are refused with their fields' messages and change nothing.
    let huge = "9".repeat(400);
    let control = "Name\u{0}\u{7}";
    let long_name = "x".repeat(121);
    for (field, value) in [
        ("name", control),
        ("name", long_name.as_str()),
        ("max_per_buyer", huge.as_str()),
        ("max_per_buyer", "0"),
        ("time_zone", "Mars/Olympus"),
        ("starts_at", "yesterday"),
    ] {
        let mut fields: Vec<(&str, &str)> =
            vec![("id", &id), ("version", &v), ("name", "Private Rehearsal")];
        fields.extend(DETAILS);
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let refused = post_form(&app, &owner, "save_event", &page, &fields).await;
        let back = location(&app, &refused);
        assert!(back.contains("__err"), "{field}={value:?}: {back}");
    }
    assert_eq!(
        event_json(&app, &owner, &id).await["version"].to_string(),
        v
    );
}
