//! The operator's console (`/admin`): what its pages show, and the actions its plain forms
//! post. Every function asks the admin service, which refuses anyone but an admin.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The dashboard's figures, formatted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardView {
    pub on_sale: String,
    pub live_reservations: String,
    pub sales_today: String,
    pub gross_today: String,
    pub sales_30_days: String,
    pub gross_30_days: String,
    pub fees_today: String,
    pub fees_30_days: String,
    pub payouts_pending: String,
    pub payouts_pending_total: String,
    pub payouts_failed: String,
    pub payouts_failed_total: String,
    pub sellers_held: String,
}

#[server(prefix = "/_fn", endpoint = "admin_dashboard")]
pub async fn admin_dashboard() -> Result<DashboardView, AppError> {
    use crate::domain::{format_count, format_money};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let d = crate::ssr::services::admin::dashboard(&ctx).await?;
    let currency = ctx.settings().currency.clone();
    let money = |cents: i64| format_money(cents, &currency);
    let count = format_count;
    Ok(DashboardView {
        on_sale: count(d.on_sale),
        live_reservations: count(d.live_reservations),
        sales_today: count(d.sales_today.0),
        gross_today: money(d.sales_today.1),
        sales_30_days: count(d.sales_30_days.0),
        gross_30_days: money(d.sales_30_days.1),
        fees_today: money(d.fees_today),
        fees_30_days: money(d.fees_30_days),
        payouts_pending: count(d.payouts_pending.0),
        payouts_pending_total: money(d.payouts_pending.1),
        payouts_failed: count(d.payouts_failed.0),
        payouts_failed_total: money(d.payouts_failed.1),
        sellers_held: count(d.sellers_held),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingItem {
    pub id: String,
    pub title: String,
    pub price: String,
    pub status: String,
    pub seller: String,
    pub listed: String,
    pub removed_reason: Option<String>,
}

#[server(prefix = "/_fn", endpoint = "admin_listings")]
pub async fn admin_listings(q: String, page: i64) -> Result<Vec<ListingItem>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let now = ctx.now();
    let lines = crate::ssr::services::admin::listings(&ctx, &q, page.max(0)).await?;
    Ok(lines
        .into_iter()
        .map(|line| ListingItem {
            id: line.ticket.id.to_string(),
            title: line.ticket.title.clone(),
            price: crate::domain::format_money(line.ticket.price.cents(), &ctx.settings().currency),
            status: line.ticket.status_at(now).as_str().to_string(),
            seller: line.seller_email,
            listed: line.ticket.created_at.to_display(),
            removed_reason: line.removed_reason,
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserItem {
    pub id: String,
    pub email: String,
    /// The roles held, by name.
    pub roles: Vec<String>,
    pub verified: bool,
    pub suspended: bool,
    pub payouts_held: bool,
    pub joined: String,
}

#[server(prefix = "/_fn", endpoint = "admin_users")]
pub async fn admin_users(q: String, page: i64) -> Result<Vec<UserItem>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let rows = crate::ssr::services::admin::accounts(&ctx, &q, page.max(0)).await?;
    Ok(rows
        .into_iter()
        .map(|row| UserItem {
            roles: row.roles().iter().map(|r| r.as_str().to_string()).collect(),
            id: row.id,
            email: row.email,
            verified: row.email_verified_at.is_some(),
            suspended: row.suspended_at.is_some(),
            payouts_held: row.payouts_held_at.is_some(),
            joined: crate::domain::Timestamp::from_millis(row.created_at).to_display(),
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    pub id: String,
    pub title: String,
    pub buyer: String,
    pub total: String,
    pub status: String,
    pub refundable: bool,
    pub refunded: bool,
    pub placed: String,
    /// Tickets of an order of several that can still be refunded on their own: id and label.
    pub one_by_one: Vec<(String, String)>,
}

#[server(prefix = "/_fn", endpoint = "admin_orders")]
pub async fn admin_orders(q: String, page: i64) -> Result<Vec<OrderItem>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let now = ctx.now();
    let lines = crate::ssr::services::admin::order_lines(&ctx, &q, page.max(0)).await?;
    let currency = ctx.settings().currency.clone();
    Ok(lines
        .into_iter()
        .map(|line| OrderItem {
            id: line.order.id.to_string(),
            title: line.title,
            buyer: line.buyer_email,
            total: crate::domain::format_money(line.order.total_cents(), &currency),
            status: line.order.status_at(now).as_str().to_string(),
            one_by_one: if line.tickets.len() > 1 {
                line.tickets
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, _, refunded))| !refunded)
                    .map(|(n, (id, seat, _))| {
                        let label = seat.clone().unwrap_or_else(|| format!("Ticket {}", n + 1));
                        (id.to_string(), label)
                    })
                    .collect()
            } else {
                Vec::new()
            },
            refundable: line.refundable,
            refunded: line.refunded,
            placed: line.order.created_at.to_display(),
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutLineItem {
    pub id: String,
    pub seller_id: String,
    pub seller: String,
    pub amount: String,
    pub status: String,
    pub failure: Option<String>,
    pub held: bool,
    pub created: String,
}

#[server(prefix = "/_fn", endpoint = "admin_payouts")]
pub async fn admin_payouts(page: i64) -> Result<Vec<PayoutLineItem>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let lines = crate::ssr::services::admin::payout_lines(&ctx, page.max(0)).await?;
    Ok(lines
        .into_iter()
        .map(|line| PayoutLineItem {
            id: line.payout.id.to_string(),
            seller_id: line.payout.seller_id.to_string(),
            seller: line.seller_email,
            amount: crate::domain::format_money(line.payout.amount_cents, &line.payout.currency),
            status: line.payout.status.as_str().to_string(),
            failure: line.payout.failure_message.clone(),
            held: line.held,
            created: line.payout.created_at.to_display(),
        })
        .collect())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditItem {
    pub id: i64,
    /// The admin's address, or "command line".
    pub actor: String,
    pub action: String,
    pub target: String,
    pub reason: String,
    pub at: String,
}

#[server(prefix = "/_fn", endpoint = "admin_audit")]
pub async fn admin_audit(before: Option<i64>) -> Result<Vec<AuditItem>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let lines = crate::ssr::services::admin::latest_audit(&ctx, before).await?;
    Ok(lines
        .into_iter()
        .map(|(entry, actor)| AuditItem {
            id: entry.id,
            actor: actor.unwrap_or_else(|| "command line".to_string()),
            action: entry.action.label().to_string(),
            target: format!("{} {}", entry.target_type, entry.target_id),
            reason: entry.reason,
            at: entry.created_at.to_display(),
        })
        .collect())
}

/// A path id from a form; a malformed one is as unknown as a missing one.
#[cfg(feature = "ssr")]
fn form_id(id: &str) -> Result<crate::domain::Id, AppError> {
    crate::domain::Id::parse(id).map_err(|_| AppError::NotFound)
}

#[server(prefix = "/_fn", endpoint = "admin_take_down")]
pub async fn admin_take_down(ticket_id: String, reason: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    crate::ssr::services::admin::take_down(&ctx, &form_id(&ticket_id)?, &reason).await?;
    Ok(())
}

/// Suspends (`suspend` = "true") or lifts a suspension.
#[server(prefix = "/_fn", endpoint = "admin_suspend")]
pub async fn admin_suspend(
    user_id: String,
    suspend: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::ssr::services::admin;
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let user = form_id(&user_id)?;
    if suspend == "true" {
        admin::suspend(&ctx, &user, &reason).await
    } else {
        admin::lift_suspension(&ctx, &user, &reason).await
    }
}

/// Refunds an order: the rest of it, or with `ticket_id` (not empty) that one ticket alone.
#[server(prefix = "/_fn", endpoint = "admin_refund")]
pub async fn admin_refund(
    order_id: String,
    reason: String,
    #[server(default)] ticket_id: Option<String>,
) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let ticket =
        match ticket_id.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(id) => Some(crate::domain::Id::parse(id).map_err(|_| {
                AppError::invalid_field("ticket_id", "Choose a ticket of this order")
            })?),
        };
    crate::ssr::services::admin::refund(&ctx, &form_id(&order_id)?, ticket, &reason).await?;
    Ok(())
}

/// Holds (`hold` = "true") or releases a seller's payouts.
#[server(prefix = "/_fn", endpoint = "admin_hold_payouts")]
pub async fn admin_hold_payouts(
    user_id: String,
    hold: String,
    reason: String,
) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    crate::ssr::services::admin::hold_payouts(&ctx, &form_id(&user_id)?, hold == "true", &reason)
        .await
}

/// Grants (`staff` = "true") or takes away the staff role.
#[server(prefix = "/_fn", endpoint = "admin_set_staff")]
pub async fn admin_set_staff(
    user_id: String,
    staff: String,
    reason: String,
) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    crate::ssr::services::admin::set_staff(&ctx, &form_id(&user_id)?, staff == "true", &reason)
        .await
}
