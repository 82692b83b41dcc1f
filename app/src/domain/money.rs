//! Money: integer cents inside, two decimals outside. JSON prices are numbers in major units
//! (`20`, `20.5`); form prices are text (`20.50`).

use super::ErrorDetail;
use serde::{Deserialize, Serialize};

/// The largest price a ticket may have: 1,000,000.00.
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

pub const PRICE_NOT_A_NUMBER: &str = "Price must be a number";
pub const PRICE_NOT_POSITIVE: &str = "Price must be greater than 0";
pub const PRICE_TOO_HIGH: &str = "Price must be at most 1,000,000.00";
pub const PRICE_TOO_PRECISE: &str = "Price must have at most 2 decimals";

/// A ticket price: more than zero, at most [`MAX_PRICE_CENTS`], in whole cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Price(i64);

/// Whole cents of a decimal number written as `123`, `12.5`, `1.25e3` or `-4`: refused when it
/// has a fraction of a cent, is not positive, or is beyond any price.
fn exact_cents(text: &str) -> Result<i64, ErrorDetail> {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (
            mantissa,
            exponent
                .parse::<i32>()
                .map_err(|_| price_error(PRICE_NOT_A_NUMBER))?,
        ),
        None => (text, 0),
    };
    let negative = mantissa.starts_with('-');
    let mantissa = mantissa.trim_start_matches(['-', '+']);
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{whole}{fraction}");
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(price_error(PRICE_NOT_A_NUMBER));
    }
    if negative || digits.chars().all(|c| c == '0') {
        return Err(price_error(PRICE_NOT_POSITIVE));
    }
    // Digits that count whole cents: the whole part, moved by the exponent, plus two.
    let cents_digits = i64::try_from(whole.len()).unwrap_or(i64::MAX) + i64::from(exponent) + 2;
    let significant = digits.trim_end_matches('0');
    if i64::try_from(significant.len()).unwrap_or(i64::MAX) > cents_digits {
        return Err(price_error(PRICE_TOO_PRECISE));
    }
    let leading = digits.trim_start_matches('0');
    let zeros_dropped = i64::try_from(digits.len() - leading.len()).unwrap_or(0);
    // Length of the cents number once the significant digits are padded with zeros.
    let length = cents_digits - zeros_dropped;
    if length > 18 {
        return Err(price_error(PRICE_TOO_HIGH));
    }
    let significant = leading.trim_end_matches('0');
    let padding = usize::try_from(length)
        .unwrap_or(0)
        .saturating_sub(significant.len());
    format!("{significant}{}", "0".repeat(padding))
        .parse::<i64>()
        .map_err(|_| price_error(PRICE_TOO_HIGH))
}

fn price_error(message: &str) -> ErrorDetail {
    ErrorDetail::field("price", message)
}

impl Price {
    /// A price from a JSON value: only numbers count (a string such as `"20"` is refused), with at
    /// most two decimals.
    pub fn from_json(value: Option<&serde_json::Value>) -> Result<Price, ErrorDetail> {
        let number = value
            .and_then(serde_json::Value::as_number)
            .ok_or_else(|| price_error(PRICE_NOT_A_NUMBER))?;
        if let Some(whole) = number.as_i64() {
            return Price::from_cents(whole.checked_mul(100).unwrap_or(i64::MAX));
        }
        // The number exactly as written (serde_json keeps the shortest text that reads back
        // as the same value), so `10.000000001` is three cents' worth of digits too many
        // rather than silently rounded.
        exact_cents(&number.to_string()).and_then(Price::from_cents)
    }

    /// A price typed into a form: digits with an optional `.` or `,` and up to two decimals;
    /// spaces, a leading currency sign and thousands separators (`1,000.00`) are tolerated.
    pub fn from_text(input: &str) -> Result<Price, ErrorDetail> {
        let cleaned: String = input
            .trim()
            .trim_start_matches(['$', '€', '£'])
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if cleaned.is_empty() {
            return Err(price_error(PRICE_NOT_A_NUMBER));
        }
        if cleaned.starts_with('-') {
            return Err(price_error(PRICE_NOT_POSITIVE));
        }
        // `1,000.50` uses commas for thousands; `12,50` uses a comma for decimals.
        let normalised = if cleaned.contains('.') {
            cleaned.replace(',', "")
        } else if cleaned.matches(',').count() == 1
            && cleaned.rsplit(',').next().is_some_and(|d| d.len() <= 2)
        {
            cleaned.replace(',', ".")
        } else {
            cleaned.replace(',', "")
        };
        let (whole, fraction) = normalised.split_once('.').unwrap_or((&normalised, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty())
            || !digits(whole)
            || !digits(fraction)
            || normalised.matches('.').count() > 1
        {
            return Err(price_error(PRICE_NOT_A_NUMBER));
        }
        if fraction.len() > 2 {
            return Err(price_error(PRICE_TOO_PRECISE));
        }
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| price_error(PRICE_TOO_HIGH))?
        };
        let fraction: i64 = format!("{fraction:0<2}").parse().unwrap_or(0);
        let cents = whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(fraction))
            .unwrap_or(i64::MAX);
        Price::from_cents(cents)
    }

    /// Checks the range of a price already in cents.
    pub fn from_cents(cents: i64) -> Result<Price, ErrorDetail> {
        if cents <= 0 {
            Err(price_error(PRICE_NOT_POSITIVE))
        } else if cents > MAX_PRICE_CENTS {
            Err(price_error(PRICE_TOO_HIGH))
        } else {
            Ok(Price(cents))
        }
    }

    /// Wraps cents read back from storage (validated when they were written).
    pub fn from_stored(cents: i64) -> Price {
        Price(cents)
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// As a JSON number in major units: `20` for 2000 cents, `20.5` for 2050.
    pub fn to_json(self) -> serde_json::Value {
        if self.0 % 100 == 0 {
            serde_json::Value::from(self.0 / 100)
        } else {
            serde_json::Value::from(self.0 as f64 / 100.0)
        }
    }

    /// Plain two-decimal text for form inputs: `1000.50`.
    pub fn to_input(self) -> String {
        format!("{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// An optional face value: absent or `null` is none; otherwise a price, reported on
/// `faceValue` ("Face value must be …").
pub fn face_value_from_json(
    value: Option<&serde_json::Value>,
) -> Result<Option<Price>, ErrorDetail> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => Price::from_json(Some(value))
            .map(Some)
            .map_err(as_face_value),
    }
}

/// The same from a form's text input: blank is none.
pub fn face_value_from_text(input: Option<&str>) -> Result<Option<Price>, ErrorDetail> {
    match input.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => Price::from_text(text).map(Some).map_err(as_face_value),
    }
}

fn as_face_value(detail: ErrorDetail) -> ErrorDetail {
    ErrorDetail::field(
        "faceValue",
        &detail.message.replacen("Price", "Face value", 1),
    )
}

/// A whole number with thousands separators: `1,000`.
pub fn format_count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut grouped = String::from(if n < 0 { "-" } else { "" });
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    grouped
}

/// `1,234.50 USD`-style display, with the symbol for the common currencies.
pub fn format_money(cents: i64, currency: &str) -> String {
    let grouped = format_count((cents / 100).abs());
    let sign = if cents < 0 { "-" } else { "" };
    let amount = format!("{grouped}.{:02}", (cents % 100).abs());
    match currency.to_ascii_lowercase().as_str() {
        "usd" => format!("{sign}${amount}"),
        "eur" => format!("{sign}€{amount}"),
        "gbp" => format!("{sign}£{amount}"),
        other => format!("{sign}{amount} {}", other.to_ascii_uppercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_prices_become_cents() {
        let cases = [
            (json!(20), Ok(2000)),
            (json!(20.5), Ok(2050)),
            (json!(19.99), Ok(1999)),
            (json!(0.01), Ok(1)),
            (json!(1_000_000), Ok(100_000_000)),
            (json!(999999.99), Ok(99_999_999)),
            (json!(0), Err(PRICE_NOT_POSITIVE)),
            (json!(-5), Err(PRICE_NOT_POSITIVE)),
            (json!(-0.5), Err(PRICE_NOT_POSITIVE)),
            (json!(1_000_000.01), Err(PRICE_TOO_HIGH)),
            (json!(5_000_000_000_i64), Err(PRICE_TOO_HIGH)),
            (json!(10.005), Err(PRICE_TOO_PRECISE)),
            (json!(0.001), Err(PRICE_TOO_PRECISE)),
            // No rounding tolerance: a billionth of a unit is still too precise.
            (json!(10.000000001), Err(PRICE_TOO_PRECISE)),
            (json!(19.990000000000002), Err(PRICE_TOO_PRECISE)),
            (json!(1.5e-7), Err(PRICE_TOO_PRECISE)),
            (json!(1e300), Err(PRICE_TOO_HIGH)),
            (json!(100.0), Ok(10_000)),
            (json!(0.1), Ok(10)),
            (json!(0.05), Ok(5)),
            (json!(-0.0), Err(PRICE_NOT_POSITIVE)),
            (json!("20"), Err(PRICE_NOT_A_NUMBER)),
            (json!(null), Err(PRICE_NOT_A_NUMBER)),
            (json!(true), Err(PRICE_NOT_A_NUMBER)),
        ];
        for (input, expected) in cases {
            let got = Price::from_json(Some(&input))
                .map(Price::cents)
                .map_err(|e| e.message);
            assert_eq!(got, expected.map_err(String::from), "{input}");
        }
        assert_eq!(
            Price::from_json(None).map_err(|e| e.field),
            Err(Some("price".to_string()))
        );
    }

    #[test]
    fn typed_prices_become_cents() {
        let cases = [
            ("20", Ok(2000)),
            ("20.5", Ok(2050)),
            ("20.50", Ok(2050)),
            (" $1,000.00 ", Ok(100_000)),
            ("12,50", Ok(1250)),
            (".5", Ok(50)),
            ("0", Err(PRICE_NOT_POSITIVE)),
            ("-3", Err(PRICE_NOT_POSITIVE)),
            ("", Err(PRICE_NOT_A_NUMBER)),
            ("abc", Err(PRICE_NOT_A_NUMBER)),
            ("1.2.3", Err(PRICE_NOT_A_NUMBER)),
            ("9.999", Err(PRICE_TOO_PRECISE)),
            ("1000000.01", Err(PRICE_TOO_HIGH)),
            ("99999999999999999999999", Err(PRICE_TOO_HIGH)),
        ];
        for (input, expected) in cases {
            let got = Price::from_text(input)
                .map(Price::cents)
                .map_err(|e| e.message);
            assert_eq!(got, expected.map_err(String::from), "{input:?}");
        }
    }

    #[test]
    fn prices_print_back_the_way_they_came() {
        assert_eq!(Price::from_stored(2000).to_json(), json!(20));
        assert_eq!(Price::from_stored(2050).to_json(), json!(20.5));
        assert_eq!(Price::from_stored(1999).to_json(), json!(19.99));
        assert_eq!(Price::from_stored(5).to_input(), "0.05");
        assert_eq!(format_money(123_456_789, "usd"), "$1,234,567.89");
        assert_eq!(format_money(50, "eur"), "€0.50");
        assert_eq!(format_money(100_000, "chf"), "1,000.00 CHF");
        assert_eq!(format_count(1000), "1,000");
        assert_eq!(format_count(999), "999");
    }

    proptest::proptest! {
        #[test]
        fn every_valid_cent_amount_round_trips_through_json(cents in 1i64..=MAX_PRICE_CENTS) {
            let price = Price::from_stored(cents);
            proptest::prop_assert_eq!(Price::from_json(Some(&price.to_json())), Ok(price));
            proptest::prop_assert_eq!(Price::from_text(&price.to_input()), Ok(price));
        }
    }
}
