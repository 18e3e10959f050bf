//! What a write and a read promise as a whole: a refused or failed write
//! leaves nothing behind, a read sees one snapshot, and a write that meets a
//! conflict runs again (only its last run counts) a bounded number of times.

use super::fixtures::*;
use super::harness::*;
use crate::*;
use eip_types::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// Inserts one row of several tables, for writes that must leave nothing.
fn insert_a_bit_of_everything(tx: &mut dyn Tx) -> StoreResult<()> {
    tx.account_insert(&account(ACC))?;
    tx.vpc_insert(&vpc(VPC, ACC, 1))?;
    tx.eip_insert(&EipRow { tags: tags(&[("k", "v")]), ..eip("eip-1", "198.18.0.1", 1) })?;
    tx.setting_set("k", "v")?;
    tx.task_insert(&task("task-1", 1))
}

/// Whether any row [`insert_a_bit_of_everything`] writes is there.
fn anything_left(s: &dyn Store) -> bool {
    read(s, |tx| {
        Ok(!tx.account_list()?.is_empty()
            || tx.vpc_get(ACC, VPC)?.is_some()
            || tx.eip_get("eip-1")?.is_some()
            || tx.setting_get("k")?.is_some()
            || tx.task_count()? > 0)
    })
}

fn counter() -> (Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let runs = Arc::new(AtomicUsize::new(0));
    (runs.clone(), runs)
}

/// A write whose closure refuses after writing rolls everything back, and
/// the caller gets the refusal unchanged.
pub fn a_refused_write_leaves_nothing_behind(s: &dyn Store) {
    let got: eip_types::Result<()> = write(s, |tx| {
        insert_a_bit_of_everything(tx)?;
        Err(Error::TaskConflict)
    });
    assert_eq!(got, Err(Error::TaskConflict));
    assert!(!anything_left(s));
    ok(s, insert_a_bit_of_everything);
    assert!(anything_left(s), "the same rows can be written afterwards");
}

/// A statement refused by a constraint, its error passed on with `?`,
/// fails the write (not retried) and takes the write's earlier rows along.
pub fn a_failed_statement_propagated_rolls_back_the_whole_write(s: &dyn Store) {
    let (runs, seen) = counter();
    let got: eip_types::Result<()> = write(s, move |tx| {
        seen.fetch_add(1, Ordering::SeqCst);
        insert_a_bit_of_everything(tx)?;
        tx.account_insert(&AccountRow { id: "acc-other".into(), ..account(ACC) })?;
        Ok(())
    });
    assert!(matches!(got, Err(Error::Internal(_))), "{got:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 1, "a constraint violation is not a conflict");
    assert!(!anything_left(s));
    ok(s, insert_a_bit_of_everything);
}

/// A closure that ignores a refused statement and returns `Ok` never gets
/// half a write committed: either the rest of the write commits (SQLite
/// keeps a transaction usable after a failed statement) or none of it does
/// and the caller gets an error (PostgreSQL aborts the transaction). The
/// refused row itself never lands.
pub fn a_swallowed_failed_statement_never_commits_half_a_write(s: &dyn Store) {
    ok(s, |tx| tx.account_insert(&account(ACC)));
    let got = write(s, |tx| {
        tx.setting_set("before", "1")?;
        let refused = tx.account_insert(&AccountRow { id: "acc-dup".into(), ..account(ACC) });
        let after = tx.setting_set("after", "1");
        Ok((refused, after))
    });
    let state = read(s, |tx| Ok((tx.setting_get("before")?, tx.setting_get("after")?, tx.account_list()?)));
    assert_eq!(state.2, vec![account(ACC)], "the refused row never lands");
    match got {
        Ok((Err(StoreError::UniqueViolation(_)), Ok(()))) => {
            assert_eq!((state.0, state.1), (Some("1".into()), Some("1".into())), "committed: all of the rest")
        }
        Ok((Err(StoreError::UniqueViolation(_)), Err(_))) | Err(_) => {
            assert_eq!((state.0, state.1), (None, None), "failed: none of it")
        }
        other => panic!("the duplicate account was not refused as a unique violation: {other:?}"),
    }
}

/// Inside a write, later statements see the earlier ones' rows.
pub fn a_write_sees_its_own_rows(s: &dyn Store) {
    let got = ok(s, |tx| {
        tx.account_insert(&account(ACC))?;
        tx.setting_set("k", "1")?;
        let first = tx.setting_get("k")?;
        tx.setting_set("k", "2")?;
        Ok((tx.account_list()?, first, tx.setting_get("k")?))
    });
    assert_eq!(got, (vec![account(ACC)], Some("1".into()), Some("2".into())));
}

/// A write that panics is rolled back and reported as an internal error;
/// the store takes further writes.
pub fn a_panicking_write_is_rolled_back_and_the_store_stays_usable(s: &dyn Store) {
    let got: eip_types::Result<()> = write(s, |tx| {
        insert_a_bit_of_everything(tx)?;
        panic!("a bug in a write closure (expected by this test)");
    });
    assert!(matches!(got, Err(Error::Internal(_))), "{got:?}");
    assert!(!anything_left(s));
    ok(s, insert_a_bit_of_everything);
    assert!(anything_left(s));
}

/// `write_redoable` commits like `write`; a durable write after it keeps both.
pub fn a_redoable_write_lands_like_any_other(s: &dyn Store) {
    let got = rt().block_on(s.write_redoable(|tx| {
        tx.task_insert(&task("task-1", 5))?;
        Ok(7)
    }));
    assert_eq!(got, Ok(7));
    assert_eq!(read(s, |tx| tx.task_due(5, 10)), vec![task("task-1", 5)]);
    ok(s, |tx| tx.task_delete("task-1"));
    let got: eip_types::Result<()> = rt().block_on(s.write_redoable(|tx| {
        tx.task_insert(&task("task-2", 5))?;
        Err(Error::TaskConflict)
    }));
    assert_eq!(got, Err(Error::TaskConflict));
    assert_eq!(read(s, |tx| tx.task_count()), 0);
}

/// A read sees the store as of its start, whatever commits meanwhile: a
/// backend either lets a concurrent write commit and hides it from the read,
/// or holds the write back until the read is done.
pub fn a_read_sees_one_snapshot(s: &dyn Store) {
    ok(s, |tx| {
        tx.setting_set("a", "before")?;
        tx.setting_set("b", "before")
    });
    let (go, started) = mpsc::channel::<()>();
    let (finished, done) = mpsc::channel::<()>();
    std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            started.recv().expect("the read starts the writer");
            let r = write(s, |tx| {
                tx.setting_set("a", "after")?;
                Ok(tx.setting_set("b", "after")?)
            });
            let _ = finished.send(());
            r
        });
        let seen = s
            .read(move |tx| {
                let a = tx.setting_get("a")?;
                go.send(()).expect("the writer waits");
                // Gives the write time to commit if this backend lets it.
                let _ = done.recv_timeout(Duration::from_millis(500));
                Ok((a, tx.setting_get("b")?, tx.setting_get("a")?))
            })
            .expect("the read");
        let before = Some("before".to_owned());
        assert_eq!(
            seen,
            (before.clone(), before.clone(), before),
            "the read saw a write that committed after it began"
        );
        writer.join().expect("the writer").expect("the write commits");
    });
    assert_eq!(
        read(s, |tx| Ok((tx.setting_get("a")?, tx.setting_get("b")?))),
        (Some("after".into()), Some("after".into()))
    );
}

/// A read cannot write: a statement that would change a row fails, nothing
/// changes, and the writes after it work.
pub fn a_read_cannot_write(s: &dyn Store) {
    ok(s, |tx| tx.task_insert(&task("task-1", 5)));
    let r = s.read(|tx| Ok(tx.task_delete("task-1")?));
    assert!(r.is_err(), "a delete in a read succeeded");
    assert_eq!(read(s, |tx| tx.task_count()), 1);
    ok(s, |tx| tx.task_delete("task-1"));
    assert_eq!(read(s, |tx| tx.task_count()), 0);
}

/// A read's closure error reaches the caller; the store stays usable.
pub fn a_read_returns_its_closures_error(s: &dyn Store) {
    let got: eip_types::Result<()> = s.read(|tx| {
        tx.setting_get("k")?;
        Err(Error::TaskConflict)
    });
    assert_eq!(got, Err(Error::TaskConflict));
    let got: eip_types::Result<()> = s.read(|tx| {
        tx.eip_get("eip-1")?;
        Err(Error::Internal("a bug".into()))
    });
    assert!(matches!(got, Err(Error::Internal(_))));
    ok(s, |tx| tx.setting_set("k", "v"));
    assert_eq!(read(s, |tx| tx.setting_get("k")), Some("v".into()));
}

/// A closure that returns `StoreConflict` runs again in a new transaction;
/// only the last run's writes and value count; `write_retries` counts the
/// reruns.
pub fn a_conflict_runs_the_write_again_and_only_the_last_run_counts(s: &dyn Store) {
    let retries = s.write_retries();
    let (runs, seen) = counter();
    let got = write(s, move |tx| {
        let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
        // Every run writes; a run that is not the last must leave nothing.
        tx.setting_set(&format!("run-{n}"), "x")?;
        tx.setting_set("last", &n.to_string())?;
        if n < 3 {
            return Err(Error::StoreConflict("lost to another writer".into()));
        }
        Ok(n)
    });
    assert_eq!(got, Ok(3));
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(s.write_retries() - retries, 2);
    let kept = read(s, |tx| {
        Ok((tx.setting_get("run-1")?, tx.setting_get("run-2")?, tx.setting_get("run-3")?, tx.setting_get("last")?))
    });
    assert_eq!(kept, (None, None, Some("x".into()), Some("3".into())));
}

/// Any other error is the write's answer: one run, no retry counted.
pub fn a_refusal_is_not_retried(s: &dyn Store) {
    let retries = s.write_retries();
    let (runs, seen) = counter();
    let got: eip_types::Result<()> = write(s, move |tx| {
        seen.fetch_add(1, Ordering::SeqCst);
        tx.setting_set("k", "v")?;
        Err(Error::AssociationDuplicated)
    });
    assert_eq!(got, Err(Error::AssociationDuplicated));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(s.write_retries(), retries);
    assert_eq!(read(s, |tx| tx.setting_get("k")), None);
}

/// A conflict on every run reaches the caller as `StoreConflict` after
/// exactly [`Store::write_attempts`] runs (at least [`MAX_ATTEMPTS`]), and
/// no run's writes are kept.
pub fn a_conflict_on_every_run_reaches_the_caller_after_a_bounded_number_of_runs(s: &dyn Store) {
    let attempts = s.write_attempts();
    assert!(attempts >= MAX_ATTEMPTS, "{attempts} attempts, fewer than the store-wide {MAX_ATTEMPTS}");
    assert!(attempts <= 64, "{attempts} attempts: not what anyone would call bounded");
    let retries = s.write_retries();
    let (runs, seen) = counter();
    let got: eip_types::Result<()> = write(s, move |tx| {
        let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
        tx.setting_set(&format!("run-{n}"), "x")?;
        Err(Error::StoreConflict(format!("run {n} lost")))
    });
    let n = attempts as usize;
    assert_eq!(got, Err(Error::StoreConflict(format!("run {n} lost"))), "the last run's conflict is the answer");
    assert_eq!(runs.load(Ordering::SeqCst), n);
    assert_eq!(s.write_retries() - retries, u64::from(attempts) - 1);
    let kept =
        read(s, move |tx| (1..=n + 1).map(|i| tx.setting_get(&format!("run-{i}"))).collect::<StoreResult<Vec<_>>>());
    assert!(kept.iter().all(Option::is_none), "{kept:?}");
}
