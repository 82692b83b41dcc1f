//! Sellers get paid: payout accounts, escrow release and the payout job (docs/RULES.md,
//! "Payouts and refunds").
//!
//! How a payout never happens twice:
//! - at most one payout per seller is pending (a partial unique index), and its amount is read
//!   from the ledger while the seller's account row is held, so two nodes cannot both pay the
//!   same balance;
//! - the payout's id is the transfer's idempotency key and its transfer group, the same for
//!   every attempt; an attempt is claimed for a while before the provider is called, and a
//!   later attempt first asks the provider whether the transfer exists (after a crash, or an
//!   answer lost in transit, that is how it is found even once the key has expired);
//! - the payout is marked paid and its ledger transaction written in one database transaction,
//!   and a payout has at most one ledger transaction (a unique index).

use crate::domain::ledger::{self, Account, Kind};
use crate::domain::payout::{
    self, AccountStatus, Earning, Payout, PayoutAccount, PayoutStatus, ProviderAccount,
};
use crate::domain::{Order, Ticket, Timestamp};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::error_response::internal;
use crate::ssr::mail::messages;
use crate::ssr::payments::{GatewayError, PaymentGateway, PayoutGateway, TransferRequest};
use crate::ssr::storage::ledger::Source;
use crate::ssr::storage::payouts::{self as store, NewEarning};
use crate::ssr::storage::{self, Read};
use sqlx::AnyConnection;

/// Rows handled per database transaction or round.
const BATCH: i64 = 100;
/// How many payouts and earnings the payouts page lists.
const HISTORY: i64 = 100;

pub const VERIFY_FIRST: &str = "Verify your email address before connecting a payout account";

// ---- the seller's view -----------------------------------------------------------------------

/// Everything `/payouts` and `GET /api/payouts` show.
#[derive(Debug, Clone)]
pub struct Overview {
    pub pending_cents: i64,
    pub available_cents: i64,
    pub paid_out_cents: i64,
    pub next_release: Option<Timestamp>,
    pub account: AccountStatus,
    pub email_verified: bool,
    pub payouts: Vec<Payout>,
    pub earnings: Vec<Earning>,
}

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn overview(ctx: &Ctx) -> Result<Overview, AppError> {
    let seller = ctx.user()?;
    let mut conn = ctx.db().read.acquire().await?;
    let user = storage::users::find_user(&mut conn, seller)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let pending = -storage::ledger::sum(&mut conn, &Account::SellerPending(seller.clone())).await?;
    // Paid out before available: the reads are separate statements, and a payout that commits
    // between them must not show as paid out while its money still shows as available (read in
    // this order, a page that shows a payout also shows the balance it took).
    let paid_out = storage::ledger::sum_of_kind(
        &mut conn,
        &Account::SellerAvailable(seller.clone()),
        Kind::Payout,
    )
    .await?;
    let available =
        -storage::ledger::sum(&mut conn, &Account::SellerAvailable(seller.clone())).await?;
    Ok(Overview {
        pending_cents: pending,
        available_cents: available,
        paid_out_cents: paid_out,
        next_release: store::next_release_for(&mut conn, seller).await?,
        account: store::find_account(&mut conn, seller, Read::Plain)
            .await?
            .map_or(AccountStatus::None, |a| a.status),
        email_verified: user.email_verified_at.is_some(),
        payouts: store::list_payouts(&mut conn, seller, HISTORY).await?,
        earnings: store::list_earnings(&mut conn, seller, HISTORY).await?,
    })
}

// ---- payout accounts -------------------------------------------------------------------------

/// The answer to "connect my payout account".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connected {
    pub status: AccountStatus,
    /// Where to finish onboarding at the provider (none in test mode, or once ready).
    pub onboarding_url: Option<String>,
}

/// Connects the signed-in seller's payout account: creates it at the provider the first time,
/// then returns an onboarding link until the account is ready. In test mode the simulated
/// account is ready at once. Requires a verified email address.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn connect_account(ctx: &Ctx) -> Result<Connected, AppError> {
    let seller = ctx.user()?.clone();
    let gateway = &ctx.app().gateway;
    let (user, existing) = {
        let mut conn = ctx.db().read.acquire().await?;
        let user = storage::users::find_user(&mut conn, &seller)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let existing = store::find_account(&mut conn, &seller, Read::Plain).await?;
        (user, existing)
    };
    if user.email_verified_at.is_none() {
        return Err(AppError::invalid(VERIFY_FIRST));
    }
    let account = match existing {
        Some(account) => account,
        None => {
            // The provider's idempotency (one key per seller) makes two racing connects create
            // one account; the insert keeps whichever row came first.
            let stripe_account_id = gateway
                .create_payout_account(seller.as_str(), &user.email)
                .await
                .map_err(unavailable)?;
            let status = if gateway.is_test_mode() {
                AccountStatus::Ready
            } else {
                AccountStatus::Onboarding
            };
            let mut tx = ctx.db().begin_write().await?;
            store::insert_account(&mut tx, &seller, &stripe_account_id, status, ctx.now()).await?;
            let account = store::find_account(&mut tx, &seller, Read::Plain)
                .await?
                .ok_or_else(|| internal(anyhow::anyhow!("a payout account vanished")))?;
            tx.commit().await?;
            ctx.payouts_due();
            account
        }
    };
    if account.status == AccountStatus::Ready || gateway.is_test_mode() {
        return Ok(Connected {
            status: account.status,
            onboarding_url: None,
        });
    }
    let public_url = &ctx.settings().public_url;
    let url = gateway
        .payout_account_link(
            &account.stripe_account_id,
            &messages::link(public_url, "/payouts?onboarding=refresh"),
            &messages::link(public_url, "/payouts?onboarding=return"),
        )
        .await
        .map_err(unavailable)?;
    Ok(Connected {
        status: account.status,
        onboarding_url: Some(url),
    })
}

/// Reads the signed-in seller's account status back from the provider (when they return from
/// onboarding: the return URL itself proves nothing).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn refresh_account(ctx: &Ctx) -> Result<AccountStatus, AppError> {
    let seller = ctx.user()?;
    let account =
        store::find_account(&mut *ctx.db().read.acquire().await?, seller, Read::Plain).await?;
    let Some(PayoutAccount {
        stripe_account_id, ..
    }) = account
    else {
        return Ok(AccountStatus::None);
    };
    let state = ctx
        .app()
        .gateway
        .fetch_payout_account(&stripe_account_id)
        .await
        .map_err(unavailable)?;
    apply_account_state(ctx, &stripe_account_id, &state).await?;
    Ok(state.status())
}

/// Records what the provider says about an account (`account.updated`, or a read after
/// onboarding). Accounts that are not ours are ignored.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), stripe_account_id = %stripe_account_id)
)]
pub async fn apply_account_state(
    ctx: &Ctx,
    stripe_account_id: &str,
    state: &ProviderAccount,
) -> Result<(), AppError> {
    let mut tx = ctx.db().begin_write().await?;
    let owner =
        store::set_account_status(&mut tx, stripe_account_id, state.status(), ctx.now()).await?;
    tx.commit().await?;
    if owner.is_some() && state.status() == AccountStatus::Ready {
        ctx.payouts_due();
    }
    Ok(())
}

fn unavailable(err: GatewayError) -> AppError {
    tracing::error!(error = %err, "payout provider call failed");
    AppError::PaymentUnavailable
}

// ---- sales and escrow ------------------------------------------------------------------------

/// A completed sale, inside the settlement's transaction: the ledger's sale, and the seller's
/// earning in escrow until `PAYOUT_DELAY` after the event (or the sale).
#[tracing::instrument(
    skip_all,
    fields(
        user = ctx.actor().map(tracing::field::display),
        order_id = %order.id,
    )
)]
pub async fn record_sale(
    ctx: &Ctx,
    tx: &mut AnyConnection,
    order: &Order,
    tickets: &[Ticket],
) -> Result<(), AppError> {
    let now = ctx.now();
    // One ledger transaction and one earning per ticket, each its own seller's.
    for line in &order.lines {
        let ticket = tickets
            .iter()
            .find(|t| t.id == line.ticket_id)
            .ok_or(AppError::NotFound)?;
        let amounts = line.amounts();
        let sale = ledger::sale(&ticket.seller_id, &amounts);
        storage::ledger::record(tx, &sale, Source::Order(&order.id, &ticket.id), now).await?;
        store::insert_earning(
            tx,
            &NewEarning {
                order_id: &order.id,
                seller_id: &ticket.seller_id,
                ticket_id: &ticket.id,
                net_cents: amounts.seller_net_cents,
                release_at: payout::release_at(
                    ticket.starts_at,
                    now,
                    ctx.settings().payout_delay_ms,
                ),
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Releases every earning whose escrow is over: each becomes available, with its ledger
/// transaction. Returns how many were released.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn release_due(ctx: &Ctx) -> Result<usize, AppError> {
    let mut released = 0;
    loop {
        let now = ctx.now();
        let due = store::due_earnings(&mut *ctx.db().read.acquire().await?, now, BATCH).await?;
        if due.is_empty() {
            return Ok(released);
        }
        let mut tx = ctx.db().begin_write().await?;
        let mut this_round = 0;
        for earning in &due {
            if store::mark_released(&mut tx, &earning.order_id, &earning.ticket_id, now).await? {
                let release = ledger::release(&earning.seller_id, earning.net_cents);
                storage::ledger::record(
                    &mut tx,
                    &release,
                    Source::Order(&earning.order_id, &earning.ticket_id),
                    now,
                )
                .await?;
                this_round += 1;
            }
        }
        tx.commit().await?;
        released += this_round;
        if this_round == 0 || (due.len() as i64) < BATCH {
            return Ok(released);
        }
    }
}

// ---- the payout job --------------------------------------------------------------------------

/// What one round of the payout job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Round {
    pub released: usize,
    pub started: usize,
    pub paid: usize,
    pub failed: usize,
}

/// One round: release what escrow frees, start payouts of available balances, send the
/// payouts that are due. Safe on any number of nodes at once.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn run_round(ctx: &Ctx) -> Result<Round, AppError> {
    let released = release_due(ctx).await?;
    let started = start_payouts(ctx).await?;
    let (paid, failed) = send_due_payouts(ctx).await?;
    Ok(Round {
        released,
        started,
        paid,
        failed,
    })
}

/// Creates a pending payout of the whole available balance for every seller who has one and
/// may be paid (account ready, email verified).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn start_payouts(ctx: &Ctx) -> Result<usize, AppError> {
    let sellers = store::sellers_to_pay(&mut *ctx.db().read.acquire().await?, BATCH).await?;
    let mut started = 0;
    for seller in sellers {
        let now = ctx.now();
        let mut tx = ctx.db().begin_write().await?;
        // Holding the account row orders this against another node's payout of the same
        // seller: the balance read next includes every payout committed before.
        let Some(account) = store::find_account(&mut tx, &seller, Read::Locked).await? else {
            continue;
        };
        if account.status != AccountStatus::Ready {
            continue;
        }
        // An admin's hold takes the same row lock first (see `admin::hold_payouts`).
        let held = storage::users::find_user(&mut tx, &seller)
            .await?
            .is_none_or(|user| user.payouts_held_at.is_some());
        if held {
            continue;
        }
        let available =
            -storage::ledger::sum(&mut tx, &Account::SellerAvailable(seller.clone())).await?;
        let Some(amount_cents) = ledger::payable(available) else {
            continue;
        };
        let payout = Payout {
            id: crate::ssr::clock::new_id(),
            seller_id: seller.clone(),
            stripe_account_id: account.stripe_account_id,
            amount_cents,
            currency: ctx.settings().currency.clone(),
            status: PayoutStatus::Pending,
            stripe_transfer_id: None,
            attempts: 0,
            failure_message: None,
            created_at: now,
        };
        if store::insert_payout(&mut tx, &payout, now).await? {
            tx.commit().await?;
            started += 1;
        }
    }
    Ok(started)
}

/// Sends every pending payout that is due. Returns how many were paid and how many the
/// provider refused.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn send_due_payouts(ctx: &Ctx) -> Result<(usize, usize), AppError> {
    let due = store::due_payouts(&mut *ctx.db().read.acquire().await?, ctx.now(), BATCH).await?;
    let (mut paid, mut failed) = (0, 0);
    for payout in due {
        match send_payout(ctx, &payout).await? {
            Some(PayoutStatus::Paid) => {
                paid += 1;
                metrics::counter!("ticketing_payouts_total", "result" => "paid").increment(1);
            }
            Some(PayoutStatus::Failed) => {
                failed += 1;
                metrics::counter!("ticketing_payouts_total", "result" => "failed").increment(1);
            }
            _ => {}
        }
    }
    Ok((paid, failed))
}

/// One attempt at one payout. Returns its new status, or `None` when another worker had it or
/// the outcome is still unknown.
async fn send_payout(ctx: &Ctx, payout: &Payout) -> Result<Option<PayoutStatus>, AppError> {
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let claimed = store::claim_payout(
        &mut tx,
        &payout.id,
        now,
        Timestamp(now.millis() + payout::CLAIM_MS),
    )
    .await?;
    tx.commit().await?;
    if !claimed {
        return Ok(None);
    }
    let gateway = &ctx.app().gateway;
    let group = payout.transfer_key();
    // A payout tried before may have been made with its answer lost: look before sending.
    let earlier = if payout.attempts > 0 {
        gateway.find_transfer(&group).await
    } else {
        Ok(None)
    };
    let outcome = match earlier {
        Ok(Some(transfer_id)) => Ok(transfer_id),
        Ok(None) => {
            gateway
                .transfer(&TransferRequest {
                    amount_cents: payout.amount_cents,
                    currency: payout.currency.clone(),
                    destination: payout.stripe_account_id.clone(),
                    idempotency_key: payout.transfer_key(),
                    transfer_group: group.clone(),
                })
                .await
        }
        Err(err) => Err(err),
    };
    let now = ctx.now();
    match outcome {
        Ok(transfer_id) => {
            let mut tx = ctx.db().begin_write().await?;
            store::find_account(&mut tx, &payout.seller_id, Read::Locked).await?;
            if !store::mark_paid(&mut tx, &payout.id, &transfer_id, now).await? {
                return Ok(None);
            }
            let entries = ledger::payout(&payout.seller_id, payout.amount_cents);
            storage::ledger::record(&mut tx, &entries, Source::Payout(&payout.id), now).await?;
            if let Some(seller) = storage::users::find_user(&mut tx, &payout.seller_id).await? {
                let letter = messages::payout_sent(
                    &seller.email,
                    payout.amount_cents,
                    &payout.currency,
                    &messages::link(&ctx.settings().public_url, "/payouts"),
                );
                crate::ssr::services::mail::queue(&mut tx, &letter, now).await?;
            }
            tx.commit().await?;
            ctx.mail_queued();
            tracing::info!(payout = %payout.id, transfer = %transfer_id, cents = payout.amount_cents, "payout sent");
            Ok(Some(PayoutStatus::Paid))
        }
        Err(GatewayError::Refused(message)) => {
            let mut tx = ctx.db().begin_write().await?;
            let failed = store::mark_failed(&mut tx, &payout.id, &message, now).await?;
            tx.commit().await?;
            tracing::warn!(payout = %payout.id, %message, "payout refused by the provider; the balance stays available");
            Ok(failed.then_some(PayoutStatus::Failed))
        }
        Err(err) => {
            let attempts = payout.attempts + 1;
            let at = Timestamp(now.millis() + payout::retry_delay_ms(attempts));
            let mut tx = ctx.db().begin_write().await?;
            store::retry_at(&mut tx, &payout.id, at, &err.to_string(), now).await?;
            tx.commit().await?;
            tracing::warn!(payout = %payout.id, error = %err, attempts, "payout outcome unknown; trying again with the same key");
            Ok(None)
        }
    }
}

/// Runs payout rounds on this node: when woken (a sale with no escrow left, an account
/// connected), at the next release or retry that is due, and at least every `every`.
pub async fn run_payout_job(ctx: Ctx, every: std::time::Duration) {
    let wake = ctx.app().payouts_due.clone();
    loop {
        match run_round(&ctx).await {
            Ok(round) if round != Round::default() => {
                tracing::debug!(?round, "payout round");
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = ?err, "payout round failed; retrying"),
        }
        // Never spin: something due now that a round could not finish waits a second.
        let wait = next_due_in(&ctx)
            .await
            .unwrap_or(every)
            .max(std::time::Duration::from_secs(1))
            .min(every);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
    }
}

/// How long until the next release or payout retry falls due, by the application's clock.
async fn next_due_in(ctx: &Ctx) -> Option<std::time::Duration> {
    let mut conn = ctx.db().read.acquire().await.ok()?;
    let release = store::next_release(&mut conn).await.ok().flatten();
    let retry = store::next_attempt(&mut conn).await.ok().flatten();
    let next = [release, retry].into_iter().flatten().min()?;
    let millis = (next.millis() - ctx.now().millis()).max(0);
    Some(std::time::Duration::from_millis(millis as u64))
}
