//! The Quota Center (quotas 2020-05-10): the account's quotas, as the
//! catalogue ([`eip_domain::quotas`]) lists them, with their values and
//! usage; applications to raise them, decided at once by the review policy
//! or later by an operator (`eipd quota approve|reject`); and the policy
//! itself (`eipd quota policy`), kept in the store so every node decides
//! alike.

use crate::{Body, Controller, Ctx, body};
use eip_api::Params;
use eip_domain::quotas::{self, Listing, QuotaCategory, QuotaKind, QuotaSpec, Review};
use eip_store::{QuotaApplicationRow, StoreExt, Tx};
use eip_types::{Error, QuotaApplicationStatus, Result};
use serde_json::{Map, Value, json};

/// Settings key of a quota's review ceiling: `quota_auto_approve.<name>`.
const POLICY_PREFIX: &str = "quota_auto_approve.";

/// Longest `Reason` an application may give.
const REASON_MAX: usize = 1000;

/// Which categories a listing asks for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Categories {
    Any,
    Only(QuotaCategory),
    /// API rate limits: openeip lists none yet.
    FlowControl,
}

impl Categories {
    fn read(p: &Params) -> Result<Categories> {
        match p.opt("QuotaCategory") {
            None => Ok(Categories::Any),
            Some("FlowControl") => Ok(Categories::FlowControl),
            Some(c) => QuotaCategory::parse(c).map(Categories::Only).ok_or(Error::QuotaCategoryNotSupported),
        }
    }

    fn admits(self, c: QuotaCategory) -> bool {
        match self {
            Categories::Any => true,
            Categories::Only(want) => want == c,
            Categories::FlowControl => false,
        }
    }
}

/// `ProductCode`: required, and one the Quota Center lists.
fn product(p: &Params) -> Result<&str> {
    let code = p.opt("ProductCode").ok_or(Error::MissingProductCode)?;
    if !quotas::is_product(code) {
        return Err(Error::QuotaNotFound);
    }
    Ok(code)
}

/// `Dimensions.N.Key/Value`: openeip's quotas are account-wide, and accept
/// only `regionId` (a region of the catalogue), echoed back.
fn dimensions(p: &Params) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for d in p.struct_list("Dimensions")? {
        let key = d.get("Key").map(String::as_str).unwrap_or_default();
        let value = d.get("Value").map(String::as_str).unwrap_or_default();
        if key != "regionId" {
            return Err(Error::QuotaDimensionUnsupported);
        }
        if eip_domain::catalogue::region(value).is_none() {
            return Err(Error::QuotaDimensionValueUnsupported);
        }
        out.insert(key.to_owned(), Value::String(value.to_owned()));
    }
    Ok(out)
}

/// What counts against a quota for an account. Limits per gateway or per
/// ENI have no account-wide usage.
fn usage(tx: &mut dyn Tx, account: &str, kind: QuotaKind) -> Result<i64> {
    Ok(match kind {
        QuotaKind::EipCount => tx.eip_count_all_regions(account)?,
        QuotaKind::HavipCount => tx.havip_count(account)?,
        QuotaKind::HavipPermission | QuotaKind::NatGatewayEips | QuotaKind::EniMultiBindedEips => 0,
    })
}

/// The review policy's ceiling for a quota: what the operator set, or the default.
fn ceiling(tx: &mut dyn Tx, spec: &QuotaSpec) -> Result<i64> {
    match tx.setting_get(&format!("{POLICY_PREFIX}{}", spec.name))? {
        Some(v) => v.parse().map_err(|_| Error::Internal(format!("policy of {} is not a number: {v:?}", spec.name))),
        None => Ok(quotas::default_ceiling(spec.kind)),
    }
}

fn arn(account: &str, dims: &Map<String, Value>, l: &Listing) -> String {
    let region = dims.get("regionId").and_then(Value::as_str).unwrap_or("*");
    format!("acs:quotas:{region}:{account}:quota/{}/{}", l.product, l.code)
}

fn quota_type(l: &Listing) -> &'static str {
    match l.category {
        QuotaCategory::CommonQuota => "normal",
        QuotaCategory::WhiteListLabel => "privilege",
    }
}

/// One quota as ListProductQuotas and GetProductQuota show it (the SDK
/// model's field order).
fn quota_json(account: &str, spec: &QuotaSpec, l: &Listing, value: i64, used: i64, dims: &Map<String, Value>) -> Value {
    let (low, kind) = match l.category {
        QuotaCategory::CommonQuota => (spec.default, "continuous"),
        QuotaCategory::WhiteListLabel => (1, "discontinuous"),
    };
    json!({
        "Adjustable": spec.adjustable,
        "ApplicableRange": [low as f64, l.max as f64],
        "ApplicableType": kind,
        "ApplyReasonTips": "",
        "Consumable": false,
        "Dimensions": dims,
        "EffectiveTime": "",
        "ExpireTime": "",
        "GlobalQuota": dims.is_empty(),
        "ProductCode": l.product,
        "QuotaActionCode": l.code,
        "QuotaArn": arn(account, dims, l),
        "QuotaCategory": l.category.as_str(),
        "QuotaDescription": l.description,
        "QuotaItems": [],
        "QuotaName": l.name,
        "QuotaType": quota_type(l),
        "QuotaUnit": l.unit,
        "SupportedRange": [],
        "TotalQuota": value as f64,
        "TotalUsage": used as f64,
        "UnadjustableDetail": if spec.adjustable { "" } else { "limitReached" },
    })
}

fn matches_keyword(l: &Listing, keyword: Option<&str>) -> bool {
    keyword.is_none_or(|k| {
        let k = k.to_lowercase();
        [l.code, l.name, l.description].iter().any(|s| s.to_lowercase().contains(&k))
    })
}

/// ListProductQuotas.
pub(crate) fn list_product_quotas(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let product = product(p)?.to_owned();
    let categories = Categories::read(p)?;
    let dims = dimensions(p)?;
    let code = p.opt("QuotaActionCode").map(str::to_owned);
    let keyword = p.opt("KeyWord").map(str::to_owned);
    let window = crate::Window::by_token(p, p.int("MaxResults", 1, 100)?.unwrap_or(30))?;
    let account = ctx.account.clone();
    let all = ctl.read(move |tx| {
        let mut out = Vec::new();
        for spec in quotas::CATALOGUE {
            let Some(l) = spec.listing.filter(|l| l.product == product) else { continue };
            let code_ok = code.as_deref().is_none_or(|c| c == l.code || l.aliases.contains(&c));
            if code_ok && categories.admits(l.category) && matches_keyword(&l, keyword.as_deref()) {
                let value = crate::quotas::get(tx, &account, spec.kind)?;
                let used = usage(tx, &account, spec.kind)?;
                out.push(quota_json(&account, spec, &l, value, used, &dims));
            }
        }
        Ok(out)
    })?;
    let total = all.len() as i64;
    let page: Vec<Value> = all.into_iter().skip(window.offset as usize).take(window.limit as usize).collect();
    Ok(body(json!({
        "MaxResults": window.limit,
        "NextToken": window.next_token(total),
        "Quotas": page,
        "TotalCount": total,
    })))
}

/// The quota `ProductCode`/`QuotaActionCode` name (both required).
fn named(p: &Params) -> Result<(&'static QuotaSpec, Listing)> {
    let product = product(p)?;
    let code = p.req("QuotaActionCode")?;
    let spec = quotas::by_code(product, code).ok_or(Error::QuotaNotFound)?;
    let listing = spec.listing.ok_or(Error::QuotaNotFound)?;
    Ok((spec, listing))
}

/// GetProductQuota.
pub(crate) fn get_product_quota(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let (spec, l) = named(p)?;
    let dims = dimensions(p)?;
    let account = ctx.account.clone();
    let (value, used) =
        ctl.read(move |tx| Ok((crate::quotas::get(tx, &account, spec.kind)?, usage(tx, &account, spec.kind)?)))?;
    Ok(body(json!({ "Quota": quota_json(&ctx.account, spec, &l, value, used, &dims) })))
}

/// An application id, formatted like the cloud's (a random UUID).
fn application_id() -> String {
    let b: [u8; 16] = rand::random();
    let h = hex::encode(b);
    format!("{}-{}-4{}-{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[16..20], &h[20..32])
}

/// One application, as every action shows it (the SDK model's field order;
/// `list` adds the listing's own fields).
fn application_json(account: &str, a: &QuotaApplicationRow, list: bool) -> Value {
    let spec = quotas::by_name(&a.quota_name);
    let listing = spec.and_then(|s| s.listing);
    let dims: Map<String, Value> = serde_json::from_str(&a.dimension).unwrap_or_default();
    let mut v = Map::new();
    v.insert("ApplicationId".into(), json!(a.id));
    v.insert("ApplyTime".into(), json!(eip_types::time::format_iso(a.applied_at)));
    if let Some(approved) = a.approve_value {
        v.insert("ApproveValue".into(), json!(approved as f64));
    }
    v.insert("AuditReason".into(), json!(a.audit_reason));
    if list {
        v.insert("Comment".into(), json!(""));
    }
    v.insert("DesireValue".into(), json!(a.desire_value));
    v.insert("Dimension".into(), Value::Object(dims.clone()));
    v.insert("EffectiveTime".into(), json!(""));
    v.insert("ExpireTime".into(), json!(""));
    v.insert("NoticeType".into(), json!(a.notice_type));
    v.insert("ProductCode".into(), json!(a.product_code));
    v.insert("QuotaActionCode".into(), json!(a.quota_action_code));
    if let Some(l) = &listing {
        v.insert("QuotaArn".into(), json!(arn(account, &dims, l)));
        v.insert("QuotaCategory".into(), json!(l.category.as_str()));
        v.insert("QuotaDescription".into(), json!(l.description));
        v.insert("QuotaName".into(), json!(l.name));
        v.insert("QuotaUnit".into(), json!(l.unit));
    }
    v.insert("Reason".into(), json!(a.reason));
    v.insert("Status".into(), json!(a.status.as_str()));
    Value::Object(v)
}

/// CreateQuotaApplication.
pub(crate) async fn create_quota_application(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let (spec, l) = named(p)?;
    let dims = dimensions(p)?;
    if let Some(c) = p.opt("QuotaCategory") {
        match QuotaCategory::parse(c) {
            Some(c) if c == l.category => {}
            Some(_) => return Err(Error::QuotaNotFound),
            None if c == "FlowControl" => return Err(Error::QuotaNotFound),
            None => return Err(Error::QuotaCategoryNotSupported),
        }
    }
    let desire = p.req("DesireValue")?;
    let desire: f64 = desire.trim().parse().map_err(|_| Error::QuotaDesireIllegal)?;
    let reason = p.req("Reason")?.to_owned();
    if reason.chars().count() > REASON_MAX {
        return Err(Error::invalid("Reason", format!("is longer than {REASON_MAX} characters")));
    }
    let notice_type = p.int("NoticeType", 0, 3)?.unwrap_or(0);
    if notice_type != 0 && notice_type != 3 {
        return Err(Error::invalid("NoticeType", "is 0 (no notice) or 3 (notify)"));
    }
    if let Some(lang) = p.opt("EnvLanguage")
        && lang != "en"
        && lang != "zh"
    {
        return Err(Error::invalid("EnvLanguage", "is en or zh"));
    }
    let code = p.req("QuotaActionCode")?.to_owned();
    let dimension = Value::Object(dims).to_string();
    let account = ctx.account.clone();
    ctl.write(ctx, p, move |tx, env| {
        let current = crate::quotas::get(tx, &env.account, spec.kind)?;
        let used = usage(tx, &env.account, spec.kind)?;
        let (value, review) = quotas::review(spec, desire, current, used, ceiling(tx, spec)?)?;
        let agreed = review == Review::Agree;
        let row = QuotaApplicationRow {
            id: application_id(),
            account_id: env.account.clone(),
            quota_name: spec.name.to_owned(),
            product_code: l.product.to_owned(),
            quota_action_code: code.clone(),
            desire_value: value,
            approve_value: agreed.then_some(value),
            status: if agreed { QuotaApplicationStatus::Agree } else { QuotaApplicationStatus::Process },
            reason: reason.clone(),
            audit_reason: if agreed { "Approved automatically.".to_owned() } else { String::new() },
            dimension: dimension.clone(),
            notice_type,
            applied_at: env.now,
            decided_at: agreed.then_some(env.now),
        };
        tx.quota_application_insert(&row)?;
        if agreed {
            tx.quota_set(&env.account, spec.name, value)?;
        }
        let mut out = application_json(&account, &row, false);
        if let Value::Object(m) = &mut out {
            m.remove("QuotaCategory");
        }
        Ok(body(out))
    })
    .await
}

/// ListQuotaApplications.
pub(crate) fn list_quota_applications(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let product = match p.opt("ProductCode") {
        Some(c) if !quotas::is_product(c) => return Err(Error::QuotaNotFound),
        c => c.map(str::to_owned),
    };
    let code = p.opt("QuotaActionCode").map(str::to_owned);
    let categories = Categories::read(p)?;
    let status = p.enumerated("Status", QuotaApplicationStatus::parse, |v| {
        Error::invalid("Status", format!("{v} is not Process, Agree, Disagree or Cancel"))
    })?;
    let dims = dimensions(p)?;
    let keyword = p.opt("KeyWord").map(str::to_lowercase);
    let window = crate::Window::by_token(p, p.int("MaxResults", 1, 200)?.unwrap_or(30))?;
    let account = ctx.account.clone();
    let rows = ctl.read(move |tx| Ok(tx.quota_application_list(Some(&account))?))?;
    let keep = |a: &QuotaApplicationRow| {
        let listing = quotas::by_name(&a.quota_name).and_then(|s| s.listing);
        product.as_deref().is_none_or(|c| c == a.product_code)
            && code.as_deref().is_none_or(|c| {
                c == a.quota_action_code || listing.is_some_and(|l| l.code == c || l.aliases.contains(&c))
            })
            && status.is_none_or(|s| s == a.status)
            && listing.is_some_and(|l| categories.admits(l.category))
            && keyword.as_deref().is_none_or(|k| {
                listing.is_some_and(|l| matches_keyword(&l, Some(k))) || a.reason.to_lowercase().contains(k)
            })
            && dims.iter().all(|(k, v)| {
                serde_json::from_str::<Map<String, Value>>(&a.dimension).ok().and_then(|d| d.get(k).cloned()).as_ref()
                    == Some(v)
            })
    };
    let all: Vec<&QuotaApplicationRow> = rows.iter().filter(|a| keep(a)).collect();
    let total = all.len() as i64;
    let page: Vec<Value> = all
        .into_iter()
        .skip(window.offset as usize)
        .take(window.limit as usize)
        .map(|a| application_json(&ctx.account, a, true))
        .collect();
    Ok(body(json!({
        "MaxResults": window.limit,
        "NextToken": window.next_token(total),
        "QuotaApplications": page,
        "TotalCount": total,
    })))
}

/// GetQuotaApplication.
pub(crate) fn get_quota_application(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let id = p.req("ApplicationId")?.to_owned();
    let row = ctl
        .read(move |tx| Ok(tx.quota_application_get(&id)?))?
        .filter(|a| a.account_id == ctx.account)
        .ok_or(Error::QuotaApplicationNotFound)?;
    Ok(body(json!({ "QuotaApplication": application_json(&ctx.account, &row, false) })))
}

// ---------------------------------------------------------------- operators

/// `eipd quota applications`: every account's applications, newest first.
pub fn applications(ctl: &Controller) -> Result<Vec<QuotaApplicationRow>> {
    ctl.store().read(|tx| Ok(tx.quota_application_list(None)?))
}

/// `eipd quota approve|reject ID`: decides an application in review. An
/// approval sets the quota to `value` (the desired value unless given) in
/// the same transaction.
pub async fn decide(
    ctl: &Controller,
    id: &str,
    approve: bool,
    value: Option<i64>,
    reason: &str,
) -> Result<QuotaApplicationRow> {
    let (id, reason) = (id.to_owned(), reason.to_owned());
    let now = ctl.now();
    ctl.store()
        .write(move |tx| {
            let mut row = tx.quota_application_get(&id)?.ok_or(Error::QuotaApplicationNotFound)?;
            if row.status != QuotaApplicationStatus::Process {
                return Err(Error::QuotaApplicationDecided);
            }
            let spec = quotas::by_name(&row.quota_name)
                .ok_or_else(|| Error::Internal(format!("application {id} names no quota")))?;
            row.decided_at = Some(now);
            row.audit_reason = reason.clone();
            if approve {
                let v = value.unwrap_or(row.desire_value);
                quotas::check_value(spec, v)?;
                row.status = QuotaApplicationStatus::Agree;
                row.approve_value = Some(v);
                tx.quota_set(&row.account_id, spec.name, v)?;
            } else {
                row.status = QuotaApplicationStatus::Disagree;
            }
            tx.quota_application_decide(&row)?;
            Ok(row)
        })
        .await
}

/// `eipd quota policy NAME CEILING`: applications for up to CEILING are
/// approved when filed (0 approves none).
pub async fn set_policy(ctl: &Controller, name: &str, ceiling: i64) -> Result<()> {
    let spec = quotas::by_name(name).ok_or_else(|| Error::invalid("quota", format!("{name} is not a quota")))?;
    if spec.listing.is_none() {
        return Err(Error::invalid(
            "quota",
            format!("{name} takes no applications (the Quota Center does not list it)"),
        ));
    }
    quotas::check_value(spec, ceiling)?;
    ctl.store()
        .write(move |tx| Ok(tx.setting_set(&format!("{POLICY_PREFIX}{}", spec.name), &ceiling.to_string())?))
        .await
}
