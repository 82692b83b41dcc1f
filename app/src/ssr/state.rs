//! The state every handler, server function and page render shares.

use super::payments::Gateway;
use super::{Db, Settings, rate_limit::RateLimiter};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Cheap to clone (one shared allocation): every middleware, extractor and render takes a copy.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares; reached through it by `Deref`.
pub struct Shared {
    pub db: Db,
    /// Where every service takes the time from (the system clock; a manual one in tests).
    pub clock: super::clock::SharedClock,
    pub settings: Arc<Settings>,
    pub auth_limiter: Arc<RateLimiter>,
    /// Reservations per account (`ORDER_RATE_LIMIT`).
    pub order_limiter: Arc<RateLimiter<crate::domain::Id>>,
    pub gateway: Arc<Gateway>,
    /// Where mail goes (SMTP or `.eml` files); only the outbox worker calls it.
    pub mailer: Arc<super::mail::Mailer>,
    /// Wakes this node's mail worker when a service has queued mail.
    pub mail_queued: Arc<tokio::sync::Notify>,
    /// Wakes this node's payout job when earnings may have become payable (a sale with no
    /// escrow left, an account just connected).
    pub payouts_due: Arc<tokio::sync::Notify>,
    /// Wakes this node's refund job when an event was cancelled.
    pub refunds_due: Arc<tokio::sync::Notify>,
    /// Payments being charged and settled right now, detached from the requests that began them.
    pub payments: Arc<super::services::payments::InFlightPayments>,
    pub browse_cache: Arc<super::browse_cache::BrowseCache>,
    /// Reservations waiting for SQLite's writer, committed together.
    pub reservations: super::services::orders::Reservations,
    /// Public ticket changes for `/api/tickets/stream`.
    pub ticket_feed: super::services::feed::TicketFeed,
    pub leptos_options: LeptosOptions,
    /// Signs the error links of forms posted without JavaScript.
    pub error_link_key: super::page_security::ErrorLinkKey,
}

impl AppState {
    pub fn new(
        db: Db,
        clock: super::clock::SharedClock,
        settings: Settings,
        gateway: Gateway,
        mailer: super::mail::Mailer,
        leptos_options: LeptosOptions,
        error_link_key: super::page_security::ErrorLinkKey,
    ) -> AppState {
        let auth_limiter = Arc::new(RateLimiter::per_minute(
            settings.auth_rate_limit,
            clock.clone(),
        ));
        let order_limiter = Arc::new(RateLimiter::per_minute(
            settings.order_rate_limit,
            clock.clone(),
        ));
        let writers = match db.backend() {
            // One writer.
            super::storage::Backend::Sqlite => 1,
            // Batches side by side, a few, leaving most connections to reads.
            super::storage::Backend::Postgres => 4,
        };
        AppState(Arc::new(Shared {
            order_limiter,
            db,
            settings: Arc::new(settings),
            auth_limiter,
            gateway: Arc::new(gateway),
            mailer: Arc::new(mailer),
            mail_queued: Arc::default(),
            payouts_due: Arc::default(),
            refunds_due: Arc::default(),
            payments: Arc::default(),
            clock,
            browse_cache: Arc::default(),
            reservations: super::services::orders::Reservations::new(writers),
            ticket_feed: Default::default(),
            leptos_options,
            error_link_key,
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
