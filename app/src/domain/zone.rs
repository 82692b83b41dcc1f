//! Venue time zones. An event's time is entered as the wall-clock time at the venue, stored as
//! an instant plus the venue's IANA zone, and shown again as the venue's wall-clock time with
//! the abbreviation in force on that day ("Sat 5 Dec 2026, 19:00 GMT", "… 19:00 BST" in July).
//! The zone database is compiled in (`chrono-tz`), so the one binary needs no system tzdata.

use super::{ErrorDetail, Timestamp};
use chrono::{DateTime, Datelike, LocalResult, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::{OffsetName, Tz};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub const TIME_ZONE_INVALID: &str = "Time zone must be an IANA time zone such as Europe/London";

/// The areas whose zones the listing form offers (besides UTC). The database's other names are
/// older aliases (`US/Eastern`, `GB`, `Etc/GMT+5`); they are still accepted when typed.
const AREAS: [&str; 9] = [
    "Africa",
    "America",
    "Antarctica",
    "Asia",
    "Atlantic",
    "Australia",
    "Europe",
    "Indian",
    "Pacific",
];

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// An IANA time zone, such as `Europe/London`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// An IANA zone name, matched without regard to case (`europe/london` is `Europe/London`).
    pub fn parse(input: &str) -> Result<Zone, ErrorDetail> {
        let name = input.trim();
        let invalid = || ErrorDetail::field("timeZone", TIME_ZONE_INVALID);
        // The longest name in the database has 32 characters.
        if name.is_empty() || name.len() > 64 {
            return Err(invalid());
        }
        if let Ok(tz) = name.parse::<Tz>() {
            return Ok(Zone(tz));
        }
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
            .map(|tz| Zone(*tz))
            .ok_or_else(invalid)
    }

    /// An optional zone: blank means none.
    pub fn parse_optional(input: Option<&str>) -> Result<Option<Zone>, ErrorDetail> {
        match input.map(str::trim) {
            None | Some("") => Ok(None),
            Some(name) => Zone::parse(name).map(Some),
        }
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zones a seller picks from: `UTC`, then every zone of a continent or ocean, sorted.
    pub fn choices() -> impl Iterator<Item = &'static str> {
        std::iter::once("UTC").chain(
            chrono_tz::TZ_VARIANTS
                .iter()
                .map(|tz| tz.name())
                .filter(|name| area(name).is_some()),
        )
    }

    /// The wall-clock time `local` at the venue as an instant. A time that happens twice (the
    /// hour the clocks go back) is its first occurrence; a time that never happens (the hour
    /// they go forward) is refused.
    pub fn instant_of(self, local: NaiveDateTime) -> Result<Timestamp, Skipped> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => {
                Ok(Timestamp::from_millis(at.timestamp_millis()))
            }
            LocalResult::None => Err(Skipped),
        }
    }

    /// The venue's wall-clock time at `at`, or `None` for an instant outside chrono's range.
    fn local(self, at: Timestamp) -> Option<DateTime<Tz>> {
        self.0.timestamp_millis_opt(at.millis()).single()
    }

    /// The venue's offset from UTC at `at`, in minutes (0 if `at` is out of range).
    pub fn utc_offset_minutes(self, at: Timestamp) -> i64 {
        self.local(at)
            .map(|local| i64::from(local.offset().fix().local_minus_utc()) / 60)
            .unwrap_or(0)
    }

    /// The calendar date at the venue when `at` happens (UTC's date if `at` is out of range).
    pub fn local_date(self, at: Timestamp) -> chrono::NaiveDate {
        match self.local(at) {
            Some(local) => local.date_naive(),
            None => chrono::DateTime::from_timestamp_millis(at.millis())
                .map(|utc| utc.date_naive())
                .unwrap_or_default(),
        }
    }

    /// `Sat 5 Dec 2026, 19:00 GMT`: the venue's time with the abbreviation in force then.
    pub fn display(self, at: Timestamp) -> String {
        let Some(local) = self.local(at) else {
            return at.to_rfc3339();
        };
        format!(
            "{} {} {} {}, {:02}:{:02} {}",
            local.weekday(),
            local.day(),
            MONTHS[local.month0() as usize],
            local.year(),
            local.hour(),
            local.minute(),
            abbreviation(&local)
        )
    }

    /// RFC 3339 with the venue's offset on that day: `2026-07-05T19:00:00.000+01:00`.
    pub fn rfc3339(self, at: Timestamp) -> String {
        let Some(local) = self.local(at) else {
            return at.to_rfc3339();
        };
        let offset = local.offset().fix().local_minus_utc();
        let (sign, offset) = if offset < 0 {
            ('-', -offset)
        } else {
            ('+', offset)
        };
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{sign}{:02}:{:02}",
            local.year(),
            local.month(),
            local.day(),
            local.hour(),
            local.minute(),
            local.second(),
            local.timestamp_subsec_millis(),
            offset / 3600,
            offset % 3600 / 60
        )
    }

    /// The value of a `<input type="datetime-local">` at the venue: `2026-12-31T20:00`.
    pub fn datetime_local(self, at: Timestamp) -> String {
        match self.local(at) {
            Some(local) => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}",
                local.year(),
                local.month(),
                local.day(),
                local.hour(),
                local.minute()
            ),
            None => at.to_datetime_local(),
        }
    }
}

/// A wall-clock time that does not happen in a zone: the clocks skip it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Skipped;

/// `Europe` for `Europe/London`, when the name is in one of the offered areas.
pub fn area(name: &str) -> Option<&'static str> {
    let (area, _) = name.split_once('/')?;
    AREAS.iter().copied().find(|a| *a == area)
}

/// `GMT`, `BST`, `EDT`; `UTC+03` or `UTC+05:30` where the database has no letters for the
/// zone, `UTC` for UTC itself.
fn abbreviation(local: &DateTime<Tz>) -> String {
    if let Some(letters) = local.offset().abbreviation()
        && letters.starts_with(char::is_alphabetic)
    {
        return letters.to_string();
    }
    let offset = local.offset().fix().local_minus_utc();
    if offset == 0 {
        return "UTC".to_string();
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let (hours, minutes) = (offset.abs() / 3600, offset.abs() % 3600 / 60);
    if minutes == 0 {
        format!("UTC{sign}{hours:02}")
    } else {
        format!("UTC{sign}{hours:02}:{minutes:02}")
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Zone, D::Error> {
        let name = String::deserialize(deserializer)?;
        Zone::parse(&name).map_err(|e| serde::de::Error::custom(e.message))
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::parse_rfc3339(rfc3339).unwrap()
    }

    fn local(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn names_are_iana_names_in_any_case() {
        assert_eq!(
            Zone::parse("Europe/London").unwrap().name(),
            "Europe/London"
        );
        assert_eq!(
            Zone::parse(" america/new_york ").unwrap().name(),
            "America/New_York"
        );
        assert_eq!(Zone::parse("UTC").unwrap(), Zone::UTC);
        // Old aliases are accepted as typed, not offered.
        assert_eq!(Zone::parse("US/Eastern").unwrap().name(), "US/Eastern");
        for hostile in [
            "",
            "Europe/Londonn",
            "<script>alert(1)</script>",
            "Europe/London\u{0}",
            "Europe/\u{202e}London",
            "../../etc/passwd",
            &"A".repeat(100_000),
        ] {
            let err = Zone::parse(hostile).unwrap_err();
            assert_eq!(err.field.as_deref(), Some("timeZone"));
            assert_eq!(err.message, TIME_ZONE_INVALID);
        }
        assert_eq!(Zone::parse_optional(Some("  ")), Ok(None));
        assert_eq!(Zone::parse_optional(None), Ok(None));
    }

    #[test]
    fn the_offered_zones_are_sorted_known_and_start_with_utc() {
        let choices: Vec<_> = Zone::choices().collect();
        assert_eq!(choices[0], "UTC");
        assert!(choices.contains(&"Europe/London"));
        assert!(choices.contains(&"America/Argentina/Buenos_Aires"));
        assert!(!choices.contains(&"US/Eastern"));
        assert!(!choices.iter().any(|c| c.starts_with("Etc/")));
        assert!(choices[1..].windows(2).all(|w| w[0] < w[1]));
        assert!(choices.iter().all(|c| Zone::parse(c).unwrap().name() == *c));
        assert!(choices.len() > 300, "{} zones", choices.len());
    }

    #[test]
    fn london_is_gmt_in_winter_and_bst_in_summer() {
        let london = Zone::parse("Europe/London").unwrap();
        let winter = london.instant_of(local("2026-12-05T19:00")).unwrap();
        assert_eq!(winter, at("2026-12-05T19:00:00Z"));
        assert_eq!(london.display(winter), "Sat 5 Dec 2026, 19:00 GMT");
        assert_eq!(london.rfc3339(winter), "2026-12-05T19:00:00.000+00:00");
        let summer = london.instant_of(local("2026-07-04T19:00")).unwrap();
        assert_eq!(summer, at("2026-07-04T18:00:00Z"));
        assert_eq!(london.display(summer), "Sat 4 Jul 2026, 19:00 BST");
        assert_eq!(london.rfc3339(summer), "2026-07-04T19:00:00.000+01:00");
        assert_eq!(london.datetime_local(summer), "2026-07-04T19:00");
    }

    #[test]
    fn new_york_is_five_hours_behind_in_winter_and_four_in_summer() {
        let new_york = Zone::parse("America/New_York").unwrap();
        let winter = new_york.instant_of(local("2026-12-05T19:00")).unwrap();
        assert_eq!(winter, at("2026-12-06T00:00:00Z"));
        assert_eq!(new_york.display(winter), "Sat 5 Dec 2026, 19:00 EST");
        assert_eq!(new_york.rfc3339(winter), "2026-12-05T19:00:00.000-05:00");
        let summer = new_york.instant_of(local("2026-07-04T19:00")).unwrap();
        assert_eq!(summer, at("2026-07-04T23:00:00Z"));
        assert_eq!(new_york.display(summer), "Sat 4 Jul 2026, 19:00 EDT");
    }

    #[test]
    fn across_the_change_of_clocks() {
        let london = Zone::parse("Europe/London").unwrap();
        // 29 March 2026: 01:00 GMT becomes 02:00 BST; 01:30 never happens.
        assert_eq!(london.instant_of(local("2026-03-29T01:30")), Err(Skipped));
        let before = london.instant_of(local("2026-03-29T00:59")).unwrap();
        let after = london.instant_of(local("2026-03-29T02:00")).unwrap();
        assert_eq!(after.millis() - before.millis(), 60_000);
        assert_eq!(london.display(before), "Sun 29 Mar 2026, 00:59 GMT");
        assert_eq!(london.display(after), "Sun 29 Mar 2026, 02:00 BST");
        // 25 October 2026: 02:00 BST becomes 01:00 GMT; 01:30 happens twice, the first counts.
        let twice = london.instant_of(local("2026-10-25T01:30")).unwrap();
        assert_eq!(twice, at("2026-10-25T00:30:00Z"));
        assert_eq!(london.display(twice), "Sun 25 Oct 2026, 01:30 BST");
        assert_eq!(
            london.display(at("2026-10-25T01:30:00Z")),
            "Sun 25 Oct 2026, 01:30 GMT"
        );
    }

    #[test]
    fn zones_without_letters_show_their_offset() {
        let istanbul = Zone::parse("Europe/Istanbul").unwrap();
        let show = istanbul.instant_of(local("2026-12-05T19:00")).unwrap();
        assert_eq!(istanbul.display(show), "Sat 5 Dec 2026, 19:00 UTC+03");
        let kolkata = Zone::parse("Asia/Kolkata").unwrap();
        let show = kolkata.instant_of(local("2026-12-05T19:00")).unwrap();
        assert_eq!(kolkata.rfc3339(show), "2026-12-05T19:00:00.000+05:30");
        assert_eq!(kolkata.display(show), "Sat 5 Dec 2026, 19:00 IST");
        let kathmandu = Zone::parse("Asia/Kathmandu").unwrap();
        assert_eq!(kathmandu.display(show), "Sat 5 Dec 2026, 19:15 UTC+05:45");
        assert_eq!(Zone::UTC.display(show), "Sat 5 Dec 2026, 13:30 UTC");
    }

    proptest! {
        /// Whatever the zone and instant, the venue's wall-clock time reads back as that
        /// instant, except in the hour the clocks go back, where it reads as the first of two.
        #[test]
        fn wall_clock_times_read_back(
            zone in proptest::sample::select(Zone::choices().collect::<Vec<_>>()),
            minutes in 0i64..(60 * 24 * 366 * 10),
        ) {
            let zone = Zone::parse(zone).unwrap();
            let instant = Timestamp::from_millis(1_767_225_600_000 + minutes * 60_000);
            let shown = zone.datetime_local(instant);
            let back = zone.instant_of(local(&shown)).unwrap();
            prop_assert!(back <= instant);
            prop_assert_eq!(zone.datetime_local(back), shown.clone());
            if back < instant {
                // Only a repeated hour: the same wall-clock time, at most a few hours earlier.
                prop_assert!(instant.millis() - back.millis() <= 3 * 3_600_000);
            }
            // The offset in RFC 3339 names the same instant.
            prop_assert_eq!(Timestamp::parse_rfc3339(&zone.rfc3339(instant)), Some(instant));
        }
    }
}
