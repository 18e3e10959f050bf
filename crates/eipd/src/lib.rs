//! The openeip server's parts, as a library so that integration tests and the
//! fuzz harness drive the same edge the binary serves: the HTTP edge
//! ([`server`]), the accept loop and its connection limits ([`listener`]),
//! metrics, the data-plane loop and its health, and the choice of store
//! ([`store`]). `main.rs` is the command line.

pub mod dataplane;
pub mod health;
pub mod listener;
pub mod logbuf;
pub mod metrics;
pub mod server;
pub mod store;
