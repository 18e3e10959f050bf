//! Time, injected. Rules that depend on time (7-day retrieval, task delays,
//! token expiry) read this clock, so tests move time instead of waiting, and
//! operators move the whole control plane's clock with `eipd clock`.

use eip_store::{Store, StoreExt};
use eip_types::{Error, Result};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of wall time in epoch milliseconds.
pub trait Clock: Send + Sync + 'static {
    /// Now.
    fn now_ms(&self) -> i64;
}

fn system_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The setting holding the control-plane clock's offset from the host's
/// clock, in milliseconds (absent: 0).
pub const OFFSET_SETTING: &str = "clock_offset_ms";

/// How often a running process looks whether another one moved the clock.
pub const FOLLOW_MS: u64 = 100;

/// Furthest the clock may be moved ahead of the host's: a century.
pub const MAX_OFFSET_MS: i64 = 100 * 366 * eip_types::time::DAY_MS;

/// The control plane's clock: the host's time plus an offset kept in the
/// store, so `eipd clock advance|set` moves it for every process on that
/// store while they run (each follows it, see [`follow`]), and a restart
/// keeps it. Operators and tests use it to pass the 7-day retrieval window or
/// a billing month without waiting or touching the host's clock. Signature
/// timestamps are always checked against the unshifted clock
/// ([`real_now_ms`]).
#[derive(Default)]
pub struct SystemClock {
    offset: AtomicI64,
}

impl SystemClock {
    /// The host's clock, unshifted until [`SystemClock::set_offset_ms`].
    pub fn new() -> SystemClock {
        SystemClock::default()
    }

    /// A clock at the offset `store` holds now.
    pub fn from_store(store: &dyn Store) -> Result<SystemClock> {
        let c = SystemClock::new();
        c.set_offset_ms(stored_offset(store)?);
        Ok(c)
    }

    /// How far ahead of the host's clock this one is.
    pub fn offset_ms(&self) -> i64 {
        self.offset.load(Ordering::Acquire)
    }

    /// Shifts the clock to `ms` ahead of the host's.
    pub fn set_offset_ms(&self, ms: i64) {
        self.offset.store(ms, Ordering::Release);
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        system_ms() + self.offset_ms()
    }
}

/// The offset the store holds (0 when never moved).
pub fn stored_offset(store: &dyn Store) -> Result<i64> {
    parse_offset(store.read(|tx| Ok(tx.setting_get(OFFSET_SETTING)?))?)
}

/// Keeps `clock` at the store's offset for as long as the controller lives:
/// looks every [`FOLLOW_MS`] whether another process committed to the store
/// (cheap: no query unless one did) and, if the offset moved, takes it and
/// wakes the task runner, whose timers may now be due. Run it beside the
/// server; `eipd clock` waits long enough for it before returning.
pub async fn follow(ctl: std::sync::Weak<crate::Controller>, clock: Arc<SystemClock>) {
    let mut seen = None;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(FOLLOW_MS)).await;
        let Some(ctl) = ctl.upgrade() else { return };
        let version = ctl.store().external_version();
        if version.is_some() && version == seen {
            continue;
        }
        seen = version;
        match stored_offset(ctl.store().as_ref()) {
            Ok(off) if off != clock.offset_ms() => {
                tracing::info!(offset_ms = off, "control-plane clock moved");
                clock.set_offset_ms(off);
                ctl.tasks.wake();
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "cannot read the clock offset"),
        }
    }
}

/// A controller over `store` on the store's clock, following it while the
/// controller lives (call inside a Tokio runtime).
pub fn controller_following(store: Arc<dyn Store>, config: crate::Config) -> Result<Arc<crate::Controller>> {
    let clock = Arc::new(SystemClock::from_store(store.as_ref())?);
    let ctl = crate::Controller::new(store, clock.clone(), config);
    tokio::spawn(follow(Arc::downgrade(&ctl), clock));
    Ok(ctl)
}

/// Moves the control-plane clock of `store` forward by `by_ms`; returns the
/// new offset. The clock only moves forward (nothing the store did may be
/// undone by time running back), and at most [`MAX_OFFSET_MS`] ahead.
pub async fn advance(store: &dyn Store, by_ms: i64) -> Result<i64> {
    if by_ms <= 0 {
        return Err(Error::invalid("Duration", "the clock only moves forward: give a positive duration"));
    }
    store
        .write(move |tx| {
            let now = parse_offset(tx.setting_get(OFFSET_SETTING)?)?;
            let next = now.checked_add(by_ms).filter(|n| *n <= MAX_OFFSET_MS).ok_or_else(too_far)?;
            tx.setting_set(OFFSET_SETTING, &next.to_string())?;
            Ok(next)
        })
        .await
}

/// Sets the control-plane clock of `store` to `at_ms` (epoch ms); returns
/// the new offset. Refused if that is earlier than the clock reads now.
pub async fn set(store: &dyn Store, at_ms: i64) -> Result<i64> {
    store
        .write(move |tx| {
            let current = parse_offset(tx.setting_get(OFFSET_SETTING)?)?;
            let host = system_ms();
            if at_ms < host + current {
                return Err(Error::invalid(
                    "Time",
                    format!(
                        "the clock only moves forward: it reads {} already",
                        eip_types::time::format_iso(host + current)
                    ),
                ));
            }
            let next = at_ms - host;
            if next > MAX_OFFSET_MS {
                return Err(too_far());
            }
            tx.setting_set(OFFSET_SETTING, &next.to_string())?;
            Ok(next)
        })
        .await
}

fn parse_offset(v: Option<String>) -> Result<i64> {
    v.map_or(Ok(0), |v| {
        v.trim().parse().map_err(|_| Error::Internal(format!("setting {OFFSET_SETTING} is not a number: {v:?}")))
    })
}

fn too_far() -> Error {
    Error::invalid("Duration", "the clock may run at most 100 years ahead of the host's")
}

/// Parses a duration such as `7d`, `36h`, `90m`, `45s` or `1d12h` (days,
/// hours, minutes, seconds) into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64> {
    let bad = || Error::invalid("Duration", format!("{s:?} is not a duration such as 7d, 36h, 90m, 45s or 1d12h"));
    let mut total: i64 = 0;
    let mut digits = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'd' => eip_types::time::DAY_MS,
            'h' => 3_600_000,
            'm' => 60_000,
            's' => 1_000,
            _ => return Err(bad()),
        };
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(too_far)?;
    }
    if !digits.is_empty() || total == 0 && s.trim().is_empty() {
        return Err(bad());
    }
    Ok(total)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_days_hours_minutes_and_seconds() {
        assert_eq!(parse_duration("7d").unwrap(), 7 * eip_types::time::DAY_MS);
        assert_eq!(parse_duration("1d12h").unwrap(), 36 * 3_600_000);
        assert_eq!(parse_duration(" 90m ").unwrap(), 90 * 60_000);
        assert_eq!(parse_duration("45s").unwrap(), 45_000);
        for bad in ["", "7", "d", "7w", "-1d", "1.5h", "7d3", "1 d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse_duration("99999999999999999d").is_err(), "overflow is refused");
    }

    #[test]
    fn the_system_clock_runs_at_its_offset() {
        let c = SystemClock::new();
        let before = real_now_ms();
        c.set_offset_ms(eip_types::time::DAY_MS);
        assert_eq!(c.offset_ms(), eip_types::time::DAY_MS);
        let t = c.now_ms();
        assert!(t >= before + eip_types::time::DAY_MS && t <= real_now_ms() + eip_types::time::DAY_MS);
    }
}
