//! Rate limiting: a token bucket per key (a client address for sign-in and sign-up, an account
//! for reservations) holding `limit` attempts that refills at `limit` per minute.

use crate::error::AppError;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimiter<K = IpAddr> {
    limit: u32,
    buckets: Mutex<HashMap<K, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

const WINDOW: Duration = Duration::from_secs(60);

impl<K: std::hash::Hash + Eq> RateLimiter<K> {
    /// `limit` attempts per key per minute; 0 means unlimited.
    pub fn per_minute(limit: u32) -> RateLimiter<K> {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one attempt for `key`, or refuses with 429 when its bucket is empty.
    pub fn check(&self, key: K) -> Result<(), AppError> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, addr: K, now: Instant) -> Result<(), AppError> {
        if self.limit == 0 {
            return Ok(());
        }
        let capacity = f64::from(self.limit);
        let refill_per_sec = capacity / WINDOW.as_secs_f64();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > 10_000 {
            // Forget addresses whose bucket has refilled completely: they are indistinguishable
            // from new ones.
            buckets.retain(|_, b| now.duration_since(b.updated) < WINDOW);
        }
        let bucket = buckets.entry(addr).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * refill_per_sec).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(AppError::TooManyRequests)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_limit_then_refuses_until_time_refills() {
        let limiter = RateLimiter::<IpAddr>::per_minute(3);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at(a, t0), Ok(()));
        }
        assert_eq!(limiter.check_at(a, t0), Err(AppError::TooManyRequests));
        assert_eq!(
            limiter.check_at(b, t0),
            Ok(()),
            "other addresses are not affected"
        );
        assert_eq!(
            limiter.check_at(a, t0 + Duration::from_secs(19)),
            Err(AppError::TooManyRequests)
        );
        assert_eq!(limiter.check_at(a, t0 + Duration::from_secs(21)), Ok(()));
    }

    #[test]
    fn zero_disables_the_limit() {
        let limiter = RateLimiter::<IpAddr>::per_minute(0);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert!((0..1000).all(|_| limiter.check(a).is_ok()));
    }
}
