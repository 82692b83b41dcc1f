//! The one way into every business verb. An adapter (a JSON handler, a server function, a
//! background task) builds a [`Ctx`] — who is asking, and what the services work with — parses
//! its input into the service's typed input, calls one service, and maps the result.

use super::clock::SharedClock;
use super::{AppState, Db, Settings};
use crate::domain::{Id, Timestamp};
use crate::error::AppError;
use std::net::IpAddr;
use tower_sessions::Session;

/// What every service call gets: the database, the clock, the gateway and settings (through
/// the application state), and who is acting.
#[derive(Clone)]
pub struct Ctx {
    app: AppState,
    clock: SharedClock,
    actor: Option<Id>,
    visitor: Option<Visitor>,
}

/// The browser or API client behind a request: its session (to sign in or out), its address
/// (for the sign-in rate limits) and what it says it is (for the list of signed-in sessions).
#[derive(Clone)]
pub struct Visitor {
    pub session: Session,
    pub ip: IpAddr,
    pub user_agent: String,
}

/// The `User-Agent` header as the session list shows it: printable, at most 300 characters.
pub fn user_agent(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect()
}

impl Ctx {
    /// Work nobody asked for in a request: the expiry sweep, resuming payments, seeding.
    pub fn system(app: &AppState) -> Ctx {
        Ctx {
            app: app.clone(),
            clock: app.clock.clone(),
            actor: None,
            visitor: None,
        }
    }

    /// A request from `session` at `ip`; the actor is whoever that session is signed in as.
    pub async fn for_request(
        app: AppState,
        session: Session,
        ip: IpAddr,
        user_agent: String,
    ) -> Result<Ctx, AppError> {
        let actor = super::session::user_id(&session).await?;
        Ok(Ctx {
            clock: app.clock.clone(),
            app,
            actor,
            visitor: Some(Visitor {
                session,
                ip,
                user_agent,
            }),
        })
    }

    /// The same context acting as `user` (tests and tools that act for someone).
    pub fn acting_as(&self, user: Id) -> Ctx {
        Ctx {
            actor: Some(user),
            ..self.clone()
        }
    }

    /// The same context telling the time by `clock` (tests that look ahead without moving the
    /// application's clock, and so without waking its background tasks).
    pub fn with_clock(&self, clock: SharedClock) -> Ctx {
        Ctx {
            clock,
            ..self.clone()
        }
    }

    pub fn app(&self) -> &AppState {
        &self.app
    }

    pub fn db(&self) -> &Db {
        &self.app.db
    }

    pub fn settings(&self) -> &Settings {
        &self.app.settings
    }

    /// Wakes this node's mail worker: call it after committing a transaction that queued mail.
    pub fn mail_queued(&self) {
        self.app.mail_queued.notify_one();
    }

    /// Wakes this node's payout job: call it after committing a change that may make money
    /// payable now.
    pub fn payouts_due(&self) {
        self.app.payouts_due.notify_one();
    }

    /// Wakes this node's refund job: call it after cancelling an event.
    pub fn refunds_due(&self) {
        self.app.refunds_due.notify_one();
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// The time now, by the application's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Who is signed in, if anyone.
    pub fn actor(&self) -> Option<&Id> {
        self.actor.as_ref()
    }

    /// Who is signed in, or 401.
    pub fn user(&self) -> Result<&Id, AppError> {
        self.actor.as_ref().ok_or(AppError::Unauthenticated)
    }

    /// The client behind the request. Verbs that sign in or out need one; asking for it
    /// outside a request is a wiring bug.
    pub fn visitor(&self) -> Result<&Visitor, AppError> {
        self.visitor.as_ref().ok_or_else(|| {
            super::error_response::internal(anyhow::anyhow!(
                "a verb that needs the visitor's session ran outside a request"
            ))
        })
    }
}

impl axum::extract::FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Ctx, AppError> {
        use axum::extract::ConnectInfo;
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|(_, message)| {
                super::error_response::internal(anyhow::anyhow!(
                    "the session layer is missing: {message}"
                ))
            })?;
        let ip = parts
            .extensions
            .get::<ConnectInfo<std::net::SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip())
            .ok_or_else(|| {
                super::error_response::internal(anyhow::anyhow!(
                    "the server was started without connect info"
                ))
            })?;
        Ctx::for_request(state.clone(), session, ip, user_agent(&parts.headers)).await
    }
}
