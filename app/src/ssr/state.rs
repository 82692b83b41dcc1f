//! The state every handler, server function and page render shares.

use super::payments::Gateway;
use super::{Db, Settings, rate_limit::RateLimiter};
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub auth_limiter: Arc<RateLimiter>,
    pub gateway: Arc<Gateway>,
    pub browse_cache: Arc<super::services::tickets::BrowseCache>,
    pub leptos_options: LeptosOptions,
}

impl AppState {
    pub fn new(
        db: Db,
        settings: Settings,
        gateway: Gateway,
        leptos_options: LeptosOptions,
    ) -> AppState {
        let auth_limiter = Arc::new(RateLimiter::per_minute(settings.auth_rate_limit));
        AppState {
            db,
            settings: Arc::new(settings),
            auth_limiter,
            gateway: Arc::new(gateway),
            browse_cache: Arc::default(),
            leptos_options,
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
