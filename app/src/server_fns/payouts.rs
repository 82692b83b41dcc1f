//! The payouts page's server functions: the seller's balances and history, and connecting a
//! payout account (a plain form: the answer redirects to Stripe's onboarding, or back here).

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Balances, account and history as `/payouts` shows them (amounts formatted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutsView {
    pub pending: String,
    pub available: String,
    pub paid_out: String,
    /// Below zero: a refund after a payout left the seller owing.
    pub owing: bool,
    pub next_release: Option<String>,
    /// How long escrow lasts, in words (`2 days`).
    pub escrow: String,
    /// `none`, `onboarding`, `ready` or `restricted`.
    pub account: String,
    pub account_label: String,
    pub email_verified: bool,
    pub test_mode: bool,
    pub payouts: Vec<PayoutItem>,
    pub earnings: Vec<EarningItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutItem {
    pub amount: String,
    pub status: String,
    pub date: String,
    pub transfer: Option<String>,
    pub failure: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarningItem {
    pub ticket_id: String,
    pub title: String,
    pub amount: String,
    pub status: String,
    pub release: String,
}

/// The signed-in seller's payouts. `onboarding` is `return` when Stripe sends the seller back:
/// the account's status is then read from Stripe first.
#[server(prefix = "/_fn", endpoint = "payouts_overview")]
pub async fn payouts_overview(onboarding: Option<String>) -> Result<PayoutsView, AppError> {
    use crate::domain::format_money;
    use crate::ssr::payments::PaymentGateway;
    use crate::ssr::services::payouts;
    let ctx = crate::ssr::fn_context::signed_in().await?;
    if onboarding.as_deref() == Some("return")
        && let Err(err) = payouts::refresh_account(&ctx).await
    {
        tracing::warn!(error = ?err, "could not read the payout account back from Stripe");
    }
    let o = payouts::overview(&ctx).await?;
    let currency = ctx.settings().currency.clone();
    let money = |cents: i64| format_money(cents, &currency);
    Ok(PayoutsView {
        pending: money(o.pending_cents),
        available: money(o.available_cents),
        paid_out: money(o.paid_out_cents),
        owing: o.available_cents < 0,
        next_release: o.next_release.map(|t| t.to_display()),
        escrow: crate::domain::duration::describe(ctx.settings().payout_delay_ms),
        account: o.account.as_str().to_string(),
        account_label: o.account.label().to_string(),
        email_verified: o.email_verified,
        test_mode: ctx.app().gateway.is_test_mode(),
        payouts: o
            .payouts
            .iter()
            .map(|p| PayoutItem {
                amount: format_money(p.amount_cents, &p.currency),
                status: p.status.as_str().to_string(),
                date: p.created_at.to_display(),
                transfer: p.stripe_transfer_id.clone(),
                failure: p.failure_message.clone(),
            })
            .collect(),
        earnings: o
            .earnings
            .iter()
            .map(|e| EarningItem {
                ticket_id: e.ticket_id.to_string(),
                title: e.title.clone(),
                amount: money(e.net_cents),
                status: e.status.as_str().to_string(),
                release: e.release_at.to_display(),
            })
            .collect(),
    })
}

/// Connects the seller's payout account: to Stripe's onboarding when there is some to do,
/// else back to `/payouts`.
#[server(prefix = "/_fn", endpoint = "connect_payout_account")]
pub async fn connect_payout_account() -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let connected = crate::ssr::services::payouts::connect_account(&ctx).await?;
    match connected.onboarding_url {
        Some(url) => leptos_axum::redirect(&url),
        None => leptos_axum::redirect("/payouts?notice=connected"),
    }
    Ok(())
}
