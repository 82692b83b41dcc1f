//! The `ledger_transactions` and `ledger_entries` tables (rules: `domain::ledger`).

use crate::domain::ledger::{Account, Kind, Transaction};
use crate::domain::{Id, Timestamp};
use sqlx::AnyConnection;

fn account_columns(account: &Account) -> (&'static str, Option<&str>) {
    match account {
        Account::Provider => ("provider", None),
        Account::PlatformFees => ("platform_fees", None),
        Account::SellerPending(seller) => ("seller_pending", Some(seller.as_str())),
        Account::SellerAvailable(seller) => ("seller_available", Some(seller.as_str())),
    }
}

/// What a transaction is about: the order of a sale, release or refund, or a payout.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A ticket of an order: its sale, its earning's release, its refund.
    Order(&'a Id, &'a Id),
    Payout(&'a Id),
}

/// Writes a balanced transaction. An unbalanced one is a bug and is refused before anything is
/// written; a second sale, release or refund of one order, or a second transaction for one
/// payout, breaks a unique index.
pub async fn record(
    conn: &mut AnyConnection,
    transaction: &Transaction,
    source: Source<'_>,
    now: Timestamp,
) -> Result<Id, sqlx::Error> {
    if !transaction.is_balanced() {
        return Err(sqlx::Error::Protocol(format!(
            "an unbalanced ledger transaction was refused: {transaction:?}"
        )));
    }
    let id = crate::ssr::clock::new_id();
    let (order, ticket, payout) = match source {
        Source::Order(order, ticket) => (Some(order.as_str()), Some(ticket.as_str()), None),
        Source::Payout(payout) => (None, None, Some(payout.as_str())),
    };
    sqlx::query(
        "INSERT INTO ledger_transactions (id, kind, order_id, ticket_id, payout_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(transaction.kind.as_str())
    .bind(order)
    .bind(ticket)
    .bind(payout)
    .bind(now.millis())
    .execute(&mut *conn)
    .await?;
    for entry in &transaction.entries {
        let (account, user) = account_columns(&entry.account);
        sqlx::query(
            "INSERT INTO ledger_entries (transaction_id, account, user_id, cents) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.as_str())
        .bind(account)
        .bind(user)
        .bind(entry.cents)
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

/// The sum of every entry on `account` (debits positive): see `domain::ledger::balance` for the
/// natural sign.
pub async fn sum(conn: &mut AnyConnection, account: &Account) -> Result<i64, sqlx::Error> {
    let (name, user) = account_columns(account);
    let total: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(cents) AS BIGINT) FROM ledger_entries WHERE account = $1 AND COALESCE(user_id, '') = $2",
    )
    .bind(name)
    .bind(user.unwrap_or(""))
    .fetch_one(conn)
    .await?;
    Ok(total.unwrap_or(0))
}

/// The sum of the entries on `account` made by transactions of `kind` (for example what a
/// seller was sent in payouts: the debits of payouts on their available balance).
pub async fn sum_of_kind(
    conn: &mut AnyConnection,
    account: &Account,
    kind: Kind,
) -> Result<i64, sqlx::Error> {
    let (name, user) = account_columns(account);
    let total: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(SUM(e.cents) AS BIGINT) FROM ledger_entries e \
         JOIN ledger_transactions t ON t.id = e.transaction_id \
         WHERE e.account = $1 AND COALESCE(e.user_id, '') = $2 AND t.kind = $3",
    )
    .bind(name)
    .bind(user.unwrap_or(""))
    .bind(kind.as_str())
    .fetch_one(conn)
    .await?;
    Ok(total.unwrap_or(0))
}

/// Transactions whose entries do not sum to zero (there must never be any).
pub async fn unbalanced_transactions(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT transaction_id FROM ledger_entries \
         GROUP BY transaction_id HAVING SUM(cents) <> 0) AS unbalanced",
    )
    .fetch_one(conn)
    .await
}
