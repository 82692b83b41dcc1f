//! Sign-up, sign-in, sign-out and "who am I" for the pages.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub two_factor: bool,
    /// May use `/check-in` (for some event).
    #[serde(default)]
    pub staff: bool,
    /// May use `/admin`.
    #[serde(default)]
    pub admin: bool,
    /// May use `/organise`.
    #[serde(default)]
    pub organiser: bool,
}

#[cfg(feature = "ssr")]
impl From<crate::ssr::services::users::User> for CurrentUser {
    fn from(user: crate::ssr::services::users::User) -> CurrentUser {
        CurrentUser {
            id: user.id.to_string(),
            email: user.email,
            email_verified: user.email_verified,
            two_factor: user.two_factor,
            staff: user.staff,
            admin: user.admin,
            organiser: user.organiser,
        }
    }
}

#[server(prefix = "/_fn", endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<CurrentUser, AppError> {
    use crate::ssr::services::users::{self, Credentials};
    let ctx = crate::ssr::fn_context::ctx().await?;
    let credentials = Credentials {
        email,
        password,
        code: String::new(),
    };
    let user = users::sign_up(&ctx, &credentials).await?;
    leptos_axum::redirect("/");
    Ok(user.into())
}

/// `code` is sent once the page has asked for it (two-factor sign-in).
#[server(prefix = "/_fn", endpoint = "sign_in")]
pub async fn sign_in(
    email: String,
    password: String,
    code: Option<String>,
) -> Result<CurrentUser, AppError> {
    use crate::ssr::services::users::{self, Credentials};
    let ctx = crate::ssr::fn_context::ctx().await?;
    let credentials = Credentials {
        email,
        password,
        code: code.unwrap_or_default(),
    };
    let user = users::sign_in(&ctx, &credentials).await?;
    leptos_axum::redirect("/");
    Ok(user.into())
}

#[server(prefix = "/_fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::ctx().await?;
    crate::ssr::services::users::sign_out(&ctx).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    let ctx = crate::ssr::fn_context::ctx().await?;
    Ok(crate::ssr::services::users::current_user(&ctx)
        .await?
        .map(CurrentUser::from))
}
