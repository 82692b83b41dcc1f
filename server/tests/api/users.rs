//! `/api/users/*`: sign-up, sign-in, sign-out, current user, rate limiting.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn email_error() -> Value {
    json!({ "message": "Email is not valid", "field": "email" })
}

fn password_error() -> Value {
    json!({ "message": "Password must be between 8 and 128 characters", "field": "password" })
}

#[tokio::test]
async fn signup_creates_the_account_and_signs_in() {
    let app = spawn_app().await;
    let client = client();
    let email = unique_email();
    let response = app.sign_up(&client, &email, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let cookie = set_cookie(&response, SESSION_COOKIE)
        .expect("a session cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http must not set Secure: {cookie}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], json!(email));
    assert!(body["id"].as_str().is_some_and(|id| id.len() == 36));
    assert_eq!(
        body["emailVerified"], false,
        "a verification link is on its way"
    );
    assert_eq!(body["twoFactor"], false);
    assert_eq!(
        body.as_object().unwrap().len(),
        4,
        "only id, email, emailVerified and twoFactor: {body}"
    );
    assert_eq!(app.current_user(&client).await, body);
}

#[tokio::test]
async fn signup_with_an_invalid_email_is_refused() {
    let app = spawn_app().await;
    for email in ["not-an-email", "ada@", "@example.com", "a b@example.com"] {
        let response = app.sign_up(&client(), email, PASSWORD).await;
        assert_errors(response, StatusCode::BAD_REQUEST, json!([email_error()])).await;
    }
}

#[tokio::test]
async fn signup_with_an_empty_email_is_refused() {
    let app = spawn_app().await;
    let response = app.sign_up(&client(), "", PASSWORD).await;
    assert_errors(response, StatusCode::BAD_REQUEST, json!([email_error()])).await;
}

#[tokio::test]
async fn signup_without_an_email_is_refused() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            &client(),
            "/api/users/signup",
            &json!({ "password": PASSWORD }),
        )
        .await;
    assert_errors(response, StatusCode::BAD_REQUEST, json!([email_error()])).await;
    let response = app
        .post_json(
            &client(),
            "/api/users/signup",
            &json!({ "email": 42, "password": PASSWORD }),
        )
        .await;
    assert_errors(response, StatusCode::BAD_REQUEST, json!([email_error()])).await;
}

#[tokio::test]
async fn signup_with_a_short_password_is_refused() {
    let app = spawn_app().await;
    let response = app.sign_up(&client(), &unique_email(), "1234567").await;
    assert_errors(response, StatusCode::BAD_REQUEST, json!([password_error()])).await;
}

#[tokio::test]
async fn signup_with_an_empty_password_is_refused() {
    let app = spawn_app().await;
    let response = app.sign_up(&client(), &unique_email(), "").await;
    assert_errors(response, StatusCode::BAD_REQUEST, json!([password_error()])).await;
}

#[tokio::test]
async fn signup_without_a_password_is_refused() {
    let app = spawn_app().await;
    let response = app
        .post_json(
            &client(),
            "/api/users/signup",
            &json!({ "email": unique_email() }),
        )
        .await;
    assert_errors(response, StatusCode::BAD_REQUEST, json!([password_error()])).await;
}

#[tokio::test]
async fn signup_with_an_overlong_password_is_refused() {
    let app = spawn_app().await;
    let response = app
        .sign_up(&client(), &unique_email(), &"p".repeat(129))
        .await;
    assert_errors(response, StatusCode::BAD_REQUEST, json!([password_error()])).await;
    let longest: String = (0..128)
        .map(|i| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[(i * 7 + 3) % 36]))
        .collect();
    let accepted = app.sign_up(&client(), &unique_email(), &longest).await;
    assert_eq!(
        accepted.status(),
        StatusCode::CREATED,
        "128 characters is the maximum, not over it"
    );
}

#[tokio::test]
async fn signup_reports_both_invalid_fields_at_once() {
    let app = spawn_app().await;
    let response = app
        .post_json(&client(), "/api/users/signup", &json!({}))
        .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([email_error(), password_error()]),
    )
    .await;
}

#[tokio::test]
async fn signup_with_a_taken_email_is_refused_in_any_letter_case() {
    let app = spawn_app().await;
    let email = unique_email();
    assert_eq!(
        app.sign_up(&client(), &email, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let in_use = json!([{ "message": "Email already in use", "field": "email" }]);
    let response = app.sign_up(&client(), &email, PASSWORD).await;
    assert_errors(response, StatusCode::BAD_REQUEST, in_use.clone()).await;
    let response = app
        .sign_up(&client(), &email.to_uppercase(), "another password")
        .await;
    assert_errors(response, StatusCode::BAD_REQUEST, in_use).await;
}

#[tokio::test]
async fn concurrent_signups_with_one_email_create_one_account() {
    let app = spawn_app_with(|c| c.auth_rate_limit = 0).await;
    let email = unique_email();
    let attempts = (0..12).map(|i| {
        let email = if i % 2 == 0 {
            email.clone()
        } else {
            email.to_uppercase()
        };
        let app = &app;
        async move { app.sign_up(&client(), &email, PASSWORD).await.status() }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::BAD_REQUEST),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn signup_appends_one_user_created_event() {
    let app = spawn_app().await;
    let response = app.sign_up(&client(), &unique_email(), PASSWORD).await;
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut conn = app.state.db.read.acquire().await.unwrap();
    let events = app::ssr::storage::event_log::list_events_for(
        &mut conn,
        &app::domain::Id::from_trusted(id.clone()),
    )
    .await
    .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type, "UserCreated");
    let payload: Value = serde_json::from_str(&events[0].payload).unwrap();
    assert_eq!(payload["id"], json!(id));
    assert!(
        !events[0].payload.contains("argon2"),
        "the password hash never goes into events"
    );
}

#[tokio::test]
async fn signin_with_a_wrong_password_is_refused() {
    let app = spawn_app().await;
    let (_, email) = app.signed_in_user().await;
    let response = app.sign_in(&client(), &email, "not the password").await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Invalid credentials" }]),
    )
    .await;
}

#[tokio::test]
async fn signin_with_an_unknown_email_gives_the_same_answer() {
    let app = spawn_app().await;
    let response = app.sign_in(&client(), &unique_email(), PASSWORD).await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Invalid credentials" }]),
    )
    .await;
    let response = app
        .post_json(&client(), "/api/users/signin", &json!({}))
        .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Invalid credentials" }]),
    )
    .await;
}

#[tokio::test]
async fn signin_succeeds_with_a_new_session_cookie() {
    let app = spawn_app().await;
    let (signed_up, email) = app.signed_in_user().await;
    let client = client();
    // Sign in on a client that already holds a (signed-out) session: the id must change.
    let first = app.sign_in(&client, &email, "wrong password").await;
    assert_eq!(first.status(), StatusCode::BAD_REQUEST);
    let response = app.sign_in(&client, &email.to_uppercase(), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = set_cookie(&response, SESSION_COOKIE)
        .expect("a session cookie")
        .to_string();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], json!(email));
    assert_eq!(app.current_user(&client).await["email"], json!(email));
    assert_eq!(
        app.current_user(&signed_up).await["email"],
        json!(email),
        "other sessions stay signed in"
    );

    // Signing in again rotates the session id.
    let again = app.sign_in(&client, &email, PASSWORD).await;
    let rotated = set_cookie(&again, SESSION_COOKIE)
        .expect("a session cookie")
        .to_string();
    assert_ne!(cookie.split(';').next(), rotated.split(';').next());
}

#[tokio::test]
async fn signout_ends_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    assert!(
        app.current_user(&client).await.is_object(),
        "signed in before signing out"
    );
    let response = app
        .post_json(&client, "/api/users/signout", &json!({}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cleared = set_cookie(&response, SESSION_COOKIE)
        .expect("the cookie is cleared")
        .to_string();
    assert!(
        cleared.contains("Max-Age=0") || cleared.contains("Expires=Thu, 01 Jan 1970"),
        "{cleared}"
    );
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    assert_eq!(app.current_user(&client).await, Value::Null);
}

#[tokio::test]
async fn a_destroyed_session_cannot_be_replayed() {
    let app = spawn_app().await;
    let client = client();
    let response = app.sign_up(&client, &unique_email(), PASSWORD).await;
    let cookie = set_cookie(&response, SESSION_COOKIE)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    app.post_json(&client, "/api/users/signout", &json!({}))
        .await;
    let replay = reqwest::Client::new()
        .get(app.url("/api/users/currentuser"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        replay.json::<Value>().await.unwrap(),
        json!({ "currentUser": null })
    );
}

#[tokio::test]
async fn currentuser_is_null_without_a_session() {
    let app = spawn_app().await;
    let response = app.get(&client(), "/api/users/currentuser").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({ "currentUser": null })
    );
}

#[tokio::test]
async fn currentuser_returns_the_signed_in_user() {
    let app = spawn_app().await;
    let (client, email) = app.signed_in_user().await;
    let user = app.current_user(&client).await;
    assert_eq!(user["email"], json!(email));
    assert!(user["id"].is_string());
}

#[tokio::test]
async fn signin_and_signup_are_rate_limited_per_client_address() {
    let app = spawn_app_with(|c| c.auth_rate_limit = 3).await;
    let (_, email) = app.signed_in_user().await; // attempt 1
    assert_eq!(
        app.sign_in(&client(), &email, "wrong password")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    ); // 2
    assert_eq!(
        app.sign_in(&client(), &email, PASSWORD).await.status(),
        StatusCode::OK
    ); // 3
    let response = app.sign_in(&client(), &email, PASSWORD).await;
    assert_errors(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        json!([{ "message": "Too many attempts, please wait a minute and try again" }]),
    )
    .await;
    let response = app.sign_up(&client(), &unique_email(), PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // Other routes are not limited.
    assert_eq!(
        app.get(&client(), "/api/users/currentuser").await.status(),
        StatusCode::OK
    );
}
