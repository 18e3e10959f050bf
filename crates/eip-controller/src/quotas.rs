//! Per-account quotas: the value of each limit in [`eip_domain::quotas`]'s
//! catalogue for an account, and how it changes (`eipd quota set`). One
//! table holds what an operator set or an application raised; a missing row
//! means the catalogue's default.

use crate::Controller;
use eip_domain::quotas::{self, QuotaKind};
use eip_store::{StoreExt, Tx};
use eip_types::{Error, Result};

/// The value of a quota for an account (its default when unset).
pub(crate) fn get(tx: &mut dyn Tx, account: &str, kind: QuotaKind) -> Result<i64> {
    let spec = kind.spec();
    Ok(tx.quota_get(account, spec.name)?.unwrap_or(spec.default))
}

/// The value of a quota that counts resources, as a count.
pub(crate) fn limit(tx: &mut dyn Tx, account: &str, kind: QuotaKind) -> Result<usize> {
    Ok(usize::try_from(get(tx, account, kind)?).unwrap_or(0))
}

/// `eipd quota set ACCOUNT NAME VALUE`: sets a quota of the account named.
pub async fn set_quota(ctl: &Controller, account_name: &str, name: &str, value: i64) -> Result<()> {
    let Some(spec) = quotas::by_name(name) else {
        let known: Vec<&str> = quotas::CATALOGUE.iter().map(|s| s.name).collect();
        return Err(Error::invalid("quota", format!("{name} is not a quota; known: {}", known.join(", "))));
    };
    quotas::check_value(spec, value)?;
    let account_name = account_name.to_owned();
    ctl.store()
        .write(move |tx| {
            let acc = crate::accounts::account_named(tx, &account_name)?;
            tx.quota_set(&acc.id, spec.name, value)?;
            Ok(())
        })
        .await
}
