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

use eip_store::*;
use eip_types::{
    AssociatedInstanceType, ChargeType, EipMode, EipStatus, EniStatus, EniType, HaVipStatus, InstanceNetworkType,
    InstanceStatus, InternetChargeType, IpProtocol, LbAddressType, LoadBalancerKind, NatEipBindMode, NatGatewayStatus,
    NatNetworkType,
};
use parking_lot::Mutex;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, Row, params};
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
        let mut tx = SqliteTx { conn };
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

    fn read_dyn(&self, f: &mut dyn FnMut(&mut dyn Tx) -> eip_types::Result<()>) -> eip_types::Result<()> {
        let c = self.conn.lock();
        // A read transaction pins one snapshot for the whole closure.
        ctl(&c.conn, "BEGIN").map_err(map_err)?;
        let r = f(&mut SqliteTx { conn: &c.conn });
        let _ = ctl(&c.conn, "COMMIT");
        r
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

struct SqliteTx<'c> {
    conn: &'c Connection,
}

fn b(v: bool) -> i64 {
    i64::from(v)
}

fn bad(col: &str, v: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, format!("{col}={v}"), rusqlite::types::Type::Text)
}

fn parse_enum<T>(col: &str, v: String, f: fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    f(&v).ok_or_else(|| bad(col, &v))
}

fn parse_opt<T>(col: &str, v: Option<String>, f: fn(&str) -> Option<T>) -> rusqlite::Result<Option<T>> {
    v.map(|v| parse_enum(col, v, f)).transpose()
}

fn network_type(s: &str) -> Option<InstanceNetworkType> {
    InstanceNetworkType::parse(s)
}

// Column lists are macros so every fixed query is one `concat!` string built at
// compile time: the statement cache is hit without formatting a query per call.
macro_rules! eip_cols {
    () => {
        "id, account_id, region_id, ip, status, name, description, bandwidth, charge_type, \
    internet_charge_type, isp, netmode, resource_group_id, allocated_at, expired_at, deletion_protection, \
    instance_type, instance_id, private_ip, mode, instance_region_id, version, private_vswitch_id"
    };
}
/// The EIP columns, for the one query assembled at run time (`eip_query`).
const EIP_COLS: &str = eip_cols!();

/// The total of a paged query when the page itself shows it: a page with
/// fewer rows than the limit is the last, unless it is empty past the start
/// (the offset may be beyond the end).
fn derived_total(offset: i64, limit: i64, got: usize) -> Option<i64> {
    let got = got as i64;
    (got < limit && (got > 0 || offset == 0)).then_some(offset + got)
}

fn eip_from_row(r: &Row<'_>) -> rusqlite::Result<EipRow> {
    Ok(EipRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        ip: r.get(3)?,
        status: parse_enum("status", r.get(4)?, EipStatus::parse)?,
        name: r.get(5)?,
        description: r.get(6)?,
        bandwidth: r.get(7)?,
        charge_type: parse_enum("charge_type", r.get(8)?, ChargeType::parse)?,
        internet_charge_type: parse_enum("internet_charge_type", r.get(9)?, InternetChargeType::parse)?,
        isp: r.get(10)?,
        netmode: r.get(11)?,
        resource_group_id: r.get(12)?,
        allocated_at: r.get(13)?,
        expired_at: r.get(14)?,
        deletion_protection: r.get::<_, i64>(15)? != 0,
        instance_type: parse_opt("instance_type", r.get(16)?, AssociatedInstanceType::parse)?,
        instance_id: r.get(17)?,
        private_ip: r.get(18)?,
        mode: parse_opt("mode", r.get(19)?, EipMode::parse)?,
        instance_region_id: r.get(20)?,
        tags: Vec::new(),
        version: r.get(21)?,
        private_vswitch_id: r.get(22)?,
    })
}

macro_rules! instance_cols {
    () => {
        "id, account_id, region_id, zone_id, network_type, vpc_id, vswitch_id, \
    security_group_id, instance_type, image_id, name, hostname, description, status, want_running, \
    internet_charge_type, internet_max_bandwidth_out, public_ip, charge_type, cpu, memory_mb, created_at, started_at"
    };
}

fn instance_from_row(r: &Row<'_>) -> rusqlite::Result<InstanceRow> {
    Ok(InstanceRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        zone_id: r.get(3)?,
        network_type: parse_enum("network_type", r.get(4)?, network_type)?,
        vpc_id: r.get(5)?,
        vswitch_id: r.get(6)?,
        security_group_id: r.get(7)?,
        instance_type: r.get(8)?,
        image_id: r.get(9)?,
        name: r.get(10)?,
        hostname: r.get(11)?,
        description: r.get(12)?,
        status: parse_enum("status", r.get(13)?, InstanceStatus::parse)?,
        want_running: r.get::<_, i64>(14)? != 0,
        internet_charge_type: parse_enum("internet_charge_type", r.get(15)?, InternetChargeType::parse)?,
        internet_max_bandwidth_out: r.get(16)?,
        public_ip: r.get(17)?,
        charge_type: parse_enum("charge_type", r.get(18)?, ChargeType::parse)?,
        cpu: r.get(19)?,
        memory_mb: r.get(20)?,
        created_at: r.get(21)?,
        started_at: r.get(22)?,
    })
}

macro_rules! vpc_cols {
    () => {
        "id, account_id, region_id, cidr, name, description, is_default, vrouter_id, route_table_id, created_at"
    };
}

fn vpc_from_row(r: &Row<'_>) -> rusqlite::Result<VpcRow> {
    Ok(VpcRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        cidr: r.get(3)?,
        name: r.get(4)?,
        description: r.get(5)?,
        is_default: r.get::<_, i64>(6)? != 0,
        vrouter_id: r.get(7)?,
        route_table_id: r.get(8)?,
        created_at: r.get(9)?,
    })
}

macro_rules! vsw_cols {
    () => {
        "id, account_id, region_id, vpc_id, zone_id, cidr, name, description, created_at"
    };
}

fn vsw_from_row(r: &Row<'_>) -> rusqlite::Result<VSwitchRow> {
    Ok(VSwitchRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        vpc_id: r.get(3)?,
        zone_id: r.get(4)?,
        cidr: r.get(5)?,
        name: r.get(6)?,
        description: r.get(7)?,
        created_at: r.get(8)?,
    })
}

macro_rules! sg_cols {
    () => {
        "id, account_id, region_id, vpc_id, name, description, created_at"
    };
}

fn sg_from_row(r: &Row<'_>) -> rusqlite::Result<SecurityGroupRow> {
    Ok(SecurityGroupRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        vpc_id: r.get(3)?,
        name: r.get(4)?,
        description: r.get(5)?,
        created_at: r.get(6)?,
    })
}

macro_rules! eni_cols {
    () => {
        "id, account_id, region_id, zone_id, vpc_id, vswitch_id, instance_id, kind, mac, status, name, \
    security_group_id, created_at, description"
    };
}

fn eni_from_row(r: &Row<'_>) -> rusqlite::Result<EniRow> {
    Ok(EniRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        zone_id: r.get(3)?,
        vpc_id: r.get(4)?,
        vswitch_id: r.get(5)?,
        instance_id: r.get(6)?,
        kind: parse_enum("kind", r.get(7)?, EniType::parse)?,
        mac: r.get(8)?,
        status: parse_enum("status", r.get(9)?, EniStatus::parse)?,
        name: r.get(10)?,
        security_group_id: r.get(11)?,
        created_at: r.get(12)?,
        description: r.get(13)?,
    })
}

fn pip_from_row(r: &Row<'_>) -> rusqlite::Result<PrivateIpRow> {
    Ok(PrivateIpRow {
        vswitch_id: r.get(0)?,
        ip: r.get(1)?,
        holder_id: r.get(2)?,
        is_primary: r.get::<_, i64>(3)? != 0,
    })
}

fn address_from_row(r: &Row<'_>) -> rusqlite::Result<AddressRow> {
    Ok(AddressRow {
        ip: r.get(0)?,
        region_id: r.get(1)?,
        holder_kind: r.get(2)?,
        holder_id: r.get(3)?,
        last_account_id: r.get(4)?,
        released_at: r.get(5)?,
    })
}

macro_rules! nat_cols {
    () => {
        "id, account_id, region_id, vpc_id, vswitch_id, zone_id, name, description, status, \
    network_type, eip_bind_mode, snat_table_id, forward_table_id, full_nat_table_id, eni_id, private_ip, created_at"
    };
}

fn nat_from_row(r: &Row<'_>) -> rusqlite::Result<NatGatewayRow> {
    Ok(NatGatewayRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        vpc_id: r.get(3)?,
        vswitch_id: r.get(4)?,
        zone_id: r.get(5)?,
        name: r.get(6)?,
        description: r.get(7)?,
        status: parse_enum("status", r.get(8)?, NatGatewayStatus::parse)?,
        network_type: parse_enum("network_type", r.get(9)?, NatNetworkType::parse)?,
        eip_bind_mode: parse_enum("eip_bind_mode", r.get(10)?, NatEipBindMode::parse)?,
        snat_table_id: r.get(11)?,
        forward_table_id: r.get(12)?,
        full_nat_table_id: r.get(13)?,
        eni_id: r.get(14)?,
        private_ip: r.get(15)?,
        created_at: r.get(16)?,
    })
}

macro_rules! snat_cols {
    () => {
        "id, account_id, nat_gateway_id, snat_table_id, snat_ips, source_vswitch_id, source_cidr, name, created_at"
    };
}

fn snat_from_row(r: &Row<'_>) -> rusqlite::Result<SnatEntryRow> {
    Ok(SnatEntryRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        nat_gateway_id: r.get(2)?,
        snat_table_id: r.get(3)?,
        snat_ips: r.get(4)?,
        source_vswitch_id: r.get(5)?,
        source_cidr: r.get(6)?,
        name: r.get(7)?,
        created_at: r.get(8)?,
    })
}

macro_rules! fwd_cols {
    () => {
        "id, account_id, nat_gateway_id, forward_table_id, external_ip, external_port, internal_ip, \
    internal_port, ip_protocol, name, created_at"
    };
}

fn fwd_from_row(r: &Row<'_>) -> rusqlite::Result<ForwardEntryRow> {
    Ok(ForwardEntryRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        nat_gateway_id: r.get(2)?,
        forward_table_id: r.get(3)?,
        external_ip: r.get(4)?,
        external_port: r.get(5)?,
        internal_ip: r.get(6)?,
        internal_port: r.get(7)?,
        ip_protocol: parse_enum("ip_protocol", r.get(8)?, IpProtocol::parse)?,
        name: r.get(9)?,
        created_at: r.get(10)?,
    })
}

macro_rules! havip_cols {
    () => {
        "id, account_id, region_id, vpc_id, vswitch_id, ip, status, name, description, created_at"
    };
}

fn havip_from_row(r: &Row<'_>) -> rusqlite::Result<HaVipRow> {
    Ok(HaVipRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        vpc_id: r.get(3)?,
        vswitch_id: r.get(4)?,
        ip: r.get(5)?,
        status: parse_enum("status", r.get(6)?, HaVipStatus::parse)?,
        name: r.get(7)?,
        description: r.get(8)?,
        created_at: r.get(9)?,
    })
}

fn member_from_row(r: &Row<'_>) -> rusqlite::Result<HaVipMemberRow> {
    Ok(HaVipMemberRow {
        havip_id: r.get(0)?,
        instance_id: r.get(1)?,
        instance_type: parse_enum("instance_type", r.get(2)?, AssociatedInstanceType::parse)?,
        created_at: r.get(3)?,
    })
}

macro_rules! lb_cols {
    () => {
        "id, account_id, region_id, kind, address_type, vpc_id, vswitch_id, address, name, spec, status, created_at, \
         delete_protection, master_zone_id"
    };
}

fn lb_from_row(r: &Row<'_>) -> rusqlite::Result<LoadBalancerRow> {
    Ok(LoadBalancerRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        kind: parse_enum("kind", r.get(3)?, LoadBalancerKind::parse)?,
        address_type: parse_enum("address_type", r.get(4)?, LbAddressType::parse)?,
        vpc_id: r.get(5)?,
        vswitch_id: r.get(6)?,
        address: r.get(7)?,
        name: r.get(8)?,
        spec: r.get(9)?,
        status: r.get(10)?,
        created_at: r.get(11)?,
        delete_protection: r.get(12)?,
        master_zone_id: r.get(13)?,
    })
}

fn task_from_row(r: &Row<'_>) -> rusqlite::Result<TaskRow> {
    Ok(TaskRow { id: r.get(0)?, kind: r.get(1)?, resource_id: r.get(2)?, due_at: r.get(3)?, created_at: r.get(4)? })
}

impl SqliteTx<'_> {
    fn list<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut st = self.conn.prepare_cached(sql).map_err(map_err)?;
        let rows = st.query_map(p, f).map_err(map_err)?;
        rows.collect::<rusqlite::Result<Vec<T>>>().map_err(map_err)
    }

    fn one<T>(
        &self,
        sql: &str,
        p: impl rusqlite::Params,
        f: fn(&Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Option<T>> {
        let mut st = self.conn.prepare_cached(sql).map_err(map_err)?;
        st.query_row(p, f).optional().map_err(map_err)
    }

    fn exec(&self, sql: &str, p: impl rusqlite::Params) -> StoreResult<usize> {
        let mut st = self.conn.prepare_cached(sql).map_err(map_err)?;
        st.execute(p).map_err(map_err)
    }

    fn count(&self, sql: &str, p: impl rusqlite::Params) -> StoreResult<i64> {
        let mut st = self.conn.prepare_cached(sql).map_err(map_err)?;
        st.query_row(p, |r| r.get(0)).map_err(map_err)
    }

    fn load_tags(&self, rows: &mut [EipRow]) -> StoreResult<()> {
        for row in rows.iter_mut() {
            row.tags = self.list("SELECT key, value FROM eip_tag WHERE eip_id = ?1 ORDER BY key", [&row.id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        }
        Ok(())
    }

    fn write_tags(&self, row: &EipRow) -> StoreResult<()> {
        self.exec("DELETE FROM eip_tag WHERE eip_id = ?1", [&row.id])?;
        for (k, v) in &row.tags {
            self.exec("INSERT INTO eip_tag (eip_id, key, value) VALUES (?1, ?2, ?3)", params![row.id, k, v])?;
        }
        Ok(())
    }
}

impl Tx for SqliteTx<'_> {
    fn account_insert(&mut self, row: &AccountRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO account (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![row.id, row.name, row.created_at],
        )
        .map(drop)
    }

    fn account_list(&mut self) -> StoreResult<Vec<AccountRow>> {
        self.list("SELECT id, name, created_at FROM account ORDER BY created_at, id", [], |r| {
            Ok(AccountRow { id: r.get(0)?, name: r.get(1)?, created_at: r.get(2)? })
        })
    }

    fn access_key_insert(&mut self, row: &AccessKeyRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO access_key (id, account_id, secret, active, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![row.id, row.account_id, row.secret, b(row.active), row.created_at],
        )
        .map(drop)
    }

    fn access_key_get(&mut self, id: &str) -> StoreResult<Option<AccessKeyRow>> {
        self.one("SELECT id, account_id, secret, active, created_at FROM access_key WHERE id = ?1", [id], |r| {
            Ok(AccessKeyRow {
                id: r.get(0)?,
                account_id: r.get(1)?,
                secret: r.get(2)?,
                active: r.get::<_, i64>(3)? != 0,
                created_at: r.get(4)?,
            })
        })
    }

    fn access_key_update(&mut self, row: &AccessKeyRow) -> StoreResult<()> {
        self.exec(
            "UPDATE access_key SET secret = ?2, active = ?3 WHERE id = ?1",
            params![row.id, row.secret, b(row.active)],
        )
        .map(drop)
    }

    fn access_key_list(&mut self, account: &str) -> StoreResult<Vec<AccessKeyRow>> {
        self.list(
            "SELECT id, account_id, secret, active, created_at FROM access_key WHERE account_id = ?1 ORDER BY created_at",
            [account],
            |r| {
                Ok(AccessKeyRow {
                    id: r.get(0)?,
                    account_id: r.get(1)?,
                    secret: r.get(2)?,
                    active: r.get::<_, i64>(3)? != 0,
                    created_at: r.get(4)?,
                })
            },
        )
    }

    fn setting_get(&mut self, key: &str) -> StoreResult<Option<String>> {
        self.one("SELECT value FROM setting WHERE key = ?1", [key], |r| r.get(0))
    }

    fn setting_set(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
        .map(drop)
    }

    fn pool_list(&mut self, region: &str) -> StoreResult<Vec<PoolRow>> {
        self.list(
            "SELECT region_id, cidr, cursor FROM address_pool WHERE region_id = ?1 ORDER BY position",
            [region],
            |r| Ok(PoolRow { region_id: r.get(0)?, cidr: r.get(1)?, cursor: r.get(2)? }),
        )
    }

    fn pool_list_all(&mut self) -> StoreResult<Vec<PoolRow>> {
        self.list("SELECT region_id, cidr, cursor FROM address_pool ORDER BY region_id, position", [], |r| {
            Ok(PoolRow { region_id: r.get(0)?, cidr: r.get(1)?, cursor: r.get(2)? })
        })
    }

    fn pool_insert(&mut self, row: &PoolRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO address_pool (region_id, cidr, cursor, position) \
             VALUES (?1, ?2, ?3, (SELECT COUNT(*) FROM address_pool WHERE region_id = ?1))",
            params![row.region_id, row.cidr, row.cursor],
        )
        .map(drop)
    }

    fn pool_delete(&mut self, region: &str, cidr: &str) -> StoreResult<()> {
        self.exec("DELETE FROM address_pool WHERE region_id = ?1 AND cidr = ?2", [region, cidr]).map(drop)
    }

    fn pool_set_cursor(&mut self, region: &str, cidr: &str, cursor: i64) -> StoreResult<()> {
        self.exec(
            "UPDATE address_pool SET cursor = ?3 WHERE region_id = ?1 AND cidr = ?2",
            params![region, cidr, cursor],
        )
        .map(drop)
    }

    fn address_get(&mut self, ip: &str) -> StoreResult<Option<AddressRow>> {
        self.one(
            "SELECT ip, region_id, holder_kind, holder_id, last_account_id, released_at FROM public_address WHERE ip = ?1",
            [ip],
            address_from_row,
        )
    }

    fn address_put(&mut self, row: &AddressRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO public_address (ip, region_id, holder_kind, holder_id, last_account_id, released_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (ip) DO UPDATE SET region_id = excluded.region_id, \
             holder_kind = excluded.holder_kind, holder_id = excluded.holder_id, \
             last_account_id = excluded.last_account_id, released_at = excluded.released_at",
            params![row.ip, row.region_id, row.holder_kind, row.holder_id, row.last_account_id, row.released_at],
        )
        .map(drop)
    }

    fn address_set_last_eip(&mut self, ip: &str, eip_id: &str) -> StoreResult<()> {
        self.exec("UPDATE public_address SET last_eip_id = ?2 WHERE ip = ?1", [ip, eip_id]).map(drop)
    }

    fn address_of_last_eip(&mut self, eip_id: &str) -> StoreResult<Option<String>> {
        self.one("SELECT ip FROM public_address WHERE last_eip_id = ?1", [eip_id], |r| r.get(0))
    }

    fn address_oldest_free(&mut self, region: &str) -> StoreResult<Option<AddressRow>> {
        self.one(
            "SELECT ip, region_id, holder_kind, holder_id, last_account_id, released_at FROM public_address \
             WHERE region_id = ?1 AND holder_id IS NULL ORDER BY released_at, ip LIMIT 1",
            [region],
            address_from_row,
        )
    }

    fn vpc_insert(&mut self, r: &VpcRow) -> StoreResult<()> {
        self.exec(
            concat!("INSERT INTO vpc (", vpc_cols!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            params![
                r.id,
                r.account_id,
                r.region_id,
                r.cidr,
                r.name,
                r.description,
                b(r.is_default),
                r.vrouter_id,
                r.route_table_id,
                r.created_at
            ],
        )
        .map(drop)
    }

    fn vpc_get(&mut self, account: &str, id: &str) -> StoreResult<Option<VpcRow>> {
        self.one(
            concat!("SELECT ", vpc_cols!(), " FROM vpc WHERE id = ?1 AND account_id = ?2"),
            [id, account],
            vpc_from_row,
        )
    }

    fn vpc_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<VpcRow>> {
        self.list(
            concat!(
                "SELECT ",
                vpc_cols!(),
                " FROM vpc WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            [account, region],
            vpc_from_row,
        )
    }

    fn vpc_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", [id])?;
        self.exec("DELETE FROM vpc_secondary_cidr WHERE vpc_id = ?1", [id])?;
        self.exec("DELETE FROM vpc WHERE id = ?1", [id]).map(drop)
    }

    fn vpc_rename(&mut self, id: &str, name: &str, description: &str) -> StoreResult<()> {
        self.exec("UPDATE vpc SET name = ?2, description = ?3 WHERE id = ?1", params![id, name, description]).map(drop)
    }

    fn vswitch_rename(&mut self, id: &str, name: &str, description: &str) -> StoreResult<()> {
        self.exec("UPDATE vswitch SET name = ?2, description = ?3 WHERE id = ?1", params![id, name, description])
            .map(drop)
    }

    fn vswitch_insert(&mut self, r: &VSwitchRow) -> StoreResult<()> {
        self.exec(
            concat!("INSERT INTO vswitch (", vsw_cols!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
            params![r.id, r.account_id, r.region_id, r.vpc_id, r.zone_id, r.cidr, r.name, r.description, r.created_at],
        )
        .map(drop)
    }

    fn vswitch_get(&mut self, account: &str, id: &str) -> StoreResult<Option<VSwitchRow>> {
        self.one(
            concat!("SELECT ", vsw_cols!(), " FROM vswitch WHERE id = ?1 AND account_id = ?2"),
            [id, account],
            vsw_from_row,
        )
    }

    fn vswitch_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<VSwitchRow>> {
        self.list(
            concat!(
                "SELECT ",
                vsw_cols!(),
                " FROM vswitch WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            [account, region],
            vsw_from_row,
        )
    }

    fn vswitch_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", [id])?;
        self.exec("DELETE FROM vswitch WHERE id = ?1", [id]).map(drop)
    }

    fn sg_insert(&mut self, r: &SecurityGroupRow) -> StoreResult<()> {
        self.exec(
            concat!("INSERT INTO security_group (", sg_cols!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
            params![r.id, r.account_id, r.region_id, r.vpc_id, r.name, r.description, r.created_at],
        )
        .map(drop)
    }

    fn sg_get(&mut self, account: &str, id: &str) -> StoreResult<Option<SecurityGroupRow>> {
        self.one(
            concat!("SELECT ", sg_cols!(), " FROM security_group WHERE id = ?1 AND account_id = ?2"),
            [id, account],
            sg_from_row,
        )
    }

    fn sg_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM security_group WHERE id = ?1", [id]).map(drop)
    }

    fn sg_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<SecurityGroupRow>> {
        self.list(
            concat!(
                "SELECT ",
                sg_cols!(),
                " FROM security_group WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            [account, region],
            sg_from_row,
        )
    }

    fn instance_insert(&mut self, r: &InstanceRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO instance (",
                instance_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
                 ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"
            ),
            params![
                r.id,
                r.account_id,
                r.region_id,
                r.zone_id,
                r.network_type.as_str(),
                r.vpc_id,
                r.vswitch_id,
                r.security_group_id,
                r.instance_type,
                r.image_id,
                r.name,
                r.hostname,
                r.description,
                r.status.as_str(),
                b(r.want_running),
                r.internet_charge_type.as_str(),
                r.internet_max_bandwidth_out,
                r.public_ip,
                r.charge_type.as_str(),
                r.cpu,
                r.memory_mb,
                r.created_at,
                r.started_at
            ],
        )
        .map(drop)
    }

    fn instance_get(&mut self, id: &str) -> StoreResult<Option<InstanceRow>> {
        self.one(concat!("SELECT ", instance_cols!(), " FROM instance WHERE id = ?1"), [id], instance_from_row)
    }

    fn instance_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<InstanceRow>> {
        self.list(
            concat!(
                "SELECT ",
                instance_cols!(),
                " FROM instance WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            [account, region],
            instance_from_row,
        )
    }

    fn instance_update(&mut self, r: &InstanceRow) -> StoreResult<()> {
        self.exec(
            "UPDATE instance SET name = ?2, hostname = ?3, description = ?4, status = ?5, want_running = ?6, \
             internet_charge_type = ?7, internet_max_bandwidth_out = ?8, public_ip = ?9, started_at = ?10 WHERE id = ?1",
            params![
                r.id,
                r.name,
                r.hostname,
                r.description,
                r.status.as_str(),
                b(r.want_running),
                r.internet_charge_type.as_str(),
                r.internet_max_bandwidth_out,
                r.public_ip,
                r.started_at
            ],
        )
        .map(drop)
    }

    fn instance_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM instance_user_data WHERE instance_id = ?1", [id])?;
        self.exec("DELETE FROM instance WHERE id = ?1", [id]).map(drop)
    }

    fn vpc_cidr_list(&mut self, vpc: &str) -> StoreResult<Vec<String>> {
        self.list("SELECT cidr FROM vpc_secondary_cidr WHERE vpc_id = ?1 ORDER BY created_at, cidr", [vpc], |r| {
            r.get(0)
        })
    }

    fn vpc_cidr_add(&mut self, vpc: &str, cidr: &str, at: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO vpc_secondary_cidr (vpc_id, cidr, created_at) VALUES (?1, ?2, ?3)",
            params![vpc, cidr, at],
        )
        .map(drop)
    }

    fn vpc_cidr_remove(&mut self, vpc: &str, cidr: &str) -> StoreResult<bool> {
        self.exec("DELETE FROM vpc_secondary_cidr WHERE vpc_id = ?1 AND cidr = ?2", params![vpc, cidr]).map(|n| n > 0)
    }

    fn user_data_put(&mut self, id: &str, data: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO instance_user_data (instance_id, user_data) VALUES (?1, ?2) \
             ON CONFLICT (instance_id) DO UPDATE SET user_data = excluded.user_data",
            params![id, data],
        )
        .map(drop)
    }

    fn user_data_get(&mut self, id: &str) -> StoreResult<Option<String>> {
        Ok(self.list("SELECT user_data FROM instance_user_data WHERE instance_id = ?1", [id], |r| r.get(0))?.pop())
    }

    fn instance_count_using(&mut self, id: &str) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM instance WHERE vswitch_id = ?1 OR security_group_id = ?1", [id])
    }

    fn eni_insert(&mut self, r: &EniRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO eni (",
                eni_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ),
            params![
                r.id,
                r.account_id,
                r.region_id,
                r.zone_id,
                r.vpc_id,
                r.vswitch_id,
                r.instance_id,
                r.kind.as_str(),
                r.mac,
                r.status.as_str(),
                r.name,
                r.security_group_id,
                r.created_at,
                r.description
            ],
        )
        .map(drop)
    }

    fn eni_list_by_instance(&mut self, instance: &str) -> StoreResult<Vec<EniRow>> {
        self.list(
            concat!("SELECT ", eni_cols!(), " FROM eni WHERE instance_id = ?1 ORDER BY kind, created_at, id"),
            [instance],
            eni_from_row,
        )
    }

    fn eni_count_in_vswitch(&mut self, vswitch: &str) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM eni WHERE vswitch_id = ?1", [vswitch])
    }

    fn eni_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM private_ip WHERE holder_id = ?1", [id])?;
        self.exec("DELETE FROM eni WHERE id = ?1", [id]).map(drop)
    }

    fn private_ip_list_vswitch(&mut self, vswitch: &str) -> StoreResult<Vec<PrivateIpRow>> {
        self.list(
            "SELECT vswitch_id, ip, holder_id, is_primary FROM private_ip WHERE vswitch_id = ?1",
            [vswitch],
            pip_from_row,
        )
    }

    fn private_ip_list_eni(&mut self, eni: &str) -> StoreResult<Vec<PrivateIpRow>> {
        self.list(
            "SELECT vswitch_id, ip, holder_id, is_primary FROM private_ip WHERE holder_id = ?1 ORDER BY is_primary DESC, ip",
            [eni],
            pip_from_row,
        )
    }

    fn private_ip_insert(&mut self, r: &PrivateIpRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO private_ip (vswitch_id, ip, holder_id, is_primary) VALUES (?1, ?2, ?3, ?4)",
            params![r.vswitch_id, r.ip, r.holder_id, b(r.is_primary)],
        )
        .map(drop)
    }

    fn private_ip_delete(&mut self, vswitch: &str, ip: &str) -> StoreResult<()> {
        self.exec("DELETE FROM private_ip WHERE vswitch_id = ?1 AND ip = ?2", [vswitch, ip]).map(drop)
    }

    fn private_ip_delete_holder(&mut self, holder: &str) -> StoreResult<()> {
        self.exec("DELETE FROM private_ip WHERE holder_id = ?1", [holder]).map(drop)
    }

    fn eni_get(&mut self, id: &str) -> StoreResult<Option<EniRow>> {
        self.one(concat!("SELECT ", eni_cols!(), " FROM eni WHERE id = ?1"), [id], eni_from_row)
    }

    fn eip_list_associated(&mut self) -> StoreResult<Vec<EipRow>> {
        self.list(
            concat!(
                "SELECT ",
                eip_cols!(),
                " FROM eip WHERE instance_id IS NOT NULL ORDER BY region_id, allocated_at, id"
            ),
            [],
            eip_from_row,
        )
    }

    fn instance_list_all(&mut self) -> StoreResult<Vec<InstanceRow>> {
        self.list(concat!("SELECT ", instance_cols!(), " FROM instance"), [], instance_from_row)
    }

    fn eni_list_all(&mut self) -> StoreResult<Vec<EniRow>> {
        self.list(concat!("SELECT ", eni_cols!(), " FROM eni"), [], eni_from_row)
    }

    fn private_ip_list_all(&mut self) -> StoreResult<Vec<PrivateIpRow>> {
        self.list("SELECT vswitch_id, ip, holder_id, is_primary FROM private_ip", [], pip_from_row)
    }

    fn eni_mac_taken(&mut self, mac: &str) -> StoreResult<bool> {
        self.count("SELECT COUNT(*) FROM eni WHERE mac = ?1", [mac]).map(|n| n > 0)
    }

    fn eni_update(&mut self, r: &EniRow) -> StoreResult<()> {
        self.exec(
            "UPDATE eni SET instance_id = ?2, status = ?3, name = ?4, description = ?5, security_group_id = ?6 \
             WHERE id = ?1",
            params![r.id, r.instance_id, r.status.as_str(), r.name, r.description, r.security_group_id],
        )
        .map(drop)
    }

    fn eni_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<EniRow>> {
        self.list(
            concat!(
                "SELECT ",
                eni_cols!(),
                " FROM eni WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, kind, id"
            ),
            [account, region],
            eni_from_row,
        )
    }

    fn eip_insert(&mut self, r: &EipRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO eip (",
                eip_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, \
                 ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"
            ),
            params![
                r.id,
                r.account_id,
                r.region_id,
                r.ip,
                r.status.as_str(),
                r.name,
                r.description,
                r.bandwidth,
                r.charge_type.as_str(),
                r.internet_charge_type.as_str(),
                r.isp,
                r.netmode,
                r.resource_group_id,
                r.allocated_at,
                r.expired_at,
                b(r.deletion_protection),
                r.instance_type.map(|t| t.as_str()),
                r.instance_id,
                r.private_ip,
                r.mode.map(|m| m.as_str()),
                r.instance_region_id,
                r.version,
                r.private_vswitch_id
            ],
        )?;
        if !r.tags.is_empty() {
            self.write_tags(r)?;
        }
        Ok(())
    }

    fn eip_get(&mut self, id: &str) -> StoreResult<Option<EipRow>> {
        let row = self.one(concat!("SELECT ", eip_cols!(), " FROM eip WHERE id = ?1"), [id], eip_from_row)?;
        match row {
            Some(r) => {
                let mut v = [r];
                self.load_tags(&mut v)?;
                let [r] = v;
                Ok(Some(r))
            }
            None => Ok(None),
        }
    }

    fn eip_update(&mut self, r: &EipRow) -> StoreResult<()> {
        self.exec(
            "UPDATE eip SET status = ?2, name = ?3, description = ?4, bandwidth = ?5, internet_charge_type = ?6, \
             expired_at = ?7, deletion_protection = ?8, instance_type = ?9, instance_id = ?10, private_ip = ?11, \
             mode = ?12, instance_region_id = ?13, version = ?14, private_vswitch_id = ?15 WHERE id = ?1",
            params![
                r.id,
                r.status.as_str(),
                r.name,
                r.description,
                r.bandwidth,
                r.internet_charge_type.as_str(),
                r.expired_at,
                b(r.deletion_protection),
                r.instance_type.map(|t| t.as_str()),
                r.instance_id,
                r.private_ip,
                r.mode.map(|m| m.as_str()),
                r.instance_region_id,
                r.version,
                r.private_vswitch_id
            ],
        )?;
        Ok(())
    }

    fn eip_tags_set(&mut self, id: &str, tags: &[(String, String)]) -> StoreResult<()> {
        self.exec("DELETE FROM eip_tag WHERE eip_id = ?1", [id])?;
        for (k, v) in tags {
            self.exec("INSERT INTO eip_tag (eip_id, key, value) VALUES (?1, ?2, ?3)", params![id, k, v])?;
        }
        Ok(())
    }

    fn eip_set_resource_group(&mut self, id: &str, group: &str) -> StoreResult<()> {
        self.exec("UPDATE eip SET resource_group_id = ?2 WHERE id = ?1", params![id, group]).map(drop)
    }

    fn tag_list(&mut self, account: &str, resource_type: &str) -> StoreResult<Vec<TagRow>> {
        self.list(
            "SELECT account_id, resource_type, resource_id, key, value FROM resource_tag \
             WHERE account_id = ?1 AND resource_type = ?2 ORDER BY resource_id, key",
            params![account, resource_type],
            |r| {
                Ok(TagRow {
                    account_id: r.get(0)?,
                    resource_type: r.get(1)?,
                    resource_id: r.get(2)?,
                    key: r.get(3)?,
                    value: r.get(4)?,
                })
            },
        )
    }

    fn tag_put(&mut self, t: &TagRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO resource_tag (account_id, resource_type, resource_id, key, value) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (resource_type, resource_id, key) DO UPDATE SET value = excluded.value",
            params![t.account_id, t.resource_type, t.resource_id, t.key, t.value],
        )
        .map(drop)
    }

    fn tag_delete(&mut self, resource_type: &str, resource_id: &str, key: &str) -> StoreResult<bool> {
        self.exec(
            "DELETE FROM resource_tag WHERE resource_type = ?1 AND resource_id = ?2 AND key = ?3",
            params![resource_type, resource_id, key],
        )
        .map(|n| n > 0)
    }

    fn eip_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM eip_tag WHERE eip_id = ?1", [id])?;
        self.exec("DELETE FROM eip WHERE id = ?1", [id]).map(drop)
    }

    fn eip_list_by_target(&mut self, target: &str) -> StoreResult<Vec<EipRow>> {
        let mut rows = self.list(
            concat!("SELECT ", eip_cols!(), " FROM eip WHERE instance_id = ?1 ORDER BY allocated_at, id"),
            [target],
            eip_from_row,
        )?;
        self.load_tags(&mut rows)?;
        Ok(rows)
    }

    fn eip_list_by_private_ip(&mut self, vswitch: &str, ip: &str) -> StoreResult<Vec<EipRow>> {
        let mut rows = self.list(
            concat!(
                "SELECT ",
                eip_cols!(),
                " FROM eip WHERE private_vswitch_id = ?1 AND private_ip = ?2 ORDER BY allocated_at, id"
            ),
            [vswitch, ip],
            eip_from_row,
        )?;
        self.load_tags(&mut rows)?;
        Ok(rows)
    }

    fn eip_query(&mut self, q: &EipQuery) -> StoreResult<(i64, Vec<EipRow>)> {
        use rusqlite::types::Value;
        let mut wh = String::from("account_id = ? AND region_id = ?");
        let mut args: Vec<Value> = vec![q.account_id.clone().into(), q.region_id.clone().into()];
        let in_list = |col: &str, vals: &[String], wh: &mut String, args: &mut Vec<Value>| {
            if vals.is_empty() {
                return;
            }
            wh.push_str(&format!(" AND {col} IN ({})", vec!["?"; vals.len()].join(", ")));
            args.extend(vals.iter().cloned().map(Value::from));
        };
        in_list("id", &q.ids, &mut wh, &mut args);
        in_list("ip", &q.ips, &mut wh, &mut args);
        let mut eq = |col: &str, v: Option<String>| {
            if let Some(v) = v {
                wh.push_str(&format!(" AND {col} = ?"));
                args.push(v.into());
            }
        };
        eq("status", q.status.map(|s| s.as_str().to_owned()));
        eq("instance_type", q.instance_type.map(|s| s.as_str().to_owned()));
        eq("instance_id", q.instance_id.clone());
        eq("charge_type", q.charge_type.map(|s| s.as_str().to_owned()));
        eq("isp", q.isp.clone());
        eq("name", q.name.clone());
        eq("resource_group_id", q.resource_group_id.clone());
        if let Some(t) = q.created_from {
            wh.push_str(" AND allocated_at >= ?");
            args.push(t.into());
        }
        if let Some(t) = q.created_to {
            wh.push_str(" AND allocated_at <= ?");
            args.push(t.into());
        }
        // A tag filter without a value matches the key with any value.
        for (k, v) in &q.tags {
            if v.is_empty() {
                wh.push_str(" AND EXISTS (SELECT 1 FROM eip_tag t WHERE t.eip_id = eip.id AND t.key = ?)");
                args.push(k.clone().into());
            } else {
                wh.push_str(
                    " AND EXISTS (SELECT 1 FROM eip_tag t WHERE t.eip_id = eip.id AND t.key = ? AND t.value = ?)",
                );
                args.push(k.clone().into());
                args.push(v.clone().into());
            }
        }
        let filter_args = args.len();
        let sql = format!("SELECT {EIP_COLS} FROM eip WHERE {wh} ORDER BY allocated_at DESC, id DESC LIMIT ? OFFSET ?");
        args.push(q.limit.into());
        args.push(q.offset.into());
        let mut rows = self.list(&sql, rusqlite::params_from_iter(args.iter()), eip_from_row)?;
        // A page that is not full is the last one: the total follows from it
        // (the common lookup by id or address), so only a full or empty page
        // past the start needs the count.
        let total = match derived_total(q.offset, q.limit, rows.len()) {
            Some(t) => t,
            None => self.count(
                &format!("SELECT COUNT(*) FROM eip WHERE {wh}"),
                rusqlite::params_from_iter(args[..filter_args].iter()),
            )?,
        };
        self.load_tags(&mut rows)?;
        Ok((total, rows))
    }

    fn eip_count(&mut self, account: &str, region: &str) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM eip WHERE account_id = ?1 AND region_id = ?2", [account, region])
    }

    fn nat_insert(&mut self, r: &NatGatewayRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO nat_gateway (",
                nat_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
                 ?14, ?15, ?16, ?17)"
            ),
            params![
                r.id,
                r.account_id,
                r.region_id,
                r.vpc_id,
                r.vswitch_id,
                r.zone_id,
                r.name,
                r.description,
                r.status.as_str(),
                r.network_type.as_str(),
                r.eip_bind_mode.as_str(),
                r.snat_table_id,
                r.forward_table_id,
                r.full_nat_table_id,
                r.eni_id,
                r.private_ip,
                r.created_at
            ],
        )
        .map(drop)
    }

    fn nat_get(&mut self, id: &str) -> StoreResult<Option<NatGatewayRow>> {
        self.one(concat!("SELECT ", nat_cols!(), " FROM nat_gateway WHERE id = ?1"), [id], nat_from_row)
    }

    fn nat_get_by_table(&mut self, table: &str) -> StoreResult<Option<NatGatewayRow>> {
        self.one(
            concat!("SELECT ", nat_cols!(), " FROM nat_gateway WHERE snat_table_id = ?1 OR forward_table_id = ?1"),
            [table],
            nat_from_row,
        )
    }

    fn nat_update(&mut self, r: &NatGatewayRow) -> StoreResult<()> {
        self.exec(
            "UPDATE nat_gateway SET name = ?2, description = ?3, status = ?4, created_at = ?5 WHERE id = ?1",
            params![r.id, r.name, r.description, r.status.as_str(), r.created_at],
        )
        .map(drop)
    }

    fn nat_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", [id])?;
        self.exec("DELETE FROM nat_gateway WHERE id = ?1", [id]).map(drop)
    }

    fn nat_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<NatGatewayRow>> {
        self.list(
            concat!(
                "SELECT ",
                nat_cols!(),
                " FROM nat_gateway WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            [account, region],
            nat_from_row,
        )
    }

    fn snat_insert(&mut self, r: &SnatEntryRow) -> StoreResult<()> {
        self.exec(
            concat!("INSERT INTO snat_entry (", snat_cols!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
            params![
                r.id,
                r.account_id,
                r.nat_gateway_id,
                r.snat_table_id,
                r.snat_ips,
                r.source_vswitch_id,
                r.source_cidr,
                r.name,
                r.created_at
            ],
        )
        .map(drop)
    }

    fn snat_get(&mut self, id: &str) -> StoreResult<Option<SnatEntryRow>> {
        self.one(concat!("SELECT ", snat_cols!(), " FROM snat_entry WHERE id = ?1"), [id], snat_from_row)
    }

    fn snat_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM snat_entry WHERE id = ?1", [id]).map(drop)
    }

    fn snat_list(&mut self, nat: &str) -> StoreResult<Vec<SnatEntryRow>> {
        self.list(
            concat!("SELECT ", snat_cols!(), " FROM snat_entry WHERE nat_gateway_id = ?1 ORDER BY created_at, id"),
            [nat],
            snat_from_row,
        )
    }

    fn forward_insert(&mut self, r: &ForwardEntryRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO forward_entry (",
                fwd_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            params![
                r.id,
                r.account_id,
                r.nat_gateway_id,
                r.forward_table_id,
                r.external_ip,
                r.external_port,
                r.internal_ip,
                r.internal_port,
                r.ip_protocol.as_str(),
                r.name,
                r.created_at
            ],
        )
        .map(drop)
    }

    fn forward_get(&mut self, id: &str) -> StoreResult<Option<ForwardEntryRow>> {
        self.one(concat!("SELECT ", fwd_cols!(), " FROM forward_entry WHERE id = ?1"), [id], fwd_from_row)
    }

    fn forward_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM forward_entry WHERE id = ?1", [id]).map(drop)
    }

    fn forward_list(&mut self, nat: &str) -> StoreResult<Vec<ForwardEntryRow>> {
        self.list(
            concat!("SELECT ", fwd_cols!(), " FROM forward_entry WHERE nat_gateway_id = ?1 ORDER BY created_at, id"),
            [nat],
            fwd_from_row,
        )
    }

    fn havip_insert(&mut self, r: &HaVipRow) -> StoreResult<()> {
        self.exec(
            concat!("INSERT INTO havip (", havip_cols!(), ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            params![
                r.id,
                r.account_id,
                r.region_id,
                r.vpc_id,
                r.vswitch_id,
                r.ip,
                r.status.as_str(),
                r.name,
                r.description,
                r.created_at
            ],
        )
        .map(drop)
    }

    fn havip_get(&mut self, id: &str) -> StoreResult<Option<HaVipRow>> {
        self.one(concat!("SELECT ", havip_cols!(), " FROM havip WHERE id = ?1"), [id], havip_from_row)
    }

    fn havip_update(&mut self, r: &HaVipRow) -> StoreResult<()> {
        self.exec(
            "UPDATE havip SET status = ?2, name = ?3, description = ?4 WHERE id = ?1",
            params![r.id, r.status.as_str(), r.name, r.description],
        )
        .map(drop)
    }

    fn havip_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", [id])?;
        self.exec("DELETE FROM havip_member WHERE havip_id = ?1", [id])?;
        self.exec("DELETE FROM havip WHERE id = ?1", [id]).map(drop)
    }

    fn havip_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<HaVipRow>> {
        self.list(
            concat!(
                "SELECT ",
                havip_cols!(),
                " FROM havip WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            [account, region],
            havip_from_row,
        )
    }

    fn havip_count(&mut self, account: &str) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM havip WHERE account_id = ?1", [account])
    }

    fn havip_member_insert(&mut self, r: &HaVipMemberRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO havip_member (havip_id, instance_id, instance_type, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![r.havip_id, r.instance_id, r.instance_type.as_str(), r.created_at],
        )
        .map(drop)
    }

    fn havip_member_delete(&mut self, havip: &str, instance: &str) -> StoreResult<()> {
        self.exec("DELETE FROM havip_member WHERE havip_id = ?1 AND instance_id = ?2", [havip, instance]).map(drop)
    }

    fn havip_member_list(&mut self, havip: &str) -> StoreResult<Vec<HaVipMemberRow>> {
        self.list(
            "SELECT havip_id, instance_id, instance_type, created_at FROM havip_member WHERE havip_id = ?1 \
             ORDER BY created_at, instance_id",
            [havip],
            member_from_row,
        )
    }

    fn havip_member_list_by_instance(&mut self, instance: &str) -> StoreResult<Vec<HaVipMemberRow>> {
        self.list(
            "SELECT havip_id, instance_id, instance_type, created_at FROM havip_member WHERE instance_id = ?1 \
             ORDER BY created_at, havip_id",
            [instance],
            member_from_row,
        )
    }

    fn quota_get(&mut self, account: &str, name: &str) -> StoreResult<Option<i64>> {
        self.one("SELECT value FROM quota WHERE account_id = ?1 AND name = ?2", [account, name], |r| r.get(0))
    }

    fn quota_set(&mut self, account: &str, name: &str, value: i64) -> StoreResult<()> {
        self.exec("DELETE FROM quota WHERE account_id = ?1 AND name = ?2", [account, name])?;
        self.exec("INSERT INTO quota (account_id, name, value) VALUES (?1, ?2, ?3)", params![account, name, value])
            .map(drop)
    }

    fn lb_insert(&mut self, r: &LoadBalancerRow) -> StoreResult<()> {
        self.exec(
            concat!(
                "INSERT INTO load_balancer (",
                lb_cols!(),
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
            ),
            params![
                r.id,
                r.account_id,
                r.region_id,
                r.kind.as_str(),
                r.address_type.as_str(),
                r.vpc_id,
                r.vswitch_id,
                r.address,
                r.name,
                r.spec,
                r.status,
                r.created_at,
                r.delete_protection,
                r.master_zone_id
            ],
        )
        .map(drop)
    }

    fn lb_get(&mut self, id: &str) -> StoreResult<Option<LoadBalancerRow>> {
        self.one(concat!("SELECT ", lb_cols!(), " FROM load_balancer WHERE id = ?1"), [id], lb_from_row)
    }

    fn lb_update(&mut self, r: &LoadBalancerRow) -> StoreResult<()> {
        self.exec(
            "UPDATE load_balancer SET address_type = ?2, address = ?3, name = ?4, status = ?5, \
             delete_protection = ?6 WHERE id = ?1",
            params![r.id, r.address_type.as_str(), r.address, r.name, r.status, r.delete_protection],
        )
        .map(drop)
    }

    fn lb_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", [id])?;
        self.exec("DELETE FROM lb_zone WHERE lb_id = ?1", [id])?;
        self.exec("DELETE FROM clb_listener WHERE lb_id = ?1", [id])?;
        self.exec("DELETE FROM clb_backend WHERE lb_id = ?1", [id])?;
        self.exec("DELETE FROM load_balancer WHERE id = ?1", [id]).map(drop)
    }

    fn lb_list(&mut self, account: &str, region: &str, kind: &str) -> StoreResult<Vec<LoadBalancerRow>> {
        self.list(
            concat!(
                "SELECT ",
                lb_cols!(),
                " FROM load_balancer WHERE account_id = ?1 AND region_id = ?2 AND kind = ?3 \
                 ORDER BY created_at, id"
            ),
            [account, region, kind],
            lb_from_row,
        )
    }

    fn lb_list_all_regions(&mut self, account: &str, kind: &str) -> StoreResult<Vec<LoadBalancerRow>> {
        self.list(
            concat!(
                "SELECT ",
                lb_cols!(),
                " FROM load_balancer WHERE account_id = ?1 AND kind = ?2 ORDER BY created_at, id"
            ),
            [account, kind],
            lb_from_row,
        )
    }

    fn lb_zone_insert(&mut self, r: &LbZoneRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO lb_zone (lb_id, zone_id, vswitch_id, private_ip, allocation_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![r.lb_id, r.zone_id, r.vswitch_id, r.private_ip, r.allocation_id],
        )
        .map(drop)
    }

    fn lb_zone_update(&mut self, r: &LbZoneRow) -> StoreResult<()> {
        self.exec(
            "UPDATE lb_zone SET allocation_id = ?3 WHERE lb_id = ?1 AND zone_id = ?2",
            params![r.lb_id, r.zone_id, r.allocation_id],
        )
        .map(drop)
    }

    fn lb_zone_list(&mut self, lb: &str) -> StoreResult<Vec<LbZoneRow>> {
        self.list(
            "SELECT lb_id, zone_id, vswitch_id, private_ip, allocation_id FROM lb_zone WHERE lb_id = ?1 ORDER BY zone_id",
            [lb],
            |r| {
                Ok(LbZoneRow {
                    lb_id: r.get(0)?,
                    zone_id: r.get(1)?,
                    vswitch_id: r.get(2)?,
                    private_ip: r.get(3)?,
                    allocation_id: r.get(4)?,
                })
            },
        )
    }

    fn clb_listener_put(&mut self, r: &ClbListenerRow) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO clb_listener (lb_id, port, backend_port, bandwidth, status, health_check, \
             health_check_connect_port, healthy_threshold, unhealthy_threshold, health_check_connect_timeout, \
             health_check_interval) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                r.lb_id,
                r.port,
                r.backend_port,
                r.bandwidth,
                r.status,
                if r.health_check { "on" } else { "off" },
                r.health_check_connect_port,
                r.healthy_threshold,
                r.unhealthy_threshold,
                r.health_check_connect_timeout,
                r.health_check_interval
            ],
        )
        .map(drop)
    }

    fn clb_listener_list(&mut self, lb: &str) -> StoreResult<Vec<ClbListenerRow>> {
        self.list(
            "SELECT lb_id, port, backend_port, bandwidth, status, health_check, health_check_connect_port, \
             healthy_threshold, unhealthy_threshold, health_check_connect_timeout, health_check_interval \
             FROM clb_listener WHERE lb_id = ?1 ORDER BY port",
            [lb],
            |r| {
                Ok(ClbListenerRow {
                    lb_id: r.get(0)?,
                    port: r.get(1)?,
                    backend_port: r.get(2)?,
                    bandwidth: r.get(3)?,
                    status: r.get(4)?,
                    health_check: r.get::<_, String>(5)? == "on",
                    health_check_connect_port: r.get(6)?,
                    healthy_threshold: r.get(7)?,
                    unhealthy_threshold: r.get(8)?,
                    health_check_connect_timeout: r.get(9)?,
                    health_check_interval: r.get(10)?,
                })
            },
        )
    }

    fn clb_backend_put(&mut self, r: &ClbBackendRow) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO clb_backend (lb_id, server_id, weight) VALUES (?1, ?2, ?3)",
            params![r.lb_id, r.server_id, r.weight],
        )
        .map(drop)
    }

    fn clb_backend_list(&mut self, lb: &str) -> StoreResult<Vec<ClbBackendRow>> {
        self.list("SELECT lb_id, server_id, weight FROM clb_backend WHERE lb_id = ?1 ORDER BY server_id", [lb], |r| {
            Ok(ClbBackendRow { lb_id: r.get(0)?, server_id: r.get(1)?, weight: r.get(2)? })
        })
    }

    fn traffic_put(&mut self, r: &TrafficRow) -> StoreResult<()> {
        self.exec(
            "INSERT OR REPLACE INTO eip_traffic \
             (eip_id, minute_ms, at_ms, rx_bytes, tx_bytes, rx_packets, tx_packets) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                r.eip_id,
                r.at_ms - r.at_ms.rem_euclid(60_000),
                r.at_ms,
                r.rx_bytes,
                r.tx_bytes,
                r.rx_packets,
                r.tx_packets
            ],
        )
        .map(drop)
    }

    fn traffic_since(&mut self, since_ms: i64) -> StoreResult<Vec<TrafficRow>> {
        self.list(
            "SELECT eip_id, at_ms, rx_bytes, tx_bytes, rx_packets, tx_packets FROM eip_traffic \
             WHERE at_ms >= ?1 ORDER BY at_ms, eip_id",
            [since_ms],
            |r| {
                Ok(TrafficRow {
                    eip_id: r.get(0)?,
                    at_ms: r.get(1)?,
                    rx_bytes: r.get(2)?,
                    tx_bytes: r.get(3)?,
                    rx_packets: r.get(4)?,
                    tx_packets: r.get(5)?,
                })
            },
        )
    }

    fn traffic_expire(&mut self, before_ms: i64) -> StoreResult<usize> {
        self.exec("DELETE FROM eip_traffic WHERE at_ms < ?1", [before_ms])
    }

    fn clb_listener_delete(&mut self, lb: &str, port: i64) -> StoreResult<bool> {
        self.exec("DELETE FROM clb_listener WHERE lb_id = ?1 AND port = ?2", params![lb, port]).map(|n| n > 0)
    }

    fn clb_backend_delete(&mut self, lb: &str, server_id: &str) -> StoreResult<bool> {
        self.exec("DELETE FROM clb_backend WHERE lb_id = ?1 AND server_id = ?2", params![lb, server_id]).map(|n| n > 0)
    }

    fn task_insert(&mut self, r: &TaskRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO task (id, kind, resource_id, due_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![r.id, r.kind, r.resource_id, r.due_at, r.created_at],
        )
        .map(drop)
    }

    fn task_due(&mut self, now: i64, limit: i64) -> StoreResult<Vec<TaskRow>> {
        self.list(
            "SELECT id, kind, resource_id, due_at, created_at FROM task WHERE due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
            params![now, limit],
            task_from_row,
        )
    }

    fn task_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM task WHERE id = ?1", [id]).map(drop)
    }

    fn task_next_due(&mut self) -> StoreResult<Option<i64>> {
        self.one("SELECT MIN(due_at) FROM task", [], |r| r.get::<_, Option<i64>>(0)).map(Option::flatten)
    }

    fn task_count(&mut self) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM task", [])
    }

    fn token_get(&mut self, account: &str, action: &str, token: &str) -> StoreResult<Option<TokenRow>> {
        self.one(
            "SELECT account_id, action, token, params_hash, response, created_at FROM client_token \
             WHERE account_id = ?1 AND action = ?2 AND token = ?3",
            [account, action, token],
            |r| {
                Ok(TokenRow {
                    account_id: r.get(0)?,
                    action: r.get(1)?,
                    token: r.get(2)?,
                    params_hash: r.get(3)?,
                    response: r.get(4)?,
                    created_at: r.get(5)?,
                })
            },
        )
    }

    fn token_insert(&mut self, r: &TokenRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO client_token (account_id, action, token, params_hash, response, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![r.account_id, r.action, r.token, r.params_hash, r.response, r.created_at],
        )
        .map(drop)
    }

    fn token_expire(&mut self, before: i64) -> StoreResult<i64> {
        self.exec("DELETE FROM client_token WHERE created_at < ?1", [before]).map(|n| n as i64)
    }

    fn nonce_claim(&mut self, key: &str, expires_at: i64, now: i64) -> StoreResult<bool> {
        // Inserts, or takes over an expired row; a live row is left alone.
        let n = self.exec(
            "INSERT INTO request_nonce (key, expires_at) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE request_nonce.expires_at <= ?3",
            params![key, expires_at, now],
        )?;
        Ok(n > 0)
    }

    fn nonce_live(&mut self, now: i64) -> StoreResult<Vec<(String, i64)>> {
        self.list("SELECT key, expires_at FROM request_nonce WHERE expires_at > ?1", [now], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    fn nonce_expire(&mut self, now: i64) -> StoreResult<i64> {
        self.exec("DELETE FROM request_nonce WHERE expires_at <= ?1", [now]).map(|n| n as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_that_is_not_full_gives_the_total_and_anything_else_needs_the_count() {
        // First page, short: the rows are all there is.
        assert_eq!(derived_total(0, 10, 3), Some(3));
        assert_eq!(derived_total(0, 10, 0), Some(0));
        // Later page, short but not empty: offset plus what came back.
        assert_eq!(derived_total(20, 10, 4), Some(24));
        // A full page may have more after it; an empty page past the start
        // may be far beyond the end.
        assert_eq!(derived_total(0, 10, 10), None);
        assert_eq!(derived_total(30, 10, 0), None);
    }

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

    fn temp_store(tag: u32) -> (SqliteStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("openeip-store-retry-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        (SqliteStore::open(&dir.join("eip.db")).unwrap(), dir)
    }

    #[test]
    fn a_write_that_meets_a_conflict_runs_again_and_only_its_last_run_counts() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicUsize;
        let (store, dir) = temp_store(line!());
        let runs = Arc::new(AtomicUsize::new(0));
        let seen = runs.clone();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let got = rt.block_on(store.write(move |tx| {
            let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
            // Every run writes; a run that is not the last must leave nothing.
            tx.setting_set(&format!("run-{n}"), "x")?;
            if n < 3 {
                return Err(eip_types::Error::StoreConflict("lost to another writer".into()));
            }
            Ok(n)
        }));
        assert_eq!(got, Ok(3));
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        assert_eq!(store.write_retries(), 2);
        let kept = store
            .read(|tx| Ok((tx.setting_get("run-1")?, tx.setting_get("run-2")?, tx.setting_get("run-3")?)))
            .unwrap();
        assert_eq!(kept, (None, None, Some("x".into())));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_conflict_that_outlasts_every_attempt_reaches_the_caller_and_a_refusal_is_not_retried() {
        use std::sync::Arc;
        use std::sync::atomic::AtomicUsize;
        let (store, dir) = temp_store(line!());
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let runs = Arc::new(AtomicUsize::new(0));
        let seen = runs.clone();
        let got: eip_types::Result<()> = rt.block_on(store.write(move |_tx| {
            seen.fetch_add(1, Ordering::SeqCst);
            Err(eip_types::Error::StoreConflict("always".into()))
        }));
        assert!(matches!(got, Err(eip_types::Error::StoreConflict(_))), "{got:?}");
        assert_eq!(runs.load(Ordering::SeqCst), MAX_ATTEMPTS as usize);
        let runs = Arc::new(AtomicUsize::new(0));
        let seen = runs.clone();
        let got: eip_types::Result<()> = rt.block_on(store.write(move |_tx| {
            seen.fetch_add(1, Ordering::SeqCst);
            Err(eip_types::Error::AssociationDuplicated)
        }));
        assert_eq!(got, Err(eip_types::Error::AssociationDuplicated));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sqlite_busy_is_a_conflict() {
        let e = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY), None);
        assert!(matches!(map_err(e), StoreError::Conflict(_)));
        let e =
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE), None);
        assert!(matches!(map_err(e), StoreError::UniqueViolation(_)));
    }
}
