//! Safe on the open internet: hostile text is never markup, pages run only their own scripts,
//! refusals keep their status on every route, one account cannot hoard the inventory, text is
//! normalised, payments survive dropped connections and crashes, writes survive storage
//! faults, and slow or idle clients cannot starve the server.

use crate::helpers::*;
use crate::recorded_stripe::gated_stripe;
use app::domain::{Charge, ChargeStatus, Id, OrderStatus};
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

/// Strings that would run script if any page printed them as markup.
const HOSTILE: [&str; 5] = [
    "</title><script>window.pwned=1</script>",
    "\"><img src=x onerror=window.pwned=2>",
    "</script><script>window.pwned=3</script>",
    "<svg onload=window.pwned=4>",
    "' onmouseover='window.pwned=5",
];

/// A page as a browser gets it, with the policy it was sent with.
async fn page(app: &TestApp, client: &Client, path: &str) -> (String, String) {
    let response = app.get(client, path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let policy = response
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (response.text().await.unwrap(), policy)
}

/// Asserts that no hostile string appears as markup and that every script on the page carries
/// the nonce its policy names (and the policy allows no other inline script).
fn assert_inert(html: &str, policy: &str, path: &str) {
    // Escaped text may keep quotes (harmless outside a tag); a quote that closes an attribute
    // or a `<` that opens a tag may never survive.
    for markup in [
        "<script>window.pwned",
        "<img src=x",
        "\"><img",
        "<svg onload",
        "</title><script>",
    ] {
        assert!(!html.contains(markup), "{path} prints {markup:?} as markup");
    }
    let script_src = policy
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or_else(|| panic!("{path}: no script-src in {policy:?}"));
    assert!(!script_src.contains("'unsafe-inline'"), "{path}: {policy}");
    let nonce = script_src
        .split_whitespace()
        .find_map(|s| s.strip_prefix("'nonce-")?.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{path}: no nonce in {policy:?}"));
    let scripts = html.matches("<script").count();
    assert!(scripts > 0, "{path} hydrates");
    let carrying = html
        .split("<script")
        .skip(1)
        .filter(|tag| {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            tag.contains(&format!(" nonce=\"{nonce}\""))
        })
        .count();
    assert_eq!(
        carrying, scripts,
        "{path}: every script carries this response's nonce"
    );
}

#[tokio::test]
async fn hostile_text_in_every_field_is_shown_as_text_on_every_page() {
    let app = spawn_app_with(|config| config.max_live_orders = 0).await;
    let (seller, _) = app.signed_in_user().await;
    let (buyer, _) = app.signed_in_user().await;
    let mut tickets = Vec::new();
    for (i, hostile) in HOSTILE.iter().enumerate() {
        let ticket = app
            .create_ticket(
                &seller,
                &json!({ "title": hostile, "venue": hostile, "price": 10 + i }),
            )
            .await;
        assert_eq!(ticket["title"], json!(hostile), "stored exactly as typed");
        tickets.push(ticket["id"].as_str().unwrap().to_string());
    }
    // The buyer reserves one and pays for another, so their pages show them too.
    let reserved: Value = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": tickets[0] }))
        .await
        .json()
        .await
        .unwrap();
    let paid: Value = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": tickets[1] }))
        .await
        .json()
        .await
        .unwrap();
    let payment = app
        .post_json(
            &buyer,
            "/api/payments",
            &json!({ "orderId": paid["id"], "token": "tok_visa" }),
        )
        .await;
    assert_eq!(payment.status(), StatusCode::CREATED);

    // The account page lists each signed-in browser as it named itself.
    let (named, named_email) = app.signed_in_user().await;
    let hostile_browser = Client::builder()
        .cookie_store(true)
        .user_agent(HOSTILE.join(" "))
        .build()
        .unwrap();
    let signed_in = app.sign_in(&hostile_browser, &named_email, PASSWORD).await;
    assert_eq!(signed_in.status(), StatusCode::OK);

    let mut pages: Vec<(&Client, String)> = vec![
        (&named, "/account".to_string()),
        (&seller, "/".to_string()),
        (&seller, "/tickets".to_string()),
        (&seller, "/tickets?q=window".to_string()),
        (&seller, "/tickets/mine".to_string()),
        (&buyer, "/orders".to_string()),
        (
            &buyer,
            format!("/orders/{}", reserved["id"].as_str().unwrap()),
        ),
        (&buyer, format!("/orders/{}", paid["id"].as_str().unwrap())),
        (&buyer, "/tickets/mine".to_string()),
        (&seller, "/payouts".to_string()),
        (&buyer, "/check-in".to_string()),
    ];
    for id in &tickets {
        pages.push((&seller, format!("/tickets/{id}")));
        pages.push((&buyer, format!("/tickets/{id}")));
    }
    // The console shows the same text, and reasons an admin typed.
    let (admin, admin_email) = app.signed_in_user().await;
    app.grant(&admin_email, app::domain::role::Role::Admin)
        .await;
    let taken_down = app
        .post_json(
            &admin,
            &format!("/api/admin/tickets/{}/takedown", tickets[2]),
            &json!({ "reason": HOSTILE[0] }),
        )
        .await;
    assert_eq!(taken_down.status(), StatusCode::OK);
    for path in [
        "/admin",
        "/admin/listings",
        "/admin/listings?q=%3Cscript%3Ewindow",
        "/admin/users",
        "/admin/users?q=%22%3E%3Cimg",
        "/admin/orders",
        "/admin/payouts",
        "/admin/audit",
    ] {
        pages.push((&admin, path.to_string()));
    }
    for (client, path) in pages {
        let (html, policy) = page(&app, client, &path).await;
        assert_inert(&html, &policy, &path);
    }
    // The title in <head> is escaped text, not the end of the title element.
    let (html, _) = page(&app, &buyer, &format!("/tickets/{}", tickets[0])).await;
    assert!(
        html.contains(
            "<title>&lt;/title&gt;&lt;script&gt;window.pwned=1&lt;/script&gt; · Ticketing</title>"
        ),
        "{}",
        &html[..html.len().min(2000)]
    );
}

#[tokio::test]
async fn each_page_gets_a_fresh_nonce_and_other_html_runs_no_inline_script() {
    let app = spawn_app().await;
    let nonce = |policy: String| {
        policy
            .split_whitespace()
            .find(|s| s.starts_with("'nonce-"))
            .map(str::to_string)
    };
    let (_, first) = page(&app, &client(), "/auth/signin").await;
    let (_, second) = page(&app, &client(), "/auth/signin").await;
    assert!(nonce(first.clone()).is_some(), "{first}");
    assert_ne!(nonce(first), nonce(second), "a nonce is used once");
    // The 404 page is rendered too, with its own nonce.
    let response = app.get(&client(), "/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = response.text().await.unwrap();
    assert_inert(&html, &policy, "/no/such/page");
}

#[tokio::test]
async fn an_error_link_the_server_did_not_make_is_not_shown() {
    let app = spawn_app().await;
    let planted =
        base64_url_safe(r#"{"errors":[{"message":"Your account is locked: call +1 555 0100"}]}"#);
    let path = format!("/auth/signin?__path=%2F_fn%2Fsign_in&__err={planted}");
    let response = app.get(&client(), &path).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/auth/signin");
    let forged_sig = format!("{path}&__sig=99999999999.00ff");
    let response = app.get(&client(), &forged_sig).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a made-up signature"
    );

    // The server's own error links are shown.
    let location = app.refused_sign_in().await;
    let (html, _) = page(&app, &client(), &location).await;
    assert!(html.contains("Invalid credentials"));
    // Its message cannot be swapped for another under the same signature.
    let swapped = location.replace(
        location
            .split("__err=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap(),
        &planted,
    );
    let response = app
        .get(&client(), swapped.trim_start_matches(&app.address))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// The page reads its address decoded, so the check of an error link does too: a key spelled
/// with escapes, or a second `__err` after a real signed one, is refused like a forged link.
#[tokio::test]
async fn an_error_link_spelled_otherwise_or_given_twice_is_not_shown() {
    let app = spawn_app().await;
    let message = "Your account is locked: call +1 555 0100";
    let planted = base64_url_safe(&format!(r#"{{"errors":[{{"message":"{message}"}}]}}"#));
    for path in [
        format!("/auth/signin?%5F%5Ferr={planted}"),
        format!("/auth/signin?__path=%2F_fn%2Fsign_in&%5F%5Ferr={planted}"),
        format!("/auth/signin?__path=%2F_fn%2Fsign_in&__%65rr={planted}"),
    ] {
        let response = app.get(&client(), &path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()["location"], "/auth/signin", "{path}");
    }

    // A real error link with another message appended.
    let location = app.refused_sign_in().await;
    let (html, _) = page(&app, &client(), &location).await;
    assert!(html.contains("Invalid credentials"), "the real link works");
    for appended in [
        format!("{location}&__err={planted}"),
        format!("{location}&%5F%5Ferr={planted}"),
        format!("{location}&__sig=1.00"),
        format!("{location}&__path=%2F_fn%2Fsign_up"),
    ] {
        let response = app.get(&client(), &appended).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{appended}");
        assert_eq!(response.headers()["location"], "/auth/signin");
    }
}

/// URL-safe base64 as server functions put errors into addresses.
fn base64_url_safe(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = text.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        for _ in chunk.len()..3 {
            out.push('=');
        }
    }
    out.replace('=', "%3D")
}

/// Who calls, with what form, and the status and errors they get back.
type Refusal<'a> = (&'a Client, &'a [(&'a str, &'a str)], StatusCode, Value);

/// A server function called as the hydrated app calls it (no `text/html` in `Accept`).
async fn call_fn(
    app: &TestApp,
    client: &Client,
    name: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(app.url(&format!("/_fn/{name}")))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn server_function_refusals_keep_their_status_and_the_envelope() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Opera", "price": 40 }))
        .await;
    let ticket_id = ticket["id"].as_str().unwrap();

    let (stranger, _) = app.signed_in_user().await;
    let anonymous = client();
    let refusals: [Refusal; 3] = [
        (
            &anonymous,
            &[("ticket_id", ticket_id), ("price", "40")],
            StatusCode::UNAUTHORIZED,
            json!([{ "message": "Not authorized" }]),
        ),
        (
            &seller,
            &[("ticket_id", ticket_id), ("price", "40")],
            StatusCode::BAD_REQUEST,
            json!([{ "message": "You cannot buy your own ticket" }]),
        ),
        (
            &stranger,
            &[("ticket_id", ticket_id), ("price", "39")],
            StatusCode::CONFLICT,
            json!([{ "message": "The price of this ticket has changed", "field": "price" }]),
        ),
    ];
    for (who, form, status, errors) in refusals {
        let response = call_fn(&app, who, "reserve_ticket", form).await;
        assert_errors(response, status, errors).await;
    }

    let unknown = call_fn(
        &app,
        &seller,
        "get_ticket",
        &[("id", "0190b5e4-0000-7000-8000-000000000000")],
    )
    .await;
    assert_errors(
        unknown,
        StatusCode::NOT_FOUND,
        json!([{ "message": "Not found" }]),
    )
    .await;

    let (other, _) = app.signed_in_user().await;
    let edit = call_fn(
        &app,
        &other,
        "edit_ticket",
        &[("id", ticket_id), ("title", "Mine now"), ("price", "1")],
    )
    .await;
    assert_errors(
        edit,
        StatusCode::FORBIDDEN,
        json!([{ "message": "Forbidden" }]),
    )
    .await;

    let nul = call_fn(
        &app,
        &seller,
        "list_ticket",
        &[("title", "Null\0byte"), ("price", "5")],
    )
    .await;
    assert_errors(
        nul,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Title must not contain control or invisible characters", "field": "title" }]),
    )
    .await;

    let missing = call_fn(&app, &seller, "list_ticket", &[("price", "5")]).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);

    let nowhere = call_fn(&app, &seller, "no_such_function", &[]).await;
    assert_errors(
        nowhere,
        StatusCode::NOT_FOUND,
        json!([{ "message": "Not found" }]),
    )
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_413_in_the_envelope_on_every_route() {
    let app = spawn_app().await;
    // Forms to the server functions stop at 64 KiB, well below the 2 MiB default.
    let sign_in_with = |size: usize| {
        client()
            .post(app.url("/_fn/sign_in"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("email={}&password=x", "x".repeat(size)))
            .send()
    };
    let over = sign_in_with(100 * 1024).await.unwrap();
    assert_errors(
        over,
        StatusCode::PAYLOAD_TOO_LARGE,
        json!([{ "message": "Request body is too large" }]),
    )
    .await;
    let under = sign_in_with(60 * 1024).await.unwrap();
    assert_ne!(
        under.status(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "60 KiB is read"
    );
    assert!(under.status().is_client_error(), "{}", under.status());

    let big = "x".repeat(2 * 1024 * 1024);
    let form = client()
        .post(app.url("/_fn/sign_in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email={big}&password=x"))
        .send()
        .await
        .unwrap();
    assert_errors(
        form,
        StatusCode::PAYLOAD_TOO_LARGE,
        json!([{ "message": "Request body is too large" }]),
    )
    .await;

    // Without a declared length too (chunked), as a streaming client would send it.
    let chunks =
        futures::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 32 * 1024])));
    let streamed = client()
        .post(app.url("/_fn/sign_in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await
        .unwrap();
    assert_errors(
        streamed,
        StatusCode::PAYLOAD_TOO_LARGE,
        json!([{ "message": "Request body is too large" }]),
    )
    .await;

    let webhook = client()
        .post(app.url("/api/webhooks/stripe"))
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_errors(
        webhook,
        StatusCode::PAYLOAD_TOO_LARGE,
        json!([{ "message": "Request body is too large" }]),
    )
    .await;

    let api = client()
        .post(app.url("/api/tickets"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_errors(
        api,
        StatusCode::PAYLOAD_TOO_LARGE,
        json!([{ "message": "Request body is too large" }]),
    )
    .await;
}

async fn listed(app: &TestApp, seller: &Client, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let ticket = app
            .create_ticket(
                seller,
                &json!({ "title": format!("Seat {i}"), "price": 25 }),
            )
            .await;
        ids.push(ticket["id"].as_str().unwrap().to_string());
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_buyer_holds_at_most_four_reservations_even_when_racing() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let tickets = listed(&app, &seller, 12).await;
    let (buyer, _) = app.signed_in_user().await;
    let responses = join_all(tickets.iter().map(|id| {
        let (app, buyer) = (&app, &buyer);
        async move {
            app.post_json(buyer, "/api/orders", &json!({ "ticketId": id }))
                .await
        }
    }))
    .await;
    let mut won = Vec::new();
    for response in responses {
        match response.status() {
            StatusCode::CREATED => won.push(response.json::<Value>().await.unwrap()),
            _ => {
                assert_errors(
                    response,
                    StatusCode::BAD_REQUEST,
                    json!([{ "message": "You already hold the most reservations allowed" }]),
                )
                .await
            }
        }
    }
    assert_eq!(won.len(), 4, "MAX_LIVE_ORDERS defaults to 4");
    // Letting one go makes room for another.
    let cancel = client_delete(
        &app,
        &buyer,
        &format!("/api/orders/{}", won[0]["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(cancel, StatusCode::NO_CONTENT);
    let free = tickets
        .iter()
        .find(|id| won.iter().all(|o| o["ticket"]["id"] != json!(id)))
        .unwrap();
    let again = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": free }))
        .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    // Others are not affected.
    let (other, _) = app.signed_in_user().await;
    let theirs = app
        .post_json(
            &other,
            "/api/orders",
            &json!({ "ticketId": won[0]["ticket"]["id"] }),
        )
        .await;
    assert_eq!(theirs.status(), StatusCode::CREATED);
}

async fn client_delete(app: &TestApp, client: &Client, path: &str) -> StatusCode {
    client.delete(app.url(path)).send().await.unwrap().status()
}

#[tokio::test]
async fn reservations_are_rate_limited_per_account() {
    let app = spawn_app_with(|config| {
        config.order_rate_limit = 3;
        config.max_live_orders = 0;
    })
    .await;
    let (seller, _) = app.signed_in_user().await;
    let tickets = listed(&app, &seller, 5).await;
    let (buyer, _) = app.signed_in_user().await;
    for id in &tickets[..3] {
        let response = app
            .post_json(&buyer, "/api/orders", &json!({ "ticketId": id }))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let fourth = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": tickets[3] }))
        .await;
    assert_errors(
        fourth,
        StatusCode::TOO_MANY_REQUESTS,
        json!([{ "message": "Too many attempts, please wait a minute and try again" }]),
    )
    .await;
    let page_form = call_fn(
        &app,
        &buyer,
        "reserve_ticket",
        &[("ticket_id", &tickets[3]), ("price", "25")],
    )
    .await;
    assert_eq!(
        page_form.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the page's form too"
    );
    let (other, _) = app.signed_in_user().await;
    let response = app
        .post_json(&other, "/api/orders", &json!({ "ticketId": tickets[4] }))
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "another account is not limited"
    );
}

#[tokio::test]
async fn lookalike_emails_are_one_account_or_refused() {
    let app = spawn_app().await;
    let created = app.sign_up(&client(), "ada@example.com", PASSWORD).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    for same in ["ａｄａ@ｅｘａｍｐｌｅ．ｃｏｍ", "ADA@Example.com"] {
        let response = app.sign_up(&client(), same, PASSWORD).await;
        assert_errors(
            response,
            StatusCode::BAD_REQUEST,
            json!([{ "message": "Email already in use", "field": "email" }]),
        )
        .await;
        let signed_in = app.sign_in(&client(), same, PASSWORD).await;
        assert_eq!(
            signed_in.status(),
            StatusCode::OK,
            "{same} is ada@example.com"
        );
    }
    for lookalike in [
        "ada@ex\u{430}mple.com",
        "\u{430}da@example.com",
        "ada\u{200B}@example.com",
        "ada@example.com\u{202E}",
        "a\u{AD}da@example.com",
    ] {
        let response = app.sign_up(&client(), lookalike, PASSWORD).await;
        assert_errors(
            response,
            StatusCode::BAD_REQUEST,
            json!([{ "message": "Email is not valid", "field": "email" }]),
        )
        .await;
    }
}

#[tokio::test]
async fn control_and_bidi_characters_and_overprecise_prices_are_field_errors() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let response = app
        .post_json(
            &seller,
            "/api/tickets",
            &json!({ "title": "Ok\u{202E}kO", "venue": "Hall\u{7}", "price": 10.000000001 }),
        )
        .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([
            { "message": "Title must not contain control or invisible characters", "field": "title" },
            { "message": "Price must have at most 2 decimals", "field": "price" },
            { "message": "Venue must not contain control or invisible characters", "field": "venue" },
        ]),
    )
    .await;
    // Text is stored composed (NFC): two spellings of one title are one title.
    let ticket = app
        .create_ticket(
            &seller,
            &json!({ "title": "Cafe\u{301} Tacuba", "price": 10 }),
        )
        .await;
    assert_eq!(ticket["title"], "Café Tacuba");
    let huge = app
        .post_json(
            &seller,
            "/api/tickets",
            &json!({ "title": "x".repeat(10_000), "price": 1e300 }),
        )
        .await;
    assert_eq!(huge.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_form_posted_from_the_other_scheme_is_cross_site() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let other_scheme = app.address.replacen("http://", "https://", 1);
    let response = client
        .post(app.url("/api/users/signout"))
        .header("origin", other_scheme)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        app.current_user(&client).await.is_object(),
        "still signed in"
    );
}

#[tokio::test]
async fn writes_heal_once_the_write_connection_can_write_again() {
    if on_postgres() {
        // SQLite's one write connection is what can get stuck; PostgreSQL's pool replaces a
        // broken connection by itself.
        return;
    }
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    // The state the write connection is in when SQLite reopened it while the file was
    // unwritable: it can only read.
    sqlx::query("PRAGMA query_only = ON")
        .execute(&app.state.db.write)
        .await
        .unwrap();
    let response = app
        .post_json(
            &seller,
            "/api/tickets",
            &json!({ "title": "After the fault", "price": 5 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "no restart needed");
}

/// The server copies SQLite's write-ahead log into the database from a reader, so the one
/// write connection never stops a commit to do it: not the first connection, nor one that
/// replaces it after a fault.
#[tokio::test]
async fn the_write_connection_leaves_copying_the_log_to_a_reader() {
    if on_postgres() {
        return;
    }
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let setting = |pool: sqlx::AnyPool| async move {
        let value: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&pool)
            .await
            .unwrap();
        value
    };
    assert_eq!(setting(app.state.db.write.clone()).await, 0);
    assert_eq!(setting(app.state.db.read.clone()).await, 1000);

    // A fault replaces the write connection (as in the test above); the new one copies
    // nothing either.
    sqlx::query("PRAGMA query_only = ON")
        .execute(&app.state.db.write)
        .await
        .unwrap();
    for n in 0..20 {
        let listed = app
            .post_json(
                &seller,
                "/api/tickets",
                &json!({ "title": format!("Logged seat {n}"), "price": 5 }),
            )
            .await;
        assert_eq!(listed.status(), StatusCode::CREATED);
    }
    assert_eq!(setting(app.state.db.write.clone()).await, 0);

    // What was written is in the log, and a reader copies it (all but what a reader still
    // looking at an older state holds back).
    let (log, copied) = app.state.db.copy_log().await.unwrap();
    assert!(log > 0, "the writes are in the log");
    assert!(
        copied > 0 && copied <= log,
        "{copied} of {log} pages copied"
    );
}

// ---- payments that outlive their request ----

/// The app paying through a recording Stripe whose payment calls wait at the gate.
async fn spawn_with_gated_stripe() -> (
    TestApp,
    crate::recorded_stripe::Recorder,
    std::sync::Arc<crate::recorded_stripe::Gate>,
) {
    let (base, recorder, gate) = gated_stripe().await;
    let app = spawn_app_with(|config| {
        config.stripe_secret_key = Some("sk_test_recorded".into());
        config.stripe_api_base = Some(base.clone());
    })
    .await;
    (app, recorder, gate)
}

/// How many payments the provider was asked to make.
fn payment_calls(recorder: &crate::recorded_stripe::Recorder) -> usize {
    recorder
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path == "/v1/payment_intents")
        .count()
}

async fn order_status(app: &TestApp, buyer: &Client, order_id: &str) -> Value {
    app.get_json::<Value>(buyer, &format!("/api/orders/{order_id}"))
        .await["status"]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_completes_even_when_the_buyer_hangs_up_mid_request() {
    let (app, recorder, gate) = spawn_with_gated_stripe().await;
    let (buyer, order) = app.reserved_order().await;
    let order_id = order["id"].as_str().unwrap().to_string();
    let request = tokio::spawn({
        let (buyer, url) = (buyer.clone(), app.url("/api/payments"));
        let body = json!({ "orderId": order_id, "token": "pm_card_visa" });
        async move { buyer.post(url).json(&body).send().await }
    });
    gate.arrived.notified().await;
    // The money is on its way; the buyer's connection drops.
    request.abort();
    let _ = request.await;
    gate.release.add_permits(1);
    app.state.payments.settle_all().await;
    assert_eq!(order_status(&app, &buyer, &order_id).await, "complete");
    let charges = app.charges_of(&order_id).await;
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0].status, ChargeStatus::Completed);
    assert_eq!(payment_calls(&recorder), 1, "the provider was asked once");
    // A retry now is told the truth instead of "in progress".
    let retry = app
        .post_json(
            &buyer,
            "/api/payments",
            &json!({ "orderId": order_id, "token": "pm_card_visa" }),
        )
        .await;
    assert_errors(
        retry,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Order is already paid" }]),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_while_the_payment_is_in_flight_waits_for_it() {
    let (app, recorder, gate) = spawn_with_gated_stripe().await;
    let (buyer, order) = app.reserved_order().await;
    let order_id = order["id"].as_str().unwrap().to_string();
    let body = json!({ "orderId": order_id, "token": "pm_card_visa" });
    let first = tokio::spawn({
        let (buyer, url, body) = (buyer.clone(), app.url("/api/payments"), body.clone());
        async move { buyer.post(url).json(&body).send().await.unwrap().status() }
    });
    gate.arrived.notified().await;
    let second = tokio::spawn({
        let (buyer, url, body) = (buyer.clone(), app.url("/api/payments"), body.clone());
        async move { buyer.post(url).json(&body).send().await.unwrap().status() }
    });
    gate.release.add_permits(1);
    assert_eq!(first.await.unwrap(), StatusCode::CREATED);
    let second = second.await.unwrap();
    assert!(
        second == StatusCode::CREATED || second == StatusCode::BAD_REQUEST,
        "joined the payment, or found it paid: {second}"
    );
    assert_eq!(payment_calls(&recorder), 1, "one call to the provider");
    assert_eq!(order_status(&app, &buyer, &order_id).await, "complete");
}

/// What a crash right after recording a charge leaves: the charge `created` with its payment
/// token, the order awaiting payment, and no answer from the provider recorded.
async fn strand_a_charge(app: &TestApp, order_id: &str, token: &str) -> Charge {
    use app::ssr::storage::{charges, orders};
    let id = Id::parse(order_id).unwrap();
    let mut tx = app.state.db.begin_write().await.unwrap();
    let stored = orders::find_order(&mut tx, &id).await.unwrap().unwrap();
    let now = app.clock.now();
    let charge = Charge::for_order(app::ssr::clock::new_id(), &stored, "usd", now);
    charges::insert_charge(&mut tx, &charge, Some(token))
        .await
        .unwrap();
    orders::update_live_order_status(&mut tx, &id, OrderStatus::AwaitingPayment, now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    charge
}

#[tokio::test]
async fn a_charge_left_in_flight_by_a_crash_is_finished_at_start_up() {
    let app = spawn_app().await;
    let (buyer, order) = app.reserved_order().await;
    let order_id = order["id"].as_str().unwrap().to_string();
    strand_a_charge(&app, &order_id, "tok_visa").await;
    let app = app.stop().await.start().await;
    app.state.payments.settle_all().await;
    assert_eq!(order_status(&app, &buyer, &order_id).await, "complete");
    let charges = app.charges_of(&order_id).await;
    assert_eq!(charges.len(), 1, "finished, not repeated");
    assert_eq!(charges[0].status, ChargeStatus::Completed);
}

#[tokio::test]
async fn a_resumed_charge_asks_the_provider_again_under_its_own_idempotency_key() {
    let (base, recorder) = crate::recorded_stripe::recording_stripe().await;
    let app = spawn_app_with(|config| {
        config.stripe_secret_key = Some("sk_test_recorded".into());
        config.stripe_api_base = Some(base.clone());
    })
    .await;
    let (buyer, order) = app.reserved_order().await;
    let order_id = order["id"].as_str().unwrap().to_string();
    let key = strand_a_charge(&app, &order_id, "pm_card_visa")
        .await
        .idempotency_key;
    let app = app.stop().await.start().await;
    app.state.payments.settle_all().await;
    assert_eq!(order_status(&app, &buyer, &order_id).await, "complete");
    let calls: Vec<_> = recorder
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path == "/v1/payment_intents")
        .cloned()
        .collect();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        calls[0].idempotency_key.as_deref(),
        Some(key.as_str()),
        "a repeat the provider recognises, so money cannot move twice"
    );
}

// ---- slow and idle clients ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_cannot_lock_out_a_real_visitor() {
    let app = spawn_app_with(|config| {
        config.max_connections = 20;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_string();
    // Twice the cap of connections that never send a byte.
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(tokio::net::TcpStream::connect(&address).await.unwrap());
    }
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        client().get(app.url("/healthz")).send(),
    )
    .await
    .expect("answered while idle sockets hold every slot")
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    drop(idle);
}

/// Sends `bytes` on a fresh connection to a server whose header timeout is 300 ms, then reads
/// until the server closes the connection; panics if it is still open after 10 s. Returns what
/// the server answered.
async fn left_hanging(bytes: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(|config| {
        config.header_timeout = 300;
        config.body_timeout = 300;
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
    socket.write_all(bytes).await.unwrap();
    let mut buf = Vec::new();
    // A reset counts as closed, with whatever was read before it.
    let read = tokio::time::timeout(Duration::from_secs(10), socket.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server closed the connection within 10 s");
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    // The server closes the connection (answering 408 or nothing) instead of waiting forever.
    let text = left_hanging(b"GET / HTTP/1.1\r\nHost: x\r\n").await;
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

#[tokio::test]
async fn a_client_that_stalls_mid_body_is_cut_off() {
    // Headers promise 1,000 bytes; ten arrive, then nothing.
    let text = left_hanging(
        b"POST /api/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
          Content-Length: 1000\r\n\r\n{\"title\":",
    )
    .await;
    assert!(
        text.starts_with("HTTP/1.1 408")
            && text.ends_with(r#"{"errors":[{"message":"The request took too long to arrive"}]}"#),
        "{text}"
    );
}

/// A body that keeps arriving, a byte at a time and never pausing for long, still has to
/// arrive whole by its deadline: then the answer is 408 and the connection is closed.
#[tokio::test]
async fn a_body_that_trickles_in_is_cut_off_at_its_deadline() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app_with(|config| config.body_timeout = 1_000).await;
    let address = app.address.trim_start_matches("http://").to_string();
    for path in ["/api/users/signin", "/_fn/sign_in"] {
        let socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        let (mut reading, mut writing) = socket.into_split();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: 10000\r\n\r\n"
        );
        writing.write_all(head.as_bytes()).await.unwrap();
        let began = std::time::Instant::now();
        // A byte every 50 ms: far more often than any pause-based timeout would notice.
        let trickle = tokio::spawn(async move {
            while writing.write_all(b" ").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), reading.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "{path}: the connection was closed");
        trickle.abort();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(
            answer.contains("connection: close"),
            "{path}: says it closes: {answer}"
        );
        assert!(
            answer.ends_with(r#"{"errors":[{"message":"The request took too long to arrive"}]}"#),
            "{path}: {answer}"
        );
        // A page's form post gets three times as long as an API call.
        let deadline = if path.starts_with("/_fn/") {
            3_000
        } else {
            1_000
        };
        assert!(
            began.elapsed() >= Duration::from_millis(deadline),
            "{path}: not cut before its deadline"
        );
    }
}

#[tokio::test]
async fn a_kept_alive_connection_left_idle_is_closed() {
    // The answer comes, then the connection is kept alive, then, left idle, closed.
    let text = left_hanging(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

// ---- sessions ----

#[tokio::test]
async fn a_session_slides_with_activity_ends_after_fourteen_idle_days_and_ninety_after_sign_in() {
    use std::str::FromStr;
    use tower_sessions::SessionStore;
    const DAY: i64 = 24 * 3600 * 1000;
    let app = spawn_app().await;
    let client = client();
    let response = app.sign_up(&client, &unique_email(), PASSWORD).await;
    let cookie = set_cookie(&response, SESSION_COOKIE).unwrap().to_string();
    let value = cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| v.to_string())
        .unwrap();
    let id = tower_sessions::session::Id::from_str(&value).unwrap();
    let store = server::sessions::Sessions::open(&app.state.db)
        .await
        .unwrap();

    // Last seen two days ago, so (without sliding) twelve days of life left.
    let now = app.clock.now().millis();
    let mut record = store.load(&id).await.unwrap().unwrap();
    record.data.insert("seen_at".into(), json!(now - 2 * DAY));
    record.expiry_date = time::OffsetDateTime::now_utc() + time::Duration::days(12);
    store.save(&record).await.unwrap();

    let visit = app.get(&client, "/api/users/currentuser").await;
    let renewed = set_cookie(&visit, SESSION_COOKIE)
        .expect("the cookie is sent again with a new lifetime")
        .to_string();
    assert!(renewed.contains("Max-Age=1209600"), "{renewed}");
    let record = store.load(&id).await.unwrap().unwrap();
    assert!(
        record.expiry_date > time::OffsetDateTime::now_utc() + time::Duration::days(13),
        "fourteen idle days from this visit: {}",
        record.expiry_date
    );
    assert!(app.current_user(&client).await.is_object());

    // Fourteen days without a visit: the session is over.
    let idle_client = crate::helpers::client();
    let response = app.sign_up(&idle_client, &unique_email(), PASSWORD).await;
    let idle_cookie = set_cookie(&response, SESSION_COOKIE).unwrap().to_string();
    let idle_id = idle_cookie
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .map(|(_, v)| tower_sessions::session::Id::from_str(v).unwrap())
        .unwrap();
    let mut idle = store.load(&idle_id).await.unwrap().unwrap();
    idle.data
        .insert("seen_at".into(), json!(now - 14 * DAY - 1));
    idle.expiry_date = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
    store.save(&idle).await.unwrap();
    assert_eq!(app.current_user(&idle_client).await, Value::Null);

    // However active, ninety days after sign-in the session is over.
    let mut record = store.load(&id).await.unwrap().unwrap();
    record
        .data
        .insert("signed_in_at".into(), json!(now - 91 * DAY));
    store.save(&record).await.unwrap();
    assert_eq!(app.current_user(&client).await, Value::Null);
    assert!(
        store.load(&id).await.unwrap().is_none(),
        "deleted from the store"
    );
}

#[tokio::test]
async fn an_unknown_currency_is_refused_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = server::Config::defaults();
    config.database_url = format!("sqlite://{}", dir.path().join("t.db").display());
    config.site_addr = "127.0.0.1:0".parse().unwrap();
    config.currency = "dollars".into();
    let refused = server::Application::build(config.clone()).await;
    let message = format!("{:#}", refused.err().expect("the server refuses to start"));
    assert!(message.contains("CURRENCY `dollars`"), "{message}");
    config.currency = "EUR".into();
    assert!(
        server::Application::build(config).await.is_ok(),
        "any case of a real code"
    );
}

/// After a burst the server closes the database connections it opened for it (and on SQLite
/// empties the caches of those it keeps); nothing a user does afterwards notices.
#[tokio::test]
async fn after_a_burst_the_idle_connections_close_and_every_path_still_works() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let (buyer, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Before the rush", "price": 12 }))
        .await;
    // Many signed-in requests at once: the pools open what they may.
    let burst = join_all((0..48).map(|n| {
        let (client, path) = if n % 2 == 0 {
            (&buyer, "/api/tickets")
        } else {
            (&seller, "/api/users/currentuser")
        };
        app.get(client, path)
    }))
    .await;
    assert!(burst.iter().all(|r| r.status() == StatusCode::OK));
    let opened = app.state.db.read.size();

    let closed = app.state.db.release_idle().await;
    assert!(closed > 0, "the burst's idle connections are closed");
    assert!(
        app.state.db.read.size() < opened.max(2),
        "{} connections left of {opened}",
        app.state.db.read.size()
    );

    // Sessions, reads, writes and pages all open what they need again.
    assert!(app.current_user(&buyer).await["email"].is_string());
    app.buy(&buyer, ticket["id"].as_str().unwrap()).await;
    app.create_ticket(&seller, &json!({ "title": "After the rush", "price": 14 }))
        .await;
    let listed: Value = app.get_json(&buyer, "/api/tickets").await;
    assert!(listed.to_string().contains("After the rush"), "{listed}");
    page(&app, &seller, "/").await;
}
