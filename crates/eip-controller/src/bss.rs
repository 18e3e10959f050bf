//! BssOpenApi (2017-12-14), the cloud's billing API: every answer is wrapped
//! in `Code` / `Message` / `Success` / `Data`, amounts are strings of dollars.
//! Here: the account's balance, which `eipd account topup` fills.

use crate::{Body, Controller, Ctx, body};
use eip_domain::billing::{Micros, USD};
use eip_store::StoreExt;
use eip_types::{Error, ResourceKind, Result};
use serde_json::{Value, json};

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
            let a = tx
                .account_list()?
                .into_iter()
                .find(|a| a.name == account || a.id == account)
                .ok_or_else(|| Error::not_found(ResourceKind::Account, &account))?;
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
