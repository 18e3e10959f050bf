//! Per-account quotas (HA-02: the HaVip permission and count). One table
//! holds what an operator set with `eipd quota set`; a missing row means the
//! default of [`eip_domain::targets::QUOTAS`].

use crate::Controller;
use eip_domain::targets::QUOTAS;
use eip_store::{StoreExt, Tx};
use eip_types::{Error, ResourceKind, Result};

/// The value of quota `name` for an account (its default when unset).
pub(crate) fn get(tx: &mut dyn Tx, account: &str, name: &str) -> Result<i64> {
    let default = QUOTAS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or(0);
    Ok(tx.quota_get(account, name)?.unwrap_or(default))
}

/// `eipd quota set ACCOUNT NAME VALUE`: sets a quota of the account named.
pub async fn set_quota(ctl: &Controller, account_name: &str, name: &str, value: i64) -> Result<()> {
    if !QUOTAS.iter().any(|(n, _)| *n == name) {
        let known: Vec<&str> = QUOTAS.iter().map(|(n, _)| *n).collect();
        return Err(Error::invalid("quota", format!("{name} is not a quota; known: {}", known.join(", "))));
    }
    if value < 0 {
        return Err(Error::invalid("value", "must be 0 or more"));
    }
    // Permissions are switches: 1 grants, 0 withholds.
    if name.ends_with("_permission") && value > 1 {
        return Err(Error::invalid("value", format!("{name} is 1 (allowed) or 0 (not allowed)")));
    }
    let (account_name, name) = (account_name.to_owned(), name.to_owned());
    ctl.store()
        .write(move |tx| {
            let acc = tx
                .account_list()?
                .into_iter()
                .find(|a| a.name == account_name || a.id == account_name)
                .ok_or_else(|| Error::not_found(ResourceKind::Account, &account_name))?;
            tx.quota_set(&acc.id, &name, value)?;
            Ok(())
        })
        .await
}
