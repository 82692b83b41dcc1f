//! Accounts: sign-up, sign-in and looking up the signed-in user.

use crate::domain::account::{
    FREE_FAILURES_IN_ALL, FREE_FAILURES_PER_CLIENT, lock_after_failure_ms, minutes_to_wait,
};
use crate::domain::two_factor::{CODE_REQUIRED, INVALID_CODE};
use crate::domain::{Email, Id, Password};
use crate::error::{AppError, ErrorDetail};
use crate::ssr::Ctx;
use crate::ssr::passwords::{self, PasswordHashString};
use crate::ssr::session;
use crate::ssr::storage::{self, accounts, event_log::insert_event, users};
use serde::{Deserialize, Serialize};

pub const EMAIL_IN_USE: &str = "Email already in use";
pub const INVALID_CREDENTIALS: &str = "Invalid credentials";

/// A user as the rest of the application sees them (never with the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub email: String,
    /// The address has been proven by following a mailed link.
    pub email_verified: bool,
    /// Sign-in asks for a second factor.
    pub two_factor: bool,
    /// May open `/check-in`: staff and admins (every door), organisers (their events' doors)
    /// and the door staff an organiser named.
    pub staff: bool,
    /// Runs the marketplace (the admin role): may use `/admin`.
    pub admin: bool,
    /// May create and run events (organisers and admins): may use `/organise`.
    pub organiser: bool,
    /// Suspended by an admin: may not sign in.
    pub suspended: bool,
}

impl From<users::UserRow> for User {
    fn from(row: users::UserRow) -> User {
        let roles = row.roles();
        User {
            id: Id::from_trusted(row.id),
            email: row.email,
            email_verified: row.email_verified_at.is_some(),
            two_factor: row.two_factor == 1,
            staff: roles.checks_in() || roles.organises() || row.door_staff == 1,
            admin: roles.is_admin(),
            organiser: roles.organises(),
            suspended: row.suspended_at.is_some(),
        }
    }
}

/// An email and a password as typed, and at sign-in the two-factor code if any.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    pub email: String,
    pub password: String,
    /// A code from the authenticator app or a recovery code; empty when none was typed.
    pub code: String,
}

/// Creates an account, mails a link to verify its address, and signs the visitor in to it.
/// Every invalid field is reported at once; a taken email (in any letter case) is refused by
/// the database's unique index, not by a check that could race. Attempts per client address
/// are limited (`AUTH_RATE_LIMIT`).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn sign_up(ctx: &Ctx, credentials: &Credentials) -> Result<User, AppError> {
    let visitor = ctx.visitor()?;
    ctx.app().auth_limiter.check(visitor.ip)?;
    let user = create_user(ctx, credentials).await?;
    session::begin(&visitor.session, &user.id, &visitor.user_agent, ctx.now()).await?;
    Ok(user)
}

/// Signs the visitor in. Attempts per client address are limited (`AUTH_RATE_LIMIT`), and
/// wrong passwords for one address make the next attempt for it wait: after a few from one
/// client for that client, after many from everywhere for everyone (see
/// `domain::account::lock_after_failure_ms`). Known and unknown addresses are treated alike.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn sign_in(ctx: &Ctx, credentials: &Credentials) -> Result<User, AppError> {
    let visitor = ctx.visitor()?;
    ctx.app().auth_limiter.check(visitor.ip)?;
    let key = throttle_key(&credentials.email);
    let client = visitor.ip.to_string();
    let now = ctx.now();
    let locked = {
        let mut conn = ctx.db().read.acquire().await?;
        accounts::signin_locked_until(&mut conn, &key, &client, now).await?
    };
    if let Some(until) = locked {
        let minutes = minutes_to_wait(until.millis() - now.millis());
        return Err(AppError::SlowDown(format!(
            "Too many failed sign-ins for this address; try again in {minutes} minute{}",
            if minutes == 1 { "" } else { "s" }
        )));
    }
    let checked = match check_credentials(ctx, credentials).await {
        // Said only to someone who knows the password; not a failed attempt.
        Ok(user) if user.suspended => Err(AppError::Suspended),
        Ok(user) => second_factor(ctx, &user, &credentials.code)
            .await
            .map(|()| user),
        Err(err) => Err(err),
    };
    match checked {
        Ok(user) => {
            let mut tx = ctx.db().begin_write().await?;
            accounts::clear_signin_failures(&mut tx, &key, &[&client, "*"]).await?;
            tx.commit().await?;
            session::begin(&visitor.session, &user.id, &visitor.user_agent, ctx.now()).await?;
            Ok(user)
        }
        // Asking for the code is not a failure; a wrong password or code is.
        Err(AppError::Invalid(details))
            if details.first().map(|d| d.message.as_str()) != Some(CODE_REQUIRED) =>
        {
            let now = ctx.now();
            let mut tx = ctx.db().begin_write().await?;
            for (scope, free) in [
                (client.as_str(), FREE_FAILURES_PER_CLIENT),
                ("*", FREE_FAILURES_IN_ALL),
            ] {
                let failures = accounts::count_signin_failure(&mut tx, &key, scope, now).await?;
                if let Some(wait) = lock_after_failure_ms(failures, free) {
                    accounts::lock_signin(&mut tx, &key, scope, now.plus_millis(wait)).await?;
                }
            }
            tx.commit().await?;
            Err(AppError::Invalid(details))
        }
        Err(other) => Err(other),
    }
}

/// With two-factor sign-in on, the right password is not enough: a current code from the app,
/// or an unused recovery code, is needed too (each accepted once).
async fn second_factor(ctx: &Ctx, user: &User, code: &str) -> Result<(), AppError> {
    if !user.two_factor {
        return Ok(());
    }
    let Some(secret) = super::two_factor::secret_of(ctx, &user.id).await? else {
        return Ok(());
    };
    if code.trim().is_empty() {
        return Err(AppError::invalid_field("code", CODE_REQUIRED));
    }
    let mut tx = ctx.db().begin_write().await?;
    if super::two_factor::check_code(&mut tx, &user.id, &secret, code, ctx.now()).await? {
        tx.commit().await?;
        Ok(())
    } else {
        Err(AppError::invalid_field("code", INVALID_CODE))
    }
}

/// The address as the sign-in throttle counts it: normalised when valid, else as typed
/// (bounded), so that unknown and malformed addresses are counted like known ones.
fn throttle_key(email: &str) -> String {
    match Email::parse(email) {
        Ok(email) => email.as_str().to_string(),
        Err(_) => email.trim().to_lowercase().chars().take(320).collect(),
    }
}

/// Signs the visitor out: the session is destroyed in the store.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn sign_out(ctx: &Ctx) -> Result<(), AppError> {
    session::end(&ctx.visitor()?.session).await
}

/// The signed-in user, if they still exist.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn current_user(ctx: &Ctx) -> Result<Option<User>, AppError> {
    match ctx.actor() {
        Some(id) => find_user(ctx, id).await,
        None => Ok(None),
    }
}

/// Creates an account (see [`sign_up`], which also signs in to it).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn create_user(ctx: &Ctx, credentials: &Credentials) -> Result<User, AppError> {
    let (db, now) = (ctx.db(), ctx.now());
    let (email, password) = (&credentials.email, &credentials.password);
    let (email, password) = match (
        Email::parse(email),
        passwords::new_password(password, email, "password"),
    ) {
        (Ok(email), Ok(password)) => (email, password),
        (email, password) => {
            let details: Vec<ErrorDetail> = [email.err(), password.err()]
                .into_iter()
                .flatten()
                .collect();
            return Err(AppError::Invalid(details));
        }
    };
    // Cheap early answer for the common case; the unique index below is what guarantees it.
    if users::email_exists(&mut *db.read.acquire().await?, &email).await? {
        return Err(AppError::invalid_field("email", EMAIL_IN_USE));
    }
    let hash = passwords::hash_password(password).await?;
    let id = crate::ssr::clock::new_id();
    let mut tx = db.begin_write().await?;
    match users::insert_user(&mut tx, &id, &email, hash.as_str(), false, now).await {
        Ok(()) => {}
        Err(err) if storage::refused_by(&err) == Some(storage::Guard::EmailTaken) => {
            return Err(AppError::invalid_field("email", EMAIL_IN_USE));
        }
        Err(err) => return Err(err.into()),
    }
    insert_event(
        &mut tx,
        "UserCreated",
        &id,
        serde_json::json!({ "id": id, "email": email }),
        now,
    )
    .await?;
    super::accounts::queue_verification(ctx, &mut tx, &id, &email).await?;
    super::transfers::complete_for_new_account(&mut tx, &id, &email, now).await?;
    tx.commit().await?;
    ctx.mail_queued();
    Ok(User {
        id,
        email: email.as_str().to_string(),
        email_verified: false,
        two_factor: false,
        staff: false,
        admin: false,
        organiser: false,
        suspended: false,
    })
}

/// Checks an email and password. Unknown email and wrong password give the same answer after
/// the same amount of work.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn check_credentials(ctx: &Ctx, credentials: &Credentials) -> Result<User, AppError> {
    let invalid = || AppError::invalid(INVALID_CREDENTIALS);
    let password = Password::for_sign_in(&credentials.password);
    let credentials = match Email::parse(&credentials.email) {
        Ok(email) => users::find_credentials(&mut *ctx.db().read.acquire().await?, &email).await?,
        Err(_) => None,
    };
    let (user, stored) = match credentials {
        Some(c) => (
            Some(Id::from_trusted(c.id)),
            Some(PasswordHashString::from_stored(c.password_hash)),
        ),
        None => (None, None),
    };
    if passwords::verify_password(stored, password).await?
        && let Some(id) = user
    {
        find_user(ctx, &id).await?.ok_or_else(invalid)
    } else {
        Err(invalid())
    }
}

/// The user with this id, if they still exist.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), user_id = %id)
)]
pub async fn find_user(ctx: &Ctx, id: &Id) -> Result<Option<User>, AppError> {
    Ok(users::find_user(&mut *ctx.db().read.acquire().await?, id)
        .await?
        .map(User::from))
}

/// Creates several accounts sharing one password, hashed once (demo data and benchmarks).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn create_demo_users(
    ctx: &Ctx,
    emails: &[Email],
    password: &str,
) -> Result<Vec<Id>, AppError> {
    let (db, now) = (ctx.db(), ctx.now());
    let password = Password::parse(password)?;
    let hash = passwords::hash_password(password).await?;
    let mut tx = db.begin_write().await?;
    let mut ids = Vec::with_capacity(emails.len());
    for email in emails {
        let id = crate::ssr::clock::new_id();
        match users::insert_user(&mut tx, &id, email, hash.as_str(), true, now).await {
            Err(err) if storage::refused_by(&err) == Some(storage::Guard::EmailTaken) => {
                return Err(AppError::invalid_field("email", EMAIL_IN_USE));
            }
            other => other?,
        }
        insert_event(
            &mut tx,
            "UserCreated",
            &id,
            serde_json::json!({ "id": id, "email": email }),
            now,
        )
        .await?;
        ids.push(id);
    }
    tx.commit().await?;
    Ok(ids)
}
