//! Who is signed in: the user id kept in the server-side session (tower-sessions, stored in the
//! same SQLite database). Used by pages and the JSON API alike.

use crate::domain::Id;
use crate::error::AppError;
use tower_sessions::Session;

pub const USER_ID: &str = "user_id";
/// What the browser said it was at sign-in (for the list of sessions).
pub const USER_AGENT: &str = "user_agent";

/// Starts a signed-in session under a fresh session id (so a planted id is worthless).
/// `now` starts its lifetime.
pub async fn begin(
    session: &Session,
    user_id: &Id,
    user_agent: &str,
    now: crate::domain::Timestamp,
) -> Result<(), AppError> {
    session.cycle_id().await?;
    session.insert(USER_ID, user_id.as_str()).await?;
    session.insert(USER_AGENT, user_agent).await?;
    let now = now.millis();
    session.insert(SIGNED_IN_AT, now).await?;
    session.insert(SEEN_AT, now).await?;
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

pub const SIGNED_IN_AT: &str = "signed_in_at";
pub const SEEN_AT: &str = "seen_at";

/// A signed-in session ends this long after sign-in, however active.
pub const ABSOLUTE_LIFETIME_MS: i64 = 90 * 24 * 3600 * 1000;
/// Activity is written down at most this often: each write moves the idle expiry on.
pub const TOUCH_EVERY_MS: i64 = 3600 * 1000;

/// What a request does to a signed-in session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Nothing to write.
    Current,
    /// Note the activity, moving the idle expiry on (sliding expiry).
    Touch,
    /// Older than the absolute lifetime: sign out.
    Expired,
}

/// The rule: sessions slide with activity, noted at most once per [`TOUCH_EVERY_MS`], and end
/// [`ABSOLUTE_LIFETIME_MS`] after sign-in.
pub fn activity(signed_in_at: i64, seen_at: Option<i64>, now: i64) -> Activity {
    if now.saturating_sub(signed_in_at) >= ABSOLUTE_LIFETIME_MS {
        Activity::Expired
    } else if seen_at.is_none_or(|seen| now.saturating_sub(seen) >= TOUCH_EVERY_MS) {
        Activity::Touch
    } else {
        Activity::Current
    }
}

/// Applies [`activity`] to this request's session: signs out a session past its absolute
/// lifetime, and saves a session seen for the first time in an hour so its idle expiry starts
/// again from now. Sessions without a user are left alone.
pub async fn note_activity(session: &Session, now: i64) -> Result<(), AppError> {
    if session.get::<String>(USER_ID).await?.is_none() {
        return Ok(());
    }
    let signed_in_at = match session.get::<i64>(SIGNED_IN_AT).await? {
        Some(at) => at,
        None => {
            // A session from before sign-in times were kept starts its lifetime now.
            session.insert(SIGNED_IN_AT, now).await?;
            now
        }
    };
    match activity(signed_in_at, session.get::<i64>(SEEN_AT).await?, now) {
        Activity::Current => {}
        Activity::Touch => session.insert(SEEN_AT, now).await?,
        Activity::Expired => session.flush().await?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_slide_with_activity_and_end_after_ninety_days() {
        let hour = 3600 * 1000;
        let day = 24 * hour;
        let cases = [
            (0, None, 0, Activity::Touch),
            (0, Some(0), hour - 1, Activity::Current),
            (0, Some(0), hour, Activity::Touch),
            (0, Some(10 * day), 10 * day + 5, Activity::Current),
            (0, Some(89 * day), 90 * day - 1, Activity::Touch),
            (0, Some(90 * day - 1), 90 * day, Activity::Expired),
            (0, None, 200 * day, Activity::Expired),
        ];
        for (signed_in_at, seen_at, now, expected) in cases {
            assert_eq!(
                activity(signed_in_at, seen_at, now),
                expected,
                "{signed_in_at} {seen_at:?} {now}"
            );
        }
    }
}
