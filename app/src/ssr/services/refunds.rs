//! Refunds of paid orders (docs/RULES.md, "Payouts and refunds"): the service the operator's
//! console and event cancellation call, and what a refund made at Stripe's dashboard applies.
//!
//! A refund gives the buyer the whole total back through the gateway (one refund per charge:
//! its idempotency key), then in one database transaction: the charge is refunded, the order
//! cancelled, the ticket back on sale by its seller with the buyer's code void, the seller's
//! earning reversed, and the ledger's refund written — reversing the fees, and the earning from
//! wherever it is (after a payout the seller's balance goes below zero and later earnings repay
//! it).

use crate::domain::ledger::{self, Earning};
use crate::domain::{Charge, ChargeStatus, Id, Order, OrderStatus};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::mail::messages;
use crate::ssr::payments::PaymentGateway;
use crate::ssr::services::mail;
use crate::ssr::storage::ledger::Source;
use crate::ssr::storage::{self, Read, charges, orders, payouts, tickets};
use sqlx::AnyConnection;

pub const ALREADY_REFUNDED: &str = "Order is already refunded";
pub const NOT_PAID: &str = "Only a paid order can be refunded";
pub const RESOLD: &str =
    "The buyer has put this ticket up for resale; refund or withdraw that listing first";
/// A refund of `order_id`, with the reason given to the buyer and the seller, by an operator
/// (written to the audit log).
#[derive(Debug, Clone)]
pub struct RefundOrder {
    pub order_id: Id,
    /// One ticket of the order (its price and its own fee), or, without it, every ticket not
    /// refunded yet.
    pub ticket_id: Option<Id>,
    pub reason: String,
    pub by: Operator,
}

/// A ticket named for a refund that is not one of the order's.
pub const NOT_IN_ORDER: &str = "This ticket is not in the order";

/// Who ordered an operator's action: an admin in the console or the API, or someone with the
/// command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operator {
    Admin(Id),
    CommandLine,
}

impl Operator {
    /// The audit log's actor.
    pub fn actor(&self) -> Option<&Id> {
        match self {
            Operator::Admin(id) => Some(id),
            Operator::CommandLine => None,
        }
    }
}

/// The reason as kept (see [`crate::domain::audit::parse_reason`]).
pub fn parse_reason(input: &str) -> Result<String, AppError> {
    Ok(crate::domain::audit::parse_reason(input)?)
}

/// Refunds a paid order in full. A second refund of the same order is refused; two at the
/// same moment make one refund at the provider (one key per charge) and one record.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %input.order_id)
)]
pub async fn refund_order(ctx: &Ctx, input: RefundOrder) -> Result<Order, AppError> {
    let (charge, order) = {
        let mut conn = ctx.db().read.acquire().await?;
        let order = orders::find_order(&mut conn, &input.order_id)
            .await?
            .ok_or(AppError::NotFound)?;
        // The charges decide (a completed charge and a complete order are written together):
        // a refund racing this one may commit between any two reads here.
        let charges = charges::list_charges_for_order(&mut conn, &order.id).await?;
        let Some(charge) = charges
            .iter()
            .find(|c| c.status == ChargeStatus::Completed)
            .cloned()
        else {
            return Err(AppError::invalid(
                if charges.iter().any(|c| c.status == ChargeStatus::Refunded) {
                    ALREADY_REFUNDED
                } else {
                    NOT_PAID
                },
            ));
        };
        if let Some(ticket_id) = &input.ticket_id {
            let Some(line) = order.lines.iter().find(|l| &l.ticket_id == ticket_id) else {
                return Err(AppError::invalid_field("ticketId", NOT_IN_ORDER));
            };
            if line.refunded {
                return Err(AppError::invalid(ALREADY_REFUNDED));
            }
        }
        for line in order.lines.iter().filter(|l| !l.refunded) {
            let named = input
                .ticket_id
                .as_ref()
                .is_none_or(|id| id == &line.ticket_id);
            if named && tickets::has_resale(&mut conn, &line.ticket_id).await? {
                return Err(AppError::invalid(RESOLD));
            }
        }
        (charge, order)
    };
    match &input.ticket_id {
        None => {
            let refund_id = refund_at_gateway(ctx, &charge, None).await?;
            record_refund(ctx, &charge, &refund_id, &input.reason, Some(&input.by)).await
        }
        Some(ticket_id) => {
            let line = order
                .lines
                .iter()
                .find(|l| &l.ticket_id == ticket_id)
                .ok_or(AppError::NotFound)?;
            let part = (ticket_id, line.amounts().total_cents);
            let refund_id = refund_at_gateway(ctx, &charge, Some(part)).await?;
            record_ticket_refund(
                ctx,
                &charge,
                ticket_id,
                &refund_id,
                &input.reason,
                &input.by,
            )
            .await
        }
    }
}

/// Asks the gateway to refund a completed charge: all that is left of it, or with `part` one
/// ticket's amount. Keyed by the charge (and the ticket): asked twice (a retry, another node, a
/// crash in between), it is made once. The refund's id.
pub async fn refund_at_gateway(
    ctx: &Ctx,
    charge: &Charge,
    part: Option<(&Id, i64)>,
) -> Result<String, AppError> {
    let payment = charge.stripe_id.clone().ok_or_else(|| {
        crate::ssr::error_response::internal(anyhow::anyhow!(
            "completed charge {} has no provider id",
            charge.id
        ))
    })?;
    let (amount, key) = match part {
        None => (None, charge.refund_key()),
        Some((ticket, cents)) => (Some(cents), format!("{}-{ticket}", charge.refund_key())),
    };
    ctx.app()
        .gateway
        .refund(&payment, amount, &key)
        .await
        .map_err(|err| {
            tracing::error!(error = %err, charge = %charge.id, "refund failed at the provider");
            AppError::PaymentUnavailable
        })
}

/// Records a refund the provider has made for a completed charge (by [`refund_order`], or at
/// Stripe's dashboard, told by the `charge.refunded` webhook). Refused when it was recorded
/// already. An operator's refund is written to the audit log in the same transaction.
#[tracing::instrument(
    skip_all,
    fields(
        user = ctx.actor().map(tracing::field::display),
        charge_id = %charge.id,
        order_id = %charge.order_id,
        refund_id = %refund_id
    )
)]
pub async fn record_refund(
    ctx: &Ctx,
    charge: &Charge,
    refund_id: &str,
    reason: &str,
    by: Option<&Operator>,
) -> Result<Order, AppError> {
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let (charge, order) = lock_paid_order(&mut tx, &charge.id).await?;
    // The tickets refunded on their own before are someone else's business by now.
    let ids: Vec<&Id> = order
        .lines
        .iter()
        .filter(|l| !l.refunded)
        .map(|l| &l.ticket_id)
        .collect();
    let mut held = tickets::lock_tickets(&mut tx, &ids).await?;
    held.sort_by_key(|t| order.ticket_ids().position(|id| id == &t.id));
    charges::mark_refunded(&mut tx, &charge.id, refund_id, reason, now).await?;
    super::payments::append_charge_event(&mut tx, &charge.id, "ChargeRefunded", now).await?;
    if orders::cancel_completed_order(&mut tx, &order.id, now).await? {
        let refunded = order.moved_to(OrderStatus::Cancelled);
        super::orders::append_order_event(&mut tx, "OrderRefunded", &refunded, now).await?;
    }
    for ticket in &held {
        give_back(&mut tx, ticket, &order.id, now).await?;
    }
    reverse_earning(&mut tx, &order, now).await?;
    queue_refund_mail(ctx, &mut tx, &order, &held, reason).await?;
    if let Some(by) = by {
        storage::audit::append(
            &mut tx,
            by.actor(),
            crate::domain::audit::AuditAction::Refund,
            order.id.as_str(),
            reason,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    ctx.mail_queued();
    orders::find_order(&mut *ctx.db().read.acquire().await?, &order.id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The charge (held) and its order (held), if the charge is paid and not refunded yet.
async fn lock_paid_order(tx: &mut AnyConnection, charge: &Id) -> Result<(Charge, Order), AppError> {
    let charge = charges::lock_charge(tx, charge)
        .await?
        .ok_or(AppError::NotFound)?;
    match charge.status {
        ChargeStatus::Completed => {}
        ChargeStatus::Refunded => return Err(AppError::invalid(ALREADY_REFUNDED)),
        ChargeStatus::Created | ChargeStatus::Failed => return Err(AppError::invalid(NOT_PAID)),
    }
    let order = orders::read_order(tx, &charge.order_id, Read::Locked)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((charge, order))
}

/// A refunded ticket goes back on sale by its seller, its buyer's code void.
async fn give_back(
    tx: &mut AnyConnection,
    ticket: &crate::domain::Ticket,
    order: &Id,
    now: crate::domain::Timestamp,
) -> Result<(), AppError> {
    super::custody::take_back(tx, ticket, now).await?;
    if tickets::return_to_seller(tx, &ticket.id, order, now).await?
        && let Some(back) = tickets::find_ticket(tx, &ticket.id).await?
    {
        storage::event_log::insert_event(
            tx,
            "TicketUpdated",
            &back.id,
            super::tickets::event_payload(&back),
            now,
        )
        .await?;
    }
    Ok(())
}

/// The ledger's refund of each ticket of the order, from wherever that ticket's earning is now
/// (each credited to its own seller when sold).
pub(super) async fn reverse_earning(
    tx: &mut AnyConnection,
    order: &Order,
    now: crate::domain::Timestamp,
) -> Result<(), AppError> {
    for line in &order.lines {
        reverse_line(tx, &order.id, line, now).await?;
    }
    Ok(())
}

/// The ledger's refund of one ticket of an order, from wherever its earning is now (nothing
/// when it was reversed already).
async fn reverse_line(
    tx: &mut AnyConnection,
    order_id: &Id,
    line: &crate::domain::OrderLine,
    now: crate::domain::Timestamp,
) -> Result<(), AppError> {
    let earning = match payouts::earning_state(tx, order_id, &line.ticket_id).await? {
        None => return Ok(()),
        Some((false, _)) => Earning::Pending,
        Some((true, false)) => Earning::Available,
        Some((true, true)) => Earning::PaidOut,
    };
    let seller = tickets::find_ticket(tx, &line.ticket_id)
        .await?
        .ok_or(AppError::NotFound)?
        .seller_id;
    payouts::mark_reversed(tx, order_id, &line.ticket_id, now).await?;
    let refund = ledger::refund(&seller, &line.amounts(), earning);
    storage::ledger::record(tx, &refund, Source::Order(order_id, &line.ticket_id), now).await?;
    Ok(())
}

/// Records the refund of one ticket of a paid order (see [`refund_order`]): the ticket back on
/// sale by its seller with the buyer's code void, its earning reversed, the buyer and the seller
/// told, the audit log written. The order stands for its other tickets; once none is left, the
/// charge is refunded and the order cancelled.
#[tracing::instrument(
    skip_all,
    fields(charge_id = %charge.id, order_id = %charge.order_id, ticket_id = %ticket_id)
)]
async fn record_ticket_refund(
    ctx: &Ctx,
    charge: &Charge,
    ticket_id: &Id,
    refund_id: &str,
    reason: &str,
    by: &Operator,
) -> Result<Order, AppError> {
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let (charge, order) = lock_paid_order(&mut tx, &charge.id).await?;
    let line = order
        .lines
        .iter()
        .find(|l| &l.ticket_id == ticket_id)
        .cloned()
        .ok_or_else(|| AppError::invalid_field("ticketId", NOT_IN_ORDER))?;
    if !orders::refund_line(&mut tx, &order.id, ticket_id, now).await? {
        return Err(AppError::invalid(ALREADY_REFUNDED));
    }
    let ticket = tickets::lock_ticket(&mut tx, ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    give_back(&mut tx, &ticket, &order.id, now).await?;
    reverse_line(&mut tx, &order.id, &line, now).await?;
    let others_left = order
        .lines
        .iter()
        .any(|l| !l.refunded && &l.ticket_id != ticket_id);
    if others_left {
        super::orders::append_order_event(&mut tx, "OrderTicketRefunded", &order, now).await?;
    } else {
        // Its last ticket: the whole charge is given back by now.
        charges::mark_refunded(&mut tx, &charge.id, refund_id, reason, now).await?;
        super::payments::append_charge_event(&mut tx, &charge.id, "ChargeRefunded", now).await?;
        if orders::cancel_completed_order(&mut tx, &order.id, now).await? {
            let refunded = order.moved_to(OrderStatus::Cancelled);
            super::orders::append_order_event(&mut tx, "OrderRefunded", &refunded, now).await?;
        }
    }
    let line_only = Order {
        lines: vec![line],
        ..order.clone()
    };
    queue_refund_mail(
        ctx,
        &mut tx,
        &line_only,
        std::slice::from_ref(&ticket),
        reason,
    )
    .await?;
    storage::audit::append(
        &mut tx,
        by.actor(),
        crate::domain::audit::AuditAction::Refund,
        order.id.as_str(),
        reason,
        now,
    )
    .await?;
    tx.commit().await?;
    ctx.mail_queued();
    ctx.payouts_due();
    orders::find_order(&mut *ctx.db().read.acquire().await?, &order.id)
        .await?
        .ok_or(AppError::NotFound)
}

async fn queue_refund_mail(
    ctx: &Ctx,
    tx: &mut AnyConnection,
    order: &Order,
    tickets: &[crate::domain::Ticket],
    reason: &str,
) -> Result<(), AppError> {
    let (settings, now) = (ctx.settings(), ctx.now());
    let first = tickets.first().ok_or(AppError::NotFound)?;
    let buyer = storage::users::find_user(tx, &order.buyer_id)
        .await?
        .ok_or(AppError::NotFound)?
        .email;
    // What this refund gives back: the tickets refunded now (`tickets`), price and fee.
    let amount: i64 = order
        .lines
        .iter()
        .filter(|l| tickets.iter().any(|t| t.id == l.ticket_id))
        .map(|l| l.amounts().total_cents)
        .sum();
    let letter = messages::order_refunded(
        &buyer,
        &messages::order_title(&first.title, tickets.len()),
        amount,
        &settings.currency,
        reason,
        &messages::link(&settings.public_url, "/"),
    );
    mail::queue(tx, &letter, now).await?;
    // Each seller hears of each of their tickets.
    for line in &order.lines {
        let Some(ticket) = tickets.iter().find(|t| t.id == line.ticket_id) else {
            continue;
        };
        let seller = storage::users::find_user(tx, &ticket.seller_id)
            .await?
            .ok_or(AppError::NotFound)?
            .email;
        let letter = messages::sale_refunded(
            &seller,
            &ticket.title,
            line.amounts().seller_net_cents,
            &settings.currency,
            reason,
            &messages::link(&settings.public_url, "/payouts"),
        );
        mail::queue(tx, &letter, now).await?;
    }
    Ok(())
}
