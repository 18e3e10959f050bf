//! How the cases talk to a store: writes on a small current-thread runtime,
//! reads, and refusals caught as the [`StoreError`] the store gave, with the
//! refused write rolled back (as the controller's `?` would).

use crate::{Store, StoreError, StoreExt, StoreResult, Tx};
use eip_types::{Error, Result};
use std::sync::{Arc, Mutex};

/// A runtime for one `write` (the store's future needs nothing else).
pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a current-thread runtime")
}

/// Runs `f` as one write and returns what the caller of `write` gets.
pub(crate) fn write<T: Send + 'static>(
    s: &dyn Store,
    f: impl FnMut(&mut dyn Tx) -> Result<T> + Send + 'static,
) -> Result<T> {
    rt().block_on(s.write(f))
}

/// Runs row primitives as one write that must commit.
#[track_caller]
pub(crate) fn ok<T: Send + 'static>(
    s: &dyn Store,
    mut f: impl FnMut(&mut dyn Tx) -> StoreResult<T> + Send + 'static,
) -> T {
    match write(s, move |tx| Ok(f(tx)?)) {
        Ok(v) => v,
        Err(e) => panic!("the write failed: {e:?}"),
    }
}

/// Runs row primitives on a read snapshot.
#[track_caller]
pub(crate) fn read<T: Send>(s: &dyn Store, f: impl FnOnce(&mut dyn Tx) -> StoreResult<T> + Send) -> T {
    match s.read(|tx| Ok(f(tx)?)) {
        Ok(v) => v,
        Err(e) => panic!("the read failed: {e:?}"),
    }
}

/// Runs row primitives as one write that the store must refuse: the error
/// one of them returned (the write is rolled back, as a refusal would be).
#[track_caller]
pub(crate) fn refused(s: &dyn Store, mut f: impl FnMut(&mut dyn Tx) -> StoreResult<()> + Send + 'static) -> StoreError {
    let slot: Arc<Mutex<Option<StoreError>>> = Arc::default();
    let caught = slot.clone();
    let r = write(s, move |tx| match f(tx) {
        Ok(()) => Ok(()),
        Err(e) => {
            *caught.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
            Err(Error::Internal("refused by the store".into()))
        }
    });
    let e = slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
    match (r, e) {
        (Err(Error::Internal(_)), Some(e)) => e,
        (r, e) => panic!("expected the store to refuse the write; the write gave {r:?}, the primitive {e:?}"),
    }
}

/// Asserts that the write is refused by a UNIQUE or PRIMARY KEY constraint.
#[track_caller]
pub(crate) fn unique(s: &dyn Store, what: &str, f: impl FnMut(&mut dyn Tx) -> StoreResult<()> + Send + 'static) {
    let e = refused(s, f);
    assert!(matches!(e, StoreError::UniqueViolation(_)), "{what}: expected a unique violation, got {e:?}");
}

/// Asserts that the write is refused by a CHECK, NOT NULL or FOREIGN KEY constraint.
#[track_caller]
pub(crate) fn constraint(s: &dyn Store, what: &str, f: impl FnMut(&mut dyn Tx) -> StoreResult<()> + Send + 'static) {
    let e = refused(s, f);
    assert!(matches!(e, StoreError::ConstraintViolation(_)), "{what}: expected a constraint violation, got {e:?}");
}

/// `v` sorted, for lists whose order the trait does not promise.
pub(crate) fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// `v` sorted by `key`, for rows that are not `Ord`.
pub(crate) fn sorted_by<T, K: Ord>(mut v: Vec<T>, key: impl Fn(&T) -> K) -> Vec<T> {
    v.sort_by_key(|x| key(x));
    v
}
