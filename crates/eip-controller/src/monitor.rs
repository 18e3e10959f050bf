//! Per-EIP traffic counters, as the data plane measures them, served by
//! VPC `DescribeEipMonitorData`.
//!
//! Exists so the API can answer from what the gateways really counted: the
//! data plane [`Monitor::record`]s each EIP's cumulative totals (it keeps
//! them monotonic across table resyncs) every few seconds and [`persist`]s
//! those that changed to the store, the last of each minute kept for a day.
//! A query reads the EIP's samples from the store and turns them into
//! per-period differences ([`series`]), so every node answers alike, also
//! when the data plane runs in an agent on another host. Without a data plane
//! nothing is recorded and every period reads zero. The monitor itself keeps
//! only each EIP's latest totals: where a restarted meter goes on from
//! ([`restore`]).

use crate::body;
use crate::{Body, Controller, Ctx, region_param};
use eip_api::Params;
use eip_store::{Changes, StoreExt, TrafficRow};
use eip_types::time::{format_iso, parse_iso};
use eip_types::{Error, Result};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Cumulative traffic of one EIP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Bytes received from the internet.
    pub rx_bytes: u64,
    /// Bytes sent to the internet.
    pub tx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Packets sent.
    pub tx_packets: u64,
}

impl Totals {
    fn minus(self, o: Totals) -> Totals {
        Totals {
            rx_bytes: self.rx_bytes.saturating_sub(o.rx_bytes),
            tx_bytes: self.tx_bytes.saturating_sub(o.tx_bytes),
            rx_packets: self.rx_packets.saturating_sub(o.rx_packets),
            tx_packets: self.tx_packets.saturating_sub(o.tx_packets),
        }
    }

    fn of_row(r: &TrafficRow) -> Totals {
        let u = |v: i64| u64::try_from(v).unwrap_or(0);
        Totals {
            rx_bytes: u(r.rx_bytes),
            tx_bytes: u(r.tx_bytes),
            rx_packets: u(r.rx_packets),
            tx_packets: u(r.tx_packets),
        }
    }
}

const KEEP_MS: i64 = 24 * 3600 * 1000;

/// The latest totals of every EIP, by allocation id.
#[derive(Debug, Default)]
pub struct Monitor {
    latest: Mutex<BTreeMap<String, Totals>>,
}

impl Monitor {
    /// Records cumulative totals; returns the EIPs whose totals changed
    /// since their last record (what is worth persisting).
    pub fn record(&self, totals: &BTreeMap<String, Totals>) -> Vec<(String, Totals)> {
        let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = Vec::new();
        for (id, t) in totals {
            if latest.get(id) != Some(t) {
                latest.insert(id.clone(), *t);
                changed.push((id.clone(), *t));
            }
        }
        changed
    }

    /// The latest totals of every EIP (where a restarted meter goes on from).
    pub fn latest(&self) -> BTreeMap<String, Totals> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The totals at `at_ms`: the last sample taken at or before it.
fn at(samples: &[(i64, Totals)], at_ms: i64) -> Totals {
    samples.iter().rev().find(|(t, _)| *t <= at_ms).map(|(_, v)| *v).unwrap_or_default()
}

/// The first period start and the count of periods of `period_ms` in
/// `[start_ms, end_ms)` (the start aligned down to the period), at most
/// [`MAX_POINTS`]: computed with checked arithmetic before anything is
/// allocated; `None` when the inputs make no sense.
fn window(start_ms: i64, end_ms: i64, period_ms: i64) -> Option<(i64, i64)> {
    let points = period_count(start_ms, end_ms, period_ms)?;
    Some((start_ms - start_ms.rem_euclid(period_ms), points.min(MAX_POINTS)))
}

/// Traffic per period `[b, b + period)` for each period of [`window`], from
/// samples (time, cumulative totals) oldest first.
pub fn series(samples: &[(i64, Totals)], start_ms: i64, end_ms: i64, period_ms: i64) -> Vec<(i64, Totals)> {
    let Some((first, points)) = window(start_ms, end_ms, period_ms) else {
        return Vec::new();
    };
    (0..points)
        .map(|i| {
            let b = first + i * period_ms;
            (b, at(samples, b.saturating_add(period_ms)).minus(at(samples, b)))
        })
        .collect()
}

fn to_row(id: &str, at_ms: i64, t: &Totals) -> TrafficRow {
    let c = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    TrafficRow {
        eip_id: id.to_owned(),
        at_ms,
        rx_bytes: c(t.rx_bytes),
        tx_bytes: c(t.tx_bytes),
        rx_packets: c(t.rx_packets),
        tx_packets: c(t.tx_packets),
    }
}

/// Stores the samples [`Monitor::record`] reported as changed (the last one
/// of each minute survives) and drops those older than a day. Monitoring
/// data may lose its last seconds in a crash, so the commit is not flushed;
/// it changes nothing a data plane builds, and says so to the other
/// processes on the store.
pub async fn persist(ctl: &Controller, at_ms: i64, changed: Vec<(String, Totals)>) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    ctl.store()
        .write_redoable(move |tx| {
            for (id, t) in &changed {
                tx.traffic_put(&to_row(id, at_ms, t))?;
            }
            tx.traffic_expire(at_ms - KEEP_MS)?;
            tx.note_changes(&Changes::default());
            Ok(())
        })
        .await
}

/// Loads each EIP's latest totals of the last day from the store into the
/// monitor (when a data plane starts); returns how many EIPs had some.
pub fn restore(ctl: &Controller) -> Result<usize> {
    let since = ctl.now() - KEEP_MS;
    let rows = ctl.read(|tx| Ok(tx.traffic_since(since)?))?;
    let mut latest = ctl.monitor.latest.lock().unwrap_or_else(|e| e.into_inner());
    // Oldest first: the last row of each EIP wins.
    for r in &rows {
        latest.insert(r.eip_id.clone(), Totals::of_row(r));
    }
    Ok(latest.len())
}

/// Most data points one query returns (Alibaba Cloud's limit too).
pub const MAX_POINTS: i64 = 1440;

/// How many periods of `period_ms` start in `[start_ms aligned down, end_ms)`;
/// `None` when the arithmetic would overflow or the inputs make no sense.
fn period_count(start_ms: i64, end_ms: i64, period_ms: i64) -> Option<i64> {
    if period_ms <= 0 || end_ms < start_ms {
        return None;
    }
    let first = start_ms.checked_sub(start_ms.rem_euclid(period_ms))?;
    let span = end_ms.checked_sub(first)?;
    Some(span.checked_add(period_ms - 1)? / period_ms)
}

/// `DescribeEipMonitorData`: RegionId, AllocationId, StartTime, EndTime,
/// Period (60 by default; 60, 300, 900 or 3600).
pub(crate) fn describe_eip_monitor_data(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let id = p.req("AllocationId")?.to_owned();
    let time = |name: &'static str| -> Result<i64> {
        let v = p.req(name)?;
        parse_iso(v).ok_or_else(|| Error::invalid(name, format!("{v} is not a time like 2024-01-10T12:00:00Z")))
    };
    let (start, end) = (time("StartTime")?, time("EndTime")?);
    let period = match p.int("Period", 1, i64::MAX)? {
        None => 60,
        Some(v @ (60 | 300 | 900 | 3600)) => v,
        Some(v) => return Err(Error::invalid("Period", format!("{v} is not one of 60, 300, 900, 3600"))),
    };
    if end < start {
        return Err(Error::invalid("EndTime", "is before StartTime"));
    }
    match period_count(start, end, period * 1000) {
        Some(n) if n <= MAX_POINTS => {}
        _ => {
            return Err(Error::invalid(
                "EndTime",
                format!("more than {MAX_POINTS} periods between StartTime and EndTime"),
            ));
        }
    }
    let period_ms = period * 1000;
    let (first, points) = window(start, end, period_ms).unwrap_or((start, 0));
    let until = first.saturating_add(points.saturating_mul(period_ms)).saturating_add(1);
    let rows = ctl.read(|tx| {
        crate::eip::eip_of(tx, &ctx.account, &id, Some(region))?;
        Ok(tx.traffic_of(&id, first, until)?)
    })?;
    let samples: Vec<(i64, Totals)> = rows.iter().map(|r| (r.at_ms, Totals::of_row(r))).collect();
    let items: Vec<Value> = series(&samples, start, end, period_ms)
        .into_iter()
        .map(|(b, t)| {
            let flow = t.rx_bytes + t.tx_bytes;
            json!({
                "EipRX": t.rx_bytes,
                "EipTX": t.tx_bytes,
                "EipFlow": flow,
                "EipBandwidth": t.rx_bytes.max(t.tx_bytes) * 8 / period as u64,
                "EipPackets": t.rx_packets + t.tx_packets,
                "TimeStamp": format_iso(b),
            })
        })
        .collect();
    Ok(body(json!({"EipMonitorDatas": {"EipMonitorData": items}})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_are_differences_per_period_and_zero_without_samples() {
        let t = |rx: u64| Totals { rx_bytes: rx, tx_bytes: rx / 2, rx_packets: rx / 100, tx_packets: 0 };
        let samples = [(1_000, t(100)), (61_000, t(300))];
        let s = series(&samples, 0, 120_000, 60_000);
        assert_eq!(s, vec![(0, t(100)), (60_000, t(200))]);
        assert_eq!(series(&[], 0, 120_000, 60_000), vec![(0, Totals::default()), (60_000, Totals::default())]);
        // An old sample is the totals at the start of a later window.
        assert_eq!(series(&samples, 120_000, 180_000, 60_000), vec![(120_000, Totals::default())]);
    }

    #[test]
    fn the_monitor_reports_only_changed_totals_and_keeps_the_latest() {
        let m = Monitor::default();
        let t = |rx: u64| Totals { rx_bytes: rx, ..Totals::default() };
        assert_eq!(m.record(&BTreeMap::from([("eip-1".to_string(), t(1))])).len(), 1);
        assert_eq!(m.record(&BTreeMap::from([("eip-1".to_string(), t(1))])), vec![]);
        assert_eq!(m.record(&BTreeMap::from([("eip-1".to_string(), t(5))])), vec![("eip-1".to_string(), t(5))]);
        assert_eq!(m.latest(), BTreeMap::from([("eip-1".to_string(), t(5))]));
    }

    /// Issue 9, defect 1: a span whose length overflowed i64 passed the
    /// 1,440-point guard and the loop pushed until memory ran out.
    #[test]
    fn a_huge_span_is_capped_not_looped() {
        assert_eq!(period_count(i64::MIN, i64::MAX, 60_000), None);
        assert_eq!(period_count(0, 1, 60_000), Some(1));
        assert_eq!(period_count(59_000, 120_000, 60_000), Some(2));
        assert_eq!(period_count(10, 5, 60_000), None);
        assert_eq!(series(&[], i64::MIN, i64::MAX, 60_000), Vec::new());
        assert_eq!(series(&[], 0, 253_402_300_799_000, 60_000).len(), MAX_POINTS as usize);
    }
}
