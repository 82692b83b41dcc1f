//! Two-factor sign-in (docs/RULES.md, "Accounts"): set-up, enabling with a code, codes accepted once, recovery
//! codes, turning it off. Codes are computed from the secret at the test clock's time.

use crate::helpers::*;
use app::ssr::totp::code_at;
use futures::future::join_all;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const STEP: i64 = 30_000;

async fn post(app: &TestApp, client: &Client, path: &str, body: Value) -> reqwest::Response {
    app.post_json(client, path, &body).await
}

fn code_now(app: &TestApp, secret: &str) -> String {
    code_at(secret, app.clock.now()).unwrap()
}

async fn sign_in_with(app: &TestApp, email: &str, code: Option<&str>) -> reqwest::Response {
    let mut body = json!({ "email": email, "password": PASSWORD });
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    post(app, &client(), "/api/users/signin", body).await
}

/// An account with two-factor on: (its client, email, secret, recovery codes).
async fn with_two_factor(app: &TestApp) -> (Client, String, String, Vec<String>) {
    let (client, email) = app.signed_in_user().await;
    let response = post(
        app,
        &client,
        "/api/users/2fa/setup",
        json!({ "password": PASSWORD }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let setup: Value = response.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap().to_string();
    let response = post(
        app,
        &client,
        "/api/users/2fa/enable",
        json!({ "code": code_now(app, &secret) }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let codes = body["recoveryCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (client, email, secret, codes)
}

async fn invalid_code(response: reqwest::Response) {
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Invalid two-factor code", "field": "code" }]),
    )
    .await;
}

#[tokio::test]
async fn set_up_needs_the_password_and_changes_nothing_until_a_code_confirms_it() {
    let app = spawn_app().await;
    let path = "/api/users/2fa/setup";
    assert_eq!(
        post(&app, &client(), path, json!({ "password": PASSWORD }))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let (client, email) = app.signed_in_user().await;
    assert_errors(
        post(
            &app,
            &client,
            path,
            json!({ "password": "not my password" }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Password is incorrect", "field": "password" }]),
    )
    .await;
    let response = post(&app, &client, path, json!({ "password": PASSWORD })).await;
    assert_eq!(response.status(), StatusCode::OK);
    let setup: Value = response.json().await.unwrap();
    let secret = setup["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    let url = setup["otpauthUrl"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/Ticketing:"), "{url}");
    assert!(url.contains(&format!("secret={secret}")));
    assert!(url.contains(&email.replace('@', "%40")));

    // Pending only: signing in still needs no code.
    assert_eq!(app.current_user(&client).await["twoFactor"], false);
    assert_eq!(
        sign_in_with(&app, &email, None).await.status(),
        StatusCode::OK
    );
    // A wrong code does not turn it on.
    invalid_code(
        post(
            &app,
            &client,
            "/api/users/2fa/enable",
            json!({ "code": "000000" }),
        )
        .await,
    )
    .await;
    invalid_code(
        post(
            &app,
            &client,
            "/api/users/2fa/enable",
            json!({ "code": "<b>123456</b>" }),
        )
        .await,
    )
    .await;
    assert_eq!(app.current_user(&client).await["twoFactor"], false);
}

#[tokio::test]
async fn enabling_gives_ten_recovery_codes_and_sign_in_then_asks_for_a_code() {
    let app = spawn_app().await;
    let (owner, email, secret, codes) = with_two_factor(&app).await;
    assert_eq!(codes.len(), 10);
    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);
    assert_eq!(app.current_user(&owner).await["twoFactor"], true);
    let mail = app.mailbox().await;
    assert_eq!(mail.last().unwrap().subject, "Two-factor sign-in is on");

    // No code: asked for, and no session.
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let response = post(
        &app,
        &browser,
        "/api/users/signin",
        json!({ "email": email, "password": PASSWORD }),
    )
    .await;
    assert_errors(
        response,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Two-factor code required", "field": "code" }]),
    )
    .await;
    assert!(app.current_user(&browser).await.is_null());
    // The code that turned it on counts as used.
    invalid_code(sign_in_with(&app, &email, Some(&code_now(&app, &secret))).await).await;
    // A wrong password is still "Invalid credentials", whatever the code.
    let wrong = post(
        &app,
        &client(),
        "/api/users/signin",
        json!({ "email": email, "password": "not my password", "code": "123456" }),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);

    // The next step's code works, once.
    app.clock.advance(STEP);
    let code = code_now(&app, &secret);
    let response = sign_in_with(&app, &email, Some(&code)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["twoFactor"], true);
    invalid_code(sign_in_with(&app, &email, Some(&code)).await).await;
    // An older step's code is refused once a newer one was used.
    app.clock.advance(STEP);
    let newer = code_now(&app, &secret);
    assert_eq!(
        sign_in_with(&app, &email, Some(&newer)).await.status(),
        StatusCode::OK
    );
    invalid_code(sign_in_with(&app, &email, Some(&code)).await).await;
    // Codes from two steps away are refused.
    let stale = code_now(&app, &secret);
    app.clock.advance(3 * STEP);
    invalid_code(sign_in_with(&app, &email, Some(&stale)).await).await;
}

#[tokio::test]
async fn each_recovery_code_signs_in_once_in_any_spelling() {
    let app = spawn_app_with(|config| config.auth_rate_limit = 0).await;
    let (_, email, _, codes) = with_two_factor(&app).await;
    let first = &codes[0];
    assert_eq!(first.len(), 11, "two groups of five: {first}");
    assert_eq!(
        sign_in_with(&app, &email, Some(&first.to_uppercase().replace('-', " ")))
            .await
            .status(),
        StatusCode::OK
    );
    invalid_code(sign_in_with(&app, &email, Some(first)).await).await;
    assert_eq!(
        sign_in_with(&app, &email, Some(&codes[1])).await.status(),
        StatusCode::OK
    );
    for hostile in [
        "<script>",
        "abcde-fghij",
        &"7".repeat(10_000),
        "\u{0}\u{202e}",
    ] {
        invalid_code(sign_in_with(&app, &email, Some(hostile)).await).await;
        app.clock.advance(15 * 60 * 1000);
    }
}

#[tokio::test]
async fn wrong_codes_count_as_failed_sign_ins() {
    let app = spawn_app_with(|config| config.auth_rate_limit = 0).await;
    let (_, email, secret, _) = with_two_factor(&app).await;
    for _ in 0..5 {
        invalid_code(sign_in_with(&app, &email, Some("000000")).await).await;
    }
    // The next step's code is a right one (the clock may be a step behind the phone's), but
    // sign-in for the address is closed for now.
    let next = code_at(&secret, app.clock.now().plus_millis(STEP)).unwrap();
    let response = sign_in_with(&app, &email, Some(&next)).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(STEP);
    assert_eq!(
        sign_in_with(&app, &email, Some(&next)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_code_used_by_many_sign_ins_at_once_lets_exactly_one_in() {
    let app = spawn_app_with(|config| config.auth_rate_limit = 0).await;
    let (_, email, secret, codes) = with_two_factor(&app).await;
    app.clock.advance(STEP);
    let code = code_now(&app, &secret);
    for code in [code.as_str(), codes[0].as_str()] {
        let answers = join_all((0..12).map(|_| sign_in_with(&app, &email, Some(code)))).await;
        let statuses: Vec<StatusCode> = answers.iter().map(|r| r.status()).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == StatusCode::OK).count(),
            1,
            "{statuses:?}"
        );
        // The losers are wrong codes now, and enough of them close sign-in for a while.
        assert!(statuses.iter().all(|s| {
            [
                StatusCode::OK,
                StatusCode::BAD_REQUEST,
                StatusCode::TOO_MANY_REQUESTS,
            ]
            .contains(s)
        }));
        app.clock.advance(15 * 60 * 1000);
    }
}

#[tokio::test]
async fn turning_it_off_needs_the_password_and_a_code() {
    let app = spawn_app().await;
    let (client, email, secret, codes) = with_two_factor(&app).await;
    let path = "/api/users/2fa/disable";
    app.clock.advance(STEP);
    assert_errors(
        post(
            &app,
            &client,
            path,
            json!({ "password": "wrong password!", "code": code_now(&app, &secret) }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Password is incorrect", "field": "password" }]),
    )
    .await;
    invalid_code(
        post(
            &app,
            &client,
            path,
            json!({ "password": PASSWORD, "code": "999999" }),
        )
        .await,
    )
    .await;
    assert_errors(
        post(
            &app,
            &client,
            "/api/users/2fa/setup",
            json!({ "password": PASSWORD }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Two-factor sign-in is already on" }]),
    )
    .await;
    // A recovery code will do.
    let response = post(
        &app,
        &client,
        path,
        json!({ "password": PASSWORD, "code": codes[3] }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(app.current_user(&client).await["twoFactor"], false);
    assert_eq!(
        sign_in_with(&app, &email, None).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.mailbox().await.last().unwrap().subject,
        "Two-factor sign-in is off"
    );
    assert_errors(
        post(
            &app,
            &client,
            path,
            json!({ "password": PASSWORD, "code": codes[4] }),
        )
        .await,
        StatusCode::BAD_REQUEST,
        json!([{ "message": "Two-factor sign-in is not on" }]),
    )
    .await;
}
