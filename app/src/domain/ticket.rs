//! Tickets (listings): what a seller may write into one, and when it may be changed.

use super::zone::Zone;
use super::{DomainError, ErrorDetail};
use super::{Id, Price, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

pub const TITLE_MAX_CHARS: usize = 120;
pub const VENUE_MAX_CHARS: usize = 120;
pub const TITLE_REQUIRED: &str = "Title is required";
pub const TITLE_TOO_LONG: &str = "Title must be at most 120 characters";
pub const VENUE_TOO_LONG: &str = "Venue must be at most 120 characters";
pub const CATEGORY_INVALID: &str = "Category must be one of sports, concert, theater, other";
pub const STARTS_AT_INVALID: &str =
    "Event date must be a date and time such as 2026-12-31T20:00:00Z";
pub const CANNOT_EDIT_RESERVED: &str = "Cannot edit a reserved ticket";
pub const LISTING_REMOVED: &str = "This listing is no longer on sale";
pub const STALE_VERSION: &str =
    "This ticket was changed since you loaded it; reload it and try again";

/// A listing's title: 1 to 120 characters once surrounding spaces are trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Title(String);

impl Title {
    /// NFC, trimmed, without control or invisible characters, 1 to 120 characters.
    pub fn parse(input: &str) -> Result<Title, ErrorDetail> {
        let title = super::text::clean_line("title", "Title", input)?;
        if title.is_empty() {
            Err(ErrorDetail::field("title", TITLE_REQUIRED))
        } else if title.chars().count() > TITLE_MAX_CHARS {
            Err(ErrorDetail::field("title", TITLE_TOO_LONG))
        } else {
            Ok(Title(title))
        }
    }

    /// A title from JSON: anything but a string counts as missing.
    pub fn from_json(value: Option<&serde_json::Value>) -> Result<Title, ErrorDetail> {
        Title::parse(
            value
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What kind of event a ticket is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Sports,
    Concert,
    Theater,
    #[default]
    Other,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Sports,
        Category::Concert,
        Category::Theater,
        Category::Other,
    ];

    /// One of the four names (any letter case); a missing or empty one means `other`.
    pub fn parse(input: Option<&str>) -> Result<Category, ErrorDetail> {
        match input
            .map(str::trim)
            .unwrap_or_default()
            .to_ascii_lowercase()
            .as_str()
        {
            "" | "other" => Ok(Category::Other),
            "sports" => Ok(Category::Sports),
            "concert" => Ok(Category::Concert),
            "theater" | "theatre" => Ok(Category::Theater),
            _ => Err(ErrorDetail::field("category", CATEGORY_INVALID)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Sports => "sports",
            Category::Concert => "concert",
            Category::Theater => "theater",
            Category::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Sports => "Sports",
            Category::Concert => "Concert",
            Category::Theater => "Theater",
            Category::Other => "Other",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the event happens: optional, at most 120 characters; blank means none.
pub fn parse_venue(input: Option<&str>) -> Result<Option<String>, ErrorDetail> {
    let venue = super::text::clean_line("venue", "Venue", input.unwrap_or_default())?;
    if venue.is_empty() {
        Ok(None)
    } else if venue.chars().count() > VENUE_MAX_CHARS {
        Err(ErrorDetail::field("venue", VENUE_TOO_LONG))
    } else {
        Ok(Some(venue))
    }
}

/// When the event starts: optional. RFC 3339 with an offset names the instant itself; a
/// wall-clock time (`YYYY-MM-DDTHH:MM[:SS]`, a browser's date-time input) is read in the venue's
/// zone, or in UTC when the listing has none. Blank means none.
pub fn parse_starts_at(
    input: Option<&str>,
    zone: Option<Zone>,
) -> Result<Option<Timestamp>, ErrorDetail> {
    let text = input.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Ok(None);
    }
    let invalid = || ErrorDetail::field("startsAt", STARTS_AT_INVALID);
    if let Some(at) = Timestamp::parse_rfc3339(text) {
        return Ok(Some(at));
    }
    if text.len() > 19 {
        return Err(invalid());
    }
    let local = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| invalid())?;
    let zone = zone.unwrap_or(Zone::UTC);
    zone.instant_of(local).map(Some).map_err(|_| {
        ErrorDetail::field(
            "startsAt",
            &format!(
                "{} does not happen in {zone}: the clocks go forward then; pick another time",
                text.replace('T', " ")
            ),
        )
    })
}

/// The stored state of a ticket. A `Reserved` ticket whose hold has lapsed is available again
/// (see [`Ticket::status_at`]) even before the sweeper rewrites the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketStatus {
    Available,
    Reserved,
    Sold,
    /// Off sale: taken down by an admin, or (until the suspension is lifted) an unsold listing
    /// of a suspended seller. Read from `removed_at` and the seller's account, never stored
    /// in `status`.
    Removed,
}

impl TicketStatus {
    /// Every status.
    pub const ALL: [TicketStatus; 4] = [
        TicketStatus::Available,
        TicketStatus::Reserved,
        TicketStatus::Sold,
        TicketStatus::Removed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Available => "available",
            TicketStatus::Reserved => "reserved",
            TicketStatus::Sold => "sold",
            TicketStatus::Removed => "removed",
        }
    }
}

super::error::stored_status!(TicketStatus, "ticket");

/// Everything a seller writes into a listing, already validated.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketDraft {
    pub title: Title,
    pub price: Price,
    /// The price printed on the ticket, when the seller gives it (required while resale prices
    /// are capped).
    pub face_value: Option<Price>,
    pub category: Category,
    pub venue: Option<String>,
    pub starts_at: Option<Timestamp>,
    /// The venue's time zone: the event's time is shown there. `None` shows it in UTC.
    pub time_zone: Option<Zone>,
}

impl TicketDraft {
    /// Validates every field and reports all invalid ones together. The optional text fields
    /// arrive as `Err` when the caller already found them to be of the wrong type.
    pub fn parse(
        title: Result<Title, ErrorDetail>,
        price: Result<Price, ErrorDetail>,
        face_value: Result<Option<Price>, ErrorDetail>,
        category: Result<Option<&str>, ErrorDetail>,
        venue: Result<Option<&str>, ErrorDetail>,
        starts_at: Result<Option<&str>, ErrorDetail>,
        time_zone: Result<Option<&str>, ErrorDetail>,
    ) -> Result<TicketDraft, DomainError> {
        let category = category.and_then(Category::parse);
        let venue = venue.and_then(parse_venue);
        let time_zone = time_zone.and_then(Zone::parse_optional);
        // A wall-clock time is read in the zone given; with an invalid zone, only the zone is
        // reported (the time cannot be placed).
        let starts_at = match &time_zone {
            Ok(zone) => starts_at.and_then(|s| parse_starts_at(s, *zone)),
            Err(_) => starts_at.map(|_| None),
        };
        match (
            title, price, face_value, category, venue, starts_at, time_zone,
        ) {
            (
                Ok(title),
                Ok(price),
                Ok(face_value),
                Ok(category),
                Ok(venue),
                Ok(starts_at),
                Ok(time_zone),
            ) => Ok(TicketDraft {
                title,
                price,
                face_value,
                category,
                venue,
                starts_at,
                time_zone,
            }),
            (title, price, face_value, category, venue, starts_at, time_zone) => {
                Err(DomainError::Invalid(
                    [
                        title.err(),
                        price.err(),
                        face_value.err(),
                        category.err(),
                        venue.err(),
                        starts_at.err(),
                        time_zone.err(),
                    ]
                    .into_iter()
                    .flatten()
                    .collect(),
                ))
            }
        }
    }
}

/// A listing as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: Id,
    pub title: String,
    pub price: Price,
    pub face_value: Option<Price>,
    pub seller_id: Id,
    pub order_id: Option<Id>,
    pub version: i64,
    pub category: Category,
    pub venue: Option<String>,
    pub starts_at: Option<Timestamp>,
    /// The venue's time zone; `None` (listings from before zones) shows times in UTC.
    pub time_zone: Option<Zone>,
    pub status: TicketStatus,
    /// While reserved: when the hold lapses.
    pub reserved_until: Option<Timestamp>,
    pub resold_from: Option<Id>,
    pub created_at: Timestamp,
    /// For a seat of an event on this site: the event, its section and the seat's label
    /// (`None` for general admission). `None` for an "other listing".
    pub event_seat: Option<EventSeat>,
}

/// Where a ticket of an event on this site belongs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventSeat {
    pub event_id: Id,
    pub section_id: Id,
    /// `Row C, Seat 12`; `None` for general admission.
    pub seat: Option<String>,
}

impl Ticket {
    /// Whether this is a seat the event's organiser sells (not a resale, not an other listing).
    pub fn is_primary(&self) -> bool {
        self.event_seat.is_some() && self.resold_from.is_none()
    }

    /// The ticket as a reservation by `order_id` leaves it: held until `until`.
    pub fn held_by(&self, order_id: &Id, until: Timestamp) -> Ticket {
        Ticket {
            order_id: Some(order_id.clone()),
            status: TicketStatus::Reserved,
            reserved_until: Some(until),
            version: self.version + 1,
            ..self.clone()
        }
    }

    /// The status a user sees at `now`: a reservation whose window has passed no longer holds.
    pub fn status_at(&self, now: Timestamp) -> TicketStatus {
        match (self.status, self.reserved_until) {
            (TicketStatus::Reserved, Some(until)) if until <= now => TicketStatus::Available,
            (status, _) => status,
        }
    }

    /// Only the seller may edit, and only while nobody holds or owns the ticket.
    pub fn can_be_edited_by(&self, user: &Id, now: Timestamp) -> Result<(), DomainError> {
        if &self.seller_id != user {
            return Err(DomainError::Forbidden);
        }
        match self.status_at(now) {
            TicketStatus::Available => Ok(()),
            TicketStatus::Reserved | TicketStatus::Sold => {
                Err(DomainError::invalid(CANNOT_EDIT_RESERVED))
            }
            TicketStatus::Removed => Err(DomainError::invalid(LISTING_REMOVED)),
        }
    }

    /// The order currently holding the ticket at `now`, if any.
    pub fn live_order_at(&self, now: Timestamp) -> Option<&Id> {
        (self.status_at(now) == TicketStatus::Reserved)
            .then_some(self.order_id.as_ref())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> Id {
        Id::from_trusted(format!("00000000-0000-7000-8000-0000000000{n:02}"))
    }

    fn ticket(status: TicketStatus, reserved_until: Option<i64>) -> Ticket {
        Ticket {
            id: id(1),
            title: "Cup final".into(),
            price: Price::from_stored(5000),
            face_value: None,
            seller_id: id(2),
            order_id: reserved_until.map(|_| id(3)),
            version: 0,
            category: Category::Sports,
            venue: None,
            starts_at: None,
            time_zone: None,
            status,
            reserved_until: reserved_until.map(Timestamp),
            resold_from: None,
            created_at: Timestamp(0),
            event_seat: None,
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        let long = "x".repeat(121);
        let max = "é".repeat(120);
        let cases = [
            ("Cup final", Ok("Cup final")),
            ("  Cup final  ", Ok("Cup final")),
            (max.as_str(), Ok(max.as_str())),
            ("", Err(TITLE_REQUIRED)),
            ("   ", Err(TITLE_REQUIRED)),
            (long.as_str(), Err(TITLE_TOO_LONG)),
        ];
        for (input, expected) in cases {
            let got = Title::parse(input).map(|t| t.0).map_err(|e| e.message);
            assert_eq!(
                got,
                expected.map(String::from).map_err(String::from),
                "{input:?}"
            );
        }
        assert_eq!(
            Title::from_json(Some(&serde_json::json!(42))).map_err(|e| e.message),
            Err(TITLE_REQUIRED.into())
        );
        assert_eq!(
            Title::from_json(None).map_err(|e| e.message),
            Err(TITLE_REQUIRED.into())
        );
    }

    #[test]
    fn categories_default_to_other_and_reject_unknown_names() {
        assert_eq!(Category::parse(None), Ok(Category::Other));
        assert_eq!(Category::parse(Some("Concert")), Ok(Category::Concert));
        assert_eq!(Category::parse(Some("theatre")), Ok(Category::Theater));
        assert!(Category::parse(Some("opera")).is_err());
        for category in Category::ALL {
            assert_eq!(Category::parse(Some(category.as_str())), Ok(category));
        }
    }

    #[test]
    fn event_dates_accept_rfc3339_and_browser_inputs() {
        assert_eq!(parse_starts_at(None, None), Ok(None));
        assert_eq!(parse_starts_at(Some("  "), None), Ok(None));
        let expected = Timestamp::parse_rfc3339("2026-12-31T20:00:00Z");
        assert_eq!(
            parse_starts_at(Some("2026-12-31T20:00:00Z"), None).unwrap(),
            expected
        );
        assert_eq!(
            parse_starts_at(Some("2026-12-31T20:00"), None).unwrap(),
            expected
        );
        assert_eq!(
            parse_starts_at(Some("2026-12-31T20:00:00"), None).unwrap(),
            expected
        );
        assert_eq!(
            parse_starts_at(Some("2026-12-31T21:00:00+01:00"), None).unwrap(),
            expected
        );
        for bad in [
            "next friday",
            "2026-02-30T20:00",
            "2026-12-31T20:00:00:00",
            "<b>",
        ] {
            let err = parse_starts_at(Some(bad), None).unwrap_err();
            assert_eq!(err.message, STARTS_AT_INVALID, "{bad}");
        }
    }

    #[test]
    fn wall_clock_times_are_read_in_the_venues_zone() {
        let london = Zone::parse("Europe/London").ok();
        let new_york = Zone::parse("America/New_York").ok();
        let at = |s| Timestamp::parse_rfc3339(s);
        assert_eq!(
            parse_starts_at(Some("2026-07-04T19:00"), london).unwrap(),
            at("2026-07-04T18:00:00Z")
        );
        assert_eq!(
            parse_starts_at(Some("2026-07-04T19:00"), new_york).unwrap(),
            at("2026-07-04T23:00:00Z")
        );
        // An explicit offset is the instant, whatever the zone.
        assert_eq!(
            parse_starts_at(Some("2026-07-04T19:00:00Z"), new_york).unwrap(),
            at("2026-07-04T19:00:00Z")
        );
        let skipped = parse_starts_at(Some("2026-03-29T01:30"), london).unwrap_err();
        assert_eq!(skipped.field.as_deref(), Some("startsAt"));
        assert_eq!(
            skipped.message,
            "2026-03-29 01:30 does not happen in Europe/London: the clocks go forward then; pick another time"
        );
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let err = TicketDraft::parse(
            Title::parse(""),
            Price::from_cents(0),
            Ok(None),
            Ok(Some("opera")),
            Ok(Some(&"v".repeat(121))),
            Ok(Some("soon")),
            Ok(None),
        )
        .unwrap_err();
        let DomainError::Invalid(details) = err else {
            panic!("a draft's errors are all invalid fields: {err:?}");
        };
        let fields: Vec<_> = details.into_iter().filter_map(|d| d.field).collect();
        assert_eq!(fields, ["title", "price", "category", "venue", "startsAt"]);
        // With an unknown zone the time cannot be placed: only the zone is reported.
        let err = TicketDraft::parse(
            Title::parse("Show"),
            Price::from_cents(100),
            Ok(None),
            Ok(None),
            Ok(None),
            Ok(Some("2026-07-04T19:00")),
            Ok(Some("Mars/Olympus_Mons")),
        )
        .unwrap_err();
        assert_eq!(
            err,
            DomainError::Invalid(vec![ErrorDetail::field(
                "timeZone",
                super::super::zone::TIME_ZONE_INVALID
            )])
        );
    }

    #[test]
    fn the_edit_rule_at_fixed_times() {
        let seller = id(2);
        let stranger = id(9);
        let now = Timestamp(1_000_000);
        let cases = [
            (ticket(TicketStatus::Available, None), &seller, Ok(())),
            (
                ticket(TicketStatus::Available, None),
                &stranger,
                Err(DomainError::Forbidden),
            ),
            (
                ticket(TicketStatus::Reserved, Some(now.0 + 1)),
                &seller,
                Err(DomainError::invalid(CANNOT_EDIT_RESERVED)),
            ),
            (
                ticket(TicketStatus::Reserved, Some(now.0 + 1)),
                &stranger,
                Err(DomainError::Forbidden),
            ),
            // The hold lapsed at `now`: editable again, sweeper or not.
            (ticket(TicketStatus::Reserved, Some(now.0)), &seller, Ok(())),
            (
                ticket(TicketStatus::Sold, None),
                &seller,
                Err(DomainError::invalid(CANNOT_EDIT_RESERVED)),
            ),
        ];
        for (ticket, user, expected) in cases {
            assert_eq!(
                ticket.can_be_edited_by(user, now),
                expected,
                "{:?} by {user}",
                ticket.status
            );
        }
    }

    #[test]
    fn a_lapsed_reservation_no_longer_holds_the_ticket() {
        let held = ticket(TicketStatus::Reserved, Some(2_000));
        assert_eq!(held.status_at(Timestamp(1_999)), TicketStatus::Reserved);
        assert_eq!(held.live_order_at(Timestamp(1_999)), Some(&id(3)));
        assert_eq!(held.status_at(Timestamp(2_000)), TicketStatus::Available);
        assert_eq!(held.live_order_at(Timestamp(2_000)), None);
    }
}
