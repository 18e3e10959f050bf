//! The embedded backend: one SQLite file in WAL mode, one connection.
//!
//! Writes run on the caller's thread, each in its own transaction behind a
//! mutex, so concurrent requests are serialised (rules are checked and applied
//! with nobody in between) and a refused request rolls back alone. A commit
//! that must be durable flushes the WAL (`synchronous=FULL`, fdatasync) before
//! the result is delivered, so every reply describes state that is on disk.
//! Reads use the same connection: its page cache stays warm and no second
//! connection has to re-sync with the WAL after every commit. On this kind of
//! machine that is several times cheaper per request than handing work to a
//! writer thread and back; the server runs one event loop, so the mutex is
//! uncontended.

use eip_store::sql::{Driver, Param, SqlRow, SqlTx};
use eip_store::*;
use parking_lot::Mutex;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Migrations, in order. Each runs once, inside a transaction.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_clb_listeners.sql")),
    (3, include_str!("../migrations/0003_eip_traffic.sql")),
    (4, include_str!("../migrations/0004_clb_health.sql")),
    (5, include_str!("../migrations/0005_eip_private_ip_index.sql")),
    (6, include_str!("../migrations/0006_request_nonce.sql")),
    (7, include_str!("../migrations/0007_lb_protection.sql")),
    (8, include_str!("../migrations/0008_address_last_eip.sql")),
    (9, include_str!("../migrations/0009_resource_tags.sql")),
    (10, include_str!("../migrations/0010_instance_user_data.sql")),
    (11, include_str!("../migrations/0011_vpc_secondary_cidr.sql")),
    (12, include_str!("../migrations/0012_dataplane_lease.sql")),
    (13, include_str!("../migrations/0013_task_claim.sql")),
    (14, include_str!("../migrations/0014_clb_backend_health.sql")),
    (15, include_str!("../migrations/0015_console_session.sql")),
    (16, include_str!("../migrations/0016_quota_application.sql")),
    (17, include_str!("../migrations/0017_account_active.sql")),
    (18, include_str!("../migrations/0018_account_balance.sql")),
];

/// The connection and what we know of its settings.
struct Conn {
    conn: Connection,
    synchronous_full: bool,
}

/// The SQLite store.
pub struct SqliteStore {
    conn: Mutex<Conn>,
    path: PathBuf,
    retries: AtomicU64,
}

fn open_conn(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.set_prepared_statement_cache_capacity(256);
    // Without the query planner stability guarantee, SQLite re-prepares any
    // statement with a bound LIMIT on every execution (it may pick another
    // plan for other values): a quarter of a paged query's CPU.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    Ok(conn)
}

fn map_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, msg) = &e {
        let msg = msg.clone().unwrap_or_default();
        return match f.extended_code {
            rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                StoreError::UniqueViolation(msg)
            }
            rusqlite::ffi::SQLITE_CONSTRAINT_CHECK
            | rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY
            | rusqlite::ffi::SQLITE_CONSTRAINT_NOTNULL => StoreError::ConstraintViolation(msg),
            // Another process (an admin command) holds the write lock past
            // the busy timeout: the whole write can be tried again.
            _ if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Conflict(format!("{e}"))
            }
            _ => StoreError::Other(format!("{e}")),
        };
    }
    StoreError::Other(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = open_conn(path).map_err(map_err)?;
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0)).map_err(map_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Other(format!("journal_mode is {mode}, WAL required")));
        }
        // Durability: flush the WAL on every durable commit.
        conn.pragma_update(None, "synchronous", "FULL").map_err(map_err)?;
        migrate(&conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(Conn { conn, synchronous_full: true }),
            path: path.to_owned(),
            retries: AtomicU64::new(0),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    migrate_with(conn, MIGRATIONS)
}

fn migrate_with(conn: &Connection, migrations: &[(i64, &str)]) -> Result<(), StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migration (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .map_err(map_err)?;
    for (version, sql) in migrations {
        let done: Option<i64> = conn
            .query_row("SELECT version FROM schema_migration WHERE version = ?1", [version], |r| r.get(0))
            .optional()
            .map_err(map_err)?;
        if done.is_some() {
            continue;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)?;
        let r = conn.execute_batch(sql).and_then(|_| {
            conn.execute("INSERT INTO schema_migration (version, applied_at) VALUES (?1, ?2)", params![version, now])
        });
        match r {
            Ok(_) => conn.execute_batch("COMMIT").map_err(map_err)?,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(map_err(e));
            }
        }
    }
    Ok(())
}

/// Runs a transaction-control statement through the statement cache, so
/// `BEGIN`/`SAVEPOINT`/`COMMIT` are parsed once per connection, not per request.
fn ctl(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Runs one write job in its own transaction and delivers its result after
/// the commit (flushed first when the job is durable). A run that meets a
/// conflict (another process holding the database: `SQLITE_BUSY` after the
/// busy timeout) is rolled back and run again, as [`WriteJob`] says.
fn run_job(c: &mut Conn, retries: &AtomicU64, mut job: WriteJob) {
    // A redoable job may skip the flush; the next durable commit flushes the
    // WAL up to and including it (frames are written in order).
    if job.durable != c.synchronous_full {
        let sql = if job.durable { "PRAGMA synchronous = FULL" } else { "PRAGMA synchronous = NORMAL" };
        if ctl(&c.conn, sql).is_ok() {
            c.synchronous_full = job.durable;
        }
    }
    let conn = &c.conn;
    let mut attempt = 1;
    let commit = loop {
        if attempt > 1 {
            retries.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(backoff(attempt));
        }
        if let Err(e) = ctl(conn, "BEGIN IMMEDIATE") {
            match map_err(e) {
                StoreError::Conflict(_) if attempt < MAX_ATTEMPTS => {
                    attempt += 1;
                    continue;
                }
                e => break Err(eip_types::Error::from(e)),
            }
        }
        let mut tx = sql_tx(conn);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.run)(&mut tx)));
        match outcome {
            Ok(Outcome::Commit) => match ctl(conn, "COMMIT") {
                Ok(()) => break Ok(()),
                Err(e) => {
                    let _ = ctl(conn, "ROLLBACK");
                    match map_err(e) {
                        StoreError::Conflict(_) if attempt < MAX_ATTEMPTS => attempt += 1,
                        e => break Err(eip_types::Error::Internal(format!("commit: {e}"))),
                    }
                }
            },
            Ok(Outcome::Retry) if attempt < MAX_ATTEMPTS => {
                let _ = ctl(conn, "ROLLBACK");
                attempt += 1;
            }
            // The last run's own error (a refusal, or the conflict that
            // outlasted every attempt) is what gets delivered.
            Ok(Outcome::Rollback | Outcome::Retry) => {
                let _ = ctl(conn, "ROLLBACK");
                break Ok(());
            }
            Err(_) => {
                let _ = ctl(conn, "ROLLBACK");
                tracing::error!("write job panicked; rolled back");
                break Err(eip_types::Error::Internal("write job panicked".into()));
            }
        }
    };
    (job.deliver)(commit);
}

impl Store for SqliteStore {
    fn submit(&self, job: WriteJob) {
        let mut c = self.conn.lock();
        run_job(&mut c, &self.retries, job);
    }

    fn write_retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    fn read_dyn(&self, f: &mut (dyn FnMut(&mut dyn Tx) -> eip_types::Result<()> + Send)) -> eip_types::Result<()> {
        let c = self.conn.lock();
        // Reads may not write (as PostgreSQL's READ ONLY snapshots refuse):
        // the connection is query-only until the guard drops, also when `f`
        // panics, so the writes after it are not refused.
        struct QueryOnly<'c>(&'c Connection);
        impl Drop for QueryOnly<'_> {
            fn drop(&mut self) {
                let _ = ctl(self.0, "ROLLBACK");
                let _ = ctl(self.0, "PRAGMA query_only = OFF");
            }
        }
        ctl(&c.conn, "PRAGMA query_only = ON").map_err(map_err)?;
        let guard = QueryOnly(&c.conn);
        // A read transaction pins one snapshot for the whole closure.
        ctl(guard.0, "BEGIN").map_err(map_err)?;
        f(&mut sql_tx(guard.0))
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn external_version(&self) -> Option<i64> {
        // SQLite's data_version moves only for commits of other connections.
        let c = self.conn.lock();
        c.conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok()
    }
}

/// The shared statements' [`Driver`] on this connection: each statement
/// prepared once and kept in the connection's cache.
struct SqliteDriver<'c> {
    conn: &'c Connection,
}

/// One parameter as rusqlite binds it.
struct Bind<'a>(Param<'a>);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self.0 {
            Param::Int(v) => ToSqlOutput::Borrowed(ValueRef::Integer(v)),
            Param::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            Param::Null => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

fn bind<'p, 'a>(params: &'p [Param<'a>]) -> impl rusqlite::Params + use<'p, 'a> {
    rusqlite::params_from_iter(params.iter().map(|p| Bind(*p)))
}

struct SqliteRow<'r, 's>(&'r rusqlite::Row<'s>);

impl SqlRow for SqliteRow<'_, '_> {
    fn int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.0.get(i).map_err(map_err)
    }

    fn text(&self, i: usize) -> StoreResult<Option<String>> {
        self.0.get(i).map_err(map_err)
    }
}

impl Driver for SqliteDriver<'_> {
    fn exec(&mut self, sql: &str, params: &[Param<'_>]) -> StoreResult<u64> {
        let mut st = self.conn.prepare_cached(sql).map_err(map_err)?;
        st.execute(bind(params)).map(|n| n as u64).map_err(map_err)
    }

    fn query(
        &mut self,
        sql: &str,
        params: &[Param<'_>],
        each: &mut dyn FnMut(&dyn SqlRow) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut st = self.conn.prepare_cached(sql).map_err(map_err)?;
        let mut rows = st.query(bind(params)).map_err(map_err)?;
        while let Some(r) = rows.next().map_err(map_err)? {
            each(&SqliteRow(r))?;
        }
        Ok(())
    }
}

fn sql_tx(conn: &Connection) -> SqlTx<SqliteDriver<'_>> {
    SqlTx::new(SqliteDriver { conn })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clb_listeners_made_before_health_checks_keep_them_off_and_new_settings_round_trip() {
        let dir = std::env::temp_dir().join(format!("openeip-store-test-{}-{}", std::process::id(), line!()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("eip.db");
        {
            // A database from before migration 4, with a listener.
            let conn = open_conn(&path).unwrap();
            migrate_with(&conn, &MIGRATIONS[..3]).unwrap();
            conn.execute_batch(
                "INSERT INTO account (id, name, created_at) VALUES ('acc-1', 'a', 0); \
                 INSERT INTO load_balancer (id, account_id, region_id, kind, address_type, address, name, spec, \
                 status, created_at) VALUES ('lb-1', 'acc-1', 'cn-hangzhou', 'clb', 'internet', '198.18.0.1', 'lb', \
                 'slb.s1.small', 'active', 0); \
                 INSERT INTO clb_listener (lb_id, port, backend_port, bandwidth, status) \
                 VALUES ('lb-1', 80, 8080, -1, 'running')",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let [old] = store.read(|tx| Ok(tx.clb_listener_list("lb-1")?)).unwrap().try_into().unwrap();
        let want = ClbListenerRow {
            lb_id: "lb-1".into(),
            port: 80,
            backend_port: 8080,
            bandwidth: -1,
            status: "running".into(),
            health_check: false,
            health_check_connect_port: None,
            healthy_threshold: 3,
            unhealthy_threshold: 3,
            health_check_connect_timeout: 5,
            health_check_interval: 2,
        };
        assert_eq!(old, want);
        assert_eq!(old.health_check_port(), 8080);
        let new = ClbListenerRow {
            health_check: true,
            health_check_connect_port: Some(9000),
            healthy_threshold: 2,
            unhealthy_threshold: 10,
            health_check_connect_timeout: 300,
            health_check_interval: 1,
            ..want
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let put = new.clone();
        rt.block_on(store.write(move |tx| Ok(tx.clb_listener_put(&put)?))).unwrap();
        let got = store.read(|tx| Ok(tx.clb_listener_list("lb-1")?)).unwrap();
        assert_eq!(got, vec![new.clone()]);
        assert_eq!(got[0].health_check_port(), 9000);
        // Out of Alibaba's ranges: the schema refuses it too.
        let bad = ClbListenerRow { healthy_threshold: 1, ..new };
        assert!(rt.block_on(store.write(move |tx| Ok(tx.clb_listener_put(&bad)?))).is_err());
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    // Retries, rollbacks, constraints and concurrent writers are in the
    // store contract (tests/contract.rs), which every backend runs.

    #[test]
    fn sqlite_busy_is_a_conflict() {
        let e = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
        assert!(matches!(map_err(e), StoreError::Conflict(_)));
        let e =
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE), None);
        assert!(matches!(map_err(e), StoreError::UniqueViolation(_)));
    }
}
