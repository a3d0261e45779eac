//! Where `now` comes from: a clock held in the application state, so every read and every
//! background task asks the same one, and tests move time instead of sleeping on it.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock (what the server runs on).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told, starting at the system's time plus any offset given:
/// tests of scheduling, embargoes and expiry advance it instead of waiting. Clones share one
/// offset.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    offset: Arc<Mutex<chrono::Duration>>,
}

impl ManualClock {
    /// A clock reading the system's time until it is moved.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward (or, with a negative duration, back) by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        *self.offset.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + *self.offset.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_when_told_and_its_clones_with_it() {
        let clock = ManualClock::new();
        let copy = clock.clone();
        let before = clock.now();
        copy.advance(chrono::Duration::days(2));
        assert!(clock.now() >= before + chrono::Duration::days(2));
    }
}
