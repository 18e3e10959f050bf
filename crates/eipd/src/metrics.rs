//! Prometheus metrics, hand-rolled (a few counters and one histogram do not
//! need a registry crate): requests and errors per action, request latency,
//! and the task backlog (read from the store at scrape time).

use parking_lot::Mutex;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: &[f64] = &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// Most distinct error codes counted per action.
const MAX_CODES_PER_ACTION: usize = 128;

#[derive(Default)]
struct PerAction {
    requests: u64,
    errors: BTreeMap<String, u64>,
    buckets: [u64; BUCKETS.len()],
    sum_seconds: f64,
}

/// All counters.
#[derive(Default)]
pub struct Metrics {
    // Keys are the registry's static names, so recording allocates nothing.
    inner: Mutex<HashMap<(&'static str, &'static str), PerAction>>,
}

impl Metrics {
    /// Records one request; `code` is the error code when it failed.
    pub fn observe(&self, product: &'static str, action: &'static str, seconds: f64, code: Option<&str>) {
        let mut m = self.inner.lock();
        let e = m.entry((product, action)).or_default();
        e.requests += 1;
        e.sum_seconds += seconds;
        for (i, b) in BUCKETS.iter().enumerate() {
            if seconds <= *b {
                e.buckets[i] += 1;
            }
        }
        if let Some(c) = code {
            // Codes are a fixed vocabulary; the cap only guarantees the label
            // set stays bounded whatever a code is made of.
            let full = e.errors.len() >= MAX_CODES_PER_ACTION;
            match e.errors.get_mut(c) {
                Some(n) => *n += 1,
                None if full => *e.errors.entry("Other".to_owned()).or_default() += 1,
                None => {
                    e.errors.insert(c.to_owned(), 1);
                }
            }
        }
    }

    /// The text exposition format.
    pub fn render(&self, task_backlog: Option<i64>) -> String {
        let guard = self.inner.lock();
        let m: BTreeMap<_, _> = guard.iter().collect();
        let mut s = String::new();
        s.push_str(
            "# HELP eipd_requests_total API requests by product and action.\n# TYPE eipd_requests_total counter\n",
        );
        for ((p, a), v) in m.iter() {
            let _ = writeln!(s, "eipd_requests_total{{product=\"{p}\",action=\"{a}\"}} {}", v.requests);
        }
        s.push_str("# HELP eipd_errors_total API errors by product, action and error code.\n# TYPE eipd_errors_total counter\n");
        for ((p, a), v) in m.iter() {
            for (code, n) in &v.errors {
                let _ = writeln!(s, "eipd_errors_total{{product=\"{p}\",action=\"{a}\",code=\"{code}\"}} {n}");
            }
        }
        s.push_str("# HELP eipd_request_duration_seconds Time to answer an API request.\n# TYPE eipd_request_duration_seconds histogram\n");
        for ((p, a), v) in m.iter() {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "eipd_request_duration_seconds_bucket{{product=\"{p}\",action=\"{a}\",le=\"{b}\"}} {}",
                    v.buckets[i]
                );
            }
            let _ = writeln!(
                s,
                "eipd_request_duration_seconds_bucket{{product=\"{p}\",action=\"{a}\",le=\"+Inf\"}} {}",
                v.requests
            );
            let _ =
                writeln!(s, "eipd_request_duration_seconds_sum{{product=\"{p}\",action=\"{a}\"}} {}", v.sum_seconds);
            let _ = writeln!(s, "eipd_request_duration_seconds_count{{product=\"{p}\",action=\"{a}\"}} {}", v.requests);
        }
        if let Some(n) = task_backlog {
            s.push_str("# HELP eipd_task_backlog Asynchronous tasks scheduled and not yet completed.\n# TYPE eipd_task_backlog gauge\n");
            let _ = writeln!(s, "eipd_task_backlog {n}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histogram() {
        let m = Metrics::default();
        m.observe("Vpc", "AllocateEipAddress", 0.0003, None);
        m.observe("Vpc", "AllocateEipAddress", 0.002, Some("InvalidParameter"));
        let s = m.render(Some(3));
        assert!(s.contains("eipd_requests_total{product=\"Vpc\",action=\"AllocateEipAddress\"} 2"));
        assert!(
            s.contains("eipd_errors_total{product=\"Vpc\",action=\"AllocateEipAddress\",code=\"InvalidParameter\"} 1")
        );
        assert!(s.contains("le=\"0.0005\"} 1"));
        assert!(s.contains("le=\"+Inf\"} 2"));
        assert!(s.contains("eipd_task_backlog 3"));
    }
}
