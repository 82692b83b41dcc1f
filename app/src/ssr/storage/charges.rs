//! The `charges` table and the log of applied Stripe webhook events.

use super::Read;
use crate::domain::{Charge, ChargeStatus, Id, Price, Timestamp};
use sqlx::AnyConnection;

const COLUMNS: &str = "id, order_id, status, amount_cents, currency, idempotency_key, stripe_id, stripe_refund_id, \
                       failure_message, created_at";

#[derive(sqlx::FromRow)]
struct ChargeRow {
    id: String,
    order_id: String,
    /// An unknown status fails the read (a corrupt row), instead of being guessed.
    #[sqlx(try_from = "String")]
    status: ChargeStatus,
    amount_cents: i64,
    currency: String,
    idempotency_key: String,
    stripe_id: Option<String>,
    stripe_refund_id: Option<String>,
    failure_message: Option<String>,
    created_at: i64,
}

impl From<ChargeRow> for Charge {
    fn from(row: ChargeRow) -> Charge {
        Charge {
            id: Id::from_trusted(row.id),
            order_id: Id::from_trusted(row.order_id),
            status: row.status,
            amount: Price::from_stored(row.amount_cents),
            currency: row.currency,
            idempotency_key: row.idempotency_key,
            stripe_id: row.stripe_id,
            stripe_refund_id: row.stripe_refund_id,
            failure_message: row.failure_message,
            created_at: Timestamp::from_millis(row.created_at),
        }
    }
}

/// Records a new charge, with the payment method it is paid with when the server charges it
/// itself (none for a hosted checkout). A unique violation means the order already has a charge
/// in flight or a completed one.
pub async fn insert_charge(
    conn: &mut AnyConnection,
    charge: &Charge,
    payment_token: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO charges (id, order_id, status, amount_cents, currency, idempotency_key, stripe_id, created_at, updated_at, payment_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(charge.id.as_str())
    .bind(charge.order_id.as_str())
    .bind(charge.status.as_str())
    .bind(charge.amount.cents())
    .bind(&charge.currency)
    .bind(&charge.idempotency_key)
    .bind(charge.stripe_id.as_deref())
    .bind(charge.created_at.millis())
    .bind(charge.created_at.millis())
    .bind(payment_token)
    .execute(conn)
    .await?;
    Ok(())
}

/// The payment method a charge was started with, if the server charges it itself.
pub async fn find_payment_token(
    conn: &mut AnyConnection,
    id: &Id,
) -> Result<Option<String>, sqlx::Error> {
    let token: Option<Option<String>> =
        sqlx::query_scalar("SELECT payment_token FROM charges WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(token.flatten())
}

#[derive(sqlx::FromRow)]
struct UnfinishedRow {
    #[sqlx(flatten)]
    charge: ChargeRow,
    payment_token: String,
}

/// Charges still in flight that the server charges itself (not hosted checkouts), oldest
/// first, each with the payment method it was started with: what a crash or an unreachable
/// provider left unfinished.
pub async fn list_unfinished_charges(
    conn: &mut AnyConnection,
) -> Result<Vec<(Charge, String)>, sqlx::Error> {
    let rows: Vec<UnfinishedRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS}, payment_token FROM charges \
         WHERE status = 'created' AND payment_token IS NOT NULL ORDER BY created_at, id"
    ))
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| (Charge::from(row.charge), row.payment_token))
        .collect())
}

pub async fn find_charge(conn: &mut AnyConnection, id: &Id) -> Result<Option<Charge>, sqlx::Error> {
    read_charge(conn, id, Read::Plain).await
}

/// [`find_charge`] holding the row until the transaction ends (see [`Read::Locked`]).
pub async fn lock_charge(conn: &mut AnyConnection, id: &Id) -> Result<Option<Charge>, sqlx::Error> {
    read_charge(conn, id, Read::Locked).await
}

/// One charge by id, read as `read` says.
pub async fn read_charge(
    conn: &mut AnyConnection,
    id: &Id,
    read: Read,
) -> Result<Option<Charge>, sqlx::Error> {
    let clause = read.clause(conn);
    let row: Option<ChargeRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM charges WHERE id = $1{clause}"
    ))
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Charge::from))
}

pub async fn find_charge_by_stripe_id(
    conn: &mut AnyConnection,
    stripe_id: &str,
) -> Result<Option<Charge>, sqlx::Error> {
    let row: Option<ChargeRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM charges WHERE stripe_id = $1"
    ))
    .bind(stripe_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Charge::from))
}

/// An order's charges, oldest first.
pub async fn list_charges_for_order(
    conn: &mut AnyConnection,
    order_id: &Id,
) -> Result<Vec<Charge>, sqlx::Error> {
    let rows: Vec<ChargeRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM charges WHERE order_id = $1 ORDER BY created_at, id"
    ))
    .bind(order_id.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(Charge::from).collect())
}

/// Remembers the provider's id for a charge still in flight.
pub async fn set_stripe_id(
    conn: &mut AnyConnection,
    id: &Id,
    stripe_id: &str,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE charges SET stripe_id = $1, updated_at = $2 WHERE id = $3")
        .bind(stripe_id)
        .bind(now.millis())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Settles a charge that is still `created`. Returns whether it was (a charge settles once).
pub async fn settle_charge(
    conn: &mut AnyConnection,
    id: &Id,
    status: ChargeStatus,
    stripe_id: Option<&str>,
    failure_message: Option<&str>,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE charges SET status = $1, stripe_id = COALESCE($2, stripe_id), failure_message = $3, updated_at = $4 \
         WHERE id = $5 AND status = 'created'",
    )
    .bind(status.as_str())
    .bind(stripe_id)
    .bind(failure_message)
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Completes a charge that is in flight, or that was given up on (a checkout the buyer left
/// and then paid after all). Returns whether it changed.
pub async fn complete_charge(
    conn: &mut AnyConnection,
    id: &Id,
    stripe_id: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE charges SET status = 'completed', stripe_id = $1, failure_message = NULL, updated_at = $2 \
         WHERE id = $3 AND status IN ('created', 'failed')",
    )
    .bind(stripe_id)
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks a charge refunded with the provider's refund id. Returns whether it changed.
pub async fn mark_refunded(
    conn: &mut AnyConnection,
    id: &Id,
    refund_id: &str,
    reason: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE charges SET status = 'refunded', stripe_refund_id = $1, failure_message = $2, updated_at = $3 \
         WHERE id = $4 AND status <> 'refunded'",
    )
    .bind(refund_id)
    .bind(reason)
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether the webhook event with this id was already applied.
pub async fn stripe_event_applied(
    conn: &mut AnyConnection,
    event_id: &str,
) -> Result<bool, sqlx::Error> {
    let found: i64 = sqlx::query_scalar(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM stripe_events WHERE id = $1) THEN 1 ELSE 0 END",
    )
    .bind(event_id)
    .fetch_one(conn)
    .await?;
    Ok(found == 1)
}

/// Records a webhook event id. Returns `false` when it was already applied.
pub async fn insert_stripe_event(
    conn: &mut AnyConnection,
    event_id: &str,
    event_type: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("INSERT INTO stripe_events (id, event_type, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
        .bind(event_id)
        .bind(event_type)
        .bind(now.millis())
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}
