//! Paying for an order. Money is never taken while a write transaction is open: the charge is
//! recorded and committed first (`begin_payment`), the gateway is called with nothing open,
//! and the answer is recorded in a second transaction (`settle_payment`). A success for an order
//! that is no longer live — it expired or was cancelled while the money was on its way — is
//! refunded at once.

use super::mail;
use super::orders::{Release, buyers_order, release_if_lapsed, release_order};
use crate::domain::charge::{LATE_PAYMENT_REFUNDED, PAYMENT_IN_PROGRESS};
use crate::domain::{Charge, ChargeStatus, Id, OrderStatus, Timestamp};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::clock;
use crate::ssr::error_response::internal;
use crate::ssr::mail::messages;
use crate::ssr::payments::webhook::{ChargeRef, EventKind, WebhookEvent};
use crate::ssr::payments::{
    ChargeOutcome, ChargeRequest, CheckoutRequest, CheckoutState, GatewayError, PaymentGateway,
};
use crate::ssr::storage::event_log::insert_event;
use crate::ssr::storage::{self, Read, charges, orders, tickets};
use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What became of a payment.
#[derive(Debug, Clone, PartialEq)]
pub enum Settled {
    /// The order is complete and the ticket belongs to the buyer.
    Paid(Charge),
    /// The bank declined: the order is cancelled and the ticket back on sale.
    Declined(Charge),
    /// The money arrived for an order that was no longer live and was given back.
    Refunded(Charge),
}

impl Settled {
    pub fn charge(&self) -> &Charge {
        match self {
            Settled::Paid(charge) | Settled::Declined(charge) | Settled::Refunded(charge) => charge,
        }
    }
}

fn charge_payload(charge: &Charge) -> serde_json::Value {
    json!({
        "id": charge.id,
        "orderId": charge.order_id,
        "status": charge.status.as_str(),
        "amountCents": charge.amount.cents(),
        "currency": charge.currency,
        "stripeId": charge.stripe_id,
        "stripeRefundId": charge.stripe_refund_id,
        "failureMessage": charge.failure_message,
    })
}

/// Appends `event_type` with the charge as it now stands, in the caller's transaction.
pub(super) async fn append_charge_event(
    conn: &mut sqlx::AnyConnection,
    charge_id: &Id,
    event_type: &str,
    now: Timestamp,
) -> Result<Charge, AppError> {
    let charge = charges::find_charge(conn, charge_id)
        .await?
        .ok_or(AppError::NotFound)?;
    insert_event(conn, event_type, charge_id, charge_payload(&charge), now).await?;
    Ok(charge)
}

/// What the gateway is asked to charge for `charge`.
pub fn charge_request(charge: &Charge, token: &str, description: &str) -> ChargeRequest {
    ChargeRequest {
        amount_cents: charge.amount.cents(),
        currency: charge.currency.clone(),
        token: token.to_string(),
        idempotency_key: charge.idempotency_key.clone(),
        order_id: charge.order_id.to_string(),
        charge_id: charge.id.to_string(),
        description: description.to_string(),
    }
}

/// Records the intent to pay `order_id` through a hosted checkout and commits: the order must
/// be the signed-in buyer's, live and not paid, with no other payment in flight. Returns the
/// new charge and the ticket's title.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %order_id)
)]
pub async fn begin_payment(ctx: &Ctx, order_id: &Id) -> Result<(Charge, String), AppError> {
    match begin_or_resume(ctx, order_id, None).await? {
        Begun::New { charge, title } => Ok((charge, title)),
        Begun::InFlight { .. } => Err(AppError::invalid(PAYMENT_IN_PROGRESS)),
    }
}

/// What paying an order starts from.
enum Begun {
    /// A charge recorded just now.
    New { charge: Charge, title: String },
    /// The order's charge that is already in flight, with the payment method it was started
    /// with: the payment goes on with it (and its idempotency key) instead of starting another.
    InFlight {
        charge: Charge,
        token: String,
        title: String,
    },
}

/// Records the intent to pay `order_id` with `token` (none for a hosted checkout) and commits,
/// or finds the charge already in flight for it.
async fn begin_or_resume(ctx: &Ctx, order_id: &Id, token: Option<&str>) -> Result<Begun, AppError> {
    let user = ctx.user()?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let order = buyers_order(&mut tx, user, order_id, Read::Locked).await?;
    let title = order_title(&mut tx, &order).await?;
    let existing = charges::list_charges_for_order(&mut tx, order_id).await?;
    if let Some(in_flight) = existing.iter().find(|c| c.status == ChargeStatus::Created) {
        // A charge already left for the bank: whatever happened to the request that sent it
        // (dropped, timed out, the server restarted), it is finished rather than repeated.
        let resumable = charges::find_payment_token(&mut tx, &in_flight.id).await?;
        return match (token, resumable) {
            (Some(_), Some(token)) => Ok(Begun::InFlight {
                charge: in_flight.clone(),
                token,
                title,
            }),
            _ => Err(AppError::invalid(PAYMENT_IN_PROGRESS)),
        };
    }
    if let Err(refusal) = order.can_be_paid_at(now) {
        if release_if_lapsed(&mut tx, &order, now).await? {
            tx.commit().await?;
        }
        return Err(refusal.into());
    }
    let charge = Charge::for_order(clock::new_id(), &order, &ctx.settings().currency, now);
    match charges::insert_charge(&mut tx, &charge, token).await {
        Err(err) if storage::refused_by(&err) == Some(storage::Guard::PaymentUnderWay) => {
            return Err(AppError::invalid(PAYMENT_IN_PROGRESS));
        }
        other => other?,
    }
    orders::update_live_order_status(&mut tx, &order.id, OrderStatus::AwaitingPayment, now).await?;
    insert_event(
        &mut tx,
        "ChargeCreated",
        &charge.id,
        charge_payload(&charge),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Begun::New { charge, title })
}

/// What a buyer pays with: the order, and a Stripe PaymentMethod or token id.
#[derive(Debug, Clone)]
pub struct PayOrder {
    pub order_id: Id,
    pub token: String,
}

/// Pays an order of the signed-in buyer: begin (or join the payment already in flight), then
/// charge and settle with no transaction open. All of it runs as a task of its own that the
/// caller only waits for, so a buyer whose connection drops at any moment still gets the ticket
/// they paid for. A decline is `PaymentDeclined` (402) with the bank's reason.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %input.order_id)
)]
pub async fn pay_order(ctx: &Ctx, input: PayOrder) -> Result<Charge, AppError> {
    let ctx = ctx.clone();
    // The payment carries on if the client hangs up; its log lines keep this verb's span.
    let paying = tokio::spawn(tracing::Instrument::in_current_span(async move {
        let begun = begin_or_resume(&ctx, &input.order_id, Some(&input.token)).await?;
        let (charge, request) = match begun {
            Begun::New { charge, title } => {
                let request = charge_request(&charge, &input.token, &title);
                (charge, request)
            }
            Begun::InFlight {
                charge,
                token,
                title,
            } => {
                let request = charge_request(&charge, &token, &title);
                (charge, request)
            }
        };
        ctx.app().payments.run(&ctx, &charge, request).await
    }));
    let settled = paying
        .await
        .map_err(|err| internal(anyhow::anyhow!("payment task failed: {err}")))??;
    match settled {
        Settled::Paid(charge) => Ok(charge),
        Settled::Declined(charge) => Err(AppError::PaymentDeclined(
            charge
                .failure_message
                .unwrap_or_else(|| "Your card was declined.".into()),
        )),
        Settled::Refunded(_) => Err(AppError::invalid(LATE_PAYMENT_REFUNDED)),
    }
}

/// Calls the gateway for a recorded charge and records its answer.
async fn charge_and_settle(
    ctx: &Ctx,
    charge: &Charge,
    request: &ChargeRequest,
) -> Result<Settled, AppError> {
    // A retry may have read the charge as in flight just before another task settled it (the
    // task leaves the in-flight list only after its answer is committed): what is stored now
    // says whether the provider still needs asking.
    let stored = charges::find_charge(&mut *ctx.db().read.acquire().await?, &charge.id)
        .await?
        .ok_or(AppError::NotFound)?;
    match stored.status {
        ChargeStatus::Created => {}
        ChargeStatus::Completed => return Ok(Settled::Paid(stored)),
        ChargeStatus::Failed => return Ok(Settled::Declined(stored)),
        ChargeStatus::Refunded => return Ok(Settled::Refunded(stored)),
    }
    let outcome = match ctx.app().gateway.charge(request).await {
        Ok(outcome) => outcome,
        Err(GatewayError::InvalidToken) => {
            // Nothing reached the bank: the attempt is void and the buyer may try again.
            abandon_charge(ctx, charge, "The payment token is not valid").await?;
            return Err(AppError::invalid_field(
                "token",
                "The payment token is not valid",
            ));
        }
        Err(err) => {
            // The outcome is unknown: the charge stays in flight. The buyer's next attempt, the
            // webhook or the next start-up finishes it with the same idempotency key (and a
            // refund, should the money arrive after the order ran out).
            tracing::error!(error = %err, charge = %charge.id, "payment provider call failed");
            return Err(AppError::PaymentUnavailable);
        }
    };
    settle_payment(ctx, &charge.id, outcome).await
}

type Settlement = Shared<BoxFuture<'static, Result<Settled, AppError>>>;

/// The payments this process is charging and settling right now. Each runs as a task of its
/// own, detached from the request that started it; whoever asks about the same charge
/// meanwhile (the buyer clicking again, a retry after a dropped connection) waits for that
/// task's answer instead of calling the gateway a second time.
#[derive(Default)]
pub struct InFlightPayments {
    running: Mutex<HashMap<Id, Settlement>>,
}

impl InFlightPayments {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Settlement>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Charges and settles `charge` (once, however many callers ask at the same time) and
    /// waits for the result. The work goes on if the caller goes away.
    #[tracing::instrument(
        skip_all,
        fields(
            user = ctx.actor().map(tracing::field::display),
            charge_id = %charge.id,
            order_id = %charge.order_id
        )
    )]
    pub async fn run(
        self: &Arc<Self>,
        ctx: &Ctx,
        charge: &Charge,
        request: ChargeRequest,
    ) -> Result<Settled, AppError> {
        self.start(ctx, charge, request).await
    }

    /// Starts charging and settling `charge` unless that is already under way, and returns
    /// the answer to wait for.
    fn start(self: &Arc<Self>, ctx: &Ctx, charge: &Charge, request: ChargeRequest) -> Settlement {
        let mut running = self.lock();
        if let Some(settlement) = running.get(&charge.id) {
            return settlement.clone();
        }
        let task = tokio::spawn({
            let (this, ctx, charge) = (self.clone(), ctx.clone(), charge.clone());
            tracing::Instrument::in_current_span(async move {
                let result = charge_and_settle(&ctx, &charge, &request).await;
                this.lock().remove(&charge.id);
                result
            })
        });
        let settlement = async move {
            task.await
                .unwrap_or_else(|err| Err(internal(anyhow::anyhow!("payment task failed: {err}"))))
        }
        .boxed()
        .shared();
        // Inserted while the lock is held, so the task's removal comes after it.
        running.insert(charge.id.clone(), settlement.clone());
        settlement
    }

    /// Waits until every payment running now has settled (tests, and shutdown).
    #[tracing::instrument(skip_all)]
    pub async fn settle_all(&self) {
        let running: Vec<Settlement> = self.lock().values().cloned().collect();
        for settlement in running {
            let _ = settlement.await;
        }
    }
}

/// Finishes the charges a crash or an unreachable provider left in flight, with the payment
/// method and idempotency key they were started with (so the bank sees a repeat, never a
/// second payment). Runs at start-up; returns how many it started on, which go on in the
/// background.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn resume_unfinished_payments(ctx: &Ctx) -> Result<usize, AppError> {
    let unfinished = {
        let mut conn = ctx.db().read.acquire().await?;
        let mut found = Vec::new();
        for (charge, token) in charges::list_unfinished_charges(&mut conn).await? {
            let title = match orders::find_order(&mut conn, &charge.order_id).await? {
                Some(order) => order_title(&mut conn, &order).await?,
                None => String::new(),
            };
            found.push((charge, token, title));
        }
        found
    };
    let count = unfinished.len();
    for (charge, token, title) in unfinished {
        let request = charge_request(&charge, &token, &title);
        // Started before this returns, so `settle_all` sees it.
        let settlement = ctx.app().payments.start(ctx, &charge, request);
        tokio::spawn(async move {
            match settlement.await {
                Ok(settled) => {
                    tracing::info!(charge = %charge.id, status = settled.charge().status.as_str(), "resumed an unfinished payment")
                }
                Err(err) => {
                    tracing::warn!(charge = %charge.id, error = ?err, "an unfinished payment could not be finished yet")
                }
            }
        });
    }
    Ok(count)
}

/// Marks a charge that never reached the bank as failed, leaving the order live.
async fn abandon_charge(ctx: &Ctx, charge: &Charge, reason: &str) -> Result<(), AppError> {
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    if charges::settle_charge(
        &mut tx,
        &charge.id,
        ChargeStatus::Failed,
        None,
        Some(reason),
        now,
    )
    .await?
    {
        append_charge_event(&mut tx, &charge.id, "ChargeFailed", now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records what the provider said about `charge_id`. Safe to call any number of times for the
/// same payment (the API's answer, a webhook, a repeated webhook): a charge settles once, and a
/// refund is keyed by the charge, so late money is given back exactly once.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), charge_id = %charge_id)
)]
pub async fn settle_payment(
    ctx: &Ctx,
    charge_id: &Id,
    outcome: ChargeOutcome,
) -> Result<Settled, AppError> {
    let (db, now) = (ctx.db(), ctx.now());
    let mut tx = db.begin_write().await?;
    let charge = charges::lock_charge(&mut tx, charge_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let order = orders::lock_order(&mut tx, &charge.order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (stripe_id, message) = match (&outcome, charge.status) {
        (_, ChargeStatus::Completed) => return Ok(Settled::Paid(charge)),
        (_, ChargeStatus::Refunded) => return Ok(Settled::Refunded(charge)),
        (ChargeOutcome::Declined { .. }, ChargeStatus::Failed) => {
            return Ok(Settled::Declined(charge));
        }
        (ChargeOutcome::Succeeded { stripe_id }, _) => (stripe_id.clone(), None),
        (ChargeOutcome::Declined { stripe_id, message }, ChargeStatus::Created) => {
            (stripe_id.clone().unwrap_or_default(), Some(message.clone()))
        }
    };

    if let Some(message) = message {
        let stripe_id = (!stripe_id.is_empty()).then_some(stripe_id.as_str());
        charges::settle_charge(
            &mut tx,
            &charge.id,
            ChargeStatus::Failed,
            stripe_id,
            Some(&message),
            now,
        )
        .await?;
        let failed = append_charge_event(&mut tx, &charge.id, "ChargeFailed", now).await?;
        // A declined card ends the order and frees the ticket.
        release_order(&mut tx, &order, Release::Declined, now).await?;
        let (buyer, ticket) = buyer_and_ticket(&mut tx, &order).await?;
        let letter = messages::payment_declined(
            &buyer,
            &messages::order_title(&ticket.title, order.lines.len()),
            &message,
            &messages::link(
                &ctx.settings().public_url,
                &format!("/tickets/{}", ticket.id),
            ),
        );
        mail::queue(&mut tx, &letter, now).await?;
        tx.commit().await?;
        ctx.mail_queued();
        return Ok(Settled::Declined(failed));
    }

    if order.is_live_at(now) {
        charges::complete_charge(&mut tx, &charge.id, &stripe_id, now).await?;
        orders::update_live_order_status(&mut tx, &order.id, OrderStatus::Complete, now).await?;
        let mut codes = Vec::with_capacity(order.lines.len());
        for ticket_id in order.ticket_ids() {
            if !tickets::mark_ticket_sold(&mut tx, ticket_id, &order.id, &order.buyer_id, now)
                .await?
            {
                return Err(internal(anyhow::anyhow!(
                    "live order {} does not hold its ticket {ticket_id}",
                    order.id
                )));
            }
            let code = super::custody::hand_over(
                &mut tx,
                ticket_id,
                &order.buyer_id,
                crate::domain::custody::Revocation::Resold,
                now,
            )
            .await?;
            codes.push(code);
        }
        let paid = append_charge_event(&mut tx, &charge.id, "ChargeCompleted", now).await?;
        super::orders::append_order_event(
            &mut tx,
            "OrderCompleted",
            &order.moved_to(OrderStatus::Complete),
            now,
        )
        .await?;
        let sold = order_tickets(&mut tx, &order).await?;
        super::payouts::record_sale(ctx, &mut tx, &order, &sold).await?;
        queue_sale_mail(ctx, &mut tx, &order, &sold, &codes).await?;
        tx.commit().await?;
        metrics::counter!("ticketing_sales_total").increment(1);
        metrics::counter!("ticketing_sales_cents_total")
            .increment(order.total_cents().max(0) as u64);
        ctx.mail_queued();
        ctx.payouts_due();
        return Ok(Settled::Paid(paid));
    }

    // Money for an order that is no longer live: note where it is, commit, give it back.
    charges::set_stripe_id(&mut tx, &charge.id, &stripe_id, now).await?;
    release_if_lapsed(&mut tx, &order, now).await?;
    tx.commit().await?;
    let refund_id = ctx.app().gateway.refund(&stripe_id, None, &charge.refund_key()).await.map_err(|err| {
        tracing::error!(error = %err, charge = %charge.id, "refund of late money failed; the webhook retry will try again");
        AppError::PaymentUnavailable
    })?;
    let mut tx = db.begin_write().await?;
    let newly_refunded =
        charges::mark_refunded(&mut tx, &charge.id, &refund_id, LATE_PAYMENT_REFUNDED, now).await?;
    if newly_refunded {
        append_charge_event(&mut tx, &charge.id, "ChargeRefunded", now).await?;
        let (buyer, ticket) = buyer_and_ticket(&mut tx, &order).await?;
        let letter = messages::late_payment_refunded(
            &buyer,
            &messages::order_title(&ticket.title, order.lines.len()),
            charge.amount.cents(),
            &charge.currency,
            &messages::link(&ctx.settings().public_url, "/"),
        );
        mail::queue(&mut tx, &letter, now).await?;
    }
    let refunded = charges::find_charge(&mut tx, &charge.id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    if newly_refunded {
        ctx.mail_queued();
    }
    Ok(Settled::Refunded(refunded))
}

/// The buyer's address and the ticket of `order`.
async fn buyer_and_ticket(
    conn: &mut sqlx::AnyConnection,
    order: &crate::domain::Order,
) -> Result<(String, crate::domain::Ticket), AppError> {
    let buyer = storage::users::find_user(conn, &order.buyer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let ticket = tickets::find_ticket(conn, &order.ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((buyer.email, ticket))
}

/// The order's tickets, in its seat order.
async fn order_tickets(
    tx: &mut sqlx::AnyConnection,
    order: &crate::domain::Order,
) -> Result<Vec<crate::domain::Ticket>, AppError> {
    Ok(super::orders::OrderWithTicket::read(tx, order.clone())
        .await?
        .tickets)
}

/// What a charge for the order is called: its first ticket's title, and how many more.
async fn order_title(
    conn: &mut sqlx::AnyConnection,
    order: &crate::domain::Order,
) -> Result<String, AppError> {
    let first = tickets::find_ticket(conn, &order.ticket_id)
        .await?
        .map(|t| t.title)
        .unwrap_or_default();
    Ok(messages::order_title(&first, order.lines.len()))
}

/// A completed sale tells the buyer (a receipt with every ticket's code) and each seller.
async fn queue_sale_mail(
    ctx: &Ctx,
    tx: &mut sqlx::AnyConnection,
    order: &crate::domain::Order,
    sold: &[crate::domain::Ticket],
    codes: &[String],
) -> Result<(), AppError> {
    let (settings, now) = (ctx.settings(), ctx.now());
    let buyer = storage::users::find_user(tx, &order.buyer_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let first = sold.first().ok_or(AppError::NotFound)?;
    let seats: Vec<(Option<String>, String)> = sold
        .iter()
        .zip(codes)
        .map(|(ticket, code)| {
            let seat = ticket.event_seat.as_ref().and_then(|s| s.seat.clone());
            (seat, code.clone())
        })
        .collect();
    let receipt = messages::receipt(&messages::Receipt {
        to: &buyer.email,
        title: &first.title,
        price_cents: order.total_cents(),
        currency: &settings.currency,
        order_id: order.id.as_str(),
        tickets: &seats,
        tickets_url: &messages::link(&settings.public_url, "/tickets/mine"),
    });
    mail::queue(tx, &receipt, now).await?;
    // One letter per seller: their first ticket's title, how many, and what they receive.
    let mut sellers: Vec<(&Id, &str, usize, i64)> = Vec::new();
    for (ticket, line) in sold.iter().zip(&order.lines) {
        let net = line.amounts().seller_net_cents;
        match sellers.iter_mut().find(|(id, ..)| *id == &ticket.seller_id) {
            Some((_, _, count, sum)) => {
                *count += 1;
                *sum += net;
            }
            None => sellers.push((&ticket.seller_id, &ticket.title, 1, net)),
        }
    }
    for (seller, title, count, net) in sellers {
        let seller = storage::users::find_user(tx, seller)
            .await?
            .ok_or(AppError::NotFound)?;
        let letter = messages::ticket_sold(
            &seller.email,
            &messages::order_title(title, count),
            net,
            &settings.currency,
            &messages::link(&settings.public_url, "/tickets/mine"),
        );
        mail::queue(tx, &letter, now).await?;
    }
    Ok(())
}

/// Opens a hosted checkout page (Stripe Checkout) for a browser: records the charge, asks the
/// gateway for the page, and returns its address. `public_url` is where the buyer comes back.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %order_id)
)]
pub async fn start_checkout(ctx: &Ctx, order_id: &Id) -> Result<String, AppError> {
    let (charge, title) = begin_payment(ctx, order_id).await?;
    let lines = {
        let mut conn = ctx.db().read.acquire().await?;
        let order = orders::find_order(&mut conn, order_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let found = super::orders::OrderWithTicket::read(&mut conn, order).await?;
        crate::domain::order::checkout_lines(&found.order, &found.tickets)
    };
    let public_url = &ctx.settings().public_url;
    let back = format!("{public_url}/orders/{order_id}/checkout-return");
    let request = CheckoutRequest {
        charge: charge_request(&charge, "", &title),
        title,
        lines,
        success_url: format!("{back}?session_id={{CHECKOUT_SESSION_ID}}"),
        cancel_url: format!("{back}?cancelled=1"),
    };
    match ctx.app().gateway.create_checkout(&request).await {
        Ok(session) => {
            let mut tx = ctx.db().begin_write().await?;
            charges::set_stripe_id(&mut tx, &charge.id, &session.id, ctx.now()).await?;
            tx.commit().await?;
            Ok(session.url)
        }
        Err(err) => {
            // Creating a checkout page moves no money: give the attempt up so the buyer can retry.
            tracing::error!(error = %err, charge = %charge.id, "could not open a checkout session");
            let reason = "The payment page could not be opened";
            abandon_charge(ctx, &charge, reason).await?;
            Err(AppError::PaymentUnavailable)
        }
    }
}

/// The buyer is back from the hosted checkout page. Whatever the address says, the gateway is
/// asked for the session's real state; a paid session settles the charge (once, as a webhook
/// would). A buyer who came back without paying gets their order back, payable again.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %order_id)
)]
pub async fn checkout_return(
    ctx: &Ctx,
    order_id: &Id,
    session_id: Option<&str>,
) -> Result<(), AppError> {
    let charges_of_order = list_order_charges(ctx, order_id).await?;
    let in_flight = charges_of_order.iter().rev().find(|c| {
        c.status == ChargeStatus::Created
            && session_id.is_none_or(|s| c.stripe_id.as_deref() == Some(s))
    });
    let Some(charge) = in_flight else {
        return Ok(());
    };
    let Some(session) = charge
        .stripe_id
        .as_deref()
        .filter(|id| id.starts_with("cs_"))
    else {
        return Ok(());
    };
    match ctx.app().gateway.fetch_checkout(session).await {
        Ok(CheckoutState::Paid { payment_intent }) => {
            settle_payment(
                ctx,
                &charge.id,
                ChargeOutcome::Succeeded {
                    stripe_id: payment_intent,
                },
            )
            .await?;
        }
        Ok(CheckoutState::Open | CheckoutState::Expired) => {
            abandon_charge(ctx, charge, "The payment was not completed").await?;
        }
        Err(err) => {
            tracing::error!(error = %err, charge = %charge.id, "could not ask for a checkout session's state");
            return Err(AppError::PaymentUnavailable);
        }
    }
    Ok(())
}

/// An order's charges, for its buyer only.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %order_id)
)]
pub async fn list_order_charges(ctx: &Ctx, order_id: &Id) -> Result<Vec<Charge>, AppError> {
    let user = ctx.user()?;
    let mut conn = ctx.db().read.acquire().await?;
    buyers_order(&mut conn, user, order_id, Read::Plain).await?;
    Ok(charges::list_charges_for_order(&mut conn, order_id).await?)
}

/// Finds our charge for a Stripe object: by the charge id we gave Stripe, else by the
/// provider id we recorded.
async fn find_charge_for(ctx: &Ctx, reference: &ChargeRef) -> Result<Option<Charge>, AppError> {
    let mut conn = ctx.db().read.acquire().await?;
    if let Some(id) = reference
        .charge_id
        .as_deref()
        .and_then(|id| Id::parse(id).ok())
        && let Some(charge) = charges::find_charge(&mut conn, &id).await?
    {
        return Ok(Some(charge));
    }
    match reference.stripe_id.as_deref() {
        Some(stripe_id) => Ok(charges::find_charge_by_stripe_id(&mut conn, stripe_id).await?),
        None => Ok(None),
    }
}

/// Applies one webhook event, once: a repeated delivery of the same event id changes nothing.
/// Events for payments that are not ours, and event types we do not use, are acknowledged and
/// ignored.
#[tracing::instrument(
    skip_all,
    fields(
        user = ctx.actor().map(tracing::field::display),
        event_id = %event.id,
        event_type = %event.event_type
    )
)]
pub async fn apply_stripe_event(ctx: &Ctx, event: WebhookEvent) -> Result<(), AppError> {
    if charges::stripe_event_applied(&mut *ctx.db().read.acquire().await?, &event.id).await? {
        return Ok(());
    }
    match event.kind {
        EventKind::PaymentSucceeded {
            charge,
            payment_intent,
        }
        | EventKind::CheckoutPaid {
            charge,
            payment_intent,
        } => {
            if let Some(charge) = find_charge_for(ctx, &charge).await? {
                let outcome = ChargeOutcome::Succeeded {
                    stripe_id: payment_intent,
                };
                settle_payment(ctx, &charge.id, outcome).await?;
            }
        }
        EventKind::PaymentFailed {
            charge,
            payment_intent,
            message,
        } => {
            if let Some(charge) = find_charge_for(ctx, &charge).await? {
                let outcome = ChargeOutcome::Declined {
                    stripe_id: payment_intent,
                    message,
                };
                settle_payment(ctx, &charge.id, outcome).await?;
            }
        }
        EventKind::Refunded { charge, refund_id } => match find_charge_for(ctx, &charge).await? {
            // A paid order refunded at Stripe's dashboard: the same record as our own refunds.
            Some(charge) if charge.status == ChargeStatus::Completed => {
                match super::refunds::record_refund(
                    ctx,
                    &charge,
                    &refund_id,
                    "Refunded at Stripe",
                    None,
                )
                .await
                {
                    Ok(_) | Err(AppError::Invalid(_)) => {}
                    Err(err) => return Err(err),
                }
            }
            Some(charge) => {
                let now = ctx.now();
                let mut tx = ctx.db().begin_write().await?;
                if charges::mark_refunded(
                    &mut tx,
                    &charge.id,
                    &refund_id,
                    "Refunded at Stripe",
                    now,
                )
                .await?
                {
                    append_charge_event(&mut tx, &charge.id, "ChargeRefunded", now).await?;
                }
                tx.commit().await?;
            }
            None => {}
        },
        EventKind::AccountUpdated { account, state } => {
            super::payouts::apply_account_state(ctx, &account, &state).await?;
        }
        EventKind::Ignored => {}
    }
    let mut tx = ctx.db().begin_write().await?;
    charges::insert_stripe_event(&mut tx, &event.id, &event.event_type, ctx.now()).await?;
    tx.commit().await?;
    Ok(())
}
