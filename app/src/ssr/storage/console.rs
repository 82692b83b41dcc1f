//! The figures of the operator's dashboard, each one query.

use crate::domain::Timestamp;
use sqlx::AnyConnection;

/// Listings a buyer could reserve at `now` (the browse page's condition).
pub async fn count_on_sale(conn: &mut AnyConnection, now: Timestamp) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM tickets WHERE {}",
        super::tickets::ON_SALE
    ))
    .bind(now.millis())
    .fetch_one(conn)
    .await
}

/// Reservations holding a ticket at `now`.
pub async fn count_live_reservations(
    conn: &mut AnyConnection,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM orders WHERE status IN ('created', 'awaiting:payment') \
         AND expires_at > $1",
    )
    .bind(now.millis())
    .fetch_one(conn)
    .await
}

/// Sales recorded since `since`: how many, and what buyers paid in all (fees included).
pub async fn sales_since(
    conn: &mut AnyConnection,
    since: Timestamp,
) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(e.cents), 0) AS BIGINT) FROM ledger_transactions t \
         JOIN ledger_entries e ON e.transaction_id = t.id AND e.account = 'provider' \
         WHERE t.kind = 'sale' AND t.created_at >= $1",
    )
    .bind(since.millis())
    .fetch_one(conn)
    .await
}

/// The marketplace's fees earned since `since`, net of refunds.
pub async fn fees_since(conn: &mut AnyConnection, since: Timestamp) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(-SUM(e.cents), 0) AS BIGINT) FROM ledger_entries e \
         JOIN ledger_transactions t ON t.id = e.transaction_id \
         WHERE e.account = 'platform_fees' AND t.created_at >= $1",
    )
    .bind(since.millis())
    .fetch_one(conn)
    .await
}

/// Payouts in `status` (`pending` or `failed`): how many, and their total.
pub async fn payouts_in(conn: &mut AnyConnection, status: &str) -> Result<(i64, i64), sqlx::Error> {
    sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(amount_cents), 0) AS BIGINT) FROM payouts \
         WHERE status = $1",
    )
    .bind(status)
    .fetch_one(conn)
    .await
}

/// Sellers whose payouts are on hold.
pub async fn count_held_sellers(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE payouts_held_at IS NOT NULL")
        .fetch_one(conn)
        .await
}
