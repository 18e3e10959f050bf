//! A fresh, empty schema on the test server for each test.
//!
//! The server comes from `EIPD_TEST_DATABASE_URL` (the test command starts a
//! throwaway cluster and sets it). Without it the tests say so and pass,
//! unless `EIPD_REQUIRE_POSTGRES=1` (set by the test command) makes that a
//! failure, so CI cannot skip them silently.

use eip_store_postgres::{PostgresStore, Settings};
use std::sync::atomic::{AtomicU32, Ordering};

/// The test server's URL, or `None` when there is none and that is allowed.
pub fn server_url() -> Option<String> {
    match std::env::var("EIPD_TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            assert!(
                std::env::var("EIPD_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "EIPD_REQUIRE_POSTGRES=1 but EIPD_TEST_DATABASE_URL is not set"
            );
            eprintln!("no EIPD_TEST_DATABASE_URL: PostgreSQL tests not run");
            None
        }
    }
}

/// A URL whose connections use a new, empty schema.
pub fn fresh_schema_url(base: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let schema = format!("t{}_{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
    let mut c = postgres::Client::connect(base, postgres::NoTls).expect("connect to the test server");
    c.batch_execute(&format!("CREATE SCHEMA {schema}")).expect("create schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}options=-csearch_path%3D{schema}")
}

/// A store on a fresh schema (the contract suite's way in; not every test
/// file of this crate uses it).
#[allow(dead_code)]
pub fn open_fresh(base: &str) -> PostgresStore {
    PostgresStore::open(Settings::from_url(&fresh_schema_url(base)).unwrap()).unwrap()
}
