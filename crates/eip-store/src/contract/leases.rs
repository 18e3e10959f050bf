//! Data-plane leases (which agent programs a region's gateway) and the
//! change notes a write carries to other processes.

use super::harness::*;
use crate::*;
use eip_types::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn lease(region: &str, holder: &str, acquired_at: i64, expires_at: i64) -> LeaseRow {
    LeaseRow { region_id: region.into(), holder: holder.into(), acquired_at, expires_at }
}

/// Leases list by region; a put takes or renews a region's lease, replacing
/// every column.
pub fn leases_list_by_region_and_a_put_replaces_the_regions_lease(s: &dyn Store) {
    assert_eq!(read(s, |tx| tx.lease_list()), vec![]);
    ok(s, |tx| {
        tx.lease_put(&lease("cn-hangzhou", "agent-1", 100, 200))?;
        tx.lease_put(&lease("cn-beijing", "agent-2", 10, 10))?;
        tx.lease_put(&lease("ap-southeast-1", "agent-1", 5, 500))
    });
    assert_eq!(
        read(s, |tx| tx.lease_list()),
        vec![
            lease("ap-southeast-1", "agent-1", 5, 500),
            lease("cn-beijing", "agent-2", 10, 10),
            lease("cn-hangzhou", "agent-1", 100, 200),
        ]
    );
    ok(s, |tx| tx.lease_put(&lease("cn-hangzhou", "agent-1", 100, 300)));
    ok(s, |tx| tx.lease_put(&lease("cn-beijing", "agent-3", 400, 450)));
    assert_eq!(
        read(s, |tx| tx.lease_list()),
        vec![
            lease("ap-southeast-1", "agent-1", 5, 500),
            lease("cn-beijing", "agent-3", 400, 450),
            lease("cn-hangzhou", "agent-1", 100, 300),
        ]
    );
}

/// Only the holder releases a lease, and only while it runs (from its
/// acquisition until it expires); the row stays, lapsed at the release time.
pub fn a_lease_is_released_only_by_its_holder_while_it_runs(s: &dyn Store) {
    ok(s, |tx| {
        tx.lease_put(&lease("cn-hangzhou", "agent-1", 100, 200))?;
        tx.lease_put(&lease("cn-beijing", "agent-1", 100, 200))
    });
    assert!(!ok(s, |tx| tx.lease_release("cn-hangzhou", "agent-2", 150)), "not the holder");
    assert!(!ok(s, |tx| tx.lease_release("cn-hangzhou", "agent-1", 200)), "expired at its expiry time");
    assert!(!ok(s, |tx| tx.lease_release("cn-hangzhou", "agent-1", 99)), "before it was taken");
    assert!(!ok(s, |tx| tx.lease_release("cn-shanghai", "agent-1", 150)), "no lease there");
    assert_eq!(read(s, |tx| tx.lease_list())[1], lease("cn-hangzhou", "agent-1", 100, 200));
    assert!(ok(s, |tx| tx.lease_release("cn-hangzhou", "agent-1", 150)));
    assert!(!ok(s, |tx| tx.lease_release("cn-hangzhou", "agent-1", 150)), "already lapsed");
    assert_eq!(
        read(s, |tx| tx.lease_list()),
        vec![lease("cn-beijing", "agent-1", 100, 200), lease("cn-hangzhou", "agent-1", 100, 150)]
    );
    assert!(ok(s, |tx| tx.lease_release("cn-beijing", "agent-1", 100)), "released the moment it was taken");
    assert_eq!(read(s, |tx| tx.lease_list())[0], lease("cn-beijing", "agent-1", 100, 100));
}

/// A lease has a holder and does not expire before it was taken.
pub fn lease_constraints_hold(s: &dyn Store) {
    constraint(s, "no holder", |tx| tx.lease_put(&lease("cn-hangzhou", "", 100, 200)));
    constraint(s, "expires before it is taken", |tx| tx.lease_put(&lease("cn-hangzhou", "agent-1", 100, 99)));
    ok(s, |tx| tx.lease_put(&lease("cn-hangzhou", "agent-1", 100, 200)));
    constraint(s, "renewed into the past", |tx| tx.lease_put(&lease("cn-hangzhou", "agent-1", 100, 50)));
    assert_eq!(read(s, |tx| tx.lease_list()), vec![lease("cn-hangzhou", "agent-1", 100, 200)]);
}

/// A note of what a write changed never decides whether it commits: notes
/// that merge, name ids with quotes, are too long to send, or come from a
/// run that conflicted; a write that changed nothing but noted something.
pub fn a_write_commits_whatever_its_change_note_says(s: &dyn Store) {
    let quoted = Changes { eips: ["eip-'); DROP TABLE eip; --".to_owned(), "eip-1".to_owned()].into(), other: false };
    let many = Changes { eips: (0..2000).map(|i| format!("eip-{i:06}")).collect(), other: false };
    ok(s, move |tx| {
        tx.note_changes(&Changes { eips: ["eip-1".to_owned()].into(), other: false });
        tx.note_changes(&quoted);
        tx.note_changes(&many);
        tx.note_changes(&Changes::default());
        tx.setting_set("a", "1")
    });
    ok(s, |tx| {
        tx.note_changes(&Changes::anything());
        Ok(())
    });
    let runs = Arc::new(AtomicUsize::new(0));
    let seen = runs.clone();
    let got = write(s, move |tx| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        tx.note_changes(&Changes { eips: [format!("eip-run-{n}")].into(), other: n == 0 });
        tx.setting_set("b", &n.to_string())?;
        if n == 0 {
            return Err(Error::StoreConflict("lost".into()));
        }
        Ok(n)
    });
    assert_eq!(got, Ok(1));
    let refused: eip_types::Result<()> = write(s, |tx| {
        tx.note_changes(&Changes::anything());
        tx.setting_set("c", "1")?;
        Err(Error::TaskConflict)
    });
    assert_eq!(refused, Err(Error::TaskConflict));
    let got =
        read(s, |tx| Ok((tx.setting_get("a")?, tx.setting_get("b")?, tx.setting_get("c")?, tx.eip_count("x", "y")?)));
    assert_eq!(got, (Some("1".into()), Some("1".into()), None, 0));
}
