//! Pages and JSON travel compressed when the client accepts it; the live stream does not (a
//! compressor would hold events back), and nothing is compressed for a client that did not ask.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

async fn fetch(
    app: &TestApp,
    path: &str,
    accept: Option<&str>,
) -> (reqwest::Response, Option<String>) {
    let mut request = client().get(app.url(path));
    if let Some(accept) = accept {
        request = request.header("accept-encoding", accept);
    }
    let response = request.send().await.unwrap();
    let encoding = response
        .headers()
        .get("content-encoding")
        .map(|v| v.to_str().unwrap().to_string());
    (response, encoding)
}

#[tokio::test]
async fn pages_and_json_are_compressed_for_clients_that_accept_it() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    for n in 0..24 {
        app.create_ticket(
            &seller,
            &json!({ "title": format!("Cup final {n}"), "price": 20 }),
        )
        .await;
    }
    let (plain, encoding) = fetch(&app, "/tickets", None).await;
    assert_eq!(encoding, None);
    let plain = plain.bytes().await.unwrap().len();

    // A visitor without a session gets the kept copy of the page, gzipped around its nonce
    // (page_cache.rs); a page rendered for the request would come in brotli.
    let (page, encoding) = fetch(&app, "/tickets", Some("br, gzip")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let compressed = page.bytes().await.unwrap();
    let mut html = Vec::new();
    match encoding.as_deref() {
        Some("br") => brotli::BrotliDecompress(&mut &compressed[..], &mut html).unwrap(),
        Some("gzip") => {
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&compressed[..]),
                &mut html,
            )
            .unwrap();
        }
        other => panic!("not compressed: {other:?}"),
    }
    assert_eq!(html.len(), plain, "the same page");
    assert!(String::from_utf8(html).unwrap().contains("Cup final 23"));
    assert!(
        compressed.len() * 3 < plain,
        "{} of {plain} bytes",
        compressed.len()
    );

    // Brotli where a client prefers it (the JSON is kept compressed in each encoding asked for).
    let (page, encoding) = fetch(&app, "/tickets?page=1", Some("br")).await;
    assert_eq!(encoding.as_deref(), Some("br"));
    let mut html = Vec::new();
    brotli::BrotliDecompress(&mut &page.bytes().await.unwrap()[..], &mut html).unwrap();
    assert!(String::from_utf8(html).unwrap().contains("Cup final 23"));
    for _ in 0..2 {
        let (json, encoding) = fetch(&app, "/api/tickets", Some("br;q=1, gzip;q=0.5")).await;
        assert_eq!(encoding.as_deref(), Some("br"));
        let mut text = Vec::new();
        brotli::BrotliDecompress(&mut &json.bytes().await.unwrap()[..], &mut text).unwrap();
        let listed: serde_json::Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(listed.as_array().unwrap().len(), 24);
    }

    let (json, encoding) = fetch(&app, "/api/tickets", Some("gzip")).await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&json.bytes().await.unwrap()[..]),
        &mut text,
    )
    .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        24
    );

    // Errors too, still the envelope inside.
    let (missing, encoding) = fetch(
        &app,
        "/api/tickets/0190f1d2-7c3a-7d4e-8f00-000000000000",
        Some("gzip"),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(matches!(encoding.as_deref(), None | Some("gzip")));

    // The live stream is never held back by a compressor.
    let (stream, encoding) = fetch(&app, "/api/tickets/stream", Some("br, gzip")).await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(encoding, None);
}

#[tokio::test]
async fn every_page_describes_itself_once() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(
            &seller,
            &json!({ "title": "Cup \"final\" <b>", "price": 20, "venue": "Stadium" }),
        )
        .await;
    let ticket_page = format!("/tickets/{}", ticket["id"].as_str().unwrap());
    for path in [
        "/",
        "/tickets",
        ticket_page.as_str(),
        "/auth/signin",
        "/auth/signup",
        "/auth/forgot",
        "/auth/verify",
        "/auth/reset",
        "/tickets/new",
        "/tickets/mine",
        "/orders",
        "/payouts",
        "/account",
        "/check-in",
        "/admin",
        "/no/such/page",
    ] {
        let html = app.get(&seller, path).await.text().await.unwrap();
        let found: Vec<&str> = html
            .split("<meta name=\"description\" content=\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        assert_eq!(found.len(), 1, "{path}: {found:?}");
        assert!(found[0].len() > 20, "{path}: {:?}", found[0]);
    }
    let html = app.get(&client(), &ticket_page).await.text().await.unwrap();
    assert!(
        html.contains("content=\"Cup &quot;final&quot; &lt;b&gt; — date to be announced, Stadium. $20.00 on Ticketing.\""),
        "{}",
        &html[..html.len().min(1500)]
    );
}

/// The nonce a page's policy names, and every nonce its scripts carry.
fn nonces(response_policy: &str, body: &str) -> (String, Vec<String>) {
    let policy = response_policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the policy names a nonce")
        .to_string();
    let carried = body
        .split("nonce=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_string())
        .collect();
    (policy, carried)
}

async fn listings_page(client: &reqwest::Client, app: &TestApp, query: &str) -> (String, String) {
    let response = client
        .get(app.url(&format!("/tickets{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    (policy, response.text().await.unwrap())
}

/// The home page a visitor without a session sees is rendered once per version of its listings
/// and sent as it is: each copy with a nonce of its own, never one a signed-in visitor gets, and
/// never a listing behind what `/api/tickets` shows.
#[tokio::test]
async fn the_home_page_kept_for_visitors_follows_the_listings_and_their_sessions() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let first = app
        .create_ticket(
            &seller,
            &json!({ "title": "Homecache seat 1", "price": 40 }),
        )
        .await;
    app.create_ticket(
        &seller,
        &json!({ "title": "Homecache <script>alert(1)</script> seat 2", "price": 40 }),
    )
    .await;
    let (buyer, _) = app.signed_in_user().await;
    let visitor = client();

    let mut seen = std::collections::HashSet::new();
    let mut bodies = Vec::new();
    for _ in 0..3 {
        let (policy, body) = listings_page(&visitor, &app, "?q=homecache").await;
        let (nonce, carried) = nonces(&policy, &body);
        assert!(!carried.is_empty());
        assert!(
            carried.iter().all(|n| *n == nonce),
            "every script carries the policy's nonce"
        );
        assert!(
            seen.insert(nonce.clone()),
            "each copy has a nonce of its own"
        );
        assert!(body.contains("Homecache seat 1"));
        assert!(body.contains("Homecache &lt;script&gt;alert(1)&lt;/script&gt; seat 2"));
        assert!(!body.contains("<script>alert(1)"));
        assert!(body.contains("Sign up to sell"));
        bodies.push(body.replace(&nonce, "NONCE"));
    }
    assert_eq!(bodies[1], bodies[2], "the same page but for its nonce");

    // A reservation takes its seat off the page at once.
    let reserved = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": first["id"] }))
        .await;
    assert_eq!(reserved.status(), StatusCode::CREATED);
    let (_, body) = listings_page(&visitor, &app, "?q=homecache").await;
    assert!(!body.contains("Homecache seat 1"));
    assert!(body.contains("seat 2"));

    // A signed-in visitor gets their own page, and the next visitor without a session not theirs.
    let (_, body) = listings_page(&buyer, &app, "?q=homecache").await;
    assert!(body.contains("Sell a ticket") && !body.contains("Sign up to sell"));
    let (_, body) = listings_page(&visitor, &app, "?q=homecache").await;
    assert!(body.contains("Sign up to sell") && !body.contains("Sell a ticket"));

    // A new listing (a write) shows straight away.
    app.create_ticket(
        &seller,
        &json!({ "title": "Homecache seat 3", "price": 40 }),
    )
    .await;
    let (_, body) = listings_page(&visitor, &app, "?q=homecache").await;
    assert!(body.contains("Homecache seat 3"));

    // The search box repeats the address as typed, so two spellings of one search (the same
    // listings) are two pages.
    let (_, plain) = listings_page(&visitor, &app, "?q=homecache").await;
    assert!(plain.contains("value=\"homecache\""));
    let (_, exclaimed) = listings_page(&visitor, &app, "?q=homecache%21").await;
    assert!(exclaimed.contains("value=\"homecache!\""), "{exclaimed}");
    assert!(exclaimed.contains("Homecache seat 3"));
}

/// One reading of `Accept-Encoding` for every answer: an encoding the client refuses (`q=0`) is
/// never sent, whether the answer is rendered, kept, or a file.
#[tokio::test]
async fn an_encoding_the_client_refuses_is_never_sent() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Refused brotli", "price": 20 }))
        .await;
    let ticket_page = format!("/tickets/{}", ticket["id"].as_str().unwrap());
    for (asked, wanted) in [
        ("br;q=0, gzip", Some("gzip")),
        ("gzip, br;q=0", Some("gzip")),
        ("br;q=0", None),
        ("br;q=0, gzip;q=0", None),
        ("br, br;q=0, gzip", Some("gzip")),
    ] {
        // Each address twice: rendered, then (for the home page and the listings) kept.
        for path in [
            "/tickets",
            "/tickets",
            "/api/tickets",
            "/api/tickets",
            ticket_page.as_str(),
        ] {
            let (response, encoding) = fetch(&app, path, Some(asked)).await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(encoding.as_deref(), wanted, "{path} asked {asked}");
        }
    }
}
