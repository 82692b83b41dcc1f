//! Events: organisers create them with their sections, edit them, and publish them, which puts
//! one ticket per seat on sale in one transaction. Drafts are seen only by their organiser and
//! admins. The rules are `domain::event`'s; this owns the transactions.

use crate::domain::event::{
    self, Event, EventDraft, EventInput, EventStatus, Section, SectionNow, SiteRules,
};
use crate::domain::{ErrorDetail, Id, Timestamp};
use crate::error::AppError;
use crate::ssr::Ctx;
use crate::ssr::clock;
use crate::ssr::storage::event_log::insert_event;
use crate::ssr::storage::events::{self, NewSeat, SeatCounts};
use crate::ssr::storage::users;
use sqlx::AnyConnection;

/// The message of the 403 an organiser gets for publishing before proving their address.
pub const VERIFY_FIRST: &str = "Verify your email address first";

/// An event with its sections and how their seats stand.
#[derive(Debug, Clone)]
pub struct EventDetails {
    pub event: Event,
    pub sections: Vec<(Section, SeatCounts)>,
    /// The lowest price of its resale listings on sale.
    pub resale_from: Option<crate::domain::Price>,
}

impl EventDetails {
    /// Seats on sale over all sections.
    pub fn available(&self) -> i64 {
        self.sections.iter().map(|(_, c)| c.available).sum()
    }

    /// The lowest price of a section with seats on sale.
    pub fn from_price(&self) -> Option<crate::domain::Price> {
        self.sections
            .iter()
            .filter(|(_, c)| c.available > 0)
            .map(|(s, _)| s.price)
            .min_by_key(|p| p.cents())
    }
}

fn site_rules(ctx: &Ctx) -> SiteRules {
    SiteRules {
        resale_cap_percent: ctx.settings().resale_cap.map(|cap| cap.hundredths() / 100),
    }
}

/// Refuses anyone who may not run events: 401 signed out, 403 without the organiser role.
#[tracing::instrument(level = "debug", skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn require_organiser(ctx: &Ctx) -> Result<(), AppError> {
    organiser(ctx).await.map(|_| ())
}

/// The signed-in user and whether they are an admin, when they may run events at all
/// (organisers and admins): 401 signed out, 403 otherwise.
pub(super) async fn organiser(ctx: &Ctx) -> Result<(Id, bool), AppError> {
    let user = ctx.user()?.clone();
    let roles = users::find_roles(&mut *ctx.db().read.acquire().await?, &user).await?;
    if !roles.organises() {
        return Err(AppError::Forbidden);
    }
    Ok((user, roles.is_admin()))
}

/// The event `id` for someone who runs it: 404 when there is none, 403 when it is another
/// organiser's (a draft of another organiser is not shown to be there: 404).
pub(super) async fn run_event(
    conn: &mut AnyConnection,
    user: &Id,
    admin: bool,
    id: &Id,
) -> Result<Event, AppError> {
    let event = events::find_event(conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !event.is_run_by(user, admin) {
        return Err(if event.status == EventStatus::Draft {
            AppError::NotFound
        } else {
            AppError::Forbidden
        });
    }
    Ok(event)
}

/// A slug for `event` no other event has: its own, then with `-2`, `-3`…
async fn free_slug(conn: &mut AnyConnection, event: &Event) -> Result<String, AppError> {
    let base = event::slug(&event.name, event.time_zone.local_date(event.starts_at));
    for n in 1..1_000 {
        let slug = event::with_suffix(&base, n);
        if !events::slug_taken(conn, &slug, &event.id).await? {
            return Ok(slug);
        }
    }
    Err(AppError::invalid_field(
        "name",
        "Too many events have this name on this date",
    ))
}

pub(super) fn event_payload(event: &Event) -> serde_json::Value {
    serde_json::json!({
        "id": event.id,
        "slug": event.slug,
        "name": event.name,
        "status": event.status.as_str(),
        "organiserId": event.organiser_id,
        "startsAt": event.starts_at.to_rfc3339(),
        "version": event.version,
    })
}

/// Creates a draft event with its sections for the signed-in organiser.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn create_event(ctx: &Ctx, input: EventInput) -> Result<EventDetails, AppError> {
    let (user, _) = organiser(ctx).await?;
    let now = ctx.now();
    let draft = EventDraft::parse(input, site_rules(ctx), now, true)?;
    let mut event = Event {
        id: clock::new_id(),
        slug: String::new(),
        organiser_id: user,
        name: draft.name,
        category: draft.category,
        venue: draft.venue,
        city: draft.city,
        time_zone: draft.time_zone,
        starts_at: draft.starts_at,
        ends_at: draft.ends_at,
        description: draft.description,
        image: None,
        image_small: None,
        status: EventStatus::Draft,
        cancel_reason: None,
        max_per_buyer: draft.max_per_buyer,
        resale: draft.resale,
        version: 0,
        created_at: now,
    };
    let mut tx = ctx.db().begin_write().await?;
    events::lock_slugs(&mut tx).await?;
    event.slug = free_slug(&mut tx, &event).await?;
    events::insert_event(&mut tx, &event).await?;
    for (position, section) in draft.sections.into_iter().enumerate() {
        let section = Section {
            id: clock::new_id(),
            event_id: event.id.clone(),
            position: position as u32,
            name: section.name,
            price: section.price,
            seating: section.seating,
        };
        events::insert_section(&mut tx, &section, now).await?;
    }
    insert_event(
        &mut tx,
        "EventCreated",
        &event.id,
        event_payload(&event),
        now,
    )
    .await?;
    let details = details_in(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(details)
}

pub(super) async fn details_in(
    conn: &mut AnyConnection,
    event: Event,
    now: crate::domain::Timestamp,
) -> Result<EventDetails, AppError> {
    let sections = events::list_sections(conn, &event.id).await?;
    let mut counts = events::seat_counts(conn, &event.id, now).await?;
    let sections = sections
        .into_iter()
        .map(|section| {
            let count = counts.remove(&section.id).unwrap_or_default();
            (section, count)
        })
        .collect();
    let resale_from = events::resale_from_cents(conn, &event.id, now)
        .await?
        .map(crate::domain::Price::from_stored);
    Ok(EventDetails {
        event,
        sections,
        resale_from,
    })
}

/// An event by id or slug: a draft only for its organiser and admins (404 for everyone else).
#[tracing::instrument(level = "debug", skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn get_event(ctx: &Ctx, id_or_slug: &str) -> Result<EventDetails, AppError> {
    let mut conn = ctx.db().read.acquire().await?;
    let found = match Id::parse(id_or_slug) {
        Ok(id) => events::find_event(&mut conn, &id).await?,
        // Slugs are lower-case ASCII words and digits joined by dashes: anything else names
        // no event, and is not looked up.
        Err(_)
            if id_or_slug.len() <= 200
                && id_or_slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
        {
            events::find_event_by_slug(&mut conn, id_or_slug).await?
        }
        Err(_) => None,
    };
    let event = found.ok_or(AppError::NotFound)?;
    if event.status == EventStatus::Draft {
        let Some(user) = ctx.actor() else {
            return Err(AppError::NotFound);
        };
        let roles = users::find_roles(&mut conn, user).await?;
        if !event.is_run_by(user, roles.is_admin()) {
            return Err(AppError::NotFound);
        }
    }
    details_in(&mut conn, event, ctx.now()).await
}

/// The largest section whose seat map is drawn: beyond it buyers choose by quantity.
pub const SEAT_MAP_MAX: u32 = 600;

/// A seated section's seat map: each row front to back with its seats (id, number, free).
/// `None` for general admission or a section larger than [`SEAT_MAP_MAX`].
#[tracing::instrument(level = "debug", skip_all, fields(section_id = %section.id))]
pub async fn seat_map(ctx: &Ctx, section: &Section) -> Result<Option<Vec<SeatMapRow>>, AppError> {
    use crate::domain::event::{Seating, seat_place};
    let Seating::Seated { rows } = &section.seating else {
        return Ok(None);
    };
    if section.seating.capacity() > SEAT_MAP_MAX {
        return Ok(None);
    }
    let seats =
        events::section_seats(&mut *ctx.db().read.acquire().await?, &section.id, ctx.now()).await?;
    let mut map: Vec<SeatMapRow> = rows
        .iter()
        .map(|row| SeatMapRow {
            label: row.label.clone(),
            seats: Vec::new(),
        })
        .collect();
    for (id, label, free) in seats {
        if let Some(place) = label.as_deref().and_then(|l| seat_place(rows, l)) {
            map[place.row].seats.push((id, place.number, free));
        }
    }
    for row in &mut map {
        row.seats.sort_by_key(|(_, number, _)| *number);
    }
    map.retain(|row| !row.seats.is_empty());
    Ok(Some(map))
}

/// A row of a seat map: its label and its seats (id, number, free).
#[derive(Debug, Clone)]
pub struct SeatMapRow {
    pub label: String,
    pub seats: Vec<(Id, u32, bool)>,
}

/// Whether the signed-in user (if any) runs `event`: its organiser, or an admin.
pub async fn runs_event(ctx: &Ctx, event: &Event) -> Result<bool, AppError> {
    let Some(user) = ctx.actor() else {
        return Ok(false);
    };
    if user == &event.organiser_id {
        return Ok(true);
    }
    let roles = users::find_roles(&mut *ctx.db().read.acquire().await?, user).await?;
    Ok(event.is_run_by(user, roles.is_admin()))
}

/// The events the signed-in organiser runs (every event, for an admin), soonest first.
#[tracing::instrument(level = "debug", skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn events_run_by_me(ctx: &Ctx) -> Result<Vec<EventDetails>, AppError> {
    let (user, admin) = organiser(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    let list = events::list_run_by(&mut conn, (!admin).then_some(&user)).await?;
    let now = ctx.now();
    let mut out = Vec::with_capacity(list.len());
    for event in list {
        out.push(details_in(&mut conn, event, now).await?);
    }
    Ok(out)
}

/// An organiser's change to an event: every field again, its sections matched by id (a section
/// left out is removed), and the version they edited, if they say.
pub struct EditEvent {
    pub id: Id,
    pub input: EventInput,
    pub version: Option<i64>,
}

/// Replaces an event's fields and sections. A draft changes freely. Once published: the slug
/// stays, a section keeps its kind of seating and only grows (general admission may shrink to
/// what is sold or held), new seats go on sale at once, a section with seats sold or held
/// cannot be removed, unsold seats take a new price, and the date, time and venue are copied
/// to every ticket of the event. A cancelled event is not edited.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %input.id))]
pub async fn edit_event(ctx: &Ctx, input: EditEvent) -> Result<EventDetails, AppError> {
    let (user, admin) = organiser(ctx).await?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    events::lock_event(&mut tx, &input.id).await?;
    let before = run_event(&mut tx, &user, admin, &input.id).await?;
    if before.status == EventStatus::Cancelled {
        return Err(AppError::invalid(event::EVENT_CANCELLED));
    }
    if input.version.is_some_and(|v| v != before.version) {
        return Err(AppError::Conflict(ErrorDetail::field(
            "version",
            event::EVENT_CHANGED,
        )));
    }
    let draft = EventDraft::parse(input.input, site_rules(ctx), now, false)?;
    let published = before.status == EventStatus::Published;
    let mut event = Event {
        name: draft.name,
        category: draft.category,
        venue: draft.venue,
        city: draft.city,
        time_zone: draft.time_zone,
        starts_at: draft.starts_at,
        ends_at: draft.ends_at,
        description: draft.description,
        max_per_buyer: draft.max_per_buyer,
        resale: draft.resale,
        ..before.clone()
    };
    if !published {
        events::lock_slugs(&mut tx).await?;
        event.slug = free_slug(&mut tx, &event).await?;
    }
    if !events::update_event(&mut tx, &event, before.version, now).await? {
        return Err(AppError::Conflict(ErrorDetail::field(
            "version",
            event::EVENT_CHANGED,
        )));
    }
    event.version = before.version + 1;

    let existing = events::list_sections(&mut tx, &event.id).await?;
    let mut kept = std::collections::HashSet::new();
    let mut errors = Vec::new();
    for (position, next) in draft.sections.into_iter().enumerate() {
        let at = |field: &str| format!("sections[{position}].{field}");
        let old = next
            .id
            .as_ref()
            .and_then(|id| existing.iter().find(|s| &s.id == id));
        if next.id.is_some() && old.is_none() {
            errors.push(ErrorDetail::field(&at("id"), "Unknown section"));
            continue;
        }
        let section = Section {
            id: old.map(|s| s.id.clone()).unwrap_or_else(clock::new_id),
            event_id: event.id.clone(),
            position: position as u32,
            name: next.name,
            price: next.price,
            seating: next.seating,
        };
        match old {
            None => {
                events::insert_section(&mut tx, &section, now).await?;
                if published {
                    put_on_sale(&mut tx, &event, &section, section.seating.seats(), now).await?;
                }
            }
            Some(old) => {
                kept.insert(old.id.clone());
                if published {
                    let taken = events::taken_seats(&mut tx, &old.id, now).await? as u32;
                    let now_stands = SectionNow {
                        seating: old.seating.clone(),
                        taken,
                    };
                    if let Err(err) = event::check_section_change(&now_stands, &section.seating) {
                        errors.push(ErrorDetail::field(
                            &at(err.field.as_deref().unwrap_or("capacity")),
                            &err.message,
                        ));
                        continue;
                    }
                    if section.price != old.price {
                        events::reprice_unsold_seats(&mut tx, &old.id, section.price, now).await?;
                    }
                    let added = event::added_seats(&old.seating, &section.seating);
                    if !added.is_empty() {
                        put_on_sale(&mut tx, &event, &section, added, now).await?;
                    }
                    let shrink =
                        i64::from(old.seating.capacity()) - i64::from(section.seating.capacity());
                    if shrink > 0 {
                        events::remove_free_places(&mut tx, &old.id, shrink, now).await?;
                    }
                }
                events::update_section(&mut tx, &section, now).await?;
            }
        }
    }
    for old in existing.iter().filter(|s| !kept.contains(&s.id)) {
        if published {
            if events::taken_seats(&mut tx, &old.id, now).await? > 0 {
                errors.push(ErrorDetail::field("sections", event::SECTION_HAS_SALES));
                continue;
            }
            events::remove_section(&mut tx, &old.id, now).await?;
        } else {
            events::delete_section(&mut tx, &old.id).await?;
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    if published {
        events::copy_to_tickets(&mut tx, &event, now).await?;
    }
    let tell_holders = published && event.moved_from(&before);
    if tell_holders {
        let when = event.starts_at.display_in(Some(event.time_zone));
        let venue = [event.venue.as_str(), event.city.as_str()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let url = crate::ssr::mail::messages::link(&ctx.settings().public_url, "/tickets/mine");
        for holder in crate::ssr::storage::codes::event_holders(&mut tx, &event.id).await? {
            if let Some(user) = users::find_user(&mut tx, &holder).await? {
                let letter = crate::ssr::mail::messages::event_changed(
                    &user.email,
                    &event.name,
                    &when,
                    &venue,
                    &url,
                );
                super::mail::queue(&mut tx, &letter, now).await?;
            }
        }
    }
    insert_event(
        &mut tx,
        "EventUpdated",
        &event.id,
        event_payload(&event),
        now,
    )
    .await?;
    let details = details_in(&mut tx, event, now).await?;
    tx.commit().await?;
    if tell_holders {
        ctx.mail_queued();
    }
    Ok(details)
}

/// Puts `seats` of `section` on sale, numbered on from its last seat.
async fn put_on_sale(
    tx: &mut AnyConnection,
    event: &Event,
    section: &Section,
    seats: Vec<Option<String>>,
    now: crate::domain::Timestamp,
) -> Result<(), AppError> {
    let first = events::last_seat_order(tx, &section.id).await? + 1;
    let seats: Vec<NewSeat> = seats
        .into_iter()
        .enumerate()
        .map(|(n, seat)| NewSeat {
            id: clock::new_id(),
            section,
            seat,
            order: first + n as i64,
        })
        .collect();
    events::insert_seats(tx, event, &seats, now).await?;
    Ok(())
}

/// Publishes a draft: every seat of every section goes on sale, in one transaction. The
/// organiser must have proved their address (403 otherwise); the event must start in the
/// future and have a section.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn publish_event(ctx: &Ctx, id: &Id) -> Result<EventDetails, AppError> {
    let (user, admin) = organiser(ctx).await?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    events::lock_event(&mut tx, id).await?;
    let mut event = run_event(&mut tx, &user, admin, id).await?;
    let organiser = users::find_user(&mut tx, &event.organiser_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if organiser.email_verified_at.is_none() {
        return Err(AppError::NotYet(VERIFY_FIRST.to_string()));
    }
    let sections = events::list_sections(&mut tx, id).await?;
    event.check_publish(now, sections.len())?;
    if !events::mark_published(&mut tx, id, now).await? {
        return Err(AppError::invalid(event::ALREADY_PUBLISHED));
    }
    event.status = EventStatus::Published;
    event.version += 1;
    for section in &sections {
        put_on_sale(&mut tx, &event, section, section.seating.seats(), now).await?;
    }
    insert_event(
        &mut tx,
        "EventPublished",
        &event.id,
        event_payload(&event),
        now,
    )
    .await?;
    let details = details_in(&mut tx, event, now).await?;
    tx.commit().await?;
    Ok(details)
}

/// What a visitor asks the catalogue for, each as given.
#[derive(Debug, Clone, Default)]
pub struct CatalogueQuery {
    pub q: Option<String>,
    pub category: Option<String>,
    /// `today`, `weekend` or `month`, on each venue's clock.
    pub when: Option<String>,
    /// Inclusive `YYYY-MM-DD` dates on the venue's clock.
    pub from: Option<String>,
    pub to: Option<String>,
    /// From 1.
    pub page: Option<String>,
}

/// A page of the catalogue.
#[derive(Debug, Clone)]
pub struct CataloguePage {
    pub events: Vec<EventDetails>,
    /// From 1.
    pub page: i64,
    pub has_next: bool,
}

/// Events per catalogue page.
pub const CATALOGUE_PAGE: i64 = 24;
/// The most events a `when` filter looks through (they are judged one by one, on their own
/// venue's clock).
const WHEN_CANDIDATES: i64 = 5_000;

/// Published events not yet over, soonest first, 24 a page: searched by name, venue and city,
/// in a category, and on days judged on each venue's clock.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn catalogue(ctx: &Ctx, query: &CatalogueQuery) -> Result<CataloguePage, AppError> {
    use crate::domain::event::{When, parse_date};
    let mut errors = Vec::new();
    let nonempty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let category = crate::domain::browse::parse_category_filter(query.category.as_deref())
        .unwrap_or_else(|err| {
            errors.push(err);
            None
        });
    let when = match nonempty(&query.when) {
        None => None,
        Some(text) => When::parse(&text).map_err(|e| errors.push(e)).ok(),
    };
    let mut date = |field: &str, value: &Option<String>| match nonempty(value) {
        None => None,
        Some(text) => parse_date(field, &text).map_err(|e| errors.push(e)).ok(),
    };
    let from = date("from", &query.from);
    let to = date("to", &query.to);
    let page =
        crate::domain::browse::parse_page(query.page.as_deref(), 10_000).unwrap_or_else(|err| {
            errors.push(err);
            1
        });
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let filter = events::CatalogueFilter {
        search: query
            .q
            .as_deref()
            .and_then(crate::ssr::storage::tickets::search_terms),
        category,
        from: from.map(|d| d.format("%Y-%m-%d").to_string()),
        to: to.map(|d| d.format("%Y-%m-%d").to_string()),
    };
    let now = ctx.now();
    let offset = (page - 1) * CATALOGUE_PAGE;
    let mut conn = ctx.db().read.acquire().await?;
    // One more than a page, which tells whether there is a next one.
    let mut found = match when {
        None => events::list_catalogue(&mut conn, &filter, now, CATALOGUE_PAGE + 1, offset).await?,
        Some(when) => {
            // Judged event by event on its venue's clock, then paged.
            let candidates =
                events::list_catalogue(&mut conn, &filter, now, WHEN_CANDIDATES, 0).await?;
            candidates
                .into_iter()
                .filter(|event| {
                    let (first, last) = when.days(event.time_zone.local_date(now));
                    let day = event.time_zone.local_date(event.starts_at);
                    first <= day && day <= last
                })
                .skip(offset as usize)
                .take(CATALOGUE_PAGE as usize + 1)
                .collect()
        }
    };
    let has_next = found.len() as i64 > CATALOGUE_PAGE;
    found.truncate(CATALOGUE_PAGE as usize);
    let mut out = Vec::with_capacity(found.len());
    for event in found {
        out.push(details_in(&mut conn, event, now).await?);
    }
    Ok(CataloguePage {
        events: out,
        page,
        has_next,
    })
}

/// Someone who may scan codes at one event's door.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorStaff {
    pub id: Id,
    pub email: String,
}

async fn staff_of(conn: &mut AnyConnection, event: &Id) -> Result<Vec<DoorStaff>, AppError> {
    Ok(events::list_staff(conn, event)
        .await?
        .into_iter()
        .map(|(id, email)| DoorStaff { id, email })
        .collect())
}

/// Adds the account with this address to the event's door staff (its organiser or an admin
/// may); the staff as they now stand.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn add_door_staff(ctx: &Ctx, id: &Id, email: &str) -> Result<Vec<DoorStaff>, AppError> {
    let (user, admin) = organiser(ctx).await?;
    let email = crate::domain::Email::parse(email)?;
    let mut tx = ctx.db().begin_write().await?;
    run_event(&mut tx, &user, admin, id).await?;
    let Some(member) = users::find_id_by_email(&mut tx, &email).await? else {
        return Err(AppError::invalid_field(
            "email",
            "No account has this email address",
        ));
    };
    events::add_staff(&mut tx, id, &member, ctx.now()).await?;
    let staff = staff_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(staff)
}

/// Takes someone off the event's door staff (404 when they were not on it).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id, user_id = %member))]
pub async fn remove_door_staff(
    ctx: &Ctx,
    id: &Id,
    member: &Id,
) -> Result<Vec<DoorStaff>, AppError> {
    let (user, admin) = organiser(ctx).await?;
    let mut tx = ctx.db().begin_write().await?;
    run_event(&mut tx, &user, admin, id).await?;
    if !events::remove_staff(&mut tx, id, member).await? {
        return Err(AppError::NotFound);
    }
    let staff = staff_of(&mut tx, id).await?;
    tx.commit().await?;
    Ok(staff)
}

/// The event's attendee list, for its organiser and admins (see
/// [`events::list_attendees`]).
#[tracing::instrument(level = "debug", skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn attendees(ctx: &Ctx, id: &Id) -> Result<(Event, Vec<events::AttendeeRow>), AppError> {
    let (user, admin) = organiser(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    let event = run_event(&mut conn, &user, admin, id).await?;
    let attendees = events::list_attendees(&mut conn, id).await?;
    Ok((event, attendees))
}

/// Deletes a draft (400 once published: its seats and orders are history).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn delete_draft(ctx: &Ctx, id: &Id) -> Result<(), AppError> {
    let (user, admin) = organiser(ctx).await?;
    let mut tx = ctx.db().begin_write().await?;
    events::lock_event(&mut tx, id).await?;
    let event = run_event(&mut tx, &user, admin, id).await?;
    if event.status != EventStatus::Draft || !events::delete_draft(&mut tx, id).await? {
        return Err(AppError::invalid(event::ALREADY_PUBLISHED));
    }
    tx.commit().await?;
    Ok(())
}

/// One of the events an organiser runs, as their list shows it.
#[derive(Debug, Clone)]
pub struct RunEvent {
    pub details: EventDetails,
    /// What its primary sales that stand came to (face value, before fees).
    pub gross_cents: i64,
}

/// The events the signed-in organiser runs (every event, for an admin), with their sales.
#[tracing::instrument(level = "debug", skip_all, fields(user = ctx.actor().map(tracing::field::display)))]
pub async fn my_events(ctx: &Ctx) -> Result<Vec<RunEvent>, AppError> {
    let list = events_run_by_me(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    let mut out = Vec::with_capacity(list.len());
    for details in list {
        let sales = events::primary_sales(&mut conn, &details.event.id).await?;
        out.push(RunEvent {
            gross_cents: sales.iter().map(|(_, cents)| cents).sum(),
            details,
        });
    }
    Ok(out)
}

/// Everything the organiser's page of one event shows.
#[derive(Debug, Clone)]
pub struct OrganisedEvent {
    pub details: EventDetails,
    pub staff: Vec<DoorStaff>,
    /// Tickets sold per day on the venue's clock, from the first sale to the last.
    pub sales_per_day: Vec<(chrono::NaiveDate, i64)>,
    pub gross_cents: i64,
    pub attendees: Vec<events::AttendeeRow>,
    /// Refunds of a cancellation: (done, all).
    pub refunds: (i64, i64),
}

/// The days of sales a chart shows at most (the latest).
const CHART_DAYS: usize = 120;

/// One event for the organiser who runs it (or an admin): 404 for a draft of another
/// organiser, 403 for a published one.
#[tracing::instrument(level = "debug", skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn organised_event(ctx: &Ctx, id: &Id) -> Result<OrganisedEvent, AppError> {
    let (user, admin) = organiser(ctx).await?;
    let mut conn = ctx.db().read.acquire().await?;
    let event = run_event(&mut conn, &user, admin, id).await?;
    let sales = events::primary_sales(&mut conn, id).await?;
    let mut per_day = std::collections::BTreeMap::new();
    for (at, _) in &sales {
        *per_day.entry(event.time_zone.local_date(*at)).or_insert(0) += 1;
    }
    let per_day: Vec<_> = per_day.into_iter().collect();
    let staff = staff_of(&mut conn, id).await?;
    let attendees = events::list_attendees(&mut conn, id).await?;
    let refunds = crate::ssr::storage::cancellations::progress(&mut conn, id).await?;
    let details = details_in(&mut conn, event, ctx.now()).await?;
    Ok(OrganisedEvent {
        details,
        staff,
        sales_per_day: crate::domain::chart::every_day(&per_day, CHART_DAYS),
        gross_cents: sales.iter().map(|(_, cents)| cents).sum(),
        attendees,
        refunds,
    })
}

/// What an organiser's page changes of an event: its details (keeping its sections), one
/// section (added, or changed by id), or one section removed.
pub enum EventChange {
    Details(EventInput),
    Section(event::SectionInput),
    RemoveSection(Id),
}

/// Applies one change from the organiser's page to the event as it stood at `version` (its
/// other parts given back as they are): a change made on a page that is out of date is 409,
/// never a silent undo of someone else's edit.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn change_event(
    ctx: &Ctx,
    id: &Id,
    version: i64,
    change: EventChange,
) -> Result<EventDetails, AppError> {
    let (user, admin) = organiser(ctx).await?;
    let (event, sections) = {
        let mut conn = ctx.db().read.acquire().await?;
        let event = run_event(&mut conn, &user, admin, id).await?;
        let sections = events::list_sections(&mut conn, id).await?;
        (event, sections)
    };
    let kept = sections.iter().map(event::section_input_of);
    let input = match change {
        EventChange::Details(details) => EventInput {
            sections: Ok(kept.collect()),
            ..details
        },
        EventChange::Section(section) => {
            let mut all: Vec<_> = kept.collect();
            match all
                .iter_mut()
                .find(|s| s.id.is_some() && s.id == section.id)
            {
                Some(slot) => *slot = section,
                None if section.id.is_none() => all.push(section),
                None => return Err(AppError::NotFound),
            }
            event::input_of(&event, all)
        }
        EventChange::RemoveSection(gone) => {
            if !sections.iter().any(|s| s.id == gone) {
                return Err(AppError::NotFound);
            }
            let rest = sections
                .iter()
                .filter(|s| s.id != gone)
                .map(event::section_input_of)
                .collect();
            event::input_of(&event, rest)
        }
    };
    edit_event(
        ctx,
        EditEvent {
            id: id.clone(),
            input,
            version: Some(version),
        },
    )
    .await
}

/// Uploads decoded at once on one node: each may hold a 40-megapixel image in memory.
static DECODING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Gives the event the image in `bytes` (its organiser or an admin; a cancelled event keeps
/// what it has): decoded and re-encoded at two widths ([`crate::ssr::images`]) on a blocking
/// thread, the copies kept in the database, and the event pointed at them. Who may is checked
/// before anything is decoded.
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id, bytes = bytes.len()))]
pub async fn set_image(ctx: &Ctx, id: &Id, bytes: Vec<u8>) -> Result<EventDetails, AppError> {
    use crate::ssr::images;
    let (user, admin) = organiser(ctx).await?;
    let event = run_event(&mut *ctx.db().read.acquire().await?, &user, admin, id).await?;
    if event.status == EventStatus::Cancelled {
        return Err(AppError::invalid(event::EVENT_CANCELLED));
    }
    let processed = {
        let _turn = DECODING.acquire().await.map_err(|err| {
            crate::ssr::error_response::internal(anyhow::anyhow!("decoding closed: {err}"))
        })?;
        tokio::task::spawn_blocking(move || images::process(&bytes))
            .await
            .map_err(|err| {
                crate::ssr::error_response::internal(anyhow::anyhow!("image decoding: {err}"))
            })?
            .map_err(|detail| AppError::Invalid(vec![detail]))?
    };
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    events::lock_event(&mut tx, id).await?;
    let event = run_event(&mut tx, &user, admin, id).await?;
    for copy in [&processed.large, &processed.small] {
        events::put_media(
            &mut tx,
            &copy.name,
            images::Encoded::CONTENT_TYPE,
            (copy.width, copy.height),
            &copy.bytes,
            now,
        )
        .await?;
    }
    events::set_image(
        &mut tx,
        id,
        Some((&processed.large.name, &processed.small.name)),
        now,
    )
    .await?;
    let details = updated(&mut tx, event.id, now).await?;
    tx.commit().await?;
    Ok(details)
}

/// Takes the event's image away (its copies stay kept: a page cached elsewhere may still name
/// them).
#[tracing::instrument(skip_all, fields(user = ctx.actor().map(tracing::field::display), event_id = %id))]
pub async fn remove_image(ctx: &Ctx, id: &Id) -> Result<EventDetails, AppError> {
    let (user, admin) = organiser(ctx).await?;
    let now = ctx.now();
    let mut tx = ctx.db().begin_write().await?;
    events::lock_event(&mut tx, id).await?;
    let event = run_event(&mut tx, &user, admin, id).await?;
    events::set_image(&mut tx, id, None, now).await?;
    let details = updated(&mut tx, event.id, now).await?;
    tx.commit().await?;
    Ok(details)
}

/// The event as it now stands after a change of its own fields, with `EventUpdated` logged.
async fn updated(
    conn: &mut AnyConnection,
    id: Id,
    now: Timestamp,
) -> Result<EventDetails, AppError> {
    let event = events::find_event(conn, &id)
        .await?
        .ok_or(AppError::NotFound)?;
    insert_event(conn, "EventUpdated", &event.id, event_payload(&event), now).await?;
    details_in(conn, event, now).await
}

/// A kept image copy by its name: (content type, bytes); 404 for any other name.
pub async fn media(ctx: &Ctx, name: &str) -> Result<(String, Vec<u8>), AppError> {
    if !crate::ssr::images::is_media_name(name) {
        return Err(AppError::NotFound);
    }
    events::find_media(&mut *ctx.db().read.acquire().await?, name)
        .await?
        .ok_or(AppError::NotFound)
}
