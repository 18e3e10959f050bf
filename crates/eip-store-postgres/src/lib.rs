//! The shared backend: the store on a PostgreSQL server, so several `eipd`
//! nodes and data-plane agents see one state.
//!
//! The statements are the ones SQLite runs ([`eip_store::sql`]); this crate
//! supplies the connection handling around them:
//!
//! - Writes run on a small pool of writer threads, each with its own
//!   connection, in `SERIALIZABLE` transactions. Two nodes checking and
//!   applying a rule at the same time cannot both succeed: one gets a
//!   serialization failure (`40001`) or deadlock (`40P01`), which is a
//!   [`StoreError::Conflict`], and its work runs again (see
//!   [`eip_store::WriteJob`]). Submitting never blocks the caller's thread.
//!   Claims of due tasks ([`Isolation::Claim`]) run in `READ COMMITTED`
//!   with `FOR UPDATE SKIP LOCKED`: nodes racing for the same tasks split
//!   them instead of failing each other.
//! - Reads take one of a bounded set of kept connections (waiting for one
//!   when all are busy, see `pool`) and see one `REPEATABLE READ` snapshot
//!   for the whole closure.
//! - Every commit also sends `NOTIFY eipd_change` with this process's id and
//!   what the transaction noted it changed ([`Tx::note_changes`]); a listener
//!   connection hears the notices of other processes and hands them to
//!   [`Store::subscribe`]rs: other nodes' writes reach an agent's data-plane
//!   loop without polling the tables, and an association made on one node
//!   takes the agent's fast path.
//! - A lost connection is a [`StoreError::Unavailable`] (the request gets a
//!   503 the clients retry); the next request connects again.
//!
//! Each statement is prepared once per connection (one round trip per
//! statement afterwards: bind and execute are pipelined).

mod connect;
mod driver;
mod migrate;
mod pool;

pub use connect::Settings;

use driver::PgDriver;
use eip_store::sql::SqlTx;
use eip_store::*;
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;

/// Most runs of one write job. More than the store-wide default
/// ([`MAX_ATTEMPTS`]): writers really run side by side here, and dozens of
/// requests racing for one resource (32 associations to one NAT gateway)
/// lose to each other many times before each has had its turn.
const ATTEMPTS: u32 = 4 * MAX_ATTEMPTS;

/// Channel the writes are announced on.
const CHANGE_CHANNEL: &str = "eipd_change";

/// The PostgreSQL store.
pub struct PostgresStore {
    settings: Arc<Settings>,
    jobs: Mutex<mpsc::Sender<WriteJob>>,
    readers: pool::Pool,
    retries: Arc<AtomicU64>,
    heard: Arc<connect::Heard>,
}

impl PostgresStore {
    /// Connects, applies migrations (once, however many nodes start
    /// together) and starts the writer threads and the change listener.
    /// Every failure is a start-up error naming the problem.
    pub fn open(settings: Settings) -> Result<PostgresStore, StoreError> {
        off_runtime(|| Self::open_here(settings))
    }

    fn open_here(settings: Settings) -> Result<PostgresStore, StoreError> {
        let settings = Arc::new(settings);
        let mut first = connect::connect(&settings)?;
        migrate::migrate(&mut first)?;
        let retries = Arc::new(AtomicU64::new(0));
        let heard = Arc::new(connect::Heard::default());
        let (send, recv) = mpsc::channel::<WriteJob>();
        let recv = Arc::new(std::sync::Mutex::new(recv));
        for n in 0..settings.writers.max(1) {
            let (recv, settings, retries) = (recv.clone(), settings.clone(), retries.clone());
            std::thread::Builder::new()
                .name(format!("pg-writer-{n}"))
                .spawn(move || writer(&settings, &recv, &retries))
                .map_err(|e| StoreError::Other(format!("cannot start a writer thread: {e}")))?;
        }
        {
            let (settings, heard) = (settings.clone(), heard.clone());
            std::thread::Builder::new()
                .name("pg-listener".into())
                .spawn(move || connect::listen(&settings, CHANGE_CHANNEL, &heard))
                .map_err(|e| StoreError::Other(format!("cannot start the change listener: {e}")))?;
        }
        Ok(PostgresStore {
            readers: pool::Pool::new(settings.readers, driver::Conn::new(first)),
            settings,
            jobs: Mutex::new(send),
            retries,
            heard,
        })
    }

    /// Where the store is, without the password (for logs).
    pub fn describe(&self) -> String {
        self.settings.describe()
    }
}

/// Runs blocking client work where it may block: the `postgres` client
/// drives its connection with a runtime of its own, which cannot start on a
/// thread that is already running an async runtime (eipd's event loop). On a
/// multi-threaded runtime the work blocks in place (the runtime moves its
/// other tasks to another thread meanwhile); on a single-threaded one it runs
/// on a short-lived thread of its own while the caller waits.
fn off_runtime<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => return work(),
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => return tokio::task::block_in_place(work),
        Ok(_) => {}
    }
    std::thread::scope(|s| match s.spawn(work).join() {
        Ok(r) => r,
        Err(panic) => std::panic::resume_unwind(panic),
    })
}

/// Opens a transaction with `begin` on a kept connection, or on a new one
/// when none is kept or the kept one turns out closed: a connection the
/// server dropped since (it restarted) is not an outage.
fn begin_on(settings: &Settings, kept: Option<driver::Conn>, begin: &str) -> Result<driver::Conn, StoreError> {
    if let Some(mut c) = kept.filter(|c| !c.client.is_closed()) {
        match c.client.batch_execute(begin) {
            Ok(()) => return Ok(c),
            Err(e) => match driver::map_err(&e) {
                StoreError::Unavailable(_) => {}
                e => return Err(e),
            },
        }
    }
    let mut c = driver::Conn::new(connect::connect(settings)?);
    c.client.batch_execute(begin).map_err(|e| driver::map_err(&e))?;
    Ok(c)
}

/// A writer thread: takes jobs off the shared queue until the store is dropped.
fn writer(settings: &Settings, jobs: &std::sync::Mutex<mpsc::Receiver<WriteJob>>, retries: &AtomicU64) {
    let mut conn: Option<driver::Conn> = None;
    loop {
        let job = {
            let Ok(rx) = jobs.lock() else { return };
            match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            }
        };
        run_job(settings, &mut conn, retries, job);
    }
}

/// Runs one write job in a `SERIALIZABLE` transaction, again after each
/// conflict (as [`WriteJob`] says), and delivers its result after the commit.
fn run_job(settings: &Settings, slot: &mut Option<driver::Conn>, retries: &AtomicU64, mut job: WriteJob) {
    // Redoable work (see WriteJob::durable) need not wait for the flush.
    // Claims are decided by row locks (FOR UPDATE SKIP LOCKED), which
    // READ COMMITTED honours without failing the writers that skip.
    let begin = match (job.isolation, job.durable) {
        (Isolation::Serializable, true) => "BEGIN ISOLATION LEVEL SERIALIZABLE",
        (Isolation::Serializable, false) => "BEGIN ISOLATION LEVEL SERIALIZABLE; SET LOCAL synchronous_commit = off",
        (Isolation::Claim, true) => "BEGIN ISOLATION LEVEL READ COMMITTED",
        (Isolation::Claim, false) => "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit = off",
    };
    let mut attempt = 1;
    let result = loop {
        if attempt > 1 {
            retries.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(backoff(attempt));
        }
        let conn = match begin_on(settings, slot.take(), begin) {
            Ok(c) => slot.insert(c),
            Err(e) => break Err(eip_types::Error::from(e)),
        };
        let (outcome, note) = {
            let mut tx = SqlTx::new(PgDriver::new(conn));
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(&mut tx)));
            (outcome, tx.notes().map_or_else(|| "*".to_owned(), Changes::encode))
        };
        // The note is plain text by construction (Changes::encode), and so is the node id.
        // A claim changes nothing another process needs to hear of.
        let commit = match job.isolation {
            Isolation::Serializable => format!("NOTIFY {CHANGE_CHANNEL}, '{} {note}'; COMMIT", settings.node_id),
            Isolation::Claim => "COMMIT".to_owned(),
        };
        let rollback = |slot: &mut Option<driver::Conn>| {
            if let Some(c) = slot.as_mut()
                && c.client.batch_execute("ROLLBACK").is_err()
            {
                *slot = None;
            }
        };
        match outcome {
            Ok(Outcome::Commit) => match conn.client.batch_execute(&commit) {
                Ok(()) => break Ok(()),
                Err(e) => {
                    let e = driver::map_err(&e);
                    rollback(slot);
                    match e {
                        StoreError::Conflict(_) if attempt < ATTEMPTS => attempt += 1,
                        // A commit whose reply was lost may or may not have
                        // happened: nothing was acknowledged, the caller
                        // gets a retryable 503.
                        e => break Err(eip_types::Error::from(e)),
                    }
                }
            },
            Ok(Outcome::Retry) if attempt < ATTEMPTS => {
                rollback(slot);
                attempt += 1;
            }
            Ok(Outcome::Rollback | Outcome::Retry) => {
                rollback(slot);
                break Ok(());
            }
            Err(_) => {
                rollback(slot);
                tracing::error!("write job panicked; rolled back");
                break Err(eip_types::Error::Internal("write job panicked".into()));
            }
        }
    };
    (job.deliver)(result);
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        // Closing a client blocks on its connection, like any other call.
        let readers = self.readers.drain();
        off_runtime(move || drop(readers));
    }
}

impl Store for PostgresStore {
    fn submit(&self, job: WriteJob) {
        if let Err(mpsc::SendError(job)) = self.jobs.lock().send(job) {
            (job.deliver)(Err(eip_types::Error::Internal("store writers stopped".into())));
        }
    }

    fn read_dyn(&self, f: &mut (dyn FnMut(&mut dyn Tx) -> eip_types::Result<()> + Send)) -> eip_types::Result<()> {
        off_runtime(|| {
            let mut lease = self.readers.lease();
            let mut conn =
                begin_on(&self.settings, lease.conn.take(), "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
            let r = f(&mut SqlTx::new(PgDriver::new(&mut conn)));
            if conn.client.batch_execute("COMMIT").is_ok() {
                lease.keep(conn);
            }
            r
        })
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn external_version(&self) -> Option<i64> {
        Some(self.heard.version.load(Ordering::Acquire))
    }

    fn subscribe(&self, sink: ChangeSink) -> bool {
        self.heard.sinks.lock().push(sink);
        true
    }

    fn shared(&self) -> bool {
        true
    }

    fn write_retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    fn write_attempts(&self) -> u32 {
        ATTEMPTS
    }
}
