//! The account pages' server functions: verification, password reset, password and address
//! changes, and sessions. Each one, posted by a plain form, redirects to a page that says
//! what happened.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[server(prefix = "/_fn", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::ctx().await?;
    crate::ssr::services::accounts::verify_email(&ctx, &token).await?;
    leptos_axum::redirect("/auth/verify?done=1");
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    crate::ssr::services::accounts::resend_verification(&ctx).await?;
    leptos_axum::redirect("/account?notice=verify-sent");
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "request_password_reset")]
pub async fn request_password_reset(email: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::ctx().await?;
    crate::ssr::services::accounts::request_password_reset(&ctx, &email).await?;
    leptos_axum::redirect("/auth/forgot?sent=1");
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::ctx().await?;
    crate::ssr::services::accounts::reset_password(&ctx, &token, &password).await?;
    leptos_axum::redirect("/auth/signin?notice=password-reset");
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "change_password")]
pub async fn change_password(current_password: String, password: String) -> Result<(), AppError> {
    use crate::ssr::services::accounts::{self, PasswordChange};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let change = PasswordChange {
        current_password,
        password,
    };
    accounts::change_password(&ctx, &change).await?;
    leptos_axum::redirect("/account?notice=password-changed");
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "change_email")]
pub async fn change_email(email: String, password: String) -> Result<(), AppError> {
    use crate::ssr::services::accounts::{self, EmailChange};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    accounts::request_email_change(&ctx, &EmailChange { password, email }).await?;
    leptos_axum::redirect("/account?notice=email-sent");
    Ok(())
}

/// A signed-in session as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionItem {
    pub id: String,
    pub current: bool,
    pub user_agent: String,
    pub signed_in: String,
    pub last_seen: String,
}

#[server(prefix = "/_fn", endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<SessionItem>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let sessions = crate::ssr::services::accounts::list_sessions(&ctx).await?;
    Ok(sessions
        .into_iter()
        .map(|s| SessionItem {
            id: s.id,
            current: s.current,
            user_agent: s.user_agent,
            signed_in: s.created_at.to_display(),
            last_seen: s.last_seen_at.to_display(),
        })
        .collect())
}

#[server(prefix = "/_fn", endpoint = "end_session")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    crate::ssr::services::accounts::end_session(&ctx, &id).await?;
    leptos_axum::redirect("/account?notice=session-ended");
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    crate::ssr::services::accounts::end_other_sessions(&ctx).await?;
    leptos_axum::redirect("/account?notice=sessions-ended");
    Ok(())
}

/// The two-factor set-up under way, as the account page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorSetupView {
    pub secret: String,
    pub otpauth_url: String,
    /// The otpauth address as an SVG QR code, drawn on the server.
    pub qr_svg: String,
}

#[cfg(feature = "ssr")]
fn setup_view(setup: crate::ssr::services::two_factor::Setup) -> TwoFactorSetupView {
    TwoFactorSetupView {
        qr_svg: crate::ssr::qr::svg(&setup.otpauth_url),
        secret: setup.secret,
        otpauth_url: setup.otpauth_url,
    }
}

/// Where recovery codes wait in the (server-side) session until the page has shown them once,
/// for browsers without JavaScript that only see the page the form redirects to.
#[cfg(feature = "ssr")]
const RECOVERY_CODES_TO_SHOW: &str = "recovery_codes_to_show";

#[server(prefix = "/_fn", endpoint = "two_factor_setup")]
pub async fn two_factor_setup(password: String) -> Result<TwoFactorSetupView, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let setup = crate::ssr::services::two_factor::setup(&ctx, &password).await?;
    leptos_axum::redirect("/account?notice=2fa-setup#two-factor");
    Ok(setup_view(setup))
}

#[server(prefix = "/_fn", endpoint = "pending_two_factor")]
pub async fn pending_two_factor() -> Result<Option<TwoFactorSetupView>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    Ok(crate::ssr::services::two_factor::pending_setup(&ctx)
        .await?
        .map(setup_view))
}

#[server(prefix = "/_fn", endpoint = "two_factor_enable")]
pub async fn two_factor_enable(code: String) -> Result<Vec<String>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let codes = crate::ssr::services::two_factor::enable(&ctx, &code).await?;
    ctx.visitor()?
        .session
        .insert(RECOVERY_CODES_TO_SHOW, &codes)
        .await?;
    leptos_axum::redirect("/account?notice=2fa-on#two-factor");
    Ok(codes)
}

/// The recovery codes just made, once: reading them removes them from the session.
#[server(prefix = "/_fn", endpoint = "take_recovery_codes")]
pub async fn take_recovery_codes() -> Result<Vec<String>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    Ok(ctx
        .visitor()?
        .session
        .remove::<Vec<String>>(RECOVERY_CODES_TO_SHOW)
        .await?
        .unwrap_or_default())
}

#[server(prefix = "/_fn", endpoint = "two_factor_disable")]
pub async fn two_factor_disable(password: String, code: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    crate::ssr::services::two_factor::disable(&ctx, &password, &code).await?;
    leptos_axum::redirect("/account?notice=2fa-off#two-factor");
    Ok(())
}
