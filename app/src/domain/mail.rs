//! When to try a message again after a failed delivery.

/// First retry after this long; each further one waits twice as long as the one before.
pub const FIRST_RETRY_MS: i64 = 30_000;
/// Never wait longer than this between attempts: a long outage is retried hourly, forever.
pub const LONGEST_RETRY_MS: i64 = 3_600_000;

/// How long to wait after the `attempts`-th failed attempt: 30 s, 1 min, 2 min, … up to an hour.
pub fn retry_delay_ms(attempts: i64) -> i64 {
    let doublings = (attempts.max(1) - 1).min(20) as u32;
    FIRST_RETRY_MS
        .saturating_mul(1_i64 << doublings)
        .min(LONGEST_RETRY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_by_doubling_up_to_an_hour() {
        let delays: Vec<i64> = (1..=9).map(retry_delay_ms).collect();
        assert_eq!(
            delays,
            [
                30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000
            ]
        );
        assert_eq!(retry_delay_ms(0), 30_000);
        assert_eq!(retry_delay_ms(i64::MAX), 3_600_000);
        assert_eq!(retry_delay_ms(-5), 30_000);
    }
}
