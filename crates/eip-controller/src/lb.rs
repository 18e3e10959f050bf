//! Load balancers: CLB (SLB 2014-05-15), which takes an EIP through
//! AssociateEipAddress when it is internal-facing in a VPC (LB-03), and ALB
//! (2020-06-16) / NLB (2022-04-30), which take one EIP per zone only through
//! their own CreateLoadBalancer and UpdateLoadBalancerAddressTypeConfig
//! (LB-01, LB-02). ALB and NLB requests carry no region: it comes from the VPC.

use crate::bind::{self, Binding};
use crate::tasks::{TaskKind, schedule};
use crate::{Body, Controller, Ctx, Env, body, paging, region_opt, region_param};
use eip_api::{Params, Product};
use eip_domain::rules::{EipEvent, EipFacts, check_eip_side, check_name, eip_transition};
use eip_domain::targets;
use eip_store::{EipRow, LbZoneRow, LoadBalancerRow, Tx};
use eip_types::time::format_iso;
use eip_types::{
    AlbId, AssociatedInstanceType, EipMode, EipStatus, Error, JobId, LbAddressType, LbStatus, LoadBalancerId,
    LoadBalancerKind, NlbId, ResourceKind, Result,
};
use serde_json::{Value, json};

fn kind_of(product: Product) -> LoadBalancerKind {
    match product {
        Product::Alb => LoadBalancerKind::Alb,
        Product::Nlb => LoadBalancerKind::Nlb,
        Product::Slb | Product::Vpc | Product::Ecs | Product::Sts | Product::Quotas | Product::Bss => {
            LoadBalancerKind::Clb
        }
    }
}

fn eip_kind(kind: LoadBalancerKind) -> AssociatedInstanceType {
    match kind {
        LoadBalancerKind::Alb => AssociatedInstanceType::Alb,
        LoadBalancerKind::Nlb => AssociatedInstanceType::Nlb,
        LoadBalancerKind::Clb => AssociatedInstanceType::SlbInstance,
    }
}

fn lb_of(
    tx: &mut dyn Tx,
    account: &str,
    id: &str,
    kind: LoadBalancerKind,
    region: Option<&str>,
) -> Result<LoadBalancerRow> {
    tx.lb_get(id)?
        .filter(|l| l.account_id == account && l.kind == kind && region.is_none_or(|r| r == l.region_id))
        .ok_or_else(|| Error::not_found(ResourceKind::LoadBalancer, id))
}

/// The CLB side of AssociateEipAddress (`InstanceType=SlbInstance`, LB-03).
pub(crate) fn check_associate_clb(tx: &mut dyn Tx, env: &Env, eip: &EipRow, id: &str) -> Result<(EipStatus, Binding)> {
    let lb = tx
        .lb_get(id)?
        .filter(|l| l.account_id == env.account && l.kind == LoadBalancerKind::Clb)
        .ok_or_else(|| Error::AssociateTargetNotFound(id.to_owned()))?;
    let next = check_eip_side(EipFacts { status: eip.status, region: &eip.region_id }, &lb.region_id)?;
    let has_eip = !tx.eip_list_by_target(&lb.id)?.is_empty();
    targets::check_associate_clb(lb.address_type, lb.vpc_id.is_some(), has_eip)?;
    Ok((
        next,
        Binding {
            kind: AssociatedInstanceType::SlbInstance,
            instance_id: lb.id.clone(),
            region: lb.region_id.clone(),
            mode: EipMode::Nat,
            private: lb.vswitch_id.clone().map(|v| (v, lb.address.clone())),
        },
    ))
}

// ---------------------------------------------------------------- CLB

/// An `on`/`off` parameter (CLB `DeleteProtection`).
fn on_off(p: &Params, name: &str) -> Result<Option<bool>> {
    match p.opt(name) {
        None => Ok(None),
        Some("on") => Ok(Some(true)),
        Some("off") => Ok(Some(false)),
        Some(v) => Err(Error::invalid(name, format!("{v} is not on or off"))),
    }
}

/// A CLB's master zone: the stored one, else (rows from before it was
/// stored) its vSwitch's zone, else the region's first zone.
fn clb_master_zone(tx: &mut dyn Tx, lb: &LoadBalancerRow) -> Result<String> {
    if let Some(z) = &lb.master_zone_id {
        return Ok(z.clone());
    }
    if let Some(v) = &lb.vswitch_id
        && let Some(s) = tx.vswitch_get(&lb.account_id, v)?
    {
        return Ok(s.zone_id);
    }
    let zones = eip_domain::catalogue::region(&lb.region_id).map(|r| r.zones).unwrap_or(&[]);
    Ok(zones.first().copied().unwrap_or_default().to_owned())
}

/// SetLoadBalancerDeleteProtection (CLB): turns deletion protection on or off.
pub(crate) async fn set_clb_delete_protection(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let on = on_off(p, "DeleteProtection")?.ok_or_else(|| Error::MissingParameter("DeleteProtection".into()))?;
    write_delete_protection(ctl, ctx, p, LoadBalancerKind::Clb, region, id, on).await
}

/// Stores a load balancer's deletion protection flag.
async fn write_delete_protection(
    ctl: &Controller,
    ctx: &Ctx,
    p: &Params,
    kind: LoadBalancerKind,
    region: Option<&'static str>,
    id: String,
    on: bool,
) -> Result<Body> {
    ctl.write(ctx, p, move |tx, env| {
        let mut lb = lb_of(tx, &env.account, &id, kind, region)?;
        lb.delete_protection = on;
        tx.lb_update(&lb)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn create_clb(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let vsw_id = p.opt("VSwitchId").map(str::to_owned);
    let address_type = match p.opt("AddressType") {
        Some(v) => LbAddressType::parse(v)
            .ok_or_else(|| Error::invalid("AddressType", format!("{v} is not internet or intranet")))?,
        None if vsw_id.is_some() => LbAddressType::Intranet,
        None => LbAddressType::Internet,
    };
    let address = p.opt("Address").map(str::to_owned);
    let name = p.raw("LoadBalancerName").unwrap_or_default().to_owned();
    check_name("LoadBalancerName", &name, 80)?;
    let spec = p.opt("LoadBalancerSpec").unwrap_or("slb.s1.small").to_owned();
    let vpc_param = p.opt("VpcId").map(str::to_owned);
    let delete_protection = on_off(p, "DeleteProtection")?.unwrap_or(false);
    let master_param = p.opt("MasterZoneId").map(str::to_owned);
    ctl.write(ctx, p, move |tx, env| {
        let id = LoadBalancerId::generate().to_string();
        let vsw = match &vsw_id {
            Some(v) => Some(
                tx.vswitch_get(&env.account, v)?
                    .filter(|s| s.region_id == region)
                    .ok_or_else(|| Error::not_found(ResourceKind::VSwitch, v))?,
            ),
            None => None,
        };
        if let (Some(v), Some(s)) = (&vpc_param, &vsw)
            && v != &s.vpc_id
        {
            return Err(Error::invalid("VpcId", "the vSwitch is not in this VPC"));
        }
        // The master zone of a VPC CLB is its vSwitch's zone; a classic one
        // takes MasterZoneId (a zone of the region) or the region's first zone.
        let zones = eip_domain::catalogue::region(region).map(|r| r.zones).unwrap_or(&[]);
        let master = match (&vsw, &master_param) {
            (Some(s), Some(m)) if m != &s.zone_id => {
                return Err(Error::invalid(
                    "MasterZoneId",
                    format!("{m} is not the zone of vSwitch {} ({})", s.id, s.zone_id),
                ));
            }
            (Some(s), _) => s.zone_id.clone(),
            (None, Some(m)) if !zones.contains(&m.as_str()) => {
                return Err(Error::invalid("MasterZoneId", format!("{m} is not a zone of {region}")));
            }
            (None, Some(m)) => m.clone(),
            (None, None) => zones.first().copied().unwrap_or_default().to_owned(),
        };
        let addr = match (address_type, &vsw) {
            (LbAddressType::Intranet, Some(s)) => crate::net::take_private(tx, s, &id, address.as_deref(), false)?,
            (LbAddressType::Intranet, None) => return Err(Error::MissingParameter("VSwitchId".into())),
            (LbAddressType::Internet, _) => crate::net::take_public(tx, region, "lb", &id)?,
        };
        let row = LoadBalancerRow {
            id,
            account_id: env.account.clone(),
            region_id: region.to_owned(),
            kind: LoadBalancerKind::Clb,
            address_type,
            vpc_id: vsw.as_ref().map(|s| s.vpc_id.clone()),
            vswitch_id: vsw.as_ref().map(|s| s.id.clone()),
            address: addr,
            name: if name.is_empty() { "auto_named_slb".into() } else { name.clone() },
            spec: spec.clone(),
            status: "active".into(),
            created_at: env.now,
            delete_protection,
            master_zone_id: Some(master),
        };
        tx.lb_insert(&row)?;
        let rg = eip_types::default_resource_group(&eip_types::AccountId::from_trusted(env.account.clone()));
        Ok(body(json!({
            "LoadBalancerId": row.id,
            "Address": row.address,
            "AddressIPVersion": "ipv4",
            "LoadBalancerName": row.name,
            "NetworkType": if row.vpc_id.is_some() { "vpc" } else { "classic" },
            "VpcId": row.vpc_id.clone().unwrap_or_default(),
            "VSwitchId": row.vswitch_id.clone().unwrap_or_default(),
            "ResourceGroupId": rg,
            "OrderId": 0,
        })))
    })
    .await
}

/// The tags of an account's CLBs, for [`clb_item`].
type ClbTags = std::collections::BTreeMap<String, Vec<(String, String)>>;

fn clb_tags(tx: &mut dyn Tx, account: &str) -> Result<ClbTags> {
    crate::tags::of_type(tx, account, "SLB:instance")
}

/// A CLB as DescribeLoadBalancers lists it.
fn clb_item(tx: &mut dyn Tx, l: &LoadBalancerRow, tags: &ClbTags) -> Result<Value> {
    let zones = eip_domain::catalogue::region(&l.region_id).map(|r| r.zones).unwrap_or(&[]);
    let master = clb_master_zone(tx, l)?;
    let slave = zones.iter().copied().find(|z| *z != master).unwrap_or_default();
    let mut v = json!({
        "LoadBalancerId": l.id,
        "LoadBalancerName": l.name,
        "LoadBalancerStatus": l.status,
        "Address": l.address,
        "AddressType": l.address_type.as_str(),
        "AddressIPVersion": "ipv4",
        "RegionId": l.region_id,
        "RegionIdAlias": l.region_id,
        "VpcId": l.vpc_id.clone().unwrap_or_default(),
        "VSwitchId": l.vswitch_id.clone().unwrap_or_default(),
        "NetworkType": if l.vpc_id.is_some() { "vpc" } else { "classic" },
        "LoadBalancerSpec": l.spec,
        "PayType": "PayOnDemand",
        "InternetChargeType": "paybytraffic",
        "InstanceChargeType": "PayBySpec",
        "CreateTime": format_iso(l.created_at),
        "CreateTimeStamp": l.created_at,
        "MasterZoneId": master,
        "SlaveZoneId": slave,
        "DeleteProtection": if l.delete_protection { "on" } else { "off" },
        "ModificationProtectionStatus": "NonProtection",
        "ResourceGroupId": eip_types::default_resource_group(&eip_types::AccountId::from_trusted(l.account_id.clone())),
        "Tags": {"Tag": []},
    });
    crate::tags::show(&mut v, "LoadBalancerId", tags, true);
    Ok(v)
}

/// DescribeLoadBalancerAttribute: one CLB with its listeners and backend
/// servers (footmark's create_load_balancer reads it back).
pub(crate) fn describe_clb_attribute(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    ctl.read(|tx| {
        let l = tx
            .lb_get(&id)?
            .filter(|l| l.account_id == ctx.account && l.kind == LoadBalancerKind::Clb)
            .filter(|l| region.is_none_or(|r| r == l.region_id))
            .ok_or_else(|| Error::not_found(ResourceKind::LoadBalancer, &id))?;
        let tags = clb_tags(tx, &l.account_id)?;
        let mut v = clb_item(tx, &l, &tags)?;
        let listeners = tx.clb_listener_list(&l.id)?;
        let backends = tx.clb_backend_list(&l.id)?;
        let ports: Vec<i64> = listeners.iter().map(|x| x.port).collect();
        let with_protocol: Vec<Value> =
            listeners.iter().map(|x| json!({"ListenerPort": x.port, "ListenerProtocol": "tcp"})).collect();
        let misspelt: Vec<Value> =
            listeners.iter().map(|x| json!({"ListenerPort": x.port, "ListenerProtocal": "tcp"})).collect();
        let servers: Vec<Value> = backends
            .iter()
            .map(|b| json!({"ServerId": b.server_id, "Weight": b.weight, "Type": "ecs", "Description": ""}))
            .collect();
        v["ListenerPorts"] = json!({"ListenerPort": ports});
        v["ListenerPortsAndProtocol"] = json!({"ListenerPortAndProtocol": with_protocol});
        // Alibaba's API carries both spellings.
        v["ListenerPortsAndProtocal"] = json!({"ListenerPortAndProtocal": misspelt});
        v["BackendServers"] = json!({"BackendServer": servers});
        v["Bandwidth"] = json!(listeners.iter().map(|x| x.bandwidth).max().unwrap_or(-1));
        v["EndTime"] = json!("2999-09-08T16:00:00Z");
        v["EndTimeStamp"] = json!(32_493_801_600_000i64);
        v["RenewalStatus"] = json!("AutoRenewal");
        Ok(body(v))
    })
}

pub(crate) fn describe_clb(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let ids = p.comma_list("LoadBalancerId", 100)?;
    let address_type = p.opt("AddressType").map(str::to_owned);
    let vpc = p.opt("VpcId").map(str::to_owned);
    let vsw = p.opt("VSwitchId").map(str::to_owned);
    let name = p.opt("LoadBalancerName").map(str::to_owned);
    let address = p.opt("Address").map(str::to_owned);
    let (page, size) = paging(p, 10, 100)?;
    ctl.read(|tx| {
        let all: Vec<LoadBalancerRow> = tx
            .lb_list(&ctx.account, region, LoadBalancerKind::Clb.as_str())?
            .into_iter()
            .filter(|l| ids.is_empty() || ids.contains(&l.id))
            .filter(|l| address_type.as_ref().is_none_or(|t| l.address_type.as_str() == t))
            .filter(|l| vpc.as_ref().is_none_or(|v| l.vpc_id.as_ref() == Some(v)))
            .filter(|l| vsw.as_ref().is_none_or(|v| l.vswitch_id.as_ref() == Some(v)))
            .filter(|l| name.as_ref().is_none_or(|n| &l.name == n))
            .filter(|l| address.as_ref().is_none_or(|a| &l.address == a))
            .collect();
        let tags = clb_tags(tx, &ctx.account)?;
        let mut items: Vec<Value> = Vec::new();
        for l in all.iter().skip(((page - 1) * size) as usize).take(size as usize) {
            items.push(clb_item(tx, l, &tags)?);
        }
        Ok(body(json!({
            "TotalCount": all.len(),
            "PageNumber": page,
            "PageSize": size,
            "LoadBalancers": {"LoadBalancer": items},
        })))
    })
}

/// Releases what a load balancer holds: its EIPs (unbound at once, they stay
/// allocated), its addresses, then the row.
fn remove(tx: &mut dyn Tx, lb: &LoadBalancerRow, now: i64) -> Result<()> {
    bind::unbind_all(tx, &lb.id)?;
    tx.private_ip_delete_holder(&lb.id)?;
    if lb.kind == LoadBalancerKind::Clb && lb.address_type == LbAddressType::Internet {
        crate::net::free_instance_public(tx, &lb.address, &lb.region_id, now)?;
    }
    tx.lb_delete(&lb.id)?;
    Ok(())
}

pub(crate) async fn delete_clb(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    ctl.write(ctx, p, move |tx, env| {
        let lb = lb_of(tx, &env.account, &id, LoadBalancerKind::Clb, region)?;
        if lb.delete_protection {
            return Err(Error::LoadBalancerDeleteProtection);
        }
        remove(tx, &lb, env.now)?;
        Ok(Body::new())
    })
    .await
}

// ---------------------------------------------------------------- ALB and NLB

/// One `ZoneMappings.N` as sent: (ZoneId, VSwitchId, AllocationId).
type ZoneMapping = (Option<String>, Option<String>, Option<String>);

/// `ZoneMappings.N` as sent.
fn zone_mappings(p: &Params) -> Result<Vec<ZoneMapping>> {
    Ok(p.struct_list("ZoneMappings")?
        .into_iter()
        .map(|m| {
            let f = |k: &str| m.get(k).filter(|v| !v.is_empty()).cloned();
            (f("ZoneId"), f("VSwitchId"), f("AllocationId"))
        })
        .collect())
}

/// Puts the zone EIPs of an internet-facing ALB/NLB on it (LB-02).
fn attach_zone_eips(
    tx: &mut dyn Tx,
    env: &Env,
    lb: &LoadBalancerRow,
    zones: &mut [LbZoneRow],
    wanted: &[ZoneMapping],
) -> Result<()> {
    let mut used = std::collections::HashSet::new();
    for z in zones.iter_mut() {
        let m = wanted.iter().find(|(zid, vsw, _)| {
            zid.as_deref() == Some(z.zone_id.as_str()) || vsw.as_deref() == Some(z.vswitch_id.as_str())
        });
        let Some(aid) = m.and_then(|(_, _, a)| a.clone()) else {
            return Err(Error::MissingParameter("ZoneMappings.N.AllocationId".into()));
        };
        if !used.insert(aid.clone()) {
            return Err(Error::invalid("ZoneMappings.N.AllocationId", "one EIP per zone"));
        }
        let mut eip = tx
            .eip_get(&aid)?
            .filter(|e| e.account_id == env.account)
            .ok_or_else(|| Error::not_found(ResourceKind::Eip, &aid))?;
        let next = check_eip_side(EipFacts { status: eip.status, region: &eip.region_id }, &lb.region_id)?;
        // The zone's address may still be mapped by an EIP being let go of
        // (it leaves when its unassociation completes): not yet.
        if tx.eip_list_by_private_ip(&z.vswitch_id, &z.private_ip)?.iter().any(|e| e.id != eip.id) {
            return Err(Error::IncorrectLoadBalancerStatus);
        }
        bind::record(
            &mut eip,
            next,
            Binding {
                kind: eip_kind(lb.kind),
                instance_id: lb.id.clone(),
                region: lb.region_id.clone(),
                mode: EipMode::Nat,
                private: Some((z.vswitch_id.clone(), z.private_ip.clone())),
            },
        );
        eip.version += 1;
        tx.eip_update(&eip)?;
        schedule(tx, TaskKind::EipAssociate, &eip.id, env)?;
        z.allocation_id = Some(aid);
        tx.lb_zone_update(z)?;
    }
    Ok(())
}

pub(crate) async fn create_v2(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let kind = kind_of(ctx.product);
    let region = region_opt(p)?;
    let vpc_id = p.req("VpcId")?.to_owned();
    let address_type = v2_address_type(p)?;
    let wanted = zone_mappings(p)?;
    if wanted.is_empty() {
        return Err(Error::MissingParameter("ZoneMappings".into()));
    }
    if wanted.len() > 10 {
        return Err(Error::invalid("ZoneMappings", "at most 10 zones"));
    }
    let name = p.raw("LoadBalancerName").unwrap_or_default().to_owned();
    check_name("LoadBalancerName", &name, 128)?;
    let spec = match kind {
        LoadBalancerKind::Alb => {
            let e = p.req("LoadBalancerEdition")?;
            if !["Basic", "Standard", "StandardWithWaf"].contains(&e) {
                return Err(Error::invalid(
                    "LoadBalancerEdition",
                    format!("{e} is not Basic, Standard or StandardWithWaf"),
                ));
            }
            e.to_owned()
        }
        LoadBalancerKind::Nlb | LoadBalancerKind::Clb => {
            let t = p.opt("LoadBalancerType").unwrap_or("network");
            if t != "network" {
                return Err(Error::invalid("LoadBalancerType", format!("{t} is not network")));
            }
            t.to_owned()
        }
    };
    // ALB: LoadBalancerBillingConfig (PayType=PostPay) is required; NLB: optional.
    match (kind, p.opt("LoadBalancerBillingConfig.PayType")) {
        (_, Some("PostPay")) => {}
        (_, Some(v)) => return Err(Error::invalid("LoadBalancerBillingConfig.PayType", format!("{v} is not PostPay"))),
        (LoadBalancerKind::Alb, None) => {
            return Err(Error::MissingParameter("LoadBalancerBillingConfig.PayType".into()));
        }
        (LoadBalancerKind::Nlb | LoadBalancerKind::Clb, None) => {}
    }
    let delete_protection = match kind {
        LoadBalancerKind::Alb => p.bool("DeletionProtectionEnabled")?,
        LoadBalancerKind::Nlb | LoadBalancerKind::Clb => p.bool("DeletionProtectionConfig.Enabled")?,
    }
    .unwrap_or(false);
    crate::dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let vpc = tx
            .vpc_get(&env.account, &vpc_id)?
            .filter(|v| region.is_none_or(|r| r == v.region_id))
            .ok_or_else(|| Error::not_found(ResourceKind::Vpc, &vpc_id))?;
        let region_zones = eip_domain::catalogue::region(&vpc.region_id).map_or(0, |r| r.zones.len());
        if region_zones >= 2 && wanted.len() < 2 {
            return Err(Error::invalid(
                "ZoneMappings",
                format!("at least 2 zones are required in {} (it has {region_zones})", vpc.region_id),
            ));
        }
        let id = match kind {
            LoadBalancerKind::Alb => AlbId::generate().to_string(),
            LoadBalancerKind::Nlb | LoadBalancerKind::Clb => NlbId::generate().to_string(),
        };
        let lb = LoadBalancerRow {
            id: id.clone(),
            account_id: env.account.clone(),
            region_id: vpc.region_id.clone(),
            kind,
            address_type,
            vpc_id: Some(vpc.id.clone()),
            vswitch_id: None,
            address: String::new(),
            name: name.clone(),
            spec: spec.clone(),
            status: LbStatus::Provisioning.as_str().to_owned(),
            created_at: env.now,
            delete_protection,
            master_zone_id: None,
        };
        tx.lb_insert(&lb)?;
        let mut zones = Vec::new();
        for (zone, vsw_id, _) in &wanted {
            let vsw_id = vsw_id.clone().ok_or_else(|| Error::MissingParameter("ZoneMappings.N.VSwitchId".into()))?;
            let zone = zone.clone().ok_or_else(|| Error::MissingParameter("ZoneMappings.N.ZoneId".into()))?;
            let vsw = tx
                .vswitch_get(&env.account, &vsw_id)?
                .filter(|s| s.vpc_id == vpc.id)
                .ok_or_else(|| Error::not_found(ResourceKind::VSwitch, &vsw_id))?;
            if vsw.zone_id != zone {
                return Err(Error::invalid("ZoneMappings.N.ZoneId", format!("{vsw_id} is in {}", vsw.zone_id)));
            }
            if zones.iter().any(|z: &LbZoneRow| z.zone_id == zone) {
                return Err(Error::invalid("ZoneMappings.N.ZoneId", "a zone is listed twice"));
            }
            let ip = crate::net::take_private(tx, &vsw, &id, None, false)?;
            let z = LbZoneRow {
                lb_id: id.clone(),
                zone_id: zone,
                vswitch_id: vsw.id.clone(),
                private_ip: ip,
                allocation_id: None,
            };
            tx.lb_zone_insert(&z)?;
            zones.push(z);
        }
        if address_type == LbAddressType::Internet {
            attach_zone_eips(tx, env, &lb, &mut zones, &wanted)?;
        }
        schedule(tx, TaskKind::LbActivate, &id, env)?;
        Ok(match kind {
            LoadBalancerKind::Nlb | LoadBalancerKind::Clb => body(json!({"LoadbalancerId": id, "OrderId": 0})),
            LoadBalancerKind::Alb => body(json!({"LoadBalancerId": id})),
        })
    })
    .await
}

/// `AddressType` of ALB/NLB CreateLoadBalancer and
/// UpdateLoadBalancerAddressTypeConfig: exactly `Internet` or `Intranet`.
fn v2_address_type(p: &Params) -> Result<LbAddressType> {
    match p.req("AddressType")? {
        "Internet" => Ok(LbAddressType::Internet),
        "Intranet" => Ok(LbAddressType::Intranet),
        v => Err(Error::invalid("AddressType", format!("{v} is not Internet or Intranet"))),
    }
}

/// The status an ALB/NLB shows: `Configuring` while EIPs it holds (or is
/// letting go of) are still associating or unassociating.
fn v2_status(tx: &mut dyn Tx, lb: &LoadBalancerRow) -> Result<String> {
    if lb.status == LbStatus::Active.as_str()
        && tx.eip_list_by_target(&lb.id)?.iter().any(|e| e.status.is_transitional())
    {
        return Ok(LbStatus::Configuring.as_str().to_owned());
    }
    Ok(lb.status.clone())
}

fn render_v2(tx: &mut dyn Tx, lb: &LoadBalancerRow) -> Result<Value> {
    let status = v2_status(tx, lb)?;
    let mut zone_items = Vec::new();
    for z in tx.lb_zone_list(&lb.id)? {
        let public = match &z.allocation_id {
            Some(a) => tx.eip_get(a)?.map(|e| e.ip).unwrap_or_default(),
            None => String::new(),
        };
        let addr = match lb.kind {
            LoadBalancerKind::Alb => json!({
                "Address": if public.is_empty() { z.private_ip.clone() } else { public.clone() },
                "AllocationId": z.allocation_id.clone().unwrap_or_default(),
                "EipType": if z.allocation_id.is_some() { "Common" } else { "" },
                "IntranetAddress": z.private_ip,
                "AddressIpVersion": "IPv4",
            }),
            LoadBalancerKind::Nlb | LoadBalancerKind::Clb => json!({
                "AllocationId": z.allocation_id.clone().unwrap_or_default(),
                "PublicIPv4Address": public,
                "PrivateIPv4Address": z.private_ip,
                "EniId": "",
            }),
        };
        zone_items.push(json!({"ZoneId": z.zone_id, "VSwitchId": z.vswitch_id, "LoadBalancerAddresses": [addr]}));
    }
    let dns = format!("{}.{}.{}.aliyuncs.com", lb.id, lb.region_id, lb.kind.as_str());
    Ok(json!({
        "LoadBalancerId": lb.id,
        "LoadBalancerName": lb.name,
        "LoadBalancerStatus": status,
        "LoadBalancerBussinessStatus": "Normal",
        "LoadBalancerBusinessStatus": "Normal",
        "AddressType": lb.address_type.capitalized(),
        "AddressIpVersion": if lb.kind == LoadBalancerKind::Alb { "IPv4" } else { "ipv4" },
        "AddressAllocatedMode": "Fixed",
        "LoadBalancerEdition": lb.spec,
        "LoadBalancerType": lb.spec,
        "VpcId": lb.vpc_id.clone().unwrap_or_default(),
        "RegionId": lb.region_id,
        "DNSName": dns,
        "CreateTime": format_iso(lb.created_at),
        "ResourceGroupId": eip_types::default_resource_group(&eip_types::AccountId::from_trusted(lb.account_id.clone())),
        "LoadBalancerBillingConfig": {"PayType": "PostPay"},
        "ZoneMappings": zone_items,
        "DeletionProtectionConfig": {"Enabled": lb.delete_protection},
        "Tags": [],
    }))
}

pub(crate) fn get_v2(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let kind = kind_of(ctx.product);
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    ctl.read(|tx| {
        let lb = lb_of(tx, &ctx.account, &id, kind, region)?;
        Ok(body(render_v2(tx, &lb)?))
    })
}

pub(crate) fn list_v2(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let kind = kind_of(ctx.product);
    let region = region_opt(p)?;
    let ids = p.list("LoadBalancerIds")?;
    let vpcs = p.list("VpcIds")?;
    let names = p.list("LoadBalancerNames")?;
    let address_type = p.opt("AddressType").and_then(LbAddressType::parse_any_case);
    let status = p.opt("LoadBalancerStatus").map(str::to_owned);
    let max = p.int("MaxResults", 1, 100)?.unwrap_or(20);
    let offset = match p.opt("NextToken") {
        Some(t) => t.parse::<i64>().map_err(|_| Error::invalid("NextToken", "is not a token this server issued"))?,
        None => 0,
    };
    ctl.read(|tx| {
        let all: Vec<LoadBalancerRow> = tx
            .lb_list_all_regions(&ctx.account, kind.as_str())?
            .into_iter()
            .filter(|l| region.is_none_or(|r| r == l.region_id))
            .filter(|l| ids.is_empty() || ids.contains(&l.id))
            .filter(|l| vpcs.is_empty() || l.vpc_id.as_ref().is_some_and(|v| vpcs.contains(v)))
            .filter(|l| names.is_empty() || names.contains(&l.name))
            .filter(|l| address_type.is_none_or(|t| l.address_type == t))
            .collect();
        let mut all_matching = Vec::new();
        for l in all {
            if status.is_none() || status.as_deref() == Some(v2_status(tx, &l)?.as_str()) {
                all_matching.push(l);
            }
        }
        let all = all_matching;
        let mut items = Vec::new();
        for l in all.iter().skip(offset.max(0) as usize).take(max as usize) {
            items.push(render_v2(tx, l)?);
        }
        let total = all.len() as i64;
        let next = if offset + max < total { (offset + max).to_string() } else { String::new() };
        Ok(body(json!({"LoadBalancers": items, "TotalCount": total, "MaxResults": max, "NextToken": next})))
    })
}

pub(crate) async fn update_address_type(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let kind = kind_of(ctx.product);
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let address_type = v2_address_type(p)?;
    let wanted = zone_mappings(p)?;
    crate::dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let mut lb = lb_of(tx, &env.account, &id, kind, region)?;
        // Only an Active load balancer: not while it is provisioning, nor
        // while the EIPs of a previous change settle (Configuring).
        if v2_status(tx, &lb)? != LbStatus::Active.as_str() {
            return Err(Error::IncorrectLoadBalancerStatus);
        }
        if lb.address_type == address_type && wanted.iter().any(|(_, _, a)| a.is_some()) {
            return Err(Error::invalid(
                "ZoneMappings.N.AllocationId",
                format!(
                    "{} is already {}: EIPs are only taken when AddressType changes from Intranet to Internet",
                    lb.id,
                    address_type.capitalized()
                ),
            ));
        }
        let mut zones = tx.lb_zone_list(&lb.id)?;
        match (lb.address_type, address_type) {
            (LbAddressType::Intranet, LbAddressType::Internet) => {
                attach_zone_eips(tx, env, &lb, &mut zones, &wanted)?;
            }
            (LbAddressType::Internet, LbAddressType::Intranet) => {
                for mut eip in tx.eip_list_by_target(&lb.id)? {
                    eip.status = eip_transition(eip.status, EipEvent::Unassociate)?;
                    eip.version += 1;
                    tx.eip_update(&eip)?;
                    schedule(tx, TaskKind::EipUnassociate, &eip.id, env)?;
                }
                for z in zones.iter_mut() {
                    z.allocation_id = None;
                    tx.lb_zone_update(z)?;
                }
            }
            (LbAddressType::Internet, LbAddressType::Internet) | (LbAddressType::Intranet, LbAddressType::Intranet) => {
            }
        }
        lb.address_type = address_type;
        tx.lb_update(&lb)?;
        Ok(body(json!({"JobId": JobId::generate().to_string()})))
    })
    .await
}

/// ALB EnableDeletionProtection / DisableDeletionProtection (`ResourceId`).
pub(crate) async fn set_alb_deletion_protection(ctl: &Controller, ctx: &Ctx, p: &Params, on: bool) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("ResourceId")?.to_owned();
    crate::dry_run(p)?;
    write_delete_protection(ctl, ctx, p, LoadBalancerKind::Alb, region, id, on).await
}

pub(crate) async fn delete_v2(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let kind = kind_of(ctx.product);
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    crate::dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let lb = lb_of(tx, &env.account, &id, kind, region)?;
        if lb.delete_protection {
            return Err(Error::LoadBalancerDeleteProtection);
        }
        if v2_status(tx, &lb)? == LbStatus::Configuring.as_str() {
            return Err(Error::IncorrectLoadBalancerStatus);
        }
        remove(tx, &lb, env.now)?;
        Ok(body(json!({"JobId": JobId::generate().to_string()})))
    })
    .await
}

// ---------------------------------------------------------------- CLB listeners

fn port_param(p: &Params, name: &str) -> Result<i64> {
    p.int(name, 1, 65535)?.ok_or_else(|| Error::MissingParameter(name.into()))
}

fn listener_of(tx: &mut dyn Tx, lb: &LoadBalancerRow, port: i64) -> Result<eip_store::ClbListenerRow> {
    tx.clb_listener_list(&lb.id)?
        .into_iter()
        .find(|l| l.port == port)
        .ok_or_else(|| Error::invalid("ListenerPort", format!("{port} has no listener")))
}

/// The CLB's backend servers as the SLB actions return them.
fn backend_list(tx: &mut dyn Tx, lb: &LoadBalancerRow) -> Result<Value> {
    let items: Vec<Value> = tx
        .clb_backend_list(&lb.id)?
        .iter()
        .map(|b| json!({"ServerId": b.server_id, "Weight": b.weight.to_string(), "Type": "ecs"}))
        .collect();
    Ok(json!({"LoadBalancerId": lb.id, "BackendServers": {"BackendServer": items}}))
}

/// `BackendServers`: a JSON array of `{ServerId, Weight?, Type?}` (1 to 20).
fn backend_param(p: &Params) -> Result<Vec<(String, i64)>> {
    let raw = p.req("BackendServers")?;
    let list: Vec<Value> = serde_json::from_str(raw)
        .map_err(|_| Error::invalid("BackendServers", "is not a JSON array of {ServerId, Weight}"))?;
    if list.is_empty() || list.len() > 20 {
        return Err(Error::invalid("BackendServers", "1 to 20 servers"));
    }
    let mut wanted = Vec::new();
    for v in &list {
        let server = v
            .get("ServerId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::MissingParameter("BackendServers.ServerId".into()))?;
        let weight = match v.get("Weight") {
            None => 100,
            Some(Value::Number(n)) => n.as_i64().unwrap_or(-1),
            Some(Value::String(s)) => s.parse::<i64>().unwrap_or(-1),
            Some(_) => -1,
        };
        if !(0..=100).contains(&weight) {
            return Err(Error::invalid("BackendServers.Weight", "must be 0 to 100"));
        }
        if let Some(t) = v.get("Type").and_then(Value::as_str)
            && t != "ecs"
        {
            return Err(Error::invalid("BackendServers.Type", "only ecs is supported"));
        }
        wanted.push((server.to_owned(), weight));
    }
    Ok(wanted)
}

/// The health-check parameters of CreateLoadBalancerTCPListener and
/// SetLoadBalancerTCPListenerAttribute, as sent (`None`: not sent).
#[derive(Clone, Debug, Default)]
struct HealthCheckParams {
    switch: Option<bool>,
    port: Option<i64>,
    healthy: Option<i64>,
    unhealthy: Option<i64>,
    timeout: Option<i64>,
    interval: Option<i64>,
}

impl HealthCheckParams {
    /// Reads and checks them (Alibaba's names and ranges: thresholds 2-10,
    /// timeout 1-300 s, interval 1-50 s). Only TCP health checks are run:
    /// `HealthCheckType=http` is refused.
    fn read(p: &Params) -> Result<HealthCheckParams> {
        let switch = match p.opt("HealthCheckSwitch") {
            None => None,
            Some("on") => Some(true),
            Some("off") => Some(false),
            Some(v) => return Err(Error::invalid("HealthCheckSwitch", format!("{v} is not on or off"))),
        };
        match p.opt("HealthCheckType") {
            None | Some("tcp") => {}
            Some(v) => {
                return Err(Error::invalid("HealthCheckType", format!("{v} health checks are not supported (tcp)")));
            }
        }
        Ok(HealthCheckParams {
            switch,
            port: p.int("HealthCheckConnectPort", 1, 65535)?,
            healthy: p.int("HealthyThreshold", 2, 10)?,
            unhealthy: p.int("UnhealthyThreshold", 2, 10)?,
            timeout: p.int("HealthCheckConnectTimeout", 1, 300)?,
            // CreateLoadBalancerTCPListener spells it `healthCheckInterval`
            // (as Alibaba's API and SDKs do), SetLoadBalancerTCPListenerAttribute
            // `HealthCheckInterval`; either is taken by both.
            interval: match p.int("healthCheckInterval", 1, 50)? {
                Some(v) => Some(v),
                None => p.int("HealthCheckInterval", 1, 50)?,
            },
        })
    }

    /// Writes what was sent into the listener.
    fn apply(&self, l: &mut eip_store::ClbListenerRow) {
        if let Some(v) = self.switch {
            l.health_check = v;
        }
        if self.port.is_some() {
            l.health_check_connect_port = self.port;
        }
        l.healthy_threshold = self.healthy.unwrap_or(l.healthy_threshold);
        l.unhealthy_threshold = self.unhealthy.unwrap_or(l.unhealthy_threshold);
        l.health_check_connect_timeout = self.timeout.unwrap_or(l.health_check_connect_timeout);
        l.health_check_interval = self.interval.unwrap_or(l.health_check_interval);
    }
}

pub(crate) async fn create_tcp_listener(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let port = port_param(p, "ListenerPort")?;
    let backend_port = match p.int("BackendServerPort", 1, 65535)? {
        Some(b) => b,
        None => port,
    };
    let bandwidth = p.int("Bandwidth", -1, 5120)?.unwrap_or(-1);
    let hc = HealthCheckParams::read(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let lb = lb_of(tx, &env.account, &id, LoadBalancerKind::Clb, region)?;
        if tx.clb_listener_list(&lb.id)?.iter().any(|l| l.port == port) {
            return Err(Error::invalid("ListenerPort", format!("{port} already has a listener")));
        }
        // Alibaba's defaults for a TCP listener: health checks on, every 2 s,
        // 5 s to connect, 3 successes / 3 failures to change state.
        let mut l = eip_store::ClbListenerRow {
            lb_id: lb.id,
            port,
            backend_port,
            bandwidth,
            status: "stopped".into(),
            health_check: true,
            health_check_connect_port: None,
            healthy_threshold: 3,
            unhealthy_threshold: 3,
            health_check_connect_timeout: 5,
            health_check_interval: 2,
        };
        hc.apply(&mut l);
        tx.clb_listener_put(&l)?;
        Ok(Body::new())
    })
    .await
}

/// SetLoadBalancerTCPListenerAttribute: the health-check settings and the
/// bandwidth of a listener; what is not sent is kept.
pub(crate) async fn set_tcp_listener(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let port = port_param(p, "ListenerPort")?;
    let bandwidth = p.int("Bandwidth", -1, 5120)?;
    let hc = HealthCheckParams::read(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let lb = lb_of(tx, &env.account, &id, LoadBalancerKind::Clb, region)?;
        let mut l = listener_of(tx, &lb, port)?;
        hc.apply(&mut l);
        l.bandwidth = bandwidth.unwrap_or(l.bandwidth);
        tx.clb_listener_put(&l)?;
        Ok(Body::new())
    })
    .await
}

/// StartLoadBalancerListener / StopLoadBalancerListener: the gateway spreads
/// connections only for running listeners.
pub(crate) async fn set_listener_running(ctl: &Controller, ctx: &Ctx, p: &Params, running: bool) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let port = port_param(p, "ListenerPort")?;
    ctl.write(ctx, p, move |tx, env| {
        let lb = lb_of(tx, &env.account, &id, LoadBalancerKind::Clb, region)?;
        let mut l = listener_of(tx, &lb, port)?;
        l.status = if running { "running" } else { "stopped" }.into();
        tx.clb_listener_put(&l)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn delete_listener(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let port = port_param(p, "ListenerPort")?;
    if let Some(proto) = p.opt("ListenerProtocol")
        && !proto.eq_ignore_ascii_case("tcp")
    {
        return Err(Error::invalid("ListenerProtocol", format!("no {proto} listener on port {port}")));
    }
    ctl.write(ctx, p, move |tx, env| {
        let lb = lb_of(tx, &env.account, &id, LoadBalancerKind::Clb, region)?;
        listener_of(tx, &lb, port)?;
        tx.clb_listener_delete(&lb.id, port)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn add_backend_servers(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let wanted = backend_param(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let lb = lb_of(tx, &env.account, &id, LoadBalancerKind::Clb, region)?;
        for (server, weight) in &wanted {
            let inst = tx
                .instance_get(server)?
                .filter(|i| i.account_id == env.account)
                .ok_or_else(|| Error::not_found(ResourceKind::Instance, server))?;
            if lb.vpc_id.is_some() && lb.vpc_id != inst.vpc_id {
                return Err(Error::invalid("BackendServers.ServerId", format!("{server} is not in the CLB's VPC")));
            }
            tx.clb_backend_put(&eip_store::ClbBackendRow {
                lb_id: lb.id.clone(),
                server_id: server.clone(),
                weight: *weight,
            })?;
        }
        Ok(body(backend_list(tx, &lb)?))
    })
    .await
}

/// RemoveBackendServers (`remove`) or SetBackendServers (re-weight): both
/// act only on servers that are already backends of the CLB; one that is not
/// refuses the whole request.
pub(crate) async fn change_backend_servers(ctl: &Controller, ctx: &Ctx, p: &Params, remove: bool) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let wanted = backend_param(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let lb = lb_of(tx, &env.account, &id, LoadBalancerKind::Clb, region)?;
        let current = tx.clb_backend_list(&lb.id)?;
        for (server, weight) in &wanted {
            if !current.iter().any(|b| &b.server_id == server) {
                return Err(Error::invalid(
                    "BackendServers.ServerId",
                    format!("{server} is not a backend server of {}", lb.id),
                ));
            }
            if remove {
                tx.clb_backend_delete(&lb.id, server)?;
            } else {
                tx.clb_backend_put(&eip_store::ClbBackendRow {
                    lb_id: lb.id.clone(),
                    server_id: server.clone(),
                    weight: *weight,
                })?;
            }
        }
        Ok(body(backend_list(tx, &lb)?))
    })
    .await
}

fn primary_private_ip(tx: &mut dyn Tx, instance: &str) -> Result<Option<String>> {
    let Some(eni) = tx.eni_list_by_instance(instance)?.into_iter().find(|e| e.kind == eip_types::EniType::Primary)
    else {
        return Ok(None);
    };
    Ok(tx.private_ip_list_eni(&eni.id)?.into_iter().find(|i| i.is_primary).map(|i| i.ip))
}

/// DescribeHealthStatus. A backend of a running listener with health checks
/// on is `normal` or `abnormal` as the data plane's checks last published
/// it to the store ([`crate::clb_health`]); `unavailable` when the listener has health checks
/// off (as Alibaba reports it) or nothing checks it (no data plane, no EIP on
/// the CLB). A stopped listener has no status to give.
pub(crate) fn describe_health_status(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let port = p.int("ListenerPort", 1, 65535)?;
    ctl.read(|tx| {
        let lb = lb_of(tx, &ctx.account, &id, LoadBalancerKind::Clb, region)?;
        let listeners = match port {
            Some(port) => vec![listener_of(tx, &lb, port)?],
            None => tx.clb_listener_list(&lb.id)?,
        };
        let backends = tx.clb_backend_list(&lb.id)?;
        let checked: std::collections::BTreeMap<(i64, String), eip_types::BackendHealth> =
            tx.backend_health_of(&lb.id)?.into_iter().map(|h| ((h.listener_port, h.server_id), h.health)).collect();
        let mut items = Vec::new();
        for l in listeners.iter().filter(|l| l.status == "running") {
            for b in &backends {
                let ip = primary_private_ip(tx, &b.server_id)?.unwrap_or_default();
                let status = match checked.get(&(l.port, b.server_id.clone())) {
                    Some(h) if l.health_check => h.as_str(),
                    _ => "unavailable",
                };
                items.push(json!({
                    "ListenerPort": l.port,
                    "Port": l.backend_port,
                    "Protocol": "tcp",
                    "ServerId": b.server_id,
                    "ServerIp": ip,
                    "ServerHealthStatus": status,
                }));
            }
        }
        Ok(body(json!({"BackendServers": {"BackendServer": items}})))
    })
}

pub(crate) fn describe_tcp_listener(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("LoadBalancerId")?.to_owned();
    let port = port_param(p, "ListenerPort")?;
    ctl.read(|tx| {
        let lb = lb_of(tx, &ctx.account, &id, LoadBalancerKind::Clb, region)?;
        let l = listener_of(tx, &lb, port)?;
        Ok(body(json!({
            "LoadBalancerId": lb.id,
            "ListenerPort": l.port,
            "BackendServerPort": l.backend_port,
            "Bandwidth": l.bandwidth,
            "Status": l.status,
            "Scheduler": "wrr",
            "PersistenceTimeout": 0,
            "EstablishedTimeout": 900,
            "HealthCheck": if l.health_check { "on" } else { "off" },
            "HealthCheckType": "tcp",
            "HealthCheckConnectPort": l.health_check_port(),
            "HealthyThreshold": l.healthy_threshold,
            "UnhealthyThreshold": l.unhealthy_threshold,
            "HealthCheckConnectTimeout": l.health_check_connect_timeout,
            "HealthCheckInterval": l.health_check_interval,
        })))
    })
}
