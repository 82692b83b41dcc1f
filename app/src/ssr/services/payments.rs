//! Paying for an order. Money is never taken while a write transaction is open: the charge is
//! recorded and committed first (`begin_payment`), the gateway is called with nothing open,
//! and the answer is recorded in a second transaction (`settle_payment`). A success for an order
//! that is no longer live — it expired or was cancelled while the money was on its way — is
//! refunded at once.

use super::orders::expire_lapsed_order;
use crate::domain::charge::{LATE_PAYMENT_REFUNDED, PAYMENT_IN_PROGRESS};
use crate::domain::{Charge, ChargeStatus, Id, Order, OrderStatus, Timestamp};
use crate::error::AppError;
use crate::ssr::clock::{self, Clock, SharedClock};
use crate::ssr::db::Db;
use crate::ssr::error_response::internal;
use crate::ssr::payments::{
    ChargeOutcome, ChargeRequest, CheckoutRequest, CheckoutState, GatewayError, PaymentGateway,
};
use crate::ssr::storage::events::insert_event;
use crate::ssr::storage::{self, charges, orders, tickets};
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
async fn append_charge_event(
    conn: &mut sqlx::SqliteConnection,
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

fn order_payload(order: &Order, status: OrderStatus) -> serde_json::Value {
    json!({ "id": order.id, "ticketId": order.ticket_id, "userId": order.buyer_id, "status": status.as_str() })
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
/// be `user`'s, live and not paid, with no other payment in flight. Returns the new charge and
/// the ticket's title.
pub async fn begin_payment(
    db: &Db,
    user: &Id,
    order_id: &Id,
    currency: &str,
    now: Timestamp,
) -> Result<(Charge, String), AppError> {
    match begin_or_resume(db, user, order_id, currency, None, now).await? {
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
async fn begin_or_resume(
    db: &Db,
    user: &Id,
    order_id: &Id,
    currency: &str,
    token: Option<&str>,
    now: Timestamp,
) -> Result<Begun, AppError> {
    let mut tx = db.begin_write().await?;
    let order = orders::find_order(&mut tx, order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    order.check_owner(user)?;
    let title = tickets::find_ticket(&mut tx, &order.ticket_id)
        .await?
        .map(|t| t.title)
        .unwrap_or_default();
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
        if expire_lapsed_order(&mut tx, &order, now).await? {
            tx.commit().await?;
        }
        return Err(refusal);
    }
    let charge = Charge::for_order(clock::new_id(), &order, currency, now);
    match charges::insert_charge(&mut tx, &charge, token).await {
        Err(err) if storage::is_unique_violation(&err) => {
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

/// Pays `order_id` with `token` (a Stripe PaymentMethod or token id): begin (or join the
/// payment already in flight), then charge and settle with no transaction open. All of it runs
/// as a task of its own that the caller only waits for, so a buyer whose connection drops at
/// any moment still gets the ticket they paid for. A decline is `PaymentDeclined` (402) with
/// the bank's reason.
#[expect(
    clippy::too_many_arguments,
    reason = "the database, gateway and in-flight payments travel separately until services share one context"
)]
pub async fn pay_order<G: PaymentGateway + 'static>(
    db: &Db,
    gateway: &Arc<G>,
    payments: &Arc<InFlightPayments>,
    user: &Id,
    order_id: &Id,
    token: &str,
    currency: &str,
    now: Timestamp,
) -> Result<Charge, AppError> {
    let (db, gateway, payments) = (db.clone(), gateway.clone(), payments.clone());
    let (user, order_id, token, currency) = (
        user.clone(),
        order_id.clone(),
        token.to_string(),
        currency.to_string(),
    );
    let paying = tokio::spawn(async move {
        let begun = begin_or_resume(&db, &user, &order_id, &currency, Some(&token), now).await?;
        let (charge, request) = match begun {
            Begun::New { charge, title } => {
                let request = charge_request(&charge, &token, &title);
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
        payments.run(&db, &gateway, &charge, request).await
    });
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
    db: &Db,
    gateway: &impl PaymentGateway,
    clock: &dyn Clock,
    charge: &Charge,
    request: &ChargeRequest,
) -> Result<Settled, AppError> {
    let outcome = match gateway.charge(request).await {
        Ok(outcome) => outcome,
        Err(GatewayError::InvalidToken) => {
            // Nothing reached the bank: the attempt is void and the buyer may try again.
            abandon_charge(db, charge, "The payment token is not valid", clock.now()).await?;
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
    settle_payment(db, gateway, &charge.id, outcome, clock.now()).await
}

type Settlement = Shared<BoxFuture<'static, Result<Settled, AppError>>>;

/// The payments this process is charging and settling right now. Each runs as a task of its
/// own, detached from the request that started it; whoever asks about the same charge
/// meanwhile (the buyer clicking again, a retry after a dropped connection) waits for that
/// task's answer instead of calling the gateway a second time.
pub struct InFlightPayments {
    running: Mutex<HashMap<Id, Settlement>>,
    /// When each payment is settled.
    clock: SharedClock,
}

impl InFlightPayments {
    pub fn new(clock: SharedClock) -> InFlightPayments {
        InFlightPayments {
            running: Mutex::default(),
            clock,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Id, Settlement>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Charges and settles `charge` (once, however many callers ask at the same time) and
    /// waits for the result. The work goes on if the caller goes away.
    pub async fn run<G: PaymentGateway + 'static>(
        self: &Arc<Self>,
        db: &Db,
        gateway: &Arc<G>,
        charge: &Charge,
        request: ChargeRequest,
    ) -> Result<Settled, AppError> {
        self.start(db, gateway, charge, request).await
    }

    /// Starts charging and settling `charge` unless that is already under way, and returns
    /// the answer to wait for.
    fn start<G: PaymentGateway + 'static>(
        self: &Arc<Self>,
        db: &Db,
        gateway: &Arc<G>,
        charge: &Charge,
        request: ChargeRequest,
    ) -> Settlement {
        let mut running = self.lock();
        if let Some(settlement) = running.get(&charge.id) {
            return settlement.clone();
        }
        let task = tokio::spawn({
            let (this, db, gateway, charge) =
                (self.clone(), db.clone(), gateway.clone(), charge.clone());
            async move {
                let result =
                    charge_and_settle(&db, &*gateway, &*this.clock, &charge, &request).await;
                this.lock().remove(&charge.id);
                result
            }
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
pub async fn resume_unfinished_payments<G: PaymentGateway + 'static>(
    db: &Db,
    gateway: &Arc<G>,
    payments: &Arc<InFlightPayments>,
) -> Result<usize, AppError> {
    let unfinished = {
        let mut conn = db.read.acquire().await?;
        let mut found = Vec::new();
        for charge in charges::list_unfinished_charges(&mut conn).await? {
            let Some(token) = charges::find_payment_token(&mut conn, &charge.id).await? else {
                continue;
            };
            let title = match orders::find_order(&mut conn, &charge.order_id).await? {
                Some(order) => tickets::find_ticket(&mut conn, &order.ticket_id)
                    .await?
                    .map(|t| t.title)
                    .unwrap_or_default(),
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
        let settlement = payments.start(db, gateway, &charge, request);
        tokio::spawn(async move {
            match settlement.await {
                Ok(settled) => {
                    tracing::info!(charge = %charge.id, status = settled.charge().status.as_str(), "resumed an unfinished payment")
                }
                Err(err) => {
                    tracing::warn!(charge = %charge.id, error = %err, "an unfinished payment could not be finished yet")
                }
            }
        });
    }
    Ok(count)
}

/// Marks a charge that never reached the bank as failed, leaving the order live.
async fn abandon_charge(
    db: &Db,
    charge: &Charge,
    reason: &str,
    now: Timestamp,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
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
pub async fn settle_payment(
    db: &Db,
    gateway: &impl PaymentGateway,
    charge_id: &Id,
    outcome: ChargeOutcome,
    now: Timestamp,
) -> Result<Settled, AppError> {
    let mut tx = db.begin_write().await?;
    let charge = charges::find_charge(&mut tx, charge_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let order = orders::find_order(&mut tx, &charge.order_id)
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
        // A declined card cancels the order and frees the ticket (the original design).
        if orders::update_live_order_status(&mut tx, &order.id, OrderStatus::Cancelled, now).await?
        {
            tickets::release_ticket_row(&mut tx, &order.ticket_id, &order.id, now).await?;
            insert_event(
                &mut tx,
                "OrderCancelled",
                &order.id,
                order_payload(&order, OrderStatus::Cancelled),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        return Ok(Settled::Declined(failed));
    }

    if order.is_live_at(now) {
        charges::complete_charge(&mut tx, &charge.id, &stripe_id, now).await?;
        orders::update_live_order_status(&mut tx, &order.id, OrderStatus::Complete, now).await?;
        let code = crate::ssr::clock::new_ticket_code();
        if !tickets::mark_ticket_sold(
            &mut tx,
            &order.ticket_id,
            &order.id,
            &order.buyer_id,
            &code,
            now,
        )
        .await?
        {
            return Err(internal(anyhow::anyhow!(
                "live order {} does not hold its ticket",
                order.id
            )));
        }
        let paid = append_charge_event(&mut tx, &charge.id, "ChargeCompleted", now).await?;
        insert_event(
            &mut tx,
            "OrderCompleted",
            &order.id,
            order_payload(&order, OrderStatus::Complete),
            now,
        )
        .await?;
        tx.commit().await?;
        return Ok(Settled::Paid(paid));
    }

    // Money for an order that is no longer live: note where it is, commit, give it back.
    charges::set_stripe_id(&mut tx, &charge.id, &stripe_id, now).await?;
    expire_lapsed_order(&mut tx, &order, now).await?;
    tx.commit().await?;
    let refund_id = gateway.refund(&stripe_id, &charge.refund_key()).await.map_err(|err| {
        tracing::error!(error = %err, charge = %charge.id, "refund of late money failed; the webhook retry will try again");
        AppError::PaymentUnavailable
    })?;
    let mut tx = db.begin_write().await?;
    if charges::mark_refunded(&mut tx, &charge.id, &refund_id, LATE_PAYMENT_REFUNDED, now).await? {
        append_charge_event(&mut tx, &charge.id, "ChargeRefunded", now).await?;
    }
    let refunded = charges::find_charge(&mut tx, &charge.id)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Settled::Refunded(refunded))
}

/// Opens a hosted checkout page (Stripe Checkout) for a browser: records the charge, asks the
/// gateway for the page, and returns its address. `public_url` is where the buyer comes back.
pub async fn start_checkout(
    db: &Db,
    gateway: &impl PaymentGateway,
    user: &Id,
    order_id: &Id,
    currency: &str,
    public_url: &str,
    clock: &dyn Clock,
) -> Result<String, AppError> {
    let (charge, title) = begin_payment(db, user, order_id, currency, clock.now()).await?;
    let back = format!("{public_url}/orders/{order_id}/checkout-return");
    let request = CheckoutRequest {
        charge: charge_request(&charge, "", &title),
        title,
        success_url: format!("{back}?session_id={{CHECKOUT_SESSION_ID}}"),
        cancel_url: format!("{back}?cancelled=1"),
    };
    match gateway.create_checkout(&request).await {
        Ok(session) => {
            let mut tx = db.begin_write().await?;
            charges::set_stripe_id(&mut tx, &charge.id, &session.id, clock.now()).await?;
            tx.commit().await?;
            Ok(session.url)
        }
        Err(err) => {
            // Creating a checkout page moves no money: give the attempt up so the buyer can retry.
            tracing::error!(error = %err, charge = %charge.id, "could not open a checkout session");
            let reason = "The payment page could not be opened";
            abandon_charge(db, &charge, reason, clock.now()).await?;
            Err(AppError::PaymentUnavailable)
        }
    }
}

/// The buyer is back from the hosted checkout page. Whatever the address says, the gateway is
/// asked for the session's real state; a paid session settles the charge (once, as a webhook
/// would). A buyer who came back without paying gets their order back, payable again.
pub async fn confirm_checkout(
    db: &Db,
    gateway: &impl PaymentGateway,
    user: &Id,
    order_id: &Id,
    session_id: Option<&str>,
    clock: &dyn Clock,
) -> Result<(), AppError> {
    let charges_of_order = list_order_charges(db, user, order_id).await?;
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
    match gateway.fetch_checkout(session).await {
        Ok(CheckoutState::Paid { payment_intent }) => {
            settle_payment(
                db,
                gateway,
                &charge.id,
                ChargeOutcome::Succeeded {
                    stripe_id: payment_intent,
                },
                clock.now(),
            )
            .await?;
        }
        Ok(CheckoutState::Open | CheckoutState::Expired) => {
            abandon_charge(db, charge, "The payment was not completed", clock.now()).await?;
        }
        Err(err) => {
            tracing::error!(error = %err, charge = %charge.id, "could not ask for a checkout session's state");
            return Err(AppError::PaymentUnavailable);
        }
    }
    Ok(())
}

/// An order's charges, for the buyer only.
pub async fn list_order_charges(
    db: &Db,
    user: &Id,
    order_id: &Id,
) -> Result<Vec<Charge>, AppError> {
    let mut conn = db.read.acquire().await?;
    let order = orders::find_order(&mut conn, order_id)
        .await?
        .ok_or(AppError::NotFound)?;
    order.check_owner(user)?;
    Ok(charges::list_charges_for_order(&mut conn, order_id).await?)
}

/// A verified Stripe event: its id, type and `data.object`.
#[derive(Debug, Clone)]
pub struct StripeEvent {
    pub id: String,
    pub event_type: String,
    pub object: serde_json::Value,
}

/// Finds our charge for a Stripe object: by the `charge_id` we put in its metadata (or as the
/// checkout's `client_reference_id`), else by the provider id we recorded.
async fn find_charge_for(
    db: &Db,
    object: &serde_json::Value,
    stripe_id: Option<&str>,
) -> Result<Option<Charge>, AppError> {
    let mut conn = db.read.acquire().await?;
    let ours = object["metadata"]["charge_id"]
        .as_str()
        .or_else(|| object["client_reference_id"].as_str());
    if let Some(id) = ours.and_then(|id| Id::parse(id).ok())
        && let Some(charge) = charges::find_charge(&mut conn, &id).await?
    {
        return Ok(Some(charge));
    }
    match stripe_id {
        Some(stripe_id) => Ok(charges::find_charge_by_stripe_id(&mut conn, stripe_id).await?),
        None => Ok(None),
    }
}

/// Applies one webhook event, once: a repeated delivery of the same event id changes nothing.
/// Events for payments that are not ours, and event types we do not use, are acknowledged and
/// ignored.
pub async fn apply_stripe_event(
    db: &Db,
    gateway: &impl PaymentGateway,
    event: StripeEvent,
    clock: &dyn Clock,
) -> Result<(), AppError> {
    let seen: bool = {
        let mut conn = db.read.acquire().await?;
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM stripe_events WHERE id = ?)")
            .bind(&event.id)
            .fetch_one(&mut *conn)
            .await?
    };
    if seen {
        return Ok(());
    }
    let object = &event.object;
    let now = clock.now();
    match event.event_type.as_str() {
        "payment_intent.succeeded" => {
            if let Some(pi) = object["id"].as_str()
                && let Some(charge) = find_charge_for(db, object, Some(pi)).await?
            {
                settle_payment(
                    db,
                    gateway,
                    &charge.id,
                    ChargeOutcome::Succeeded {
                        stripe_id: pi.to_string(),
                    },
                    now,
                )
                .await?;
            }
        }
        "payment_intent.payment_failed" => {
            let pi = object["id"].as_str();
            if let Some(charge) = find_charge_for(db, object, pi).await? {
                let message = object["last_payment_error"]["message"]
                    .as_str()
                    .unwrap_or("Your card was declined.");
                let outcome = ChargeOutcome::Declined {
                    stripe_id: pi.map(str::to_string),
                    message: message.to_string(),
                };
                settle_payment(db, gateway, &charge.id, outcome, now).await?;
            }
        }
        "checkout.session.completed" => {
            let paid = object["payment_status"].as_str() == Some("paid");
            if paid
                && let Some(pi) = object["payment_intent"].as_str()
                && let Some(charge) = find_charge_for(db, object, object["id"].as_str()).await?
            {
                settle_payment(
                    db,
                    gateway,
                    &charge.id,
                    ChargeOutcome::Succeeded {
                        stripe_id: pi.to_string(),
                    },
                    now,
                )
                .await?;
            }
        }
        "charge.refunded" => {
            // A refund made at Stripe (for example from its dashboard): record it on our charge.
            let pi = object["payment_intent"].as_str();
            let refund_id = object["refunds"]["data"][0]["id"]
                .as_str()
                .unwrap_or("refunded at Stripe");
            if let Some(charge) = find_charge_for(db, object, pi).await? {
                let mut tx = db.begin_write().await?;
                if charges::mark_refunded(&mut tx, &charge.id, refund_id, "Refunded at Stripe", now)
                    .await?
                {
                    append_charge_event(&mut tx, &charge.id, "ChargeRefunded", now).await?;
                }
                tx.commit().await?;
            }
        }
        _ => {}
    }
    let mut tx = db.begin_write().await?;
    charges::insert_stripe_event(&mut tx, &event.id, &event.event_type, now).await?;
    tx.commit().await?;
    Ok(())
}
