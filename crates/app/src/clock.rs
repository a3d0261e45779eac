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

/// A clock for tests: it reads the system's time shifted by whatever it was moved, until it
/// is frozen; then it stands still until moved. Tests of scheduling, embargoes and expiry move
/// it instead of waiting, and tests comparing answers freeze it so every request sees the same
/// instant. Clones share one state.
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug, Default)]
struct ManualState {
    offset: chrono::Duration,
    frozen: Option<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock reading the system's time until it is moved or frozen.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward (or, with a negative duration, back) by `by`.
    pub fn advance(&self, by: chrono::Duration) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.offset += by;
        if let Some(at) = &mut state.frozen {
            *at += by;
        }
    }

    /// Stops the clock at its current reading (it moves again only by [`ManualClock::advance`]).
    pub fn freeze(&self) {
        let now = self.now();
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .frozen = Some(now);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.frozen.unwrap_or_else(|| Utc::now() + state.offset)
    }
}

/// An instant several holders read and one moves: the "now" of a GraphQL request, fixed for a
/// query, moved by a subscription to each event's instant before the event is resolved.
#[derive(Debug, Clone)]
pub struct SharedInstant(Arc<std::sync::RwLock<DateTime<Utc>>>);

impl SharedInstant {
    /// Starting at `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Arc::new(std::sync::RwLock::new(now)))
    }

    /// The instant.
    pub fn get(&self) -> DateTime<Utc> {
        *self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves it to `now`.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = now;
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
        clock.freeze();
        let frozen = clock.now();
        assert_eq!(copy.now(), frozen);
        copy.advance(chrono::Duration::hours(1));
        assert_eq!(clock.now(), frozen + chrono::Duration::hours(1));
    }
}
