//! The statements behind each row primitive.

use super::rows::*;
use super::{Driver, Param, SqlRow, SqlTx};
use crate::params;
use crate::*;

impl<D: Driver> SqlTx<D> {
    fn list<T>(&mut self, sql: &str, p: &[Param<'_>], f: fn(&dyn SqlRow) -> StoreResult<T>) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        self.driver.query(sql, p, &mut |r| {
            out.push(f(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    fn one<T>(&mut self, sql: &str, p: &[Param<'_>], f: fn(&dyn SqlRow) -> StoreResult<T>) -> StoreResult<Option<T>> {
        let mut out = None;
        self.driver.query(sql, p, &mut |r| {
            if out.is_none() {
                out = Some(f(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn exec(&mut self, sql: &str, p: &[Param<'_>]) -> StoreResult<usize> {
        self.driver.exec(sql, p).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn count(&mut self, sql: &str, p: &[Param<'_>]) -> StoreResult<i64> {
        self.one(sql, p, |r| r.get(0))?.ok_or_else(|| StoreError::Other(format!("no row from {sql}")))
    }

    /// The EIPs `inner` selects (the EIP columns, in [`EIP_COLS`] order),
    /// each with its tags, in one statement: the rows come back in `order`
    /// (which must end with `id`, so an EIP's tag rows are together), and an
    /// EIP's tags sorted by key.
    fn eips_tagged(&mut self, inner: &str, order: &str, p: &[Param<'_>]) -> StoreResult<Vec<EipRow>> {
        let sql = format!(
            "SELECT {EIP_COLS}, eip_tag.key, eip_tag.value FROM ({inner}) AS eip \
             LEFT JOIN eip_tag ON eip_tag.eip_id = eip.id ORDER BY {order}, eip_tag.key"
        );
        let mut out: Vec<EipRow> = Vec::new();
        self.driver.query(&sql, p, &mut |r| {
            let id: String = r.get(0)?;
            let row = match out.last_mut() {
                Some(last) if last.id == id => last,
                _ => {
                    out.push(eip_from_row(r)?);
                    out.last_mut().ok_or_else(|| StoreError::Other("no row after push".into()))?
                }
            };
            if let Some(key) = r.get::<Option<String>>(EIP_NCOLS)? {
                row.tags.push((key, r.get(EIP_NCOLS + 1)?));
            }
            Ok(())
        })?;
        Ok(out)
    }

    fn write_tags(&mut self, row: &EipRow) -> StoreResult<()> {
        self.exec("DELETE FROM eip_tag WHERE eip_id = ?1", params![row.id])?;
        for (k, v) in &row.tags {
            self.exec("INSERT INTO eip_tag (eip_id, key, value) VALUES (?1, ?2, ?3)", params![row.id, k, v])?;
        }
        Ok(())
    }
}

impl<D: Driver> Tx for SqlTx<D> {
    fn account_insert(&mut self, row: &AccountRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO account (id, name, created_at, active) VALUES (?1, ?2, ?3, ?4)",
            params![row.id, row.name, row.created_at, b(row.active)],
        )
        .map(drop)
    }

    fn account_list(&mut self) -> StoreResult<Vec<AccountRow>> {
        self.list("SELECT id, name, created_at, active FROM account ORDER BY created_at, id", params![], |r| {
            Ok(AccountRow { id: r.get(0)?, name: r.get(1)?, created_at: r.get(2)?, active: r.get(3)? })
        })
    }

    fn account_set_active(&mut self, id: &str, active: bool) -> StoreResult<bool> {
        self.exec("UPDATE account SET active = ?2 WHERE id = ?1", params![id, b(active)]).map(|n| n > 0)
    }

    fn account_balance(&mut self, id: &str) -> StoreResult<Option<i64>> {
        self.one("SELECT balance FROM account WHERE id = ?1", params![id], |r| r.get(0))
    }

    fn account_balance_add(&mut self, id: &str, delta: i64) -> StoreResult<Option<i64>> {
        if self.exec("UPDATE account SET balance = balance + ?2 WHERE id = ?1", params![id, delta])? == 0 {
            return Ok(None);
        }
        self.account_balance(id)
    }

    fn access_key_delete(&mut self, id: &str) -> StoreResult<bool> {
        self.exec("DELETE FROM access_key WHERE id = ?1", params![id]).map(|n| n > 0)
    }

    fn access_key_insert(&mut self, row: &AccessKeyRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO access_key (id, account_id, secret, active, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![row.id, row.account_id, row.secret, b(row.active), row.created_at],
        )
        .map(drop)
    }

    fn quota_application_insert(&mut self, r: &QuotaApplicationRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO quota_application (id, account_id, quota_name, product_code, quota_action_code, \
             desire_value, approve_value, status, reason, audit_reason, dimension, notice_type, applied_at, decided_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                r.id,
                r.account_id,
                r.quota_name,
                r.product_code,
                r.quota_action_code,
                r.desire_value,
                r.approve_value,
                r.status.as_str(),
                r.reason,
                r.audit_reason,
                r.dimension,
                r.notice_type,
                r.applied_at,
                r.decided_at
            ],
        )
        .map(drop)
    }

    fn quota_application_get(&mut self, id: &str) -> StoreResult<Option<QuotaApplicationRow>> {
        self.one(
            concat!("SELECT ", quota_application_cols!(), " FROM quota_application WHERE id = ?1"),
            params![id],
            quota_application_from_row,
        )
    }

    fn quota_application_list(&mut self, account: Option<&str>) -> StoreResult<Vec<QuotaApplicationRow>> {
        match account {
            Some(a) => self.list(
                concat!(
                    "SELECT ",
                    quota_application_cols!(),
                    " FROM quota_application WHERE account_id = ?1 ORDER BY applied_at DESC, id DESC"
                ),
                params![a],
                quota_application_from_row,
            ),
            None => self.list(
                concat!(
                    "SELECT ",
                    quota_application_cols!(),
                    " FROM quota_application ORDER BY applied_at DESC, id DESC"
                ),
                params![],
                quota_application_from_row,
            ),
        }
    }

    fn quota_application_decide(&mut self, r: &QuotaApplicationRow) -> StoreResult<()> {
        self.exec(
            "UPDATE quota_application SET status = ?2, approve_value = ?3, audit_reason = ?4, decided_at = ?5 \
             WHERE id = ?1",
            params![r.id, r.status.as_str(), r.approve_value, r.audit_reason, r.decided_at],
        )
        .map(drop)
    }

    fn console_session_insert(&mut self, r: &ConsoleSessionRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO console_session (id_hash, account_id, account_name, csrf, region_id, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![r.id_hash, r.account_id, r.account_name, r.csrf, r.region_id, r.expires_at],
        )
        .map(drop)
    }

    fn console_session_get(&mut self, id_hash: &str) -> StoreResult<Option<ConsoleSessionRow>> {
        self.one(
            "SELECT id_hash, account_id, account_name, csrf, region_id, expires_at FROM console_session \
             WHERE id_hash = ?1",
            params![id_hash],
            |r| {
                Ok(ConsoleSessionRow {
                    id_hash: r.get(0)?,
                    account_id: r.get(1)?,
                    account_name: r.get(2)?,
                    csrf: r.get(3)?,
                    region_id: r.get(4)?,
                    expires_at: r.get(5)?,
                })
            },
        )
    }

    fn console_session_set_region(&mut self, id_hash: &str, region: &str) -> StoreResult<()> {
        self.exec("UPDATE console_session SET region_id = ?2 WHERE id_hash = ?1", params![id_hash, region]).map(drop)
    }

    fn console_session_delete(&mut self, id_hash: &str) -> StoreResult<()> {
        self.exec("DELETE FROM console_session WHERE id_hash = ?1", params![id_hash]).map(drop)
    }

    fn console_session_expire(&mut self, now: i64) -> StoreResult<i64> {
        self.exec("DELETE FROM console_session WHERE expires_at <= ?1", params![now]).map(|n| n as i64)
    }

    fn console_session_count(&mut self) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM console_session", params![])
    }

    fn access_key_get(&mut self, id: &str) -> StoreResult<Option<AccessKeyRow>> {
        self.one("SELECT id, account_id, secret, active, created_at FROM access_key WHERE id = ?1", params![id], |r| {
            Ok(AccessKeyRow {
                id: r.get(0)?,
                account_id: r.get(1)?,
                secret: r.get(2)?,
                active: r.get::<i64>(3)? != 0,
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
            "SELECT id, account_id, secret, active, created_at FROM access_key WHERE account_id = ?1 ORDER BY created_at, id",
            params![account],
            |r| {
                Ok(AccessKeyRow {
                    id: r.get(0)?,
                    account_id: r.get(1)?,
                    secret: r.get(2)?,
                    active: r.get::<i64>(3)? != 0,
                    created_at: r.get(4)?,
                })
            },
        )
    }

    fn setting_get(&mut self, key: &str) -> StoreResult<Option<String>> {
        self.one("SELECT value FROM setting WHERE key = ?1", params![key], |r| r.get(0))
    }

    fn setting_set(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )
        .map(drop)
    }

    fn pool_list(&mut self, region: &str) -> StoreResult<Vec<PoolRow>> {
        self.list(
            "SELECT region_id, cidr, cursor FROM address_pool WHERE region_id = ?1 ORDER BY position, cidr",
            params![region],
            |r| Ok(PoolRow { region_id: r.get(0)?, cidr: r.get(1)?, cursor: r.get(2)? }),
        )
    }

    fn pool_list_all(&mut self) -> StoreResult<Vec<PoolRow>> {
        self.list(
            "SELECT region_id, cidr, cursor FROM address_pool ORDER BY region_id, position, cidr",
            params![],
            |r| Ok(PoolRow { region_id: r.get(0)?, cidr: r.get(1)?, cursor: r.get(2)? }),
        )
    }

    fn pool_insert(&mut self, row: &PoolRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO address_pool (region_id, cidr, cursor, position) \
             VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(position) + 1, 0) FROM address_pool WHERE region_id = ?1))",
            params![row.region_id, row.cidr, row.cursor],
        )
        .map(drop)
    }

    fn pool_delete(&mut self, region: &str, cidr: &str) -> StoreResult<()> {
        self.exec("DELETE FROM address_pool WHERE region_id = ?1 AND cidr = ?2", params![region, cidr]).map(drop)
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
            params![ip],
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
        self.exec("UPDATE public_address SET last_eip_id = ?2 WHERE ip = ?1", params![ip, eip_id]).map(drop)
    }

    fn address_of_last_eip(&mut self, eip_id: &str) -> StoreResult<Option<String>> {
        self.one("SELECT ip FROM public_address WHERE last_eip_id = ?1", params![eip_id], |r| r.get(0))
    }

    fn address_oldest_free(&mut self, region: &str) -> StoreResult<Option<AddressRow>> {
        self.one(
            "SELECT ip, region_id, holder_kind, holder_id, last_account_id, released_at FROM public_address \
             WHERE region_id = ?1 AND holder_id IS NULL ORDER BY released_at NULLS FIRST, ip LIMIT 1",
            params![region],
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
            params![id, account],
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
            params![account, region],
            vpc_from_row,
        )
    }

    fn vpc_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", params![id])?;
        self.exec("DELETE FROM vpc_secondary_cidr WHERE vpc_id = ?1", params![id])?;
        self.exec("DELETE FROM vpc WHERE id = ?1", params![id]).map(drop)
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
            params![id, account],
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
            params![account, region],
            vsw_from_row,
        )
    }

    fn vswitch_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", params![id])?;
        self.exec("DELETE FROM vswitch WHERE id = ?1", params![id]).map(drop)
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
            params![id, account],
            sg_from_row,
        )
    }

    fn sg_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM security_group WHERE id = ?1", params![id]).map(drop)
    }

    fn sg_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<SecurityGroupRow>> {
        self.list(
            concat!(
                "SELECT ",
                sg_cols!(),
                " FROM security_group WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            params![account, region],
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
        self.one(concat!("SELECT ", instance_cols!(), " FROM instance WHERE id = ?1"), params![id], instance_from_row)
    }

    fn ecs_target(&mut self, id: &str) -> StoreResult<Option<EcsTargetRow>> {
        // The primary ENI's primary private IP (the first, should there be two).
        macro_rules! primary {
            ($cols:literal) => {
                concat!(
                    "SELECT ",
                    $cols,
                    " FROM eni n JOIN private_ip p ON p.holder_id = n.id \
                     WHERE n.instance_id = instance.id AND n.kind = 'Primary' AND p.is_primary = 1"
                )
            };
        }
        self.one(
            concat!(
                "SELECT ",
                instance_cols!(),
                ", (",
                primary!("n.vswitch_id"),
                " ORDER BY p.ip LIMIT 1), (",
                primary!("p.ip"),
                " ORDER BY p.ip LIMIT 1), \
                 (SELECT COUNT(*) FROM eip e WHERE e.instance_id = instance.id AND e.instance_type = 'EcsInstance'), \
                 (SELECT COUNT(*) FROM eni n JOIN private_ip p ON p.holder_id = n.id \
                 JOIN eip e ON e.private_vswitch_id = n.vswitch_id AND e.private_ip = p.ip \
                 WHERE n.instance_id = instance.id AND n.kind = 'Primary' AND p.is_primary = 1 AND e.mode = 'NAT') \
                 FROM instance WHERE id = ?1"
            ),
            params![id],
            |r| {
                let vswitch: Option<String> = r.get(INSTANCE_NCOLS)?;
                let ip: Option<String> = r.get(INSTANCE_NCOLS + 1)?;
                Ok(EcsTargetRow {
                    instance: instance_from_row(r)?,
                    primary: vswitch.zip(ip),
                    ecs_eips: r.get(INSTANCE_NCOLS + 2)?,
                    nat_eips_on_primary: r.get(INSTANCE_NCOLS + 3)?,
                })
            },
        )
    }

    fn instance_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<InstanceRow>> {
        self.list(
            concat!(
                "SELECT ",
                instance_cols!(),
                " FROM instance WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            params![account, region],
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
        self.exec("DELETE FROM instance_user_data WHERE instance_id = ?1", params![id])?;
        self.exec("DELETE FROM instance WHERE id = ?1", params![id]).map(drop)
    }

    fn vpc_cidr_list(&mut self, vpc: &str) -> StoreResult<Vec<String>> {
        self.list(
            "SELECT cidr FROM vpc_secondary_cidr WHERE vpc_id = ?1 ORDER BY created_at, cidr",
            params![vpc],
            |r| r.get(0),
        )
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
        Ok(self
            .list("SELECT user_data FROM instance_user_data WHERE instance_id = ?1", params![id], |r| r.get(0))?
            .pop())
    }

    fn instance_count_using(&mut self, id: &str) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM instance WHERE vswitch_id = ?1 OR security_group_id = ?1", params![id])
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
            params![instance],
            eni_from_row,
        )
    }

    fn eni_count_in_vswitch(&mut self, vswitch: &str) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM eni WHERE vswitch_id = ?1", params![vswitch])
    }

    fn eni_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM private_ip WHERE holder_id = ?1", params![id])?;
        self.exec("DELETE FROM eni WHERE id = ?1", params![id]).map(drop)
    }

    fn private_ip_list_vswitch(&mut self, vswitch: &str) -> StoreResult<Vec<PrivateIpRow>> {
        self.list(
            "SELECT vswitch_id, ip, holder_id, is_primary FROM private_ip WHERE vswitch_id = ?1",
            params![vswitch],
            pip_from_row,
        )
    }

    fn private_ip_list_eni(&mut self, eni: &str) -> StoreResult<Vec<PrivateIpRow>> {
        self.list(
            "SELECT vswitch_id, ip, holder_id, is_primary FROM private_ip WHERE holder_id = ?1 ORDER BY is_primary DESC, ip",
            params![eni],
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
        self.exec("DELETE FROM private_ip WHERE vswitch_id = ?1 AND ip = ?2", params![vswitch, ip]).map(drop)
    }

    fn private_ip_delete_holder(&mut self, holder: &str) -> StoreResult<()> {
        self.exec("DELETE FROM private_ip WHERE holder_id = ?1", params![holder]).map(drop)
    }

    fn eni_get(&mut self, id: &str) -> StoreResult<Option<EniRow>> {
        self.one(concat!("SELECT ", eni_cols!(), " FROM eni WHERE id = ?1"), params![id], eni_from_row)
    }

    fn eip_list_associated(&mut self) -> StoreResult<Vec<EipRow>> {
        self.list(
            concat!(
                "SELECT ",
                eip_cols!(),
                " FROM eip WHERE instance_id IS NOT NULL ORDER BY region_id, allocated_at, id"
            ),
            params![],
            eip_from_row,
        )
    }

    fn instance_list_all(&mut self) -> StoreResult<Vec<InstanceRow>> {
        self.list(concat!("SELECT ", instance_cols!(), " FROM instance"), params![], instance_from_row)
    }

    fn eni_list_all(&mut self) -> StoreResult<Vec<EniRow>> {
        self.list(concat!("SELECT ", eni_cols!(), " FROM eni"), params![], eni_from_row)
    }

    fn private_ip_list_all(&mut self) -> StoreResult<Vec<PrivateIpRow>> {
        self.list("SELECT vswitch_id, ip, holder_id, is_primary FROM private_ip", params![], pip_from_row)
    }

    fn eni_mac_taken(&mut self, mac: &str) -> StoreResult<bool> {
        self.count("SELECT COUNT(*) FROM eni WHERE mac = ?1", params![mac]).map(|n| n > 0)
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
            params![account, region],
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
        Ok(self.eips_tagged(concat!("SELECT ", eip_cols!(), " FROM eip WHERE id = ?1"), "id", params![id])?.pop())
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
        self.exec("DELETE FROM eip_tag WHERE eip_id = ?1", params![id])?;
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
        self.exec("DELETE FROM eip_tag WHERE eip_id = ?1", params![id])?;
        self.exec("DELETE FROM eip WHERE id = ?1", params![id]).map(drop)
    }

    fn eip_list_by_target(&mut self, target: &str) -> StoreResult<Vec<EipRow>> {
        self.eips_tagged(
            concat!("SELECT ", eip_cols!(), " FROM eip WHERE instance_id = ?1"),
            "allocated_at, id",
            params![target],
        )
    }

    fn eip_list_by_private_ip(&mut self, vswitch: &str, ip: &str) -> StoreResult<Vec<EipRow>> {
        self.eips_tagged(
            concat!("SELECT ", eip_cols!(), " FROM eip WHERE private_vswitch_id = ?1 AND private_ip = ?2"),
            "allocated_at, id",
            params![vswitch, ip],
        )
    }

    fn eip_query(&mut self, q: &EipQuery) -> StoreResult<(i64, Vec<EipRow>)> {
        let status = q.status.map(|s| s.as_str());
        let instance_type = q.instance_type.map(|s| s.as_str());
        let charge_type = q.charge_type.map(|s| s.as_str());
        let mut w = Where::default();
        w.eq("account_id", Param::Text(&q.account_id));
        w.eq("region_id", Param::Text(&q.region_id));
        w.any_of("id", &q.ids);
        w.any_of("ip", &q.ips);
        let optional = [
            ("status", status),
            ("instance_type", instance_type),
            ("instance_id", q.instance_id.as_deref()),
            ("charge_type", charge_type),
            ("isp", q.isp.as_deref()),
            ("name", q.name.as_deref()),
            ("resource_group_id", q.resource_group_id.as_deref()),
        ];
        for (col, v) in optional {
            if let Some(v) = v {
                w.eq(col, Param::Text(v));
            }
        }
        if let Some(t) = q.created_from {
            w.cmp("allocated_at >=", Param::Int(t));
        }
        if let Some(t) = q.created_to {
            w.cmp("allocated_at <=", Param::Int(t));
        }
        // A tag filter without a value matches the key with any value.
        for (k, v) in &q.tags {
            let key = w.bind(Param::Text(k));
            if v.is_empty() {
                w.raw(&format!("EXISTS (SELECT 1 FROM eip_tag t WHERE t.eip_id = eip.id AND t.key = {key})"));
            } else {
                let value = w.bind(Param::Text(v));
                w.raw(&format!(
                    "EXISTS (SELECT 1 FROM eip_tag t WHERE t.eip_id = eip.id AND t.key = {key} AND t.value = {value})"
                ));
            }
        }
        let filter_args = w.args.len();
        let (limit, offset) = (w.bind(Param::Int(q.limit)), w.bind(Param::Int(q.offset)));
        let page = format!(
            "SELECT {EIP_COLS} FROM eip WHERE {} ORDER BY allocated_at DESC, id DESC LIMIT {limit} OFFSET {offset}",
            w.sql
        );
        let rows = self.eips_tagged(&page, "allocated_at DESC, id DESC", &w.args)?;
        // A page that is not full is the last one: the total follows from it
        // (the common lookup by id or address), so only a full or empty page
        // past the start needs the count.
        let total = match derived_total(q.offset, q.limit, rows.len()) {
            Some(t) => t,
            None => self.count(&format!("SELECT COUNT(*) FROM eip WHERE {}", w.sql), &w.args[..filter_args])?,
        };
        Ok((total, rows))
    }

    fn eip_count_all_regions(&mut self, account: &str) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM eip WHERE account_id = ?1", params![account])
    }

    fn eip_count(&mut self, account: &str, region: &str) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM eip WHERE account_id = ?1 AND region_id = ?2", params![account, region])
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
        self.one(concat!("SELECT ", nat_cols!(), " FROM nat_gateway WHERE id = ?1"), params![id], nat_from_row)
    }

    fn nat_get_by_table(&mut self, table: &str) -> StoreResult<Option<NatGatewayRow>> {
        self.one(
            concat!("SELECT ", nat_cols!(), " FROM nat_gateway WHERE snat_table_id = ?1 OR forward_table_id = ?1"),
            params![table],
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
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", params![id])?;
        self.exec("DELETE FROM nat_gateway WHERE id = ?1", params![id]).map(drop)
    }

    fn nat_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<NatGatewayRow>> {
        self.list(
            concat!(
                "SELECT ",
                nat_cols!(),
                " FROM nat_gateway WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            params![account, region],
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
        self.one(concat!("SELECT ", snat_cols!(), " FROM snat_entry WHERE id = ?1"), params![id], snat_from_row)
    }

    fn snat_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM snat_entry WHERE id = ?1", params![id]).map(drop)
    }

    fn snat_list(&mut self, nat: &str) -> StoreResult<Vec<SnatEntryRow>> {
        self.list(
            concat!("SELECT ", snat_cols!(), " FROM snat_entry WHERE nat_gateway_id = ?1 ORDER BY created_at, id"),
            params![nat],
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
        self.one(concat!("SELECT ", fwd_cols!(), " FROM forward_entry WHERE id = ?1"), params![id], fwd_from_row)
    }

    fn forward_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM forward_entry WHERE id = ?1", params![id]).map(drop)
    }

    fn forward_list(&mut self, nat: &str) -> StoreResult<Vec<ForwardEntryRow>> {
        self.list(
            concat!("SELECT ", fwd_cols!(), " FROM forward_entry WHERE nat_gateway_id = ?1 ORDER BY created_at, id"),
            params![nat],
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
        self.one(concat!("SELECT ", havip_cols!(), " FROM havip WHERE id = ?1"), params![id], havip_from_row)
    }

    fn havip_update(&mut self, r: &HaVipRow) -> StoreResult<()> {
        self.exec(
            "UPDATE havip SET status = ?2, name = ?3, description = ?4 WHERE id = ?1",
            params![r.id, r.status.as_str(), r.name, r.description],
        )
        .map(drop)
    }

    fn havip_delete(&mut self, id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", params![id])?;
        self.exec("DELETE FROM havip_member WHERE havip_id = ?1", params![id])?;
        self.exec("DELETE FROM havip WHERE id = ?1", params![id]).map(drop)
    }

    fn havip_list(&mut self, account: &str, region: &str) -> StoreResult<Vec<HaVipRow>> {
        self.list(
            concat!(
                "SELECT ",
                havip_cols!(),
                " FROM havip WHERE account_id = ?1 AND region_id = ?2 ORDER BY created_at, id"
            ),
            params![account, region],
            havip_from_row,
        )
    }

    fn havip_count(&mut self, account: &str) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM havip WHERE account_id = ?1", params![account])
    }

    fn havip_member_insert(&mut self, r: &HaVipMemberRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO havip_member (havip_id, instance_id, instance_type, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![r.havip_id, r.instance_id, r.instance_type.as_str(), r.created_at],
        )
        .map(drop)
    }

    fn havip_member_delete(&mut self, havip: &str, instance: &str) -> StoreResult<()> {
        self.exec("DELETE FROM havip_member WHERE havip_id = ?1 AND instance_id = ?2", params![havip, instance])
            .map(drop)
    }

    fn havip_member_list(&mut self, havip: &str) -> StoreResult<Vec<HaVipMemberRow>> {
        self.list(
            "SELECT havip_id, instance_id, instance_type, created_at FROM havip_member WHERE havip_id = ?1 \
             ORDER BY created_at, instance_id",
            params![havip],
            member_from_row,
        )
    }

    fn havip_member_list_by_instance(&mut self, instance: &str) -> StoreResult<Vec<HaVipMemberRow>> {
        self.list(
            "SELECT havip_id, instance_id, instance_type, created_at FROM havip_member WHERE instance_id = ?1 \
             ORDER BY created_at, havip_id",
            params![instance],
            member_from_row,
        )
    }

    fn quota_get(&mut self, account: &str, name: &str) -> StoreResult<Option<i64>> {
        self.one("SELECT value FROM quota WHERE account_id = ?1 AND name = ?2", params![account, name], |r| r.get(0))
    }

    fn quota_set(&mut self, account: &str, name: &str, value: i64) -> StoreResult<()> {
        self.exec("DELETE FROM quota WHERE account_id = ?1 AND name = ?2", params![account, name])?;
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
        self.one(concat!("SELECT ", lb_cols!(), " FROM load_balancer WHERE id = ?1"), params![id], lb_from_row)
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
        self.exec("DELETE FROM resource_tag WHERE resource_id = ?1", params![id])?;
        self.exec("DELETE FROM lb_zone WHERE lb_id = ?1", params![id])?;
        self.exec("DELETE FROM clb_listener WHERE lb_id = ?1", params![id])?;
        self.exec("DELETE FROM clb_backend WHERE lb_id = ?1", params![id])?;
        self.exec("DELETE FROM load_balancer WHERE id = ?1", params![id]).map(drop)
    }

    fn lb_list(&mut self, account: &str, region: &str, kind: &str) -> StoreResult<Vec<LoadBalancerRow>> {
        self.list(
            concat!(
                "SELECT ",
                lb_cols!(),
                " FROM load_balancer WHERE account_id = ?1 AND region_id = ?2 AND kind = ?3 \
                 ORDER BY created_at, id"
            ),
            params![account, region, kind],
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
            params![account, kind],
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
            params![lb],
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
            "INSERT INTO clb_listener (lb_id, port, backend_port, bandwidth, status, health_check, \
             health_check_connect_port, healthy_threshold, unhealthy_threshold, health_check_connect_timeout, \
             health_check_interval) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT (lb_id, port) DO UPDATE SET backend_port = excluded.backend_port, \
             bandwidth = excluded.bandwidth, status = excluded.status, health_check = excluded.health_check, \
             health_check_connect_port = excluded.health_check_connect_port, \
             healthy_threshold = excluded.healthy_threshold, unhealthy_threshold = excluded.unhealthy_threshold, \
             health_check_connect_timeout = excluded.health_check_connect_timeout, \
             health_check_interval = excluded.health_check_interval",
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
            params![lb],
            |r| {
                Ok(ClbListenerRow {
                    lb_id: r.get(0)?,
                    port: r.get(1)?,
                    backend_port: r.get(2)?,
                    bandwidth: r.get(3)?,
                    status: r.get(4)?,
                    health_check: r.get::<String>(5)? == "on",
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
            "INSERT INTO clb_backend (lb_id, server_id, weight) VALUES (?1, ?2, ?3) \
             ON CONFLICT (lb_id, server_id) DO UPDATE SET weight = excluded.weight",
            params![r.lb_id, r.server_id, r.weight],
        )
        .map(drop)
    }

    fn clb_backend_list(&mut self, lb: &str) -> StoreResult<Vec<ClbBackendRow>> {
        self.list(
            "SELECT lb_id, server_id, weight FROM clb_backend WHERE lb_id = ?1 ORDER BY server_id",
            params![lb],
            |r| Ok(ClbBackendRow { lb_id: r.get(0)?, server_id: r.get(1)?, weight: r.get(2)? }),
        )
    }

    fn traffic_put(&mut self, r: &TrafficRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO eip_traffic (eip_id, minute_ms, at_ms, rx_bytes, tx_bytes, rx_packets, tx_packets) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (eip_id, minute_ms) DO UPDATE SET \
             at_ms = excluded.at_ms, rx_bytes = excluded.rx_bytes, tx_bytes = excluded.tx_bytes, \
             rx_packets = excluded.rx_packets, tx_packets = excluded.tx_packets",
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
            params![since_ms],
            traffic_row,
        )
    }

    fn traffic_expire(&mut self, before_ms: i64) -> StoreResult<usize> {
        self.exec("DELETE FROM eip_traffic WHERE at_ms < ?1", params![before_ms])
    }

    fn traffic_of(&mut self, eip_id: &str, from_ms: i64, until_ms: i64) -> StoreResult<Vec<TrafficRow>> {
        self.list(
            "SELECT eip_id, at_ms, rx_bytes, tx_bytes, rx_packets, tx_packets FROM eip_traffic \
             WHERE eip_id = ?1 AND at_ms < ?3 AND at_ms >= COALESCE( \
                 (SELECT MAX(at_ms) FROM eip_traffic WHERE eip_id = ?1 AND at_ms <= ?2), ?2) \
             ORDER BY at_ms",
            params![eip_id, from_ms, until_ms],
            traffic_row,
        )
    }

    fn backend_health_replace(&mut self, regions: &[String], rows: &[BackendHealthRow]) -> StoreResult<()> {
        for region in regions {
            let keep: Vec<&BackendHealthRow> = rows.iter().filter(|r| &r.region_id == region).collect();
            let stored = self.list(
                "SELECT region_id, lb_id, listener_port, server_id, health FROM clb_backend_health \
                 WHERE region_id = ?1",
                params![region],
                backend_health_row,
            )?;
            for old in &stored {
                if !keep.iter().any(|r| {
                    (&r.lb_id, r.listener_port, &r.server_id) == (&old.lb_id, old.listener_port, &old.server_id)
                }) {
                    self.exec(
                        "DELETE FROM clb_backend_health WHERE lb_id = ?1 AND listener_port = ?2 AND server_id = ?3",
                        params![old.lb_id, old.listener_port, old.server_id],
                    )?;
                }
            }
            for r in keep {
                if stored.contains(r) {
                    continue;
                }
                self.exec(
                    "INSERT INTO clb_backend_health (region_id, lb_id, listener_port, server_id, health) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (lb_id, listener_port, server_id) DO UPDATE SET \
                     region_id = excluded.region_id, health = excluded.health",
                    params![r.region_id, r.lb_id, r.listener_port, r.server_id, r.health.as_str()],
                )?;
            }
        }
        Ok(())
    }

    fn backend_health_of(&mut self, lb_id: &str) -> StoreResult<Vec<BackendHealthRow>> {
        self.list(
            "SELECT region_id, lb_id, listener_port, server_id, health FROM clb_backend_health \
             WHERE lb_id = ?1 ORDER BY listener_port, server_id",
            params![lb_id],
            backend_health_row,
        )
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
        self.exec("DELETE FROM task WHERE id = ?1", params![id]).map(drop)
    }

    fn task_claim(&mut self, now: i64, limit: i64, holder: &str, until: i64) -> StoreResult<Vec<TaskRow>> {
        // One statement, with row locks where the database takes them.
        macro_rules! claim {
            ($lock:literal) => {
                concat!(
                    "UPDATE task SET claimed_by = ?3, claimed_until = ?4 WHERE id IN (",
                    "SELECT id FROM task WHERE due_at <= ?1 ",
                    "AND (claimed_until IS NULL OR claimed_until <= ?1 OR claimed_by = ?3) ",
                    "ORDER BY due_at, id LIMIT ?2",
                    $lock,
                    ") RETURNING id, kind, resource_id, due_at, created_at"
                )
            };
        }
        const PLAIN: &str = claim!("");
        const LOCKING: &str = claim!(" FOR UPDATE SKIP LOCKED");
        let sql = if self.driver.locks_rows() { LOCKING } else { PLAIN };
        let mut rows = self.list(sql, params![now, limit, holder, until], task_from_row)?;
        // RETURNING promises no order.
        rows.sort_by(|a, b| (a.due_at, &a.id).cmp(&(b.due_at, &b.id)));
        Ok(rows)
    }

    fn task_take(&mut self, id: &str, holder: &str) -> StoreResult<bool> {
        self.exec("DELETE FROM task WHERE id = ?1 AND claimed_by = ?2", params![id, holder]).map(|n| n > 0)
    }

    fn task_next_due(&mut self) -> StoreResult<Option<i64>> {
        self.one(
            "SELECT MIN(CASE WHEN claimed_until > due_at THEN claimed_until ELSE due_at END) FROM task",
            params![],
            |r| r.get::<Option<i64>>(0),
        )
        .map(Option::flatten)
    }

    fn task_count(&mut self) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM task", params![])
    }

    fn token_get(&mut self, account: &str, action: &str, token: &str) -> StoreResult<Option<TokenRow>> {
        self.one(
            "SELECT account_id, action, token, params_hash, response, created_at FROM client_token \
             WHERE account_id = ?1 AND action = ?2 AND token = ?3",
            params![account, action, token],
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
        self.exec("DELETE FROM client_token WHERE created_at < ?1", params![before]).map(|n| n as i64)
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
        self.list("SELECT key, expires_at FROM request_nonce WHERE expires_at > ?1", params![now], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
    }

    fn nonce_expire(&mut self, now: i64) -> StoreResult<i64> {
        self.exec("DELETE FROM request_nonce WHERE expires_at <= ?1", params![now]).map(|n| n as i64)
    }

    fn lease_list(&mut self) -> StoreResult<Vec<LeaseRow>> {
        self.list(
            "SELECT region_id, holder, acquired_at, expires_at FROM dataplane_lease ORDER BY region_id",
            params![],
            |r| Ok(LeaseRow { region_id: r.get(0)?, holder: r.get(1)?, acquired_at: r.get(2)?, expires_at: r.get(3)? }),
        )
    }

    fn lease_put(&mut self, row: &LeaseRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO dataplane_lease (region_id, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (region_id) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, \
             expires_at = excluded.expires_at",
            params![row.region_id, row.holder, row.acquired_at, row.expires_at],
        )
        .map(drop)
    }

    fn lease_release(&mut self, region: &str, holder: &str, now: i64) -> StoreResult<bool> {
        self.exec(
            "UPDATE dataplane_lease SET expires_at = ?3 WHERE region_id = ?1 AND holder = ?2 AND expires_at > ?3 \
             AND acquired_at <= ?3",
            params![region, holder, now],
        )
        .map(|n| n > 0)
    }

    fn note_changes(&mut self, changes: &Changes) {
        match &mut self.notes {
            Some(n) => n.merge(changes),
            None => self.notes = Some(changes.clone()),
        }
    }
}

/// A WHERE clause assembled at run time, with numbered placeholders.
#[derive(Default)]
struct Where<'a> {
    sql: String,
    args: Vec<Param<'a>>,
}

impl<'a> Where<'a> {
    /// Adds a parameter; its placeholder.
    fn bind(&mut self, p: Param<'a>) -> String {
        self.args.push(p);
        format!("?{}", self.args.len())
    }

    fn raw(&mut self, cond: &str) {
        if !self.sql.is_empty() {
            self.sql.push_str(" AND ");
        }
        self.sql.push_str(cond);
    }

    /// `col op ?N`, where `col_op` is e.g. `"allocated_at >="`.
    fn cmp(&mut self, col_op: &str, p: Param<'a>) {
        let ph = self.bind(p);
        self.raw(&format!("{col_op} {ph}"));
    }

    fn eq(&mut self, col: &str, p: Param<'a>) {
        self.cmp(&format!("{col} ="), p);
    }

    /// `col IN (…)`; nothing when `vals` is empty.
    fn any_of(&mut self, col: &str, vals: &'a [String]) {
        if vals.is_empty() {
            return;
        }
        let list: Vec<String> = vals.iter().map(|v| self.bind(Param::Text(v))).collect();
        self.raw(&format!("{col} IN ({})", list.join(", ")));
    }
}
