//! The organiser's pages (`/organise`): their events, and one event's details, sections, door
//! staff, sales and attendees, with publishing and cancelling. Every form is a plain form.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One of the organiser's events in their list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEventItem {
    pub id: String,
    pub slug: String,
    pub name: String,
    /// `draft`, `published` or `cancelled`.
    pub status: String,
    pub is_past: bool,
    pub starts_at: String,
    pub sold: i64,
    pub capacity: i64,
    /// Primary sales that stand, at face value.
    pub gross: String,
}

#[server(prefix = "/_fn", endpoint = "my_events")]
pub async fn my_events() -> Result<Vec<RunEventItem>, AppError> {
    use crate::domain::format_money;
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let list = crate::ssr::services::events::my_events(&ctx).await?;
    let currency = ctx.settings().currency.as_str();
    Ok(list
        .into_iter()
        .map(|run| {
            let event = &run.details.event;
            RunEventItem {
                id: event.id.to_string(),
                slug: event.slug.clone(),
                name: event.name.clone(),
                status: event.status.as_str().to_string(),
                is_past: event.is_past(ctx.now()),
                starts_at: event.time_zone.display(event.starts_at),
                sold: run.details.sections.iter().map(|(_, c)| c.sold).sum(),
                capacity: run
                    .details
                    .sections
                    .iter()
                    .map(|(s, _)| i64::from(s.seating.capacity()))
                    .sum(),
                gross: format_money(run.gross_cents, currency),
            }
        })
        .collect())
}

/// A section as its organiser edits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganiserSection {
    pub id: String,
    pub name: String,
    pub price: String,
    pub price_input: String,
    pub seated: bool,
    /// General admission's capacity, as the form shows it.
    pub capacity_input: String,
    /// A seated section's rows, one per line (`A 20`).
    pub rows_input: String,
    pub capacity: u32,
    pub sold: i64,
    pub reserved: i64,
    pub available: i64,
}

/// One holder of a seat, for the attendee list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendeeItem {
    pub email: String,
    pub section: String,
    pub seat: Option<String>,
    pub code_status: String,
    pub checked_in_at: Option<String>,
}

/// Everything the organiser's page of one event shows and its forms start from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganisedEventView {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub status: String,
    pub is_past: bool,
    pub version: i64,
    pub cancel_reason: Option<String>,
    pub image_url: Option<String>,
    pub category: String,
    pub venue: String,
    pub city: String,
    pub time_zone: String,
    pub starts_at: String,
    /// `2030-06-01T19:30` on the venue's clock, for the form.
    pub starts_at_input: String,
    pub ends_at_input: String,
    pub description: String,
    pub max_per_buyer: u32,
    pub resale_enabled: bool,
    pub resale_cap_input: String,
    pub sections: Vec<OrganiserSection>,
    pub staff: Vec<(String, String)>,
    /// The sales chart, drawn on the server (already escaped SVG).
    pub chart_svg: String,
    /// The chart's figures as a table gives them: (day, tickets).
    pub sales_per_day: Vec<(String, i64)>,
    pub sold: i64,
    pub capacity: i64,
    pub gross: String,
    pub attendees: Vec<AttendeeItem>,
    pub refunds_done: i64,
    pub refunds_all: i64,
}

#[server(prefix = "/_fn", endpoint = "organised_event")]
pub async fn organised_event(id: String) -> Result<OrganisedEventView, AppError> {
    use crate::domain::event::{Seating, rows_text};
    use crate::domain::format_money;
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&id).map_err(|_| AppError::NotFound)?;
    let found = crate::ssr::services::events::organised_event(&ctx, &id).await?;
    let currency = ctx.settings().currency.as_str();
    let event = &found.details.event;
    let zone = event.time_zone;
    let sections: Vec<OrganiserSection> = found
        .details
        .sections
        .iter()
        .map(|(section, counts)| OrganiserSection {
            id: section.id.to_string(),
            name: section.name.clone(),
            price: format_money(section.price.cents(), currency),
            price_input: section.price.to_input(),
            seated: section.seating.is_seated(),
            capacity_input: match &section.seating {
                Seating::General { capacity } => capacity.to_string(),
                Seating::Seated { .. } => String::new(),
            },
            rows_input: match &section.seating {
                Seating::General { .. } => String::new(),
                Seating::Seated { rows } => rows_text(rows),
            },
            capacity: section.seating.capacity(),
            sold: counts.sold,
            reserved: counts.reserved,
            available: counts.available,
        })
        .collect();
    Ok(OrganisedEventView {
        id: event.id.to_string(),
        slug: event.slug.clone(),
        name: event.name.clone(),
        status: event.status.as_str().to_string(),
        is_past: event.is_past(ctx.now()),
        version: event.version,
        cancel_reason: event.cancel_reason.clone(),
        image_url: event.image.as_ref().map(|image| format!("/media/{image}")),
        category: event.category.as_str().to_string(),
        venue: event.venue.clone(),
        city: event.city.clone(),
        time_zone: zone.name().to_string(),
        starts_at: zone.display(event.starts_at),
        starts_at_input: zone.datetime_local(event.starts_at),
        ends_at_input: event
            .ends_at
            .map(|at| zone.datetime_local(at))
            .unwrap_or_default(),
        description: event.description.clone(),
        max_per_buyer: event.max_per_buyer,
        resale_enabled: event.resale.enabled,
        resale_cap_input: event
            .resale
            .cap_percent
            .map(|p| p.to_string())
            .unwrap_or_default(),
        sold: sections.iter().map(|s| s.sold).sum(),
        capacity: sections.iter().map(|s| i64::from(s.capacity)).sum(),
        sections,
        staff: found
            .staff
            .into_iter()
            .map(|member| (member.id.to_string(), member.email))
            .collect(),
        chart_svg: crate::domain::chart::sales_svg(&event.name, &found.sales_per_day),
        sales_per_day: found
            .sales_per_day
            .iter()
            .map(|(day, n)| (day.format("%a %-d %b %Y").to_string(), *n))
            .collect(),
        gross: format_money(found.gross_cents, currency),
        attendees: found
            .attendees
            .into_iter()
            .map(|a| AttendeeItem {
                email: a.email,
                section: a.section,
                seat: a.seat,
                code_status: a.code_status.as_str().to_string(),
                checked_in_at: a.used_at.map(|at| zone.display(at)),
            })
            .collect(),
        refunds_done: found.refunds.0,
        refunds_all: found.refunds.1,
    })
}

/// A whole number typed into a form, or the field's error.
#[cfg(feature = "ssr")]
fn whole(
    text: &str,
    field: &str,
    message: &str,
) -> Result<Option<i64>, crate::domain::ErrorDetail> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|_| crate::domain::ErrorDetail::field(field, message))
}

/// Creates a draft event (no `id`) or changes an event's details (keeping its sections), as
/// of the `version` the page showed. A new event's page is where its sections are added.
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/_fn", endpoint = "save_event")]
pub async fn save_event(
    id: Option<String>,
    version: Option<String>,
    name: String,
    category: String,
    venue: String,
    city: String,
    time_zone: String,
    starts_at: String,
    ends_at: String,
    description: String,
    max_per_buyer: String,
    resale: Option<String>,
    resale_cap: String,
) -> Result<String, AppError> {
    use crate::domain::event::{self, EventInput};
    use crate::ssr::services::events;
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let input = EventInput {
        name: Some(name),
        category: Some(category),
        venue: Some(venue),
        city: Some(city),
        time_zone: Some(time_zone),
        starts_at: Some(starts_at),
        ends_at: Some(ends_at).filter(|at| !at.trim().is_empty()),
        description: Some(description),
        max_per_buyer: whole(&max_per_buyer, "maxPerBuyer", event::MAX_PER_BUYER_INVALID),
        resale_enabled: Ok(Some(resale.is_some())),
        resale_cap_percent: whole(&resale_cap, "resale.capPercent", event::RESALE_CAP_INVALID),
        sections: Ok(Vec::new()),
    };
    let saved = match id.filter(|id| !id.is_empty()) {
        None => events::create_event(&ctx, input).await?,
        Some(id) => {
            let id = crate::domain::Id::parse(&id)?;
            events::change_event(
                &ctx,
                &id,
                parse_version(version.as_deref())?,
                events::EventChange::Details(input),
            )
            .await?
        }
    };
    let id = saved.event.id.to_string();
    leptos_axum::redirect(&format!("/organise/{id}"));
    Ok(id)
}

#[cfg(feature = "ssr")]
fn parse_version(version: Option<&str>) -> Result<i64, AppError> {
    version
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| AppError::invalid_field("version", "Reload the page and try again"))
}

/// Adds a section (no `section_id`) or changes one, as of the event's `version`. `seating` is
/// `general` (with `capacity`) or `seated` (with `rows`, one per line).
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/_fn", endpoint = "save_section")]
pub async fn save_section(
    event_id: String,
    version: String,
    section_id: Option<String>,
    name: String,
    price: String,
    seating: String,
    capacity: Option<String>,
    rows: Option<String>,
) -> Result<(), AppError> {
    use crate::domain::Price;
    use crate::domain::event::{self, SectionInput};
    use crate::ssr::services::events;
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&event_id)?;
    let seated = seating == "seated";
    let section = SectionInput {
        id: section_id.filter(|id| !id.is_empty()),
        name: Some(name),
        price: Price::from_text(&price),
        capacity: if seated {
            Ok(None)
        } else {
            whole(
                capacity.as_deref().unwrap_or_default(),
                "capacity",
                event::CAPACITY_INVALID,
            )
            .and_then(|n| {
                n.map(Some).ok_or_else(|| {
                    crate::domain::ErrorDetail::field("capacity", event::CAPACITY_INVALID)
                })
            })
        },
        rows: if seated {
            event::parse_rows_text(rows.as_deref().unwrap_or_default()).map(Some)
        } else {
            Ok(None)
        },
    };
    events::change_event(
        &ctx,
        &id,
        parse_version(Some(&version))?,
        events::EventChange::Section(section),
    )
    .await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "remove_section")]
pub async fn remove_section(
    event_id: String,
    version: String,
    section_id: String,
) -> Result<(), AppError> {
    use crate::ssr::services::events;
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&event_id)?;
    let section = crate::domain::Id::parse(&section_id)?;
    events::change_event(
        &ctx,
        &id,
        parse_version(Some(&version))?,
        events::EventChange::RemoveSection(section),
    )
    .await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "publish_event")]
pub async fn publish_event(event_id: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&event_id)?;
    crate::ssr::services::events::publish_event(&ctx, &id).await?;
    Ok(())
}

/// The message when the confirmation box of a cancellation was left empty.
pub const CONFIRM_CANCEL: &str = "Tick the box to confirm: every buyer will be refunded";

/// Cancels the event, once its organiser ticked the box that says what it does.
#[server(prefix = "/_fn", endpoint = "cancel_event")]
pub async fn cancel_event(
    event_id: String,
    reason: String,
    confirm: Option<String>,
) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&event_id)?;
    if confirm.as_deref() != Some("yes") {
        return Err(AppError::invalid_field("confirm", CONFIRM_CANCEL));
    }
    crate::ssr::services::cancellation::cancel_event(&ctx, &id, &reason).await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "add_door_staff")]
pub async fn add_door_staff(event_id: String, email: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&event_id)?;
    crate::ssr::services::events::add_door_staff(&ctx, &id, &email).await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "remove_door_staff")]
pub async fn remove_door_staff(event_id: String, user_id: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&event_id)?;
    let member = crate::domain::Id::parse(&user_id)?;
    crate::ssr::services::events::remove_door_staff(&ctx, &id, &member).await?;
    Ok(())
}

#[server(prefix = "/_fn", endpoint = "remove_event_image")]
pub async fn remove_event_image(event_id: String) -> Result<(), AppError> {
    let ctx = crate::ssr::fn_context::signed_in().await?;
    let id = crate::domain::Id::parse(&event_id)?;
    crate::ssr::services::events::remove_image(&ctx, &id).await?;
    Ok(())
}
