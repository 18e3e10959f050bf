//! Schema migrations, applied once however many nodes start at the same time.
//!
//! Each migration runs in its own transaction that first inserts its row in
//! `schema_migration`: a second node doing the same waits on that row and
//! then finds it taken, so it skips the migration (PostgreSQL's DDL is
//! transactional, so a failed migration leaves nothing behind). No advisory
//! locks, which the PostgreSQL-compatible distributed engines lack.

use crate::driver::map_err;
use eip_store::StoreError;
use postgres::Client;

/// Migrations, in order.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/0001_init.sql")),
    (2, include_str!("../migrations/0002_dataplane_lease.sql")),
    (3, include_str!("../migrations/0003_task_claim.sql")),
    (4, include_str!("../migrations/0004_clb_backend_health.sql")),
    (5, include_str!("../migrations/0005_console_session.sql")),
    (6, include_str!("../migrations/0006_quota_application.sql")),
    (7, include_str!("../migrations/0007_account_active.sql")),
    (8, include_str!("../migrations/0008_account_balance.sql")),
];

pub(crate) fn migrate(c: &mut Client) -> Result<(), StoreError> {
    migrate_with(c, MIGRATIONS)
}

fn migrate_with(c: &mut Client, migrations: &[(i64, &str)]) -> Result<(), StoreError> {
    // Two nodes creating the table at once: one of them may see the other's
    // half-made catalog rows and fail; the second try finds the table.
    let create = "CREATE TABLE IF NOT EXISTS schema_migration (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
    if c.batch_execute(create).is_err() {
        c.batch_execute(create).map_err(|e| map_err(&e))?;
    }
    let newest: Option<i64> = c
        .query_one("SELECT MAX(version) FROM schema_migration", &[])
        .and_then(|r| r.try_get(0))
        .map_err(|e| map_err(&e))?;
    let known = migrations.last().map_or(0, |m| m.0);
    if let Some(v) = newest.filter(|v| *v > known) {
        return Err(StoreError::Other(format!(
            "the database schema is version {v}, newer than this eipd knows ({known}): run a newer eipd"
        )));
    }
    for (version, sql) in migrations {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let mut tx = c.transaction().map_err(|e| map_err(&e))?;
        let claimed = tx.execute(
            "INSERT INTO schema_migration (version, applied_at) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING",
            &[version, &now],
        );
        match claimed {
            Ok(1) => {}
            // Applied before, or by another node that just committed.
            Ok(_) => continue,
            Err(e) => return Err(map_err(&e)),
        }
        tx.batch_execute(sql).map_err(|e| StoreError::Other(format!("migration {version}: {}", map_err(&e))))?;
        tx.commit().map_err(|e| map_err(&e))?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    Ok(())
}
