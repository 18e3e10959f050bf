//! Time, injected. Rules that depend on time (7-day retrieval, task delays,
//! token expiry) read this clock, so tests move time instead of waiting.

use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of wall time in epoch milliseconds.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now_ms(&self) -> i64;
}

fn system_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The system clock, optionally shifted by an offset (seconds) read from a
/// file: operators and tests use it to "fast-forward" the control plane
/// (e.g. past the 7-day retrieval window) without touching the host clock.
/// Signature timestamps are always checked against the unshifted clock.
pub struct SystemClock {
    offset_file: Option<PathBuf>,
    cache: Mutex<(i64, i64)>, // (read at system ms, offset ms)
}

impl SystemClock {
    /// A clock with an optional offset file (re-read on every use).
    pub fn new(offset_file: Option<PathBuf>) -> SystemClock {
        SystemClock { offset_file, cache: Mutex::new((i64::MIN, 0)) }
    }

    fn offset_ms(&self, now: i64) -> i64 {
        let Some(path) = &self.offset_file else {
            return 0;
        };
        let mut c = self.cache.lock();
        // Re-read on every use: tests write the file and expect the very next
        // request to see it (it is opt-in, so the syscalls cost nothing otherwise).
        if now != c.0 || c.0 == i64::MIN {
            let off = std::fs::read_to_string(path)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .map(|s| (s * 1000.0) as i64)
                .unwrap_or(0);
            *c = (now, off);
        }
        c.1
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = system_ms();
        now + self.offset_ms(now)
    }
}

/// A clock that only moves when told to (tests).
pub struct FakeClock(AtomicI64);

impl FakeClock {
    /// Starts at `ms`.
    pub fn new(ms: i64) -> FakeClock {
        FakeClock(AtomicI64::new(ms))
    }

    /// Moves forward by `ms`.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Unshifted system time, for protocol checks (signature windows).
pub fn real_now_ms() -> i64 {
    system_ms()
}
