//! Paying from the order page (test-mode card form, or Stripe Checkout), the test-mode banner,
//! and "My tickets" with the QR codes and resale.

use super::TicketView;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Which payment path the pages offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMode {
    /// The built-in test gateway is active: no real money moves.
    pub test_mode: bool,
}

#[server(prefix = "/_fn", endpoint = "payment_mode")]
pub async fn get_payment_mode() -> Result<PaymentMode, AppError> {
    use crate::ssr::payments::PaymentGateway;
    let state = crate::ssr::fn_context::state()?;
    Ok(PaymentMode {
        test_mode: state.gateway.is_test_mode(),
    })
}

/// Test mode's card form: Stripe's test card numbers only; the card is never stored.
#[server(prefix = "/_fn", endpoint = "pay_order")]
pub async fn pay_order(order_id: String, card_number: String) -> Result<(), AppError> {
    use crate::ssr::payments::test_mode::token_for_test_card;
    use crate::ssr::services::payments::{self, PayOrder};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let order_id = crate::domain::Id::parse(&order_id)?;
    let token = token_for_test_card(&card_number).ok_or_else(|| {
        AppError::invalid_field(
            "card_number",
            "Test mode takes only Stripe's test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined",
        )
    })?;
    let input = PayOrder {
        order_id,
        token: token.to_string(),
    };
    payments::pay_order(&ctx, input).await?;
    Ok(())
}

/// Stripe: sends the browser to a Stripe Checkout page for the order.
#[server(prefix = "/_fn", endpoint = "start_checkout")]
pub async fn start_checkout(order_id: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let order_id = crate::domain::Id::parse(&order_id)?;
    let url = crate::ssr::services::payments::start_checkout(&ctx, &order_id).await?;
    leptos_axum::redirect(&url);
    Ok(())
}

/// A ticket I hold or held: the code that gets me in, as text and as a QR code (SVG made on the
/// server) while it is valid, what became of it otherwise, and its resale listing if I put it
/// back on sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoughtTicketView {
    pub ticket: TicketView,
    /// `valid`, `used` or `revoked`.
    pub code_status: String,
    /// The code while it still admits (or admitted) its holder; none once revoked.
    pub code: Option<String>,
    pub qr_svg: Option<String>,
    /// Why the code no longer admits anyone ("Resold — …", "Used at the door on …").
    pub note: Option<String>,
    pub resale_id: Option<String>,
    /// The address a transfer waits on (until that person makes an account).
    pub pending_transfer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyTicketsView {
    pub bought: Vec<BoughtTicketView>,
    pub selling: Vec<TicketView>,
}

#[server(prefix = "/_fn", endpoint = "my_tickets")]
pub async fn my_tickets() -> Result<MyTicketsView, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let mine = crate::ssr::services::tickets::my_tickets(&ctx).await?;
    Ok(MyTicketsView {
        bought: mine
            .bought
            .into_iter()
            .map(|held| {
                use crate::domain::custody::CodeStatus;
                let status = held.code.status;
                let code = (status != CodeStatus::Revoked).then(|| held.code.code.clone());
                BoughtTicketView {
                    ticket: TicketView::new(&held.ticket, &ctx),
                    code_status: status.as_str().to_string(),
                    qr_svg: code
                        .as_deref()
                        .filter(|_| status == CodeStatus::Valid)
                        .map(crate::ssr::qr::svg),
                    code,
                    note: match status {
                        CodeStatus::Valid => None,
                        CodeStatus::Used => Some(format!(
                            "Used at the door on {}",
                            held.code.used_at.unwrap_or(ctx.now()).to_display()
                        )),
                        CodeStatus::Revoked => Some(
                            held.code
                                .revoked_why
                                .map_or("This code is no longer valid", |why| why.explain())
                                .to_string(),
                        ),
                    },
                    resale_id: held.resale_id.map(|id| id.to_string()),
                    pending_transfer: held.pending_transfer,
                }
            })
            .collect(),
        selling: mine
            .selling
            .iter()
            .map(|t| TicketView::new(t, &ctx))
            .collect(),
    })
}

/// Puts a bought ticket back on sale at `price`, then shows the new listing.
#[server(prefix = "/_fn", endpoint = "resell_ticket")]
pub async fn resell_ticket(ticket_id: String, price: String) -> Result<String, AppError> {
    use crate::ssr::services::tickets::{self, ResellTicket};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let input = ResellTicket {
        ticket_id: crate::domain::Id::parse(&ticket_id)?,
        price: crate::domain::Price::from_text(&price)?,
        face_value: None,
    };
    let listing = tickets::resell_ticket(&ctx, input).await?;
    leptos_axum::redirect(&format!("/tickets/{}", listing.id));
    Ok(listing.id.to_string())
}

/// Gives a bought ticket to someone by email, then shows My tickets again.
#[server(prefix = "/_fn", endpoint = "transfer_ticket")]
pub async fn transfer_ticket(ticket_id: String, email: String) -> Result<bool, AppError> {
    use crate::ssr::services::transfers::{self, TransferTicket};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let input = TransferTicket {
        ticket_id: crate::domain::Id::parse(&ticket_id)?,
        email,
    };
    let done = transfers::transfer_ticket(&ctx, input).await?;
    leptos_axum::redirect(if done.completed {
        "/tickets/mine?notice=transferred"
    } else {
        "/tickets/mine?notice=invited"
    });
    Ok(done.completed)
}

#[server(prefix = "/_fn", endpoint = "cancel_transfer")]
pub async fn cancel_transfer(ticket_id: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    crate::ssr::services::transfers::cancel_transfer(&ctx, &crate::domain::Id::parse(&ticket_id)?)
        .await?;
    leptos_axum::redirect("/tickets/mine?notice=transfer-cancelled");
    Ok(())
}
