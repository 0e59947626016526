//! Where the listeners' time comes from.
//!
//! The message layer's deadlines (separate-response retransmissions, dedup
//! lifetime, held and delayed datagrams, token expiry) are all read from a
//! [`Clock`], so the same code runs on the wall clock ([`SystemClock`]) and
//! on [`SimClock`], which only moves when told to: a test of a 45-second
//! retransmission schedule then takes microseconds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A monotonic time source.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Simulated time: starts at the `Instant` it was made and moves only by
/// [`SimClock::advance`]. Clones share one time.
#[derive(Clone, Debug)]
pub struct SimClock {
    now: Arc<Mutex<Instant>>,
}

impl Default for SimClock {
    fn default() -> Self {
        SimClock::new()
    }
}

impl SimClock {
    pub fn new() -> SimClock {
        SimClock {
            now: Arc::new(Mutex::new(Instant::now())),
        }
    }

    pub fn advance(&self, by: Duration) {
        *self.lock() += by;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Instant> {
        self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for SimClock {
    fn now(&self) -> Instant {
        *self.lock()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_clock_moves_only_when_advanced_and_clones_share_it() {
        let a = SimClock::new();
        let b = a.clone();
        let t0 = a.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(a.now(), t0);
        b.advance(Duration::from_secs(40));
        assert_eq!(a.now() - t0, Duration::from_secs(40));
    }
}
