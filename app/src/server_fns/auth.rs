//! Sign-up, sign-in, sign-out and "who am I" for the pages.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The signed-in user as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: String,
    pub email: String,
}

#[cfg(feature = "ssr")]
impl From<crate::ssr::services::users::User> for CurrentUser {
    fn from(user: crate::ssr::services::users::User) -> CurrentUser {
        CurrentUser {
            id: user.id.to_string(),
            email: user.email,
        }
    }
}

#[server(prefix = "/_fn", endpoint = "sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<CurrentUser, AppError> {
    use crate::ssr::{fn_context, services, session};
    let state = fn_context::state()?;
    state.auth_limiter.check(fn_context::client_ip().await?)?;
    let user = services::users::sign_up(&state.db, &email, &password, state.clock.now()).await?;
    session::begin(&fn_context::session().await?, &user.id, state.clock.now()).await?;
    leptos_axum::redirect("/");
    Ok(user.into())
}

#[server(prefix = "/_fn", endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<CurrentUser, AppError> {
    use crate::ssr::{fn_context, services, session};
    let state = fn_context::state()?;
    state.auth_limiter.check(fn_context::client_ip().await?)?;
    let user = services::users::sign_in(&state.db, &email, &password).await?;
    session::begin(&fn_context::session().await?, &user.id, state.clock.now()).await?;
    leptos_axum::redirect("/");
    Ok(user.into())
}

#[server(prefix = "/_fn", endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::ssr::{fn_context, session};
    session::end(&fn_context::session().await?).await?;
    leptos_axum::redirect("/");
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    use crate::ssr::{fn_context, services, session};
    let state = fn_context::state()?;
    let Some(user_id) = session::user_id(&fn_context::session().await?).await? else {
        return Ok(None);
    };
    Ok(services::users::find_user(&state.db, &user_id)
        .await?
        .map(CurrentUser::from))
}
