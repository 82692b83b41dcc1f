//! Accounts a person can recover: proving an address, resetting a forgotten password, changing
//! the password or the address, and the list of signed-in sessions.
//!
//! Mailed links carry a random 256-bit token; the database keeps only its SHA-256, so a copy
//! of the database opens no account. A link is used up in the same statement that checks it.

use super::mail;
use super::users::{self, User};
use crate::domain::account::{
    INVALID_LINK, RESET_MAILS_PER_HOUR, TokenPurpose, VERIFY_MAILS_PER_HOUR, WRONG_PASSWORD,
};
use crate::domain::{Email, Id, Timestamp};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::mail::messages;
use crate::ssr::passwords::{self, PasswordHashString};
use crate::ssr::storage::event_log::insert_event;
use crate::ssr::storage::{self, accounts, user_sessions};
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

/// A fresh link token (what the mail carries) and its hash (what the database keeps).
fn new_token() -> (String, String) {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A token as pasted or taken from a link: 64 hex digits, or nothing worth looking up.
fn parse_token(input: &str) -> Result<String, AppError> {
    let token = input.trim();
    if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(token_hash(&token.to_ascii_lowercase()))
    } else {
        Err(invalid_link())
    }
}

fn invalid_link() -> AppError {
    AppError::invalid_field("token", INVALID_LINK)
}

/// Creates a link for `user` and queues the message that carries it, in `tx`.
async fn queue_link(
    ctx: &Ctx,
    tx: &mut AnyConnection,
    user: &Id,
    purpose: TokenPurpose,
    to: &str,
) -> Result<(), AppError> {
    let now = ctx.now();
    let (token, hash) = new_token();
    accounts::insert_token(tx, &hash, user, purpose, to, now).await?;
    let public_url = &ctx.settings().public_url;
    let letter = match purpose {
        TokenPurpose::Verify => messages::verify_email(
            to,
            &messages::link(public_url, &format!("/auth/verify?token={token}")),
            false,
        ),
        TokenPurpose::ChangeEmail => messages::verify_email(
            to,
            &messages::link(public_url, &format!("/auth/verify?token={token}")),
            true,
        ),
        TokenPurpose::Reset => messages::password_reset(
            to,
            &messages::link(public_url, &format!("/auth/reset?token={token}")),
        ),
    };
    mail::queue(tx, &letter, now).await?;
    Ok(())
}

/// Queues the verification mail for a new account (inside its creating transaction).
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), user_id = %user)
)]
pub async fn queue_verification(
    ctx: &Ctx,
    tx: &mut AnyConnection,
    user: &Id,
    email: &Email,
) -> Result<(), AppError> {
    queue_link(ctx, tx, user, TokenPurpose::Verify, email.as_str()).await
}

/// Follows a verification link: proves the address, or — for a change of address — moves
/// the account to the new one (and tells the old one). No session is needed.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn verify_email(ctx: &Ctx, token: &str) -> Result<User, AppError> {
    let hash = parse_token(token)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    if let Some(used) = accounts::use_token(&mut tx, &hash, TokenPurpose::Verify, now).await? {
        let user = Id::from_trusted(used.user_id);
        if !accounts::mark_email_verified(&mut tx, &user, &used.email, now).await? {
            // The account moved to another address since the link was sent.
            return Err(invalid_link());
        }
        insert_event(
            &mut tx,
            "UserEmailVerified",
            &user,
            serde_json::json!({ "id": user }),
            now,
        )
        .await?;
        tx.commit().await?;
        return users::find_user(ctx, &user).await?.ok_or_else(invalid_link);
    }
    let Some(used) = accounts::use_token(&mut tx, &hash, TokenPurpose::ChangeEmail, now).await?
    else {
        return Err(invalid_link());
    };
    let user = Id::from_trusted(used.user_id);
    let old = storage::users::find_user(&mut tx, &user)
        .await?
        .ok_or_else(invalid_link)?;
    let new = Email::parse(&used.email).map_err(|_| invalid_link())?;
    match accounts::change_email(&mut tx, &user, &new, now).await {
        Ok(()) => {}
        Err(err) if storage::refused_by(&err) == Some(storage::Guard::EmailTaken) => {
            return Err(AppError::invalid_field("token", users::EMAIL_IN_USE));
        }
        Err(err) => return Err(err.into()),
    }
    accounts::expire_tokens(&mut tx, &user, TokenPurpose::ChangeEmail, now).await?;
    accounts::expire_tokens(&mut tx, &user, TokenPurpose::Reset, now).await?;
    insert_event(
        &mut tx,
        "UserEmailChanged",
        &user,
        serde_json::json!({ "id": user, "email": new }),
        now,
    )
    .await?;
    mail::queue(
        &mut tx,
        &messages::email_changed(&old.email, new.as_str()),
        now,
    )
    .await?;
    tx.commit().await?;
    ctx.mail_queued();
    users::find_user(ctx, &user).await?.ok_or_else(invalid_link)
}

/// Sends the signed-in user a new verification link (a few an hour at most).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn resend_verification(ctx: &Ctx) -> Result<(), AppError> {
    let user = users::find_user(ctx, ctx.user()?)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if user.email_verified {
        return Ok(());
    }
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    if accounts::note_mail_request(&mut tx, &user.email, "verify", now).await?
        >= VERIFY_MAILS_PER_HOUR
    {
        tx.commit().await?;
        return Err(AppError::TooManyRequests);
    }
    accounts::expire_tokens(&mut tx, &user.id, TokenPurpose::Verify, now).await?;
    queue_link(ctx, &mut tx, &user.id, TokenPurpose::Verify, &user.email).await?;
    tx.commit().await?;
    ctx.mail_queued();
    Ok(())
}

/// "Forgot password?": mails a reset link if the address has an account. The answer and the
/// work done are the same whether it has or not (the request is noted either way), and one
/// address gets at most a few links an hour, whoever asks.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn request_password_reset(ctx: &Ctx, email: &str) -> Result<(), AppError> {
    let visitor = ctx.visitor()?;
    ctx.app().auth_limiter.check(visitor.ip)?;
    let email = Email::parse(email)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let earlier = accounts::note_mail_request(&mut tx, email.as_str(), "reset", now).await?;
    let account = storage::users::find_credentials(&mut tx, &email).await?;
    if let Some(account) = account
        && earlier < RESET_MAILS_PER_HOUR
    {
        let user = Id::from_trusted(account.id);
        accounts::expire_tokens(&mut tx, &user, TokenPurpose::Reset, now).await?;
        queue_link(ctx, &mut tx, &user, TokenPurpose::Reset, &account.email).await?;
    }
    tx.commit().await?;
    ctx.mail_queued();
    Ok(())
}

/// Sets a new password from a reset link. Every session of the account ends, the failed
/// sign-ins counted against it are forgotten, and the owner is told by mail.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn reset_password(ctx: &Ctx, token: &str, password: &str) -> Result<(), AppError> {
    let hash = parse_token(token)?;
    // Check the password before using the link up, so a refused password leaves it working.
    let peeked = {
        let mut conn = ctx.db().read.acquire().await?;
        accounts::peek_token(&mut conn, &hash, TokenPurpose::Reset, ctx.now()).await?
    }
    .ok_or_else(invalid_link)?;
    let password = passwords::new_password(password, &peeked.email, "password")?;
    let password_hash = passwords::hash_password(password).await?;

    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let used = accounts::use_token(&mut tx, &hash, TokenPurpose::Reset, now)
        .await?
        .ok_or_else(invalid_link)?;
    let user = Id::from_trusted(used.user_id);
    let account = storage::users::find_user(&mut tx, &user)
        .await?
        .ok_or_else(invalid_link)?;
    if account.email != used.email {
        return Err(invalid_link());
    }
    accounts::set_password_hash(&mut tx, &user, password_hash.as_str(), now).await?;
    // The link reached the inbox: the address is proven too.
    accounts::mark_email_verified(&mut tx, &user, &account.email, now).await?;
    accounts::expire_tokens(&mut tx, &user, TokenPurpose::Reset, now).await?;
    accounts::clear_all_signin_failures(&mut tx, &account.email).await?;
    user_sessions::end_all_but(&mut tx, &user, None).await?;
    insert_event(
        &mut tx,
        "UserPasswordReset",
        &user,
        serde_json::json!({ "id": user }),
        now,
    )
    .await?;
    mail::queue(&mut tx, &messages::password_changed(&account.email), now).await?;
    tx.commit().await?;
    ctx.mail_queued();
    Ok(())
}

/// What a signed-in user types to change their password.
#[derive(Debug, Clone, Default)]
pub struct PasswordChange {
    pub current_password: String,
    pub password: String,
}

/// Changes the signed-in user's password; every other session ends.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn change_password(ctx: &Ctx, change: &PasswordChange) -> Result<(), AppError> {
    let user = ctx.user()?.clone();
    let account = confirm_password(ctx, &user, &change.current_password, "currentPassword").await?;
    let password = passwords::new_password(&change.password, &account.email, "password")?;
    let password_hash = passwords::hash_password(password).await?;
    let keep = current_session(ctx);
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    accounts::set_password_hash(&mut tx, &user, password_hash.as_str(), now).await?;
    accounts::expire_tokens(&mut tx, &user, TokenPurpose::Reset, now).await?;
    user_sessions::end_all_but(&mut tx, &user, keep.as_deref()).await?;
    insert_event(
        &mut tx,
        "UserPasswordChanged",
        &user,
        serde_json::json!({ "id": user }),
        now,
    )
    .await?;
    mail::queue(&mut tx, &messages::password_changed(&account.email), now).await?;
    tx.commit().await?;
    ctx.mail_queued();
    Ok(())
}

/// Checks the signed-in user's password again before a sensitive change; a wrong one is a 400
/// on `field`.
pub(crate) async fn confirm_password(
    ctx: &Ctx,
    user: &Id,
    password: &str,
    field: &str,
) -> Result<storage::users::Credentials, AppError> {
    let account = {
        let mut conn = ctx.db().read.acquire().await?;
        storage::users::find_credentials_by_id(&mut conn, user).await?
    }
    .ok_or(AppError::Unauthenticated)?;
    let stored = PasswordHashString::from_stored(account.password_hash.clone());
    let typed = crate::domain::Password::for_sign_in(password);
    if passwords::verify_password(Some(stored), typed).await? {
        Ok(account)
    } else {
        Err(AppError::invalid_field(field, WRONG_PASSWORD))
    }
}

/// What a signed-in user types to move their account to another address.
#[derive(Debug, Clone, Default)]
pub struct EmailChange {
    pub password: String,
    pub email: String,
}

/// Mails a link to the new address; the account moves when it is followed.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn request_email_change(ctx: &Ctx, change: &EmailChange) -> Result<(), AppError> {
    let user = ctx.user()?.clone();
    let email = Email::parse(&change.email);
    let account = confirm_password(ctx, &user, &change.password, "password").await?;
    let email = email?;
    if email.as_str() == account.email {
        return Err(AppError::invalid_field(
            "email",
            "That is already your address",
        ));
    }
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    if storage::users::email_exists(&mut tx, &email).await? {
        return Err(AppError::invalid_field("email", users::EMAIL_IN_USE));
    }
    if accounts::note_mail_request(&mut tx, email.as_str(), "email", now).await?
        >= VERIFY_MAILS_PER_HOUR
    {
        tx.commit().await?;
        return Err(AppError::TooManyRequests);
    }
    accounts::expire_tokens(&mut tx, &user, TokenPurpose::ChangeEmail, now).await?;
    queue_link(
        ctx,
        &mut tx,
        &user,
        TokenPurpose::ChangeEmail,
        email.as_str(),
    )
    .await?;
    tx.commit().await?;
    ctx.mail_queued();
    Ok(())
}

/// The id of the session making this request, once it has been saved (a session begun in this
/// very request has none yet).
fn current_session(ctx: &Ctx) -> Option<String> {
    ctx.visitor()
        .ok()
        .and_then(|visitor| visitor.session.id())
        .map(|id| id.to_string())
}

/// A signed-in session as its user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionView {
    pub id: String,
    pub current: bool,
    pub user_agent: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// Where the signed-in user is signed in, most recently seen first.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn list_sessions(ctx: &Ctx) -> Result<Vec<SessionView>, AppError> {
    let user = ctx.user()?;
    let current = current_session(ctx);
    let mut conn = ctx.db().read.acquire().await?;
    let sessions = user_sessions::list_for_user(&mut conn, user, ctx.now()).await?;
    Ok(sessions
        .into_iter()
        .map(|s| SessionView {
            current: current.as_deref() == Some(s.session_id.as_str()),
            id: s.public_id,
            user_agent: s.user_agent,
            created_at: Timestamp::from_millis(s.created_at),
            last_seen_at: Timestamp::from_millis(s.last_seen_at),
        })
        .collect())
}

/// Records a signed-in session as the session layer has just written it, unless its account is
/// suspended: then the session is ended instead. Recorded in a write transaction holding the
/// user's row, which [`super::admin::suspend`] updates first, so either the suspension sees this
/// session and ends it, or this sees the suspension; on SQLite and PostgreSQL alike. Sessions
/// show on no browse page, so the browse cache is left as it is.
#[tracing::instrument(skip_all, fields(user_id = %session.user_id))]
pub async fn record_session(
    db: &crate::ssr::Db,
    session: &user_sessions::SessionRecord<'_>,
) -> Result<(), AppError> {
    let user = Id::from_trusted(session.user_id.to_string());
    let mut tx = db.begin_write_keeping_reads().await?;
    storage::users::lock_user(&mut tx, &user).await?;
    if storage::users::is_suspended(&mut tx, session.user_id).await? {
        user_sessions::end_session_id(&mut tx, session.session_id).await?;
    } else {
        user_sessions::record(&mut tx, session, &crate::ssr::clock::new_id()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Ends one of the signed-in user's sessions; anyone else's is "not found".
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn end_session(ctx: &Ctx, id: &str) -> Result<(), AppError> {
    let user = ctx.user()?.clone();
    if id.len() > 64 {
        return Err(AppError::NotFound);
    }
    let mut tx = ctx.db().begin_write().await?;
    if !user_sessions::end_one(&mut tx, &user, id).await? {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// "Sign out everywhere else".
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn end_other_sessions(ctx: &Ctx) -> Result<u64, AppError> {
    let user = ctx.user()?.clone();
    let keep = current_session(ctx);
    let mut tx = ctx.db().begin_write().await?;
    let ended = user_sessions::end_all_but(&mut tx, &user, keep.as_deref()).await?;
    tx.commit().await?;
    Ok(ended)
}

/// Drops expired tokens, old mail requests and stale sign-in failures (hourly).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn prune(ctx: &Ctx) -> Result<(), AppError> {
    let mut tx = ctx.db().begin_write().await?;
    accounts::prune(&mut tx, ctx.now()).await?;
    tx.commit().await?;
    Ok(())
}
