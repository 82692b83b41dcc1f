//! Human durations for settings such as `RESERVATION_WINDOW=15m`.

/// Parses `<number><unit>` with unit `ms`, `s`, `m` or `h` (a bare number means seconds) into
/// milliseconds. Zero and negative durations are refused.
pub fn parse_duration(input: &str) -> Result<i64, String> {
    let input = input.trim();
    let split = input
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(input.len());
    let (number, unit) = input.split_at(split);
    let number: i64 = number
        .parse()
        .map_err(|_| format!("`{input}` is not a duration like 15m, 30s or 1h"))?;
    let factor = match unit.trim() {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" | "min" => 60_000,
        "h" => 3_600_000,
        other => {
            return Err(format!(
                "unknown duration unit `{other}` (use ms, s, m or h)"
            ));
        }
    };
    match number.checked_mul(factor) {
        Some(millis) if millis > 0 => Ok(millis),
        _ => Err(format!("`{input}` must be a positive duration")),
    }
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
        ];
        for (input, expected) in cases {
            assert_eq!(parse_duration(input), expected, "{input}");
        }
        for bad in ["", "0s", "m", "15x", "-1s", "1.5m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
