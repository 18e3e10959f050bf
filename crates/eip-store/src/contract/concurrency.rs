//! Writers at the same time: each write is isolated from the others, so a
//! read-modify-write loses no update and a check-then-insert has one winner
//! whose rivals get the rule's refusal, not a store error.

use super::fixtures::*;
use super::harness::*;
use crate::*;
use eip_types::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

const THREADS: usize = 8;
const INCREMENTS: usize = 50;
const RIVALS: usize = 16;

/// 8 threads each add one to a setting 50 times: it ends at 400.
pub fn concurrent_read_modify_writes_lose_no_update(s: &dyn Store) {
    let start = &Barrier::new(THREADS);
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(move || {
                let rt = rt();
                start.wait();
                for _ in 0..INCREMENTS {
                    let r = rt.block_on(s.write(|tx| {
                        let n: usize = match tx.setting_get("counter")? {
                            Some(v) => v.parse().map_err(|e| Error::Internal(format!("counter {v:?}: {e}")))?,
                            None => 0,
                        };
                        tx.setting_set("counter", &(n + 1).to_string())?;
                        Ok(())
                    }));
                    assert_eq!(r, Ok(()), "an increment failed");
                }
            });
        }
    });
    assert_eq!(read(s, |tx| tx.setting_get("counter")), Some((THREADS * INCREMENTS).to_string()));
}

/// 16 writers each look a ClientToken up and store it when it is absent
/// (what an idempotent action does): exactly one stores it, every other one
/// sees it and refuses, none meets a store error. Each writer's first run
/// pauses between the check and the insert, so their transactions overlap
/// wherever the backend lets writers run side by side.
pub fn concurrent_writers_checking_one_unique_slot_have_one_winner(s: &dyn Store) {
    let start = &Barrier::new(RIVALS);
    let results: Vec<eip_types::Result<usize>> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..RIVALS)
            .map(|i| {
                scope.spawn(move || {
                    let first_run = Arc::new(AtomicBool::new(true));
                    start.wait();
                    write(s, move |tx| {
                        if tx.token_get(ACC, "AllocateEipAddress", "tok")?.is_some() {
                            return Err(Error::IdempotentParameterMismatch);
                        }
                        if first_run.swap(false, Ordering::SeqCst) {
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        tx.token_insert(&TokenRow {
                            response: format!("writer {i}"),
                            ..token(ACC, "AllocateEipAddress", "tok", 1)
                        })?;
                        Ok(i)
                    })
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().expect("a writer thread")).collect()
    });
    let winners: Vec<usize> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    let refusals = results.iter().filter(|r| **r == Err(Error::IdempotentParameterMismatch)).count();
    assert_eq!(winners.len(), 1, "{results:?}");
    assert_eq!(refusals, RIVALS - 1, "every loser sees the winner's row: {results:?}");
    let stored = read(s, |tx| tx.token_get(ACC, "AllocateEipAddress", "tok")).expect("the winner's token");
    assert_eq!(stored.response, format!("writer {}", winners[0]));
}

/// 16 writers claim one signature nonce at once: exactly one claim is true.
pub fn concurrent_nonce_claims_have_one_winner(s: &dyn Store) {
    let start = &Barrier::new(RIVALS);
    let claimed: Vec<eip_types::Result<bool>> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..RIVALS)
            .map(|_| {
                scope.spawn(move || {
                    start.wait();
                    write(s, |tx| Ok(tx.nonce_claim("AK\nnonce", 1_000, 0)?))
                })
            })
            .collect();
        writers.into_iter().map(|w| w.join().expect("a writer thread")).collect()
    });
    assert!(claimed.iter().all(Result::is_ok), "{claimed:?}");
    assert_eq!(claimed.iter().filter(|c| **c == Ok(true)).count(), 1, "{claimed:?}");
    assert_eq!(read(s, |tx| tx.nonce_live(0)), vec![("AK\nnonce".to_owned(), 1_000)]);
}

/// 8 nodes claim 400 due tasks at once, 10 at a time, and take what they
/// claimed, until none is left (what their task runners do): every task is
/// taken exactly once, and no claim meets a store error.
pub fn concurrent_task_claims_split_the_tasks(s: &dyn Store) {
    const TASKS: usize = 400;
    ok(s, |tx| {
        for i in 0..TASKS {
            tx.task_insert(&task(&format!("task-{i:03}"), 10))?;
        }
        Ok(())
    });
    let start = &Barrier::new(THREADS);
    let taken: Vec<Vec<String>> = std::thread::scope(|scope| {
        let nodes: Vec<_> = (0..THREADS)
            .map(|n| {
                scope.spawn(move || {
                    let rt = rt();
                    let holder = format!("node-{n}");
                    let mut mine = Vec::new();
                    start.wait();
                    loop {
                        let h = holder.clone();
                        let claimed = rt
                            .block_on(s.claim(move |tx| Ok(tx.task_claim(100, 10, &h, 1_000_000)?)))
                            .expect("a claim failed");
                        if claimed.is_empty() {
                            break;
                        }
                        let h = holder.clone();
                        let ids: Vec<String> = claimed.into_iter().map(|t| t.id).collect();
                        let got = rt
                            .block_on(s.write(move |tx| {
                                let mut got = Vec::new();
                                for id in &ids {
                                    if tx.task_take(id, &h)? {
                                        got.push(id.clone());
                                    }
                                }
                                Ok(got)
                            }))
                            .expect("a take failed");
                        mine.extend(got);
                    }
                    mine
                })
            })
            .collect();
        nodes.into_iter().map(|h| h.join().expect("a node panicked")).collect()
    });
    let mut all: Vec<String> = taken.iter().flatten().cloned().collect();
    all.sort();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "a task was taken twice");
    assert_eq!(n, TASKS, "every task is taken");
    assert_eq!(read(s, |tx| tx.task_count()), 0);
}
