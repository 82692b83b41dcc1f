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
#[server(prefix = "/_fn", endpoint = "pay_with_test_card")]
pub async fn pay_with_test_card(order_id: String, card_number: String) -> Result<(), AppError> {
    use crate::ssr::payments::test_mode::token_for_test_card;
    use crate::ssr::{fn_context, services, session};
    let state = fn_context::state()?;
    let buyer = session::user_id(&fn_context::session().await?)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let order_id = crate::domain::Id::parse(&order_id).map_err(|_| AppError::NotFound)?;
    let token = token_for_test_card(&card_number).ok_or_else(|| {
        AppError::invalid_field(
            "card_number",
            "Test mode takes only Stripe's test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined",
        )
    })?;
    let currency = &state.settings.currency;
    services::payments::pay_order(
        &state.db,
        &state.gateway,
        &state.payments,
        &buyer,
        &order_id,
        token,
        currency,
        state.clock.now(),
    )
    .await?;
    Ok(())
}

/// Stripe: sends the browser to a Stripe Checkout page for the order.
#[server(prefix = "/_fn", endpoint = "start_checkout")]
pub async fn start_checkout(order_id: String) -> Result<(), AppError> {
    use crate::ssr::{fn_context, services, session};
    let state = fn_context::state()?;
    let buyer = session::user_id(&fn_context::session().await?)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let order_id = crate::domain::Id::parse(&order_id).map_err(|_| AppError::NotFound)?;
    let url = services::payments::start_checkout(
        &state.db,
        &*state.gateway,
        &buyer,
        &order_id,
        &state.settings.currency,
        &state.settings.public_url,
        &*state.clock,
    )
    .await?;
    leptos_axum::redirect(&url);
    Ok(())
}

/// A ticket I bought: the code that gets me in, as text and as a QR code (SVG made on the
/// server), and its resale listing if I put it back on sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoughtTicketView {
    pub ticket: TicketView,
    pub code: String,
    pub qr_svg: String,
    pub resale_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyTicketsView {
    pub bought: Vec<BoughtTicketView>,
    pub selling: Vec<TicketView>,
}

#[server(prefix = "/_fn", endpoint = "my_tickets")]
pub async fn my_tickets() -> Result<MyTicketsView, AppError> {
    use crate::ssr::{fn_context, services, session};
    let state = fn_context::state()?;
    let user = session::user_id(&fn_context::session().await?)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let now = state.clock.now();
    let currency = &state.settings.currency;
    let bought = services::tickets::list_bought_tickets(&state.db, &user)
        .await?
        .into_iter()
        .map(|owned| BoughtTicketView {
            ticket: TicketView::new(&owned.ticket, Some(&user), currency, now),
            qr_svg: crate::ssr::qr::svg(&owned.code),
            code: owned.code,
            resale_id: owned.resale_id.map(|id| id.to_string()),
        })
        .collect();
    let selling = services::tickets::list_seller_tickets(&state.db, &user)
        .await?
        .iter()
        .map(|t| TicketView::new(t, Some(&user), currency, now))
        .collect();
    Ok(MyTicketsView { bought, selling })
}

/// Puts a bought ticket back on sale at `price`, then shows the new listing.
#[server(prefix = "/_fn", endpoint = "resell_ticket")]
pub async fn resell_ticket(ticket_id: String, price: String) -> Result<String, AppError> {
    use crate::ssr::{fn_context, services, session};
    let state = fn_context::state()?;
    let owner = session::user_id(&fn_context::session().await?)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let ticket_id = crate::domain::Id::parse(&ticket_id).map_err(|_| AppError::NotFound)?;
    let price = crate::domain::Price::from_text(&price)?;
    let listing =
        services::tickets::resell_ticket(&state.db, &owner, &ticket_id, price, state.clock.now())
            .await?;
    leptos_axum::redirect(&format!("/tickets/{}", listing.id));
    Ok(listing.id.to_string())
}
