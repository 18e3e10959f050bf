//! The store contract (`eip_store::contract`) on SQLite: every case on a new
//! database file in a directory of its own, removed afterwards.

use eip_store::contract::Fresh;
use eip_store_sqlite::SqliteStore;
use std::sync::atomic::{AtomicU32, Ordering};

fn fresh() -> Fresh {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("openeip-contract-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let store = SqliteStore::open(&dir.join("eip.db")).expect("open a fresh database");
    Fresh::new(store).then(move || {
        let _ = std::fs::remove_dir_all(&dir);
    })
}

eip_store::store_contract!(|| Some(fresh()));
