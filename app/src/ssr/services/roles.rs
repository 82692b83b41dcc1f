//! Roles: who may check tickets in (and, with the operator's console, run the marketplace).

use crate::domain::audit::AuditAction;
use crate::domain::role::Role;
use crate::domain::{Email, Id};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::storage::users;

/// The signed-in user when they are staff or an admin: 401 signed out, 403 otherwise.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn require_staff(ctx: &Ctx) -> Result<Id, AppError> {
    let user = ctx.user()?.clone();
    let role = users::find_role(&mut *ctx.db().read.acquire().await?, &user).await?;
    match role {
        Some(role) if role.checks_in() => Ok(user),
        _ => Err(AppError::Forbidden),
    }
}

/// Whether the signed-in user may check tickets in (pages decide what to show by it).
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn is_staff(ctx: &Ctx) -> Result<bool, AppError> {
    match ctx.actor() {
        None => Ok(false),
        Some(user) => Ok(users::find_role(&mut *ctx.db().read.acquire().await?, user)
            .await?
            .is_some_and(Role::checks_in)),
    }
}

/// Grants `role` to the account with this address (`None` takes any role away), from the
/// command line; written to the audit log. Refused when there is no such account.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn set_role(ctx: &Ctx, email: &str, role: Option<Role>) -> Result<(), AppError> {
    let email = Email::parse(email)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let Some(user) = users::find_id_by_email(&mut tx, &email).await? else {
        return Err(AppError::invalid_field(
            "email",
            "No account has this email address",
        ));
    };
    users::set_role(&mut tx, &user, role, now).await?;
    let (action, reason) = match role {
        Some(role) => (
            AuditAction::GrantRole,
            format!("{}: command line", role.as_str()),
        ),
        None => (
            AuditAction::RevokeRole,
            "any role: command line".to_string(),
        ),
    };
    crate::ssr::storage::audit::append(&mut tx, None, action, user.as_str(), &reason, now).await?;
    tx.commit().await?;
    Ok(())
}
