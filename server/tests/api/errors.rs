//! The error envelope for requests the API cannot take: unknown routes, wrong methods, malformed
//! JSON, wrong content type, oversized bodies.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn unknown_api_routes_are_404_in_the_envelope() {
    let app = spawn_app().await;
    for path in [
        "/api/nope",
        "/api/users/nobody",
        "/api",
        "/api/tickets/x/y/z",
    ] {
        let response = app.get(&client(), path).await;
        assert_errors(
            response,
            StatusCode::NOT_FOUND,
            json!([{ "message": "Not found" }]),
        )
        .await;
    }
}

#[tokio::test]
async fn wrong_methods_on_api_routes_are_405_in_the_envelope() {
    let app = spawn_app().await;
    let response = app.get(&client(), "/api/users/signup").await;
    assert_errors(
        response,
        StatusCode::METHOD_NOT_ALLOWED,
        json!([{ "message": "Method not allowed" }]),
    )
    .await;
}

#[tokio::test]
async fn malformed_json_is_400_in_the_envelope() {
    let app = spawn_app().await;
    let response = client()
        .post(app.url("/api/users/signup"))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "The request body is not valid JSON" }]),
    )
    .await;
    let response = client()
        .post(app.url("/api/users/signup"))
        .header("content-type", "application/json")
        .body("[1, 2]")
        .send()
        .await
        .unwrap();
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "The request body must be a JSON object" }]),
    )
    .await;
}

#[tokio::test]
async fn a_body_that_is_not_json_is_415_in_the_envelope() {
    let app = spawn_app().await;
    let response = client()
        .post(app.url("/api/users/signup"))
        .header("content-type", "text/plain")
        .body("email=a@b.c")
        .send()
        .await
        .unwrap();
    assert_errors(
        response,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        json!([{ "message": "Expected a JSON body with Content-Type: application/json" }]),
    )
    .await;
}

#[tokio::test]
async fn an_oversized_body_is_413_in_the_envelope() {
    let app = spawn_app().await;
    let huge = json!({ "email": unique_email(), "password": "x".repeat(100_000) });
    let response = app.post_json(&client(), "/api/users/signup", &huge).await;
    assert_errors(
        response,
        StatusCode::PAYLOAD_TOO_LARGE,
        json!([{ "message": "Request body is too large" }]),
    )
    .await;
}

#[tokio::test]
async fn unknown_pages_are_a_friendly_404() {
    let app = spawn_app().await;
    let response = app.get(&client(), "/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
}

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let app = spawn_app().await;
    let response = app.get(&client(), "/healthz").await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_row_with_a_status_no_version_writes_fails_loudly_instead_of_reading_as_available() {
    let app = spawn_app().await;
    let (seller, _) = app.signed_in_user().await;
    let ticket = app
        .create_ticket(&seller, &json!({ "title": "Cup final", "price": 20 }))
        .await;
    let id = ticket["id"].as_str().unwrap();
    // Damage the row as a hand edit or a newer version could: a status this code never wrote.
    {
        let mut conn = app.state.db.write.acquire().await.unwrap();
        let (check_off, check_on) = if on_postgres() {
            (
                "ALTER TABLE tickets DROP CONSTRAINT tickets_status_check",
                "SELECT 1",
            )
        } else {
            (
                "PRAGMA ignore_check_constraints = ON",
                "PRAGMA ignore_check_constraints = OFF",
            )
        };
        sqlx::query(check_off).execute(&mut *conn).await.unwrap();
        sqlx::query("UPDATE tickets SET status = 'on-hold' WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query(check_on).execute(&mut *conn).await.unwrap();
    }

    // Neither shown as on sale nor reservable: the read fails, and the buyer is told so.
    let shown = app.get(&client(), &format!("/api/tickets/{id}")).await;
    assert_errors(
        shown,
        StatusCode::INTERNAL_SERVER_ERROR,
        json!([{ "message": "Something went wrong" }]),
    )
    .await;
    let (buyer, _) = app.signed_in_user().await;
    let reserved = app
        .post_json(&buyer, "/api/orders", &json!({ "ticketId": id }))
        .await;
    assert_eq!(reserved.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        app.events_for(id).await == ["TicketCreated"],
        "nothing was reserved"
    );
}
