//! The `payout_accounts`, `earnings` and `payouts` tables (rules: `domain::payout`). Money
//! amounts here say what an earning or a transfer was; balances come from the ledger.

use super::Read;
use crate::domain::payout::{
    AccountStatus, Earning, EarningStatus, Payout, PayoutAccount, PayoutStatus,
};
use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

fn corrupt(err: crate::domain::UnknownStatus) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(err))
}

// ---- payout accounts -------------------------------------------------------------------------

/// `user`'s payout account; with [`Read::Locked`] its row is held until the transaction ends
/// (the payout job orders its work on one seller this way).
pub async fn find_account(
    conn: &mut AnyConnection,
    user: &Id,
    read: Read,
) -> Result<Option<PayoutAccount>, sqlx::Error> {
    let lock = read.clause(conn);
    let row: Option<(String, String)> = sqlx::query_as(&format!(
        "SELECT stripe_account_id, status FROM payout_accounts WHERE user_id = $1{lock}"
    ))
    .bind(user.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|(stripe_account_id, status)| {
        Ok(PayoutAccount {
            stripe_account_id,
            status: AccountStatus::parse(&status).map_err(corrupt)?,
        })
    })
    .transpose()
}

/// Records `user`'s account (a second connect keeps the first account id).
pub async fn insert_account(
    conn: &mut AnyConnection,
    user: &Id,
    stripe_account_id: &str,
    status: AccountStatus,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO payout_accounts (user_id, stripe_account_id, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user.as_str())
    .bind(stripe_account_id)
    .bind(status.as_str())
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the status of the account with this provider id; returns its owner when it is ours.
pub async fn set_account_status(
    conn: &mut AnyConnection,
    stripe_account_id: &str,
    status: AccountStatus,
    now: Timestamp,
) -> Result<Option<Id>, sqlx::Error> {
    let owner: Option<String> = sqlx::query_scalar(
        "UPDATE payout_accounts SET status = $1, updated_at = $2 WHERE stripe_account_id = $3 \
         RETURNING user_id",
    )
    .bind(status.as_str())
    .bind(now.millis())
    .bind(stripe_account_id)
    .fetch_optional(conn)
    .await?;
    Ok(owner.map(Id::from_trusted))
}

// ---- earnings --------------------------------------------------------------------------------

pub struct NewEarning<'a> {
    pub order_id: &'a Id,
    pub seller_id: &'a Id,
    pub ticket_id: &'a Id,
    pub net_cents: i64,
    pub release_at: Timestamp,
}

pub async fn insert_earning(
    conn: &mut AnyConnection,
    earning: &NewEarning<'_>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO earnings (order_id, seller_id, ticket_id, net_cents, release_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(earning.order_id.as_str())
    .bind(earning.seller_id.as_str())
    .bind(earning.ticket_id.as_str())
    .bind(earning.net_cents)
    .bind(earning.release_at.millis())
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// An earning due for release: its order and ticket, seller and amount.
pub struct DueEarning {
    pub order_id: Id,
    pub ticket_id: Id,
    pub seller_id: Id,
    pub net_cents: i64,
}

/// Earnings whose escrow is over at `now` and that are not released or reversed yet.
pub async fn due_earnings(
    conn: &mut AnyConnection,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<DueEarning>, sqlx::Error> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT order_id, ticket_id, seller_id, net_cents FROM earnings \
         WHERE released_at IS NULL AND reversed_at IS NULL AND release_at <= $1 \
         ORDER BY release_at LIMIT $2",
    )
    .bind(now.millis())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(order_id, ticket_id, seller_id, net_cents)| DueEarning {
            order_id: Id::from_trusted(order_id),
            ticket_id: Id::from_trusted(ticket_id),
            seller_id: Id::from_trusted(seller_id),
            net_cents,
        })
        .collect())
}

/// The earliest release still to come, if any (when the payout job should look next).
pub async fn next_release(conn: &mut AnyConnection) -> Result<Option<Timestamp>, sqlx::Error> {
    let next: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(release_at) FROM earnings WHERE released_at IS NULL AND reversed_at IS NULL",
    )
    .fetch_one(conn)
    .await?;
    Ok(next.map(Timestamp))
}

/// Releases one earning (an order's ticket's); false when it was released or reversed meanwhile.
pub async fn mark_released(
    conn: &mut AnyConnection,
    order_id: &Id,
    ticket_id: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE earnings SET released_at = $1 \
         WHERE order_id = $2 AND ticket_id = $3 AND released_at IS NULL AND reversed_at IS NULL",
    )
    .bind(now.millis())
    .bind(order_id.as_str())
    .bind(ticket_id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Where the earning of an order's ticket stands before a refund: `None` when there is none or
/// it was reversed already; else whether it was released and whether a sent payout carried it.
pub async fn earning_state(
    conn: &mut AnyConnection,
    order_id: &Id,
    ticket_id: &Id,
) -> Result<Option<(bool, bool)>, sqlx::Error> {
    let row: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT e.released_at, p.status FROM earnings e LEFT JOIN payouts p ON p.id = e.payout_id \
         WHERE e.order_id = $1 AND e.ticket_id = $2 AND e.reversed_at IS NULL",
    )
    .bind(order_id.as_str())
    .bind(ticket_id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|(released, payout)| (released.is_some(), payout.is_some())))
}

/// Marks the earning of an order's ticket reversed (its sale was refunded); false when it
/// already was.
pub async fn mark_reversed(
    conn: &mut AnyConnection,
    order_id: &Id,
    ticket_id: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE earnings SET reversed_at = $1 WHERE order_id = $2 AND ticket_id = $3 \
         AND reversed_at IS NULL",
    )
    .bind(now.millis())
    .bind(order_id.as_str())
    .bind(ticket_id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A seller's earnings, newest first, with the ticket's title.
pub async fn list_earnings(
    conn: &mut AnyConnection,
    seller: &Id,
    limit: i64,
) -> Result<Vec<Earning>, sqlx::Error> {
    #[allow(clippy::type_complexity, reason = "one row of a query")]
    let rows: Vec<(
        String,
        String,
        String,
        i64,
        i64,
        Option<i64>,
        Option<i64>,
        Option<String>,
    )> = sqlx::query_as(
        "SELECT e.order_id, e.ticket_id, t.title, e.net_cents, e.release_at, e.released_at, \
         e.reversed_at, p.status FROM earnings e JOIN tickets t ON t.id = e.ticket_id \
         LEFT JOIN payouts p ON p.id = e.payout_id \
         WHERE e.seller_id = $1 ORDER BY e.created_at DESC, e.order_id LIMIT $2",
    )
    .bind(seller.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(order_id, ticket_id, title, net_cents, release_at, released, reversed, payout)| {
                Earning {
                    order_id: Id::from_trusted(order_id),
                    ticket_id: Id::from_trusted(ticket_id),
                    title,
                    net_cents,
                    release_at: Timestamp(release_at),
                    status: EarningStatus::of(
                        reversed.is_some(),
                        released.is_some(),
                        payout.as_deref() == Some(PayoutStatus::Paid.as_str()),
                    ),
                }
            },
        )
        .collect())
}

/// When the next of a seller's earnings in escrow is released, if any.
pub async fn next_release_for(
    conn: &mut AnyConnection,
    seller: &Id,
) -> Result<Option<Timestamp>, sqlx::Error> {
    let next: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(release_at) FROM earnings \
         WHERE seller_id = $1 AND released_at IS NULL AND reversed_at IS NULL",
    )
    .bind(seller.as_str())
    .fetch_one(conn)
    .await?;
    Ok(next.map(Timestamp))
}

// ---- payouts ---------------------------------------------------------------------------------

const PAYOUT_COLUMNS: &str = "id, seller_id, stripe_account_id, amount_cents, currency, status, \
     stripe_transfer_id, attempts, failure_message, created_at";

#[derive(sqlx::FromRow)]
struct PayoutRow {
    id: String,
    seller_id: String,
    stripe_account_id: String,
    amount_cents: i64,
    currency: String,
    status: String,
    stripe_transfer_id: Option<String>,
    attempts: i64,
    failure_message: Option<String>,
    created_at: i64,
}

impl TryFrom<PayoutRow> for Payout {
    type Error = sqlx::Error;

    fn try_from(row: PayoutRow) -> Result<Payout, sqlx::Error> {
        Ok(Payout {
            id: Id::from_trusted(row.id),
            seller_id: Id::from_trusted(row.seller_id),
            stripe_account_id: row.stripe_account_id,
            amount_cents: row.amount_cents,
            currency: row.currency,
            status: PayoutStatus::parse(&row.status).map_err(corrupt)?,
            stripe_transfer_id: row.stripe_transfer_id,
            attempts: row.attempts,
            failure_message: row.failure_message,
            created_at: Timestamp(row.created_at),
        })
    }
}

fn payouts(rows: Vec<PayoutRow>) -> Result<Vec<Payout>, sqlx::Error> {
    rows.into_iter().map(Payout::try_from).collect()
}

/// Sellers with released earnings no payout carries yet and an available balance above zero
/// (a seller who owes after a refund is skipped until later earnings repay it), whose account
/// is ready and whose email is verified: who the payout job may pay.
pub async fn sellers_to_pay(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Id>, sqlx::Error> {
    let sellers: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT e.seller_id FROM earnings e \
         JOIN payout_accounts a ON a.user_id = e.seller_id AND a.status = 'ready' \
         JOIN users u ON u.id = e.seller_id AND u.email_verified_at IS NOT NULL \
              AND u.payouts_held_at IS NULL \
         WHERE e.released_at IS NOT NULL AND e.reversed_at IS NULL AND e.payout_id IS NULL \
           AND (SELECT COALESCE(-SUM(l.cents), 0) FROM ledger_entries l \
                WHERE l.user_id = e.seller_id AND l.account = 'seller_available') > 0 \
         LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(sellers.into_iter().map(Id::from_trusted).collect())
}

/// Records a new pending payout and attaches the seller's unpaid released earnings to it.
/// Returns false (writing nothing) when the seller has a pending payout already.
pub async fn insert_payout(
    conn: &mut AnyConnection,
    payout: &Payout,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO payouts (id, seller_id, stripe_account_id, amount_cents, currency, status, \
         attempts, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6) ON CONFLICT DO NOTHING",
    )
    .bind(payout.id.as_str())
    .bind(payout.seller_id.as_str())
    .bind(&payout.stripe_account_id)
    .bind(payout.amount_cents)
    .bind(&payout.currency)
    .bind(now.millis())
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "UPDATE earnings SET payout_id = $1 WHERE seller_id = $2 AND released_at IS NOT NULL \
         AND reversed_at IS NULL AND payout_id IS NULL",
    )
    .bind(payout.id.as_str())
    .bind(payout.seller_id.as_str())
    .execute(conn)
    .await?;
    Ok(true)
}

/// Pending payouts whose next attempt is due at `now`.
/// A payout whose seller's payouts an admin holds waits (with its key) until they are released.
const NOT_HELD: &str = "seller_id NOT IN (SELECT id FROM users WHERE payouts_held_at IS NOT NULL)";

pub async fn due_payouts(
    conn: &mut AnyConnection,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Payout>, sqlx::Error> {
    let rows: Vec<PayoutRow> = sqlx::query_as(&format!(
        "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE status = 'pending' AND next_attempt_at <= $1 \
         AND {NOT_HELD} ORDER BY next_attempt_at LIMIT $2"
    ))
    .bind(now.millis())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    payouts(rows)
}

/// When the next pending payout is due, if any.
pub async fn next_attempt(conn: &mut AnyConnection) -> Result<Option<Timestamp>, sqlx::Error> {
    let next: Option<i64> = sqlx::query_scalar(&format!(
        "SELECT MIN(next_attempt_at) FROM payouts WHERE status = 'pending' AND {NOT_HELD}"
    ))
    .fetch_one(conn)
    .await?;
    Ok(next.map(Timestamp))
}

/// Claims a due payout for one attempt until `until` (another node, or this one after a crash,
/// may try again after that, with the same idempotency key). False when someone else claimed
/// it or it is settled.
pub async fn claim_payout(
    conn: &mut AnyConnection,
    id: &Id,
    now: Timestamp,
    until: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE payouts SET attempts = attempts + 1, next_attempt_at = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'pending' AND next_attempt_at <= $2",
    )
    .bind(until.millis())
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The transfer went through; false when the payout was settled already.
pub async fn mark_paid(
    conn: &mut AnyConnection,
    id: &Id,
    transfer_id: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE payouts SET status = 'paid', stripe_transfer_id = $1, failure_message = NULL, \
         updated_at = $2 WHERE id = $3 AND status = 'pending'",
    )
    .bind(transfer_id)
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The provider refused the transfer: the payout is failed and its earnings are free for the
/// next one. False when the payout was settled already.
pub async fn mark_failed(
    conn: &mut AnyConnection,
    id: &Id,
    message: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE payouts SET status = 'failed', failure_message = $1, updated_at = $2 \
         WHERE id = $3 AND status = 'pending'",
    )
    .bind(message)
    .bind(now.millis())
    .bind(id.as_str())
    .execute(&mut *conn)
    .await?;
    if result.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE earnings SET payout_id = NULL WHERE payout_id = $1")
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(true)
}

/// The outcome is unknown: try again at `at` with the same key.
pub async fn retry_at(
    conn: &mut AnyConnection,
    id: &Id,
    at: Timestamp,
    message: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE payouts SET next_attempt_at = $1, failure_message = $2, updated_at = $3 \
         WHERE id = $4 AND status = 'pending'",
    )
    .bind(at.millis())
    .bind(message)
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// A seller's payouts, newest first.
pub async fn list_payouts(
    conn: &mut AnyConnection,
    seller: &Id,
    limit: i64,
) -> Result<Vec<Payout>, sqlx::Error> {
    let rows: Vec<PayoutRow> = sqlx::query_as(&format!(
        "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE seller_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(seller.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    payouts(rows)
}

/// Payouts for the operator's console, newest first.
pub async fn list_for_console(
    conn: &mut AnyConnection,
    limit: i64,
    offset: i64,
) -> Result<Vec<Payout>, sqlx::Error> {
    let rows: Vec<PayoutRow> = sqlx::query_as(&format!(
        "SELECT {PAYOUT_COLUMNS} FROM payouts ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(conn)
    .await?;
    payouts(rows)
}
