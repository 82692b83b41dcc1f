//! Cancelling an event (docs/RULES.md, "Cancelling an event"). In one transaction: the event
//! is `cancelled`, live reservations of its seats end, every one of its tickets (unsold seats,
//! resale listings, sold seats) goes off sale for good, every valid code is revoked, one
//! pending refund is queued per completed order, and holders, resale sellers, buyers with a
//! reservation and the organiser are mailed.
//!
//! The refunds are made afterwards by [`run_refund_job`] on every node, one order at a time:
//! a node claims a pending refund for [`CLAIM_MS`], asks the gateway (keyed by the charge, so a
//! refund asked for twice — after a crash, or by two nodes — is made once), then records it
//! like any refund (the ledger reversed, the order cancelled) but leaves the ticket off sale
//! and issues no new code. A payment that lands after the cancellation finds its order ended
//! and is given back as late money (`payments::settle_payment`).

use super::events::{EventDetails, details_in, event_payload, organiser, run_event};
use crate::domain::{ChargeStatus, Id, OrderStatus, Timestamp};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::mail::messages::{self, CancelledFor};
use crate::ssr::services::mail;
use crate::ssr::storage::{
    Read, cancellations, charges, event_log, events, orders, tickets, users,
};
use sqlx::AnyConnection;
use std::collections::BTreeSet;

/// How long a node holds a claimed refund before another may take it over.
pub const CLAIM_MS: i64 = 60_000;
/// How long a refund the gateway refused waits before it is tried again.
pub const RETRY_MS: i64 = 30_000;

/// Cancels event `id` for `reason` (its organiser or an admin): 400 when it is already
/// cancelled or over, or the reason is missing or too long.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn cancel_event(ctx: &Ctx, id: &Id, reason: &str) -> Result<EventDetails, AppError> {
    let (user, admin) = organiser(ctx).await?;
    let reason = crate::domain::audit::parse_reason(reason)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    events::lock_event(&mut tx, id).await?;
    let mut event = run_event(&mut tx, &user, admin, id).await?;
    event.check_cancel(now)?;
    if !events::mark_cancelled(&mut tx, id, &reason, now).await? {
        return Err(AppError::invalid(crate::domain::event::ALREADY_CANCELLED));
    }
    event.status = crate::domain::event::EventStatus::Cancelled;
    event.cancel_reason = Some(reason.clone());
    event.version += 1;

    // Every row is taken before the event log's turn is (the appends come last): a payment
    // holding an order it is settling also appends, and must not wait for us while we wait
    // for its order. Reservations under way have finished (they share the event's row).
    //
    // Reservations end (a payment under way is given back when it lands).
    let mut ended = Vec::new();
    for order_id in cancellations::live_orders_of_event(&mut tx, id).await? {
        let Some(order) = orders::read_order(&mut tx, &order_id, Read::Locked).await? else {
            continue;
        };
        if orders::update_live_order_status(&mut tx, &order.id, OrderStatus::Cancelled, now).await?
        {
            ended.push(order.moved_to(OrderStatus::Cancelled));
        }
    }
    let reserved: BTreeSet<Id> = ended.iter().map(|order| order.buyer_id.clone()).collect();
    let resellers: BTreeSet<Id> = cancellations::resale_sellers(&mut tx, id)
        .await?
        .into_iter()
        .collect();
    cancellations::remove_event_tickets(&mut tx, id, &reason, now).await?;
    let mut holders: BTreeSet<Id> = cancellations::revoke_event_codes(&mut tx, id, now)
        .await?
        .into_iter()
        .collect();
    let refunds = cancellations::queue_refunds(&mut tx, id, now).await?;
    // Whoever paid is told of their refund, holding the ticket still or not.
    holders.extend(cancellations::refunded_buyers(&mut tx, id).await?);
    for order in &ended {
        super::orders::append_order_event(&mut tx, "OrderCancelled", order, now).await?;
    }
    event_log::insert_event(&mut tx, "EventCancelled", id, event_payload(&event), now).await?;

    // One letter per person, saying what the cancellation means for them.
    let url = messages::link(&ctx.settings().public_url, "/tickets/mine");
    let mut told = BTreeSet::new();
    let parts = holders
        .iter()
        .map(|who| (who, CancelledFor::Holder))
        .chain(resellers.iter().map(|who| (who, CancelledFor::Reseller)))
        .chain(reserved.iter().map(|who| (who, CancelledFor::Reservation)))
        .chain(std::iter::once((
            &event.organiser_id,
            CancelledFor::Organiser { refunds },
        )));
    for (who, part) in parts {
        if told.insert(who.clone()) {
            tell(&mut tx, who, &event.name, &reason, part, &url, now).await?;
        }
    }
    let details = details_in(&mut tx, event, now).await?;
    tx.commit().await?;
    ctx.mail_queued();
    ctx.refunds_due();
    Ok(details)
}

async fn tell(
    tx: &mut AnyConnection,
    who: &Id,
    event: &str,
    reason: &str,
    part: CancelledFor,
    url: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    if let Some(user) = users::find_user(tx, who).await? {
        let letter = messages::event_cancelled(&user.email, event, reason, part, url);
        mail::queue(tx, &letter, now).await?;
    }
    Ok(())
}

/// The event's refunds so far: (made, all).
#[tracing::instrument(level = "debug", skip_all, fields(event_id = %id))]
pub async fn refund_progress(ctx: &Ctx, id: &Id) -> Result<(i64, i64), AppError> {
    Ok(cancellations::progress(&mut *ctx.db().read.acquire().await?, id).await?)
}

/// What one round of the refund job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RefundRound {
    /// Refunds recorded.
    pub refunded: usize,
    /// Refunds the gateway refused this time (tried again later).
    pub failed: usize,
}

/// Makes every pending refund that is due and not claimed by another node, one at a time.
#[tracing::instrument(skip_all)]
pub async fn refund_round(ctx: &Ctx) -> Result<RefundRound, AppError> {
    let mut round = RefundRound::default();
    loop {
        let now = ctx.now();
        let claimed = {
            let mut tx = ctx.db().begin_write_keeping_reads().await?;
            let claimed =
                cancellations::claim_next(&mut tx, now, Timestamp(now.millis() + CLAIM_MS)).await?;
            tx.commit().await?;
            claimed
        };
        let Some(order_id) = claimed else {
            return Ok(round);
        };
        match refund_one(ctx, &order_id).await {
            Ok(()) => round.refunded += 1,
            Err(err) => {
                round.failed += 1;
                tracing::warn!(order = %order_id, error = ?err, "refund of a cancelled event's order failed; trying again later");
                let mut tx = ctx.db().begin_write_keeping_reads().await?;
                cancellations::retry_at(
                    &mut tx,
                    &order_id,
                    &err.to_string(),
                    Timestamp(ctx.now().millis() + RETRY_MS),
                )
                .await?;
                tx.commit().await?;
            }
        }
    }
}

/// Refunds one order of a cancelled event: at the gateway (keyed by its charge), then in the
/// database, where the pending row is closed in the same transaction.
async fn refund_one(ctx: &Ctx, order_id: &Id) -> Result<(), AppError> {
    let charge = {
        let mut conn = ctx.db().read.acquire().await?;
        charges::list_charges_for_order(&mut conn, order_id)
            .await?
            .into_iter()
            .find(|c| c.status == ChargeStatus::Completed)
    };
    let refund_id = match &charge {
        // Refunded already (by an operator, or at Stripe's dashboard), or never paid.
        None => None,
        Some(charge) => Some(super::refunds::refund_at_gateway(ctx, charge, None).await?),
    };
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    if let (Some(charge), Some(refund_id)) = (&charge, &refund_id) {
        let reason = cancel_reason(&mut tx, order_id).await?;
        let locked = charges::lock_charge(&mut tx, &charge.id)
            .await?
            .ok_or(AppError::NotFound)?;
        // Recorded meanwhile by another path (the webhook of this very refund): nothing to add.
        if locked.status == ChargeStatus::Completed {
            let order = orders::read_order(&mut tx, order_id, Read::Locked)
                .await?
                .ok_or(AppError::NotFound)?;
            charges::mark_refunded(&mut tx, &charge.id, refund_id, &reason, now).await?;
            super::payments::append_charge_event(&mut tx, &charge.id, "ChargeRefunded", now)
                .await?;
            if orders::cancel_completed_order(&mut tx, &order.id, now).await? {
                let refunded = order.moved_to(OrderStatus::Cancelled);
                super::orders::append_order_event(&mut tx, "OrderRefunded", &refunded, now).await?;
            }
            super::refunds::reverse_earning(&mut tx, &order, now).await?;
        }
    }
    cancellations::mark_done(&mut tx, order_id, now).await?;
    tx.commit().await?;
    ctx.payouts_due();
    Ok(())
}

/// Why the order's event was cancelled (what its refund is recorded with).
async fn cancel_reason(tx: &mut AnyConnection, order_id: &Id) -> Result<String, AppError> {
    let order = orders::find_order(tx, order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ticket = tickets::find_ticket(tx, &order.ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let event = match ticket.event_seat {
        Some(seat) => events::find_event(tx, &seat.event_id).await?,
        None => None,
    };
    Ok(event
        .and_then(|e| e.cancel_reason)
        .unwrap_or_else(|| "Event cancelled".to_string()))
}

/// Runs refund rounds on this node: when woken (an event was cancelled), when a claim or retry
/// falls due, and at least every `every`.
pub async fn run_refund_job(ctx: Ctx, every: std::time::Duration) {
    let wake = ctx.app().refunds_due.clone();
    loop {
        match refund_round(&ctx).await {
            Ok(round) if round != RefundRound::default() => {
                tracing::info!(?round, "refunds of cancelled events");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = ?err, "refund round failed; retrying"),
        }
        let due = match ctx.db().read.acquire().await {
            Ok(mut conn) => cancellations::next_due(&mut conn).await.ok().flatten(),
            Err(_) => None,
        };
        let wait = due
            .map(|at| {
                std::time::Duration::from_millis((at.millis() - ctx.now().millis()).max(0) as u64)
            })
            .unwrap_or(every)
            .max(std::time::Duration::from_secs(1))
            .min(every);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
    }
}
