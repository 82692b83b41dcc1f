//! `/api/users/*`: sign-up, sign-in, sign-out and the current user.

use super::ApiJson;
use app::AppError;
use app::ssr::Ctx;
use app::ssr::services::users::{self, Credentials, User};
use app::ssr::services::{accounts, two_factor};
use axum::Json;
use axum::extract::Path;
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
    #[serde(default)]
    code: Value,
}

impl CredentialsBody {
    fn credentials(&self) -> Credentials {
        let text = |value: &Value| value.as_str().unwrap_or_default().to_string();
        Credentials {
            email: text(&self.email),
            password: text(&self.password),
            code: text(&self.code),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserJson {
    id: String,
    email: String,
    email_verified: bool,
    two_factor: bool,
}

impl From<User> for UserJson {
    fn from(user: User) -> UserJson {
        UserJson {
            id: user.id.to_string(),
            email: user.email,
            email_verified: user.email_verified,
            two_factor: user.two_factor,
        }
    }
}

/// A body whose string fields are read leniently: a missing or non-string field is an empty
/// one, which the service reports as that field being invalid.
#[derive(Deserialize)]
pub struct Fields(#[serde(default)] serde_json::Map<String, Value>);

impl Fields {
    fn text(&self, name: &str) -> String {
        self.0
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

fn accepted() -> (StatusCode, Json<Value>) {
    (StatusCode::ACCEPTED, Json(serde_json::json!({})))
}

fn ok() -> Json<Value> {
    Json(serde_json::json!({}))
}

pub async fn verify_email(
    ctx: Ctx,
    ApiJson(body): ApiJson<Fields>,
) -> Result<Json<UserJson>, AppError> {
    let user = accounts::verify_email(&ctx, &body.text("token")).await?;
    Ok(Json(user.into()))
}

pub async fn resend_verification(ctx: Ctx) -> Result<(StatusCode, Json<Value>), AppError> {
    accounts::resend_verification(&ctx).await?;
    Ok(accepted())
}

pub async fn request_password_reset(
    ctx: Ctx,
    ApiJson(body): ApiJson<Fields>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    accounts::request_password_reset(&ctx, &body.text("email")).await?;
    Ok(accepted())
}

pub async fn reset_password(
    ctx: Ctx,
    ApiJson(body): ApiJson<Fields>,
) -> Result<Json<Value>, AppError> {
    accounts::reset_password(&ctx, &body.text("token"), &body.text("password")).await?;
    Ok(ok())
}

pub async fn change_password(
    ctx: Ctx,
    ApiJson(body): ApiJson<Fields>,
) -> Result<Json<Value>, AppError> {
    ctx.user()?;
    let change = accounts::PasswordChange {
        current_password: body.text("currentPassword"),
        password: body.text("password"),
    };
    accounts::change_password(&ctx, &change).await?;
    Ok(ok())
}

pub async fn change_email(
    ctx: Ctx,
    ApiJson(body): ApiJson<Fields>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    ctx.user()?;
    let change = accounts::EmailChange {
        password: body.text("password"),
        email: body.text("email"),
    };
    accounts::request_email_change(&ctx, &change).await?;
    Ok(accepted())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionJson {
    id: String,
    current: bool,
    user_agent: String,
    created_at: String,
    last_seen_at: String,
}

pub async fn list_sessions(ctx: Ctx) -> Result<Json<Vec<SessionJson>>, AppError> {
    let sessions = accounts::list_sessions(&ctx).await?;
    Ok(Json(
        sessions
            .into_iter()
            .map(|s| SessionJson {
                id: s.id,
                current: s.current,
                user_agent: s.user_agent,
                created_at: s.created_at.to_rfc3339(),
                last_seen_at: s.last_seen_at.to_rfc3339(),
            })
            .collect(),
    ))
}

pub async fn end_session(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    accounts::end_session(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetupJson {
    secret: String,
    otpauth_url: String,
}

pub async fn two_factor_setup(
    ctx: Ctx,
    ApiJson(body): ApiJson<Fields>,
) -> Result<Json<SetupJson>, AppError> {
    ctx.user()?;
    let setup = two_factor::setup(&ctx, &body.text("password")).await?;
    Ok(Json(SetupJson {
        secret: setup.secret,
        otpauth_url: setup.otpauth_url,
    }))
}

pub async fn two_factor_enable(
    ctx: Ctx,
    ApiJson(body): ApiJson<Fields>,
) -> Result<Json<Value>, AppError> {
    ctx.user()?;
    let codes = two_factor::enable(&ctx, &body.text("code")).await?;
    Ok(Json(serde_json::json!({ "recoveryCodes": codes })))
}

pub async fn two_factor_disable(
    ctx: Ctx,
    ApiJson(body): ApiJson<Fields>,
) -> Result<Json<Value>, AppError> {
    ctx.user()?;
    two_factor::disable(&ctx, &body.text("password"), &body.text("code")).await?;
    Ok(ok())
}

pub async fn end_other_sessions(ctx: Ctx) -> Result<StatusCode, AppError> {
    accounts::end_other_sessions(&ctx).await?;
    Ok(StatusCode::NO_CONTENT)
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
