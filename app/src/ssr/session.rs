//! Who is signed in: the user id kept in the server-side session (tower-sessions, stored in the
//! same SQLite database). Used by pages and the JSON API alike.

use crate::domain::Id;
use crate::error::AppError;
use tower_sessions::Session;

const USER_ID: &str = "user_id";

/// Starts a signed-in session under a fresh session id (so a planted id is worthless).
pub async fn begin(session: &Session, user_id: &Id) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(USER_ID, user_id.as_str()).await?;
    Ok(())
}

/// Destroys the session in the store; the cookie is cleared on the way out.
pub async fn end(session: &Session) -> Result<(), AppError> {
    session.flush().await?;
    Ok(())
}

/// The signed-in user's id, if any.
pub async fn user_id(session: &Session) -> Result<Option<Id>, AppError> {
    Ok(session.get::<String>(USER_ID).await?.map(Id::from_trusted))
}
