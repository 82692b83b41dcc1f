//! Roles: who may check tickets in, put events on sale, and run the marketplace.

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
    let roles = users::find_roles(&mut *ctx.db().read.acquire().await?, &user).await?;
    if roles.checks_in() {
        Ok(user)
    } else {
        Err(AppError::Forbidden)
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
        Some(user) => Ok(
            users::find_roles(&mut *ctx.db().read.acquire().await?, user)
                .await?
                .checks_in(),
        ),
    }
}

/// Grants `role` to the account with this address, from the command line; written to the
/// audit log. Refused when there is no such account.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn grant_role(ctx: &Ctx, email: &str, role: Role) -> Result<(), AppError> {
    change_role(ctx, email, Some(role), true).await
}

/// Takes `role` (with `None`, every role) from the account with this address, from the command
/// line; written to the audit log. Refused when there is no such account.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn revoke_role(ctx: &Ctx, email: &str, role: Option<Role>) -> Result<(), AppError> {
    change_role(ctx, email, role, false).await
}

async fn change_role(
    ctx: &Ctx,
    email: &str,
    role: Option<Role>,
    grant: bool,
) -> Result<(), AppError> {
    let email = Email::parse(email)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let Some(user) = users::find_id_by_email(&mut tx, &email).await? else {
        return Err(AppError::invalid_field(
            "email",
            "No account has this email address",
        ));
    };
    match (grant, role) {
        (true, Some(role)) => users::grant_role(&mut tx, &user, role).await?,
        _ => {
            users::revoke_role(&mut tx, &user, role).await?;
        }
    }
    let action = if grant {
        AuditAction::GrantRole
    } else {
        AuditAction::RevokeRole
    };
    let reason = format!(
        "{}: command line",
        role.map(Role::as_str).unwrap_or("every role")
    );
    crate::ssr::storage::audit::append(&mut tx, None, action, user.as_str(), &reason, now).await?;
    tx.commit().await?;
    Ok(())
}
