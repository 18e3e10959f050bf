//! The read connections: at most a fixed number open at once, kept between
//! reads.
//!
//! Exists because opening a PostgreSQL connection is expensive (a server
//! process is forked and the password is checked with SCRAM, thousands of
//! hashes): when more reads run at once than connections are kept, a read
//! must wait for a connection to come back rather than open one of its own
//! and close it after.

use crate::driver::Conn;
use parking_lot::{Condvar, Mutex};

/// A bounded set of connections.
pub(crate) struct Pool {
    state: Mutex<State>,
    returned: Condvar,
    max: usize,
}

struct State {
    idle: Vec<Conn>,
    /// Connections handed out (or being opened) and not yet given back.
    out: usize,
}

/// A turn to use one connection: an idle one, or the right to open one.
/// Dropping it without [`Lease::keep`] frees the turn (and drops nothing
/// else: the caller owns whatever connection it opened).
pub(crate) struct Lease<'p> {
    pool: &'p Pool,
    /// The idle connection handed out, if there was one.
    pub(crate) conn: Option<Conn>,
}

impl Pool {
    pub(crate) fn new(max: usize, first: Conn) -> Pool {
        Pool { state: Mutex::new(State { idle: vec![first], out: 0 }), returned: Condvar::new(), max: max.max(1) }
    }

    /// Waits until a connection is idle or fewer than `max` are out.
    pub(crate) fn lease(&self) -> Lease<'_> {
        let mut st = self.state.lock();
        loop {
            if let Some(c) = st.idle.pop() {
                st.out += 1;
                return Lease { pool: self, conn: Some(c) };
            }
            if st.out < self.max {
                st.out += 1;
                return Lease { pool: self, conn: None };
            }
            self.returned.wait(&mut st);
        }
    }

    /// Every idle connection, taken out (to close them).
    pub(crate) fn drain(&self) -> Vec<Conn> {
        std::mem::take(&mut self.state.lock().idle)
    }
}

impl Lease<'_> {
    /// Gives `conn` back for the next read, unless the server closed it.
    pub(crate) fn keep(self, conn: Conn) {
        if !conn.client.is_closed() {
            self.pool.state.lock().idle.push(conn);
        }
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut st = self.pool.state.lock();
        st.out -= 1;
        drop(st);
        self.pool.returned.notify_one();
    }
}
