//! One valid code per seat (docs/RULES.md, "Entry codes"): a resale or a refund revokes the
//! holder's code in the transaction that moves the seat, and the door admits each valid code
//! once, however many doors scan it at the same moment.

use crate::helpers::*;
use app::domain::Id;
use app::domain::custody::normalize_code;
use app::domain::role::Role;
use app::ssr::Ctx;
use app::ssr::services::refunds::{self, RefundOrder};
use app::ssr::services::roles;
use app::ssr::storage::{Read, codes, tickets};
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

async fn staff(app: &TestApp) -> Client {
    let (client, email) = app.signed_in_user().await;
    roles::grant_role(&Ctx::system(&app.state), &email, Role::Staff)
        .await
        .unwrap();
    client
}

async fn mine(app: &TestApp, client: &Client) -> Value {
    let response = app.get(client, "/api/tickets/mine").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The holder's entry for `ticket_id`: (code, codeStatus).
async fn held(app: &TestApp, client: &Client, ticket_id: &str) -> (Value, String) {
    let mine = mine(app, client).await;
    let entry = mine["bought"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["ticket"]["id"] == ticket_id)
        .unwrap_or_else(|| panic!("{ticket_id} in {mine:#}"))
        .clone();
    (
        entry["code"].clone(),
        entry["codeStatus"].as_str().unwrap().to_string(),
    )
}

/// Scans `code` at the door of `event`; the answer (always 200).
async fn scan_at(app: &TestApp, door: &Client, event: &str, code: &str) -> Value {
    let response = app
        .post_json(
            door,
            "/api/check-ins",
            &json!({ "code": code, "eventId": event }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Scans `code` at the door of the event its ticket is for.
async fn scan(app: &TestApp, door: &Client, code: &str) -> Value {
    let event = {
        let mut conn = app.state.db.read.acquire().await.unwrap();
        let code = normalize_code(code).expect("a code of ours");
        let stored = codes::find_code(&mut conn, &code, Read::Plain)
            .await
            .unwrap()
            .expect("an issued code");
        let ticket = tickets::find_ticket(&mut conn, &stored.ticket_id)
            .await
            .unwrap()
            .unwrap();
        ticket.event_seat.expect("a seat of an event").event_id
    };
    scan_at(app, door, event.as_str(), code).await
}

#[tokio::test]
async fn a_resale_revokes_the_sellers_code_and_the_new_buyer_gets_in_once() {
    let app = spawn_app().await;
    let door = staff(&app).await;
    let final_ = app.event_on_sale("Cup final", 20.0, 10).await;
    let (first, _) = app.signed_in_user().await;
    let order = app.buy_seat(&first, &final_.section_id).await;
    let ticket_id = order["ticket"]["id"].as_str().unwrap();
    let (first_code, status) = held(&app, &first, ticket_id).await;
    assert_eq!(status, "valid");
    let first_code = first_code.as_str().unwrap().to_string();

    // Listed again: still the first buyer's seat, code still valid.
    let resale: Value = app
        .post_json(
            &first,
            &format!("/api/tickets/{ticket_id}/resell"),
            &json!({ "price": 25 }),
        )
        .await
        .json()
        .await
        .unwrap();
    let resale_id = resale["id"].as_str().unwrap();
    assert_eq!(held(&app, &first, ticket_id).await.1, "valid");

    // The resale completes: the old code is revoked at once, the new buyer holds the only one.
    let (second, _) = app.signed_in_user().await;
    app.buy(&second, resale_id).await;
    let (revoked, status) = held(&app, &first, ticket_id).await;
    assert_eq!((revoked, status.as_str()), (Value::Null, "revoked"));
    let (second_code, status) = held(&app, &second, resale_id).await;
    assert_eq!(status, "valid");
    let second_code = second_code.as_str().unwrap().to_string();
    assert_ne!(first_code, second_code);
    let page = app.get(&first, "/tickets/mine").await.text().await.unwrap();
    assert!(
        page.contains("Resold — this code is no longer valid"),
        "{page}"
    );
    assert!(!page.contains(&first_code), "the revoked code is not shown");

    // At the door.
    let old = scan(&app, &door, &first_code).await;
    assert_eq!(old["result"], "revoked");
    assert_eq!(old["reason"], "resold");
    assert_eq!(old["checkedInAt"], Value::Null);
    let admitted = scan(&app, &door, &second_code.to_lowercase()).await;
    assert_eq!(admitted["result"], "valid");
    assert_eq!(admitted["ticket"]["id"], resale_id);
    let again = scan(&app, &door, &second_code).await;
    assert_eq!(again["result"], "already_used");
    assert_eq!(again["checkedInAt"], admitted["checkedInAt"]);
    assert_eq!(held(&app, &second, resale_id).await.1, "used");

    // A code of another event, or of an other listing, admits at no other door.
    let semi = app.event_on_sale("Semi <final>", 15.0, 5).await;
    let (third, _) = app.signed_in_user().await;
    let semi_ticket = app.buy_seat(&third, &semi.section_id).await["ticket"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let semi_code = held(&app, &third, &semi_ticket).await.0;
    let semi_code = semi_code.as_str().unwrap();
    let wrong = scan_at(&app, &door, &final_.event_id, semi_code).await;
    assert_eq!(wrong["result"], "wrong_event");
    assert_eq!(wrong["eventName"], "Semi <final>");
    assert_eq!(wrong["checkedInAt"], Value::Null);
    assert_eq!(
        held(&app, &third, &semi_ticket).await.1,
        "valid",
        "not admitted"
    );
    let (lister, _) = app.signed_in_user().await;
    let listing = app
        .create_ticket(&lister, &json!({ "title": "Elsewhere", "price": 9 }))
        .await;
    let (fourth, _) = app.signed_in_user().await;
    app.buy(&fourth, listing["id"].as_str().unwrap()).await;
    let listing_code = held(&app, &fourth, listing["id"].as_str().unwrap()).await.0;
    let listing_code = listing_code.as_str().unwrap();
    for event in [&final_.event_id, &semi.event_id] {
        let elsewhere = scan_at(&app, &door, event, listing_code).await;
        assert_eq!(elsewhere["result"], "wrong_event");
        assert_eq!(elsewhere["eventName"], Value::Null);
        assert!(elsewhere.as_object().unwrap().contains_key("eventName"));
    }
    assert_eq!(
        scan_at(&app, &door, &semi.event_id, semi_code).await["result"],
        "valid"
    );

    // A used ticket cannot go back on sale.
    assert_errors(
        app.post_json(
            &second,
            &format!("/api/tickets/{resale_id}/resell"),
            &json!({ "price": 30 }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "This ticket was used at the door" }]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_doors_scanning_one_code_at_once_admit_it_once() {
    let app = spawn_app().await;
    let mut doors = Vec::new();
    for _ in 0..4 {
        doors.push(staff(&app).await);
    }
    let gig = app.event_on_sale("Gig", 30.0, 3).await;
    let (buyer, _) = app.signed_in_user().await;
    let order = app.buy_seat(&buyer, &gig.section_id).await;
    let ticket_id = order["ticket"]["id"].as_str().unwrap();
    let code = held(&app, &buyer, ticket_id).await.0;
    let code = code.as_str().unwrap();
    let results = join_all((0..20).map(|n| scan(&app, &doors[n % doors.len()], code))).await;
    let valid = results.iter().filter(|r| r["result"] == "valid").count();
    assert_eq!(valid, 1, "{results:#?}");
    let first = results.iter().find(|r| r["result"] == "valid").unwrap();
    for other in results.iter().filter(|r| r["result"] != "valid") {
        assert_eq!(other["result"], "already_used");
        assert_eq!(other["checkedInAt"], first["checkedInAt"]);
    }
}

#[tokio::test]
async fn only_those_the_event_names_scan_at_its_door_and_any_input_is_an_answer() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Gig", 30.0, 5).await;
    let other = app.event_on_sale("Other gig", 30.0, 5).await;
    let body = |event: &str| json!({ "code": "TKT-00000000-00000000-00000000-00000000", "eventId": event });
    assert_errors(
        app.get(&client(), "/api/tickets/mine").await,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
    assert_errors(
        app.post_json(&client(), "/api/check-ins", &body(&gig.event_id))
            .await,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
    // A plain user, and the organiser of another event, may not scan here.
    let (buyer, _) = app.signed_in_user().await;
    for stranger in [&buyer, &other.organiser] {
        assert_errors(
            app.post_json(stranger, "/api/check-ins", &body(&gig.event_id))
                .await,
            StatusCode::FORBIDDEN,
            json!([{ "message": "Forbidden" }]),
        )
        .await;
    }
    // Its organiser, global staff, admins, and the door staff the organiser names may.
    let door = staff(&app).await;
    let (admin, _) = app.admin().await;
    let (named, named_email) = app.signed_in_user().await;
    let added = app
        .post_json(
            &gig.organiser,
            &format!("/api/events/{}/staff", gig.event_id),
            &json!({ "email": named_email }),
        )
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    for scanner in [&gig.organiser, &door, &admin, &named] {
        assert_eq!(
            scan_at(&app, scanner, &gig.event_id, "TKT-0").await["result"],
            "unknown"
        );
    }
    assert_eq!(
        app.post_json(&named, "/api/check-ins", &body(&other.event_id))
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "door staff of one event only"
    );
    let cross_site = door
        .post(app.url("/api/check-ins"))
        .header("origin", "https://evil.example")
        .json(&body(&gig.event_id))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    for input in [
        "TKT-00000000-00000000-00000000-00000000",
        "<script>alert(1)</script>",
        "TKT-\u{0}\u{202e}",
        "",
        &"A".repeat(10_000),
    ] {
        let answer = scan_at(&app, &door, &gig.event_id, input).await;
        assert_eq!(answer["result"], "unknown", "{input:?}");
        assert_eq!(answer["ticket"], Value::Null);
    }
    let code = "TKT-00000000-00000000-00000000-00000000";
    for (body, errors) in [
        (
            json!({ "eventId": gig.event_id }),
            json!([{ "message": "Code is required", "field": "code" }]),
        ),
        (
            json!({ "code": 42, "eventId": gig.event_id }),
            json!([{ "message": "Code must be text", "field": "code" }]),
        ),
        (
            json!({ "code": code }),
            json!([{ "message": "Choose the event", "field": "eventId" }]),
        ),
        (
            json!({ "code": code, "eventId": "" }),
            json!([{ "message": "Choose the event", "field": "eventId" }]),
        ),
        (
            json!({ "code": code, "eventId": 7 }),
            json!([{ "message": "Event id must be text", "field": "eventId" }]),
        ),
        (
            json!({}),
            json!([
                { "message": "Code is required", "field": "code" },
                { "message": "Choose the event", "field": "eventId" }
            ]),
        ),
    ] {
        assert_errors(
            app.post_json(&door, "/api/check-ins", &body).await,
            StatusCode::BAD_REQUEST,
            errors,
        )
        .await;
    }
    let malformed = app
        .post_json(
            &door,
            "/api/check-ins",
            &json!({ "code": code, "eventId": "<b>x</b>" }),
        )
        .await;
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let unknown = app
        .post_json(
            &door,
            "/api/check-ins",
            &json!({ "code": code, "eventId": "00000000-0000-4000-8000-000000000000" }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // A user who scans at no door is told what the page is for and offered no form; only those
    // who may scan somewhere see the header's link to it.
    let page = app.get(&buyer, "/check-in").await.text().await.unwrap();
    assert!(page.contains("This page is for door staff"));
    assert!(!page.contains("name=\"code\""));
    assert!(!page.contains("href=\"/check-in\""));
    for scanner in [&door, &gig.organiser, &named] {
        let home = app.get(scanner, "/").await.text().await.unwrap();
        assert!(home.contains("href=\"/check-in\""));
    }
    // Each is offered the doors they may open, and no other.
    let choose = app.get(&named, "/check-in").await.text().await.unwrap();
    assert!(choose.contains("Choose the event"), "{choose}");
    assert!(choose.contains(&format!("/check-in?event={}", gig.event_id)));
    assert!(!choose.contains(&other.event_id));
    let choose = app.get(&door, "/check-in").await.text().await.unwrap();
    assert!(choose.contains(&gig.event_id) && choose.contains(&other.event_id));
    let refused = app
        .get(&named, &format!("/check-in?event={}", other.event_id))
        .await
        .text()
        .await
        .unwrap();
    assert!(refused.contains("This page is for door staff"));
    assert!(!refused.contains("name=\"code\""));
}

#[tokio::test]
async fn the_door_page_works_without_javascript() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Gig <i>live</i>", 30.0, 5).await;
    let door = staff(&app).await;
    let (buyer, _) = app.signed_in_user().await;
    let order = app.buy_seat(&buyer, &gig.section_id).await;
    let code = held(&app, &buyer, order["ticket"]["id"].as_str().unwrap())
        .await
        .0;
    let (other_buyer, _) = app.signed_in_user().await;
    app.buy_seat(&other_buyer, &gig.section_id).await;
    let at_door = format!("/check-in?event={}", gig.event_id);
    let post = |event: String, code: String| {
        let door = door.clone();
        let url = app.url("/_fn/check_in_code");
        let referer = app.url(&at_door);
        async move {
            door.post(url)
                .header("accept", "text/html,application/xhtml+xml")
                .header("referer", referer)
                .form(&[("event_id", event), ("code", code)])
                .send()
                .await
                .unwrap()
        }
    };
    let page = app.get(&door, &at_door).await.text().await.unwrap();
    assert!(page.contains("0 of 2 checked in"), "{page}");
    assert!(page.contains("Gig &lt;i&gt;live&lt;/i&gt;"));
    assert!(page.contains(&format!("name=\"event_id\" value=\"{}\"", gig.event_id)));

    let posted = post(gig.event_id.clone(), code.as_str().unwrap().to_string()).await;
    assert!(posted.status().is_redirection(), "{}", posted.status());
    assert_eq!(posted.headers()["location"], at_door);
    let page = app.get(&door, &at_door).await.text().await.unwrap();
    assert!(
        page.contains("scan-valid") && page.contains(">Valid<"),
        "{page}"
    );
    assert!(page.contains("1 of 2 checked in"), "{page}");
    // The result is shown once; the next visit is a fresh form.
    let fresh = app.get(&door, &at_door).await.text().await.unwrap();
    assert!(!fresh.contains("scan-result"));

    post(gig.event_id.clone(), code.as_str().unwrap().to_string()).await;
    let page = app.get(&door, &at_door).await.text().await.unwrap();
    assert!(page.contains("Already used at "), "{page}");

    post(gig.event_id.clone(), "<b>not a code</b>".to_string()).await;
    let page = app.get(&door, &at_door).await.text().await.unwrap();
    assert!(page.contains(">Unknown<"));
    assert!(page.contains("&lt;b&gt;not a code&lt;/b&gt;"));

    // A code of another event says whose it is, and admits nobody.
    let other = app.event_on_sale("Matinee", 12.0, 5).await;
    let (third, _) = app.signed_in_user().await;
    let order = app.buy_seat(&third, &other.section_id).await;
    let other_code = held(&app, &third, order["ticket"]["id"].as_str().unwrap())
        .await
        .0;
    post(
        gig.event_id.clone(),
        other_code.as_str().unwrap().to_string(),
    )
    .await;
    let page = app.get(&door, &at_door).await.text().await.unwrap();
    assert!(
        page.contains("Wrong event — this code is for Matinee"),
        "{page}"
    );
    assert!(page.contains("1 of 2 checked in"));

    // Without an event, the form is refused with the field named.
    let refused = post(String::new(), "TKT-0".to_string()).await;
    assert!(refused.status().is_redirection());
    let back = refused.headers()["location"].to_str().unwrap().to_string();
    let back = if back.starts_with('/') {
        app.url(&back)
    } else {
        back
    };
    let page = door.get(&back).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("Choose the event"), "{back}: {page}");
}

#[tokio::test]
async fn a_refund_revokes_the_buyers_code_and_a_resale_refund_gives_the_reseller_one_back() {
    let app = spawn_app().await;
    let door = staff(&app).await;
    let derby = app.event_on_sale("Derby", 20.0, 10).await;
    let (first, _) = app.signed_in_user().await;
    let order = app.buy_seat(&first, &derby.section_id).await;
    let ticket_id = order["ticket"]["id"].as_str().unwrap();
    let first_code = held(&app, &first, ticket_id).await.0;
    let resale: Value = app
        .post_json(
            &first,
            &format!("/api/tickets/{ticket_id}/resell"),
            &json!({ "price": 22 }),
        )
        .await
        .json()
        .await
        .unwrap();
    let resale_id = resale["id"].as_str().unwrap();
    let (second, _) = app.signed_in_user().await;
    let order = app.buy(&second, resale_id).await;
    let second_code = held(&app, &second, resale_id).await.0;

    refunds::refund_order(
        &Ctx::system(&app.state),
        RefundOrder {
            ticket_id: None,
            order_id: Id::parse(order["id"].as_str().unwrap()).unwrap(),
            reason: "Bought by mistake".into(),
            by: app::ssr::services::refunds::Operator::CommandLine,
        },
    )
    .await
    .unwrap();

    // The refunded buyer's code is void; the reseller, who has the seat back, holds a new one.
    assert_eq!(
        held(&app, &second, resale_id).await,
        (Value::Null, "revoked".to_string())
    );
    let refunded = scan(&app, &door, second_code.as_str().unwrap()).await;
    assert_eq!(
        (refunded["result"].as_str(), refunded["reason"].as_str()),
        (Some("revoked"), Some("refunded"))
    );
    let (back, status) = held(&app, &first, ticket_id).await;
    assert_eq!(status, "valid");
    assert_ne!(back, first_code, "a new code, not the revoked one");
    assert_eq!(
        scan(&app, &door, first_code.as_str().unwrap()).await["result"],
        "revoked"
    );
    assert_eq!(
        scan(&app, &door, back.as_str().unwrap()).await["result"],
        "valid"
    );
}

/// A seat of a new event `name` (standing, at 20) bought by a new buyer: (buyer client, buyer
/// email, ticket id). The ticket's title is "<name> — Standing".
async fn bought_ticket(app: &TestApp, name: &str) -> (Client, String, String) {
    let event = app.event_on_sale(name, 20.0, 10).await;
    let (buyer, email) = app.signed_in_user().await;
    let order = app.buy_seat(&buyer, &event.section_id).await;
    let id = order["ticket"]["id"].as_str().unwrap().to_string();
    (buyer, email, id)
}

async fn transfer(app: &TestApp, from: &Client, ticket_id: &str, to: &str) -> reqwest::Response {
    app.post_json(
        from,
        &format!("/api/tickets/{ticket_id}/transfer"),
        &json!({ "email": to }),
    )
    .await
}

#[tokio::test]
async fn a_ticket_given_to_an_account_moves_at_once_with_a_new_code() {
    let app = spawn_app().await;
    let door = staff(&app).await;
    let (giver, giver_email, ticket_id) = bought_ticket(&app, "Opera <b>night</b>").await;
    let old_code = held(&app, &giver, &ticket_id).await.0;
    let (friend, friend_email) = app.signed_in_user().await;

    let response = transfer(&app, &giver, &ticket_id, &friend_email.to_uppercase()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({ "ticketId": ticket_id, "email": friend_email, "status": "completed" })
    );
    assert_eq!(
        held(&app, &giver, &ticket_id).await,
        (Value::Null, "revoked".to_string())
    );
    let (new_code, status) = held(&app, &friend, &ticket_id).await;
    assert_eq!(status, "valid");
    assert_ne!(new_code, old_code);
    let page = app.get(&giver, "/tickets/mine").await.text().await.unwrap();
    assert!(page.contains("Transferred — this code is no longer valid"));

    let old = scan(&app, &door, old_code.as_str().unwrap()).await;
    assert_eq!(
        (old["result"].as_str(), old["reason"].as_str()),
        (Some("revoked"), Some("transferred"))
    );
    assert_eq!(
        scan(&app, &door, new_code.as_str().unwrap()).await["result"],
        "valid"
    );

    app.deliver_mail().await;
    let mail = app.mailbox().await;
    let told = mail
        .iter()
        .find(|m| {
            m.to == friend_email && m.subject == "A ticket for you: Opera <b>night</b> — Standing"
        })
        .expect("the friend is told");
    assert!(told.text.contains(&giver_email));
    assert!(told.html.contains("Opera &lt;b&gt;night&lt;/b&gt;"));

    // The giver holds nothing to give any more.
    assert_eq!(
        transfer(&app, &giver, &ticket_id, "third@example.com")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_ticket_given_to_a_new_address_waits_for_that_account_and_can_be_cancelled() {
    let app = spawn_app().await;
    let (giver, _, ticket_id) = bought_ticket(&app, "Derby").await;
    let friend_email = unique_email();

    let response = transfer(&app, &giver, &ticket_id, &friend_email).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "pending");
    // Until then the giver still holds it, and can neither give it twice nor resell it.
    assert_eq!(held(&app, &giver, &ticket_id).await.1, "valid");
    assert_errors(
        transfer(&app, &giver, &ticket_id, "other@example.com").await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "This ticket is already being transferred; cancel that first" }]),
    )
    .await;
    let resell = app
        .post_json(
            &giver,
            &format!("/api/tickets/{ticket_id}/resell"),
            &json!({ "price": 20 }),
        )
        .await;
    assert_eq!(resell.status(), StatusCode::BAD_REQUEST);
    app.deliver_mail().await;
    let invitation = app
        .mailbox()
        .await
        .into_iter()
        .find(|m| m.to == friend_email && m.subject == "A ticket for you: Derby — Standing")
        .expect("an invitation");
    assert_eq!(
        invitation.link("http"),
        format!(
            "{}/auth/signup?email={}",
            app.address,
            friend_email.replace('@', "%40")
        )
    );

    // Only the giver can cancel it, and not from another site or signed out.
    let (stranger, _) = app.signed_in_user().await;
    let path = format!("/api/tickets/{ticket_id}/transfer");
    let cancel = |client: &Client| client.delete(app.url(&path)).send();
    assert_eq!(
        cancel(&client()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let cross_site = giver
        .delete(app.url(&path))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        cancel(&stranger).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        cancel(&giver).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        cancel(&giver).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    // Given again; the friend signs up with that address and has it at once.
    transfer(&app, &giver, &ticket_id, &friend_email).await;
    let friend = client();
    assert_eq!(
        app.sign_up(&friend, &friend_email, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    assert_eq!(held(&app, &friend, &ticket_id).await.1, "valid");
    assert_eq!(held(&app, &giver, &ticket_id).await.1, "revoked");
}

#[tokio::test]
async fn a_ticket_used_before_its_friend_signs_up_stays_with_the_giver() {
    let app = spawn_app().await;
    let door = staff(&app).await;
    let (giver, _, ticket_id) = bought_ticket(&app, "Gig").await;
    let friend_email = unique_email();
    transfer(&app, &giver, &ticket_id, &friend_email).await;
    let code = held(&app, &giver, &ticket_id).await.0;
    assert_eq!(
        scan(&app, &door, code.as_str().unwrap()).await["result"],
        "valid"
    );
    let friend = client();
    app.sign_up(&friend, &friend_email, PASSWORD).await;
    assert!(
        mine(&app, &friend).await["bought"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(held(&app, &giver, &ticket_id).await.1, "used");
}

#[tokio::test]
async fn transfers_refuse_strangers_listed_or_used_tickets_and_bad_addresses() {
    let app = spawn_app().await;
    let door = staff(&app).await;
    let (giver, giver_email, ticket_id) = bought_ticket(&app, "Gig").await;
    assert_errors(
        transfer(&app, &client(), &ticket_id, "a@example.com").await,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
    let (stranger, _) = app.signed_in_user().await;
    assert_eq!(
        transfer(&app, &stranger, &ticket_id, "a@example.com")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let cross_site = giver
        .post(app.url(&format!("/api/tickets/{ticket_id}/transfer")))
        .header("origin", "https://evil.example")
        .json(&json!({ "email": "a@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert_errors(
        transfer(&app, &giver, &ticket_id, &giver_email).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "You already hold this ticket", "field": "email" }]),
    )
    .await;
    for bad in [
        "<script>@x",
        "a@b\u{0}.c",
        "",
        &format!("{}@example.com", "a".repeat(10_000)),
    ] {
        let response = transfer(&app, &giver, &ticket_id, bad).await;
        assert!(
            [StatusCode::BAD_REQUEST, StatusCode::PAYLOAD_TOO_LARGE].contains(&response.status()),
            "{bad:?}: {}",
            response.status()
        );
    }
    assert_eq!(
        app.post_json(
            &giver,
            &format!("/api/tickets/{ticket_id}/transfer"),
            &json!({})
        )
        .await
        .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        transfer(&app, &giver, "not-an-id", "a@example.com")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    // Listed for resale: refused.
    let (other_giver, _, listed) = bought_ticket(&app, "Listed").await;
    app.post_json(
        &other_giver,
        &format!("/api/tickets/{listed}/resell"),
        &json!({ "price": 20 }),
    )
    .await;
    assert_errors(
        transfer(&app, &other_giver, &listed, "a@example.com").await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "A ticket listed for resale cannot be transferred" }]),
    )
    .await;

    // Used at the door: refused.
    let code = held(&app, &giver, &ticket_id).await.0;
    scan(&app, &door, code.as_str().unwrap()).await;
    assert_errors(
        transfer(&app, &giver, &ticket_id, "a@example.com").await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "This ticket was used at the door" }]),
    )
    .await;
    assert_eq!(held(&app, &giver, &ticket_id).await.1, "used");
}
