//! Points in time as the domain sees them: milliseconds since the Unix epoch, always passed in by
//! the caller (the domain never reads a clock).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(millis: i64) -> Timestamp {
        Timestamp(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// This instant moved forward by `millis` (saturating, never wrapping).
    pub fn plus_millis(self, millis: i64) -> Timestamp {
        Timestamp(self.0.saturating_add(millis))
    }

    /// RFC 3339 in UTC with millisecond precision, e.g. `2026-11-25T18:15:00.000Z`.
    pub fn to_rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        match time::OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(at) => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute(),
                at.second(),
                at.millisecond()
            ),
            Err(_) => String::from("1970-01-01T00:00:00.000Z"),
        }
    }

    /// How pages show an event date: `Thu 31 Dec 2026, 20:00 UTC`.
    pub fn to_display(self) -> String {
        match time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000) {
            Ok(at) => format!(
                "{} {} {} {}, {:02}:{:02} UTC",
                &at.weekday().to_string()[..3],
                at.day(),
                &at.month().to_string()[..3],
                at.year(),
                at.hour(),
                at.minute()
            ),
            Err(_) => self.to_rfc3339(),
        }
    }

    /// The time of day, as the door shows a first admission: `19:42 UTC`.
    pub fn to_clock(self) -> String {
        let text = self.to_display();
        match text.rsplit_once(", ") {
            Some((_, clock)) if clock.ends_with(" UTC") => clock.to_string(),
            _ => text,
        }
    }

    /// The value of a `<input type="datetime-local">` in UTC: `2026-12-31T20:00`.
    pub fn to_datetime_local(self) -> String {
        self.to_rfc3339().chars().take(16).collect()
    }

    /// Shown at the venue: in `zone`, or in UTC, labelled so, for a listing without one.
    pub fn display_in(self, zone: Option<super::Zone>) -> String {
        zone.map_or_else(|| self.to_display(), |zone| zone.display(self))
    }

    /// RFC 3339 with the venue's offset, or in UTC (`Z`) for a listing without a zone.
    pub fn rfc3339_in(self, zone: Option<super::Zone>) -> String {
        zone.map_or_else(|| self.to_rfc3339(), |zone| zone.rfc3339(self))
    }

    /// A date-time input's value at the venue, or in UTC for a listing without a zone.
    pub fn datetime_local_in(self, zone: Option<super::Zone>) -> String {
        zone.map_or_else(
            || self.to_datetime_local(),
            |zone| zone.datetime_local(self),
        )
    }

    /// Parses RFC 3339 with any offset (`2026-12-31T20:00:00Z`, `2026-12-31T21:00:00+01:00`).
    pub fn parse_rfc3339(input: &str) -> Option<Timestamp> {
        let at = time::OffsetDateTime::parse(
            input.trim(),
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?;
        let millis = at.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(millis).ok().map(Timestamp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_rfc3339_in_utc() {
        let at = Timestamp::parse_rfc3339("2026-11-25T19:15:00.250+01:00").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-11-25T18:15:00.250Z");
        assert_eq!(Timestamp::parse_rfc3339(&at.to_rfc3339()), Some(at));
        assert_eq!(Timestamp::parse_rfc3339("tomorrow"), None);
        assert_eq!(
            Timestamp(0).plus_millis(1500).to_rfc3339(),
            "1970-01-01T00:00:01.500Z"
        );
    }
}
