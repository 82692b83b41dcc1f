//! Property-based requests against every route of the JSON API and every server function:
//! whatever the method, path, query, content type and body — hostile strings, huge numbers,
//! deep JSON, garbage bytes — signed out or as an admin, the server never answers 5xx, every
//! refusal is the error envelope, and no answer contradicts the API's OpenAPI document (status,
//! content type, schema).

use crate::contract::Contract;
use crate::helpers::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use reqwest::{Client, Method};
use serde_json::{Value, json};

/// One request as the fuzzer makes it.
#[derive(Debug, Clone)]
struct Fuzzed {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Body,
    signed_in: bool,
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    Form(Vec<(String, String)>),
    Bytes(String, Vec<u8>),
}

const FIELDS: &[&str] = &[
    "title",
    "price",
    "category",
    "venue",
    "startsAt",
    "version",
    "ticketId",
    "orderId",
    "token",
    "email",
    "password",
    "id",
    "ticket_id",
    "order_id",
    "card_number",
    "starts_at",
    "q",
    "sort",
    "page",
    "reason",
    "user_id",
    "suspend",
    "hold",
    "staff",
    "after",
    "limit",
    "before",
];

/// Every server function behind the pages (`/_fn/<name>`); a test checks the list is complete.
const SERVER_FNS: &[&str] = &[
    "sign_up",
    "sign_in",
    "sign_out",
    "current_user",
    "browse_tickets",
    "get_ticket",
    "list_ticket",
    "edit_ticket",
    "reserve_ticket",
    "get_order",
    "list_orders",
    "cancel_order",
    "pay_order",
    "start_checkout",
    "my_tickets",
    "resell_ticket",
    "payment_mode",
    "verify_email",
    "resend_verification",
    "request_password_reset",
    "reset_password",
    "change_password",
    "change_email",
    "list_sessions",
    "end_session",
    "end_other_sessions",
    "two_factor_setup",
    "pending_two_factor",
    "two_factor_enable",
    "take_recovery_codes",
    "two_factor_disable",
    "payouts_overview",
    "connect_payout_account",
    "check_in_code",
    "transfer_ticket",
    "cancel_transfer",
    "door_state",
    "catalogue_events",
    "event_page",
    "reserve_seat",
    "reserve_seats",
    "my_events",
    "organised_event",
    "save_event",
    "save_section",
    "remove_section",
    "publish_event",
    "cancel_event",
    "add_door_staff",
    "remove_door_staff",
    "remove_event_image",
    "admin_dashboard",
    "admin_listings",
    "admin_users",
    "admin_orders",
    "admin_payouts",
    "admin_audit",
    "admin_take_down",
    "admin_suspend",
    "admin_refund",
    "admin_hold_payouts",
    "admin_set_staff",
    "listing_time_zone",
];

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("</title><script>alert(1)</script>".to_string()),
        Just("\"><img src=x onerror=alert(1)>".to_string()),
        Just("\u{0}\u{1}\u{7f}\u{85}\u{202E}\u{200B}\u{FEFF}".to_string()),
        Just("x".repeat(5000)),
        Just("9".repeat(400)),
        Just("1e309".to_string()),
        Just("-0.0".to_string()),
        Just("../../../etc/passwd".to_string()),
        Just("0190b5e4-0000-7000-8000-000000000000".to_string()),
        Just("ａｄａ@ｅｘａｍｐｌｅ．ｃｏｍ".to_string()),
        "\\PC{0,40}",
        "[a-z0-9@.%-]{0,30}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!(10.000000001)),
        Just(json!(u64::MAX)),
        hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        prop::sample::select(FIELDS).prop_map(str::to_string),
                        "[a-zA-Z]{1,8}"
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

fn segment(ids: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(ids),
        hostile_text().prop_map(|s| percent_encode(&s)),
    ]
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Form fields or query parameters: known names with hostile values.
fn pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop::sample::select(FIELDS).prop_map(str::to_string),
            hostile_text(),
        ),
        0..5,
    )
}

fn request(ids: Vec<String>) -> impl Strategy<Value = Fuzzed> {
    let method = prop::sample::select(vec![
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
    ]);
    // Every route the server has, as its OpenAPI document lists them (the route list is one:
    // `api::routes`), with ids put in their `{…}` segments; then made-up ones.
    let templates: Vec<String> = server::api::openapi::document_json()["paths"]
        .as_object()
        .map(|paths| paths.keys().cloned().collect())
        .unwrap_or_default();
    assert!(templates.len() > 30, "the document lists the routes");
    let path = prop_oneof![
        30 => (prop::sample::select(templates), segment(ids.clone())).prop_map(|(template, id)| {
            template
                .split('/')
                .map(|part| {
                    if part.starts_with('{') {
                        id.as_str()
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join("/")
        }),
        1 => segment(ids).prop_map(|s| format!("/api/{s}")),
        2 => prop::sample::select(SERVER_FNS.to_vec()).prop_map(|name| format!("/_fn/{name}")),
    ];
    let body = prop_oneof![
        Just(Body::None),
        json_value().prop_map(Body::Json),
        pairs().prop_map(Body::Form),
        (
            prop::sample::select(vec![
                "application/json",
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=x",
                "application/cbor",
            ]),
            prop::collection::vec(any::<u8>(), 0..200)
        )
            .prop_map(|(ct, bytes)| Body::Bytes(ct.to_string(), bytes)),
    ];
    (method, path, pairs(), body, any::<bool>()).prop_map(
        |(method, path, query, body, signed_in)| Fuzzed {
            method,
            path,
            query,
            body,
            signed_in,
        },
    )
}

async fn send(
    app: &TestApp,
    clients: &(Client, Client),
    contract: &Contract,
    fuzzed: &Fuzzed,
) -> Result<(), TestCaseError> {
    let client = if fuzzed.signed_in {
        &clients.0
    } else {
        &clients.1
    };
    let mut builder = client
        .request(fuzzed.method.clone(), app.url(&fuzzed.path))
        .query(&fuzzed.query);
    builder = match &fuzzed.body {
        Body::None => builder,
        Body::Json(value) => builder.json(value),
        Body::Form(pairs) => builder.form(pairs),
        Body::Bytes(content_type, bytes) => builder
            .header("content-type", content_type)
            .body(bytes.clone()),
    };
    let response = builder
        .send()
        .await
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let status = response.status();
    prop_assert!(!status.is_server_error(), "{status} for {fuzzed:?}");
    let content_type = content_type(&response);
    // The live stream never ends: its answer is judged by its head.
    let bytes = if content_type.starts_with("text/event-stream") {
        Vec::new()
    } else {
        response
            .bytes()
            .await
            .map_err(|e| TestCaseError::fail(e.to_string()))?
            .to_vec()
    };
    // Whatever the API answers, its own OpenAPI document says it may.
    let path = fuzzed.path.split('?').next().unwrap_or_default();
    if path.starts_with("/api/") {
        match contract.check(&fuzzed.method, path, status.as_u16(), &content_type, &bytes) {
            Ok(Some(_)) => {}
            // Not a documented operation: refused as unknown, or by the admin gate, which
            // answers who may ask before which methods there are.
            Ok(None) => prop_assert!(
                matches!(status.as_u16(), 404 | 405)
                    || (path.starts_with("/api/admin/") && matches!(status.as_u16(), 401 | 403)),
                "{status} for a route the document does not have: {fuzzed:?}"
            ),
            Err(contradiction) => prop_assert!(false, "{contradiction} for {fuzzed:?}"),
        }
    }
    if status.is_client_error() {
        prop_assert!(
            content_type.starts_with("application/json"),
            "{status} as {content_type:?} for {fuzzed:?}"
        );
        let body: Value = serde_json::from_slice(&bytes)
            .map_err(|e| TestCaseError::fail(format!("{e} for {fuzzed:?}")))?;
        let errors = body["errors"].as_array().cloned().unwrap_or_default();
        prop_assert!(
            body.as_object().is_some_and(|o| o.len() == 1) && !errors.is_empty(),
            "not the envelope: {body} for {fuzzed:?}"
        );
        for error in errors {
            let entry = error.as_object().cloned().unwrap_or_default();
            prop_assert!(entry["message"].is_string(), "{error}");
            prop_assert!(
                entry.keys().all(|k| k == "message" || k == "field"),
                "{error}"
            );
        }
    }
    Ok(())
}

#[test]
fn no_request_gets_a_5xx_and_every_refusal_is_the_envelope() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, clients, ids, contract) = runtime.block_on(async {
        let app = spawn_app_with(|config| {
            config.auth_rate_limit = 0;
            config.order_rate_limit = 0;
            config.max_live_orders = 0;
        })
        .await;
        let (seller, _) = app.signed_in_user().await;
        let ticket = app
            .create_ticket(&seller, &json!({ "title": "Fuzzed", "price": 12 }))
            .await;
        let other = app
            .create_ticket(&seller, &json!({ "title": "Also fuzzed", "price": 13 }))
            .await;
        let order: Value = app
            .post_json(&seller, "/api/orders", &json!({ "ticketId": other["id"] }))
            .await
            .json()
            .await
            .unwrap();
        // The signed-in fuzzer is an admin, so the console's routes are tried past their gate.
        let (buyer, buyer_email) = app.signed_in_user().await;
        app.grant(&buyer_email, app::domain::role::Role::Admin)
            .await;
        let seller_id = app.current_user(&seller).await["id"].clone();
        let ids: Vec<String> = [&ticket["id"], &other["id"], &order["id"], &seller_id]
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let document: Value = app.get_json(&client(), "/api/openapi.json").await;
        (app, (buyer, client()), ids, Contract::new(document))
    });
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let mut runner = TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    let result = runner.run(&request(ids), |fuzzed| {
        runtime.block_on(send(&app, &clients, &contract, &fuzzed))
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}

#[test]
fn the_fuzzer_knows_every_server_function() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src/server_fns");
    let mut declared = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for part in source.split("endpoint = \"").skip(1) {
            declared.push(part[..part.find('"').unwrap()].to_string());
        }
    }
    declared.sort();
    let mut known: Vec<String> = SERVER_FNS.iter().map(|s| s.to_string()).collect();
    known.sort();
    assert_eq!(known, declared);
}
