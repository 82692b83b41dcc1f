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
    Ok(page_view(&ctx, &details, resale, runs_it))
}

#[cfg(feature = "ssr")]
fn page_view(
    ctx: &crate::ssr::Ctx,
    details: &crate::ssr::services::events::EventDetails,
    resale: crate::ssr::services::browse::TicketPage,
    runs_it: bool,
) -> EventPageView {
    use crate::domain::event::{EventStatus, paragraphs};
    use crate::domain::format_money;
    let settings = ctx.settings();
    let currency = settings.currency.as_str();
    let event = &details.event;
    let now = ctx.now();
    let on_sale = event.status == EventStatus::Published && !event.is_past(now);
    let sections: Vec<SectionView> = details
        .sections
        .iter()
        .map(|(section, counts)| {
            let amounts = settings.fees.breakdown(section.price);
            SectionView {
                id: section.id.to_string(),
                name: section.name.clone(),
                price: format_money(section.price.cents(), currency),
                price_input: section.price.to_input(),
                fee: (amounts.buyer_fee_cents > 0)
                    .then(|| format_money(amounts.buyer_fee_cents, currency)),
                total: format_money(amounts.total_cents, currency),
                available: if on_sale { counts.available } else { 0 },
                seated: section.seating.is_seated(),
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

/// Reserves the front-most free seat of a section at the price the page showed, and sends the
/// buyer to their order.
#[server(prefix = "/_fn", endpoint = "reserve_seat")]
pub async fn reserve_seat(section_id: String, price: String) -> Result<String, AppError> {
    use crate::domain::{Id, Price};
    use crate::ssr::services::orders::{self, ReserveInSection};
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let input = ReserveInSection {
        section_id: Id::parse(&section_id)?,
        quantity: 1,
        seen_price: Some(Price::from_text(&price)?),
    };
    let reserved = orders::reserve_in_section(&ctx, input).await?;
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
