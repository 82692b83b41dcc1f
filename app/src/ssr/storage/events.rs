//! The `events`, `event_sections` and `event_staff` tables, and the seats an event puts on sale
//! (rows of `tickets` with an `event_id`).

use super::{Backend, backend};
use crate::domain::event::{Event, EventStatus, ResaleRule, Row, Seating, Section};
use crate::domain::{Category, Id, Price, Timestamp, Zone};
use sqlx::AnyConnection;

const COLUMNS: &str = "id, slug, organiser_id, name, category, venue, city, time_zone, starts_at, \
                       ends_at, description, image, image_small, status, cancel_reason, \
                       max_per_buyer, resale_enabled, resale_cap_percent, version, created_at";

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    slug: String,
    organiser_id: String,
    name: String,
    category: String,
    venue: String,
    city: String,
    time_zone: String,
    starts_at: i64,
    ends_at: Option<i64>,
    description: String,
    image: Option<String>,
    image_small: Option<String>,
    #[sqlx(try_from = "String")]
    status: EventStatus,
    cancel_reason: Option<String>,
    max_per_buyer: i64,
    resale_enabled: i64,
    resale_cap_percent: Option<i64>,
    version: i64,
    created_at: i64,
}

impl TryFrom<EventRow> for Event {
    type Error = sqlx::Error;

    fn try_from(row: EventRow) -> Result<Event, sqlx::Error> {
        let corrupt = |what: &str| sqlx::Error::Decode(format!("event {}: {what}", row.id).into());
        Ok(Event {
            category: Category::parse(Some(&row.category)).map_err(|_| corrupt("category"))?,
            time_zone: Zone::parse(&row.time_zone).map_err(|_| corrupt("time zone"))?,
            id: Id::from_trusted(row.id.clone()),
            slug: row.slug,
            organiser_id: Id::from_trusted(row.organiser_id),
            name: row.name,
            venue: row.venue,
            city: row.city,
            starts_at: Timestamp::from_millis(row.starts_at),
            ends_at: row.ends_at.map(Timestamp::from_millis),
            description: row.description,
            image: row.image,
            image_small: row.image_small,
            status: row.status,
            cancel_reason: row.cancel_reason,
            max_per_buyer: row.max_per_buyer as u32,
            resale: ResaleRule {
                enabled: row.resale_enabled == 1,
                cap_percent: row.resale_cap_percent.map(|p| p as u32),
            },
            version: row.version,
            created_at: Timestamp::from_millis(row.created_at),
        })
    }
}

/// The fields of an event that are derived from others and kept for queries: when it is over,
/// and the date and UTC offset at the venue when it starts.
fn derived(event: &Event) -> (i64, String, i64) {
    let over = event.ends_at.unwrap_or(
        event
            .starts_at
            .plus_millis(crate::domain::event::ASSUMED_LENGTH_MS),
    );
    let date = event.time_zone.local_date(event.starts_at);
    let offset = event.time_zone.utc_offset_minutes(event.starts_at);
    (over.millis(), date.format("%Y-%m-%d").to_string(), offset)
}

/// A new event (a draft, at version 0).
pub async fn insert_event(conn: &mut AnyConnection, event: &Event) -> Result<(), sqlx::Error> {
    let (over_at, local_date, offset) = derived(event);
    sqlx::query(
        "INSERT INTO events (id, slug, organiser_id, name, category, venue, city, time_zone, \
         starts_at, ends_at, over_at, local_date, utc_offset_minutes, description, image, status, \
         max_per_buyer, resale_enabled, resale_cap_percent, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
         $19, $20, $21, $21)",
    )
    .bind(event.id.as_str())
    .bind(&event.slug)
    .bind(event.organiser_id.as_str())
    .bind(&event.name)
    .bind(event.category.as_str())
    .bind(&event.venue)
    .bind(&event.city)
    .bind(event.time_zone.name())
    .bind(event.starts_at.millis())
    .bind(event.ends_at.map(Timestamp::millis))
    .bind(over_at)
    .bind(local_date)
    .bind(offset)
    .bind(&event.description)
    .bind(event.image.as_deref())
    .bind(event.status.as_str())
    .bind(i64::from(event.max_per_buyer))
    .bind(i64::from(event.resale.enabled))
    .bind(event.resale.cap_percent.map(i64::from))
    .bind(event.version)
    .bind(event.created_at.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes an event's own fields (not its status) and moves its version on, only if it is still
/// at `version`; false when someone else changed it first.
pub async fn update_event(
    conn: &mut AnyConnection,
    event: &Event,
    version: i64,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let (over_at, local_date, offset) = derived(event);
    let result = sqlx::query(
        "UPDATE events SET slug = $1, name = $2, category = $3, venue = $4, city = $5, \
         time_zone = $6, starts_at = $7, ends_at = $8, over_at = $9, local_date = $10, \
         utc_offset_minutes = $11, description = $12, max_per_buyer = $13, resale_enabled = $14, \
         resale_cap_percent = $15, version = version + 1, updated_at = $16 \
         WHERE id = $17 AND version = $18",
    )
    .bind(&event.slug)
    .bind(&event.name)
    .bind(event.category.as_str())
    .bind(&event.venue)
    .bind(&event.city)
    .bind(event.time_zone.name())
    .bind(event.starts_at.millis())
    .bind(event.ends_at.map(Timestamp::millis))
    .bind(over_at)
    .bind(local_date)
    .bind(offset)
    .bind(&event.description)
    .bind(i64::from(event.max_per_buyer))
    .bind(i64::from(event.resale.enabled))
    .bind(event.resale.cap_percent.map(i64::from))
    .bind(now.millis())
    .bind(event.id.as_str())
    .bind(version)
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Marks a draft published; false when it is no longer a draft.
pub async fn mark_published(
    conn: &mut AnyConnection,
    id: &Id,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE events SET status = 'published', published_at = $1, updated_at = $1, \
         version = version + 1 WHERE id = $2 AND status = 'draft'",
    )
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Cancels the event for `reason`, unless it was cancelled already. Returns whether it was.
pub async fn mark_cancelled(
    conn: &mut AnyConnection,
    id: &Id,
    reason: &str,
    now: Timestamp,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "UPDATE events SET status = 'cancelled', cancel_reason = $1, updated_at = $2, \
         version = version + 1 WHERE id = $3 AND status <> 'cancelled'",
    )
    .bind(reason)
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Takes the event's row for the rest of the transaction (PostgreSQL; SQLite's writer is one),
/// so that edits, publishing, cancelling and reservations of its seats ([`share_events_of`])
/// take turns.
pub async fn lock_event(conn: &mut AnyConnection, id: &Id) -> Result<(), sqlx::Error> {
    if backend(conn) == Backend::Postgres {
        sqlx::query("SELECT id FROM events WHERE id = $1 FOR NO KEY UPDATE")
            .bind(id.as_str())
            .fetch_optional(conn)
            .await?;
    }
    Ok(())
}

/// Holds the events of these tickets in share mode until the transaction ends (PostgreSQL):
/// reservations of an event's seats then take turns with its cancellation ([`lock_event`]),
/// which waits for those under way and is waited for by those that come after it.
pub async fn share_events_of(conn: &mut AnyConnection, tickets: &[&Id]) -> Result<(), sqlx::Error> {
    let Some(last) = tickets.last() else {
        return Ok(());
    };
    if backend(conn) != Backend::Postgres {
        return Ok(());
    }
    let (list, size) = super::in_list(tickets.len(), 1);
    let sql = format!(
        "SELECT id FROM events WHERE id IN (SELECT event_id FROM tickets WHERE id IN {list}) \
         ORDER BY id FOR SHARE"
    );
    let mut query = sqlx::query_scalar::<_, String>(&sql);
    for n in 0..size {
        query = query.bind(tickets.get(n).unwrap_or(last).as_str());
    }
    query.fetch_all(conn).await?;
    Ok(())
}

/// [`share_events_of`] for one event.
pub async fn share_event(conn: &mut AnyConnection, id: &Id) -> Result<(), sqlx::Error> {
    if backend(conn) == Backend::Postgres {
        sqlx::query("SELECT id FROM events WHERE id = $1 FOR SHARE")
            .bind(id.as_str())
            .fetch_optional(conn)
            .await?;
    }
    Ok(())
}

pub async fn find_event(conn: &mut AnyConnection, id: &Id) -> Result<Option<Event>, sqlx::Error> {
    let row: Option<EventRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM events WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(conn)
            .await?;
    row.map(Event::try_from).transpose()
}

pub async fn find_event_by_slug(
    conn: &mut AnyConnection,
    slug: &str,
) -> Result<Option<Event>, sqlx::Error> {
    let row: Option<EventRow> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM events WHERE slug = $1"))
            .bind(slug)
            .fetch_optional(conn)
            .await?;
    row.map(Event::try_from).transpose()
}

/// Slugs are handed out one transaction at a time until commit: on PostgreSQL two drafts of the
/// same name could otherwise both find a slug free and one would fail on `events.slug`'s unique
/// index (SQLite has one writer anyway).
const SLUG_LOCK: i64 = 0x7469_636b_736c;

pub async fn lock_slugs(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    if backend(conn) == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SLUG_LOCK)
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Whether another event has this slug.
pub async fn slug_taken(
    conn: &mut AnyConnection,
    slug: &str,
    other_than: &Id,
) -> Result<bool, sqlx::Error> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM events WHERE slug = $1 AND id <> $2")
            .bind(slug)
            .bind(other_than.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// The events an organiser runs (every event, for an admin), soonest first.
pub async fn list_run_by(
    conn: &mut AnyConnection,
    organiser: Option<&Id>,
) -> Result<Vec<Event>, sqlx::Error> {
    let rows: Vec<EventRow> = match organiser {
        Some(organiser) => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM events WHERE organiser_id = $1 ORDER BY starts_at, id"
            ))
            .bind(organiser.as_str())
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM events ORDER BY starts_at, id"
            ))
            .fetch_all(conn)
            .await?
        }
    };
    rows.into_iter().map(Event::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct SectionRow {
    id: String,
    event_id: String,
    position: i64,
    name: String,
    price_cents: i64,
    capacity: i64,
    seat_rows: Option<String>,
}

impl TryFrom<SectionRow> for Section {
    type Error = sqlx::Error;

    fn try_from(row: SectionRow) -> Result<Section, sqlx::Error> {
        let seating = match &row.seat_rows {
            None => Seating::General {
                capacity: row.capacity as u32,
            },
            Some(json) => Seating::Seated {
                rows: serde_json::from_str::<Vec<Row>>(json).map_err(|err| {
                    sqlx::Error::Decode(format!("section {}: rows: {err}", row.id).into())
                })?,
            },
        };
        Ok(Section {
            id: Id::from_trusted(row.id),
            event_id: Id::from_trusted(row.event_id),
            position: row.position as u32,
            name: row.name,
            price: Price::from_stored(row.price_cents),
            seating,
        })
    }
}

fn rows_json(seating: &Seating) -> Option<String> {
    match seating {
        Seating::General { .. } => None,
        Seating::Seated { rows } => serde_json::to_string(rows).ok(),
    }
}

/// The event's sections, in their order.
pub async fn list_sections(
    conn: &mut AnyConnection,
    event: &Id,
) -> Result<Vec<Section>, sqlx::Error> {
    let rows: Vec<SectionRow> = sqlx::query_as(
        "SELECT id, event_id, position, name, price_cents, capacity, seat_rows \
         FROM event_sections WHERE event_id = $1 AND removed_at IS NULL ORDER BY position, id",
    )
    .bind(event.as_str())
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Section::try_from).collect()
}

pub async fn insert_section(
    conn: &mut AnyConnection,
    section: &Section,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO event_sections (id, event_id, position, name, price_cents, capacity, \
         seat_rows, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(section.id.as_str())
    .bind(section.event_id.as_str())
    .bind(i64::from(section.position))
    .bind(&section.name)
    .bind(section.price.cents())
    .bind(i64::from(section.seating.capacity()))
    .bind(rows_json(&section.seating))
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_section(
    conn: &mut AnyConnection,
    section: &Section,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE event_sections SET position = $1, name = $2, price_cents = $3, capacity = $4, \
         seat_rows = $5, updated_at = $6 WHERE id = $7 AND event_id = $8",
    )
    .bind(i64::from(section.position))
    .bind(&section.name)
    .bind(section.price.cents())
    .bind(i64::from(section.seating.capacity()))
    .bind(rows_json(&section.seating))
    .bind(now.millis())
    .bind(section.id.as_str())
    .bind(section.event_id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a draft's section (a draft has no seats yet).
pub async fn delete_section(conn: &mut AnyConnection, id: &Id) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM event_sections WHERE id = $1")
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes a published event's section that has no seat sold or held: it and its unsold seats
/// go off sale (their rows stay, for the orders that once held them).
pub async fn remove_section(
    conn: &mut AnyConnection,
    id: &Id,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE event_sections SET removed_at = $1, updated_at = $1 WHERE id = $2")
        .bind(now.millis())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE tickets SET removed_at = $1, updated_at = $1 WHERE section_id = $2 \
         AND resold_from IS NULL AND removed_at IS NULL \
         AND (status = 'available' OR (status = 'reserved' AND reserved_until <= $1))",
    )
    .bind(now.millis())
    .bind(id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Copies an event's date, time and venue to its seats and their resale listings.
pub async fn copy_to_tickets(
    conn: &mut AnyConnection,
    event: &Event,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tickets SET venue = $1, starts_at = $2, time_zone = $3, category = $4, \
         updated_at = $5 WHERE event_id = $6",
    )
    .bind(&event.venue)
    .bind(event.starts_at.millis())
    .bind(event.time_zone.name())
    .bind(event.category.as_str())
    .bind(now.millis())
    .bind(event.id.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// How a section's seats stand at a moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeatCounts {
    pub sold: i64,
    /// Held by a live reservation.
    pub reserved: i64,
    /// On sale: neither sold nor held, not removed.
    pub available: i64,
}

/// Each section's seats at `now` (primary seats only: resale listings are never counted in a
/// section), by section id.
pub async fn seat_counts(
    conn: &mut AnyConnection,
    event: &Id,
    now: Timestamp,
) -> Result<std::collections::HashMap<Id, SeatCounts>, sqlx::Error> {
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT section_id, \
         SUM(CASE WHEN status = 'sold' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status = 'reserved' AND reserved_until > $2 THEN 1 ELSE 0 END), \
         SUM(CASE WHEN removed_at IS NULL AND (status = 'available' OR (status = 'reserved' AND reserved_until <= $2)) THEN 1 ELSE 0 END) \
         FROM tickets WHERE event_id = $1 AND section_id IS NOT NULL AND resold_from IS NULL \
         GROUP BY section_id",
    )
    .bind(event.as_str())
    .bind(now.millis())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(section, sold, reserved, available)| {
            (
                Id::from_trusted(section),
                SeatCounts {
                    sold,
                    reserved,
                    available,
                },
            )
        })
        .collect())
}

/// One seat to put on sale (see [`insert_seats`]).
pub struct NewSeat<'a> {
    pub id: Id,
    pub section: &'a Section,
    /// `Row C, Seat 12`, or `None` for general admission.
    pub seat: Option<String>,
    /// Its place front to back within the section.
    pub order: i64,
}

/// Columns bound for each seat in [`insert_seats`].
const SEAT_FIELDS: usize = 6;
/// Seats per statement: SQLite takes at most 32,766 bound values in one.
const SEATS_PER_STATEMENT: usize = 2_048;

/// Puts `seats` of `event` on sale: one ticket each, the organiser as seller, the section's
/// price as price and face value, titled `<event> — <section>`. A few statements for however
/// many seats (50,000 seats publish in seconds).
pub async fn insert_seats(
    conn: &mut AnyConnection,
    event: &Event,
    seats: &[NewSeat<'_>],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    for chunk in seats.chunks(SEATS_PER_STATEMENT) {
        // $1..$7 are the event's, the same for every seat; each seat binds its own after them.
        let shared = 7;
        let values = (0..chunk.len())
            .map(|n| {
                let at = shared + n * SEAT_FIELDS;
                let own = |k: usize| format!("${}", at + k);
                format!(
                    "({}, {}, {}, $1, $2, $3, $4, $5, $6, $6, {}, $7, {}, {}, {}, 'available')",
                    own(1),
                    own(2),
                    own(3),
                    own(3),
                    own(4),
                    own(5),
                    own(6),
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO tickets (id, title, price_cents, seller_id, category, venue, starts_at, \
             time_zone, created_at, updated_at, face_value_cents, event_id, section_id, seat, \
             seat_order, status) VALUES {values}"
        );
        let mut query = sqlx::query(&sql)
            .bind(event.organiser_id.as_str())
            .bind(event.category.as_str())
            .bind(&event.venue)
            .bind(event.starts_at.millis())
            .bind(event.time_zone.name())
            .bind(now.millis())
            .bind(event.id.as_str());
        for seat in chunk {
            query = query
                .bind(seat.id.as_str())
                .bind(seat_title(&event.name, &seat.section.name))
                .bind(seat.section.price.cents())
                .bind(seat.section.id.as_str())
                .bind(seat.seat.as_deref())
                .bind(seat.order);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// A seat's title: `<event name> — <section name>`, cut to a listing title's 120 characters.
pub fn seat_title(event: &str, section: &str) -> String {
    let title = format!("{event} — {section}");
    title.chars().take(120).collect()
}

/// Moves the unsold seats of a section to a new price (a held seat keeps its order's price).
pub async fn reprice_unsold_seats(
    conn: &mut AnyConnection,
    section: &Id,
    price: Price,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tickets SET price_cents = $1, face_value_cents = $1, version = version + 1, \
         updated_at = $2 WHERE section_id = $3 AND resold_from IS NULL AND status <> 'sold' \
         AND (status = 'available' OR reserved_until <= $2)",
    )
    .bind(price.cents())
    .bind(now.millis())
    .bind(section.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Seats of the section sold or held at `now` (a published section cannot shrink below them).
pub async fn taken_seats(
    conn: &mut AnyConnection,
    section: &Id,
    now: Timestamp,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets WHERE section_id = $1 AND resold_from IS NULL \
         AND (status = 'sold' OR (status = 'reserved' AND reserved_until > $2))",
    )
    .bind(section.as_str())
    .bind(now.millis())
    .fetch_one(conn)
    .await
}

/// The highest seat order of the section's tickets so far (0 without any).
pub async fn last_seat_order(conn: &mut AnyConnection, section: &Id) -> Result<i64, sqlx::Error> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(seat_order) FROM tickets WHERE section_id = $1")
            .bind(section.as_str())
            .fetch_one(conn)
            .await?;
    Ok(last.unwrap_or(0))
}

/// Takes `count` unsold, unheld places of a general admission section off sale, last places
/// first (a published general admission section shrinking).
pub async fn remove_free_places(
    conn: &mut AnyConnection,
    section: &Id,
    count: i64,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE tickets SET removed_at = $1, updated_at = $1 WHERE id IN (SELECT id FROM tickets \
         WHERE section_id = $2 AND resold_from IS NULL AND removed_at IS NULL \
         AND (status = 'available' OR (status = 'reserved' AND reserved_until <= $1)) \
         ORDER BY seat_order DESC LIMIT $3) \
         AND removed_at IS NULL AND (status = 'available' OR (status = 'reserved' AND reserved_until <= $1))",
    )
    .bind(now.millis())
    .bind(section.as_str())
    .bind(count)
    .execute(conn)
    .await?;
    Ok(())
}

/// The event a section belongs to and that event's status, if the section exists (and was not
/// removed).
pub async fn section_event(
    conn: &mut AnyConnection,
    section: &Id,
) -> Result<Option<(Id, EventStatus)>, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT e.id, e.status FROM event_sections s JOIN events e ON e.id = s.event_id \
         WHERE s.id = $1 AND s.removed_at IS NULL",
    )
    .bind(section.as_str())
    .fetch_optional(conn)
    .await?;
    row.map(|(id, status)| {
        EventStatus::parse(&status)
            .map(|status| (Id::from_trusted(id), status))
            .map_err(|err| sqlx::Error::Decode(Box::new(err)))
    })
    .transpose()
}

/// Up to `limit` seats of the section on sale at `now`, front-most first.
pub async fn free_seats(
    conn: &mut AnyConnection,
    section: &Id,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Id>, sqlx::Error> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM tickets WHERE section_id = $1 AND resold_from IS NULL \
         AND removed_at IS NULL AND seller_suspended = 0 \
         AND (status = 'available' OR (status = 'reserved' AND reserved_until <= $2)) \
         ORDER BY seat_order LIMIT $3",
    )
    .bind(section.as_str())
    .bind(now.millis())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(ids.into_iter().map(Id::from_trusted).collect())
}

/// The free seats of a section at `now` (on public sale, or held by a lapsed order), front-most
/// first: at most `limit`, each with its seat's label (`None` in general admission).
pub async fn free_seats_placed(
    conn: &mut AnyConnection,
    section: &Id,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<(Id, Option<String>)>, sqlx::Error> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT id, seat FROM tickets WHERE section_id = $1 AND resold_from IS NULL \
         AND removed_at IS NULL AND seller_suspended = 0 \
         AND (status = 'available' OR (status = 'reserved' AND reserved_until <= $2)) \
         ORDER BY seat_order LIMIT $3",
    )
    .bind(section.as_str())
    .bind(now.millis())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, seat)| (Id::from_trusted(id), seat))
        .collect())
}

/// Every seat of a section on the seat map, in seat order: its id, its label, and whether it
/// is free at `now` (on public sale, or held by a lapsed order).
pub async fn section_seats(
    conn: &mut AnyConnection,
    section: &Id,
    now: Timestamp,
) -> Result<Vec<(Id, Option<String>, bool)>, sqlx::Error> {
    let rows: Vec<(String, Option<String>, i64)> = sqlx::query_as(
        "SELECT id, seat, CASE WHEN seller_suspended = 0 AND (status = 'available' \
         OR (status = 'reserved' AND reserved_until <= $2)) THEN 1 ELSE 0 END \
         FROM tickets WHERE section_id = $1 AND resold_from IS NULL AND removed_at IS NULL \
         ORDER BY seat_order",
    )
    .bind(section.as_str())
    .bind(now.millis())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, seat, free)| (Id::from_trusted(id), seat, free == 1))
        .collect())
}

/// How many seats of a section are free at `now` (see [`free_seats_placed`]), counting no
/// further than `up_to`: an on-sale asks this of every buyer, and each answer reads at most
/// `up_to` index entries of seats on sale and of lapsed holds.
pub async fn count_free_seats(
    conn: &mut AnyConnection,
    section: &Id,
    now: Timestamp,
    up_to: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE section_id = $1 \
         AND status = 'available' AND resold_from IS NULL AND removed_at IS NULL \
         AND seller_suspended = 0 LIMIT $3) AS on_sale) \
         + (SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE section_id = $1 \
         AND status = 'reserved' AND reserved_until <= $2 AND resold_from IS NULL \
         AND removed_at IS NULL AND seller_suspended = 0 LIMIT $3) AS lapsed)",
    )
    .bind(section.as_str())
    .bind(now.millis())
    .bind(up_to)
    .fetch_one(conn)
    .await
}

/// What the catalogue of upcoming events is narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueFilter {
    /// Words every event's name, venue or city must contain (each also as a prefix).
    pub search: Option<Vec<String>>,
    pub category: Option<Category>,
    /// Inclusive dates on the venue's clock the event must start on (`YYYY-MM-DD`).
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Published events not yet over at `now`, soonest first, narrowed by `filter`: at most `limit`
/// from `offset`.
pub async fn list_catalogue(
    conn: &mut AnyConnection,
    filter: &CatalogueFilter,
    now: Timestamp,
    limit: i64,
    offset: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let backend = backend(conn);
    let mut sql =
        format!("SELECT {COLUMNS} FROM events WHERE status = 'published' AND over_at > $1");
    let mut next = 2;
    let mut push = |sql: &mut String, condition: &str| {
        sql.push_str(&condition.replace('?', &format!("${next}")));
        next += 1;
    };
    if filter.category.is_some() {
        push(&mut sql, " AND category = ?");
    }
    if filter.search.is_some() {
        match backend {
            Backend::Sqlite => push(
                &mut sql,
                " AND rowid IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)",
            ),
            Backend::Postgres => push(&mut sql, " AND search @@ to_tsquery('simple', ?)"),
        }
    }
    if filter.from.is_some() {
        push(&mut sql, " AND local_date >= ?");
    }
    if filter.to.is_some() {
        push(&mut sql, " AND local_date <= ?");
    }
    sql.push_str(&format!(
        " ORDER BY starts_at, id LIMIT ${next} OFFSET ${}",
        next + 1
    ));
    let mut query = sqlx::query_as::<_, EventRow>(&sql).bind(now.millis());
    if let Some(category) = filter.category {
        query = query.bind(category.as_str());
    }
    if let Some(terms) = &filter.search {
        query = query.bind(super::tickets::search_query(backend, terms));
    }
    if let Some(from) = &filter.from {
        query = query.bind(from.clone());
    }
    if let Some(to) = &filter.to {
        query = query.bind(to.clone());
    }
    let rows = query.bind(limit).bind(offset).fetch_all(conn).await?;
    rows.into_iter().map(Event::try_from).collect()
}

/// The lowest price of the event's resale listings on sale at `now`, in cents.
pub async fn resale_from_cents(
    conn: &mut AnyConnection,
    event: &Id,
    now: Timestamp,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(&format!(
        "SELECT MIN(price_cents) FROM tickets WHERE event_id = $2 AND resold_from IS NOT NULL \
         AND {}",
        super::tickets::ON_SALE
    ))
    .bind(now.millis())
    .bind(event.as_str())
    .fetch_one(conn)
    .await
}

/// Lets `user` scan codes at the event's door (nothing changes when they may already).
pub async fn add_staff(
    conn: &mut AnyConnection,
    event: &Id,
    user: &Id,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO event_staff (event_id, user_id, added_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(event.as_str())
    .bind(user.as_str())
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes `user` off the event's door staff; whether they were on it.
pub async fn remove_staff(
    conn: &mut AnyConnection,
    event: &Id,
    user: &Id,
) -> Result<bool, sqlx::Error> {
    let result = sqlx::query("DELETE FROM event_staff WHERE event_id = $1 AND user_id = $2")
        .bind(event.as_str())
        .bind(user.as_str())
        .execute(conn)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// The event's door staff, (id, email), in the order they were added.
pub async fn list_staff(
    conn: &mut AnyConnection,
    event: &Id,
) -> Result<Vec<(Id, String)>, sqlx::Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT u.id, u.email FROM event_staff s JOIN users u ON u.id = s.user_id \
         WHERE s.event_id = $1 ORDER BY s.added_at, u.id",
    )
    .bind(event.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, email)| (Id::from_trusted(id), email))
        .collect())
}

/// Whether the event's organiser named `user` door staff.
pub async fn is_staff(
    conn: &mut AnyConnection,
    event: &Id,
    user: &Id,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM event_staff WHERE event_id = $1 AND user_id = $2")
            .bind(event.as_str())
            .bind(user.as_str())
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Published events not yet over at `now` whose door `user` may open as their organiser or
/// door staff (with `None`, every such event: for admins and global staff), soonest first.
pub async fn list_doors(
    conn: &mut AnyConnection,
    user: Option<&Id>,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<Event>, sqlx::Error> {
    let rows: Vec<EventRow> = match user {
        Some(user) => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM events WHERE status = 'published' AND over_at > $1 \
                 AND (organiser_id = $2 OR EXISTS (SELECT 1 FROM event_staff s \
                   WHERE s.event_id = events.id AND s.user_id = $2)) \
                 ORDER BY starts_at, id LIMIT $3"
            ))
            .bind(now.millis())
            .bind(user.as_str())
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM events WHERE status = 'published' AND over_at > $1 \
                 ORDER BY starts_at, id LIMIT $2"
            ))
            .bind(now.millis())
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
    };
    rows.into_iter().map(Event::try_from).collect()
}

/// One seat of an event as the organiser's attendee list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendeeRow {
    pub ticket_id: Id,
    pub email: String,
    pub section: String,
    pub seat: Option<String>,
    pub code_status: crate::domain::custody::CodeStatus,
    pub used_at: Option<Timestamp>,
}

/// Every sold seat of the event with its holder now: for each seat, the newest code issued for
/// it (its holder and state), while its ticket is sold (a seat refunded and back on sale is
/// nobody's). In section order, then seat order.
pub async fn list_attendees(
    conn: &mut AnyConnection,
    event: &Id,
) -> Result<Vec<AttendeeRow>, sqlx::Error> {
    type Row = (String, String, String, Option<String>, String, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT c.ticket_id, u.email, s.name, t.seat, c.status, c.used_at \
         FROM ticket_codes c JOIN tickets t ON t.id = c.ticket_id \
         JOIN users u ON u.id = c.holder_id JOIN event_sections s ON s.id = t.section_id \
         LEFT JOIN tickets origin ON origin.id = c.seat_id \
         WHERE t.event_id = $1 AND t.status = 'sold' AND NOT EXISTS (SELECT 1 FROM ticket_codes n \
           WHERE n.seat_id = c.seat_id AND (n.issued_at > c.issued_at \
             OR (n.issued_at = c.issued_at AND n.code > c.code))) \
         ORDER BY s.position, COALESCE(origin.seat_order, 0), c.seat_id",
    )
    .bind(event.as_str())
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(ticket_id, email, section, seat, status, used_at)| {
            Ok(AttendeeRow {
                ticket_id: Id::from_trusted(ticket_id),
                email,
                section,
                seat,
                code_status: crate::domain::custody::CodeStatus::parse(&status)
                    .map_err(|err| sqlx::Error::Decode(Box::new(err)))?,
                used_at: used_at.map(Timestamp::from_millis),
            })
        })
        .collect()
}

/// Deletes a draft with its sections (a draft has no seats, orders or staff history to keep).
pub async fn delete_draft(conn: &mut AnyConnection, id: &Id) -> Result<bool, sqlx::Error> {
    sqlx::query("DELETE FROM event_staff WHERE event_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM event_sections WHERE event_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
    let result = sqlx::query("DELETE FROM events WHERE id = $1 AND status = 'draft'")
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The event's primary sales that stand: for each completed order of one of its organiser's
/// seats (not a resale), when it completed and its price.
pub async fn primary_sales(
    conn: &mut AnyConnection,
    event: &Id,
) -> Result<Vec<(Timestamp, i64)>, sqlx::Error> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT o.updated_at, o.price_cents FROM orders o JOIN tickets t ON t.id = o.ticket_id \
         WHERE t.event_id = $1 AND t.resold_from IS NULL AND o.status = 'complete' \
         ORDER BY o.updated_at",
    )
    .bind(event.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(at, cents)| (Timestamp::from_millis(at), cents))
        .collect())
}

/// Keeps an image copy (named by the hash of its bytes, so the same bytes are kept once).
pub async fn put_media(
    conn: &mut AnyConnection,
    name: &str,
    content_type: &str,
    (width, height): (u32, u32),
    bytes: &[u8],
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO media (id, content_type, width, height, bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
    )
    .bind(name)
    .bind(content_type)
    .bind(i64::from(width))
    .bind(i64::from(height))
    .bind(bytes)
    .bind(now.millis())
    .execute(conn)
    .await?;
    Ok(())
}

/// A kept image copy: its content type and bytes.
pub async fn find_media(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    sqlx::query_as("SELECT content_type, bytes FROM media WHERE id = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
}

/// Sets (or, with `None`, removes) the event's image copies and moves its version on.
pub async fn set_image(
    conn: &mut AnyConnection,
    event: &Id,
    images: Option<(&str, &str)>,
    now: Timestamp,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE events SET image = $1, image_small = $2, version = version + 1, updated_at = $3 \
         WHERE id = $4",
    )
    .bind(images.map(|(large, _)| large))
    .bind(images.map(|(_, small)| small))
    .bind(now.millis())
    .bind(event.as_str())
    .execute(conn)
    .await?;
    Ok(())
}
