//! Browsing, listing and editing tickets from the pages.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A ticket as pages show it, formatted on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketView {
    pub id: String,
    pub title: String,
    pub price_cents: i64,
    /// `$20.50`
    pub price: String,
    /// `20.50`, for inputs and for the Buy form.
    pub price_input: String,
    /// The buyer's fee, `$2.05`, when there is one.
    pub buyer_fee: Option<String>,
    /// What a buyer pays, `$22.55`.
    pub total: String,
    /// What the seller receives after the seller's fee, when there is one (`$19.47`).
    pub seller_net: Option<String>,
    /// The face value, `$20.00`, when the listing gives one.
    pub face_value: Option<String>,
    /// `20.00` or empty, for the form.
    pub face_value_input: String,
    pub category: String,
    pub category_label: String,
    pub venue: Option<String>,
    /// `Row C, Seat 12` for a seat of an event's seated section.
    #[serde(default)]
    pub seat: Option<String>,
    /// At the venue: `Thu 31 Dec 2026, 20:00 GMT` (`… UTC` for a listing without a zone).
    pub starts_at: Option<String>,
    /// RFC 3339 with the venue's offset, for `<time datetime>`.
    pub starts_at_rfc3339: Option<String>,
    /// `2026-12-31T20:00` on the venue's clock, for date-time inputs.
    pub starts_at_input: String,
    /// The venue's IANA time zone (`Europe/London`), when the listing has one.
    pub time_zone: Option<String>,
    /// `available`, `reserved` or `sold`, as of the request.
    pub status: String,
    pub version: i64,
    pub is_mine: bool,
}

#[cfg(feature = "ssr")]
impl TicketView {
    /// The ticket as whoever `ctx` acts for sees it now.
    pub fn new(ticket: &crate::domain::Ticket, ctx: &crate::ssr::Ctx) -> TicketView {
        let (now, currency) = (ctx.now(), ctx.settings().currency.as_str());
        let amounts = ctx.settings().fees.breakdown(ticket.price);
        TicketView {
            id: ticket.id.to_string(),
            title: ticket.title.clone(),
            price_cents: ticket.price.cents(),
            price: crate::domain::format_money(ticket.price.cents(), currency),
            price_input: ticket.price.to_input(),
            buyer_fee: (amounts.buyer_fee_cents > 0)
                .then(|| crate::domain::format_money(amounts.buyer_fee_cents, currency)),
            total: crate::domain::format_money(amounts.total_cents, currency),
            seller_net: (amounts.seller_fee_cents > 0)
                .then(|| crate::domain::format_money(amounts.seller_net_cents, currency)),
            face_value: ticket
                .face_value
                .map(|f| crate::domain::format_money(f.cents(), currency)),
            face_value_input: ticket.face_value.map(|f| f.to_input()).unwrap_or_default(),
            category: ticket.category.as_str().to_string(),
            category_label: ticket.category.label().to_string(),
            venue: ticket.venue.clone(),
            seat: ticket
                .event_seat
                .as_ref()
                .and_then(|place| place.seat.clone()),
            starts_at: ticket.starts_at.map(|at| at.display_in(ticket.time_zone)),
            starts_at_rfc3339: ticket.starts_at.map(|at| at.rfc3339_in(ticket.time_zone)),
            starts_at_input: ticket
                .starts_at
                .map(|at| at.datetime_local_in(ticket.time_zone))
                .unwrap_or_default(),
            time_zone: ticket.time_zone.map(|zone| zone.name().to_string()),
            status: ticket.status_at(now).as_str().to_string(),
            version: ticket.version,
            is_mine: ctx.actor() == Some(&ticket.seller_id),
        }
    }
}

/// One page of the browse listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketPageView {
    pub tickets: Vec<TicketView>,
    pub page: i64,
    pub total: i64,
    /// `None` when more listings match than are counted.
    pub total_pages: Option<i64>,
    pub has_next: bool,
}

#[server(prefix = "/_fn", endpoint = "browse_tickets")]
pub async fn browse_tickets(
    q: Option<String>,
    category: Option<String>,
    sort: Option<String>,
    page: Option<String>,
) -> Result<TicketPageView, AppError> {
    use crate::domain::BrowseQuery;
    use crate::ssr::services::browse;
    let ctx = crate::ssr::fn_context::ctx().await?;
    let query = BrowseQuery {
        q,
        category,
        sort,
        page,
        event_id: None,
    };
    let (filter, number) = browse::other_listings_filter(&query)?;
    let page = browse::browse_filtered(&ctx, filter.clone(), number).await?;
    // A render that may be kept (the page cache) learns which page it showed.
    if let Some(parts) = leptos::prelude::use_context::<http::request::Parts>()
        && let Some(seen) = parts.extensions.get::<browse::PageSeen>()
    {
        seen.note(filter, page.version);
    }
    Ok(TicketPageView {
        tickets: page
            .tickets
            .iter()
            .map(|t| TicketView::new(t, &ctx))
            .collect(),
        page: page.page,
        total: page.total,
        total_pages: page.total_pages(),
        has_next: page.has_next,
    })
}

#[server(prefix = "/_fn", endpoint = "get_ticket")]
pub async fn get_ticket(id: String) -> Result<TicketView, AppError> {
    let ctx = crate::ssr::fn_context::ctx().await?;
    let id = crate::domain::Id::parse(&id)?;
    let ticket = crate::ssr::services::tickets::get_ticket(&ctx, &id).await?;
    Ok(TicketView::new(&ticket, &ctx))
}

/// The listing form's fields, as typed.
#[cfg(feature = "ssr")]
fn parse_form_draft(
    title: &str,
    price: &str,
    face_value: Option<&str>,
    category: Option<&str>,
    venue: Option<&str>,
    starts_at: Option<&str>,
    time_zone: Option<&str>,
) -> Result<crate::domain::TicketDraft, crate::domain::DomainError> {
    use crate::domain::{Price, TicketDraft, Title};
    TicketDraft::parse(
        Title::parse(title),
        Price::from_text(price),
        crate::domain::money::face_value_from_text(face_value),
        Ok(category),
        Ok(venue),
        Ok(starts_at),
        Ok(time_zone),
    )
}

/// The time zone the listing form starts on: the seller's last choice, else the site's default.
#[server(prefix = "/_fn", endpoint = "listing_time_zone")]
pub async fn listing_time_zone() -> Result<String, AppError> {
    let ctx = crate::ssr::fn_context::ctx().await?;
    let zone = crate::ssr::services::tickets::listing_time_zone(&ctx).await?;
    Ok(zone.name().to_string())
}

#[server(prefix = "/_fn", endpoint = "list_ticket")]
pub async fn list_ticket(
    title: String,
    price: String,
    category: Option<String>,
    venue: Option<String>,
    starts_at: Option<String>,
    face_value: Option<String>,
    time_zone: Option<String>,
) -> Result<String, AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let draft = parse_form_draft(
        &title,
        &price,
        face_value.as_deref(),
        category.as_deref(),
        venue.as_deref(),
        starts_at.as_deref(),
        time_zone.as_deref(),
    );
    let ticket = crate::ssr::services::tickets::list_ticket(&ctx, draft?).await?;
    leptos_axum::redirect(&format!("/tickets/{}", ticket.id));
    Ok(ticket.id.to_string())
}

#[server(prefix = "/_fn", endpoint = "edit_ticket")]
#[allow(clippy::too_many_arguments)]
pub async fn edit_ticket(
    id: String,
    version: Option<i64>,
    title: String,
    price: String,
    category: Option<String>,
    venue: Option<String>,
    starts_at: Option<String>,
    face_value: Option<String>,
    time_zone: Option<String>,
) -> Result<TicketView, AppError> {
    use crate::ssr::services::tickets::{self, EditTicket};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let input = EditTicket {
        ticket_id: crate::domain::Id::parse(&id)?,
        draft: parse_form_draft(
            &title,
            &price,
            face_value.as_deref(),
            category.as_deref(),
            venue.as_deref(),
            starts_at.as_deref(),
            time_zone.as_deref(),
        ),
        expected_version: version,
    };
    let ticket = tickets::edit_ticket(&ctx, input).await?;
    Ok(TicketView::new(&ticket, &ctx))
}
