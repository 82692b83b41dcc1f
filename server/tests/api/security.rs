//! CSRF protection and security headers.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_cross_site_form_post_is_refused() {
    let app = spawn_app().await;
    let email = unique_email();
    let response = client()
        .post(app.url("/_fn/sign_up"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("accept", "text/html")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_errors(
        response,
        StatusCode::FORBIDDEN,
        json!([{ "message": "Cross-site requests are not allowed" }]),
    )
    .await;
    // Nothing happened: the account does not exist.
    let sign_in = app.sign_in(&client(), &email, PASSWORD).await;
    assert_eq!(sign_in.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_cross_site_api_call_with_cookies_is_refused() {
    let app = spawn_app().await;
    let (client, _) = app.signed_in_user().await;
    let response = client
        .post(app.url("/api/users/signout"))
        .header("origin", "https://evil.example")
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
async fn a_same_origin_form_post_signs_up_and_redirects() {
    let app = spawn_app().await;
    let client = client();
    let email = unique_email();
    let response = client
        .post(app.url("/_fn/sign_up"))
        .header("origin", app.address.as_str())
        .header("referer", app.url("/auth/signup"))
        .header("accept", "text/html")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/");
    assert_eq!(app.current_user(&client).await["email"], json!(email));
}

#[tokio::test]
async fn a_rejected_form_post_returns_to_the_form_with_the_error() {
    let app = spawn_app().await;
    let response = client()
        .post(app.url("/_fn/sign_up"))
        .header("referer", app.url("/auth/signup"))
        .header("accept", "text/html")
        .form(&[("email", "nope"), ("password", "short")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "post/redirect/get, whatever the error's own status"
    );
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&app.url("/auth/signup?")),
        "{location}"
    );
    let page = client()
        .get(&location)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Email is not valid"),
        "the error is shown on the page"
    );
    assert!(page.contains("Password must be between 8 and 128 characters"));
}

#[tokio::test]
async fn pages_carry_security_headers() {
    let app = spawn_app().await;
    let response = app.get(&client(), "/auth/signin").await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(headers["referrer-policy"].to_str().is_ok());
}
