//! Per-EIP traffic counters, as the data plane measures them, served by
//! VPC `DescribeEipMonitorData`.
//!
//! Exists so the API can answer from what the gateways really counted: the
//! data-plane agent [`Monitor::record`]s each EIP's cumulative totals (it
//! keeps them monotonic across table resyncs) every few seconds; a query
//! turns the samples into per-period differences. Without a data plane
//! nothing is recorded and every period reads zero. Samples are kept in
//! memory for queries and in the store (the last of each minute, [`persist`])
//! so a restart [`restore`]s the history and the totals go on from where
//! they were; older than a day they are dropped.

use crate::body;
use crate::{Body, Controller, Ctx, region_param};
use eip_api::Params;
use eip_store::{StoreExt, TrafficRow};
use eip_types::time::{format_iso, parse_iso};
use eip_types::{Error, Result};
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
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
}

const KEEP_MS: i64 = 24 * 3600 * 1000;

/// The samples of every EIP, by allocation id.
#[derive(Debug, Default)]
pub struct Monitor {
    samples: Mutex<BTreeMap<String, VecDeque<(i64, Totals)>>>,
}

impl Monitor {
    /// Records cumulative totals measured at `at_ms`; returns the EIPs whose
    /// totals changed since their last sample (what is worth persisting).
    pub fn record(&self, at_ms: i64, totals: &BTreeMap<String, Totals>) -> Vec<(String, Totals)> {
        let mut s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let mut changed = Vec::new();
        for (id, t) in totals {
            let q = s.entry(id.clone()).or_default();
            if q.back().is_some_and(|(_, last)| last == t) && q.len() >= 2 {
                // unchanged: move the newest sample forward instead of adding one
                let n = q.len();
                if q[n - 2].1 == *t {
                    q[n - 1].0 = at_ms;
                    continue;
                }
            }
            if q.back().is_none_or(|(_, last)| last != t) {
                changed.push((id.clone(), *t));
            }
            q.push_back((at_ms, *t));
            while q.front().is_some_and(|(t0, _)| *t0 < at_ms - KEEP_MS) && q.len() > 1 {
                q.pop_front();
            }
        }
        changed
    }

    /// The latest totals of every EIP (where a restarted meter goes on from).
    pub fn latest(&self) -> BTreeMap<String, Totals> {
        let s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        s.iter().filter_map(|(id, q)| Some((id.clone(), q.back()?.1))).collect()
    }

    /// The totals at `at_ms`: the last sample taken at or before it.
    fn at(q: &VecDeque<(i64, Totals)>, at_ms: i64) -> Totals {
        q.iter().rev().find(|(t, _)| *t <= at_ms).map(|(_, v)| *v).unwrap_or_default()
    }

    /// Traffic per period `[b, b + period)` for each `b` from `start_ms`
    /// (aligned down to the period) to before `end_ms`, at most
    /// [`MAX_POINTS`] periods: the count is computed, with checked
    /// arithmetic, before anything is allocated.
    pub fn series(&self, id: &str, start_ms: i64, end_ms: i64, period_ms: i64) -> Vec<(i64, Totals)> {
        let Some(points) = period_count(start_ms, end_ms, period_ms) else {
            return Vec::new();
        };
        let first = start_ms - start_ms.rem_euclid(period_ms);
        let s = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let empty = VecDeque::new();
        let q = s.get(id).unwrap_or(&empty);
        (0..points.min(MAX_POINTS))
            .map(|i| {
                let b = first + i * period_ms;
                (b, Self::at(q, b.saturating_add(period_ms)).minus(Self::at(q, b)))
            })
            .collect()
    }
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
/// data may lose its last seconds in a crash, so the commit is not flushed.
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
            Ok(())
        })
        .await
}

/// Loads the last day of samples from the store into the monitor (at start).
pub fn restore(ctl: &Controller) -> Result<usize> {
    let since = ctl.now() - KEEP_MS;
    let rows = ctl.read(|tx| Ok(tx.traffic_since(since)?))?;
    let n = rows.len();
    let mut s = ctl.monitor.samples.lock().unwrap_or_else(|e| e.into_inner());
    for r in rows {
        let u = |v: i64| u64::try_from(v).unwrap_or(0);
        let t = Totals {
            rx_bytes: u(r.rx_bytes),
            tx_bytes: u(r.tx_bytes),
            rx_packets: u(r.rx_packets),
            tx_packets: u(r.tx_packets),
        };
        s.entry(r.eip_id).or_default().push_back((r.at_ms, t));
    }
    Ok(n)
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
    ctl.read(|tx| crate::eip::eip_of(tx, &ctx.account, &id, Some(region)).map(|_| ()))?;
    let items: Vec<Value> = ctl
        .monitor()
        .series(&id, start, end, period * 1000)
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
        let m = Monitor::default();
        let t = |rx: u64| Totals { rx_bytes: rx, tx_bytes: rx / 2, rx_packets: rx / 100, tx_packets: 0 };
        m.record(1_000, &BTreeMap::from([("eip-1".to_string(), t(100))]));
        m.record(61_000, &BTreeMap::from([("eip-1".to_string(), t(300))]));
        m.record(62_000, &BTreeMap::from([("eip-1".to_string(), t(300))]));
        m.record(63_000, &BTreeMap::from([("eip-1".to_string(), t(300))]));
        let s = m.series("eip-1", 0, 120_000, 60_000);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0], (0, t(100)));
        assert_eq!(s[1], (60_000, t(200)));
        assert_eq!(m.series("eip-2", 0, 120_000, 60_000), vec![(0, Totals::default()), (60_000, Totals::default())]);
    }

    /// Issue 9, defect 1: a span whose length overflowed i64 passed the
    /// 1,440-point guard and the loop pushed until memory ran out.
    #[test]
    fn a_huge_span_is_capped_not_looped() {
        let m = Monitor::default();
        assert_eq!(period_count(i64::MIN, i64::MAX, 60_000), None);
        assert_eq!(period_count(0, 1, 60_000), Some(1));
        assert_eq!(period_count(59_000, 120_000, 60_000), Some(2));
        assert_eq!(period_count(10, 5, 60_000), None);
        assert_eq!(m.series("eip-1", i64::MIN, i64::MAX, 60_000), Vec::new());
        assert_eq!(m.series("eip-1", 0, 253_402_300_799_000, 60_000).len(), MAX_POINTS as usize);
    }
}
