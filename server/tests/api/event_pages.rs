//! The pages of events (docs/RULES.md, "Events"): the catalogue on `/`, an event's page with its
//! sections, resale listings, JSON-LD and Open Graph tags, Buy without JavaScript, and the other
//! listings moved to `/tickets`.

use crate::helpers::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const HOSTILE: &str = "</script><script>alert(1)</script>\"'<b>&amp;";

async fn html(app: &TestApp, client: &Client, path: &str) -> String {
    let response = app.get(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

async fn event_json(app: &TestApp, id: &str) -> Value {
    app.get(&client(), &format!("/api/events/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

/// The text of every `<script type="application/ld+json">` element of `page`.
fn json_ld(page: &str) -> Vec<String> {
    let open = "<script type=\"application/ld+json\">";
    page.match_indices(open)
        .map(|(at, _)| {
            let rest = &page[at + open.len()..];
            rest[..rest.find("</script>").expect("closed")].to_string()
        })
        .collect()
}

/// The `content` of the `<meta property="…">` of `page`.
fn meta_property(page: &str, property: &str) -> Option<String> {
    let at = page.find(&format!("property=\"{property}\""))?;
    let tag_start = page[..at].rfind('<')?;
    let tag = &page[tag_start..tag_start + page[tag_start..].find('>')?];
    let content = tag.split("content=\"").nth(1)?;
    Some(content[..content.find('"')?].to_string())
}

#[tokio::test]
async fn the_home_page_shows_published_events_as_cards_and_finds_them_by_words() {
    let app = spawn_app().await;
    let kooks = app.event_on_sale("The Kooks", 35.0, 2).await;
    let gala = app.event_on_sale(&format!("Gala {HOSTILE}"), 12.5, 1).await;
    // A draft stays off the page.
    let draft = app
        .post_json(
            &kooks.organiser,
            "/api/events",
            &json!({
                "name": "Secret Draft Show", "venue": "Hall", "timeZone": "Europe/London",
                "startsAt": "2030-06-01T19:30",
                "sections": [{ "name": "Standing", "price": 5, "capacity": 1 }]
            }),
        )
        .await;
    assert_eq!(draft.status(), StatusCode::CREATED);

    let visitor = client();
    let home = html(&app, &visitor, "/").await;
    assert!(home.contains("Upcoming events"), "{home}");
    assert!(home.contains(">The Kooks</a>"));
    assert!(home.contains("href=\"/events/the-kooks-2030-06-01\""));
    // On the venue's clock (British Summer Time in June).
    assert!(home.contains("Sat 1 Jun 2030, 19:30 BST"), "{home}");
    assert!(home.contains("Hall, Leeds"));
    assert!(home.contains("from $35.00"));
    assert!(!home.contains("Secret Draft Show"));
    // Hostile names are text, never markup.
    assert!(!home.contains("<script>alert(1)"));
    assert!(home.contains("Gala &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
    // No image yet: a plain placeholder, never a broken image.
    assert!(home.contains("card-image placeholder"));
    assert!(!home.contains("<img"));

    let found = html(&app, &visitor, "/?q=kooks").await;
    assert!(found.contains(">The Kooks</a>") && !found.contains("Gala"));
    let leeds = html(&app, &visitor, "/?q=leeds&category=concert").await;
    assert!(leeds.contains(">The Kooks</a>") && leeds.contains("Gala"));
    let none = html(&app, &visitor, "/?q=nothing-like-it").await;
    assert!(none.contains("No upcoming events match"));
    // The days are the venue's: 1 June 2030 is in range, 2 June is not.
    let day = html(&app, &visitor, "/?from=2030-06-01&to=2030-06-01").await;
    assert!(day.contains(">The Kooks</a>"));
    let later = html(&app, &visitor, "/?from=2030-06-02").await;
    assert!(!later.contains(">The Kooks</a>"));
    // A bad filter is said on the page, not a failure.
    let bad = app.get(&visitor, "/?when=someday&from=tomorrow").await;
    let bad = bad.text().await.unwrap();
    assert!(
        bad.contains("When must be today, weekend or month"),
        "{bad}"
    );

    // Sold out: the card says so, and names the resale price once there is one.
    let (buyer, _) = app.signed_in_user().await;
    let order = app.buy_seat(&buyer, &gala.section_id).await;
    let home = html(&app, &visitor, "/?q=gala").await;
    assert!(
        home.contains("Sold out") && !home.contains("Resale from"),
        "{home}"
    );
    let ticket = order["ticket"]["id"].as_str().unwrap();
    let resold = app
        .post_json(
            &buyer,
            &format!("/api/tickets/{ticket}/resell"),
            &json!({ "price": 11 }),
        )
        .await;
    assert_eq!(resold.status(), StatusCode::CREATED, "resell");
    let home = html(&app, &visitor, "/?q=gala").await;
    assert!(home.contains("Resale from $11.00"), "{home}");
}

#[tokio::test]
async fn an_event_page_shows_its_sections_resale_and_escaped_metadata() {
    let app = spawn_app().await;
    let name = format!("Gig {HOSTILE}");
    let gig = app.event_on_sale(&name, 30.0, 3).await;
    let event = event_json(&app, &gig.event_id).await;
    let slug = event["slug"].as_str().unwrap().to_string();
    let path = format!("/events/{slug}");

    let visitor = client();
    let page = html(&app, &visitor, &path).await;
    assert!(page.contains("Gig &lt;/script&gt;"), "{page}");
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("3 left"));
    assert!(page.contains("Sign in to buy"));
    assert!(page.contains("No resale tickets on sale."));

    // JSON-LD: one element, which the hostile name cannot close, and which says the event.
    let scripts = json_ld(&page);
    assert_eq!(scripts.len(), 1, "{page}");
    let ld: Value = serde_json::from_str(&scripts[0]).expect("JSON-LD parses");
    assert_eq!(ld["@type"], "Event");
    assert_eq!(ld["name"], name);
    assert_eq!(ld["startDate"], "2030-06-01T19:30:00.000+01:00");
    assert_eq!(ld["location"]["name"], "Hall");
    assert_eq!(ld["offers"][0]["price"], "30.00");
    assert_eq!(
        ld["offers"][0]["availability"],
        "https://schema.org/InStock"
    );
    // Open Graph: the name escaped in the attribute.
    let title = meta_property(&page, "og:title").expect("og:title");
    assert!(!title.contains('<') && !title.contains('"'), "{title}");
    assert!(title.contains("&lt;/script&gt;"), "{title}");
    assert!(
        meta_property(&page, "og:url")
            .unwrap()
            .ends_with(&format!("/events/{slug}"))
    );

    // Sold out, with two resale listings, the cheaper first.
    let mut tickets = Vec::new();
    for _ in 0..3 {
        let (buyer, _) = app.signed_in_user().await;
        let order = app.buy_seat(&buyer, &gig.section_id).await;
        tickets.push((buyer, order["ticket"]["id"].as_str().unwrap().to_string()));
    }
    for ((holder, ticket), price) in tickets.iter().take(2).zip([33, 31]) {
        let resold = app
            .post_json(
                holder,
                &format!("/api/tickets/{ticket}/resell"),
                &json!({ "price": price }),
            )
            .await;
        assert_eq!(resold.status(), StatusCode::CREATED);
    }
    let page = html(&app, &visitor, &path).await;
    assert!(page.contains("Sold out"), "{page}");
    assert!(!page.contains("Buy —"));
    let (cheap, dear) = (page.find("$31.00").unwrap(), page.find("$33.00").unwrap());
    assert!(cheap < dear, "cheapest resale listing first");
    let ld: Value = serde_json::from_str(&json_ld(&page)[0]).unwrap();
    assert_eq!(
        ld["offers"][0]["availability"],
        "https://schema.org/SoldOut"
    );

    // Cancelled: said on the page with its reason, escaped.
    let cancelled = app
        .post_json(
            &gig.organiser,
            &format!("/api/events/{}/cancel", gig.event_id),
            &json!({ "reason": "Storm <b>damage</b>" }),
        )
        .await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    let page = html(&app, &visitor, &path).await;
    assert!(
        page.contains("Cancelled: Storm &lt;b&gt;damage&lt;/b&gt;"),
        "{page}"
    );
    let ld: Value = serde_json::from_str(&json_ld(&page)[0]).unwrap();
    assert_eq!(ld["eventStatus"], "https://schema.org/EventCancelled");
}

#[tokio::test]
async fn a_draft_page_is_its_organisers_and_unknown_events_are_not_found() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Opening Night", 20.0, 1).await;
    let draft = app
        .post_json(
            &gig.organiser,
            "/api/events",
            &json!({
                "name": "Draft Night", "venue": "Hall", "timeZone": "Europe/London",
                "startsAt": "2030-06-02T19:30",
                "sections": [{ "name": "Standing", "price": 5, "capacity": 1 }]
            }),
        )
        .await;
    let draft: Value = draft.json().await.unwrap();
    let path = format!("/events/{}", draft["slug"].as_str().unwrap());
    let own = html(&app, &gig.organiser, &path).await;
    assert!(
        own.contains("A draft: only you and admins can see it"),
        "{own}"
    );
    assert!(own.contains(&format!("/organise/{}", draft["id"].as_str().unwrap())));
    let (stranger, _) = app.signed_in_user().await;
    for who in [&stranger, &client()] {
        let response = app.get(who, &path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    for path in [
        "/events/no-such-event",
        "/events/%3Cscript%3E",
        "/events/A-B",
    ] {
        let response = app.get(&client(), path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn buy_on_the_event_page_works_without_javascript() {
    let app = spawn_app().await;
    let gig = app.event_on_sale("Matinee", 18.0, 1).await;
    let slug = event_json(&app, &gig.event_id).await["slug"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/events/{slug}");
    let (buyer, _) = app.signed_in_user().await;
    let page = html(&app, &buyer, &path).await;
    assert!(page.contains("Buy — $18.00"), "{page}");
    assert!(page.contains(&format!("name=\"section_id\" value=\"{}\"", gig.section_id)));
    let post = |who: &Client, price: &str| {
        who.post(app.url("/_fn/reserve_seat"))
            .header("accept", "text/html,application/xhtml+xml")
            .header("referer", app.url(&path))
            .form(&[("section_id", gig.section_id.as_str()), ("price", price)])
            .send()
    };
    // A price the page no longer shows is refused and said on the page.
    let stale = post(&buyer, "17.00").await.unwrap();
    assert!(stale.status().is_redirection());
    let back = stale.headers()["location"].to_str().unwrap().to_string();
    let back = back.trim_start_matches(&app.url("")).to_string();
    assert!(back.starts_with(&path), "{back}");
    let said = html(&app, &buyer, &back).await;
    assert!(
        said.contains("The price of this ticket has changed"),
        "{said}"
    );

    let bought = post(&buyer, "18.00").await.unwrap();
    assert!(bought.status().is_redirection());
    let order_page = bought.headers()["location"].to_str().unwrap().to_string();
    assert!(order_page.starts_with("/orders/"), "{order_page}");
    let page = html(&app, &buyer, &path).await;
    assert!(page.contains("Sold out"));

    // Signed out, from another site: refused, nothing reserved.
    let (late, _) = app.signed_in_user().await;
    let refused = late
        .post(app.url("/_fn/reserve_seat"))
        .header("origin", "https://evil.example")
        .form(&[("section_id", gig.section_id.as_str()), ("price", "18.00")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let anonymous = client()
        .post(app.url("/_fn/reserve_seat"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("referer", app.url(&path))
        .form(&[("section_id", gig.section_id.as_str()), ("price", "18.00")])
        .send()
        .await
        .unwrap();
    assert!(anonymous.status().is_redirection());
    let orders: Value = app.get(&late, "/api/orders").await.json().await.unwrap();
    assert_eq!(orders.as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn other_listings_move_to_their_own_page_and_event_resale_is_found_by_event() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    app.create_ticket(
        &seller,
        &json!({ "title": "Elsewhere Festival", "price": 40, "category": "concert" }),
    )
    .await;
    let gig = app.event_on_sale("Local Derby", 25.0, 1).await;
    let (holder, _) = app.signed_in_user().await;
    let order = app.buy_seat(&holder, &gig.section_id).await;
    let ticket = order["ticket"]["id"].as_str().unwrap();
    let resold = app
        .post_json(
            &holder,
            &format!("/api/tickets/{ticket}/resell"),
            &json!({ "price": 24 }),
        )
        .await;
    assert_eq!(resold.status(), StatusCode::CREATED);

    let visitor = client();
    let other = html(&app, &visitor, "/tickets").await;
    assert!(other.contains("Other listings") && other.contains("Elsewhere Festival"));
    assert!(
        !other.contains("Local Derby"),
        "an event's resale is on its page"
    );
    let home = html(&app, &visitor, "/").await;
    assert!(
        home.contains("href=\"/tickets\""),
        "the header links to other listings"
    );

    let titles = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_string())
            .collect()
    };
    let all: Value = app
        .get(&visitor, "/api/tickets")
        .await
        .json()
        .await
        .unwrap();
    let all = titles(&all);
    assert!(all.contains(&"Elsewhere Festival".to_string()));
    assert!(
        all.contains(&"Local Derby — Standing".to_string()),
        "{all:?}"
    );
    let of_event: Value = app
        .get(&visitor, &format!("/api/tickets?eventId={}", gig.event_id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&of_event), ["Local Derby — Standing"]);
    assert_eq!(of_event[0]["eventId"], gig.event_id.as_str());
    assert_eq!(of_event[0]["primary"], false);
    let bad = app.get(&visitor, "/api/tickets?eventId=%3Cb%3E").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["errors"][0]["field"], "eventId", "{bad}");
}

#[tokio::test]
async fn a_buyer_sees_their_seat_on_their_tickets_and_the_ticket_page() {
    let app = spawn_app().await;
    let (organiser, email, _) = app.verified_user().await;
    app.grant(&email, app::domain::role::Role::Organiser).await;
    let created = app
        .post_json(
            &organiser,
            "/api/events",
            &json!({
                "name": "Seated Show", "venue": "Hall", "timeZone": "Europe/London",
                "startsAt": "2030-06-01T19:30",
                "sections": [{ "name": "Circle", "price": 25,
                    "seating": { "rows": [{ "label": "A", "seats": 2 }] } }]
            }),
        )
        .await;
    let event: Value = created.json().await.unwrap();
    let id = event["id"].as_str().unwrap();
    app.post_json(&organiser, &format!("/api/events/{id}/publish"), &json!({}))
        .await;
    let (buyer, _) = app.signed_in_user().await;
    let order = app
        .buy_seat(&buyer, event["sections"][0]["id"].as_str().unwrap())
        .await;
    let mine = html(&app, &buyer, "/tickets/mine").await;
    assert!(mine.contains("Row A, Seat 1"), "{mine}");
    let ticket = html(
        &app,
        &buyer,
        &format!("/tickets/{}", order["ticket"]["id"].as_str().unwrap()),
    )
    .await;
    assert!(ticket.contains("Row A, Seat 1"), "{ticket}");
}
