//! `/api/users/*`: sign-up, sign-in, sign-out and the current user.

use super::ApiJson;
use app::AppError;
use app::ssr::services::users::{self, User};
use app::ssr::{AppState, session};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::SocketAddr;
use tower_sessions::Session;

/// `{email, password}`. Fields are read leniently so that a missing or non-string field is
/// reported as that field being invalid, not as a malformed body.
#[derive(Deserialize)]
pub struct CredentialsBody {
    #[serde(default)]
    email: Value,
    #[serde(default)]
    password: Value,
}

impl CredentialsBody {
    fn email(&self) -> &str {
        self.email.as_str().unwrap_or_default()
    }

    fn password(&self) -> &str {
        self.password.as_str().unwrap_or_default()
    }
}

#[derive(Serialize)]
pub struct UserJson {
    id: String,
    email: String,
}

impl From<User> for UserJson {
    fn from(user: User) -> UserJson {
        UserJson {
            id: user.id.to_string(),
            email: user.email,
        }
    }
}

pub async fn sign_up(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    session: Session,
    ApiJson(body): ApiJson<CredentialsBody>,
) -> Result<(StatusCode, Json<UserJson>), AppError> {
    state.auth_limiter.check(client.ip())?;
    let user = users::sign_up(&state.db, body.email(), body.password(), state.clock.now()).await?;
    session::begin(&session, &user.id, state.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    session: Session,
    ApiJson(body): ApiJson<CredentialsBody>,
) -> Result<Json<UserJson>, AppError> {
    state.auth_limiter.check(client.ip())?;
    let user = users::sign_in(&state.db, body.email(), body.password()).await?;
    session::begin(&session, &user.id, state.clock.now()).await?;
    Ok(Json(user.into()))
}

pub async fn sign_out(session: Session) -> Result<Json<Value>, AppError> {
    session::end(&session).await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUserJson {
    current_user: Option<UserJson>,
}

pub async fn current_user(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<CurrentUserJson>, AppError> {
    let current_user = match session::user_id(&session).await? {
        Some(id) => users::find_user(&state.db, &id).await?.map(UserJson::from),
        None => None,
    };
    Ok(Json(CurrentUserJson { current_user }))
}
