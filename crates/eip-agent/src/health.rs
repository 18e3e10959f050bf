//! What the data plane is doing, for the people running eipd.
//!
//! Exists because a data plane that cannot apply a generation must never be
//! silent: the EIPs of that generation stay `Associating`/`Unassociating`
//! (the API already tells the truth about them), and this record says why —
//! in `/healthz` (503 once the failures persist), in `/metrics`, and in the
//! logs the loop writes.

use parking_lot::Mutex;
use std::fmt::Write;

/// Consecutive failed rounds after which `/healthz` answers 503.
pub const UNHEALTHY_AFTER: u32 = 3;

#[derive(Default, Clone, Debug)]
struct Inner {
    applied_generation: u64,
    rounds: u64,
    failures_total: u64,
    consecutive_failures: u32,
    last_error: Option<String>,
    last_error_unix_ms: Option<i64>,
    last_apply_micros: u64,
    drift_repairs_total: u64,
}

/// The data plane's health, written by its loop and read by the edge.
#[derive(Default)]
pub struct DataplaneHealth {
    inner: Mutex<Inner>,
}

fn unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

impl DataplaneHealth {
    /// A round applied `generation` in `micros` (lab, tables, conntrack).
    pub fn applied(&self, generation: u64, micros: u64, drifted: usize) {
        let mut s = self.inner.lock();
        s.applied_generation = generation;
        s.rounds += 1;
        s.consecutive_failures = 0;
        s.last_apply_micros = micros;
        s.drift_repairs_total += drifted as u64;
    }

    /// A round failed; the loop retries.
    pub fn failed(&self, error: &str) {
        let mut s = self.inner.lock();
        s.rounds += 1;
        s.failures_total += 1;
        s.consecutive_failures += 1;
        s.last_error = Some(error.to_owned());
        s.last_error_unix_ms = Some(unix_ms());
    }

    /// `/healthz`: the HTTP status and a short JSON body.
    pub fn healthz(&self) -> (u16, String) {
        let s = self.inner.lock().clone();
        let healthy = s.consecutive_failures < UNHEALTHY_AFTER;
        let state = match (healthy, s.consecutive_failures) {
            (false, _) => "failing",
            (true, 0) => "ok",
            (true, _) => "retrying",
        };
        let body = serde_json::json!({
            "status": if healthy { "ok" } else { "degraded" },
            "dataplane": {
                "state": state,
                "applied_generation": s.applied_generation,
                "consecutive_failures": s.consecutive_failures,
                "failures_total": s.failures_total,
                "last_error": s.last_error,
                "last_error_unix_ms": s.last_error_unix_ms,
                "last_apply_micros": s.last_apply_micros,
            }
        });
        (if healthy { 200 } else { 503 }, format!("{body}\n"))
    }

    /// Appends the data-plane series to a Prometheus exposition.
    pub fn render(&self, out: &mut String) {
        let s = self.inner.lock().clone();
        let series: [(&str, &str, &str, u64); 6] = [
            (
                "eipd_dataplane_applied_generation",
                "gauge",
                "Last desired-state generation applied to the kernel.",
                s.applied_generation,
            ),
            ("eipd_dataplane_rounds_total", "counter", "Data-plane rounds run (applied or failed).", s.rounds),
            (
                "eipd_dataplane_failures_total",
                "counter",
                "Data-plane rounds that failed and were retried.",
                s.failures_total,
            ),
            (
                "eipd_dataplane_consecutive_failures",
                "gauge",
                "Failed rounds since the last success (0 when healthy).",
                u64::from(s.consecutive_failures),
            ),
            (
                "eipd_dataplane_drift_repairs_total",
                "counter",
                "Gateways found changed behind eipd's back and resynced.",
                s.drift_repairs_total,
            ),
            (
                "eipd_dataplane_last_apply_microseconds",
                "gauge",
                "Duration of the last successful round.",
                s.last_apply_micros,
            ),
        ];
        for (name, kind, help, v) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persistent_failures_turn_healthz_to_503_and_a_success_clears_them() {
        let h = DataplaneHealth::default();
        h.applied(2, 900, 0);
        assert_eq!(h.healthz().0, 200);
        for _ in 0..UNHEALTHY_AFTER - 1 {
            h.failed("applying the table of cn-hangzhou: No such file or directory");
        }
        let (code, body) = h.healthz();
        assert_eq!(code, 200);
        assert!(body.contains("\"retrying\""), "{body}");
        h.failed("again");
        let (code, body) = h.healthz();
        assert_eq!(code, 503);
        assert!(body.contains("\"last_error\":\"again\""), "{body}");
        h.applied(3, 800, 1);
        assert_eq!(h.healthz().0, 200);
        let mut m = String::new();
        h.render(&mut m);
        assert!(m.contains("eipd_dataplane_failures_total 3\n"), "{m}");
        assert!(m.contains("eipd_dataplane_applied_generation 3\n"), "{m}");
        assert!(m.contains("eipd_dataplane_drift_repairs_total 1\n"), "{m}");
    }
}
