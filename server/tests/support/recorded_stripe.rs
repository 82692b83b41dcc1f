//! A stand-in for Stripe's API that answers with recorded Stripe responses
//! (`server/tests/recorded/`) and keeps every request it saw, so tests can check what our
//! client sends (the emulator ignores `Idempotency-Key` and has no Checkout Sessions).
#![allow(
    dead_code,
    reason = "each test crate that includes this file uses a different part"
)]

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use std::sync::{Arc, Mutex};

/// One request as the recording server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub authorization: Option<String>,
    pub body: String,
    pub query: Option<String>,
}

#[derive(Clone, Default)]
pub struct Recorder {
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// When set, payment calls wait at the gate until the test lets them through.
    pub gate: Option<Arc<Gate>>,
    /// When set, transfers are refused as Stripe refuses one to an account that cannot receive
    /// them.
    pub refuse_transfers: bool,
}

/// Holds payment calls (`POST /v1/payment_intents`) until released: a provider that answers
/// only when the test says so.
pub struct Gate {
    /// Notified when a payment call arrives at the gate.
    pub arrived: tokio::sync::Notify,
    /// One permit lets one waiting call through.
    pub release: tokio::sync::Semaphore,
}

impl Default for Gate {
    fn default() -> Self {
        Gate {
            arrived: tokio::sync::Notify::new(),
            release: tokio::sync::Semaphore::new(0),
        }
    }
}

/// Answers as Stripe answered these calls (trimmed recordings of real test-mode responses).
async fn stripe_replay(
    State(recorder): State<Recorder>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    recorder.seen.lock().unwrap().push(Seen {
        method: method.clone(),
        path: uri.path().to_string(),
        idempotency_key: header("idempotency-key"),
        authorization: header("authorization"),
        body,
        query: uri.query().map(str::to_string),
    });
    if let Some(gate) = &recorder.gate
        && method == Method::POST
        && uri.path() == "/v1/payment_intents"
    {
        gate.arrived.notify_one();
        if let Ok(permit) = gate.release.acquire().await {
            permit.forget();
        }
    }
    if recorder.refuse_transfers && method == Method::POST && uri.path() == "/v1/transfers" {
        return (
            StatusCode::BAD_REQUEST,
            [("content-type", "application/json")],
            include_str!("../recorded/transfer_refused.json"),
        );
    }
    let json = match (method.as_str(), uri.path()) {
        ("POST", "/v1/accounts") => include_str!("../recorded/account_created.json"),
        ("POST", "/v1/account_links") => include_str!("../recorded/account_link.json"),
        ("GET", "/v1/accounts/acct_1ReCoRdEdSeLLeR") => {
            include_str!("../recorded/account_ready.json")
        }
        ("POST", "/v1/transfers") => include_str!("../recorded/transfer.json"),
        ("GET", "/v1/transfers") => include_str!("../recorded/transfer_list_empty.json"),
        ("POST", "/v1/payment_methods") => include_str!("../recorded/payment_method.json"),
        ("POST", "/v1/payment_intents") => {
            include_str!("../recorded/payment_intent_succeeded.json")
        }
        ("POST", "/v1/checkout/sessions") => include_str!("../recorded/checkout_session_open.json"),
        ("GET", "/v1/checkout/sessions/cs_test_a1ReCoRdEd") => {
            include_str!("../recorded/checkout_session_paid.json")
        }
        _ => {
            return (
                StatusCode::NOT_FOUND,
                [("content-type", "application/json")],
                include_str!("../recorded/not_found.json"),
            );
        }
    };
    (StatusCode::OK, [("content-type", "application/json")], json)
}

pub async fn recording_stripe() -> (String, Recorder) {
    serve_recorder(Recorder::default()).await
}

/// A recording Stripe that refuses every transfer.
pub async fn refusing_stripe() -> (String, Recorder) {
    serve_recorder(Recorder {
        refuse_transfers: true,
        ..Recorder::default()
    })
    .await
}

/// A recording Stripe whose payment calls wait at the returned gate.
pub async fn gated_stripe() -> (String, Recorder, Arc<Gate>) {
    let gate = Arc::new(Gate::default());
    let (base, recorder) = serve_recorder(Recorder {
        gate: Some(gate.clone()),
        ..Recorder::default()
    })
    .await;
    (base, recorder, gate)
}

async fn serve_recorder(recorder: Recorder) -> (String, Recorder) {
    let app = Router::new()
        .fallback(stripe_replay)
        .with_state(recorder.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, recorder)
}

pub fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        let key = urldecode(key);
        (key == name).then(|| urldecode(value))
    })
}

fn urldecode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&String::from_utf8_lossy(&bytes[i + 1..i + 3]), 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
