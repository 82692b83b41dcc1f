//! Rate limiting: `limit` attempts per key per minute (a client address for sign-in and sign-up,
//! an account for reservations), `limit` at once and then one every `60 / limit` seconds.
//!
//! The algorithm is `governor`'s (GCRA: one timestamp per key). Time is the application's clock,
//! so tests move through a window instead of waiting for it. The keys live in a store of at most
//! [`MAX_KEYS`]: past that the key seen longest ago is forgotten (it starts afresh, as a new one
//! would), so however many addresses a client makes up, the limiter holds bounded memory and each
//! check costs the same.

use crate::error::AppError;
use crate::ssr::clock::SharedClock;
use governor::clock::Clock;
use governor::nanos::Nanos;
use governor::state::StateStore;
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// The most keys remembered at once (about 5 MB at most).
pub const MAX_KEYS: usize = 65_536;

pub struct RateLimiter<K: Hash + Eq + Clone = IpAddr> {
    /// `None` when unlimited.
    limiter: Option<Limiter<K>>,
    /// The limiter's store, to say how many keys it holds.
    store: Recent<K>,
}

impl<K: Hash + Eq + Clone> RateLimiter<K> {
    /// `limit` attempts per key per minute, on `clock`'s time; 0 means unlimited.
    pub fn per_minute(limit: u32, clock: SharedClock) -> RateLimiter<K> {
        RateLimiter::keeping(limit, clock, MAX_KEYS)
    }

    /// As [`RateLimiter::per_minute`], remembering at most `keys` keys.
    fn keeping(limit: u32, clock: SharedClock, keys: usize) -> RateLimiter<K> {
        let keys = NonZeroUsize::new(keys).unwrap_or(NonZeroUsize::MIN);
        let store = Recent(Arc::new(Mutex::new(lru::LruCache::new(keys))));
        let limiter = std::num::NonZeroU32::new(limit).map(|limit| {
            governor::RateLimiter::new(
                governor::Quota::per_minute(limit),
                store.clone(),
                AppClock(clock),
            )
        });
        RateLimiter { limiter, store }
    }

    /// Takes one attempt for `key`, or refuses with 429 when it has used up its attempts.
    pub fn check(&self, key: K) -> Result<(), AppError> {
        match &self.limiter {
            None => Ok(()),
            Some(limiter) => limiter
                .check_key(&key)
                .map_err(|_| AppError::TooManyRequests),
        }
    }

    /// How many keys are remembered now.
    pub fn keys(&self) -> usize {
        self.store.lock().len()
    }
}

type Limiter<K> =
    governor::RateLimiter<K, Recent<K>, AppClock, governor::middleware::NoOpMiddleware<Nanos>>;

/// The application's clock, as `governor` reads time.
struct AppClock(SharedClock);

impl Clone for AppClock {
    fn clone(&self) -> Self {
        AppClock(self.0.clone())
    }
}

impl Clock for AppClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let millis = u64::try_from(self.0.now().millis()).unwrap_or(0);
        Nanos::from(millis.saturating_mul(1_000_000))
    }
}

/// The keys' states, the least recently seen forgotten first once the store is full.
struct Recent<K: Hash + Eq>(Arc<Mutex<lru::LruCache<K, Nanos>>>);

impl<K: Hash + Eq> Clone for Recent<K> {
    fn clone(&self) -> Self {
        Recent(self.0.clone())
    }
}

impl<K: Hash + Eq> Recent<K> {
    fn lock(&self) -> std::sync::MutexGuard<'_, lru::LruCache<K, Nanos>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl<K: Hash + Eq + Clone> StateStore for Recent<K> {
    type Key = K;

    fn measure_and_replace<T, F, E>(&self, key: &K, f: F) -> Result<T, E>
    where
        F: Fn(Option<Nanos>) -> Result<(T, Nanos), E>,
    {
        let mut keys = self.lock();
        let (answer, state) = f(keys.get(key).copied())?;
        keys.put(key.clone(), state);
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Timestamp;
    use crate::ssr::clock::ManualClock;

    fn clock_at_zero() -> std::sync::Arc<ManualClock> {
        std::sync::Arc::new(ManualClock::at(Timestamp(1_000_000)))
    }

    #[test]
    fn allows_the_limit_then_refuses_until_the_clock_moves_on() {
        let clock = clock_at_zero();
        let limiter = RateLimiter::<IpAddr>::per_minute(3, clock.clone());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(limiter.check(a), Ok(()));
        }
        assert_eq!(limiter.check(a), Err(AppError::TooManyRequests));
        assert_eq!(limiter.check(b), Ok(()), "other addresses are not affected");
        // One attempt comes back every 20 s.
        clock.advance(19_000);
        assert_eq!(limiter.check(a), Err(AppError::TooManyRequests));
        clock.advance(2_000);
        assert_eq!(limiter.check(a), Ok(()));
        assert_eq!(limiter.check(a), Err(AppError::TooManyRequests));
        // A whole window on, all of them.
        clock.advance(60_000);
        for _ in 0..3 {
            assert_eq!(limiter.check(a), Ok(()));
        }
        assert_eq!(limiter.check(a), Err(AppError::TooManyRequests));
    }

    #[test]
    fn zero_disables_the_limit() {
        let limiter = RateLimiter::<IpAddr>::per_minute(0, clock_at_zero());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert!((0..1000).all(|_| limiter.check(a).is_ok()));
        assert_eq!(limiter.keys(), 0);
    }

    /// A client making up 100,000 addresses within a minute: the limiter keeps at most
    /// `MAX_KEYS` of them, each check still finds its key directly, and an address in use
    /// all along stays limited.
    #[test]
    fn a_hundred_thousand_addresses_are_held_in_bounded_memory() {
        let limiter = RateLimiter::<IpAddr>::per_minute(5, clock_at_zero());
        let attacker: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..5 {
            assert_eq!(limiter.check(attacker), Ok(()));
        }
        for n in 0u32..100_000 {
            let made_up = IpAddr::from(std::net::Ipv6Addr::from(u128::from(n) + 1));
            assert_eq!(limiter.check(made_up), Ok(()));
            if n % 1_000 == 0 {
                // Still refused, however many others come: it keeps being seen.
                assert_eq!(limiter.check(attacker), Err(AppError::TooManyRequests));
            }
            assert!(limiter.keys() <= MAX_KEYS);
        }
        assert_eq!(limiter.keys(), MAX_KEYS);
    }

    #[test]
    fn the_key_seen_longest_ago_is_the_one_forgotten() {
        let limiter = RateLimiter::<u32>::keeping(1, clock_at_zero(), 2);
        assert_eq!(limiter.check(1), Ok(()));
        assert_eq!(limiter.check(2), Ok(()));
        assert_eq!(limiter.check(1), Err(AppError::TooManyRequests));
        // A third key: 2 was seen longest ago, so it goes; 1 is still limited.
        assert_eq!(limiter.check(3), Ok(()));
        assert_eq!(limiter.keys(), 2);
        assert_eq!(limiter.check(1), Err(AppError::TooManyRequests));
        assert_eq!(limiter.check(2), Ok(()), "forgotten: starts afresh");
    }
}
