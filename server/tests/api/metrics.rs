//! `/metrics`: Prometheus' text format for a scraper with `ADMIN_TOKEN`, and nobody else.
//! The recorder is one per process, shared by the tests running beside this one, so counters
//! are compared as "at least this much more".

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

const TOKEN: &str = "scraper-token-0123456789abcdef0123456789";

async fn scrape(app: &TestApp) -> String {
    let response = client()
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
        "{:?}",
        response.headers()
    );
    response.text().await.unwrap()
}

/// The value of the sample whose line starts with `series` (name and labels), or 0.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|line| line.starts_with(series) && line[series.len()..].starts_with(' '))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn the_scraper_sees_requests_sales_and_the_queues_and_nobody_else_sees_anything() {
    let app = spawn_app_with(|config| config.admin_token = Some(TOKEN.to_string())).await;
    let before = scrape(&app).await;

    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 20 }))
        .await;
    let (buyer, _) = app.signed_in_user().await;
    app.buy(&buyer, ticket["id"].as_str().unwrap()).await;
    for n in 0..30 {
        let made_up = app.get(&client(), &format!("/api/no-such-route-{n}")).await;
        assert_eq!(made_up.status(), StatusCode::NOT_FOUND);
    }
    let after = scrape(&app).await;

    for (series, at_least) in [
        ("ticketing_reservations_total", 1.0),
        ("ticketing_sales_total", 1.0),
        ("ticketing_sales_cents_total", 2000.0),
        (
            r#"http_requests_total{method="POST",route="/api/orders",status="201"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{method="POST",route="/api/payments",status="201"}"#,
            1.0,
        ),
        (
            r#"http_requests_total{method="GET",route="unmatched",status="404"}"#,
            30.0,
        ),
    ] {
        assert!(
            sample(&after, series) - sample(&before, series) >= at_least,
            "{series}: {} then {}",
            sample(&before, series),
            sample(&after, series)
        );
    }
    assert!(
        after.contains(
            r#"http_request_duration_seconds_bucket{method="POST",route="/api/orders",le="0.005"}"#
        ),
        "{after}"
    );
    assert!(after.contains("ticketing_mail_queue_depth "));
    assert!(after.contains(r#"ticketing_db_connections{pool="read",state="idle"}"#));
    // Made-up addresses never become labels of their own.
    assert!(!after.contains("no-such-route"), "{after}");

    // Anyone else: 401 in the envelope, an admin's session included.
    let (admin, email) = app.signed_in_user().await;
    app.grant(&email, app::domain::role::Role::Admin).await;
    for request in [
        client().get(app.url("/metrics")),
        admin.get(app.url("/metrics")),
        client()
            .get(app.url("/metrics"))
            .bearer_auth("scraper-token-0123456789abcdef0123456788"),
        client()
            .get(app.url("/metrics"))
            .header("authorization", format!("Basic {TOKEN}")),
    ] {
        let refused = request.send().await.unwrap();
        assert_errors(
            refused,
            StatusCode::UNAUTHORIZED,
            json!([{ "message": "Not authorized" }]),
        )
        .await;
    }
}

#[tokio::test]
async fn without_an_admin_token_metrics_are_closed() {
    let app = spawn_app().await;
    for token in ["", "anything", TOKEN] {
        let refused = client()
            .get(app.url("/metrics"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{token:?}");
    }
}
