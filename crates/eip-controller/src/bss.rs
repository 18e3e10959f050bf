//! BssOpenApi (2017-12-14), the cloud's billing API: every answer is wrapped
//! in `Code` / `Message` / `Success` / `Data`, amounts are strings of dollars.
//! Here: the account's balance, which `eipd account topup` fills.

use crate::{Body, Controller, Ctx, body};
use eip_api::Params;
use eip_domain::billing::{Micros, USD};
use eip_store::{EipQuery, EipRow, StoreExt};
use eip_types::{ChargeType, Error, ResourceKind, Result};
use serde_json::{Value, json};

/// Most EIPs one account may hold (quota `eip_count`'s ceiling): a region's
/// listing never needs more rows.
const EIPS_MAX: i64 = 1_000_000;

/// Most one top-up may add: a million dollars.
pub const TOPUP_MAX: Micros = 1_000_000 * USD;

/// The envelope every BssOpenApi answer has.
fn envelope(data: Value) -> Body {
    body(json!({"Code": "200", "Data": data, "Message": "success", "Success": true}))
}

/// Dollars as BssOpenApi writes them: a string with two decimals (negative
/// when overdue), rounded half away from zero.
pub fn dollars(m: Micros) -> String {
    let cents = if m >= 0 { (m + 5_000) / 10_000 } else { (m - 5_000) / 10_000 };
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// QueryAccountBalance.
pub(crate) fn query_account_balance(ctl: &Controller, ctx: &Ctx) -> Result<Body> {
    let account = ctx.account.clone();
    let balance = ctl
        .store()
        .read(move |tx| Ok(tx.account_balance(&account)?))?
        .ok_or_else(|| Error::not_found(ResourceKind::Account, &ctx.account))?;
    Ok(envelope(json!({
        "AvailableAmount": dollars(balance),
        "AvailableCashAmount": dollars(balance),
        "CreditAmount": "0.00",
        "Currency": "USD",
        "MybankCreditAmount": "0.00",
        "QuotaLimit": "0.00",
    })))
}

/// A time filter of QueryAvailableInstances (`YYYY-MM-DDThh:mm:ssZ`).
fn time_param(p: &Params, name: &str) -> Result<Option<i64>> {
    p.opt(name)
        .map(|v| eip_types::time::parse_iso(v).ok_or_else(|| Error::invalid(name, "is not YYYY-MM-DDThh:mm:ssZ")))
        .transpose()
}

/// One EIP as QueryAvailableInstances lists it.
fn instance_json(e: &EipRow) -> Value {
    let iso = eip_types::time::format_iso;
    let (subscription, end, renew) = match e.charge_type {
        ChargeType::PrePaid => ("Subscription", e.expired_at.map(iso).unwrap_or_default(), "ManualRenewal"),
        ChargeType::PostPaid => ("PayAsYouGo", String::new(), ""),
    };
    json!({
        "CreateTime": iso(e.allocated_at),
        "EndTime": end,
        "ExpectedReleaseTime": "",
        "InstanceID": e.id,
        "ProductCode": "eip",
        "ProductType": "",
        "Region": e.region_id,
        "ReleaseTime": "",
        "RenewStatus": renew,
        "RenewalDuration": 0,
        "RenewalDurationUnit": "M",
        "Seller": "26842",
        "SellerId": 26842,
        "Status": "Normal",
        "StopTime": "",
        "SubStatus": "Normal",
        "SubscriptionType": subscription,
    })
}

/// QueryAvailableInstances: the account's EIPs as the billing system sees
/// them (`ProductCode` eip). Other products have none here; Terraform's
/// provider asks for one (`vipcloudfw`) at start to learn the account type,
/// and an empty answer tells it the account is a China-site one.
pub(crate) fn query_available_instances(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let page_num = p.int("PageNum", 1, 100_000)?.unwrap_or(1);
    let page_size = p.int("PageSize", 1, 300)?.unwrap_or(20);
    let charge = match p.opt("SubscriptionType") {
        None => None,
        Some("Subscription") => Some(ChargeType::PrePaid),
        Some("PayAsYouGo") => Some(ChargeType::PostPaid),
        Some(v) => return Err(Error::invalid("SubscriptionType", format!("{v} is not Subscription or PayAsYouGo"))),
    };
    let ids = p.comma_list("InstanceIDs", 100)?;
    let (end_from, end_to) = (time_param(p, "EndTimeStart")?, time_param(p, "EndTimeEnd")?);
    let (created_from, created_to) = (time_param(p, "CreateTimeStart")?, time_param(p, "CreateTimeEnd")?);
    let renew = p.opt("RenewStatus").map(str::to_owned);
    if renew.as_deref().is_some_and(|r| !["AutoRenewal", "ManualRenewal", "NotRenewal"].contains(&r)) {
        return Err(Error::invalid("RenewStatus", "is AutoRenewal, ManualRenewal or NotRenewal"));
    }
    let regions: Vec<&str> = match p.opt("Region") {
        Some(r) => {
            vec![eip_domain::catalogue::region(r).ok_or_else(|| Error::invalid("Region", "is not a region"))?.id]
        }
        None => eip_domain::catalogue::REGIONS.iter().map(|r| r.id).collect(),
    };
    let ours = p.opt("ProductCode").is_none_or(|c| c == "eip");
    let mut rows: Vec<EipRow> = Vec::new();
    if ours {
        let account = ctx.account.clone();
        rows = ctl.read(move |tx| {
            let mut out = Vec::new();
            for region in regions {
                let q = EipQuery {
                    account_id: account.clone(),
                    region_id: region.to_owned(),
                    ids: ids.clone(),
                    ips: Vec::new(),
                    status: None,
                    instance_type: None,
                    instance_id: None,
                    charge_type: charge,
                    isp: None,
                    name: None,
                    resource_group_id: None,
                    tags: Vec::new(),
                    created_from,
                    created_to,
                    offset: 0,
                    limit: EIPS_MAX,
                };
                out.extend(tx.eip_query(&q)?.1);
            }
            Ok(out)
        })?;
    }
    rows.retain(|e| {
        let end = e.expired_at.filter(|_| e.charge_type == ChargeType::PrePaid);
        let in_end = match (end_from, end_to) {
            (None, None) => true,
            (from, to) => end.is_some_and(|t| from.is_none_or(|f| t >= f) && to.is_none_or(|u| t <= u)),
        };
        let renew_ok = renew.as_deref().is_none_or(|r| e.charge_type == ChargeType::PrePaid && r == "ManualRenewal");
        in_end && renew_ok
    });
    rows.sort_by(|a, b| b.allocated_at.cmp(&a.allocated_at).then_with(|| b.id.cmp(&a.id)));
    let total = rows.len() as i64;
    let list: Vec<Value> =
        rows.iter().skip(((page_num - 1) * page_size) as usize).take(page_size as usize).map(instance_json).collect();
    Ok(envelope(json!({
        "InstanceList": list,
        "PageNum": page_num,
        "PageSize": page_size,
        "TotalCount": total,
    })))
}

/// Parses a top-up in dollars (`25`, `12.50`, at most 6 decimals).
pub fn parse_dollars(s: &str) -> Result<Micros> {
    let bad = || Error::invalid("amount", format!("{s:?} is not an amount of dollars such as 25 or 12.50"));
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 6 {
        return Err(bad());
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = if frac.is_empty() { 0 } else { format!("{frac:0<6}").parse().map_err(|_| bad())? };
    whole.checked_mul(USD).and_then(|w| w.checked_add(frac)).ok_or_else(bad)
}

/// `eipd account topup NAME AMOUNT`: adds to the balance; the new balance.
pub async fn topup(ctl: &Controller, account: &str, amount: Micros) -> Result<Micros> {
    if amount <= 0 || amount > TOPUP_MAX {
        return Err(Error::invalid("amount", "a top-up is more than 0 and at most 1,000,000 dollars"));
    }
    let account = account.to_owned();
    ctl.store()
        .write(move |tx| {
            let a = crate::accounts::account_named(tx, &account)?;
            match tx.account_balance_add(&a.id, amount) {
                Ok(Some(b)) => Ok(b),
                Ok(None) => Err(Error::not_found(ResourceKind::Account, &account)),
                Err(eip_store::StoreError::ConstraintViolation(_)) => {
                    Err(Error::invalid("amount", "the balance would pass 1,000,000,000 dollars"))
                }
                Err(e) => Err(e.into()),
            }
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_and_read_as_dollars() {
        assert_eq!(dollars(0), "0.00");
        assert_eq!(dollars(12_345_000), "12.35");
        assert_eq!(dollars(-11_190_000), "-11.19");
        assert_eq!(dollars(-4_000), "0.00");
        assert_eq!(dollars(5_000), "0.01");
        assert_eq!(parse_dollars("25").unwrap(), 25 * USD);
        assert_eq!(parse_dollars("12.5").unwrap(), 12_500_000);
        assert_eq!(parse_dollars("0.000001").unwrap(), 1);
        for bad in ["", "-5", "1.2.3", "abc", "1e3", ".5", "1.1234567", "99999999999999999999"] {
            assert!(parse_dollars(bad).is_err(), "{bad:?}");
        }
    }
}
