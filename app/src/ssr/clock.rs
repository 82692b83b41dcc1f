//! Where the server's time comes from: a [`Clock`] in the application state, the system clock
//! in production and a [`ManualClock`] that tests move. Services take their time from it (and
//! hand it to the domain as a parameter); nothing else reads the wall clock.

use crate::domain::Timestamp;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Tells the time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The clock every part of the server shares.
pub type SharedClock = Arc<dyn Clock>;

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp::from_millis(millis)
    }
}

/// A clock that stands still until it is moved: tests step past a reservation window instead
/// of waiting for it.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// Stopped at the current wall-clock time.
    pub fn starting_now() -> ManualClock {
        ManualClock(AtomicI64::new(SystemClock.now().millis()))
    }

    /// A clock standing at `at`.
    pub fn at(at: Timestamp) -> ManualClock {
        ManualClock(AtomicI64::new(at.millis()))
    }

    /// Moves the clock forward by `millis`.
    pub fn advance(&self, millis: i64) {
        self.0.fetch_add(millis, Ordering::AcqRel);
    }

    /// Moves the clock to just after `at`.
    pub fn move_past(&self, at: Timestamp) {
        self.0.fetch_max(at.millis() + 1, Ordering::AcqRel);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::Acquire))
    }
}

/// A fresh time-ordered id (UUID v7).
pub fn new_id() -> crate::domain::Id {
    crate::domain::Id::from_trusted(uuid::Uuid::now_v7().hyphenated().to_string())
}

/// An unguessable code for a bought ticket (128 random bits), shown as a QR code at the door:
/// `TKT-` and 32 upper-case hex digits in groups of eight.
pub fn new_ticket_code() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let hex = hex::encode_upper(bytes);
    format!(
        "TKT-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..16],
        &hex[16..24],
        &hex[24..32]
    )
}
