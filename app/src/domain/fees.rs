//! Fees and the resale price cap (docs/RULES.md, "Fees and the resale cap"), as pure arithmetic on integer cents.
//!
//! A percentage has at most two decimals and is kept as hundredths of a percent (`12.5 %` is
//! 1250), so every amount is an exact integer computation: `cents × basis points / 10,000`,
//! rounded half up to the cent.

use super::ErrorDetail;
use super::money::Price;

/// A percentage with at most two decimals, from 0 to 1,000 %, as hundredths of a percent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Percent(u32);

/// The largest percentage a setting may have (a cap of ten times face value).
pub const MAX_PERCENT_HUNDREDTHS: u32 = 100_000;

impl Percent {
    pub const ZERO: Percent = Percent(0);

    /// Reads `12`, `12.5` or `12.50`; refuses signs, exponents, more than two decimals and
    /// anything above 1,000.
    pub fn parse(input: &str) -> Result<Percent, String> {
        let text = input.trim().trim_end_matches('%').trim_end();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) || whole.len() > 4 {
            return Err(format!(
                "`{input}` is not a percentage (a number such as 5, 12.5 or 120)"
            ));
        }
        if fraction.len() > 2 {
            return Err(format!("`{input}` has more than two decimals"));
        }
        let whole: u32 = whole
            .parse()
            .map_err(|_| format!("`{input}` is too large"))?;
        let fraction: u32 = format!("{fraction:0<2}").parse().unwrap_or(0);
        let hundredths = whole * 100 + fraction;
        if hundredths > MAX_PERCENT_HUNDREDTHS {
            return Err(format!("`{input}` is above 1000 %"));
        }
        Ok(Percent(hundredths))
    }

    pub fn from_hundredths(hundredths: u32) -> Percent {
        Percent(hundredths.min(MAX_PERCENT_HUNDREDTHS))
    }

    pub fn hundredths(self) -> u32 {
        self.0
    }

    /// `cents × self`, rounded half up to the cent (amounts are never negative).
    pub fn of(self, cents: i64) -> i64 {
        let exact = i128::from(cents.max(0)) * i128::from(self.0);
        i64::try_from((exact + 5_000) / 10_000).unwrap_or(i64::MAX)
    }
}

/// What a buyer pays and a seller receives for one listing price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Breakdown {
    /// The listing's price, as the seller set it.
    pub price_cents: i64,
    /// Added to the price for the buyer (`BUYER_FEE_PERCENT`).
    pub buyer_fee_cents: i64,
    /// What the buyer pays: price plus buyer fee.
    pub total_cents: i64,
    /// Kept from the price (`SELLER_FEE_PERCENT`).
    pub seller_fee_cents: i64,
    /// What the seller earns: price minus seller fee.
    pub seller_net_cents: i64,
}

impl Breakdown {
    /// What the platform keeps: both fees.
    pub fn platform_cents(&self) -> i64 {
        self.buyer_fee_cents + self.seller_fee_cents
    }
}

/// The marketplace's two fees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fees {
    pub buyer: Percent,
    pub seller: Percent,
}

impl Fees {
    /// The breakdown of `price`. The seller's fee never exceeds the price.
    pub fn breakdown(&self, price: Price) -> Breakdown {
        let price_cents = price.cents();
        let buyer_fee_cents = self.buyer.of(price_cents);
        let seller_fee_cents = self.seller.of(price_cents).min(price_cents);
        Breakdown {
            price_cents,
            buyer_fee_cents,
            total_cents: price_cents + buyer_fee_cents,
            seller_fee_cents,
            seller_net_cents: price_cents - seller_fee_cents,
        }
    }
}

/// Cents as major units with two decimals and no symbol, as the cap's message gives them
/// (`120.00`).
pub fn plain_amount(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// The resale cap (`RESALE_PRICE_CAP_PERCENT`): with a cap, a listing needs a face value and
/// may ask at most that share of it.
pub fn check_cap(
    cap: Option<Percent>,
    price: Price,
    face_value: Option<Price>,
) -> Result<(), ErrorDetail> {
    let Some(cap) = cap else {
        return Ok(());
    };
    let Some(face_value) = face_value else {
        return Err(ErrorDetail::field(
            "faceValue",
            "Face value is required while resale prices are capped",
        ));
    };
    let ceiling = cap.of(face_value.cents());
    if price.cents() > ceiling {
        return Err(ErrorDetail::field(
            "price",
            &format!("Price is above the resale cap of {}", plain_amount(ceiling)),
        ));
    }
    Ok(())
}

/// The face value a resale carries: the original listing's, or — when it had none — what its
/// buyer paid for the ticket (the listing price, fees excluded).
pub fn inherited_face_value(original_face_value: Option<Price>, price_paid: Price) -> Price {
    original_face_value.unwrap_or(price_paid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn price(cents: i64) -> Price {
        Price::from_cents(cents).unwrap()
    }

    #[test]
    fn percentages_have_at_most_two_decimals() {
        let cases = [
            ("0", Some(0)),
            ("5", Some(500)),
            ("12.5", Some(1250)),
            ("12.50", Some(1250)),
            (" 7.25 % ", Some(725)),
            ("120", Some(12_000)),
            ("1000", Some(100_000)),
            ("1000.01", None),
            ("12.345", None),
            ("-1", None),
            ("+5", None),
            ("1e2", None),
            ("", None),
            (".5", None),
            ("<b>5</b>", None),
            ("99999999999", None),
        ];
        for (input, expected) in cases {
            assert_eq!(
                Percent::parse(input).ok().map(Percent::hundredths),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn amounts_round_half_up_to_the_cent() {
        let p = |s: &str| Percent::parse(s).unwrap();
        assert_eq!(p("10").of(1000), 100);
        assert_eq!(p("2.5").of(1), 0); // 0.025 cents
        assert_eq!(p("50").of(1), 1); // 0.5 cents rounds up
        assert_eq!(p("12.5").of(1999), 250); // 249.875
        assert_eq!(p("3.33").of(1500), 50); // 49.95
        assert_eq!(p("0").of(123_456), 0);
        assert_eq!(p("1000").of(i64::MAX), i64::MAX, "no overflow");
    }

    #[test]
    fn a_worked_example() {
        let fees = Fees {
            buyer: Percent::parse("10").unwrap(),
            seller: Percent::parse("5").unwrap(),
        };
        let b = fees.breakdown(price(2050));
        assert_eq!(
            b,
            Breakdown {
                price_cents: 2050,
                buyer_fee_cents: 205,
                total_cents: 2255,
                seller_fee_cents: 103, // 102.5 rounds up
                seller_net_cents: 1947,
            }
        );
        assert_eq!(b.platform_cents(), 308);
    }

    #[test]
    fn the_cap_needs_a_face_value_and_says_the_ceiling() {
        let cap = Some(Percent::parse("120").unwrap());
        assert_eq!(check_cap(None, price(99_999), None), Ok(()));
        assert_eq!(check_cap(cap, price(12_000), Some(price(10_000))), Ok(()));
        assert_eq!(
            check_cap(cap, price(12_001), Some(price(10_000))),
            Err(ErrorDetail::field(
                "price",
                "Price is above the resale cap of 120.00"
            ))
        );
        assert_eq!(
            check_cap(cap, price(100), None)
                .unwrap_err()
                .field
                .as_deref(),
            Some("faceValue")
        );
        assert_eq!(
            check_cap(
                Some(Percent::parse("110").unwrap()),
                price(2_000),
                Some(price(1_799))
            ),
            Err(ErrorDetail::field(
                "price",
                "Price is above the resale cap of 19.79"
            ))
        );
    }

    #[test]
    fn a_resale_inherits_the_original_face_value_or_the_price_paid() {
        assert_eq!(
            inherited_face_value(Some(price(5_000)), price(7_000)),
            price(5_000)
        );
        assert_eq!(inherited_face_value(None, price(7_000)), price(7_000));
    }

    proptest! {
        #[test]
        fn fees_never_lose_or_make_a_cent(
            cents in 1i64..=100_000_000,
            buyer in 0u32..=10_000,
            seller in 0u32..=10_000,
        ) {
            let fees = Fees { buyer: Percent::from_hundredths(buyer), seller: Percent::from_hundredths(seller) };
            let b = fees.breakdown(price(cents));
            // What the buyer pays is exactly what the seller and the platform get.
            prop_assert_eq!(b.total_cents, b.seller_net_cents + b.platform_cents());
            prop_assert!(b.seller_net_cents >= 0 && b.buyer_fee_cents >= 0);
            prop_assert!(b.seller_fee_cents <= cents);
            // Each fee is within half a cent of the exact share.
            let exact = |p: u32| cents as f64 * f64::from(p) / 10_000.0;
            prop_assert!((b.buyer_fee_cents as f64 - exact(buyer)).abs() <= 0.5 + 1e-6);
            prop_assert!((b.seller_fee_cents as f64 - exact(seller).min(cents as f64)).abs() <= 0.5 + 1e-6);
        }

        #[test]
        fn a_higher_price_never_has_a_lower_total(
            cents in 1i64..100_000_000,
            buyer in 0u32..=10_000,
        ) {
            let fees = Fees { buyer: Percent::from_hundredths(buyer), seller: Percent::ZERO };
            prop_assert!(fees.breakdown(price(cents + 1)).total_cents >= fees.breakdown(price(cents)).total_cents);
        }
    }
}
