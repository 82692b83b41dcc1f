//! Two-factor sign-in with an authenticator app (TOTP), and recovery codes for when the phone
//! is lost. Set-up keeps the new secret pending until a code from the app confirms it; that
//! code counts as used. Each code is accepted once; each recovery code works once.

use super::accounts::confirm_password;
use super::mail;
use crate::domain::two_factor::{
    ALREADY_ON, INVALID_CODE, NOT_ON, NOT_SET_UP, RECOVERY_CODES, TypedCode, format_recovery_code,
    parse_code,
};
use crate::domain::{Id, Timestamp};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::mail::messages;
use crate::ssr::storage::event_log::insert_event;
use crate::ssr::storage::two_factor as store;
use crate::ssr::totp;
use sqlx::AnyConnection;

/// What the set-up shows: the secret (to type in) and the address the QR code holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    pub secret: String,
    pub otpauth_url: String,
}

fn setup_of(secret: String, email: &str) -> Result<Setup, AppError> {
    let otpauth_url = totp::otpauth_url(&secret, email).ok_or_else(|| {
        crate::ssr::error_response::internal(anyhow::anyhow!(
            "an otpauth address could not be made"
        ))
    })?;
    Ok(Setup {
        secret,
        otpauth_url,
    })
}

/// Starts turning two-factor on (the password again first): a new secret, pending.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn setup(ctx: &Ctx, password: &str) -> Result<Setup, AppError> {
    let user = ctx.user()?.clone();
    let account = confirm_password(ctx, &user, password, "password").await?;
    let mut tx = ctx.db().begin_write().await?;
    let state = store::find(&mut tx, &user)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if state.totp_secret.is_some() {
        return Err(AppError::invalid(ALREADY_ON));
    }
    let secret = totp::new_secret();
    store::set_pending(&mut tx, &user, &secret).await?;
    tx.commit().await?;
    setup_of(secret, &account.email)
}

/// The set-up under way, if any (the page shows its QR code until a code confirms it).
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn pending_setup(ctx: &Ctx) -> Result<Option<Setup>, AppError> {
    let user = ctx.user()?;
    let mut conn = ctx.db().read.acquire().await?;
    let Some(state) = store::find(&mut conn, user).await? else {
        return Ok(None);
    };
    let account = crate::ssr::storage::users::find_user(&mut conn, user)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    match (state.totp_secret, state.totp_pending_secret) {
        (None, Some(secret)) => Ok(Some(setup_of(secret, &account.email)?)),
        _ => Ok(None),
    }
}

/// Confirms the set-up with a code from the app: two-factor is on, and the ten recovery codes
/// are returned (the only time they are shown).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn enable(ctx: &Ctx, code: &str) -> Result<Vec<String>, AppError> {
    let user = ctx.user()?.clone();
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let state = store::find(&mut tx, &user)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if state.totp_secret.is_some() {
        return Err(AppError::invalid(ALREADY_ON));
    }
    let pending = state
        .totp_pending_secret
        .ok_or_else(|| AppError::invalid_field("code", NOT_SET_UP))?;
    let step = match parse_code(code) {
        Some(TypedCode::Totp(code)) => totp::matching_step(&pending, &code, now),
        _ => None,
    }
    .ok_or_else(|| AppError::invalid_field("code", INVALID_CODE))?;
    if !store::enable(&mut tx, &user, &pending, step, now).await? {
        return Err(AppError::invalid_field("code", NOT_SET_UP));
    }
    let codes = totp::new_recovery_codes(RECOVERY_CODES);
    let hashes: Vec<String> = codes.iter().map(|c| totp::recovery_hash(c)).collect();
    store::replace_recovery_codes(&mut tx, &user, &hashes, now).await?;
    insert_event(
        &mut tx,
        "TwoFactorEnabled",
        &user,
        serde_json::json!({ "id": user }),
        now,
    )
    .await?;
    queue_notice(&mut tx, &user, true, now).await?;
    tx.commit().await?;
    ctx.mail_queued();
    Ok(codes.iter().map(|c| format_recovery_code(c)).collect())
}

/// Turns two-factor off: the password and a current code (or a recovery code) first.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn disable(ctx: &Ctx, password: &str, code: &str) -> Result<(), AppError> {
    let user = ctx.user()?.clone();
    confirm_password(ctx, &user, password, "password").await?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let state = store::find(&mut tx, &user)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let secret = state.totp_secret.ok_or_else(|| AppError::invalid(NOT_ON))?;
    if !check_code(&mut tx, &user, &secret, code, now).await? {
        return Err(AppError::invalid_field("code", INVALID_CODE));
    }
    store::disable(&mut tx, &user, now).await?;
    insert_event(
        &mut tx,
        "TwoFactorDisabled",
        &user,
        serde_json::json!({ "id": user }),
        now,
    )
    .await?;
    queue_notice(&mut tx, &user, false, now).await?;
    tx.commit().await?;
    ctx.mail_queued();
    Ok(())
}

/// Whether `user` signs in with a second factor, and with which secret.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), user_id = %user)
)]
pub async fn secret_of(ctx: &Ctx, user: &Id) -> Result<Option<String>, AppError> {
    let mut conn = ctx.db().read.acquire().await?;
    Ok(store::find(&mut conn, user)
        .await?
        .and_then(|s| s.totp_secret))
}

/// Checks and uses up a typed code: a TOTP code of the current step or a neighbour, newer than
/// the last one accepted, or an unused recovery code.
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub async fn check_code(
    conn: &mut AnyConnection,
    user: &Id,
    secret: &str,
    input: &str,
    now: Timestamp,
) -> Result<bool, AppError> {
    Ok(match parse_code(input) {
        Some(TypedCode::Totp(code)) => match totp::matching_step(secret, &code, now) {
            Some(step) => store::use_step(conn, user, step).await?,
            None => false,
        },
        Some(TypedCode::Recovery(code)) => {
            store::use_recovery_code(conn, user, &totp::recovery_hash(&code), now).await?
        }
        None => false,
    })
}

async fn queue_notice(
    tx: &mut AnyConnection,
    user: &Id,
    on: bool,
    now: Timestamp,
) -> Result<(), AppError> {
    let account = crate::ssr::storage::users::find_user(tx, user)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    mail::queue(tx, &messages::two_factor_changed(&account.email, on), now).await?;
    Ok(())
}
