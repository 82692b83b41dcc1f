//! What the server gives back after a burst: freed heap pages, and once it has been quiet for a
//! moment, the database connections and caches the burst made it open.
//!
//! An on-sale leaves the process holding what ten thousand connections needed: hundreds of
//! megabytes of freed heap that glibc keeps, and on SQLite up to nine connections, each with its
//! own page cache, parsed schema, prepared statements and thread. None of it is needed once the
//! rush is over, and all of it comes back on demand within a millisecond or two.

use std::time::{Duration, Instant};

/// How long no request may have arrived before the idle connections are closed.
pub const QUIET: Duration = Duration::from_secs(2);

/// How often the request count is looked at.
const LOOK_EVERY: Duration = Duration::from_millis(250);

/// Tells, from the running count of requests begun, when a quiet moment has come: no new
/// request for [`QUIET`] after some arrived. It fires once per quiet moment.
#[derive(Debug)]
pub struct QuietMoment {
    seen: u64,
    since: Instant,
    given_back: bool,
}

impl QuietMoment {
    pub fn new(requests: u64, now: Instant) -> QuietMoment {
        QuietMoment {
            seen: requests,
            since: now,
            // A server that has just started holds nothing to give back.
            given_back: true,
        }
    }

    /// Whether to give back now, given the count of requests begun and of those in progress.
    pub fn observe(&mut self, requests: u64, in_progress: usize, now: Instant) -> bool {
        if requests != self.seen || in_progress > 0 {
            self.seen = requests;
            self.since = now;
            self.given_back = false;
            return false;
        }
        if self.given_back || now.duration_since(self.since) < QUIET {
            return false;
        }
        self.given_back = true;
        true
    }
}

/// Runs for as long as the server does: at each quiet moment forgets the browse pages no longer
/// served, closes the database's idle connections beyond each pool's minimum, empties SQLite's
/// caches and hands free heap pages back to the system.
pub async fn give_back_when_quiet(state: app::ssr::AppState) {
    let mut moment = QuietMoment::new(crate::serve::requests_begun(), Instant::now());
    let mut ticker = tokio::time::interval(LOOK_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if moment.observe(
            crate::serve::requests_begun(),
            crate::serve::requests_in_progress(),
            Instant::now(),
        ) {
            let pages = state.browse_cache.forget_stale(state.clock.now());
            let closed = state.db.release_idle().await;
            tracing::debug!(
                pages,
                closed,
                "quiet: stale pages forgotten, idle connections closed"
            );
            trim();
        }
    }
}

/// Sets glibc up to hand freed memory back, and starts a thread that does so every few seconds.
///
/// Each password hash takes 19 MiB. glibc raises its mmap threshold after such a block is freed,
/// so later ones come from per-thread arenas that never shrink, and a burst of sign-ins would
/// leave the process holding hundreds of megabytes. A fixed threshold keeps large blocks mmapped:
/// freed, they go straight back to the system. Smaller blocks freed inside the heaps are handed
/// back every few seconds.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn give_memory_back_to_the_os() {
    const M_MMAP_THRESHOLD: i32 = -3;
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    // SAFETY: mallopt takes glibc's own allocator locks and only changes a tuning value.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 1 << 20);
    }
    // Memory freed in the middle of glibc's heaps stays with the process: after an on-sale's
    // ten thousand connections had closed, the server still held 640 MB. Every few seconds the
    // free pages go back to the system (a quick walk over the heaps; nothing moves).
    std::thread::Builder::new()
        .name("malloc-trim".into())
        .spawn(|| {
            loop {
                std::thread::sleep(Duration::from_secs(TRIM_EVERY_SECONDS));
                trim();
            }
        })
        .ok();
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn give_memory_back_to_the_os() {}

/// How often free heap memory is handed back to the system.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const TRIM_EVERY_SECONDS: u64 = 5;

/// Hands the heap's free pages back to the system.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes the allocator's locks and only releases free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_moment_comes_once_after_requests_stop_and_not_while_one_runs() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let mut moment = QuietMoment::new(10, start);
        // Nothing has happened since the start: nothing to give back.
        assert!(!moment.observe(10, 0, at(5_000)));
        // Requests arrive, then stop.
        assert!(!moment.observe(25, 0, at(5_250)));
        assert!(!moment.observe(25, 0, at(7_000)));
        // A long request keeps the moment from coming even with no new arrivals.
        assert!(!moment.observe(25, 1, at(7_250)));
        assert!(!moment.observe(25, 0, at(9_000)));
        assert!(moment.observe(25, 0, at(9_250)));
        // Once per quiet moment.
        assert!(!moment.observe(25, 0, at(20_000)));
        // The next burst makes another.
        assert!(!moment.observe(26, 0, at(20_250)));
        assert!(!moment.observe(26, 0, at(22_000)));
        assert!(moment.observe(26, 0, at(22_250)));
    }
}
