//! The OpenAPI document at `/api/openapi.json` against what the server really answers: one
//! journey through every operation, each answer checked against the document (the property run
//! of `fuzz.rs` checks the refusals the same way).

use crate::contract::{Checked, Contract};
use crate::helpers::*;
use app::domain::role::Role;
use image::ImageEncoder;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashSet;

struct Journey<'a> {
    app: &'a TestApp,
    contract: Contract,
    covered: HashSet<Checked>,
}

impl Journey<'_> {
    /// Sends the request, checks the answer against the document, and returns its JSON body
    /// (null when it has none).
    async fn call(
        &mut self,
        client: &Client,
        method: Method,
        path: &str,
        body: Option<Value>,
        expected: StatusCode,
    ) -> Value {
        let mut request = client.request(method.clone(), self.app.url(path));
        if let Some(body) = &body {
            request = request.json(body);
        }
        self.send(method, path, request, expected).await
    }

    /// [`Journey::call`] with a body that is not JSON.
    async fn call_bytes(
        &mut self,
        client: &Client,
        method: Method,
        path: &str,
        (content_type, body): (&str, Vec<u8>),
        expected: StatusCode,
    ) -> Value {
        let request = client
            .request(method.clone(), self.app.url(path))
            .header("content-type", content_type)
            .body(body);
        self.send(method, path, request, expected).await
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        request: reqwest::RequestBuilder,
        expected: StatusCode,
    ) -> Value {
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = content_type(&response);
        let bytes = if content_type.starts_with("text/event-stream") {
            Vec::new()
        } else {
            response.bytes().await.unwrap().to_vec()
        };
        assert_eq!(
            status,
            expected,
            "{method} {path}: {}",
            String::from_utf8_lossy(&bytes)
        );
        let path_only = path.split('?').next().unwrap();
        match self
            .contract
            .check(&method, path_only, status.as_u16(), &content_type, &bytes)
        {
            Ok(Some(checked)) => {
                self.covered.insert(checked);
            }
            Ok(None) => panic!("{method} {path} is not in the document"),
            Err(contradiction) => panic!("{contradiction}"),
        }
        if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        }
    }
}

#[tokio::test]
async fn every_operation_answers_as_its_openapi_document_says() {
    const TOKEN: &str = "openapi-journey-token-0123456789abcdef";
    let app = spawn_app_with(|config| {
        config.admin_token = Some(TOKEN.to_string());
        config.stripe_webhook_secret = Some("whsec_journey".to_string());
    })
    .await;
    let document: Value = app.get_json(&client(), "/api/openapi.json").await;
    assert_eq!(document["openapi"], "3.1.0");
    let mut journey = Journey {
        app: &app,
        contract: Contract::new(document.clone()),
        covered: HashSet::new(),
    };
    let j = &mut journey;
    use Method as M;
    use StatusCode as S;

    // Accounts.
    let seller = client();
    let seller_email = unique_email();
    let credentials = json!({ "email": seller_email, "password": PASSWORD });
    let seller_json = j
        .call(
            &seller,
            M::POST,
            "/api/users/signup",
            Some(credentials.clone()),
            S::CREATED,
        )
        .await;
    let seller_id = seller_json["id"].as_str().unwrap().to_string();
    j.call(&seller, M::GET, "/api/users/currentuser", None, S::OK)
        .await;
    j.call(
        &seller,
        M::POST,
        "/api/users/verify/resend",
        None,
        S::ACCEPTED,
    )
    .await;
    let token = token_sent(&app, &seller_email, "verify").await;
    j.call(
        &seller,
        M::POST,
        "/api/users/verify",
        Some(json!({ "token": token })),
        S::OK,
    )
    .await;
    j.call(
        &client(),
        M::POST,
        "/api/users/signin",
        Some(credentials.clone()),
        S::OK,
    )
    .await;
    let sessions = j
        .call(&seller, M::GET, "/api/users/sessions", None, S::OK)
        .await;
    let other = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap();
    j.call(
        &seller,
        M::DELETE,
        &format!("/api/users/sessions/{}", other["id"].as_str().unwrap()),
        None,
        S::NO_CONTENT,
    )
    .await;
    j.call(
        &seller,
        M::DELETE,
        "/api/users/sessions",
        None,
        S::NO_CONTENT,
    )
    .await;
    let setup = j
        .call(
            &seller,
            M::POST,
            "/api/users/2fa/setup",
            Some(json!({ "password": PASSWORD })),
            S::OK,
        )
        .await;
    let secret = setup["secret"].as_str().unwrap().to_string();
    let code = app::ssr::totp::code_at(&secret, app.clock.now()).unwrap();
    j.call(
        &seller,
        M::POST,
        "/api/users/2fa/enable",
        Some(json!({ "code": code })),
        S::OK,
    )
    .await;
    app.clock.advance(31_000);
    let code = app::ssr::totp::code_at(&secret, app.clock.now()).unwrap();
    j.call(
        &seller,
        M::POST,
        "/api/users/2fa/disable",
        Some(json!({ "password": PASSWORD, "code": code })),
        S::OK,
    )
    .await;
    j.call(
        &client(),
        M::POST,
        "/api/users/password-reset",
        Some(json!({ "email": seller_email })),
        S::ACCEPTED,
    )
    .await;
    let reset = token_sent(&app, &seller_email, "reset").await;
    let new_password = "another horse battery";
    j.call(
        &client(),
        M::POST,
        "/api/users/password-reset/confirm",
        Some(json!({ "token": reset, "password": new_password })),
        S::OK,
    )
    .await;
    let seller = client();
    j.call(
        &seller,
        M::POST,
        "/api/users/signin",
        Some(json!({ "email": seller_email, "password": new_password })),
        S::OK,
    )
    .await;
    j.call(
        &seller,
        M::POST,
        "/api/users/password",
        Some(json!({ "currentPassword": new_password, "password": PASSWORD })),
        S::OK,
    )
    .await;
    j.call(
        &seller,
        M::POST,
        "/api/users/email",
        Some(json!({ "password": PASSWORD, "email": unique_email() })),
        S::ACCEPTED,
    )
    .await;

    // Listings, orders, payments, custody.
    let ticket = j.call(&seller, M::POST, "/api/tickets", Some(json!({ "title": "Cup final", "price": 20.5, "venue": "Stadium", "startsAt": "2030-06-01T19:00:00Z" })), S::CREATED).await;
    let id = ticket["id"].as_str().unwrap().to_string();
    j.call(
        &client(),
        M::GET,
        "/api/tickets?q=cup&sort=price",
        None,
        S::OK,
    )
    .await;
    j.call(
        &client(),
        M::GET,
        &format!("/api/tickets/{id}"),
        None,
        S::OK,
    )
    .await;
    j.call(
        &seller,
        M::PUT,
        &format!("/api/tickets/{id}"),
        Some(json!({ "title": "Cup final", "price": 21, "version": ticket["version"] })),
        S::OK,
    )
    .await;
    let (buyer, _) = app.signed_in_user().await;
    let order = j
        .call(
            &buyer,
            M::POST,
            "/api/orders",
            Some(json!({ "ticketId": id, "price": 21 })),
            S::CREATED,
        )
        .await;
    let order_id = order["id"].as_str().unwrap().to_string();
    j.call(&buyer, M::GET, "/api/orders", None, S::OK).await;
    j.call(
        &buyer,
        M::GET,
        &format!("/api/orders/{order_id}"),
        None,
        S::OK,
    )
    .await;
    j.call(
        &buyer,
        M::POST,
        "/api/payments",
        Some(json!({ "orderId": order_id, "token": "tok_visa" })),
        S::CREATED,
    )
    .await;
    let mine = j
        .call(&buyer, M::GET, "/api/tickets/mine", None, S::OK)
        .await;
    let code = mine["bought"][0]["code"].as_str().unwrap().to_string();
    let (friend, friend_email) = app.signed_in_user().await;
    j.call(
        &buyer,
        M::POST,
        &format!("/api/tickets/{id}/transfer"),
        Some(json!({ "email": friend_email })),
        S::OK,
    )
    .await;
    let given = app
        .create_ticket(&seller, &json!({ "title": "Second", "price": 10 }))
        .await;
    let given_id = given["id"].as_str().unwrap().to_string();
    app.buy(&friend, &given_id).await;
    j.call(
        &friend,
        M::POST,
        &format!("/api/tickets/{given_id}/transfer"),
        Some(json!({ "email": "nobody-yet@example.com" })),
        S::OK,
    )
    .await;
    j.call(
        &friend,
        M::DELETE,
        &format!("/api/tickets/{given_id}/transfer"),
        None,
        S::NO_CONTENT,
    )
    .await;
    j.call(
        &friend,
        M::POST,
        &format!("/api/tickets/{given_id}/resell"),
        Some(json!({ "price": 11 })),
        S::CREATED,
    )
    .await;
    let third = app
        .create_ticket(&seller, &json!({ "title": "Third", "price": 5 }))
        .await;
    let reserved = j
        .call(
            &buyer,
            M::POST,
            "/api/orders",
            Some(json!({ "ticketId": third["id"] })),
            S::CREATED,
        )
        .await;
    j.call(
        &buyer,
        M::DELETE,
        &format!("/api/orders/{}", reserved["id"].as_str().unwrap()),
        None,
        S::NO_CONTENT,
    )
    .await;

    // The door, payouts.
    let (door, door_email) = app.signed_in_user().await;
    app.grant(&door_email, Role::Staff).await;
    let _ = code;
    let friend_code = j
        .call(&friend, M::GET, "/api/tickets/mine", None, S::OK)
        .await;
    let transferred = friend_code["bought"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["ticket"]["id"] == json!(id))
        .unwrap()["code"]
        .clone();
    // An other listing's code admits at no event's door: `wrong_event`, still a 200.
    let gig = app.event_on_sale("Door", 5.0, 1).await;
    j.call(
        &door,
        M::POST,
        "/api/check-ins",
        Some(json!({ "code": transferred, "eventId": gig.event_id })),
        S::OK,
    )
    .await;
    j.call(&seller, M::GET, "/api/payouts", None, S::OK).await;
    j.call(
        &seller,
        M::POST,
        "/api/payouts/account",
        Some(json!({})),
        S::OK,
    )
    .await;

    // The console and the event log.
    let (admin, admin_email) = app.signed_in_user().await;
    app.grant(&admin_email, Role::Admin).await;
    let fourth = app
        .create_ticket(&seller, &json!({ "title": "Fourth", "price": 5 }))
        .await;
    j.call(
        &admin,
        M::POST,
        &format!(
            "/api/admin/tickets/{}/takedown",
            fourth["id"].as_str().unwrap()
        ),
        Some(json!({ "reason": "Fraud" })),
        S::OK,
    )
    .await;
    j.call(
        &admin,
        M::POST,
        &format!("/api/admin/users/{seller_id}/payouts/hold"),
        Some(json!({ "reason": "Review" })),
        S::OK,
    )
    .await;
    j.call(
        &admin,
        M::DELETE,
        &format!("/api/admin/users/{seller_id}/payouts/hold"),
        Some(json!({ "reason": "Done" })),
        S::OK,
    )
    .await;
    let fifth = app
        .create_ticket(&seller, &json!({ "title": "Fifth", "price": 5 }))
        .await;
    let paid = app.buy(&buyer, fifth["id"].as_str().unwrap()).await;
    j.call(
        &admin,
        M::POST,
        &format!("/api/admin/orders/{}/refund", paid["id"].as_str().unwrap()),
        Some(json!({ "reason": "Cancelled" })),
        S::OK,
    )
    .await;
    j.call(
        &admin,
        M::POST,
        &format!("/api/admin/users/{seller_id}/suspend"),
        Some(json!({ "reason": "Fraud" })),
        S::OK,
    )
    .await;
    j.call(
        &admin,
        M::DELETE,
        &format!("/api/admin/users/{seller_id}/suspend"),
        None,
        S::OK,
    )
    .await;
    j.call(&admin, M::GET, "/api/admin/audit?limit=10", None, S::OK)
        .await;
    let with_token = Client::builder()
        .default_headers(
            std::iter::once((
                reqwest::header::AUTHORIZATION,
                format!("Bearer {TOKEN}").parse().unwrap(),
            ))
            .collect(),
        )
        .build()
        .unwrap();
    j.call(
        &with_token,
        M::GET,
        "/api/feed?after=0&limit=1000",
        None,
        S::OK,
    )
    .await;
    // Events: an organiser creates, edits and publishes one; anyone reads it.
    let (organiser, organiser_email, _) = app.verified_user().await;
    app.grant(&organiser_email, app::domain::role::Role::Organiser)
        .await;
    let event_body = json!({
        "name": "Journey live",
        "venue": "The Hall",
        "timeZone": "Europe/Paris",
        "startsAt": "2031-03-01T20:00",
        "sections": [{ "name": "Floor", "price": 30, "capacity": 10 }]
    });
    let event = j
        .call(
            &organiser,
            M::POST,
            "/api/events",
            Some(event_body.clone()),
            S::CREATED,
        )
        .await;
    let event_id = event["id"].as_str().unwrap().to_string();
    j.call(
        &organiser,
        M::PUT,
        &format!("/api/events/{event_id}"),
        Some(event_body),
        S::OK,
    )
    .await;
    j.call(
        &organiser,
        M::POST,
        &format!("/api/events/{event_id}/publish"),
        Some(json!({})),
        S::OK,
    )
    .await;
    j.call(
        &client(),
        M::GET,
        &format!("/api/events/{event_id}"),
        None,
        S::OK,
    )
    .await;
    j.call(&client(), M::GET, "/api/events?when=month", None, S::OK)
        .await;
    let (door_user, door_email) = app.signed_in_user().await;
    let door_id = app.current_user(&door_user).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    j.call(
        &organiser,
        M::POST,
        &format!("/api/events/{event_id}/staff"),
        Some(json!({ "email": door_email })),
        S::OK,
    )
    .await;
    j.call(
        &organiser,
        M::DELETE,
        &format!("/api/events/{event_id}/staff/{door_id}"),
        None,
        S::OK,
    )
    .await;
    let draft = j
        .call(
            &organiser,
            M::POST,
            "/api/events",
            Some(json!({
                "name": "Journey draft",
                "venue": "The Hall",
                "timeZone": "Europe/Paris",
                "startsAt": "2031-03-02T20:00",
                "sections": []
            })),
            S::CREATED,
        )
        .await;
    j.call(
        &organiser,
        M::DELETE,
        &format!("/api/events/{}", draft["id"].as_str().unwrap()),
        None,
        S::NO_CONTENT,
    )
    .await;
    j.call(
        &organiser,
        M::GET,
        &format!("/api/events/{event_id}/attendees"),
        None,
        S::OK,
    )
    .await;
    let mut image = Vec::new();
    image::codecs::png::PngEncoder::new(&mut image)
        .write_image(&[200; 8 * 4 * 3], 8, 4, image::ExtendedColorType::Rgb8)
        .unwrap();
    let with_image = j
        .call_bytes(
            &organiser,
            M::PUT,
            &format!("/api/events/{event_id}/image"),
            ("image/png", image),
            S::OK,
        )
        .await;
    assert!(with_image["imageUrl"].is_string());
    j.call(
        &organiser,
        M::DELETE,
        &format!("/api/events/{event_id}/image"),
        None,
        S::OK,
    )
    .await;
    j.call(
        &organiser,
        M::POST,
        &format!("/api/events/{event_id}/cancel"),
        Some(json!({ "reason": "The band is ill" })),
        S::OK,
    )
    .await;
    j.call(&client(), M::GET, "/api/tickets/stream", None, S::OK)
        .await;
    j.call(&client(), M::GET, "/api/openapi.json", None, S::OK)
        .await;
    j.call(&seller, M::POST, "/api/users/signout", None, S::OK)
        .await;

    // Refusals are documented too (the fuzzer tries many more).
    j.call(
        &client(),
        M::POST,
        "/api/orders",
        Some(json!({ "ticketId": id })),
        S::UNAUTHORIZED,
    )
    .await;
    j.call(
        &client(),
        M::POST,
        "/api/webhooks/stripe",
        Some(json!({})),
        S::BAD_REQUEST,
    )
    .await;

    // Every operation was answered with success at least once, except Stripe's webhook (its
    // signed deliveries are the Stripe tests' business).
    let succeeded: HashSet<(String, String)> = journey
        .covered
        .iter()
        .filter(|c| c.status < 300)
        .map(|c| (c.method.clone(), c.path.clone()))
        .collect();
    let missing: Vec<(String, String)> = journey
        .contract
        .operations()
        .into_iter()
        .filter(|op| !succeeded.contains(op) && op.1 != "/api/webhooks/stripe")
        .collect();
    assert!(
        missing.is_empty(),
        "never answered with success: {missing:?}"
    );
    assert!(
        journey.contract.document()["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|p| p.starts_with("/api/"))
    );
}

#[tokio::test]
async fn the_check_itself_catches_a_contradiction() {
    let app = spawn_app().await;
    let document: Value = app.get_json(&client(), "/api/openapi.json").await;
    let contract = Contract::new(document);
    let ticket = br#"{"id":"x","title":"t","price":1,"buyerPrice":1,"faceValue":null,"category":"other","venue":null,"startsAt":null,"status":"available","userId":"u","orderId":null,"version":0,"createdAt":"c","eventId":null,"sectionId":null,"seat":null,"primary":false}"#;
    let get = Method::GET;
    let path = "/api/tickets/0190f1d2-7c3a-7d4e-8f00-000000000000";
    assert!(
        contract
            .check(&get, path, 200, "application/json", ticket)
            .unwrap()
            .is_some()
    );
    // A field of the wrong type, a missing one, a status not documented, another content type.
    let wrong_type = String::from_utf8_lossy(ticket).replace(r#""version":0"#, r#""version":"0""#);
    assert!(
        contract
            .check(&get, path, 200, "application/json", wrong_type.as_bytes())
            .is_err()
    );
    let missing = String::from_utf8_lossy(ticket).replace(r#""title":"t","#, "");
    assert!(
        contract
            .check(&get, path, 200, "application/json", missing.as_bytes())
            .is_err()
    );
    assert!(
        contract
            .check(&get, path, 201, "application/json", ticket)
            .is_err()
    );
    assert!(
        contract
            .check(&get, path, 200, "text/html", ticket)
            .is_err()
    );
    assert!(
        contract
            .check(
                &get,
                path,
                404,
                "application/json",
                br#"{"errors":[{"message":"Not found"}]}"#
            )
            .unwrap()
            .is_some()
    );
    assert!(
        contract
            .check(
                &get,
                path,
                404,
                "application/json",
                br#"{"error":"Not found"}"#
            )
            .is_err()
    );
    assert!(
        contract
            .check(&Method::PATCH, path, 405, "application/json", b"{}")
            .unwrap()
            .is_none()
    );
}
