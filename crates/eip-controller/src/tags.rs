//! Tags, deletion protection and resource groups of VPC-product resources:
//! `TagResources`, `UnTagResources`, `ListTagResources`, `DeletionProtection`
//! and `MoveResourceGroup`. Terraform's `alicloud_eip_address` and Ansible's
//! `ali_eip` change an EIP's tags, protection and group through these
//! calls, not through ModifyEipAddressAttribute.
//!
//! EIPs keep their tags on the EIP (the DescribeEipAddresses tag filters read
//! them there); VPCs, vSwitches, route tables, NAT gateways and HaVips keep
//! theirs in the store's tag table, removed with the resource.

use crate::{Body, Controller, Ctx, Window, eip, region_param};
use eip_api::{Params, Product};
use eip_store::{TagRow, Tx};
use eip_types::{ChargeType, Error, Result};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Most resources one call names, and most tags one resource carries.
const MAX_RESOURCES: usize = 50;
const MAX_TAGS: usize = 20;

/// The resource types these calls take (the type value is case-insensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TagType {
    Eip,
    Vpc,
    VSwitch,
    RouteTable,
    NatGateway,
    HaVip,
    /// A CLB, under SLB's own tag actions (`ResourceType=instance`).
    SlbInstance,
}

impl TagType {
    fn parse(product: Product, v: &str) -> Option<TagType> {
        if product == Product::Slb {
            return v.eq_ignore_ascii_case("instance").then_some(TagType::SlbInstance);
        }
        match v.to_ascii_uppercase().as_str() {
            "EIP" => Some(TagType::Eip),
            "VPC" => Some(TagType::Vpc),
            "VSWITCH" => Some(TagType::VSwitch),
            "ROUTETABLE" => Some(TagType::RouteTable),
            "NATGATEWAY" => Some(TagType::NatGateway),
            "HAVIP" => Some(TagType::HaVip),
            _ => None,
        }
    }

    /// The name stored and listed.
    fn as_str(self) -> &'static str {
        match self {
            TagType::Eip => "EIP",
            TagType::Vpc => "VPC",
            TagType::VSwitch => "VSWITCH",
            TagType::RouteTable => "ROUTETABLE",
            TagType::NatGateway => "NATGATEWAY",
            TagType::HaVip => "HAVIP",
            TagType::SlbInstance => "instance",
        }
    }

    /// The name in the tag table (SLB's `instance` kept apart from ECS's).
    fn stored(self) -> &'static str {
        match self {
            TagType::SlbInstance => "SLB:instance",
            other => other.as_str(),
        }
    }
}

fn tag_type(ctx: &Ctx, p: &Params) -> Result<TagType> {
    let v = p.req("ResourceType")?;
    TagType::parse(ctx.product, v).ok_or_else(|| Error::UnsupportedResourceType(v.to_owned()))
}

/// Tags of an account's resources of one stored type (`VPC`, `VSWITCH`,
/// `NATGATEWAY`, `HAVIP`, `SLB:instance`), by resource id: for the Describe
/// calls that show each resource's `Tags`.
pub(crate) fn of_type(tx: &mut dyn Tx, account: &str, stored: &str) -> Result<BTreeMap<String, Vec<(String, String)>>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for row in tx.tag_list(account, stored)? {
        out.entry(row.resource_id).or_default().push((row.key, row.value));
    }
    Ok(out)
}

/// Sets a rendered resource's `Tags.Tag` from [`of_type`]: VPC's
/// `{Key, Value}` pairs, or SLB's `{TagKey, TagValue}`.
pub(crate) fn show(v: &mut Value, id_key: &str, tags: &BTreeMap<String, Vec<(String, String)>>, slb_style: bool) {
    let Some(id) = v.get(id_key).and_then(Value::as_str) else { return };
    let items: Vec<Value> = tags
        .get(id)
        .into_iter()
        .flatten()
        .map(|(k, val)| if slb_style { json!({"TagKey": k, "TagValue": val}) } else { json!({"Key": k, "Value": val}) })
        .collect();
    v["Tags"] = json!({"Tag": items});
}

/// `ResourceId.N`: at most 50, no repeats.
fn resource_ids(p: &Params, required: bool) -> Result<Vec<String>> {
    let ids = p.list("ResourceId")?;
    if required && ids.is_empty() {
        return Err(Error::MissingParameter("ResourceId.N".into()));
    }
    if ids.len() > MAX_RESOURCES {
        return Err(Error::TooManyResourceIds);
    }
    if ids.iter().any(|i| i.is_empty()) {
        return Err(Error::invalid("ResourceId.N", "must not be empty"));
    }
    let mut out: Vec<String> = Vec::new();
    for id in ids {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// Whether the caller has `id` of type `t` in `region`.
fn exists(tx: &mut dyn Tx, account: &str, region: &str, t: TagType, id: &str) -> Result<bool> {
    Ok(match t {
        TagType::Eip => tx.eip_get(id)?.is_some_and(|e| e.account_id == account && e.region_id == region),
        TagType::Vpc => tx.vpc_get(account, id)?.is_some_and(|v| v.region_id == region),
        TagType::VSwitch => tx.vswitch_get(account, id)?.is_some_and(|v| v.region_id == region),
        TagType::RouteTable => tx.vpc_list(account, region)?.iter().any(|v| v.route_table_id == id),
        TagType::NatGateway => tx.nat_get(id)?.is_some_and(|n| n.account_id == account && n.region_id == region),
        TagType::HaVip => tx.havip_get(id)?.is_some_and(|h| h.account_id == account && h.region_id == region),
        TagType::SlbInstance => tx.lb_get(id)?.is_some_and(|l| {
            l.account_id == account && l.region_id == region && l.kind == eip_types::LoadBalancerKind::Clb
        }),
    })
}

/// Tags of the named resources (all of the caller's of that type when `ids`
/// is empty), by resource id. Resources gone or outside `region` are left out.
fn tags_of(
    tx: &mut dyn Tx,
    account: &str,
    region: &str,
    t: TagType,
    ids: &[String],
) -> Result<BTreeMap<String, Vec<(String, String)>>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    match t {
        TagType::Eip if !ids.is_empty() => {
            for id in ids {
                if let Some(e) = tx.eip_get(id)?.filter(|e| e.account_id == account && e.region_id == region) {
                    out.insert(e.id, e.tags);
                }
            }
        }
        TagType::Eip => {
            let q = eip_store::EipQuery {
                account_id: account.to_owned(),
                region_id: region.to_owned(),
                limit: i64::MAX,
                ..Default::default()
            };
            for e in tx.eip_query(&q)?.1 {
                out.insert(e.id, e.tags);
            }
        }
        _ => {
            for row in tx.tag_list(account, t.stored())? {
                if ids.is_empty() || ids.contains(&row.resource_id) {
                    out.entry(row.resource_id).or_default().push((row.key, row.value));
                }
            }
            let mut gone = Vec::new();
            for id in out.keys() {
                if !exists(tx, account, region, t, id)? {
                    gone.push(id.clone());
                }
            }
            for id in gone {
                out.remove(&id);
            }
        }
    }
    out.retain(|_, tags| !tags.is_empty());
    Ok(out)
}

/// `Tag.N.Key` / `Tag.N.Value` of TagResources: 1 to 20, keys unique.
fn tags_to_set(p: &Params) -> Result<Vec<(String, String)>> {
    let raw = p.struct_list("Tag")?;
    if raw.is_empty() {
        return Err(Error::MissingParameter("Tag.N.Key".into()));
    }
    if raw.len() > MAX_TAGS {
        return Err(Error::TooManyTags);
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for t in raw {
        let key = t.get("Key").cloned().unwrap_or_default();
        let value = t.get("Value").cloned().unwrap_or_default();
        eip::check_tag(&key, &value)?;
        if out.iter().any(|(k, _)| *k == key) {
            return Err(Error::DuplicateTagKey);
        }
        out.push((key, value));
    }
    Ok(out)
}

/// TagResources: adds tags (a key already there gets the new value).
pub(crate) async fn tag_resources(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let t = tag_type(ctx, p)?;
    let ids = resource_ids(p, true)?;
    let new = tags_to_set(p)?;
    ctl.write(ctx, p, move |tx, env| {
        for id in &ids {
            if !exists(tx, &env.account, region, t, id)? {
                return Err(Error::ResourceIdNotFound(id.clone()));
            }
            let mut tags =
                tags_of(tx, &env.account, region, t, std::slice::from_ref(id))?.remove(id).unwrap_or_default();
            for (k, v) in &new {
                tags.retain(|(old, _)| old != k);
                tags.push((k.clone(), v.clone()));
            }
            if tags.len() > MAX_TAGS {
                return Err(Error::TooManyTags);
            }
            tags.sort();
            match t {
                TagType::Eip => tx.eip_tags_set(id, &tags)?,
                _ => {
                    for (k, v) in &new {
                        tx.tag_put(&TagRow {
                            account_id: env.account.clone(),
                            resource_type: t.stored().to_owned(),
                            resource_id: id.clone(),
                            key: k.clone(),
                            value: v.clone(),
                        })?;
                    }
                }
            }
        }
        Ok(Body::new())
    })
    .await
}

/// UnTagResources: removes the keys named in `TagKey.N`, or every tag with `All=true`.
pub(crate) async fn untag_resources(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let t = tag_type(ctx, p)?;
    let ids = resource_ids(p, true)?;
    let keys = p.list("TagKey")?;
    if keys.len() > MAX_TAGS {
        return Err(Error::TooManyTags);
    }
    for k in &keys {
        if k.chars().count() > 128 || k.starts_with("aliyun") || k.starts_with("acs:") {
            return Err(Error::invalid("TagKey.N", format!("tag key {k:?} is not valid")));
        }
    }
    let all = p.bool("All")?.unwrap_or(false);
    ctl.write(ctx, p, move |tx, env| {
        for id in &ids {
            if !exists(tx, &env.account, region, t, id)? {
                return Err(Error::ResourceIdNotFound(id.clone()));
            }
            let tags = tags_of(tx, &env.account, region, t, std::slice::from_ref(id))?.remove(id).unwrap_or_default();
            let (gone, kept): (Vec<_>, Vec<_>) = tags.into_iter().partition(|(k, _)| all || keys.contains(k));
            match t {
                TagType::Eip => tx.eip_tags_set(id, &kept)?,
                _ => {
                    for (k, _) in gone {
                        tx.tag_delete(t.stored(), id, &k)?;
                    }
                }
            }
        }
        Ok(Body::new())
    })
    .await
}

/// ListTagResources: one row per (resource, tag), by resource then key.
pub(crate) fn list_tag_resources(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let t = tag_type(ctx, p)?;
    let ids = resource_ids(p, false)?;
    let filter = p.struct_list("Tag")?;
    if filter.len() > MAX_TAGS {
        return Err(Error::TooManyTags);
    }
    let mut want: Vec<(String, Option<String>)> = Vec::new();
    for f in &filter {
        match f.get("Key").filter(|k| !k.is_empty()) {
            Some(k) => want.push((k.clone(), f.get("Value").cloned())),
            None => return Err(Error::MissingParameter("Tag.N.Key".into())),
        }
    }
    if ids.is_empty() && want.is_empty() {
        return Err(Error::MissingParameter("ResourceId.N".into()));
    }
    // ListTagResources pages with MaxResults (1-50, default 50) and NextToken.
    let window = Window::by_token(p, p.int("MaxResults", 1, 50)?.unwrap_or(50))?;
    ctl.read(|tx| {
        let all = tags_of(tx, &ctx.account, region, t, &ids)?;
        let rows: Vec<Value> = all
            .into_iter()
            .filter(|(_, tags)| {
                want.iter().all(|(k, v)| tags.iter().any(|(tk, tv)| tk == k && v.as_ref().is_none_or(|v| v == tv)))
            })
            .flat_map(|(id, mut tags)| {
                // With a tag filter, the rows are the matching resources' tags
                // of the keys asked for ("only Tag.N.Key: every value of it").
                if !want.is_empty() {
                    tags.retain(|(k, _)| want.iter().any(|(wk, _)| wk == k));
                }
                tags.sort();
                tags.into_iter().map(
                    move |(k, v)| json!({"ResourceId": id, "ResourceType": t.as_str(), "TagKey": k, "TagValue": v}),
                )
            })
            .collect();
        let total = rows.len() as i64;
        let page: Vec<Value> = rows.into_iter().skip(window.offset as usize).take(window.limit as usize).collect();
        Ok(crate::body(json!({
            "NextToken": window.next_token(total),
            "TagResources": {"TagResource": page},
        })))
    })
}

/// DeletionProtection: `Type=EIP` (pay-as-you-go EIPs) or `NATGW` turns
/// deletion protection on or off; a protected EIP cannot be released.
pub(crate) async fn deletion_protection(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let kind = p.req("Type")?.to_owned();
    let id = p.req("InstanceId")?.to_owned();
    let on = p.bool("ProtectionEnable")?.ok_or_else(|| Error::MissingParameter("ProtectionEnable".into()))?;
    if !kind.eq_ignore_ascii_case("EIP") {
        return Err(Error::UnsupportedResourceType(kind));
    }
    ctl.write(ctx, p, move |tx, env| {
        let mut e = tx
            .eip_get(&id)?
            .filter(|e| e.account_id == env.account && e.region_id == region)
            .ok_or_else(|| Error::ResourceIdNotFound(id.clone()))?;
        if e.charge_type == ChargeType::PrePaid {
            return Err(Error::ProtectionOfPrepaid);
        }
        e.deletion_protection = on;
        e.version += 1;
        tx.eip_update(&e)?;
        Ok(Body::new())
    })
    .await
}

/// MoveResourceGroup: `ResourceType=Eip` (any case) into `NewResourceGroupId`.
/// openeip has no resource-group service: any `rg-` id is taken as one.
pub(crate) async fn move_resource_group(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let kind = p.req("ResourceType")?.to_owned();
    let id = p.req("ResourceId")?.to_owned();
    let group = p.req("NewResourceGroupId")?.to_owned();
    if !kind.eq_ignore_ascii_case("EIP") {
        return Err(Error::UnsupportedResourceType(kind));
    }
    let well_formed = group
        .strip_prefix("rg-")
        .is_some_and(|rest| !rest.is_empty() && rest.len() <= 40 && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
    if !well_formed {
        return Err(Error::InvalidResourceGroupId);
    }
    ctl.write(ctx, p, move |tx, env| {
        let e = tx
            .eip_get(&id)?
            .filter(|e| e.account_id == env.account && e.region_id == region)
            .ok_or_else(|| Error::ResourceIdNotFound(id.clone()))?;
        tx.eip_set_resource_group(&e.id, &group)?;
        Ok(Body::new())
    })
    .await
}
