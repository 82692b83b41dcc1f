//! The JSON API's OpenAPI 3.1 document, served at `/api/openapi.json`. It is derived with
//! `utoipa` from the handlers' own annotations and the types they read and answer, taken from
//! the route list itself (`api::routes`), so it changes with them; the tests check the running
//! server against it.

use axum::Json;
use serde::Serialize;
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

/// How a client proves who it is: the session cookie, or for `/api/events` the admin token.
struct Authentication;

impl Modify for Authentication {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "ticketing_session",
                "Set by sign-up and sign-in",
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("ADMIN_TOKEN"))
                    .build(),
            ),
        );
    }
}

/// Every refusal: `{"errors":[{"message","field"?}]}`.
#[derive(Serialize, ToSchema)]
pub struct ErrorEnvelope {
    errors: Vec<ErrorEntry>,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorEntry {
    message: String,
    /// The input the error belongs to, when it belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

/// The refusals every operation may answer, each in the error envelope: 400 invalid input or
/// a rule's refusal, 401 signed out, 402 declined, 403 not allowed, 404 unknown id, 405, 409
/// stale version or changed price, 413 body too large, 415 not JSON, 429 too many attempts;
/// 500 bugs, 502 payment provider unreachable, 503 database or node unavailable.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Refusals {
    #[response(status = "4XX", description = "Refused: the error envelope says why")]
    Client(ErrorEnvelope),
    #[response(
        status = "5XX",
        description = "Failed: the error envelope says what to do"
    )]
    Server(ErrorEnvelope),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ticketing",
        description = "The JSON API of a self-hosted marketplace for tickets to live events. \
            Authentication is the session cookie set by sign-up and sign-in; `/api/events` also \
            takes `Authorization: Bearer <ADMIN_TOKEN>`. Bodies are JSON objects of at most \
            16 KiB; times are RFC 3339 UTC; money is a number in major units."
    ),
    components(schemas(ErrorEnvelope, ErrorEntry)),
    modifiers(&Authentication),
    tags(
        (name = "users", description = "Accounts, sign-in, sessions, two-factor sign-in"),
        (name = "tickets", description = "Listings, my tickets, resale, transfers, live changes"),
        (name = "orders", description = "Reservations"),
        (name = "payments", description = "Paying, and Stripe's webhook"),
        (name = "events", description = "Events organisers put on sale, their sections and seats"),
        (name = "door", description = "Check-in"),
        (name = "payouts", description = "Sellers' earnings and payouts"),
        (name = "admin", description = "The operator's console and the event log"),
    )
)]
pub struct ApiDoc;

/// The document, built once.
pub fn document_json() -> &'static serde_json::Value {
    static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, routes) = super::routes().split_for_parts();
        let api = ApiDoc::openapi().nest("/api", routes);
        let mut doc = serde_json::to_value(api).expect("the document serializes");
        doc["info"]["version"] = serde_json::Value::String(env!("CARGO_PKG_VERSION").to_string());
        doc
    })
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(get, path = "/openapi.json", tag = "admin",
    responses((status = 200, description = "This OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document() -> Json<&'static serde_json::Value> {
    Json(document_json())
}
