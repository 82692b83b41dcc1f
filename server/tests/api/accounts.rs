//! Accounts a person can recover (docs/RULES.md, "Accounts"): verification links, password reset, password and
//! address changes, the list of sessions, the common-password rule and the sign-in throttle.

use crate::helpers::*;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const NEW_PASSWORD: &str = "violet tram oyster lamp";
const HOUR: i64 = 3600 * 1000;

/// A new account with a client signed in to it, and the mail it was sent: (client, email, mail).
async fn signed_up(app: &TestApp) -> (Client, String, Vec<Mail>) {
    let (client, email) = app.signed_in_user().await;
    let mail = app.mailbox().await;
    (client, email, mail)
}

async fn post(app: &TestApp, client: &Client, path: &str, body: Value) -> reqwest::Response {
    app.post_json(client, path, &body).await
}

/// Posts `body` and expects 400 with one error on `field`.
async fn refused(
    app: &TestApp,
    client: &Client,
    path: &str,
    body: Value,
    field: &str,
    message: &str,
) {
    assert_errors(
        post(app, client, path, body).await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": message, "field": field }]),
    )
    .await;
}

async fn invalid_link(response: reqwest::Response) {
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Link is invalid or has expired", "field": "token" }]),
    )
    .await;
}

#[tokio::test]
async fn sign_up_mails_a_link_that_verifies_the_address_once() {
    let app = spawn_app().await;
    let (browser, email, mail) = signed_up(&app).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0].to, email);
    assert_eq!(mail[0].subject, "Confirm your email address");
    assert!(mail[0].html.contains("/auth/verify?token="));
    let me = app.current_user(&browser).await;
    assert_eq!(me["emailVerified"], false);
    assert_eq!(me["twoFactor"], false);

    // Verifying needs no session: the link may be opened on another device.
    let token = token_sent(&app, &email, "verify").await;
    let response = post(
        &app,
        &client(),
        "/api/users/verify",
        json!({ "token": token }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["email"], email.as_str());
    assert_eq!(body["emailVerified"], true);
    assert_eq!(body["id"], me["id"]);
    assert_eq!(app.current_user(&browser).await["emailVerified"], true);

    invalid_link(
        post(
            &app,
            &browser,
            "/api/users/verify",
            json!({ "token": token }),
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn a_verification_link_lapses_after_a_day() {
    let app = spawn_app().await;
    let (_, email, _) = signed_up(&app).await;
    let token = token_sent(&app, &email, "verify").await;
    app.clock.advance(24 * HOUR);
    invalid_link(
        post(
            &app,
            &client(),
            "/api/users/verify",
            json!({ "token": token }),
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn hostile_or_malformed_tokens_are_the_same_clear_refusal() {
    let app = spawn_app().await;
    for token in [
        json!(""),
        json!("<script>alert(1)</script>"),
        json!("a\u{0}b\u{202e}c"),
        json!("f".repeat(64)),
        json!("0".repeat(10_000)),
        json!(12345),
        json!(null),
    ] {
        invalid_link(
            post(
                &app,
                &client(),
                "/api/users/verify",
                json!({ "token": token }),
            )
            .await,
        )
        .await;
        invalid_link(
            post(
                &app,
                &client(),
                "/api/users/password-reset/confirm",
                json!({ "token": token, "password": NEW_PASSWORD }),
            )
            .await,
        )
        .await;
    }
}

#[tokio::test]
async fn resending_needs_a_session_replaces_the_old_link_and_is_rate_limited() {
    let app = spawn_app().await;
    let resend = "/api/users/verify/resend";
    assert_errors(
        post(&app, &client(), resend, json!({})).await,
        StatusCode::UNAUTHORIZED,
        json!([{ "message": "Not authorized" }]),
    )
    .await;
    let (client, email, _) = signed_up(&app).await;
    let first = token_sent(&app, &email, "verify").await;
    let response = post(&app, &client, resend, json!({})).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    let second = token_sent(&app, &email, "verify").await;
    assert_ne!(first, second);
    invalid_link(
        post(
            &app,
            &client,
            "/api/users/verify",
            json!({ "token": first }),
        )
        .await,
    )
    .await;

    // Three an hour; the fourth is refused, and an hour later it works again.
    for _ in 0..2 {
        assert_eq!(
            post(&app, &client, resend, json!({})).await.status(),
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(
        post(&app, &client, resend, json!({})).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    app.clock.advance(HOUR + 1);
    assert_eq!(
        post(&app, &client, resend, json!({})).await.status(),
        StatusCode::ACCEPTED
    );
    let newest = token_sent(&app, &email, "verify").await;
    assert_eq!(
        post(
            &app,
            &client,
            "/api/users/verify",
            json!({ "token": newest })
        )
        .await
        .status(),
        StatusCode::OK
    );
    // Verified: nothing more to send.
    let before = app.mailbox().await.len();
    assert_eq!(
        post(&app, &client, resend, json!({})).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(app.mailbox().await.len(), before);
}

#[tokio::test]
async fn a_reset_request_answers_alike_for_known_and_unknown_addresses() {
    let app = spawn_app().await;
    let (_, email, _) = signed_up(&app).await;
    let before = app.mailbox().await.len();
    for address in [email.as_str(), "nobody-here@example.com"] {
        let response = post(
            &app,
            &client(),
            "/api/users/password-reset",
            json!({ "email": address }),
        )
        .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    }
    let mail = app.mailbox().await;
    assert_eq!(mail.len(), before + 1, "only the known address gets mail");
    let reset = mail.last().unwrap();
    assert_eq!(reset.to, email);
    assert_eq!(reset.subject, "Reset your password");
    // A malformed address is a field error, whoever owns what.
    refused(
        &app,
        &client(),
        "/api/users/password-reset",
        json!({ "email": "<b>not an address" }),
        "email",
        "Email is not valid",
    )
    .await;
}

#[tokio::test]
async fn a_reset_link_sets_a_new_password_ends_every_session_and_works_once() {
    let app = spawn_app().await;
    let (phone, email, _) = signed_up(&app).await;
    let laptop = client();
    assert_eq!(
        app.sign_in(&laptop, &email, PASSWORD).await.status(),
        StatusCode::OK
    );
    post(
        &app,
        &client(),
        "/api/users/password-reset",
        json!({ "email": email }),
    )
    .await;
    let token = token_sent(&app, &email, "reset").await;

    // A refused password leaves the link usable.
    refused(
        &app,
        &client(),
        "/api/users/password-reset/confirm",
        json!({ "token": token, "password": "password123" }),
        "password",
        "Password is too common",
    )
    .await;
    let response = post(
        &app,
        &client(),
        "/api/users/password-reset/confirm",
        json!({ "token": token, "password": NEW_PASSWORD }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));

    for signed_out in [&phone, &laptop] {
        assert!(
            app.current_user(signed_out).await.is_null(),
            "every session ended"
        );
    }
    assert_eq!(
        app.sign_in(&client(), &email, PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
    let fresh = client();
    assert_eq!(
        app.sign_in(&fresh, &email, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    // Following the link proved the address too, and the owner was told.
    assert_eq!(app.current_user(&fresh).await["emailVerified"], true);
    let mail = app.mailbox().await;
    assert_eq!(mail.last().unwrap().subject, "Your password was changed");

    invalid_link(
        post(
            &app,
            &client(),
            "/api/users/password-reset/confirm",
            json!({ "token": token, "password": "another fine passphrase" }),
        )
        .await,
    )
    .await;
}

#[tokio::test]
async fn a_reset_link_lapses_after_thirty_minutes_and_a_newer_one_replaces_it() {
    let app = spawn_app().await;
    let (_, email, _) = signed_up(&app).await;
    let reset = |app: &TestApp| {
        let email = email.clone();
        let app_address = app.url("/api/users/password-reset");
        async move {
            client()
                .post(app_address)
                .json(&json!({ "email": email }))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(reset(&app).await, StatusCode::ACCEPTED);
    let first = token_sent(&app, &email, "reset").await;
    assert_eq!(reset(&app).await, StatusCode::ACCEPTED);
    let second = token_sent(&app, &email, "reset").await;
    let confirm = |token: String| {
        let url = app.url("/api/users/password-reset/confirm");
        async move {
            client()
                .post(url)
                .json(&json!({ "token": token, "password": NEW_PASSWORD }))
                .send()
                .await
                .unwrap()
        }
    };
    invalid_link(confirm(first).await).await;
    app.clock.advance(30 * 60 * 1000);
    invalid_link(confirm(second).await).await;
}

#[tokio::test]
async fn one_address_gets_at_most_three_reset_mails_an_hour_whoever_asks() {
    let app = spawn_app().await;
    let (_, email, _) = signed_up(&app).await;
    let before = app.mailbox().await.len();
    for _ in 0..5 {
        let response = post(
            &app,
            &client(),
            "/api/users/password-reset",
            json!({ "email": email.to_uppercase() }),
        )
        .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    assert_eq!(app.mailbox().await.len(), before + 3);
    app.clock.advance(HOUR + 1);
    post(
        &app,
        &client(),
        "/api/users/password-reset",
        json!({ "email": email }),
    )
    .await;
    assert_eq!(app.mailbox().await.len(), before + 4);
}

#[tokio::test]
async fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = spawn_app().await;
    let path = "/api/users/password";
    assert_eq!(
        post(
            &app,
            &client(),
            path,
            json!({ "currentPassword": PASSWORD, "password": NEW_PASSWORD })
        )
        .await
        .status(),
        StatusCode::UNAUTHORIZED
    );
    let (phone, email, _) = signed_up(&app).await;
    let laptop = client();
    app.sign_in(&laptop, &email, PASSWORD).await;

    refused(
        &app,
        &phone,
        path,
        json!({ "currentPassword": "wrong password!", "password": NEW_PASSWORD }),
        "currentPassword",
        "Password is incorrect",
    )
    .await;
    refused(
        &app,
        &phone,
        path,
        json!({ "currentPassword": PASSWORD, "password": "qwerty123" }),
        "password",
        "Password is too common",
    )
    .await;
    refused(
        &app,
        &phone,
        path,
        json!({ "currentPassword": PASSWORD, "password": "x".repeat(200) }),
        "password",
        "Password must be between 8 and 128 characters",
    )
    .await;
    assert!(
        app.current_user(&laptop).await.is_object(),
        "refusals change nothing"
    );

    let response = post(
        &app,
        &phone,
        path,
        json!({ "currentPassword": PASSWORD, "password": NEW_PASSWORD }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        app.current_user(&phone).await.is_object(),
        "this session stays"
    );
    assert!(
        app.current_user(&laptop).await.is_null(),
        "the other one ends"
    );
    assert_eq!(
        app.sign_in(&client(), &email, NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.mailbox().await.last().unwrap().subject,
        "Your password was changed"
    );
}

#[tokio::test]
async fn changing_the_address_takes_effect_when_the_new_one_is_proven() {
    let app = spawn_app().await;
    let (client_a, old, _) = signed_up(&app).await;
    let (_, taken, _) = signed_up(&app).await;
    let path = "/api/users/email";
    let new = unique_email();

    refused(
        &app,
        &client_a,
        path,
        json!({ "password": "not my password", "email": new }),
        "password",
        "Password is incorrect",
    )
    .await;
    refused(
        &app,
        &client_a,
        path,
        json!({ "password": PASSWORD, "email": taken.to_uppercase() }),
        "email",
        "Email already in use",
    )
    .await;
    refused(
        &app,
        &client_a,
        path,
        json!({ "password": PASSWORD, "email": "<i>@x" }),
        "email",
        "Email is not valid",
    )
    .await;

    let response = post(
        &app,
        &client_a,
        path,
        json!({ "password": PASSWORD, "email": new }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        app.current_user(&client_a).await["email"],
        old.as_str(),
        "not yet"
    );
    let token = token_sent(&app, &new, "verify").await;
    let response = post(
        &app,
        &client(),
        "/api/users/verify",
        json!({ "token": token }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let me = app.current_user(&client_a).await;
    assert_eq!(me["email"], new.as_str());
    assert_eq!(me["emailVerified"], true);
    let notice = app.mailbox().await;
    let notice = notice.iter().rev().find(|m| m.to == old).unwrap();
    assert_eq!(notice.subject, "Your email address was changed");
    assert!(notice.text.contains(&new));
    assert_eq!(
        app.sign_in(&client(), &new, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.sign_in(&client(), &old, PASSWORD).await.status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn a_common_password_is_refused_at_sign_up() {
    let app = spawn_app().await;
    let response = app.sign_up(&client(), &unique_email(), "iloveyou123").await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Password is too common", "field": "password" }]),
    )
    .await;
}

fn agent(name: &str) -> Client {
    Client::builder()
        .cookie_store(true)
        .user_agent(name)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_user_lists_their_sessions_and_ends_one_or_all_the_others() {
    let app = spawn_app().await;
    let email = unique_email();
    let phone = agent("Phone <b>Browser</b>\t");
    assert_eq!(
        app.sign_up(&phone, &email, PASSWORD).await.status(),
        StatusCode::CREATED
    );
    let laptop = agent("Laptop Browser");
    let tablet = agent("Tablet Browser");
    for device in [&laptop, &tablet] {
        assert_eq!(
            app.sign_in(device, &email, PASSWORD).await.status(),
            StatusCode::OK
        );
    }
    let (stranger, _) = app.signed_in_user().await;

    let sessions: Vec<Value> = app.get_json(&laptop, "/api/users/sessions").await;
    assert_eq!(sessions.len(), 3, "{sessions:#?}");
    let agents: Vec<&str> = sessions
        .iter()
        .map(|s| s["userAgent"].as_str().unwrap())
        .collect();
    assert!(
        agents.contains(&"Phone <b>Browser</b>"),
        "control characters dropped: {agents:?}"
    );
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["userAgent"], "Laptop Browser");
    for session in &sessions {
        assert!(session["createdAt"].as_str().unwrap().ends_with('Z'));
        assert!(session["lastSeenAt"].is_string());
    }
    let phone_id = sessions
        .iter()
        .find(|s| s["userAgent"].as_str().unwrap().starts_with("Phone"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Nobody else can end it, nor tell it exists.
    for (who, client) in [("stranger", &stranger), ("signed out", &client())] {
        let response = client
            .delete(app.url(&format!("/api/users/sessions/{phone_id}")))
            .send()
            .await
            .unwrap();
        let expected = if who == "stranger" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::UNAUTHORIZED
        };
        assert_eq!(response.status(), expected, "{who}");
    }
    assert!(app.current_user(&phone).await.is_object());

    let response = laptop
        .delete(app.url(&format!("/api/users/sessions/{phone_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(
        app.current_user(&phone).await.is_null(),
        "the phone is signed out"
    );
    let response = laptop
        .delete(app.url(&format!("/api/users/sessions/{phone_id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "already ended");

    let response = laptop
        .delete(app.url("/api/users/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(app.current_user(&tablet).await.is_null());
    assert!(
        app.current_user(&laptop).await.is_object(),
        "the asking session stays"
    );
    assert!(
        app.current_user(&stranger).await.is_object(),
        "other users are untouched"
    );
    let sessions: Vec<Value> = app.get_json(&laptop, "/api/users/sessions").await;
    assert_eq!(sessions.len(), 1);
}

#[tokio::test]
async fn wrong_passwords_make_the_next_sign_in_for_that_address_wait() {
    let app = spawn_app_with(|config| config.auth_rate_limit = 0).await;
    let (_, email, _) = signed_up(&app).await;
    for _ in 0..5 {
        assert_eq!(
            app.sign_in(&client(), &email, "not the password")
                .await
                .status(),
            StatusCode::BAD_REQUEST
        );
    }
    // Even the right password waits now: the attacker learns nothing from it.
    assert_errors(
        app.sign_in(&client(), &email, PASSWORD).await,
        StatusCode::TOO_MANY_REQUESTS,
        json!([{ "message": "Too many failed sign-ins for this address; try again in 1 minute" }]),
    )
    .await;
    // Another address from the same client is not affected.
    let (_, other, _) = signed_up(&app).await;
    assert_eq!(
        app.sign_in(&client(), &other, PASSWORD).await.status(),
        StatusCode::OK
    );
    // An unknown address is counted the same way, so the wait tells nothing about accounts.
    for _ in 0..5 {
        app.sign_in(&client(), "nobody-at-all@example.com", "whatever")
            .await;
    }
    assert_eq!(
        app.sign_in(&client(), "nobody-at-all@example.com", "whatever")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // The wait is short: 30 s later the owner signs in, and the count starts again.
    app.clock.advance(30_000);
    assert_eq!(
        app.sign_in(&client(), &email, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.sign_in(&client(), &email, "not the password")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn account_changes_from_another_site_are_refused() {
    let app = spawn_app().await;
    let (client, email, _) = signed_up(&app).await;
    for (path, body) in [
        (
            "/api/users/password",
            json!({ "currentPassword": PASSWORD, "password": NEW_PASSWORD }),
        ),
        (
            "/api/users/email",
            json!({ "password": PASSWORD, "email": unique_email() }),
        ),
        ("/api/users/verify/resend", json!({})),
    ] {
        let response = client
            .post(app.url(path))
            .header("origin", "https://evil.example")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let response = client
        .delete(app.url("/api/users/sessions"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Nothing changed: the password is the old one and the session lives.
    assert!(app.current_user(&client).await.is_object());
    assert_eq!(
        app.sign_in(&reqwest::Client::new(), &email, PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}
