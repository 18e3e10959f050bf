//! The openeip server's parts, as a library so that integration tests and the
//! fuzz harness drive the same edge the binary serves: the HTTP edge
//! ([`server`]), the accept loop and its connection limits ([`listener`]),
//! metrics, and the choice of store ([`store`]). The data-plane loop is the
//! `eip-agent` crate. `main.rs` is the command line.

pub mod agent;
pub mod listener;
pub mod logbuf;
pub mod metrics;
pub mod server;
pub mod store;
pub mod throttle;
