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
    let (plain, encoding) = fetch(&app, "/", None).await;
    assert_eq!(encoding, None);
    let plain = plain.bytes().await.unwrap().len();

    let (page, encoding) = fetch(&app, "/", Some("br, gzip")).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(encoding.as_deref(), Some("br"));
    let compressed = page.bytes().await.unwrap();
    let mut html = Vec::new();
    brotli::BrotliDecompress(&mut &compressed[..], &mut html).unwrap();
    assert_eq!(html.len(), plain, "the same page");
    assert!(String::from_utf8(html).unwrap().contains("Cup final 23"));
    assert!(
        compressed.len() * 3 < plain,
        "{} of {plain} bytes",
        compressed.len()
    );

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
