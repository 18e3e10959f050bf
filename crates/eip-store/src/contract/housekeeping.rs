//! The rows the server keeps for itself: scheduled tasks, ClientToken
//! results, signature nonces and per-minute traffic samples.

use super::fixtures::*;
use super::harness::*;
use crate::*;

/// `task_due` gives the tasks due at or before `now`, earliest first, at
/// most `limit`; the next due time and the count follow inserts and deletes.
pub fn tasks_come_due_earliest_first_up_to_the_limit(s: &dyn Store) {
    assert_eq!(
        read(s, |tx| Ok((tx.task_next_due()?, tx.task_count()?, tx.task_due(i64::MAX, 10)?))),
        (None, 0, vec![])
    );
    ok(s, |tx| {
        tx.task_insert(&task("task-b", 100))?;
        tx.task_insert(&task("task-a", 50))?;
        tx.task_insert(&task("task-d", 200))?;
        tx.task_insert(&task("task-c", 75))
    });
    assert_eq!(read(s, |tx| tx.task_due(100, 10)), vec![task("task-a", 50), task("task-c", 75), task("task-b", 100)]);
    assert_eq!(read(s, |tx| tx.task_due(99, 10)), vec![task("task-a", 50), task("task-c", 75)], "due at is inclusive");
    assert_eq!(read(s, |tx| tx.task_due(1000, 2)), vec![task("task-a", 50), task("task-c", 75)]);
    assert_eq!(read(s, |tx| tx.task_due(49, 10)), vec![]);
    assert_eq!(read(s, |tx| Ok((tx.task_next_due()?, tx.task_count()?))), (Some(50), 4));
    unique(s, "same task id", |tx| tx.task_insert(&task("task-a", 1)));
    ok(s, |tx| tx.task_delete("task-a"));
    ok(s, |tx| tx.task_delete("task-none"));
    assert_eq!(read(s, |tx| Ok((tx.task_next_due()?, tx.task_count()?))), (Some(75), 3));
    assert_eq!(read(s, |tx| tx.task_due(1000, 10)), vec![task("task-c", 75), task("task-b", 100), task("task-d", 200)]);
}

/// `task_claim` hands each due task to one holder until its claim lapses:
/// unclaimed tasks first-due first, up to the limit; a holder's own claims
/// again; another's only once lapsed. `task_take` removes a task for its
/// holder only, and `task_next_due` waits for a claim past the due time.
pub fn due_tasks_are_claimed_by_one_holder_until_the_claim_lapses(s: &dyn Store) {
    ok(s, |tx| {
        tx.task_insert(&task("task-a", 50))?;
        tx.task_insert(&task("task-b", 60))?;
        tx.task_insert(&task("task-c", 70))?;
        tx.task_insert(&task("task-late", 500))
    });
    let claim = |now: i64, limit: i64, holder: &'static str, until: i64| {
        let got = write(s, move |tx| Ok(tx.task_claim(now, limit, holder, until)?)).expect("claim");
        got.into_iter().map(|t| t.id).collect::<Vec<_>>()
    };
    assert_eq!(claim(100, 2, "node-1", 1000), ["task-a", "task-b"], "earliest first, up to the limit");
    assert_eq!(claim(100, 10, "node-2", 1000), ["task-c"], "claimed tasks are not handed to another");
    assert_eq!(claim(100, 10, "node-1", 1100), ["task-a", "task-b"], "a holder gets its own claims again");
    assert!(claim(200, 10, "node-3", 300).is_empty(), "live claims hold");
    // task-late is not due; the others are claimed until 1000 and 1100.
    assert_eq!(read(s, |tx| tx.task_next_due()), Some(500));
    assert_eq!(
        write(s, |tx| Ok((tx.task_take("task-a", "node-2")?, tx.task_take("task-none", "node-1")?))),
        Ok((false, false))
    );
    assert_eq!(read(s, |tx| tx.task_count()), 4, "a take by another holder removes nothing");
    assert!(write(s, |tx| Ok(tx.task_take("task-a", "node-1")?)).expect("take"));
    assert!(!write(s, |tx| Ok(tx.task_take("task-a", "node-1")?)).expect("take"), "taken once");
    ok(s, |tx| tx.task_delete("task-late"));
    assert_eq!(read(s, |tx| tx.task_next_due()), Some(1000), "claimed past due: when the claim lapses");
    assert_eq!(claim(1000, 10, "node-3", 2000), ["task-c"], "a lapsed claim goes to whoever asks");
    assert_eq!(claim(1100, 10, "node-3", 2000), ["task-b", "task-c"]);
    assert!(!write(s, |tx| Ok(tx.task_take("task-b", "node-1")?)).expect("take"), "the earlier holder lost it");
    assert_eq!(read(s, |tx| tx.task_due(i64::MAX, 10)).len(), 2, "task_due lists claimed tasks too");
}

/// A token is found by account, action and token; it is stored once; the
/// ones created before the cut-off are forgotten, and their number returned.
pub fn client_tokens_round_trip_are_unique_and_expire(s: &dyn Store) {
    let t1 = token(ACC, "AllocateEipAddress", "tok-1", 10);
    let t2 = token(ACC, "AllocateEipAddress", "tok-2", 20);
    let t3 = token(ACC, "ReleaseEipAddress", "tok-1", 30);
    let t4 = token(ACC2, "AllocateEipAddress", "tok-1", 40);
    let put = [t1.clone(), t2.clone(), t3.clone(), t4.clone()];
    ok(s, move |tx| put.iter().try_for_each(|t| tx.token_insert(t)));
    assert_eq!(read(s, |tx| tx.token_get(ACC, "AllocateEipAddress", "tok-1")), Some(t1.clone()));
    assert_eq!(read(s, |tx| tx.token_get(ACC, "ReleaseEipAddress", "tok-1")), Some(t3.clone()));
    assert_eq!(read(s, |tx| tx.token_get(ACC2, "AllocateEipAddress", "tok-1")), Some(t4.clone()));
    assert_eq!(read(s, |tx| tx.token_get(ACC2, "AllocateEipAddress", "tok-2")), None);
    assert_eq!(read(s, |tx| tx.token_get(ACC, "allocateeipaddress", "tok-1")), None, "actions compare exactly");
    unique(s, "same account, action and token", |tx| tx.token_insert(&token(ACC, "AllocateEipAddress", "tok-1", 99)));
    assert_eq!(ok(s, |tx| tx.token_expire(20)), 1, "strictly older than the cut-off");
    assert_eq!(read(s, |tx| tx.token_get(ACC, "AllocateEipAddress", "tok-1")), None);
    assert_eq!(read(s, |tx| tx.token_get(ACC, "AllocateEipAddress", "tok-2")), Some(t2));
    assert_eq!(ok(s, |tx| tx.token_expire(20)), 0);
    assert_eq!(ok(s, |tx| tx.token_expire(1000)), 3);
    assert_eq!(read(s, |tx| tx.token_get(ACC2, "AllocateEipAddress", "tok-1")), None);
}

/// `nonce_claim` is true for a new nonce, false while it is live (leaving
/// its expiry alone) and true again once it has expired; live nonces are
/// listed with their expiry; expired ones are forgotten and counted.
pub fn a_nonce_is_claimed_once_while_live_and_again_after_expiry(s: &dyn Store) {
    assert!(ok(s, |tx| tx.nonce_claim("AK\nn1", 100, 0)));
    assert!(!ok(s, |tx| tx.nonce_claim("AK\nn1", 200, 50)), "live: refused");
    assert!(!ok(s, |tx| tx.nonce_claim("AK\nn1", 200, 99)), "still live a moment before expiry");
    assert_eq!(read(s, |tx| tx.nonce_live(60)), vec![("AK\nn1".to_owned(), 100)], "a refused claim keeps the expiry");
    assert!(ok(s, |tx| tx.nonce_claim("AK\nn1", 300, 100)), "expired at its expiry time: claimed again");
    assert!(!ok(s, |tx| tx.nonce_claim("AK\nn1", 400, 150)));
    assert!(ok(s, |tx| tx.nonce_claim("AK\nn2", 120, 100)));
    assert!(ok(s, |tx| tx.nonce_claim("AK\nn3", 500, 100)));
    assert_eq!(
        sorted(read(s, |tx| tx.nonce_live(120))),
        vec![("AK\nn1".to_owned(), 300), ("AK\nn3".to_owned(), 500)],
        "a nonce is not live at its expiry time"
    );
    assert_eq!(sorted(read(s, |tx| tx.nonce_live(0))).len(), 3);
    assert_eq!(ok(s, |tx| tx.nonce_expire(300)), 2);
    assert_eq!(ok(s, |tx| tx.nonce_expire(300)), 0);
    assert_eq!(read(s, |tx| tx.nonce_live(0)), vec![("AK\nn3".to_owned(), 500)]);
}

/// A sample replaces the EIP's earlier sample of the same minute (not of
/// another minute or EIP); samples since a time come oldest first; old ones
/// expire and are counted; counters are never negative.
pub fn traffic_keeps_the_last_sample_of_each_minute(s: &dyn Store) {
    let m10 = 10 * 60_000;
    ok(s, move |tx| {
        tx.traffic_put(&traffic("eip-1", m10 + 5, 0))?;
        tx.traffic_put(&traffic("eip-2", m10 + 1000, 100))?;
        tx.traffic_put(&traffic("eip-1", m10 + 60_000, 300))
    });
    ok(s, move |tx| tx.traffic_put(&traffic("eip-1", m10 + 30_000, 200)));
    assert_eq!(
        read(s, |tx| tx.traffic_since(m10)),
        vec![
            traffic("eip-2", m10 + 1000, 100),
            traffic("eip-1", m10 + 30_000, 200),
            traffic("eip-1", m10 + 60_000, 300)
        ]
    );
    ok(s, move |tx| tx.traffic_put(&traffic("eip-1", m10 + 59_999, 250)));
    assert_eq!(
        read(s, |tx| tx.traffic_since(m10 + 1001)),
        vec![traffic("eip-1", m10 + 59_999, 250), traffic("eip-1", m10 + 60_000, 300)],
        "the last millisecond of a minute is still that minute"
    );
    assert_eq!(
        read(s, |tx| tx.traffic_since(m10 + 60_000)),
        vec![traffic("eip-1", m10 + 60_000, 300)],
        "since is inclusive"
    );
    // Before the epoch the minute still starts at or before the sample.
    ok(s, |tx| tx.traffic_put(&traffic("eip-3", -1, 0)));
    assert_eq!(read(s, |tx| tx.traffic_since(-60_000)).first(), Some(&traffic("eip-3", -1, 0)));
    constraint(s, "negative bytes", move |tx| tx.traffic_put(&TrafficRow { rx_bytes: -1, ..traffic("eip-4", m10, 0) }));
    constraint(s, "negative packets", move |tx| {
        tx.traffic_put(&TrafficRow { tx_packets: -1, ..traffic("eip-4", m10, 0) })
    });
    assert_eq!(ok(s, move |tx| tx.traffic_expire(m10 + 60_000)), 3);
    assert_eq!(read(s, |tx| tx.traffic_since(i64::MIN)), vec![traffic("eip-1", m10 + 60_000, 300)]);
}

/// One EIP's samples in a window start with the last one at or before the
/// window's start (the totals then), however old, and stop before its end;
/// other EIPs' samples are not in it.
pub fn traffic_of_one_eip_starts_at_its_totals_then(s: &dyn Store) {
    let m = 60_000;
    ok(s, move |tx| {
        tx.traffic_put(&traffic("eip-1", 2 * m + 10, 0))?;
        tx.traffic_put(&traffic("eip-1", 50 * m + 5, 100))?;
        tx.traffic_put(&traffic("eip-1", 51 * m, 200))?;
        tx.traffic_put(&traffic("eip-1", 53 * m + 1, 300))?;
        tx.traffic_put(&traffic("eip-2", 49 * m, 900))
    });
    assert_eq!(
        read(s, move |tx| tx.traffic_of("eip-1", 50 * m, 53 * m + 1)),
        vec![traffic("eip-1", 2 * m + 10, 0), traffic("eip-1", 50 * m + 5, 100), traffic("eip-1", 51 * m, 200)],
        "from the totals at the start (an old sample) to before the end"
    );
    assert_eq!(
        read(s, move |tx| tx.traffic_of("eip-1", 51 * m, 60 * m)),
        vec![traffic("eip-1", 51 * m, 200), traffic("eip-1", 53 * m + 1, 300)],
        "a sample at the start is the totals then"
    );
    assert_eq!(read(s, move |tx| tx.traffic_of("eip-1", 0, 60 * m)).len(), 4, "none before: from the start on");
    assert_eq!(read(s, move |tx| tx.traffic_of("eip-2", 0, 49 * m)), vec![], "the end is exclusive");
    assert_eq!(read(s, |tx| tx.traffic_of("eip-9", i64::MIN, i64::MAX)), vec![]);
}

fn health(region: &str, lb: &str, port: i64, server: &str, h: eip_types::BackendHealth) -> BackendHealthRow {
    BackendHealthRow {
        region_id: region.into(),
        lb_id: lb.into(),
        listener_port: port,
        server_id: server.into(),
        health: h,
    }
}

/// Replacing a region's checked backends adds, changes and drops rows of
/// that region only; a CLB's rows come by listener port and server; the
/// columns are checked.
pub fn backend_health_is_replaced_per_region(s: &dyn Store) {
    use eip_types::BackendHealth::{Abnormal, Normal};
    let a = || vec!["cn-a".to_owned()];
    ok(s, move |tx| {
        tx.backend_health_replace(
            &a(),
            &[health("cn-a", "lb-1", 80, "i-2", Normal), health("cn-a", "lb-1", 80, "i-1", Abnormal)],
        )?;
        tx.backend_health_replace(&["cn-b".to_owned()], &[health("cn-b", "lb-2", 443, "i-3", Normal)])
    });
    assert_eq!(
        read(s, |tx| tx.backend_health_of("lb-1")),
        vec![health("cn-a", "lb-1", 80, "i-1", Abnormal), health("cn-a", "lb-1", 80, "i-2", Normal)]
    );
    ok(s, move |tx| {
        tx.backend_health_replace(
            &a(),
            &[
                health("cn-a", "lb-1", 80, "i-1", Normal),
                health("cn-a", "lb-1", 22, "i-1", Abnormal),
                // rows of a region not being replaced are not written
                health("cn-b", "lb-2", 443, "i-3", Abnormal),
            ],
        )
    });
    assert_eq!(
        read(s, |tx| tx.backend_health_of("lb-1")),
        vec![health("cn-a", "lb-1", 22, "i-1", Abnormal), health("cn-a", "lb-1", 80, "i-1", Normal)],
        "i-2 is no longer checked, i-1 flipped, a new listener"
    );
    assert_eq!(read(s, |tx| tx.backend_health_of("lb-2")), vec![health("cn-b", "lb-2", 443, "i-3", Normal)]);
    ok(s, move |tx| tx.backend_health_replace(&a(), &[]));
    assert_eq!(read(s, |tx| tx.backend_health_of("lb-1")), vec![]);
    assert_eq!(read(s, |tx| tx.backend_health_of("lb-2")).len(), 1, "another region's rows stay");
    constraint(s, "port 0", |tx| {
        tx.backend_health_replace(&["cn-a".to_owned()], &[health("cn-a", "lb-1", 0, "i-1", Normal)])
    });
    constraint(s, "empty server", |tx| {
        tx.backend_health_replace(&["cn-a".to_owned()], &[health("cn-a", "lb-1", 80, "", Normal)])
    });
}
