//! The store contract (`eip_store::contract`) on PostgreSQL: every case on a
//! new, empty schema of the test server (`EIPD_TEST_DATABASE_URL`); without
//! one the cases say so and pass, unless `EIPD_REQUIRE_POSTGRES=1`.

mod common;

eip_store::store_contract!(|| common::server_url().map(|base| common::open_fresh(&base)));
