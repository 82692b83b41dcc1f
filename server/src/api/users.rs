//! `/api/users/*`: sign-up, sign-in, sign-out and the current user.

use super::ApiJson;
use super::openapi::Refusals;
use app::AppError;
use app::ssr::Ctx;
use app::ssr::services::users::{self, Credentials, User};
use app::ssr::services::{accounts, two_factor};
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// A body of text fields read leniently: a missing or non-string field is an empty one, which
/// the service reports as that field being invalid (not as a malformed body).
macro_rules! text_body {
    ($(#[$doc:meta])* $name:ident { $($(#[$field_doc:meta])* $field:ident),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Deserialize, ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            $(
                $(#[$field_doc])*
                #[serde(default)]
                #[schema(value_type = String)]
                $field: Value,
            )*
        }
    };
}

/// A text field as the services read it (anything but a string is empty).
fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

text_body!(
    /// Sign-up and sign-in.
    CredentialsBody {
        email,
        password,
        /// At sign-in with two-factor on: a code from the authenticator app or a recovery code.
        code,
    }
);

impl CredentialsBody {
    fn credentials(&self) -> Credentials {
        Credentials {
            email: text(&self.email),
            password: text(&self.password),
            code: text(&self.code),
        }
    }
}

text_body!(
    /// The token from a mailed link.
    TokenBody { token }
);
text_body!(EmailBody { email });
text_body!(
    /// A new password with the token from the reset link.
    ResetBody { token, password }
);
text_body!(PasswordChangeBody {
    current_password,
    password
});
text_body!(
    /// The account's password and the new address.
    EmailChangeBody { password, email }
);
text_body!(PasswordBody { password });
text_body!(
    /// A code from the authenticator app.
    CodeBody { code }
);
text_body!(
    /// The password and a code from the app (or a recovery code).
    DisableBody { password, code }
);

/// An answer with nothing to say: `{}`.
#[derive(Serialize, ToSchema)]
pub struct EmptyJson {}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryCodesJson {
    /// Ten codes, each signing in once without the app.
    recovery_codes: Vec<String>,
}

/// An account as the API shows it.
#[derive(Serialize, ToSchema)]
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

fn accepted() -> (StatusCode, Json<EmptyJson>) {
    (StatusCode::ACCEPTED, Json(EmptyJson {}))
}

fn ok() -> Json<EmptyJson> {
    Json(EmptyJson {})
}

#[utoipa::path(post, path = "/users/verify", tag = "users", request_body = TokenBody,
    responses((status = 200, body = UserJson), Refusals))]
pub async fn verify_email(
    ctx: Ctx,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<Json<UserJson>, AppError> {
    let user = accounts::verify_email(&ctx, &text(&body.token)).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(post, path = "/users/verify/resend", tag = "users",
    responses((status = 202, body = EmptyJson), Refusals))]
pub async fn resend_verification(ctx: Ctx) -> Result<(StatusCode, Json<EmptyJson>), AppError> {
    accounts::resend_verification(&ctx).await?;
    Ok(accepted())
}

#[utoipa::path(post, path = "/users/password-reset", tag = "users", request_body = EmailBody,
    responses((status = 202, body = EmptyJson), Refusals))]
pub async fn request_password_reset(
    ctx: Ctx,
    ApiJson(body): ApiJson<EmailBody>,
) -> Result<(StatusCode, Json<EmptyJson>), AppError> {
    accounts::request_password_reset(&ctx, &text(&body.email)).await?;
    Ok(accepted())
}

#[utoipa::path(post, path = "/users/password-reset/confirm", tag = "users",
    request_body = ResetBody, responses((status = 200, body = EmptyJson), Refusals))]
pub async fn reset_password(
    ctx: Ctx,
    ApiJson(body): ApiJson<ResetBody>,
) -> Result<Json<EmptyJson>, AppError> {
    accounts::reset_password(&ctx, &text(&body.token), &text(&body.password)).await?;
    Ok(ok())
}

#[utoipa::path(post, path = "/users/password", tag = "users",
    request_body = PasswordChangeBody, responses((status = 200, body = EmptyJson), Refusals))]
pub async fn change_password(
    ctx: Ctx,
    ApiJson(body): ApiJson<PasswordChangeBody>,
) -> Result<Json<EmptyJson>, AppError> {
    ctx.user()?;
    let change = accounts::PasswordChange {
        current_password: text(&body.current_password),
        password: text(&body.password),
    };
    accounts::change_password(&ctx, &change).await?;
    Ok(ok())
}

#[utoipa::path(post, path = "/users/email", tag = "users", request_body = EmailChangeBody,
    responses((status = 202, body = EmptyJson), Refusals))]
pub async fn change_email(
    ctx: Ctx,
    ApiJson(body): ApiJson<EmailChangeBody>,
) -> Result<(StatusCode, Json<EmptyJson>), AppError> {
    ctx.user()?;
    let change = accounts::EmailChange {
        password: text(&body.password),
        email: text(&body.email),
    };
    accounts::request_email_change(&ctx, &change).await?;
    Ok(accepted())
}

/// A signed-in session of the user's.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionJson {
    id: String,
    current: bool,
    user_agent: String,
    created_at: String,
    last_seen_at: String,
}

#[utoipa::path(get, path = "/users/sessions", tag = "users",
    responses((status = 200, body = Vec<SessionJson>), Refusals))]
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

#[utoipa::path(delete, path = "/users/sessions/{id}", tag = "users",
    params(("id" = String, Path, description = "The session's public id")),
    responses((status = 204, description = "The session has ended"), Refusals))]
pub async fn end_session(ctx: Ctx, Path(id): Path<String>) -> Result<StatusCode, AppError> {
    accounts::end_session(&ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetupJson {
    secret: String,
    otpauth_url: String,
}

#[utoipa::path(post, path = "/users/2fa/setup", tag = "users", request_body = PasswordBody,
    responses((status = 200, body = SetupJson), Refusals))]
pub async fn two_factor_setup(
    ctx: Ctx,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<Json<SetupJson>, AppError> {
    ctx.user()?;
    let setup = two_factor::setup(&ctx, &text(&body.password)).await?;
    Ok(Json(SetupJson {
        secret: setup.secret,
        otpauth_url: setup.otpauth_url,
    }))
}

#[utoipa::path(post, path = "/users/2fa/enable", tag = "users", request_body = CodeBody,
    responses((status = 200, body = RecoveryCodesJson), Refusals))]
pub async fn two_factor_enable(
    ctx: Ctx,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Json<RecoveryCodesJson>, AppError> {
    ctx.user()?;
    let recovery_codes = two_factor::enable(&ctx, &text(&body.code)).await?;
    Ok(Json(RecoveryCodesJson { recovery_codes }))
}

#[utoipa::path(post, path = "/users/2fa/disable", tag = "users", request_body = DisableBody,
    responses((status = 200, body = EmptyJson), Refusals))]
pub async fn two_factor_disable(
    ctx: Ctx,
    ApiJson(body): ApiJson<DisableBody>,
) -> Result<Json<EmptyJson>, AppError> {
    ctx.user()?;
    two_factor::disable(&ctx, &text(&body.password), &text(&body.code)).await?;
    Ok(ok())
}

#[utoipa::path(delete, path = "/users/sessions", tag = "users",
    responses((status = 204, description = "Every other session has ended"), Refusals))]
pub async fn end_other_sessions(ctx: Ctx) -> Result<StatusCode, AppError> {
    accounts::end_other_sessions(&ctx).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/users/signup", tag = "users", request_body = CredentialsBody,
    responses((status = 201, body = UserJson, description = "Signed up and signed in (the session cookie is set)"), Refusals))]
pub async fn sign_up(
    ctx: Ctx,
    ApiJson(body): ApiJson<CredentialsBody>,
) -> Result<(StatusCode, Json<UserJson>), AppError> {
    let user = users::sign_up(&ctx, &body.credentials()).await?;
    Ok((StatusCode::CREATED, Json(user.into())))
}

#[utoipa::path(post, path = "/users/signin", tag = "users", request_body = CredentialsBody,
    responses((status = 200, body = UserJson, description = "Signed in (a new session cookie is set)"), Refusals))]
pub async fn sign_in(
    ctx: Ctx,
    ApiJson(body): ApiJson<CredentialsBody>,
) -> Result<Json<UserJson>, AppError> {
    let user = users::sign_in(&ctx, &body.credentials()).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(post, path = "/users/signout", tag = "users",
    responses((status = 200, body = EmptyJson), Refusals))]
pub async fn sign_out(ctx: Ctx) -> Result<Json<EmptyJson>, AppError> {
    users::sign_out(&ctx).await?;
    Ok(ok())
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CurrentUserJson {
    current_user: Option<UserJson>,
}

#[utoipa::path(get, path = "/users/currentuser", tag = "users",
    responses((status = 200, body = CurrentUserJson), Refusals))]
pub async fn current_user(ctx: Ctx) -> Result<Json<CurrentUserJson>, AppError> {
    let current_user = users::current_user(&ctx).await?.map(UserJson::from);
    Ok(Json(CurrentUserJson { current_user }))
}
