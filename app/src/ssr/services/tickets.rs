//! Listings: list, edit, browse and show tickets.

use crate::domain::fees::{check_cap, inherited_face_value};
use crate::domain::ticket::STALE_VERSION;
use crate::domain::{DomainError, Id, Price, Ticket, TicketDraft, Title, Zone};
use crate::error::{AppError, ErrorDetail};
use crate::ssr::Ctx;
use crate::ssr::clock;
use crate::ssr::storage::event_log::insert_event;
use crate::ssr::storage::tickets;
use serde_json::json;

/// A bought ticket already back on sale.
pub const ALREADY_RESOLD: &str = "This ticket is already listed for resale";

pub(super) fn event_payload(ticket: &Ticket) -> serde_json::Value {
    json!({
        "id": ticket.id,
        "title": ticket.title,
        "priceCents": ticket.price.cents(),
        "category": ticket.category,
        "venue": ticket.venue,
        "startsAt": ticket.starts_at.map(|at| at.rfc3339_in(ticket.time_zone)),
        "timeZone": ticket.time_zone,
        "userId": ticket.seller_id,
        "version": ticket.version,
        "status": ticket.status,
        "resoldFrom": ticket.resold_from,
    })
}

/// Puts a new listing on sale for the signed-in seller. With a resale cap set, the listing
/// needs a face value and may ask at most the cap's share of it.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn list_ticket(ctx: &Ctx, draft: TicketDraft) -> Result<Ticket, AppError> {
    let seller = ctx.user()?;
    check_cap(ctx.settings().resale_cap, draft.price, draft.face_value)?;
    let now = ctx.now();
    let id = clock::new_id();
    let mut tx = ctx.db().begin_write().await?;
    let ticket = tickets::insert_ticket(&mut tx, &id, seller, &draft, None, now).await?;
    insert_event(
        &mut tx,
        "TicketCreated",
        &ticket.id,
        event_payload(&ticket),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(ticket)
}

/// The zone the listing form offers: the signed-in seller's last choice, else the site's
/// default (`DEFAULT_TIME_ZONE`).
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn listing_time_zone(ctx: &Ctx) -> Result<Zone, AppError> {
    let last = match ctx.actor() {
        Some(seller) => {
            tickets::last_time_zone(&mut *ctx.db().read.acquire().await?, seller).await?
        }
        None => None,
    };
    Ok(last.unwrap_or(ctx.settings().default_time_zone))
}

/// A seller's change to a listing: the new fields as parsed (their errors are reported only to
/// the seller, after the checks below), and the version the seller edited, if they say.
#[derive(Debug, Clone)]
pub struct EditTicket {
    pub ticket_id: Id,
    pub draft: Result<TicketDraft, DomainError>,
    pub expected_version: Option<i64>,
}

/// Changes a listing. Inside one write transaction: the ticket must exist (404), belong to the
/// signed-in user (403), be neither held nor sold (400), and, when a version is given, still be
/// at that version (409). The draft's own errors come after those checks.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), ticket_id = %input.ticket_id)
)]
pub async fn edit_ticket(ctx: &Ctx, input: EditTicket) -> Result<Ticket, AppError> {
    let user = ctx.user()?;
    let now = ctx.now();
    let ticket_id = &input.ticket_id;
    let mut tx = ctx.db().begin_write().await?;
    let current = tickets::lock_ticket(&mut tx, ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if &current.seller_id != user {
        return Err(AppError::Forbidden);
    }
    let mut draft = input.draft?;
    current.can_be_edited_by(user, now)?;
    // A change that does not give the face value keeps the one the listing has.
    draft.face_value = draft.face_value.or(current.face_value);
    check_cap(ctx.settings().resale_cap, draft.price, draft.face_value)?;
    if input
        .expected_version
        .is_some_and(|version| version != current.version)
    {
        return Err(AppError::Conflict(ErrorDetail::field(
            "version",
            STALE_VERSION,
        )));
    }
    // A lapsed reservation is recorded as expired before the edit lands (it moves the version).
    let version = if super::orders::release_lapsed_hold(&mut tx, &current, now).await? {
        tickets::find_ticket(&mut tx, ticket_id)
            .await?
            .ok_or(AppError::NotFound)?
            .version
    } else {
        current.version
    };
    let updated = tickets::update_ticket_fields(&mut tx, ticket_id, version, &draft, now)
        .await?
        .ok_or_else(|| AppError::Conflict(ErrorDetail::field("version", STALE_VERSION)))?;
    insert_event(
        &mut tx,
        "TicketUpdated",
        &updated.id,
        event_payload(&updated),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(updated)
}

/// One listing in any status.
#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), ticket_id = %id)
)]
pub async fn get_ticket(ctx: &Ctx, id: &Id) -> Result<Ticket, AppError> {
    tickets::find_ticket(&mut *ctx.db().read.acquire().await?, id)
        .await?
        .ok_or(AppError::NotFound)
}

/// What the signed-in user holds: every ticket they have held a code for (with that code and
/// its state: valid, used, or revoked by a resale, transfer or refund) and the ones they list,
/// newest first.
pub struct MyTickets {
    pub bought: Vec<HeldTicket>,
    pub selling: Vec<Ticket>,
}

pub struct HeldTicket {
    pub ticket: Ticket,
    pub code: crate::ssr::storage::codes::StoredCode,
    /// The listing its holder made to resell it, if any.
    pub resale_id: Option<Id>,
    /// The address a transfer of it waits on, if any.
    pub pending_transfer: Option<String>,
}

#[tracing::instrument(
    level = "debug",
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display))
)]
pub async fn my_tickets(ctx: &Ctx) -> Result<MyTickets, AppError> {
    let user = ctx.user()?;
    let mut conn = ctx.db().read.acquire().await?;
    let mut bought = Vec::new();
    for code in crate::ssr::storage::codes::list_held(&mut conn, user).await? {
        let Some(ticket) = tickets::find_ticket(&mut conn, &code.ticket_id).await? else {
            continue;
        };
        let resale_id = tickets::resale_of(&mut conn, &ticket.id).await?;
        let pending_transfer = if code.status == crate::domain::custody::CodeStatus::Valid {
            super::transfers::pending_to(&mut conn, &ticket.id).await?
        } else {
            None
        };
        bought.push(HeldTicket {
            ticket,
            code,
            resale_id,
            pending_transfer,
        });
    }
    Ok(MyTickets {
        bought,
        selling: tickets::list_tickets_by_seller(&mut conn, user).await?,
    })
}

/// A bought ticket to put back on sale, at this price.
#[derive(Debug, Clone)]
pub struct ResellTicket {
    pub ticket_id: Id,
    pub price: Price,
    /// Used only when the original listing gave no face value (else the original's counts).
    pub face_value: Option<Price>,
}

/// Puts a bought ticket back on sale as a new listing linked to it (`resold_from`). Only its
/// owner may, and only once.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), ticket_id = %input.ticket_id)
)]
pub async fn resell_ticket(ctx: &Ctx, input: ResellTicket) -> Result<Ticket, AppError> {
    let owner = ctx.user()?;
    let now = ctx.now();
    let (ticket_id, price) = (&input.ticket_id, input.price);
    let mut tx = ctx.db().begin_write().await?;
    let bought = tickets::lock_ticket(&mut tx, ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if tickets::find_owner(&mut tx, ticket_id).await?.as_ref() != Some(owner) {
        return Err(AppError::Forbidden);
    }
    if tickets::resale_of(&mut tx, ticket_id).await?.is_some() {
        return Err(AppError::invalid(ALREADY_RESOLD));
    }
    super::custody::check_transferable(&mut tx, ticket_id, owner).await?;
    if crate::ssr::storage::transfers::pending_for_ticket(&mut tx, ticket_id)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(super::transfers::PENDING));
    }
    // The face value travels with the ticket: the original listing's, or what was paid for it.
    let face_value = inherited_face_value(bought.face_value.or(input.face_value), bought.price);
    // A seat of an event follows the event's resale rule.
    let cap = match &bought.event_seat {
        Some(seat) => crate::ssr::storage::events::find_event(&mut tx, &seat.event_id)
            .await?
            .ok_or(AppError::NotFound)?
            .resale_cap(ctx.settings().resale_cap)?,
        None => ctx.settings().resale_cap,
    };
    check_cap(cap, price, Some(face_value))?;
    let draft = TicketDraft {
        title: Title::parse(&bought.title)?,
        price,
        face_value: Some(face_value),
        category: bought.category,
        venue: bought.venue.clone(),
        starts_at: bought.starts_at,
        time_zone: bought.time_zone,
    };
    let mut listing = match tickets::insert_ticket(
        &mut tx,
        &clock::new_id(),
        owner,
        &draft,
        Some(ticket_id),
        now,
    )
    .await
    {
        Err(err)
            if crate::ssr::storage::refused_by(&err)
                == Some(crate::ssr::storage::Guard::ResoldOnce) =>
        {
            return Err(AppError::invalid(ALREADY_RESOLD));
        }
        other => other?,
    };
    // A resale of an event's seat is listed under its event, section and seat.
    if let Some(seat) = &bought.event_seat {
        tickets::place_at_seat(&mut tx, &listing.id, seat).await?;
        listing.event_seat = Some(seat.clone());
    }
    insert_event(
        &mut tx,
        "TicketCreated",
        &listing.id,
        event_payload(&listing),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(listing)
}
