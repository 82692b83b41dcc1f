//! Roles: who may check tickets in at every door, put events on sale, and run the
//! marketplace, granted and revoked from the command line.

use crate::domain::Email;
use crate::domain::audit::AuditAction;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::storage::users;

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
