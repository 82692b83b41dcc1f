//! Giving a ticket to a friend (docs/RULES.md, "Entry codes"): free, by email. To an existing
//! account the ticket and a new code move at once, and the sender's code is revoked in the same
//! transaction; to an unknown address the transfer waits until an account is made with it (the
//! sender may cancel until then).

use crate::domain::custody::Revocation;
use crate::domain::{Email, Id, Timestamp};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::mail::messages;
use crate::ssr::services::mail;
use crate::ssr::storage::event_log::insert_event;
use crate::ssr::storage::transfers::{self, NewTransfer, PendingTransfer};
use crate::ssr::storage::{tickets, users};
use sqlx::AnyConnection;

pub const LISTED: &str = "A ticket listed for resale cannot be transferred";
pub const PENDING: &str = "This ticket is already being transferred; cancel that first";
pub const TO_SELF: &str = "You already hold this ticket";
pub const NO_PENDING: &str = "This ticket has no pending transfer";

#[derive(Debug, Clone)]
pub struct TransferTicket {
    pub ticket_id: Id,
    pub email: String,
}

/// The answer: to whom, and whether it is done or waits for an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transferred {
    pub ticket_id: Id,
    pub email: String,
    pub completed: bool,
}

#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), ticket_id = %input.ticket_id)
)]
pub async fn transfer_ticket(ctx: &Ctx, input: TransferTicket) -> Result<Transferred, AppError> {
    let sender = ctx.user()?.clone();
    let email = Email::parse(&input.email)?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    let ticket = tickets::lock_ticket(&mut tx, &input.ticket_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if tickets::find_owner(&mut tx, &ticket.id).await?.as_ref() != Some(&sender) {
        return Err(AppError::Forbidden);
    }
    if tickets::resale_of(&mut tx, &ticket.id).await?.is_some() {
        return Err(AppError::invalid(LISTED));
    }
    super::custody::check_transferable(&mut tx, &ticket.id, &sender).await?;
    if transfers::pending_for_ticket(&mut tx, &ticket.id)
        .await?
        .is_some()
    {
        return Err(AppError::invalid(PENDING));
    }
    let recipient = users::find_id_by_email(&mut tx, &email).await?;
    if recipient.as_ref() == Some(&sender) {
        return Err(AppError::invalid_field("email", TO_SELF));
    }
    if let Some(recipient) = &recipient
        && let Err(message) = within_limit(&mut tx, &ticket, recipient, now).await?
    {
        return Err(AppError::invalid_field("email", &message));
    }
    let sender_email = users::find_user(&mut tx, &sender)
        .await?
        .ok_or(AppError::Unauthenticated)?
        .email;
    let id = crate::ssr::clock::new_id();
    transfers::insert_transfer(
        &mut tx,
        &NewTransfer {
            id: &id,
            ticket_id: &ticket.id,
            sender_id: &sender,
            email: email.as_str(),
            recipient_id: recipient.as_ref(),
        },
        now,
    )
    .await?;
    let settings = ctx.settings();
    match &recipient {
        Some(recipient) => {
            move_ticket(&mut tx, &ticket.id, &sender, recipient, now).await?;
            let letter = messages::ticket_received(
                email.as_str(),
                &sender_email,
                &ticket.title,
                &messages::link(&settings.public_url, "/tickets/mine"),
            );
            mail::queue(&mut tx, &letter, now).await?;
        }
        None => {
            let signup = format!("/auth/signup?email={}", url_escape(email.as_str()));
            let letter = messages::transfer_invitation(
                email.as_str(),
                &sender_email,
                &ticket.title,
                &messages::link(&settings.public_url, &signup),
            );
            mail::queue(&mut tx, &letter, now).await?;
        }
    }
    tx.commit().await?;
    ctx.mail_queued();
    Ok(Transferred {
        ticket_id: ticket.id,
        email: email.as_str().to_string(),
        completed: recipient.is_some(),
    })
}

/// The sender takes back a transfer still waiting for its recipient.
#[tracing::instrument(
    skip_all,
    fields(user = ctx.actor().map(tracing::field::display), ticket_id = %ticket_id)
)]
pub async fn cancel_transfer(ctx: &Ctx, ticket_id: &Id) -> Result<(), AppError> {
    let sender = ctx.user()?;
    let mut tx = ctx.db().begin_write().await?;
    let pending = transfers::pending_for_ticket(&mut tx, ticket_id).await?;
    match pending {
        Some(transfer) if &transfer.sender_id == sender => {
            transfers::settle(&mut tx, &transfer.id, None, ctx.now()).await?;
            tx.commit().await?;
            Ok(())
        }
        Some(_) => Err(AppError::Forbidden),
        None => Err(AppError::invalid(NO_PENDING)),
    }
}

/// The email a pending transfer waits on, for the holder's page.
#[tracing::instrument(level = "debug", skip_all, fields(ticket_id = %ticket_id))]
pub async fn pending_to(
    conn: &mut AnyConnection,
    ticket_id: &Id,
) -> Result<Option<String>, AppError> {
    Ok(transfers::pending_for_ticket(conn, ticket_id)
        .await?
        .map(|t| t.email))
}

/// A new account was made with `email`, inside its transaction: every transfer waiting for
/// that address completes now, unless its ticket can no longer pass (used at the door, listed,
/// or no longer the sender's), in which case it is cancelled.
#[tracing::instrument(skip_all, fields(user_id = %user))]
pub async fn complete_for_new_account(
    conn: &mut AnyConnection,
    user: &Id,
    email: &Email,
    now: Timestamp,
) -> Result<usize, AppError> {
    let mut completed = 0;
    for transfer in transfers::pending_for_email(conn, email.as_str()).await? {
        let within = match tickets::find_ticket(conn, &transfer.ticket_id).await? {
            Some(ticket) => within_limit(conn, &ticket, user, now).await?.is_ok(),
            None => false,
        };
        if within && still_transferable(conn, &transfer).await? {
            transfers::settle(conn, &transfer.id, Some(user), now).await?;
            move_ticket(conn, &transfer.ticket_id, &transfer.sender_id, user, now).await?;
            completed += 1;
        } else {
            transfers::settle(conn, &transfer.id, None, now).await?;
        }
    }
    Ok(completed)
}

/// Whether `recipient` may hold one more ticket of `ticket`'s event (its per-buyer limit, as a
/// purchase counts it); the refusal names the limit. Tickets without an event have none. The
/// recipient's row is held, so their reservations and this count take turns.
async fn within_limit(
    conn: &mut AnyConnection,
    ticket: &crate::domain::Ticket,
    recipient: &Id,
    now: Timestamp,
) -> Result<Result<(), String>, AppError> {
    let Some(seat) = &ticket.event_seat else {
        return Ok(Ok(()));
    };
    let Some(event) = crate::ssr::storage::events::find_event(conn, &seat.event_id).await? else {
        return Ok(Ok(()));
    };
    users::lock_user(conn, recipient).await?;
    let held = crate::ssr::storage::orders::tickets_held_for_event(conn, recipient, &event.id, now)
        .await?;
    Ok(crate::domain::order::within_holding_limit(
        held.max(0) as usize,
        1,
        event.max_per_buyer,
    ))
}

async fn still_transferable(
    conn: &mut AnyConnection,
    transfer: &PendingTransfer,
) -> Result<bool, AppError> {
    if tickets::find_owner(conn, &transfer.ticket_id)
        .await?
        .as_ref()
        != Some(&transfer.sender_id)
        || tickets::resale_of(conn, &transfer.ticket_id)
            .await?
            .is_some()
    {
        return Ok(false);
    }
    Ok(
        super::custody::check_transferable(conn, &transfer.ticket_id, &transfer.sender_id)
            .await
            .is_ok(),
    )
}

/// The ticket and a new code go to `to`; the sender's code is revoked.
async fn move_ticket(
    conn: &mut AnyConnection,
    ticket_id: &Id,
    from: &Id,
    to: &Id,
    now: Timestamp,
) -> Result<(), AppError> {
    tickets::set_owner(conn, ticket_id, to, now).await?;
    super::custody::hand_over(conn, ticket_id, to, Revocation::Transferred, now).await?;
    insert_event(
        conn,
        "TicketTransferred",
        ticket_id,
        serde_json::json!({ "id": ticket_id, "from": from, "to": to }),
        now,
    )
    .await?;
    Ok(())
}

/// `text` for a URL query value.
fn url_escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
