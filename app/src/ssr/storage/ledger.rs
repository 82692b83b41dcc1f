//! The `ledger_transactions` and `ledger_entries` tables (rules: `domain::ledger`).

use crate::domain::ledger::{Account, Transaction};
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

/// Writes a balanced transaction for `order`. An unbalanced one is a bug and is refused before
/// anything is written; a second sale, release or refund of one order breaks a unique index.
pub async fn record(
    conn: &mut AnyConnection,
    transaction: &Transaction,
    order: Option<&Id>,
    now: Timestamp,
) -> Result<Id, sqlx::Error> {
    if !transaction.is_balanced() {
        return Err(sqlx::Error::Protocol(format!(
            "an unbalanced ledger transaction was refused: {transaction:?}"
        )));
    }
    let id = crate::ssr::clock::new_id();
    sqlx::query(
        "INSERT INTO ledger_transactions (id, kind, order_id, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id.as_str())
    .bind(transaction.kind.as_str())
    .bind(order.map(Id::as_str))
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

/// Transactions whose entries do not sum to zero (there must never be any).
pub async fn unbalanced_transactions(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT transaction_id FROM ledger_entries \
         GROUP BY transaction_id HAVING SUM(cents) <> 0) AS unbalanced",
    )
    .fetch_one(conn)
    .await
}
