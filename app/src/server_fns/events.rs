//! The event catalogue (`/`), an event's page (`/events/:slug`) and buying a seat of a section.

use super::TicketView;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An event as its card on the home page shows it, formatted on the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventCardView {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub category: String,
    pub category_label: String,
    pub venue: String,
    pub city: String,
    /// On the venue's clock: `Sat 5 Dec 2026, 19:30 GMT`.
    pub starts_at: String,
    /// RFC 3339 with the venue's offset, for `<time datetime>`.
    pub starts_at_rfc3339: String,
    /// `/media/…` (400 px wide at most), when it has an image.
    pub image_url: Option<String>,
    /// The lowest price of a section with seats on sale: `$40.00`.
    pub from_price: Option<String>,
    /// The lowest price of its resale listings on sale.
    pub resale_from: Option<String>,
    /// `draft`, `published` or `cancelled`.
    pub status: String,
}

#[cfg(feature = "ssr")]
impl EventCardView {
    fn new(details: &crate::ssr::services::events::EventDetails, currency: &str) -> EventCardView {
        use crate::domain::format_money;
        let event = &details.event;
        EventCardView {
            id: event.id.to_string(),
            slug: event.slug.clone(),
            name: event.name.clone(),
            category: event.category.as_str().to_string(),
            category_label: event.category.label().to_string(),
            venue: event.venue.clone(),
            city: event.city.clone(),
            starts_at: event.time_zone.display(event.starts_at),
            starts_at_rfc3339: event.time_zone.rfc3339(event.starts_at),
            image_url: event
                .image_small
                .as_ref()
                .map(|image| format!("/media/{image}")),
            from_price: details
                .from_price()
                .map(|p| format_money(p.cents(), currency)),
            resale_from: details
                .resale_from
                .map(|p| format_money(p.cents(), currency)),
            status: event.status.as_str().to_string(),
        }
    }
}

/// A page of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueView {
    pub events: Vec<EventCardView>,
    pub page: i64,
    pub has_next: bool,
}

#[server(prefix = "/_fn", endpoint = "catalogue_events")]
pub async fn catalogue_events(
    q: Option<String>,
    category: Option<String>,
    when: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
) -> Result<CatalogueView, AppError> {
    use crate::ssr::services::events::{self, CatalogueQuery};
    let ctx = crate::ssr::fn_context::ctx().await?;
    let query = CatalogueQuery {
        q,
        category,
        when,
        from,
        to,
        page,
    };
    let found = events::catalogue(&ctx, &query).await?;
    let currency = ctx.settings().currency.as_str();
    Ok(CatalogueView {
        events: found
            .events
            .iter()
            .map(|d| EventCardView::new(d, currency))
            .collect(),
        page: found.page,
        has_next: found.has_next,
    })
}

/// A section as the event page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SectionView {
    pub id: String,
    pub name: String,
    /// `$40.00`
    pub price: String,
    /// `40.00`, what the Buy form says the buyer saw.
    pub price_input: String,
    /// The buyer's fee, when there is one.
    pub fee: Option<String>,
    /// Price and fee.
    pub total: String,
    pub available: i64,
    pub seated: bool,
    /// The most the viewer may choose now: seats on sale, the event's per-buyer limit less what
    /// they hold, and never more than 20.
    pub max_quantity: u32,
    /// A seated section's rows of seats (`None` for general admission or a very large section).
    pub seat_map: Option<Vec<SeatRowView>>,
}

/// A row of a seat map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatRowView {
    pub label: String,
    pub seats: Vec<SeatView>,
}

/// A seat on a seat map: its ticket, its number in the row, and whether it can be chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeatView {
    pub id: String,
    pub number: u32,
    pub free: bool,
}

/// One seller's resale listings of one section at one price, bought together or singly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResaleGroupView {
    pub ticket_ids: Vec<String>,
    /// `2 tickets, Row C`, `Row C, Seat 4`, or the listing's title.
    pub label: String,
    /// Each ticket's price (`$40.00`) and what the form says the buyer saw (`40.00`).
    pub price: String,
    pub price_input: String,
    pub fee: Option<String>,
    /// The first listing's page.
    pub first_id: String,
}

/// What a group of resale listings is called: its seat, or how many and their row.
pub fn resale_label(title: &str, seats: &[Option<String>]) -> String {
    let rows: std::collections::BTreeSet<Option<&str>> = seats
        .iter()
        .map(|seat| {
            seat.as_deref()
                .and_then(|s| s.rsplit_once(", Seat ").map(|(row, _)| row))
        })
        .collect();
    match (seats, rows.len()) {
        ([one], _) => one.clone().unwrap_or_else(|| title.to_string()),
        (_, 1) => match rows.into_iter().next().flatten() {
            Some(row) => format!("{} tickets, {row}", seats.len()),
            None => format!("{} tickets", seats.len()),
        },
        _ => format!("{} tickets", seats.len()),
    }
}

impl SectionView {
    /// "Sold out", "N left" below 50, else nothing.
    pub fn availability(&self) -> Option<String> {
        availability_label(self.available)
    }
}

/// What a section's availability reads as: `Sold out`, `N left` below 50, else nothing.
pub fn availability_label(available: i64) -> Option<String> {
    match available {
        ..=0 => Some("Sold out".to_string()),
        1..50 => Some(format!("{available} left")),
        _ => None,
    }
}

/// Everything the event page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPageView {
    pub card: EventCardView,
    /// The end on the venue's clock, when it has one.
    pub ends_at: Option<String>,
    pub time_zone: String,
    /// Paragraphs of lines of plain text.
    pub description: Vec<Vec<String>>,
    pub cancel_reason: Option<String>,
    pub is_past: bool,
    pub sections: Vec<SectionView>,
    /// Its resale listings on sale, cheapest first (at most a page of them).
    pub resale: Vec<TicketView>,
    /// The same listings, one seller's of one section at one price together.
    pub resale_groups: Vec<ResaleGroupView>,
    /// How many resale listings there are in all (up to the browse count's cap).
    pub resale_total: i64,
    /// schema.org `Event` as JSON, escaped to sit inside a `<script>` element.
    pub json_ld: String,
    /// Its image at the page's size (1200 px wide at most), when it has one.
    pub image_large: Option<String>,
    /// The page's absolute address, and its image's, for Open Graph.
    pub url: String,
    pub image_absolute: Option<String>,
    /// Whether the viewer runs this event (its organiser, or an admin).
    pub runs_it: bool,
}

#[server(prefix = "/_fn", endpoint = "event_page")]
pub async fn event_page(slug: String) -> Result<EventPageView, AppError> {
    use crate::ssr::services::{browse, events};
    let ctx = crate::ssr::fn_context::ctx().await?;
    let details = events::get_event(&ctx, &slug).await?;
    let resale = browse::event_resale(&ctx, &details.event.id).await?;
    let runs_it = events::runs_event(&ctx, &details.event).await?;
    let mut maps = Vec::with_capacity(details.sections.len());
    for (section, _) in &details.sections {
        maps.push(events::seat_map(&ctx, section).await?);
    }
    let allowance = crate::ssr::services::orders::allowance(&ctx, &details.event).await?;
    Ok(page_view(&ctx, &details, resale, runs_it, maps, allowance))
}

#[cfg(feature = "ssr")]
fn page_view(
    ctx: &crate::ssr::Ctx,
    details: &crate::ssr::services::events::EventDetails,
    resale: crate::ssr::services::browse::TicketPage,
    runs_it: bool,
    maps: Vec<Option<Vec<crate::ssr::services::events::SeatMapRow>>>,
    allowance: Option<u32>,
) -> EventPageView {
    use crate::domain::event::{EventStatus, paragraphs};
    use crate::domain::format_money;
    let settings = ctx.settings();
    let currency = settings.currency.as_str();
    let event = &details.event;
    let now = ctx.now();
    let on_sale = event.status == EventStatus::Published && !event.is_past(now);
    let limit = allowance
        .unwrap_or(event.max_per_buyer)
        .min(crate::domain::event::MAX_PER_BUYER_MAX);
    let sections: Vec<SectionView> = details
        .sections
        .iter()
        .zip(maps)
        .map(|((section, counts), map)| {
            let amounts = settings.fees.breakdown(section.price);
            let available = if on_sale { counts.available } else { 0 };
            SectionView {
                id: section.id.to_string(),
                name: section.name.clone(),
                price: format_money(section.price.cents(), currency),
                price_input: section.price.to_input(),
                fee: (amounts.buyer_fee_cents > 0)
                    .then(|| format_money(amounts.buyer_fee_cents, currency)),
                total: format_money(amounts.total_cents, currency),
                available,
                seated: section.seating.is_seated(),
                max_quantity: available.clamp(0, i64::from(limit)) as u32,
                seat_map: map.filter(|_| on_sale).map(|rows| {
                    rows.into_iter()
                        .map(|row| SeatRowView {
                            label: row.label,
                            seats: row
                                .seats
                                .into_iter()
                                .map(|(id, number, free)| SeatView {
                                    id: id.to_string(),
                                    number,
                                    free,
                                })
                                .collect(),
                        })
                        .collect()
                }),
            }
        })
        .collect();
    let card = EventCardView::new(details, currency);
    let base = settings.public_url.trim_end_matches('/');
    let url = format!("{base}/events/{}", event.slug);
    let image_large = event.image.as_ref().map(|image| format!("/media/{image}"));
    let image_absolute = image_large.as_ref().map(|path| format!("{base}{path}"));
    let json_ld = json_ld(details, &url, image_absolute.as_deref(), currency, on_sale);
    EventPageView {
        ends_at: event.ends_at.map(|at| event.time_zone.display(at)),
        time_zone: event.time_zone.name().to_string(),
        description: paragraphs(&event.description)
            .into_iter()
            .map(|lines| lines.into_iter().map(str::to_string).collect())
            .collect(),
        cancel_reason: event.cancel_reason.clone(),
        is_past: event.is_past(now),
        sections,
        resale_total: resale.total,
        resale_groups: resale_groups(&resale.tickets, ctx),
        resale: resale
            .tickets
            .iter()
            .map(|t| TicketView::new(t, ctx))
            .collect(),
        json_ld,
        image_large,
        url,
        image_absolute,
        runs_it,
        card,
    }
}

/// The resale listings (cheapest first) grouped by seller, section and price, each group where
/// its cheapest listing stands.
#[cfg(feature = "ssr")]
fn resale_groups(tickets: &[crate::domain::Ticket], ctx: &crate::ssr::Ctx) -> Vec<ResaleGroupView> {
    use crate::domain::format_money;
    let settings = ctx.settings();
    let mut groups: Vec<(&crate::domain::Ticket, Vec<&crate::domain::Ticket>)> = Vec::new();
    for ticket in tickets {
        let key = |t: &crate::domain::Ticket| {
            (
                t.seller_id.clone(),
                t.event_seat.as_ref().map(|s| s.section_id.clone()),
                t.price,
            )
        };
        match groups
            .iter_mut()
            .find(|(first, _)| key(first) == key(ticket))
        {
            Some((_, members)) => members.push(ticket),
            None => groups.push((ticket, vec![ticket])),
        }
    }
    groups
        .into_iter()
        .map(|(first, members)| {
            let seats: Vec<Option<String>> = members
                .iter()
                .map(|t| t.event_seat.as_ref().and_then(|s| s.seat.clone()))
                .collect();
            let fee = settings.fees.breakdown(first.price).buyer_fee_cents;
            ResaleGroupView {
                ticket_ids: members.iter().map(|t| t.id.to_string()).collect(),
                label: resale_label(&first.title, &seats),
                price: format_money(first.price.cents(), &settings.currency),
                price_input: first.price.to_input(),
                fee: (fee > 0).then(|| format_money(fee, &settings.currency)),
                first_id: first.id.to_string(),
            }
        })
        .collect()
}

/// The event as schema.org `Event` JSON-LD: its offers are its sections, each in stock or sold
/// out.
#[cfg(feature = "ssr")]
fn json_ld(
    details: &crate::ssr::services::events::EventDetails,
    url: &str,
    image: Option<&str>,
    currency: &str,
    on_sale: bool,
) -> String {
    use crate::domain::event::EventStatus;
    let event = &details.event;
    let offers: Vec<serde_json::Value> = details
        .sections
        .iter()
        .map(|(section, counts)| {
            serde_json::json!({
                "@type": "Offer",
                "name": section.name,
                "price": section.price.to_input(),
                "priceCurrency": currency.to_uppercase(),
                "availability": if on_sale && counts.available > 0 {
                    "https://schema.org/InStock"
                } else {
                    "https://schema.org/SoldOut"
                },
                "url": url,
            })
        })
        .collect();
    let mut value = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": event.name,
        "startDate": event.time_zone.rfc3339(event.starts_at),
        "eventStatus": if event.status == EventStatus::Cancelled {
            "https://schema.org/EventCancelled"
        } else {
            "https://schema.org/EventScheduled"
        },
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": {
            "@type": "Place",
            "name": event.venue,
            "address": { "@type": "PostalAddress", "addressLocality": event.city },
        },
        "description": event.description,
        "url": url,
        "offers": offers,
    });
    if let Some(ends_at) = event.ends_at {
        value["endDate"] = event.time_zone.rfc3339(ends_at).into();
    }
    if let Some(image) = image {
        value["image"] = image.into();
    }
    json_for_script(&value)
}

/// `value` as JSON that can sit inside an HTML `<script>` element: every `<`, `>` and `&` (and
/// the two line separators JavaScript once treated as newlines) written as a `\u` escape, so no
/// text in it can close the element or open a comment. The JSON means the same.
#[cfg(feature = "ssr")]
pub fn json_for_script(value: &serde_json::Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Reserves `quantity` (default 1) best-available seats of a section at the price each the page
/// showed, and sends the buyer to their order.
#[server(prefix = "/_fn", endpoint = "reserve_seat")]
pub async fn reserve_seat(
    section_id: String,
    price: String,
    quantity: Option<String>,
) -> Result<String, AppError> {
    use crate::domain::Id;
    use crate::ssr::services::orders::{self, ReserveInSection};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let quantity = match quantity.as_deref().map(str::trim) {
        None | Some("") => 1,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                AppError::invalid_field("quantity", crate::domain::order::QUANTITY_INVALID)
            })?,
    };
    let input = ReserveInSection {
        section_id: Id::parse(&section_id)?,
        quantity,
        seen_price: Some(seen_sum(&price, quantity as usize)?),
    };
    let reserved = orders::reserve_in_section(&ctx, input).await?;
    leptos_axum::redirect(&format!("/orders/{}", reserved.order.id));
    Ok(reserved.order.id.to_string())
}

/// What the buyer saw for `count` tickets at `each` (the page's price input).
#[cfg(feature = "ssr")]
fn seen_sum(each: &str, count: usize) -> Result<crate::domain::Price, AppError> {
    let each = crate::domain::Price::from_text(each)?;
    Ok(crate::domain::Price::from_stored(
        each.cents().saturating_mul(count as i64),
    ))
}

/// Reserves chosen tickets of one event, all or none (seats ticked on the seat map, or a group
/// of resale listings), at the price each the page showed, and sends the buyer to their order.
/// The form sends an empty `ticket_ids[]` first, so that ticking nothing is a clear refusal.
#[server(prefix = "/_fn", endpoint = "reserve_seats")]
pub async fn reserve_seats(ticket_ids: Vec<String>, price: String) -> Result<String, AppError> {
    use crate::domain::Id;
    use crate::ssr::services::orders::{self, ReserveTickets};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let ids: Vec<Id> = ticket_ids
        .iter()
        .map(|id| id.trim())
        .filter(|id| !id.is_empty())
        .map(|id| {
            Id::parse(id)
                .map_err(|_| AppError::invalid_field("ticketIds", "Ticket id is not valid"))
        })
        .collect::<Result<_, _>>()?;
    let input = ReserveTickets {
        seen_price: Some(seen_sum(&price, ids.len())?),
        ticket_ids: ids,
    };
    let reserved = orders::reserve_tickets(&ctx, input).await?;
    leptos_axum::redirect(&format!("/orders/{}", reserved.order.id));
    Ok(reserved.order.id.to_string())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn json_for_a_script_never_closes_it_and_means_the_same() {
        let value = serde_json::json!({
            "name": "</script><script>alert(1)</script> & <!-- \u{2028}\u{2029}",
        });
        let text = json_for_script(&value);
        for bad in ["<", ">", "&", "\u{2028}", "\u{2029}"] {
            assert!(!text.contains(bad), "{bad} in {text}");
        }
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn availability_reads_as_a_buyer_expects() {
        assert_eq!(availability_label(0).as_deref(), Some("Sold out"));
        assert_eq!(availability_label(1).as_deref(), Some("1 left"));
        assert_eq!(availability_label(49).as_deref(), Some("49 left"));
        assert_eq!(availability_label(50), None);
    }
}
