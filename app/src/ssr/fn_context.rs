//! How a server function finds its [`Ctx`]: the shared state, the session and the client's
//! address from the request it serves. Failing to find them is a wiring bug, reported as an
//! internal error.

use super::AppState;
use super::context::Ctx;
use super::error_response::internal;
use crate::error::AppError;
use axum::extract::ConnectInfo;
use leptos::prelude::use_context;
use std::net::SocketAddr;
use tower_sessions::Session;

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or_else(|| {
        internal(anyhow::anyhow!(
            "AppState was not provided to the server function"
        ))
    })
}

/// The context of the request this server function serves.
pub async fn ctx() -> Result<Ctx, AppError> {
    let state = state()?;
    let session = leptos_axum::extract::<Session>()
        .await
        .map_err(|e| internal(anyhow::anyhow!("the session layer is missing: {e}")))?;
    let ConnectInfo(addr) = leptos_axum::extract::<ConnectInfo<SocketAddr>>()
        .await
        .map_err(|e| {
            internal(anyhow::anyhow!(
                "the server was started without connect info: {e}"
            ))
        })?;
    let headers = leptos_axum::extract::<axum::http::HeaderMap>()
        .await
        .map_err(|e| internal(anyhow::anyhow!("the request headers are missing: {e}")))?;
    Ctx::for_request(
        state,
        session,
        addr.ip(),
        super::context::user_agent(&headers),
    )
    .await
}

/// The context of a request that only a signed-in user may make: 401 before anything else
/// is read.
pub async fn signed_in() -> Result<Ctx, AppError> {
    let ctx = ctx().await?;
    ctx.user()?;
    Ok(ctx)
}
