//! What a server function needs from the request it serves: the shared state, the session and
//! the client's address. Failing to find them is a wiring bug, reported as an internal error.

use super::AppState;
use super::error_response::internal;
use crate::error::AppError;
use axum::extract::ConnectInfo;
use leptos::prelude::use_context;
use std::net::{IpAddr, SocketAddr};
use tower_sessions::Session;

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        internal(anyhow::anyhow!(
            "AppState was not provided to the server function"
        ))
    })
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|e| internal(anyhow::anyhow!("the session layer is missing: {e}")))
}

pub async fn client_ip() -> Result<IpAddr, AppError> {
    leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map(|ConnectInfo(addr)| addr.ip())
        .map_err(|e| {
            internal(anyhow::anyhow!(
                "the server was started without connect info: {e}"
            ))
        })
}
