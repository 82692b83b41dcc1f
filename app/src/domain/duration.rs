//! Human durations for settings such as `RESERVATION_WINDOW=15m`.

/// Parses `<number><unit>` with unit `ms`, `s`, `m`, `h` or `d` (a bare number means seconds)
/// into milliseconds. Zero and negative durations are refused.
pub fn parse_duration(input: &str) -> Result<i64, String> {
    match parse_delay(input)? {
        0 => Err(format!("`{}` must be a positive duration", input.trim())),
        millis => Ok(millis),
    }
}

/// Like [`parse_duration`], but zero is allowed: a delay that may be none at all
/// (`PAYOUT_DELAY=0`).
pub fn parse_delay(input: &str) -> Result<i64, String> {
    let input = input.trim();
    let split = input
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(input.len());
    let (number, unit) = input.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("`{input}` is not a duration like 15m, 30s, 1h or 2d"))?;
    let factor = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        other => {
            return Err(format!(
                "unknown duration unit `{other}` (use ms, s, m, h or d)"
            ));
        }
    };
    match number.checked_mul(factor) {
        Some(millis) => Ok(millis),
        None => Err(format!("`{input}` is too long a duration")),
    }
}

/// A delay in words for pages: `2 days`, `1 hour`, `90 minutes`, `45 seconds`, `no time`.
pub fn describe(millis: i64) -> String {
    let units = [
        (86_400_000, "day"),
        (3_600_000, "hour"),
        (60_000, "minute"),
        (1_000, "second"),
    ];
    if millis <= 0 {
        return "no time".to_string();
    }
    let (size, name) = units
        .into_iter()
        .find(|(size, _)| millis % size == 0)
        .unwrap_or((1, "millisecond"));
    let count = millis / size;
    format!("{count} {name}{}", if count == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_units_settings_use() {
        let cases = [
            ("15m", Ok(900_000)),
            ("2s", Ok(2_000)),
            ("1h", Ok(3_600_000)),
            ("250ms", Ok(250)),
            ("30", Ok(30_000)),
            ("2d", Ok(172_800_000)),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_duration(input), expected, "{input}");
        }
        for bad in ["", "0s", "m", "15x", "-1s", "1.5m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(describe(172_800_000), "2 days");
        assert_eq!(describe(3_600_000), "1 hour");
        assert_eq!(describe(5_400_000), "90 minutes");
        assert_eq!(describe(1_500), "1500 milliseconds");
        assert_eq!(describe(0), "no time");
        assert_eq!(parse_delay("0s"), Ok(0));
        assert_eq!(parse_delay("0"), Ok(0));
        assert!(parse_delay("-1s").is_err());
        assert!(parse_delay("99999999999999999d").is_err());
    }
}
