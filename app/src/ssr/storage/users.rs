//! The `users` table.

use crate::domain::{Email, Id, Timestamp};
use sqlx::AnyConnection;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub email_verified_at: Option<i64>,
    /// 1 when two-factor sign-in is on.
    pub two_factor: i64,
    /// The roles held, comma-separated (see [`UserRow::roles`]).
    pub roles: Option<String>,
    /// 1 when some event's organiser named them door staff.
    pub door_staff: i64,
    pub suspended_at: Option<i64>,
    pub payouts_held_at: Option<i64>,
    pub created_at: i64,
}

impl UserRow {
    /// The roles the user holds (a role this build does not know is left out).
    pub fn roles(&self) -> crate::domain::role::Roles {
        let stored = self.roles.as_deref().unwrap_or_default();
        stored
            .split(',')
            .filter_map(|name| crate::domain::role::Role::parse(name.trim()).ok())
            .fold(crate::domain::role::Roles::NONE, |roles, role| {
                roles.with(role)
            })
    }
}

/// The `roles` and `door_staff` columns of a [`UserRow`] query: the user's roles in one
/// comma-separated text, and whether they are on some event's door staff.
fn roles_column(conn: &mut AnyConnection) -> &'static str {
    match super::backend(conn) {
        super::Backend::Postgres => {
            "(SELECT string_agg(role, ',' ORDER BY role) FROM user_roles WHERE user_id = users.id) AS roles, \
             CASE WHEN EXISTS (SELECT 1 FROM event_staff WHERE user_id = users.id) THEN 1 ELSE 0 END AS door_staff"
        }
        super::Backend::Sqlite => {
            "(SELECT group_concat(role, ',') FROM user_roles WHERE user_id = users.id) AS roles, \
             CASE WHEN EXISTS (SELECT 1 FROM event_staff WHERE user_id = users.id) THEN 1 ELSE 0 END AS door_staff"
        }
    }
}

/// A user with the stored password hash, for sign-in only.
#[derive(sqlx::FromRow)]
pub struct Credentials {
    pub id: String,
    pub email: String,
    pub password_hash: String,
}

/// A new account; `verified` when the address needs no proof (demo accounts).
pub async fn insert_user(
    conn: &mut AnyConnection,
    id: &Id,
    email: &Email,
    password_hash: &str,
    verified: bool,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email, password_hash, email_verified_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id.as_str())
        .bind(email.as_str())
        .bind(password_hash)
        .bind(verified.then_some(now.millis()))
        .bind(now.millis())
        .bind(now.millis())
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn find_user(conn: &mut AnyConnection, id: &Id) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!(
        "SELECT id, email, email_verified_at, \
         CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS two_factor, {}, suspended_at, \
         payouts_held_at, created_at FROM users WHERE id = $1",
        roles_column(conn)
    );
    sqlx::query_as(&sql)
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
}

pub async fn find_credentials(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, password_hash FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await
}

pub async fn find_credentials_by_id(
    conn: &mut AnyConnection,
    id: &Id,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("SELECT id, email, password_hash FROM users WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
}

pub async fn email_exists(conn: &mut AnyConnection, email: &Email) -> Result<bool, sqlx::Error> {
    let found: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE email = $1) THEN 1 ELSE 0 END",
    )
    .bind(email.as_str())
    .fetch_one(conn)
    .await?;
    Ok(found == 1)
}

/// Holds `id`'s row until the transaction ends (see [`super::Read::Locked`]), so that two
/// transactions deciding about the same user (how many reservations they hold) take turns.
pub async fn lock_user(conn: &mut AnyConnection, id: &Id) -> Result<(), sqlx::Error> {
    let clause = super::Read::Locked.clause(conn);
    if !clause.is_empty() {
        sqlx::query(&format!("SELECT id FROM users WHERE id = $1{clause}"))
            .bind(id.as_str())
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// [`lock_user`] for several users in one statement, in id order (so that two transactions
/// locking overlapping sets never wait for each other in a circle).
pub async fn lock_users(conn: &mut AnyConnection, ids: &[&Id]) -> Result<(), sqlx::Error> {
    let clause = super::Read::Locked.clause(conn);
    let Some(last) = ids.last() else {
        return Ok(());
    };
    if clause.is_empty() {
        return Ok(());
    }
    let (list, size) = super::in_list(ids.len(), 1);
    let sql = format!("SELECT id FROM users WHERE id IN {list} ORDER BY id{clause}");
    let mut query = sqlx::query(&sql);
    for n in 0..size {
        query = query.bind(ids.get(n).unwrap_or(last).as_str());
    }
    query.execute(conn).await?;
    Ok(())
}

pub async fn count_users(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(conn)
        .await
}

/// The roles a user holds.
pub async fn find_roles(
    conn: &mut AnyConnection,
    user: &Id,
) -> Result<crate::domain::role::Roles, sqlx::Error> {
    let names: Vec<String> = sqlx::query_scalar("SELECT role FROM user_roles WHERE user_id = $1")
        .bind(user.as_str())
        .fetch_all(conn)
        .await?;
    crate::domain::role::Roles::parse(names.iter().map(String::as_str))
        .map_err(|err| sqlx::Error::Decode(Box::new(err)))
}

/// The id of the account with this address, if there is one.
pub async fn find_id_by_email(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<Id>, sqlx::Error> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email.as_str())
        .fetch_optional(conn)
        .await?;
    Ok(id.map(Id::from_trusted))
}

/// Suspends (with a reason) or reinstates a user; false when nothing changed (no such user,
/// or already in that state).
pub async fn set_suspended(
    conn: &mut AnyConnection,
    id: &Id,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = match reason {
        Some(reason) => sqlx::query(
            "UPDATE users SET suspended_at = $1, suspended_reason = $2, updated_at = $1 \
             WHERE id = $3 AND suspended_at IS NULL",
        )
        .bind(now.millis())
        .bind(reason)
        .bind(id.as_str()),
        None => sqlx::query(
            "UPDATE users SET suspended_at = NULL, suspended_reason = NULL, updated_at = $1 \
             WHERE id = $2 AND suspended_at IS NOT NULL",
        )
        .bind(now.millis())
        .bind(id.as_str()),
    }
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether the user is suspended.
pub async fn is_suspended(conn: &mut AnyConnection, id: &str) -> Result<bool, sqlx::Error> {
    let found: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM users WHERE id = $1 AND suspended_at IS NOT NULL) \
         THEN 1 ELSE 0 END",
    )
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(found == 1)
}

/// Holds or releases a seller's payouts; false when nothing changed.
pub async fn set_payouts_held(
    conn: &mut AnyConnection,
    id: &Id,
    held: bool,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let sql = if held {
        "UPDATE users SET payouts_held_at = $1, updated_at = $1 WHERE id = $2 AND payouts_held_at IS NULL"
    } else {
        "UPDATE users SET payouts_held_at = NULL, updated_at = $1 WHERE id = $2 AND payouts_held_at IS NOT NULL"
    };
    let result = sqlx::query(sql)
        .bind(now.millis())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives `role` to a user by id (nothing changes when they hold it already).
pub async fn grant_role(
    conn: &mut AnyConnection,
    id: &Id,
    role: crate::domain::role::Role,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(id.as_str())
        .bind(role.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Takes `role` (with `None`, every role) from a user by id; whether they held it.
pub async fn revoke_role(
    conn: &mut AnyConnection,
    id: &Id,
    role: Option<crate::domain::role::Role>,
) -> Result<bool, sqlx::Error> {
    let result = match role {
        Some(role) => {
            sqlx::query("DELETE FROM user_roles WHERE user_id = $1 AND role = $2")
                .bind(id.as_str())
                .bind(role.as_str())
                .execute(conn)
                .await?
        }
        None => {
            sqlx::query("DELETE FROM user_roles WHERE user_id = $1")
                .bind(id.as_str())
                .execute(conn)
                .await?
        }
    };
    Ok(result.rows_affected() > 0)
}

/// Users for the operator's console, newest first: all, or those whose address contains the
/// search (or whose id it is).
pub async fn list_for_console(
    conn: &mut AnyConnection,
    search: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<UserRow>, sqlx::Error> {
    let pattern = format!(
        "%{}%",
        search
            .trim()
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let sql = format!(
        "SELECT id, email, email_verified_at, \
         CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END AS two_factor, {}, suspended_at, \
         payouts_held_at, created_at FROM users \
         WHERE id = $1 OR LOWER(email) LIKE $2 ESCAPE '\\' \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
        roles_column(conn)
    );
    sqlx::query_as(&sql)
        .bind(search.trim())
        .bind(pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(conn)
        .await
}
