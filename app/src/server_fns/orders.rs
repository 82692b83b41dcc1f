//! Reserving a ticket, showing and cancelling orders, for the pages.

use super::TicketView;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An order as pages show it, formatted on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    /// `created`, `awaiting:payment`, `complete` or `cancelled`, as of the request.
    pub status: String,
    /// `$20.50`: the listing's price when it was reserved.
    pub price: String,
    /// The buyer's fee fixed at reservation, `$2.05`, when there is one.
    pub fee: Option<String>,
    /// What the buyer pays: price and fee.
    pub total: String,
    /// RFC 3339.
    pub expires_at: String,
    /// Milliseconds of the reservation window left when the server answered.
    pub millis_left: i64,
    pub ticket: TicketView,
    /// How many tickets the order holds.
    pub count: usize,
    /// Each ticket's seat (`Row C, Seat 12`), in seat order, for those that have one.
    pub seats: Vec<String>,
    /// Why the last payment did not go through (a decline, or late money given back).
    pub payment_problem: Option<String>,
}

impl OrderView {
    /// Holds its ticket: the buyer can still pay or cancel.
    pub fn is_live(&self) -> bool {
        matches!(self.status.as_str(), "created" | "awaiting:payment") && self.millis_left > 0
    }

    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "created" | "awaiting:payment" => "Reserved for you",
            "complete" => "Paid",
            _ => "Cancelled",
        }
    }
}

#[cfg(feature = "ssr")]
impl OrderView {
    /// The order as its buyer sees it now.
    fn new(
        found: &crate::ssr::services::orders::OrderWithTicket,
        ctx: &crate::ssr::Ctx,
    ) -> OrderView {
        let (order, now) = (&found.order, ctx.now());
        OrderView {
            id: order.id.to_string(),
            status: order.status_at(now).as_str().to_string(),
            price: crate::domain::format_money(order.price.cents(), &ctx.settings().currency),
            fee: (order.buyer_fee_cents > 0).then(|| {
                crate::domain::format_money(order.buyer_fee_cents, &ctx.settings().currency)
            }),
            total: crate::domain::format_money(order.total_cents(), &ctx.settings().currency),
            expires_at: order.expires_at.to_rfc3339(),
            millis_left: order.millis_left_at(now),
            ticket: TicketView::new(&found.ticket, ctx),
            count: found.tickets.len(),
            seats: found
                .tickets
                .iter()
                .filter_map(|t| t.event_seat.as_ref().and_then(|s| s.seat.clone()))
                .collect(),
            payment_problem: None,
        }
    }
}

/// Reserves a ticket at the price the page showed (`price`, as typed in the hidden input) and
/// sends the buyer to their order. A changed price comes back as a 409 for the page to show.
#[server(prefix = "/_fn", endpoint = "reserve_ticket")]
pub async fn reserve_ticket(ticket_id: String, price: String) -> Result<String, AppError> {
    use crate::domain::{Id, Price};
    use crate::ssr::services::orders::{self, ReserveTicket};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let input = ReserveTicket {
        ticket_id: Id::parse(&ticket_id)?,
        seen_price: Some(Price::from_text(&price)?),
    };
    let reserved = orders::reserve_ticket(&ctx, input).await?;
    leptos_axum::redirect(&format!("/orders/{}", reserved.order.id));
    Ok(reserved.order.id.to_string())
}

#[server(prefix = "/_fn", endpoint = "get_order")]
pub async fn get_order(id: String) -> Result<OrderView, AppError> {
    use crate::ssr::services::{orders, payments};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&id)?;
    let found = orders::get_order(&ctx, &id).await?;
    let charges = payments::list_order_charges(&ctx, &id).await?;
    let mut view = OrderView::new(&found, &ctx);
    view.payment_problem = charges.last().and_then(|charge| match charge.status {
        crate::domain::ChargeStatus::Failed | crate::domain::ChargeStatus::Refunded => {
            charge.failure_message.clone()
        }
        _ => None,
    });
    Ok(view)
}

#[server(prefix = "/_fn", endpoint = "list_orders")]
pub async fn list_orders() -> Result<Vec<OrderView>, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let listed = crate::ssr::services::orders::list_orders(&ctx).await?;
    Ok(listed.iter().map(|o| OrderView::new(o, &ctx)).collect())
}

#[server(prefix = "/_fn", endpoint = "cancel_order")]
pub async fn cancel_order(id: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&id)?;
    crate::ssr::services::orders::cancel_order(&ctx, &id).await?;
    Ok(())
}
