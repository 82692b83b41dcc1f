//! The operator's console (docs/RULES.md, "Running the marketplace"): admins take listings
//! down, suspend accounts and lift suspensions, refund orders, hold and release payouts, and
//! grant the staff role. Each action writes its audit entry in the transaction that makes the
//! change, and emails whoever it affects.
//!
//! Authorization is here, in [`require_admin`], for the console's pages and the admin API alike.

use super::refunds::{self, Operator, RefundOrder};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::role::Role;
use crate::domain::{Id, Order, Ticket, TicketStatus};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::mail::messages;
use crate::ssr::storage::{self, Read, audit, event_log, orders, tickets, user_sessions, users};
use sqlx::AnyConnection;

pub const ALREADY_TAKEN_DOWN: &str = "Listing is already taken down";
pub const SOLD_LISTING: &str =
    "A sold ticket cannot be taken down; refund its order first, then take the listing down";
pub const ALREADY_SUSPENDED: &str = "Account is already suspended";
pub const NOT_SUSPENDED: &str = "Account is not suspended";
pub const NOT_YOURSELF: &str = "You cannot do this to your own account";
pub const ADMIN_ACCOUNT: &str =
    "An admin's account is changed on the command line (`ticketing admin revoke` first)";
pub const ALREADY_HELD: &str = "Payouts are already on hold";
pub const NOT_HELD: &str = "Payouts are not on hold";

/// The signed-in user when they are an admin: 401 signed out, 403 otherwise.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn require_admin(ctx: &Ctx) -> Result<Id, AppError> {
    let user = ctx.user()?.clone();
    let roles = users::find_roles(&mut *ctx.db().read.acquire().await?, &user).await?;
    match roles.is_admin() {
        true => Ok(user),
        false => Err(AppError::Forbidden),
    }
}

/// Takes a listing off sale for good. A reservation holding it ends (the buyer is emailed);
/// the seller is emailed the reason. A sold ticket is refunded first, not taken down.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), ticket_id = %ticket_id)
)]
pub async fn take_down(ctx: &Ctx, ticket_id: &Id, reason: &str) -> Result<Ticket, AppError> {
    let admin = require_admin(ctx).await?;
    let reason = refunds::parse_reason(reason)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let ticket = tickets::lock_ticket(&mut tx, ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    super::orders::release_lapsed_hold(&mut tx, &ticket, now).await?;
    let withdrawn = match ticket.live_order_at(now) {
        Some(order_id) => {
            let order = orders::read_order(&mut tx, order_id, Read::Locked)
                .await?
                .ok_or(AppError::NotFound)?;
            super::orders::release_order(&mut tx, &order, super::orders::Release::TakenDown, now)
                .await?
        }
        None => None,
    };
    if !tickets::take_down(&mut tx, &ticket.id, &reason, now).await? {
        return Err(AppError::invalid(if ticket.status == TicketStatus::Sold {
            SOLD_LISTING
        } else {
            ALREADY_TAKEN_DOWN
        }));
    }
    let removed = tickets::find_ticket(&mut tx, &ticket.id)
        .await?
        .ok_or(AppError::NotFound)?;
    event_log::insert_event(
        &mut tx,
        "TicketRemoved",
        &removed.id,
        super::tickets::event_payload(&removed),
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        Some(&admin),
        AuditAction::TakeDown,
        removed.id.as_str(),
        &reason,
        now,
    )
    .await?;
    let url = |path| messages::link(&ctx.settings().public_url, path);
    let seller = email_of(&mut tx, &removed.seller_id).await?;
    let letter = messages::listing_taken_down(&seller, &removed.title, &reason, &url("/orders"));
    super::mail::queue(&mut tx, &letter, now).await?;
    if let Some(order) = withdrawn {
        let buyer = email_of(&mut tx, &order.buyer_id).await?;
        let letter = messages::reservation_withdrawn(&buyer, &removed.title, &url("/"));
        super::mail::queue(&mut tx, &letter, now).await?;
    }
    tx.commit().await?;
    ctx.mail_queued();
    Ok(removed)
}

/// Suspends an account: its sessions end at once, it cannot sign in, and its unsold listings
/// leave the browse page. Admins are not suspended from the console, nor is oneself.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), user_id = %user_id)
)]
pub async fn suspend(ctx: &Ctx, user_id: &Id, reason: &str) -> Result<(), AppError> {
    let admin = require_admin(ctx).await?;
    let reason = refunds::parse_reason(reason)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let user = target_user(&mut tx, &admin, user_id).await?;
    if !users::set_suspended(&mut tx, user_id, Some(&reason), now).await? {
        return Err(AppError::invalid(ALREADY_SUSPENDED));
    }
    user_sessions::end_all_but(&mut tx, user_id, None).await?;
    set_listings_suspended(&mut tx, user_id, true, now).await?;
    audit::append(
        &mut tx,
        Some(&admin),
        AuditAction::Suspend,
        user_id.as_str(),
        &reason,
        now,
    )
    .await?;
    super::mail::queue(
        &mut tx,
        &messages::account_suspended(&user.email, &reason),
        now,
    )
    .await?;
    tx.commit().await?;
    ctx.mail_queued();
    Ok(())
}

/// Lifts a suspension: the account may sign in again and its unsold listings are back on sale.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), user_id = %user_id)
)]
pub async fn lift_suspension(ctx: &Ctx, user_id: &Id, reason: &str) -> Result<(), AppError> {
    let admin = require_admin(ctx).await?;
    // The API's DELETE has no body: a reason is welcome, not required.
    let reason = match reason.trim() {
        "" => String::new(),
        given => refunds::parse_reason(given)?,
    };
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let user = target_user(&mut tx, &admin, user_id).await?;
    if !users::set_suspended(&mut tx, user_id, None, now).await? {
        return Err(AppError::invalid(NOT_SUSPENDED));
    }
    set_listings_suspended(&mut tx, user_id, false, now).await?;
    audit::append(
        &mut tx,
        Some(&admin),
        AuditAction::LiftSuspension,
        user_id.as_str(),
        &reason,
        now,
    )
    .await?;
    let url = messages::link(&ctx.settings().public_url, "/auth/signin");
    super::mail::queue(
        &mut tx,
        &messages::account_reinstated(&user.email, &url),
        now,
    )
    .await?;
    tx.commit().await?;
    ctx.mail_queued();
    Ok(())
}

/// Refunds a paid order in full (see [`refunds::refund_order`]), as this admin.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), order_id = %order_id)
)]
pub async fn refund(
    ctx: &Ctx,
    order_id: &Id,
    ticket_id: Option<Id>,
    reason: &str,
) -> Result<Order, AppError> {
    let admin = require_admin(ctx).await?;
    let reason = refunds::parse_reason(reason)?;
    refunds::refund_order(
        ctx,
        RefundOrder {
            order_id: order_id.clone(),
            ticket_id,
            reason,
            by: Operator::Admin(admin),
        },
    )
    .await
}

/// Holds a seller's payouts (nothing is sent; earnings still leave escrow) or releases them.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), seller_id = %seller, held)
)]
pub async fn hold_payouts(
    ctx: &Ctx,
    seller: &Id,
    held: bool,
    reason: &str,
) -> Result<(), AppError> {
    let admin = require_admin(ctx).await?;
    let reason = refunds::parse_reason(reason)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let user = users::find_user(&mut tx, seller)
        .await?
        .ok_or(AppError::NotFound)?;
    // The payout job holds this row while it starts a payout: a hold waits for it, and a
    // payout started after the hold sees it.
    storage::payouts::find_account(&mut tx, seller, Read::Locked).await?;
    if !users::set_payouts_held(&mut tx, seller, held, now).await? {
        return Err(AppError::invalid(if held {
            ALREADY_HELD
        } else {
            NOT_HELD
        }));
    }
    let action = if held {
        AuditAction::HoldPayouts
    } else {
        AuditAction::ReleasePayouts
    };
    audit::append(&mut tx, Some(&admin), action, seller.as_str(), &reason, now).await?;
    let url = messages::link(&ctx.settings().public_url, "/payouts");
    let letter = messages::payouts_held(&user.email, held, &reason, &url);
    super::mail::queue(&mut tx, &letter, now).await?;
    tx.commit().await?;
    ctx.mail_queued();
    if !held {
        ctx.payouts_due();
    }
    Ok(())
}

/// Grants or takes away the staff role (door check-in). Admins' own roles are changed on the
/// command line only.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), user_id = %user_id, staff)
)]
pub async fn set_staff(ctx: &Ctx, user_id: &Id, staff: bool, reason: &str) -> Result<(), AppError> {
    let admin = require_admin(ctx).await?;
    let reason = refunds::parse_reason(reason)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    target_user(&mut tx, &admin, user_id).await?;
    if staff {
        users::grant_role(&mut tx, user_id, Role::Staff).await?;
    } else {
        users::revoke_role(&mut tx, user_id, Some(Role::Staff)).await?;
    }
    let action = if staff {
        AuditAction::GrantRole
    } else {
        AuditAction::RevokeRole
    };
    let reason = format!("{}: {reason}", Role::Staff.as_str());
    audit::append(
        &mut tx,
        Some(&admin),
        action,
        user_id.as_str(),
        &reason,
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Entries of the audit log after `after`, oldest first (the API), for admins.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn audit_log(ctx: &Ctx, after: i64, limit: i64) -> Result<Vec<AuditEntry>, AppError> {
    require_admin(ctx).await?;
    Ok(audit::list_after(&mut *ctx.db().read.acquire().await?, after, limit).await?)
}

/// The account an admin acts on: it exists, is not the admin's own, and is not an admin's.
async fn target_user(
    tx: &mut AnyConnection,
    admin: &Id,
    user_id: &Id,
) -> Result<users::UserRow, AppError> {
    let user = users::find_user(tx, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if user_id == admin {
        return Err(AppError::invalid(NOT_YOURSELF));
    }
    if user.roles().is_admin() {
        return Err(AppError::invalid(ADMIN_ACCOUNT));
    }
    Ok(user)
}

/// Takes a seller's listings off sale or puts them back, with an event for each that changed.
async fn set_listings_suspended(
    tx: &mut AnyConnection,
    seller: &Id,
    suspended: bool,
    now: crate::domain::Timestamp,
) -> Result<(), AppError> {
    for id in tickets::set_seller_suspended(tx, seller, suspended, now).await? {
        if let Some(ticket) = tickets::find_ticket(tx, &id).await? {
            event_log::insert_event(
                tx,
                "TicketUpdated",
                &ticket.id,
                super::tickets::event_payload(&ticket),
                now,
            )
            .await?;
        }
    }
    Ok(())
}

async fn email_of(tx: &mut AnyConnection, id: &Id) -> Result<String, AppError> {
    Ok(users::find_user(tx, id)
        .await?
        .ok_or(AppError::NotFound)?
        .email)
}

/// Rows per page of the console's lists.
pub const CONSOLE_PAGE: i64 = 50;

/// The dashboard's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    pub on_sale: i64,
    pub live_reservations: i64,
    /// Sales and what buyers paid, since midnight UTC.
    pub sales_today: (i64, i64),
    /// Sales and what buyers paid, over the last 30 days.
    pub sales_30_days: (i64, i64),
    pub fees_today: i64,
    pub fees_30_days: i64,
    /// Payouts waiting to be sent: how many, and their total.
    pub payouts_pending: (i64, i64),
    pub payouts_failed: (i64, i64),
    pub sellers_held: i64,
}

#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn dashboard(ctx: &Ctx) -> Result<Dashboard, AppError> {
    require_admin(ctx).await?;
    let now = ctx.now();
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let today =
        crate::domain::Timestamp::from_millis(now.millis() - now.millis().rem_euclid(DAY_MS));
    let month = crate::domain::Timestamp::from_millis(now.millis() - 30 * DAY_MS);
    let mut conn = ctx.db().read.acquire().await?;
    use crate::ssr::storage::console;
    Ok(Dashboard {
        on_sale: console::count_on_sale(&mut conn, now).await?,
        live_reservations: console::count_live_reservations(&mut conn, now).await?,
        sales_today: console::sales_since(&mut conn, today).await?,
        sales_30_days: console::sales_since(&mut conn, month).await?,
        fees_today: console::fees_since(&mut conn, today).await?,
        fees_30_days: console::fees_since(&mut conn, month).await?,
        payouts_pending: console::payouts_in(&mut conn, "pending").await?,
        payouts_failed: console::payouts_in(&mut conn, "failed").await?,
        sellers_held: console::count_held_sellers(&mut conn).await?,
    })
}

/// A listing as the console shows it.
#[derive(Debug, Clone)]
pub struct ListingLine {
    pub ticket: Ticket,
    pub seller_email: String,
    pub removed_reason: Option<String>,
}

/// Listings, newest first, optionally searched by title words or id; `page` from 0.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn listings(ctx: &Ctx, search: &str, page: i64) -> Result<Vec<ListingLine>, AppError> {
    require_admin(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    let found =
        tickets::list_for_console(&mut conn, search, CONSOLE_PAGE, page * CONSOLE_PAGE).await?;
    let mut lines = Vec::with_capacity(found.len());
    for ticket in found {
        lines.push(ListingLine {
            seller_email: email_of(&mut conn, &ticket.seller_id).await?,
            removed_reason: tickets::removed_reason(&mut conn, &ticket.id).await?,
            ticket,
        });
    }
    Ok(lines)
}

/// Accounts, newest first, optionally searched by address or id.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn accounts(ctx: &Ctx, search: &str, page: i64) -> Result<Vec<users::UserRow>, AppError> {
    require_admin(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    Ok(users::list_for_console(&mut conn, search, CONSOLE_PAGE, page * CONSOLE_PAGE).await?)
}

/// An order as the console shows it.
#[derive(Debug, Clone)]
pub struct OrderLine {
    pub order: Order,
    pub title: String,
    pub buyer_email: String,
    /// Paid and not refunded: the refund button applies.
    pub refundable: bool,
    pub refunded: bool,
    /// The order's tickets in seat order: each one's id, its seat (`Row A, Seat 3`; `None`
    /// in general admission or for a listing) and whether it was refunded on its own.
    pub tickets: Vec<(Id, Option<String>, bool)>,
}

/// Orders, newest first, optionally searched by order id, ticket id or buyer's address.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn order_lines(ctx: &Ctx, search: &str, page: i64) -> Result<Vec<OrderLine>, AppError> {
    require_admin(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    let found =
        orders::list_for_console(&mut conn, search, CONSOLE_PAGE, page * CONSOLE_PAGE).await?;
    let mut lines = Vec::with_capacity(found.len());
    for order in found {
        let ids: Vec<&Id> = order.ticket_ids().collect();
        let read = tickets::read_tickets(&mut conn, &ids, Read::Plain).await?;
        let title = read
            .iter()
            .find(|t| t.id == order.ticket_id)
            .map(|t| messages::order_title(&t.title, order.lines.len()))
            .unwrap_or_default();
        let seats = order
            .lines
            .iter()
            .map(|line| {
                let seat = read
                    .iter()
                    .find(|t| t.id == line.ticket_id)
                    .and_then(|t| t.event_seat.as_ref()?.seat.clone());
                (line.ticket_id.clone(), seat, line.refunded)
            })
            .collect();
        let charges = storage::charges::list_charges_for_order(&mut conn, &order.id).await?;
        use crate::domain::ChargeStatus;
        lines.push(OrderLine {
            tickets: seats,
            buyer_email: email_of(&mut conn, &order.buyer_id).await?,
            refundable: charges.iter().any(|c| c.status == ChargeStatus::Completed),
            refunded: charges.iter().any(|c| c.status == ChargeStatus::Refunded),
            title,
            order,
        });
    }
    Ok(lines)
}

/// A payout as the console shows it.
#[derive(Debug, Clone)]
pub struct PayoutLine {
    pub payout: crate::domain::payout::Payout,
    pub seller_email: String,
    pub held: bool,
}

/// Payouts, newest first, with whether each seller's payouts are held.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn payout_lines(ctx: &Ctx, page: i64) -> Result<Vec<PayoutLine>, AppError> {
    require_admin(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    let found =
        storage::payouts::list_for_console(&mut conn, CONSOLE_PAGE, page * CONSOLE_PAGE).await?;
    let mut lines = Vec::with_capacity(found.len());
    for payout in found {
        let seller = users::find_user(&mut conn, &payout.seller_id)
            .await?
            .ok_or(AppError::NotFound)?;
        lines.push(PayoutLine {
            seller_email: seller.email,
            held: seller.payouts_held_at.is_some(),
            payout,
        });
    }
    Ok(lines)
}

/// The newest entries of the audit log (before the id `before`, if given), with the actors'
/// addresses.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn latest_audit(
    ctx: &Ctx,
    before: Option<i64>,
) -> Result<Vec<(AuditEntry, Option<String>)>, AppError> {
    require_admin(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    let entries = audit::list_latest(&mut conn, CONSOLE_PAGE, before).await?;
    let mut lines = Vec::with_capacity(entries.len());
    for entry in entries {
        let actor = match &entry.actor_id {
            Some(id) => Some(email_of(&mut conn, id).await?),
            None => None,
        };
        lines.push((entry, actor));
    }
    Ok(lines)
}

/// Whether `given` is the configured admin token (compared by digest, so the time taken says
/// nothing about how much of it was right).
pub fn is_admin_token(settings: &crate::ssr::Settings, given: &str) -> bool {
    use sha2::{Digest, Sha256};
    settings.admin_token.as_ref().is_some_and(|token| {
        Sha256::digest(token.expose().as_bytes()) == Sha256::digest(given.trim().as_bytes())
    })
}

/// The domain-event log after the id `after` (exclusive), oldest first, for integrators: the
/// bearer admin token or an admin's session; 401 otherwise.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn read_events(
    ctx: &Ctx,
    bearer: Option<&str>,
    after: i64,
    limit: i64,
) -> Result<Vec<event_log::EventRow>, AppError> {
    let allowed = match bearer {
        Some(token) => is_admin_token(ctx.settings(), token),
        None => require_admin(ctx).await.is_ok(),
    };
    if !allowed {
        return Err(AppError::Unauthenticated);
    }
    super::feed::number_new_events(ctx).await?;
    Ok(event_log::list_events_after(&mut *ctx.db().read.acquire().await?, after, limit).await?)
}
