//! Events: what an organiser puts on sale. An event has a name, a venue, a time on the venue's
//! clock and sections of seats (general admission with a capacity, or seated rows of numbered
//! seats). Publishing it puts one ticket per seat on sale. The rules here parse what an
//! organiser types and decide what may change once seats are sold; nothing here reads a clock
//! (the time is a parameter) or a database.

use super::role::Roles;
use super::text::clean_line;
use super::ticket::parse_starts_at;
use super::{Category, DomainError, ErrorDetail, Id, Price, Timestamp, Zone};
use unicode_normalization::UnicodeNormalization;

pub const NAME_MAX_CHARS: usize = 120;
pub const VENUE_MAX_CHARS: usize = 120;
pub const CITY_MAX_CHARS: usize = 80;
pub const DESCRIPTION_MAX_CHARS: usize = 5_000;
pub const SECTION_NAME_MAX_CHARS: usize = 60;
pub const ROW_LABEL_MAX_CHARS: usize = 8;
/// The most seats of a general admission section.
pub const CAPACITY_MAX: u32 = 50_000;
pub const ROWS_MAX: usize = 200;
pub const SEATS_PER_ROW_MAX: u32 = 200;
/// The most sections of one event.
pub const SECTIONS_MAX: usize = 50;
/// The most seats one buyer may hold for an event, unless the organiser says otherwise.
pub const MAX_PER_BUYER_DEFAULT: u32 = 8;
pub const MAX_PER_BUYER_MAX: u32 = 20;
/// An event without an end is over this long after it starts.
pub const ASSUMED_LENGTH_MS: i64 = 6 * 60 * 60 * 1000;

pub const NAME_REQUIRED: &str = "Name is required";
pub const NAME_TOO_LONG: &str = "Name must be at most 120 characters";
pub const VENUE_REQUIRED: &str = "Venue is required";
pub const VENUE_TOO_LONG: &str = "Venue must be at most 120 characters";
pub const CITY_TOO_LONG: &str = "City must be at most 80 characters";
pub const DESCRIPTION_TOO_LONG: &str = "Description must be at most 5,000 characters";
pub const STARTS_AT_REQUIRED: &str = "Start time is required";
pub const MUST_START_IN_FUTURE: &str = "The event must start in the future";
pub const ENDS_BEFORE_START: &str = "The end must be after the start";
pub const MAX_PER_BUYER_INVALID: &str = "Tickets per buyer must be a whole number from 1 to 20";
pub const RESALE_CAP_INVALID: &str = "Resale cap must be a whole percentage from 100";
pub const RESALE_CAP_ABOVE_SITE: &str = "Resale cap must not exceed the site's cap";
pub const SECTION_NAME_REQUIRED: &str = "Section name is required";
pub const SECTION_NAME_TOO_LONG: &str = "Section name must be at most 60 characters";
pub const SECTION_NAMES_REPEAT: &str = "Each section needs a name of its own";
pub const CAPACITY_INVALID: &str = "Capacity must be a whole number from 1 to 50,000";
pub const SEATING_BOTH: &str = "A section has either a capacity or rows of seats, not both";
pub const ROWS_INVALID: &str = "A seated section has from 1 to 200 rows";
pub const ROW_LABEL_INVALID: &str = "Row labels are 1 to 8 characters";
pub const ROW_LABELS_REPEAT: &str = "Each row needs a label of its own";
pub const SEATS_INVALID: &str = "A row has from 1 to 200 seats";
pub const TOO_MANY_SECTIONS: &str = "An event has at most 50 sections";
pub const ADD_A_SECTION: &str = "Add a section first";
pub const ALREADY_PUBLISHED: &str = "Event is already published";
pub const EVENT_CANCELLED: &str = "Event is cancelled";
pub const ALREADY_CANCELLED: &str = "Event is already cancelled";
pub const EVENT_IS_PAST: &str = "The event is over";
pub const SECTION_SOLD_OUT: &str = "This section is sold out";
pub const RESALE_NOT_ALLOWED: &str = "Resale is not allowed for this event";
pub const CHOOSE_THE_EVENT: &str = "Choose the event";
pub const CAPACITY_BELOW_TAKEN: &str =
    "Capacity cannot shrink below the seats already sold or held";
pub const SECTION_HAS_SALES: &str = "A section with sold or held seats cannot be removed";
pub const SEATING_FIXED: &str = "A published section keeps its kind of seating";

/// Where an event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    /// Seen only by its organiser and admins; edited freely.
    Draft,
    /// Its seats are on sale.
    Published,
    /// Called off: every order refunded, every code revoked.
    Cancelled,
}

super::error::stored_status!(EventStatus, "event");

impl EventStatus {
    pub const ALL: [EventStatus; 3] = [
        EventStatus::Draft,
        EventStatus::Published,
        EventStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Draft => "draft",
            EventStatus::Published => "published",
            EventStatus::Cancelled => "cancelled",
        }
    }
}

/// A row of a seated section: its label as the organiser gave it, and how many seats it has
/// (numbered from 1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    pub label: String,
    pub seats: u32,
}

/// How a section's seats are sold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seating {
    /// Anyone with a ticket stands anywhere: `capacity` tickets, no seat numbers.
    General { capacity: u32 },
    /// Numbered seats in rows, front to back in the order given.
    Seated { rows: Vec<Row> },
}

impl Seating {
    /// How many tickets the section has.
    pub fn capacity(&self) -> u32 {
        match self {
            Seating::General { capacity } => *capacity,
            Seating::Seated { rows } => rows.iter().map(|row| row.seats).sum(),
        }
    }

    /// The label of each of the section's seats, front to back, in the order tickets are made
    /// for them; `None` for each place of a general admission section.
    pub fn seats(&self) -> Vec<Option<String>> {
        match self {
            Seating::General { capacity } => vec![None; *capacity as usize],
            Seating::Seated { rows } => rows
                .iter()
                .flat_map(|row| (1..=row.seats).map(|n| Some(seat_label(&row.label, n))))
                .collect(),
        }
    }

    pub fn is_seated(&self) -> bool {
        matches!(self, Seating::Seated { .. })
    }
}

/// `Row C, Seat 12`.
pub fn seat_label(row: &str, seat: u32) -> String {
    format!("Row {row}, Seat {seat}")
}

/// Where the seat labelled `label` (as [`seat_label`] writes it) is among `rows`: the row's
/// place front to back and the seat's number. `None` for general admission or a label of a
/// row no longer there.
pub fn seat_place(rows: &[Row], label: &str) -> Option<super::best_available::Place> {
    // The number is after the last ", Seat ": a row label may itself contain one.
    let (row, number) = label.strip_prefix("Row ")?.rsplit_once(", Seat ")?;
    Some(super::best_available::Place {
        row: rows.iter().position(|r| r.label == row)?,
        number: number.parse().ok()?,
    })
}

/// A section (a ticket type) as its organiser wrote it: its id when it already exists.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionDraft {
    pub id: Option<Id>,
    pub name: String,
    /// The face value of each of its seats.
    pub price: Price,
    pub seating: Seating,
}

/// Whether the event's tickets may be resold, and at most for what share of face value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResaleRule {
    pub enabled: bool,
    /// At most this percent of face value (never above the site's `RESALE_PRICE_CAP_PERCENT`).
    pub cap_percent: Option<u32>,
}

impl Default for ResaleRule {
    fn default() -> Self {
        ResaleRule {
            enabled: true,
            cap_percent: None,
        }
    }
}

/// Everything an organiser writes into an event, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    pub name: String,
    pub category: Category,
    pub venue: String,
    pub city: String,
    pub time_zone: Zone,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    /// Plain text; blank lines make paragraphs.
    pub description: String,
    pub max_per_buyer: u32,
    pub resale: ResaleRule,
    pub sections: Vec<SectionDraft>,
}

/// An event's fields as given (a JSON body or a form), each already read as text or a number;
/// a field of the wrong type arrives as its error.
#[derive(Debug, Clone)]
pub struct EventInput {
    pub name: Option<String>,
    pub category: Option<String>,
    pub venue: Option<String>,
    pub city: Option<String>,
    pub time_zone: Option<String>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub description: Option<String>,
    pub max_per_buyer: Result<Option<i64>, ErrorDetail>,
    pub resale_enabled: Result<Option<bool>, ErrorDetail>,
    pub resale_cap_percent: Result<Option<i64>, ErrorDetail>,
    pub sections: Result<Vec<SectionInput>, ErrorDetail>,
}

/// A section as given.
#[derive(Debug, Clone)]
pub struct SectionInput {
    pub id: Option<String>,
    pub name: Option<String>,
    pub price: Result<Price, ErrorDetail>,
    pub capacity: Result<Option<i64>, ErrorDetail>,
    pub rows: Result<Option<Vec<RowInput>>, ErrorDetail>,
}

/// A row as given.
#[derive(Debug, Clone)]
pub struct RowInput {
    pub label: Option<String>,
    pub seats: Result<i64, ErrorDetail>,
}

/// What the site allows every event (settings), for [`EventDraft::parse`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SiteRules {
    /// `RESALE_PRICE_CAP_PERCENT`: an event's own cap may only be lower.
    pub resale_cap_percent: Option<u32>,
}

impl EventDraft {
    /// Validates every field and reports all invalid ones together, each under its field
    /// (`sections[1].rows[0].label` for one inside a section). `now` is when it is written:
    /// with `must_start_after_now`, a start that is not after it is refused.
    pub fn parse(
        input: EventInput,
        site: SiteRules,
        now: Timestamp,
        must_start_after_now: bool,
    ) -> Result<EventDraft, DomainError> {
        let mut errors = Vec::new();
        let name = keep(
            &mut errors,
            required_line(
                "name",
                "Name",
                input.name.as_deref(),
                NAME_MAX_CHARS,
                NAME_REQUIRED,
                NAME_TOO_LONG,
            ),
        );
        let category = keep(&mut errors, Category::parse(input.category.as_deref()));
        let venue = keep(
            &mut errors,
            required_line(
                "venue",
                "Venue",
                input.venue.as_deref(),
                VENUE_MAX_CHARS,
                VENUE_REQUIRED,
                VENUE_TOO_LONG,
            ),
        );
        let city = keep(
            &mut errors,
            optional_line(
                "city",
                "City",
                input.city.as_deref(),
                CITY_MAX_CHARS,
                CITY_TOO_LONG,
            ),
        );
        let description = keep(&mut errors, parse_description(input.description.as_deref()));
        let time_zone = keep(
            &mut errors,
            Zone::parse(input.time_zone.as_deref().unwrap_or_default()),
        );
        // A wall-clock time is read in the venue's zone; without a zone it cannot be placed,
        // and only the zone is reported.
        let (starts_at, ends_at) = match time_zone {
            Some(zone) => {
                let starts = keep(
                    &mut errors,
                    parse_starts_at(input.starts_at.as_deref(), Some(zone)).and_then(|at| {
                        at.ok_or_else(|| ErrorDetail::field("startsAt", STARTS_AT_REQUIRED))
                    }),
                );
                let ends = keep(
                    &mut errors,
                    parse_starts_at(input.ends_at.as_deref(), Some(zone))
                        .map_err(|err| ErrorDetail::field("endsAt", &err.message)),
                );
                (starts, ends)
            }
            None => (None, None),
        };
        if let Some(starts) = starts_at {
            if must_start_after_now && starts.millis() <= now.millis() {
                errors.push(ErrorDetail::field("startsAt", MUST_START_IN_FUTURE));
            }
            if let Some(Some(ends)) = ends_at
                && ends.millis() <= starts.millis()
            {
                errors.push(ErrorDetail::field("endsAt", ENDS_BEFORE_START));
            }
        }
        let max_per_buyer = keep(
            &mut errors,
            input.max_per_buyer.and_then(|given| match given {
                None => Ok(MAX_PER_BUYER_DEFAULT),
                Some(n) if (1..=i64::from(MAX_PER_BUYER_MAX)).contains(&n) => Ok(n as u32),
                Some(_) => Err(ErrorDetail::field("maxPerBuyer", MAX_PER_BUYER_INVALID)),
            }),
        );
        let resale_enabled = keep(
            &mut errors,
            input.resale_enabled.map(|given| given.unwrap_or(true)),
        );
        let cap_percent = keep(
            &mut errors,
            input.resale_cap_percent.and_then(|given| match given {
                None => Ok(None),
                Some(n) if !(100..=1_000).contains(&n) => {
                    Err(ErrorDetail::field("resale.capPercent", RESALE_CAP_INVALID))
                }
                Some(n)
                    if site
                        .resale_cap_percent
                        .is_some_and(|site| n > i64::from(site)) =>
                {
                    Err(ErrorDetail::field(
                        "resale.capPercent",
                        RESALE_CAP_ABOVE_SITE,
                    ))
                }
                Some(n) => Ok(Some(n as u32)),
            }),
        );
        let sections = match input.sections {
            Ok(sections) => parse_sections(sections, &mut errors),
            Err(err) => {
                errors.push(err);
                None
            }
        };
        if !errors.is_empty() {
            return Err(DomainError::Invalid(errors));
        }
        match (
            name,
            category,
            venue,
            city,
            description,
            time_zone,
            starts_at,
            ends_at,
            max_per_buyer,
            resale_enabled,
            cap_percent,
            sections,
        ) {
            (
                Some(name),
                Some(category),
                Some(venue),
                Some(city),
                Some(description),
                Some(time_zone),
                Some(starts_at),
                Some(ends_at),
                Some(max_per_buyer),
                Some(enabled),
                Some(cap_percent),
                Some(sections),
            ) => Ok(EventDraft {
                name,
                category,
                venue,
                city,
                time_zone,
                starts_at,
                ends_at,
                description,
                max_per_buyer,
                resale: ResaleRule {
                    enabled,
                    cap_percent,
                },
                sections,
            }),
            _ => Err(DomainError::invalid("Invalid event")),
        }
    }

    /// All the seats of all its sections.
    pub fn capacity(&self) -> u32 {
        self.sections.iter().map(|s| s.seating.capacity()).sum()
    }
}

/// `result`'s value, or `None` with its error noted.
fn keep<T>(errors: &mut Vec<ErrorDetail>, result: Result<T, ErrorDetail>) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(err) => {
            errors.push(err);
            None
        }
    }
}

fn required_line(
    field: &str,
    label: &str,
    input: Option<&str>,
    max: usize,
    required: &str,
    too_long: &str,
) -> Result<String, ErrorDetail> {
    let text = clean_line(field, label, input.unwrap_or_default())?;
    if text.is_empty() {
        Err(ErrorDetail::field(field, required))
    } else if text.chars().count() > max {
        Err(ErrorDetail::field(field, too_long))
    } else {
        Ok(text)
    }
}

fn optional_line(
    field: &str,
    label: &str,
    input: Option<&str>,
    max: usize,
    too_long: &str,
) -> Result<String, ErrorDetail> {
    let text = clean_line(field, label, input.unwrap_or_default())?;
    if text.chars().count() > max {
        Err(ErrorDetail::field(field, too_long))
    } else {
        Ok(text)
    }
}

/// Plain text of several paragraphs: NFC, trimmed, line breaks kept (`\r\n` read as `\n`), tabs
/// read as spaces, and no other control or invisible formatting characters.
pub fn parse_description(input: Option<&str>) -> Result<String, ErrorDetail> {
    let text: String = input
        .unwrap_or_default()
        .replace("\r\n", "\n")
        .replace('\t', " ")
        .nfc()
        .collect();
    let text = text.trim();
    if text
        .chars()
        .any(|c| (c.is_control() && c != '\n') || super::text::is_invisible_format(c))
    {
        return Err(ErrorDetail::field(
            "description",
            "Description must not contain control or invisible characters",
        ));
    }
    if text.chars().count() > DESCRIPTION_MAX_CHARS {
        return Err(ErrorDetail::field("description", DESCRIPTION_TOO_LONG));
    }
    Ok(text.to_string())
}

/// The description's paragraphs: split at blank lines, each a list of its lines.
pub fn paragraphs(description: &str) -> Vec<Vec<&str>> {
    description
        .split("\n\n")
        .map(|p| {
            p.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

fn parse_sections(
    sections: Vec<SectionInput>,
    errors: &mut Vec<ErrorDetail>,
) -> Option<Vec<SectionDraft>> {
    if sections.len() > SECTIONS_MAX {
        errors.push(ErrorDetail::field("sections", TOO_MANY_SECTIONS));
        return None;
    }
    let before = errors.len();
    let mut parsed = Vec::with_capacity(sections.len());
    let mut names = std::collections::HashSet::new();
    for (n, section) in sections.into_iter().enumerate() {
        let at = |field: &str| format!("sections[{n}].{field}");
        let mut failed = |err: ErrorDetail, field: &str| {
            errors.push(ErrorDetail::field(&at(field), &err.message));
        };
        let id = match section
            .id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => None,
            Some(text) => match Id::parse(text) {
                Ok(id) => Some(id),
                Err(_) => {
                    failed(ErrorDetail::field("id", "Unknown section"), "id");
                    None
                }
            },
        };
        let name = match required_line(
            "name",
            "Section name",
            section.name.as_deref(),
            SECTION_NAME_MAX_CHARS,
            SECTION_NAME_REQUIRED,
            SECTION_NAME_TOO_LONG,
        ) {
            Ok(name) if !names.insert(name.to_lowercase()) => {
                failed(ErrorDetail::field("name", SECTION_NAMES_REPEAT), "name");
                None
            }
            Ok(name) => Some(name),
            Err(err) => {
                failed(err, "name");
                None
            }
        };
        let price = match section.price {
            Ok(price) => Some(price),
            Err(err) => {
                failed(err, "price");
                None
            }
        };
        let seating = match (section.capacity, section.rows) {
            (Err(err), _) => {
                failed(err, "capacity");
                None
            }
            (_, Err(err)) => {
                failed(err, "seating.rows");
                None
            }
            (Ok(Some(_)), Ok(Some(_))) => {
                failed(ErrorDetail::field("capacity", SEATING_BOTH), "capacity");
                None
            }
            (Ok(Some(capacity)), Ok(None)) => {
                if (1..=i64::from(CAPACITY_MAX)).contains(&capacity) {
                    Some(Seating::General {
                        capacity: capacity as u32,
                    })
                } else {
                    failed(ErrorDetail::field("capacity", CAPACITY_INVALID), "capacity");
                    None
                }
            }
            (Ok(None), Ok(None)) => {
                failed(ErrorDetail::field("capacity", CAPACITY_INVALID), "capacity");
                None
            }
            (Ok(None), Ok(Some(rows))) => parse_rows(rows, n, errors),
        };
        if let (Some(name), Some(price), Some(seating)) = (name, price, seating) {
            parsed.push(SectionDraft {
                id,
                name,
                price,
                seating,
            });
        }
    }
    (errors.len() == before).then_some(parsed)
}

fn parse_rows(
    rows: Vec<RowInput>,
    section: usize,
    errors: &mut Vec<ErrorDetail>,
) -> Option<Seating> {
    if rows.is_empty() || rows.len() > ROWS_MAX {
        errors.push(ErrorDetail::field(
            &format!("sections[{section}].seating.rows"),
            ROWS_INVALID,
        ));
        return None;
    }
    let before = errors.len();
    let mut labels = std::collections::HashSet::new();
    let mut parsed = Vec::with_capacity(rows.len());
    for (r, row) in rows.into_iter().enumerate() {
        let at = |field: &str| format!("sections[{section}].seating.rows[{r}].{field}");
        let label = match clean_line(
            "label",
            "Row label",
            row.label.as_deref().unwrap_or_default(),
        ) {
            Ok(label) if label.is_empty() || label.chars().count() > ROW_LABEL_MAX_CHARS => {
                errors.push(ErrorDetail::field(&at("label"), ROW_LABEL_INVALID));
                None
            }
            Ok(label) if !labels.insert(label.to_lowercase()) => {
                errors.push(ErrorDetail::field(&at("label"), ROW_LABELS_REPEAT));
                None
            }
            Ok(label) => Some(label),
            Err(err) => {
                errors.push(ErrorDetail::field(&at("label"), &err.message));
                None
            }
        };
        let seats = match row.seats {
            Ok(n) if (1..=i64::from(SEATS_PER_ROW_MAX)).contains(&n) => Some(n as u32),
            Ok(_) => {
                errors.push(ErrorDetail::field(&at("seats"), SEATS_INVALID));
                None
            }
            Err(err) => {
                errors.push(ErrorDetail::field(&at("seats"), &err.message));
                None
            }
        };
        if let (Some(label), Some(seats)) = (label, seats) {
            parsed.push(Row { label, seats });
        }
    }
    (errors.len() == before).then_some(Seating::Seated { rows: parsed })
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Id,
    /// Its address, `/events/<slug>`: fixed once published.
    pub slug: String,
    pub organiser_id: Id,
    pub name: String,
    pub category: Category,
    pub venue: String,
    pub city: String,
    pub time_zone: Zone,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub description: String,
    /// The stored image's name (`/media/<image>`, 1200 px wide at most), when it has one.
    pub image: Option<String>,
    /// The same image 400 px wide at most, for cards.
    pub image_small: Option<String>,
    pub status: EventStatus,
    pub cancel_reason: Option<String>,
    pub max_per_buyer: u32,
    pub resale: ResaleRule,
    pub version: i64,
    pub created_at: Timestamp,
}

impl Event {
    /// See [`is_past`].
    pub fn is_past(&self, now: Timestamp) -> bool {
        is_past(self.starts_at, self.ends_at, now)
    }

    /// Who may edit, publish and cancel it, see its draft and its attendees: its organiser, and
    /// every admin.
    pub fn is_run_by(&self, user: &Id, admin: bool) -> bool {
        admin || &self.organiser_id == user
    }

    /// Who may scan codes at its door: admins and global staff, its organiser, and the door
    /// staff its organiser named (`on_door_staff`).
    pub fn door_open_to(&self, user: &Id, roles: Roles, on_door_staff: bool) -> bool {
        roles.checks_in() || self.is_run_by(user, roles.is_admin()) || on_door_staff
    }

    /// Whether it may be published at `now` with `sections` sections.
    pub fn check_publish(&self, now: Timestamp, sections: usize) -> Result<(), DomainError> {
        match self.status {
            EventStatus::Published => return Err(DomainError::invalid(ALREADY_PUBLISHED)),
            EventStatus::Cancelled => return Err(DomainError::invalid(EVENT_CANCELLED)),
            EventStatus::Draft => {}
        }
        if self.starts_at.millis() <= now.millis() {
            return Err(DomainError::Invalid(vec![ErrorDetail::field(
                "startsAt",
                MUST_START_IN_FUTURE,
            )]));
        }
        if sections == 0 {
            return Err(DomainError::invalid(ADD_A_SECTION));
        }
        Ok(())
    }

    /// The cap on resale prices of its tickets, for a holder who lists one: its own percent of
    /// face value, or the site's (`site`) when that is tighter or it has none. Refused when the
    /// organiser turned resale off, or the event is cancelled.
    pub fn resale_cap(
        &self,
        site: Option<super::fees::Percent>,
    ) -> Result<Option<super::fees::Percent>, DomainError> {
        if self.status == EventStatus::Cancelled {
            return Err(DomainError::invalid(EVENT_CANCELLED));
        }
        if !self.resale.enabled {
            return Err(DomainError::invalid(RESALE_NOT_ALLOWED));
        }
        let own = self
            .resale
            .cap_percent
            .map(|percent| super::fees::Percent::from_hundredths(percent.saturating_mul(100)));
        Ok(match (own, site) {
            (Some(own), Some(site)) => Some(own.min(site)),
            (own, site) => own.or(site),
        })
    }

    /// Whether holders must be told of this edit of `before`: its date, time or venue changed
    /// (on the venue's clock, so a new time zone counts too).
    pub fn moved_from(&self, before: &Event) -> bool {
        self.starts_at != before.starts_at
            || self.time_zone != before.time_zone
            || self.venue != before.venue
            || self.city != before.city
    }

    /// Whether it may be cancelled at `now`.
    pub fn check_cancel(&self, now: Timestamp) -> Result<(), DomainError> {
        if self.status == EventStatus::Cancelled {
            return Err(DomainError::invalid(ALREADY_CANCELLED));
        }
        if self.is_past(now) {
            return Err(DomainError::invalid(EVENT_IS_PAST));
        }
        Ok(())
    }
}

/// A section as stored, with its place among the event's sections.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub id: Id,
    pub event_id: Id,
    pub position: u32,
    pub name: String,
    pub price: Price,
    pub seating: Seating,
}

/// Whether the event is over at `now`: once its end has passed, or six hours after its start
/// when it has no end. A past event leaves the home page and none of its seats can be reserved.
pub fn is_past(starts_at: Timestamp, ends_at: Option<Timestamp>, now: Timestamp) -> bool {
    let end = ends_at.unwrap_or(starts_at.plus_millis(ASSUMED_LENGTH_MS));
    now.millis() >= end.millis()
}

/// The address of an event: the lower-case ASCII words of its name (accents dropped) and the
/// date it starts on the venue's clock, `the-kooks-2026-12-05`. A name with no such words
/// gives `event-<date>`. [`with_suffix`] makes it unique.
pub fn slug(name: &str, local_date: chrono::NaiveDate) -> String {
    const WORDS_MAX_CHARS: usize = 60;
    let folded: String = name
        .nfkd()
        .filter(|c| c.is_ascii())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut words = String::new();
    for word in folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if words.len() + word.len() + 1 > WORDS_MAX_CHARS {
            break;
        }
        if !words.is_empty() {
            words.push('-');
        }
        words.push_str(word);
    }
    if words.is_empty() {
        words.push_str("event");
    }
    format!("{words}-{}", local_date.format("%Y-%m-%d"))
}

/// The `n`th slug tried for an event whose [`slug`] is taken: `base`, then `base-2`, `base-3`…
pub fn with_suffix(base: &str, n: u32) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

pub const WHEN_INVALID: &str = "When must be today, weekend or month";
pub const DATE_INVALID: &str = "Dates are written YYYY-MM-DD";

/// A span of days the catalogue can be narrowed to, judged on each venue's own clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// The venue's date today.
    Today,
    /// The coming Saturday and Sunday (today included when it is one).
    Weekend,
    /// The rest of the calendar month.
    Month,
}

impl When {
    pub fn parse(input: &str) -> Result<When, ErrorDetail> {
        match input.trim().to_ascii_lowercase().as_str() {
            "today" => Ok(When::Today),
            "weekend" => Ok(When::Weekend),
            "month" => Ok(When::Month),
            _ => Err(ErrorDetail::field("when", WHEN_INVALID)),
        }
    }

    /// The first and last day (inclusive) it means at a venue whose date is `today`.
    pub fn days(self, today: chrono::NaiveDate) -> (chrono::NaiveDate, chrono::NaiveDate) {
        use chrono::{Datelike, Weekday};
        match self {
            When::Today => (today, today),
            When::Weekend => match today.weekday() {
                Weekday::Sat => (today, today.succ_opt().unwrap_or(today)),
                Weekday::Sun => (today, today),
                other => {
                    let to_saturday = 5 - i64::from(other.num_days_from_monday());
                    let saturday = today + chrono::Duration::days(to_saturday);
                    (saturday, saturday + chrono::Duration::days(1))
                }
            },
            When::Month => {
                let (year, month) = if today.month() == 12 {
                    (today.year() + 1, 1)
                } else {
                    (today.year(), today.month() + 1)
                };
                let first_of_next =
                    chrono::NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(today);
                (today, first_of_next.pred_opt().unwrap_or(today))
            }
        }
    }
}

/// A `YYYY-MM-DD` date of `field`.
pub fn parse_date(field: &str, input: &str) -> Result<chrono::NaiveDate, ErrorDetail> {
    let text = input.trim();
    if text.len() != 10 {
        return Err(ErrorDetail::field(field, DATE_INVALID));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| ErrorDetail::field(field, DATE_INVALID))
}

/// A section of a published event as it stands, for [`check_section_change`].
#[derive(Debug, Clone, PartialEq)]
pub struct SectionNow {
    pub seating: Seating,
    /// Seats sold or held (reserved or offered) now.
    pub taken: u32,
}

/// Whether a published section may become `next`: its kind of seating stays; general
/// admission may grow or shrink down to what is taken; seated rows may only grow (rows keep
/// their labels and at least their seats, in the same order, and new rows come after them),
/// so every seat sold stays where it was. Price changes are always allowed (held seats keep the
/// price of their orders).
pub fn check_section_change(now: &SectionNow, next: &Seating) -> Result<(), ErrorDetail> {
    match (&now.seating, next) {
        (Seating::General { .. }, Seating::General { capacity }) => {
            if *capacity < now.taken {
                Err(ErrorDetail::field("capacity", CAPACITY_BELOW_TAKEN))
            } else {
                Ok(())
            }
        }
        (Seating::Seated { rows: before }, Seating::Seated { rows: after }) => {
            let keeps = after.len() >= before.len()
                && before
                    .iter()
                    .zip(after)
                    .all(|(b, a)| b.label == a.label && a.seats >= b.seats);
            if keeps {
                Ok(())
            } else {
                Err(ErrorDetail::field("seating.rows", CAPACITY_BELOW_TAKEN))
            }
        }
        _ => Err(ErrorDetail::field("capacity", SEATING_FIXED)),
    }
}

/// The seats a published section gains by becoming `next` (see [`check_section_change`]): for
/// general admission the places beyond the old capacity, for seated sections the seats added at
/// the ends of rows and the new rows.
pub fn added_seats(before: &Seating, next: &Seating) -> Vec<Option<String>> {
    match (before, next) {
        (Seating::General { capacity: old }, Seating::General { capacity: new }) => {
            vec![None; new.saturating_sub(*old) as usize]
        }
        (Seating::Seated { rows: old }, Seating::Seated { rows: new }) => new
            .iter()
            .enumerate()
            .flat_map(|(r, row)| {
                let had = old.get(r).map(|o| o.seats).unwrap_or(0);
                ((had + 1)..=row.seats).map(move |n| Some(seat_label(&row.label, n)))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The 409 of an edit made to an event as it stood before someone else's edit.
pub const EVENT_CHANGED: &str =
    "This event was changed since you loaded it; reload it and try again";

/// The message for a rows text that is not one row per line.
pub const ROWS_TEXT_INVALID: &str =
    "Write one row per line: its label, then how many seats (like \"A 20\")";

/// A seated section's rows as a form's text box gives them: one row per line, its label then
/// its number of seats (`A 20`, `B: 22`, `AA,18`); blank lines are skipped. The numbers are
/// checked as any section's are ([`EventDraft::parse`]); only the shape is checked here.
pub fn parse_rows_text(text: &str) -> Result<Vec<RowInput>, ErrorDetail> {
    let mut rows = Vec::new();
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        let split = line
            .rfind(|c: char| c.is_whitespace() || c == ':' || c == ',')
            .ok_or_else(|| ErrorDetail::field("rows", ROWS_TEXT_INVALID))?;
        let (label, seats) = (&line[..split], &line[split + 1..]);
        let label = label.trim().trim_end_matches([':', ',']).trim();
        let seats: i64 = seats
            .trim()
            .parse()
            .map_err(|_| ErrorDetail::field("rows", ROWS_TEXT_INVALID))?;
        rows.push(RowInput {
            label: Some(label.to_string()),
            seats: Ok(seats),
        });
    }
    Ok(rows)
}

/// Rows as [`parse_rows_text`] reads them back.
pub fn rows_text(rows: &[Row]) -> String {
    rows.iter()
        .map(|row| format!("{} {}", row.label, row.seats))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A stored section as an edit gives it back unchanged.
pub fn section_input_of(section: &Section) -> SectionInput {
    let (capacity, rows) = match &section.seating {
        Seating::General { capacity } => (Some(i64::from(*capacity)), None),
        Seating::Seated { rows } => (
            None,
            Some(
                rows.iter()
                    .map(|row| RowInput {
                        label: Some(row.label.clone()),
                        seats: Ok(i64::from(row.seats)),
                    })
                    .collect(),
            ),
        ),
    };
    SectionInput {
        id: Some(section.id.to_string()),
        name: Some(section.name.clone()),
        price: Ok(section.price),
        capacity: Ok(capacity),
        rows: Ok(rows),
    }
}

/// A stored event as an edit gives it back unchanged, with `sections` as its sections: what a
/// page that changes one part of an event (its details, or one section) sends for the rest.
pub fn input_of(event: &Event, sections: Vec<SectionInput>) -> EventInput {
    EventInput {
        name: Some(event.name.clone()),
        category: Some(event.category.as_str().to_string()),
        venue: Some(event.venue.clone()),
        city: Some(event.city.clone()),
        time_zone: Some(event.time_zone.name().to_string()),
        starts_at: Some(event.time_zone.rfc3339(event.starts_at)),
        ends_at: event.ends_at.map(|at| event.time_zone.rfc3339(at)),
        description: Some(event.description.clone()),
        max_per_buyer: Ok(Some(i64::from(event.max_per_buyer))),
        resale_enabled: Ok(Some(event.resale.enabled)),
        resale_cap_percent: Ok(event.resale.cap_percent.map(i64::from)),
        sections: Ok(sections),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_796_000_000_000; // 2026-11-29

    fn section(name: &str, capacity: Option<i64>, rows: Option<Vec<(&str, i64)>>) -> SectionInput {
        SectionInput {
            id: None,
            name: Some(name.to_string()),
            price: Price::from_text("25.00"),
            capacity: Ok(capacity),
            rows: Ok(rows.map(|rows| {
                rows.into_iter()
                    .map(|(label, seats)| RowInput {
                        label: Some(label.to_string()),
                        seats: Ok(seats),
                    })
                    .collect()
            })),
        }
    }

    fn input() -> EventInput {
        EventInput {
            name: Some("The Kooks".into()),
            category: Some("concert".into()),
            venue: Some("Brixton Academy".into()),
            city: Some("London".into()),
            time_zone: Some("Europe/London".into()),
            starts_at: Some("2026-12-05T19:30".into()),
            ends_at: None,
            description: Some("Doors at 7.\r\n\r\nNo re-entry.".into()),
            max_per_buyer: Ok(None),
            resale_enabled: Ok(None),
            resale_cap_percent: Ok(None),
            sections: Ok(vec![
                section("Standing", Some(500), None),
                section("Circle", None, Some(vec![("A", 10), ("B", 12)])),
            ]),
        }
    }

    fn fields(err: DomainError) -> Vec<(String, String)> {
        match err {
            DomainError::Invalid(details) => details
                .into_iter()
                .map(|d| (d.field.unwrap_or_default(), d.message))
                .collect(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    fn parse(input: EventInput) -> Result<EventDraft, DomainError> {
        EventDraft::parse(
            input,
            SiteRules::default(),
            Timestamp::from_millis(NOW),
            true,
        )
    }

    #[test]
    fn a_full_event_is_read_in_the_venues_zone() {
        let event = parse(input()).unwrap();
        assert_eq!(event.name, "The Kooks");
        assert_eq!(event.category, Category::Concert);
        // 19:30 in London in December is 19:30 UTC.
        assert_eq!(event.starts_at.to_rfc3339(), "2026-12-05T19:30:00.000Z");
        assert_eq!(event.max_per_buyer, MAX_PER_BUYER_DEFAULT);
        assert_eq!(event.resale, ResaleRule::default());
        assert_eq!(event.description, "Doors at 7.\n\nNo re-entry.");
        assert_eq!(event.capacity(), 522);
        let circle = &event.sections[1].seating;
        let seats = circle.seats();
        assert_eq!(seats.len(), 22);
        assert_eq!(seats[0].as_deref(), Some("Row A, Seat 1"));
        assert_eq!(seats[21].as_deref(), Some("Row B, Seat 12"));
        let Seating::Seated { rows } = circle else {
            panic!("the circle is seated")
        };
        for (n, label) in seats.iter().enumerate() {
            let place = seat_place(rows, label.as_deref().unwrap()).unwrap();
            let expected = if n < 10 { (0, n + 1) } else { (1, n - 9) };
            assert_eq!((place.row, place.number as usize), expected, "{label:?}");
        }
        assert_eq!(seat_place(rows, "Row C, Seat 1"), None, "no such row");
        assert_eq!(seat_place(rows, "Row A, Seat x"), None);
        let odd = [Row {
            label: "a, Seat ".into(),
            seats: 3,
        }];
        let place = seat_place(&odd, &seat_label("a, Seat ", 3)).unwrap();
        assert_eq!(
            (place.row, place.number),
            (0, 3),
            "a row label holding \", Seat \""
        );
        assert!(
            event.sections[0]
                .seating
                .seats()
                .iter()
                .all(Option::is_none)
        );
    }

    #[test]
    fn every_invalid_field_is_reported_under_its_name() {
        let mut bad = input();
        bad.name = Some("   ".into());
        bad.venue = Some("x".repeat(121));
        bad.city = Some("a\u{202E}b".into());
        bad.description = Some("y".repeat(5_001));
        bad.max_per_buyer = Ok(Some(21));
        bad.resale_cap_percent = Ok(Some(50));
        bad.sections = Ok(vec![
            section("", Some(10), None),
            section("Stalls", Some(0), None),
            section("Stalls", Some(1), None),
            section("Box", Some(4), Some(vec![("A", 2)])),
            section(
                "Circle",
                None,
                Some(vec![("A", 0), ("a", 3), ("NINECHARS", 1)]),
            ),
            section("Gallery", None, Some(vec![])),
        ]);
        let got = fields(parse(bad).unwrap_err());
        let expected = [
            ("name", NAME_REQUIRED),
            ("venue", VENUE_TOO_LONG),
            (
                "city",
                "City must not contain control or invisible characters",
            ),
            ("description", DESCRIPTION_TOO_LONG),
            ("maxPerBuyer", MAX_PER_BUYER_INVALID),
            ("resale.capPercent", RESALE_CAP_INVALID),
            ("sections[0].name", SECTION_NAME_REQUIRED),
            ("sections[1].capacity", CAPACITY_INVALID),
            ("sections[2].name", SECTION_NAMES_REPEAT),
            ("sections[3].capacity", SEATING_BOTH),
            ("sections[4].seating.rows[0].seats", SEATS_INVALID),
            ("sections[4].seating.rows[1].label", ROW_LABELS_REPEAT),
            ("sections[4].seating.rows[2].label", ROW_LABEL_INVALID),
            ("sections[5].seating.rows", ROWS_INVALID),
        ];
        for (field, message) in expected {
            assert!(
                got.contains(&(field.to_string(), message.to_string())),
                "{field}: {message} not in {got:?}"
            );
        }
        assert_eq!(got.len(), expected.len(), "{got:?}");
    }

    #[test]
    fn the_start_must_be_in_the_future_and_before_the_end() {
        let mut past = input();
        past.starts_at = Some("2020-01-01T20:00".into());
        assert_eq!(
            fields(parse(past.clone()).unwrap_err()),
            [("startsAt".to_string(), MUST_START_IN_FUTURE.to_string())]
        );
        // Editing a draft whose date has passed is not refused here (publishing is).
        assert!(
            EventDraft::parse(
                past,
                SiteRules::default(),
                Timestamp::from_millis(NOW),
                false
            )
            .is_ok()
        );
        let mut backwards = input();
        backwards.ends_at = Some("2026-12-05T18:00".into());
        assert_eq!(
            fields(parse(backwards).unwrap_err()),
            [("endsAt".to_string(), ENDS_BEFORE_START.to_string())]
        );
        let mut missing = input();
        missing.starts_at = None;
        assert_eq!(
            fields(parse(missing).unwrap_err()),
            [("startsAt".to_string(), STARTS_AT_REQUIRED.to_string())]
        );
        // Without a valid zone only the zone is reported: the time cannot be placed.
        let mut zoneless = input();
        zoneless.time_zone = Some("Mars/Olympus".into());
        zoneless.starts_at = Some("not a time".into());
        assert_eq!(
            fields(parse(zoneless).unwrap_err()),
            [(
                "timeZone".to_string(),
                super::super::zone::TIME_ZONE_INVALID.to_string()
            )]
        );
    }

    #[test]
    fn an_events_resale_cap_never_exceeds_the_sites() {
        let mut capped = input();
        capped.resale_cap_percent = Ok(Some(150));
        let site = SiteRules {
            resale_cap_percent: Some(120),
        };
        let err = EventDraft::parse(capped.clone(), site, Timestamp::from_millis(NOW), true);
        assert_eq!(
            fields(err.unwrap_err()),
            [(
                "resale.capPercent".to_string(),
                RESALE_CAP_ABOVE_SITE.to_string()
            )]
        );
        capped.resale_cap_percent = Ok(Some(110));
        capped.resale_enabled = Ok(Some(false));
        let event = EventDraft::parse(capped, site, Timestamp::from_millis(NOW), true).unwrap();
        assert_eq!(
            event.resale,
            ResaleRule {
                enabled: false,
                cap_percent: Some(110)
            }
        );
    }

    #[test]
    fn slugs_are_ascii_words_and_the_local_date() {
        let date = chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let cases = [
            ("The Kooks", "the-kooks-2026-12-05"),
            ("  Björk — Live!  ", "bjork-live-2026-12-05"),
            (
                "<script>alert(1)</script>",
                "script-alert-1-script-2026-12-05",
            ),
            ("東京", "event-2026-12-05"),
            ("", "event-2026-12-05"),
        ];
        for (name, expected) in cases {
            assert_eq!(slug(name, date), expected, "{name}");
        }
        let long = slug(&"word ".repeat(100), date);
        assert!(long.len() <= 60 + 11, "{long}");
        assert_eq!(with_suffix("a-2026-12-05", 1), "a-2026-12-05");
        assert_eq!(with_suffix("a-2026-12-05", 3), "a-2026-12-05-3");
    }

    /// A published event of `organiser`'s, uncapped, resale on.
    fn published_by(organiser: &Id) -> Event {
        Event {
            id: Id::from_trusted("event".into()),
            slug: "gig-2030-01-01".into(),
            organiser_id: organiser.clone(),
            name: "Gig".into(),
            category: Category::Concert,
            venue: "Hall".into(),
            city: String::new(),
            time_zone: Zone::parse("Europe/London").unwrap(),
            starts_at: Timestamp::from_millis(NOW),
            ends_at: None,
            description: String::new(),
            image: None,
            image_small: None,
            status: EventStatus::Published,
            cancel_reason: None,
            max_per_buyer: MAX_PER_BUYER_DEFAULT,
            resale: ResaleRule {
                enabled: true,
                cap_percent: None,
            },
            version: 1,
            created_at: Timestamp::from_millis(NOW),
        }
    }

    #[test]
    fn the_door_opens_to_admins_staff_its_organiser_and_its_own_door_staff_only() {
        use crate::domain::role::{Role, Roles};
        let organiser = Id::from_trusted("organiser".into());
        let event = published_by(&organiser);
        let someone = Id::from_trusted("someone".into());
        assert!(event.door_open_to(&organiser, Roles::NONE, false));
        assert!(event.door_open_to(&someone, Roles::NONE, true));
        assert!(event.door_open_to(&someone, Roles::NONE.with(Role::Staff), false));
        assert!(event.door_open_to(&someone, Roles::NONE.with(Role::Admin), false));
        assert!(!event.door_open_to(&someone, Roles::NONE, false));
        assert!(
            !event.door_open_to(&someone, Roles::NONE.with(Role::Organiser), false),
            "another organiser's event is not theirs to scan"
        );
    }

    #[test]
    fn holders_hear_of_a_new_date_time_or_venue_and_of_nothing_else() {
        let before = published_by(&Id::from_trusted("organiser".into()));
        let mut after = before.clone();
        after.description = "Doors at 7".into();
        after.name = "Gig (extra date)".into();
        assert!(!after.moved_from(&before));
        for change in [
            |e: &mut Event| e.starts_at = e.starts_at.plus_millis(3_600_000),
            |e: &mut Event| e.venue = "Other hall".into(),
            |e: &mut Event| e.city = "Leeds".into(),
            |e: &mut Event| e.time_zone = Zone::parse("Europe/Paris").unwrap(),
        ] {
            let mut moved = before.clone();
            change(&mut moved);
            assert!(moved.moved_from(&before));
        }
    }

    #[test]
    fn a_resale_is_capped_by_the_tighter_of_the_events_and_the_sites_caps() {
        use crate::domain::fees::Percent;
        let mut event = published_by(&Id::from_trusted("organiser".into()));
        let pct = |n: u32| Some(Percent::from_hundredths(n * 100));
        assert_eq!(event.resale_cap(None), Ok(None), "uncapped");
        assert_eq!(event.resale_cap(pct(120)), Ok(pct(120)));
        event.resale.cap_percent = Some(110);
        assert_eq!(event.resale_cap(None), Ok(pct(110)));
        assert_eq!(event.resale_cap(pct(120)), Ok(pct(110)));
        assert_eq!(event.resale_cap(pct(105)), Ok(pct(105)));
        event.resale.enabled = false;
        assert_eq!(
            event.resale_cap(None),
            Err(DomainError::invalid(RESALE_NOT_ALLOWED))
        );
        event.resale.enabled = true;
        event.status = EventStatus::Cancelled;
        assert_eq!(
            event.resale_cap(None),
            Err(DomainError::invalid(EVENT_CANCELLED))
        );
    }

    #[test]
    fn an_event_is_past_at_its_end_or_six_hours_after_it_starts() {
        let start = Timestamp::from_millis(NOW);
        let hour = 60 * 60 * 1000;
        assert!(!is_past(start, None, start.plus_millis(6 * hour - 1)));
        assert!(is_past(start, None, start.plus_millis(6 * hour)));
        let end = Some(start.plus_millis(2 * hour));
        assert!(!is_past(start, end, start.plus_millis(2 * hour - 1)));
        assert!(is_past(start, end, start.plus_millis(2 * hour)));
    }

    #[test]
    fn a_published_section_only_grows_and_keeps_its_seats() {
        let rows = |r: &[(&str, u32)]| Seating::Seated {
            rows: r
                .iter()
                .map(|(label, seats)| Row {
                    label: label.to_string(),
                    seats: *seats,
                })
                .collect(),
        };
        let general = SectionNow {
            seating: Seating::General { capacity: 100 },
            taken: 40,
        };
        assert!(check_section_change(&general, &Seating::General { capacity: 40 }).is_ok());
        assert!(check_section_change(&general, &Seating::General { capacity: 39 }).is_err());
        assert!(check_section_change(&general, &rows(&[("A", 100)])).is_err());
        let seated = SectionNow {
            seating: rows(&[("A", 10), ("B", 10)]),
            taken: 1,
        };
        let grown = rows(&[("A", 12), ("B", 10), ("C", 5)]);
        assert!(check_section_change(&seated, &grown).is_ok());
        assert!(check_section_change(&seated, &rows(&[("A", 9), ("B", 10)])).is_err());
        assert!(check_section_change(&seated, &rows(&[("B", 10), ("A", 10)])).is_err());
        assert!(check_section_change(&seated, &rows(&[("A", 10)])).is_err());
        let added = added_seats(&seated.seating, &grown);
        assert_eq!(added.len(), 7);
        assert_eq!(added[0].as_deref(), Some("Row A, Seat 11"));
        assert_eq!(added[2].as_deref(), Some("Row C, Seat 1"));
        assert_eq!(
            added_seats(&general.seating, &Seating::General { capacity: 103 }).len(),
            3
        );
    }

    #[test]
    fn when_means_days_on_the_venues_clock() {
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        // 2026-12-07 is a Monday.
        assert_eq!(When::Today.days(day(7)), (day(7), day(7)));
        assert_eq!(When::Weekend.days(day(7)), (day(12), day(13)));
        assert_eq!(When::Weekend.days(day(11)), (day(12), day(13)));
        assert_eq!(When::Weekend.days(day(12)), (day(12), day(13)));
        assert_eq!(When::Weekend.days(day(13)), (day(13), day(13)));
        assert_eq!(When::Month.days(day(7)), (day(7), day(31)));
        assert_eq!(When::parse(" Weekend "), Ok(When::Weekend));
        assert!(When::parse("tomorrow").is_err());
        assert_eq!(parse_date("from", "2026-12-05"), Ok(day(5)));
        for bad in ["2026-13-01", "05/12/2026", "2026-12-5", "<b>"] {
            assert!(parse_date("from", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn paragraphs_split_at_blank_lines() {
        assert_eq!(
            paragraphs("One\nline two\n\n\nThree\n\n  "),
            vec![vec!["One", "line two"], vec!["Three"]]
        );
    }

    proptest! {
        /// A seated section has exactly as many seats as its rows add up to, each labelled
        /// once, and growing it adds exactly the difference.
        #[test]
        fn seats_match_capacity(rows in prop::collection::vec(1u32..=200, 1..=20), extra in 0u32..50) {
            let seating = Seating::Seated {
                rows: rows
                    .iter()
                    .enumerate()
                    .map(|(n, seats)| Row { label: format!("R{n}"), seats: *seats })
                    .collect(),
            };
            let seats = seating.seats();
            prop_assert_eq!(seats.len() as u32, seating.capacity());
            let unique: std::collections::HashSet<_> = seats.iter().collect();
            prop_assert_eq!(unique.len(), seats.len());
            let Seating::Seated { rows: mut grown } = seating.clone() else { unreachable!() };
            grown[0].seats += extra;
            let grown = Seating::Seated { rows: grown };
            prop_assert_eq!(added_seats(&seating, &grown).len() as u32, extra);
        }
    }
}

#[cfg(test)]
mod form_tests {
    use super::*;

    #[test]
    fn rows_are_read_one_per_line_in_any_usual_spelling() {
        let rows = parse_rows_text("A 20\n\n  B: 22 \r\nAA,18\nRow 1 5").unwrap();
        let read: Vec<(String, i64)> = rows
            .into_iter()
            .map(|r| (r.label.unwrap(), r.seats.unwrap()))
            .collect();
        assert_eq!(
            read,
            [
                ("A".to_string(), 20),
                ("B".to_string(), 22),
                ("AA".to_string(), 18),
                ("Row 1".to_string(), 5)
            ]
        );
        for bad in ["A", "A twenty", "20 A", "A 1e9", "A 99999999999999999999"] {
            assert_eq!(
                parse_rows_text(bad).map(|_| ()),
                Err(ErrorDetail::field("rows", ROWS_TEXT_INVALID)),
                "{bad}"
            );
        }
        assert!(parse_rows_text("").unwrap().is_empty());
        let back = rows_text(&[
            Row {
                label: "A".into(),
                seats: 20,
            },
            Row {
                label: "B".into(),
                seats: 2,
            },
        ]);
        assert_eq!(back, "A 20\nB 2");
        assert_eq!(parse_rows_text(&back).unwrap().len(), 2);
    }

    #[test]
    fn an_event_given_back_unchanged_parses_to_itself() {
        let zone = Zone::parse("Europe/London").unwrap();
        let event = Event {
            id: Id::from_trusted("e".into()),
            slug: "gig-2030-06-01".into(),
            organiser_id: Id::from_trusted("o".into()),
            name: "Gig".into(),
            category: Category::Concert,
            venue: "Hall".into(),
            city: "Leeds".into(),
            time_zone: zone,
            starts_at: Timestamp(1_906_997_400_000),
            ends_at: Some(Timestamp(1_907_008_200_000)),
            description: "Doors at 7.".into(),
            image: None,
            image_small: None,
            status: EventStatus::Published,
            cancel_reason: None,
            max_per_buyer: 4,
            resale: ResaleRule {
                enabled: false,
                cap_percent: Some(110),
            },
            version: 3,
            created_at: Timestamp(0),
        };
        let section = Section {
            id: Id::from_trusted("0190c7a4-0000-7000-8000-000000000001".into()),
            event_id: event.id.clone(),
            position: 0,
            name: "Circle".into(),
            price: Price::from_text("52.50").unwrap(),
            seating: Seating::Seated {
                rows: vec![Row {
                    label: "A".into(),
                    seats: 10,
                }],
            },
        };
        let input = input_of(&event, vec![section_input_of(&section)]);
        let draft = EventDraft::parse(input, SiteRules::default(), Timestamp(0), true).unwrap();
        assert_eq!(draft.name, event.name);
        assert_eq!(draft.starts_at, event.starts_at);
        assert_eq!(draft.ends_at, event.ends_at);
        assert_eq!(draft.max_per_buyer, 4);
        assert_eq!(draft.resale, event.resale);
        assert_eq!(draft.sections[0].id, Some(section.id.clone()));
        assert_eq!(draft.sections[0].seating, section.seating);
        assert_eq!(draft.sections[0].price, section.price);
    }
}
