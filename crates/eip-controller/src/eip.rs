//! Elastic IP addresses: allocation (and retrieval of a recently released
//! address, GEN-03), association with every target (the EIP side here, each
//! target's rules in its own module: `ecs`, `eni`, `nat`, `havip`, `lb`),
//! batch association, unassociation (BIL-03), release, queries and
//! attribute changes. Association,
//! unassociation and release are asynchronous (GEN-04): the write records
//! the transitional status and the target at once (so DescribeEipAddresses
//! shows `InstanceId` immediately, as Terraform expects) and schedules the
//! completion.

use crate::bind;
use crate::eni::IpPick;
use crate::tasks::{TaskKind, schedule};
use crate::{Body, Controller, Ctx, Env, body, dry_run, paging, region_opt, region_param, render};
use eip_api::Params;
use eip_domain::rules::{self, EipEvent, check_bandwidth, check_name, eip_transition};
use eip_domain::targets;
use eip_store::{EipQuery, EipRow, Tx};
use eip_types::time::parse_iso;
use eip_types::{
    AssociatedInstanceType, ChargeType, EipId, EipMode, EipStatus, Error, InternetChargeType, PricingCycle,
    ResourceKind, Result,
};
use serde_json::{Value, json};
use std::net::Ipv4Addr;

const ISPS: &[&str] = &[
    "BGP",
    "BGP_PRO",
    "ChinaTelecom",
    "ChinaUnicom",
    "ChinaMobile",
    "ChinaTelecom_L2",
    "ChinaUnicom_L2",
    "ChinaMobile_L2",
    "BGP_FinanceCloud",
];

/// Tags as sent (`Tag.N.Key`/`Tag.N.Value`), validated: at most 20, keys
/// non-empty, at most 128 characters, not `aliyun`/`acs:`-prefixed.
fn tags(p: &Params) -> Result<Vec<(String, String)>> {
    let raw = p.struct_list("Tag")?;
    if raw.len() > 20 {
        return Err(Error::invalid("Tag", "at most 20 tags"));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for t in raw {
        let key = t.get("Key").cloned().unwrap_or_default();
        let value = t.get("Value").cloned().unwrap_or_default();
        check_tag(&key, &value)?;
        out.retain(|(k, _)| k != &key);
        out.push((key, value));
    }
    out.sort();
    Ok(out)
}

/// A tag's rules: a key of 1 to 128 characters not starting with `aliyun` or
/// `acs:`, a value of at most 128, neither holding `http://` or `https://`.
pub(crate) fn check_tag(key: &str, value: &str) -> Result<()> {
    if key.is_empty()
        || key.chars().count() > 128
        || key.starts_with("aliyun")
        || key.starts_with("acs:")
        || key.contains("http://")
        || key.contains("https://")
    {
        return Err(Error::invalid("Tag.N.Key", format!("tag key {key:?} is not valid")));
    }
    if value.chars().count() > 128 || value.contains("http://") || value.contains("https://") {
        return Err(Error::invalid("Tag.N.Value", format!("tag value {value:?} is not valid")));
    }
    Ok(())
}

/// The EIP named by `AllocationId`, owned by the caller (and in `region` if given).
pub(crate) fn eip_of(tx: &mut dyn Tx, account: &str, id: &str, region: Option<&str>) -> Result<EipRow> {
    tx.eip_get(id)?
        .filter(|e| e.account_id == account && region.is_none_or(|r| r == e.region_id))
        .ok_or_else(|| Error::not_found(ResourceKind::Eip, id))
}

pub(crate) async fn allocate(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let charge = p
        .enumerated("InstanceChargeType", ChargeType::parse, |v| {
            Error::invalid("InstanceChargeType", format!("{v} is not PrePaid or PostPaid"))
        })?
        .unwrap_or(ChargeType::PostPaid);
    let internet = p
        .enumerated("InternetChargeType", InternetChargeType::parse, |v| {
            Error::invalid("InternetChargeType", format!("{v} is not PayByBandwidth or PayByTraffic"))
        })?
        .unwrap_or(InternetChargeType::PayByBandwidth);
    if charge == ChargeType::PrePaid && internet != InternetChargeType::PayByBandwidth {
        return Err(Error::invalid("InternetChargeType", "a subscription EIP must be PayByBandwidth"));
    }
    let bandwidth = match p.opt("Bandwidth") {
        None => 5,
        Some(b) => b.trim().parse::<u32>().map_err(|_| Error::invalid("Bandwidth", "must be an integer"))?,
    };
    check_bandwidth(bandwidth, charge, internet)?;
    let expired_at_months = match charge {
        ChargeType::PostPaid => None,
        ChargeType::PrePaid => {
            let cycle = p
                .enumerated("PricingCycle", PricingCycle::parse, |v| {
                    Error::invalid("PricingCycle", format!("{v} is not Month or Year"))
                })?
                .unwrap_or(PricingCycle::Month);
            let period = p.opt("Period").ok_or_else(|| Error::MissingParameter("Period".into()))?;
            let period: i64 = period.parse().map_err(|_| Error::invalid("Period", "must be an integer"))?;
            let months = match cycle {
                PricingCycle::Month if (1..=9).contains(&period) => period,
                PricingCycle::Year if (1..=5).contains(&period) => period * 12,
                _ => return Err(Error::invalid("Period", "Month: 1 to 9; Year: 1 to 5")),
            };
            Some(months)
        }
    };
    p.bool("AutoPay")?;
    let isp = p.opt("ISP").unwrap_or("BGP").to_owned();
    if !ISPS.contains(&isp.as_str()) {
        return Err(Error::invalid("ISP", format!("{isp} is not a line type")));
    }
    let netmode = p.opt("Netmode").unwrap_or("public").to_owned();
    if netmode != "public" {
        return Err(Error::invalid("Netmode", "only public is supported"));
    }
    let name = p.raw("Name").unwrap_or_default().to_owned();
    let description = p.raw("Description").unwrap_or_default().to_owned();
    check_name("Name", &name, 128)?;
    check_name("Description", &description, 256)?;
    let rg = p.opt("ResourceGroupId").map(str::to_owned);
    if rg.as_ref().is_some_and(|r| !r.starts_with("rg-")) {
        return Err(Error::invalid("ResourceGroupId", "must be a resource group id (rg-…)"));
    }
    if let Some(z) = p.opt("Zone")
        && !eip_domain::catalogue::region(region).is_some_and(|r| r.zones.contains(&z))
    {
        return Err(Error::IllegalZone);
    }
    if p.opt("PublicIpAddressPoolId").is_some() {
        return Err(Error::invalid("PublicIpAddressPoolId", "custom IP address pools are not supported"));
    }
    let tags = tags(p)?;
    let wanted_ip = match p.opt("IpAddress") {
        None => None,
        Some(s) => Some(s.parse::<Ipv4Addr>().map_err(|_| Error::invalid("IpAddress", "must be an IPv4 address"))?),
    };
    let retrieve_id = p.opt("InstanceId").map(str::to_owned);
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        // The account's EIP quota (Quota Center eip / eip_quota_instances_num), all regions.
        let limit = crate::quotas::get(tx, &env.account, eip_domain::quotas::QuotaKind::EipCount)?;
        if tx.eip_count_all_regions(&env.account)? >= limit {
            return Err(Error::EipQuotaExceeded);
        }
        let id = EipId::generate().to_string();
        // GEN-03: retrieval names the address (IpAddress) or the released
        // EIP (InstanceId); naming both, they must agree.
        let wanted_ip = match (wanted_ip, retrieve_id.clone()) {
            (ip, None) => ip,
            (ip, Some(eip_id)) => {
                let Some(last) = tx.address_of_last_eip(&eip_id)? else {
                    return Err(Error::UnretrievableEipId(eip_id));
                };
                let last: Ipv4Addr = last.parse().map_err(|_| Error::AllocateUnfamiliarIp)?;
                if ip.is_some_and(|ip| ip != last) {
                    return Err(Error::invalid("InstanceId", format!("{eip_id} did not hold the IpAddress given")));
                }
                Some(last)
            }
        };
        let ip = match wanted_ip {
            Some(ip) => {
                if !crate::net::in_region_pool(tx, region, ip)? {
                    return Err(Error::IpNotFound);
                }
                let text = ip.to_string();
                let hist = tx.address_get(&text)?;
                let held = hist.as_ref().is_some_and(|h| h.holder_id.is_some());
                let last = hist.as_ref().and_then(|h| h.last_account_id.clone());
                let released = hist.as_ref().and_then(|h| h.released_at);
                rules::check_retrieve(&env.account, held, last.as_deref(), released, env.now)?;
                crate::net::hold(tx, &text, region, "eip", &id, last, released)?;
                text
            }
            None => crate::net::take_public(tx, region, "eip", &id)?,
        };
        let rg = rg.clone().unwrap_or_else(|| {
            eip_types::default_resource_group(&eip_types::AccountId::from_trusted(env.account.clone()))
        });
        let row = EipRow {
            id: id.clone(),
            account_id: env.account.clone(),
            region_id: region.to_owned(),
            ip: ip.clone(),
            status: EipStatus::Available,
            name: name.clone(),
            description: description.clone(),
            bandwidth: i64::from(bandwidth),
            charge_type: charge,
            internet_charge_type: internet,
            isp: isp.clone(),
            netmode: netmode.clone(),
            resource_group_id: rg.clone(),
            allocated_at: env.now,
            expired_at: expired_at_months.map(|m| env.now + m * 30 * eip_types::time::DAY_MS),
            deletion_protection: false,
            instance_type: None,
            instance_id: None,
            private_ip: None,
            private_vswitch_id: None,
            mode: None,
            instance_region_id: None,
            tags: tags.clone(),
            version: 1,
        };
        tx.eip_insert(&row)?;
        // A subscription's answer is its order: the address comes with
        // DescribeEipAddresses (the SDK model documents EipAddress and
        // ResourceGroupId for pay-as-you-go only).
        let out = match charge {
            ChargeType::PostPaid => json!({"AllocationId": id, "EipAddress": ip, "ResourceGroupId": rg}),
            ChargeType::PrePaid => json!({"AllocationId": id, "OrderId": env.now}),
        };
        Ok(body(out))
    })
    .await
}

fn instance_type_param(p: &Params, name: &'static str) -> Result<Option<AssociatedInstanceType>> {
    if name == "AssociatedInstanceType" {
        p.enumerated(name, AssociatedInstanceType::parse, |v| Error::ValueNotSupported {
            name: "AssociatedInstanceType",
            value: v.to_owned(),
        })
    } else {
        p.enumerated(name, AssociatedInstanceType::parse, |v| Error::ValueNotSupported {
            name: "InstanceType",
            value: v.to_owned(),
        })
    }
}

/// The target named by `InstanceId` for the kind given, or not found.
fn associate_one(
    tx: &mut dyn Tx,
    env: &Env,
    eip: &mut EipRow,
    kind: AssociatedInstanceType,
    target: &str,
    mode: Option<EipMode>,
    pick: &IpPick,
) -> Result<()> {
    // GEN-04 / ECS-06: the EIP's own status is judged first.
    eip_transition(eip.status, EipEvent::Associate)?;
    // LB-02: ALB and NLB take EIPs only through their own APIs.
    targets::check_target_kind(kind)?;
    if target.starts_with("alb-") || target.starts_with("nlb-") {
        let t = if target.starts_with("alb-") { AssociatedInstanceType::Alb } else { AssociatedInstanceType::Nlb };
        return Err(Error::BindInstanceNotSupported(t.as_str().to_owned()));
    }
    // A mode set on an unassociated EIP (ModifyEipForwardMode) applies to
    // its next ENI association that names none.
    let preferred = if kind == AssociatedInstanceType::NetworkInterface { eip.mode } else { None };
    let mode = mode.or(preferred).unwrap_or(EipMode::Nat);
    targets::check_mode_for_target(kind, mode)?;
    let (next, binding) = match kind {
        AssociatedInstanceType::EcsInstance => crate::ecs::check_associate(tx, env, eip, target)?,
        AssociatedInstanceType::NetworkInterface => crate::eni::check_associate(tx, env, eip, target, mode, pick)?,
        AssociatedInstanceType::Nat => crate::nat::check_associate(tx, env, eip, target)?,
        AssociatedInstanceType::HaVip => crate::havip::check_associate(tx, env, eip, target)?,
        AssociatedInstanceType::SlbInstance => crate::lb::check_associate_clb(tx, env, eip, target)?,
        AssociatedInstanceType::IpAddress => return Err(Error::AssociateTargetNotFound(target.to_owned())),
        AssociatedInstanceType::Alb | AssociatedInstanceType::Nlb => {
            return Err(Error::BindInstanceNotSupported(kind.as_str().to_owned()));
        }
    };
    // An ECS instance's EIP maps its primary private IP: naming another
    // address is a mistake, not a choice.
    if let (AssociatedInstanceType::EcsInstance, IpPick::Given(want)) = (kind, pick)
        && binding.private.as_ref().is_none_or(|(_, ip)| ip != want)
    {
        return Err(Error::invalid("PrivateIpAddress", format!("{want} is not the primary private IP of {target}")));
    }
    bind::record(eip, next, binding);
    // NAT-03: a NAT gateway in EIP bind mode NAT lends the EIP a private IP.
    if kind == AssociatedInstanceType::Nat {
        crate::nat::take_eip_private_ip(tx, env, eip)?;
    }
    eip.version += 1;
    tx.eip_update(eip)?;
    schedule(tx, TaskKind::EipAssociate, &eip.id, env)?;
    Ok(())
}

pub(crate) async fn associate(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let allocation = p.req("AllocationId")?.to_owned();
    let instance_id = p.req("InstanceId")?.to_owned();
    let kind = instance_type_param(p, "InstanceType")?.unwrap_or(AssociatedInstanceType::EcsInstance);
    let mode =
        p.enumerated("Mode", EipMode::parse, |v| Error::ValueNotSupported { name: "Mode", value: v.to_owned() })?;
    let pick = match p.opt("PrivateIpAddress") {
        Some(ip) => {
            ip.parse::<Ipv4Addr>().map_err(|_| Error::invalid("PrivateIpAddress", "must be an IPv4 address"))?;
            IpPick::Given(ip.to_owned())
        }
        None => IpPick::Primary,
    };
    ctl.write(ctx, p, move |tx, env| {
        let mut eip = eip_of(tx, &env.account, &allocation, region)?;
        associate_one(tx, env, &mut eip, kind, &instance_id, mode, &pick)?;
        Ok(Body::new())
    })
    .await
}

/// ModifyEipForwardMode (`InstanceId` is the EIP): NAT, BINDED or
/// MULTI_BINDED. An unassociated EIP keeps the mode for its next ENI
/// association; an EIP on an ENI that no instance holds is associated again
/// in the new mode, under the same rules as AssociateEipAddress (it goes
/// `Associating`, then `InUse`). On anything else the mode cannot change.
pub(crate) async fn modify_forward_mode(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let allocation = p.req("InstanceId")?.to_owned();
    let mode = p
        .enumerated("Mode", EipMode::parse, |v| Error::ValueNotSupported { name: "Mode", value: v.to_owned() })?
        .ok_or_else(|| Error::MissingParameter("Mode".into()))?;
    ctl.write(ctx, p, move |tx, env| {
        let mut eip = eip_of(tx, &env.account, &allocation, Some(region))?;
        if eip.charge_type == ChargeType::PrePaid && mode != EipMode::Nat {
            return Err(Error::ForwardModePrepaid);
        }
        match (eip.status, eip.instance_type) {
            (EipStatus::Available, _) => {
                eip.mode = (mode != EipMode::Nat).then_some(mode);
                eip.version += 1;
                tx.eip_update(&eip)?;
            }
            (EipStatus::InUse, Some(AssociatedInstanceType::NetworkInterface)) => {
                if eip.mode.unwrap_or(EipMode::Nat) == mode {
                    return Ok(Body::new());
                }
                let eni_id = eip.instance_id.clone().unwrap_or_default();
                if tx.eni_get(&eni_id)?.is_some_and(|e| e.instance_id.is_some()) {
                    return Err(Error::ForwardModeEniAttached);
                }
                let pick = match (mode, eip.private_ip.clone()) {
                    (EipMode::Nat | EipMode::MultiBinded, Some(ip)) => IpPick::Given(ip),
                    _ => IpPick::Primary,
                };
                bind::clear(tx, &mut eip)?;
                eip.status = EipStatus::Available;
                eip.version += 1;
                tx.eip_update(&eip)?;
                associate_one(tx, env, &mut eip, AssociatedInstanceType::NetworkInterface, &eni_id, Some(mode), &pick)?;
            }
            (EipStatus::InUse, _) => return Err(Error::ForwardModeTarget),
            (EipStatus::Associating | EipStatus::Unassociating | EipStatus::Releasing, _) => {
                return Err(Error::ForwardModeStatus);
            }
        }
        Ok(Body::new())
    })
    .await
}

/// AssociateEipAddressBatch (ENI-07, VIS-05, NAT-04): all or nothing, in one
/// transaction; the first failing EIP's error fails the call.
pub(crate) async fn associate_batch(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let target = p.req("BindedInstanceId")?.to_owned();
    let kind = match p.req("BindedInstanceType")? {
        "Nat" => AssociatedInstanceType::Nat,
        "NetworkInterface" => AssociatedInstanceType::NetworkInterface,
        other => return Err(Error::ValueNotSupported { name: "BindedInstanceType", value: other.to_owned() }),
    };
    let mode =
        p.enumerated("Mode", EipMode::parse, |v| Error::ValueNotSupported { name: "Mode", value: v.to_owned() })?;
    let ids = p.list("InstanceIds")?;
    if ids.is_empty() {
        return Err(Error::MissingParameter("InstanceIds".into()));
    }
    if ids.len() > 50 {
        return Err(Error::invalid("InstanceIds", "at most 50 EIP IDs"));
    }
    let mut seen = std::collections::HashSet::new();
    if !ids.iter().all(|i| seen.insert(i.clone())) {
        return Err(Error::invalid("InstanceIds", "an EIP ID is listed twice"));
    }
    ctl.write(ctx, p, move |tx, env| {
        for id in &ids {
            let mut eip = eip_of(tx, &env.account, id, region)?;
            associate_one(tx, env, &mut eip, kind, &target, mode, &IpPick::FirstFree)?;
        }
        Ok(Body::new())
    })
    .await
}

/// Whether `id` names a resource of the caller that can hold EIPs.
fn target_exists(tx: &mut dyn Tx, account: &str, id: &str) -> Result<bool> {
    let owned = |a: Option<String>| a.is_some_and(|a| a == account);
    Ok(match id.split_once('-').map(|(p, _)| p) {
        Some("i") => owned(tx.instance_get(id)?.map(|x| x.account_id)),
        Some("eni") => owned(tx.eni_get(id)?.map(|x| x.account_id)),
        Some("ngw") => owned(tx.nat_get(id)?.map(|x| x.account_id)),
        Some("havip") => owned(tx.havip_get(id)?.map(|x| x.account_id)),
        Some("lb" | "alb" | "nlb") => owned(tx.lb_get(id)?.map(|x| x.account_id)),
        _ => false,
    })
}

pub(crate) async fn unassociate(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let allocation = p.req("AllocationId")?.to_owned();
    let instance_id = p.opt("InstanceId").map(str::to_owned);
    let kind = instance_type_param(p, "InstanceType")?;
    let private_ip = p.opt("PrivateIpAddress").map(str::to_owned);
    let force = p.bool("Force")?.unwrap_or(false);
    ctl.write(ctx, p, move |tx, env| {
        let mut eip = eip_of(tx, &env.account, &allocation, region)?;
        let next = eip_transition(eip.status, EipEvent::Unassociate)?;
        if let Some(want) = &instance_id
            && eip.instance_id.as_ref() != Some(want)
        {
            return Err(if target_exists(tx, &env.account, want)? {
                Error::InvalidBindingStatus
            } else {
                Error::not_found(ResourceKind::Instance, want)
            });
        }
        if kind.is_some() && kind != eip.instance_type {
            return Err(Error::InvalidBindingStatus);
        }
        if private_ip.is_some() && eip.private_ip.is_some() && private_ip != eip.private_ip {
            return Err(Error::InvalidBindingStatus);
        }
        let target = eip.instance_id.clone().unwrap_or_default();
        match eip.instance_type {
            Some(AssociatedInstanceType::EcsInstance) => {
                if let Some(inst) = tx.instance_get(&target)? {
                    rules::check_unassociate_ecs(inst.status)?;
                }
            }
            Some(AssociatedInstanceType::NetworkInterface) => crate::eni::check_unassociate(tx, &eip)?,
            Some(AssociatedInstanceType::Nat) => crate::nat::check_unassociate(tx, &eip, force)?,
            Some(AssociatedInstanceType::HaVip) => crate::havip::check_unassociate(tx, &eip)?,
            Some(t @ (AssociatedInstanceType::Alb | AssociatedInstanceType::Nlb)) => {
                return Err(Error::BindInstanceNotSupported(t.as_str().to_owned()));
            }
            Some(AssociatedInstanceType::SlbInstance | AssociatedInstanceType::IpAddress) | None => {}
        }
        eip.status = next;
        eip.version += 1;
        tx.eip_update(&eip)?;
        schedule(tx, TaskKind::EipUnassociate, &eip.id, env)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn release(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let allocation = p.req("AllocationId")?.to_owned();
    ctl.write(ctx, p, move |tx, env| {
        let mut eip = eip_of(tx, &env.account, &allocation, region)?;
        eip.status = rules::check_release(eip.status, eip.charge_type, eip.deletion_protection)?;
        eip.version += 1;
        tx.eip_update(&eip)?;
        schedule(tx, TaskKind::EipRelease, &eip.id, env)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) fn describe(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let (page, size) = paging(p, 10, 100)?;
    let mut q = EipQuery {
        account_id: ctx.account.clone(),
        region_id: region.to_owned(),
        ids: p.comma_list("AllocationId", 50)?,
        ips: p.comma_list("EipAddress", 50)?,
        status: p.enumerated("Status", EipStatus::parse, |v| {
            Error::invalid("Status", format!("{v} is not an EIP status"))
        })?,
        instance_type: instance_type_param(p, "AssociatedInstanceType")?,
        instance_id: p.opt("AssociatedInstanceId").map(str::to_owned),
        charge_type: p.enumerated("ChargeType", ChargeType::parse, |v| Error::ValueNotSupported {
            name: "ChargeType",
            value: v.to_owned(),
        })?,
        isp: p.opt("ISP").map(str::to_owned),
        name: p.opt("EipName").map(str::to_owned),
        resource_group_id: p.opt("ResourceGroupId").map(str::to_owned),
        tags: tags(p)?,
        created_from: None,
        created_to: None,
        offset: (page - 1) * size,
        limit: size,
    };
    for f in p.struct_list("Filter")? {
        let key = f.get("Key").map(String::as_str).unwrap_or_default();
        let value = f.get("Value").map(String::as_str).unwrap_or_default();
        let t = || parse_iso(value).ok_or_else(|| Error::InvalidFilterValue(value.to_owned()));
        match key {
            "CreationStartTime" => q.created_from = Some(t()?),
            "CreationEndTime" => q.created_to = Some(t()?),
            other => return Err(Error::InvalidFilterKey(other.to_owned())),
        }
    }
    // Locks, custom pools, Anti-DDoS editions, managed instances and EIP
    // groups do not exist here: filters for them match nothing.
    let matches_nothing = match p.opt("LockReason") {
        Some("financial" | "security") => true,
        Some(v) => {
            return Err(Error::ValueNotSupported { name: "LockReason", value: v.to_owned() });
        }
        None => false,
    } || p.opt("SegmentInstanceId").is_some()
        || p.opt("PublicIpAddressPoolId").is_some()
        || p.bool("SecurityProtectionEnabled")?.unwrap_or(false)
        || p.bool("ServiceManaged")?.unwrap_or(false);
    p.bool("IncludeReservationData")?;
    dry_run(p)?;
    let (total, rows) = if matches_nothing { (0, Vec::new()) } else { ctl.read(|tx| Ok(tx.eip_query(&q)?))? };
    let items: Vec<Value> = rows.iter().map(render::eip).collect();
    Ok(body(json!({
        "TotalCount": total,
        "PageNumber": page,
        "PageSize": size,
        "EipAddresses": {"EipAddress": items},
    })))
}

pub(crate) async fn modify(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let allocation = p.req("AllocationId")?.to_owned();
    let bandwidth = match p.opt("Bandwidth") {
        None => None,
        Some(b) => Some(b.trim().parse::<u32>().map_err(|_| Error::invalid("Bandwidth", "must be an integer"))?),
    };
    let name = p.raw("Name").map(str::to_owned);
    let description = p.raw("Description").map(str::to_owned);
    if let Some(n) = &name {
        check_name("Name", n, 128)?;
    }
    if let Some(d) = &description {
        check_name("Description", d, 256)?;
    }
    ctl.write(ctx, p, move |tx, env| {
        let mut eip = eip_of(tx, &env.account, &allocation, region)?;
        if eip.charge_type == ChargeType::PrePaid {
            return Err(Error::ChargeTypeIsPrepaid);
        }
        // GEN-04: while a task is in flight only queries are allowed. Modify's
        // error table names IncorrectEipStatus for this (Terraform retries it).
        if eip.status.is_transitional() {
            return Err(Error::IncorrectEipStatus(eip.status));
        }
        if let Some(b) = bandwidth {
            check_bandwidth(b, eip.charge_type, eip.internet_charge_type)?;
            eip.bandwidth = i64::from(b);
        }
        if let Some(n) = name.clone() {
            eip.name = n;
        }
        if let Some(d) = description.clone() {
            eip.description = d;
        }
        eip.version += 1;
        tx.eip_update(&eip)?;
        Ok(Body::new())
    })
    .await
}
