//! `/api/users/*`: sign-up, sign-in, sign-out and the current user.

use super::ApiJson;
use app::AppError;
use app::ssr::Ctx;
use app::ssr::services::users::{self, Credentials, User};
use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    fn credentials(&self) -> Credentials {
        let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
        Credentials {
            email: text(&self.email),
            password: text(&self.password),
        }
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
    ctx: Ctx,
    ApiJson(body): ApiJson<CredentialsBody>,
) -> Result<(StatusCode, Json<UserJson>), AppError> {
    let user = users::sign_up(&ctx, &body.credentials()).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

pub async fn sign_in(
    ctx: Ctx,
    ApiJson(body): ApiJson<CredentialsBody>,
) -> Result<Json<UserJson>, AppError> {
    let user = users::sign_in(&ctx, &body.credentials()).await?;
    Ok(Json(user.into()))
}

pub async fn sign_out(ctx: Ctx) -> Result<Json<Value>, AppError> {
    users::sign_out(&ctx).await?;
    Ok(Json(serde_json::json!({})))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUserJson {
    current_user: Option<UserJson>,
}

pub async fn current_user(ctx: Ctx) -> Result<Json<CurrentUserJson>, AppError> {
    let current_user = users::current_user(&ctx).await?.map(UserJson::from);
    Ok(Json(CurrentUserJson { current_user }))
}
