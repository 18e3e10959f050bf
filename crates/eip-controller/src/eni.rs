//! Elastic network interfaces (ECS 2014-05-26): secondary ENIs and their
//! private IPs, attach/detach with the real status sequence, the instance
//! type limits (ENI-02), the guest configuration the console shows (ENI-08,
//! VIS-02, VIS-04), and the ENI side of EIP association (ENI-03, VIS-01).

use crate::bind::Binding;
use crate::tasks::{TaskKind, schedule};
use crate::{Body, Controller, Ctx, Env, body, region_opt, region_param};
use eip_api::Params;
use eip_domain::catalogue;
use eip_domain::cidr::Cidr;
use eip_domain::rules::{EipFacts, check_eip_side, check_name};
use eip_domain::targets::{self, AttachFacts, EniFacts, PrivateIpChoice, UNATTACHED_SECONDARY_IPS_MAX};
use eip_store::{EipRow, EniRow, PrivateIpRow, Tx};
use eip_types::time::format_iso;
use eip_types::{AssociatedInstanceType, EipMode, EipStatus, EniId, EniStatus, EniType, Error, ResourceKind, Result};
use serde_json::{Value, json};
use std::net::Ipv4Addr;

/// The ENI named `id`, owned by the caller (and in `region` if given).
pub(crate) fn eni_of(tx: &mut dyn Tx, account: &str, id: &str, region: Option<&str>) -> Result<EniRow> {
    tx.eni_get(id)?
        .filter(|e| e.account_id == account && region.is_none_or(|r| r == e.region_id))
        .ok_or_else(|| Error::not_found(ResourceKind::NetworkInterface, id))
}

/// Which private IP of an ENI a NAT-mode EIP takes.
#[derive(Clone, Debug)]
pub(crate) enum IpPick {
    /// `PrivateIpAddress` as sent.
    Given(String),
    /// The ENI's primary IP (AssociateEipAddress without `PrivateIpAddress`).
    Primary,
    /// The first free one (AssociateEipAddressBatch).
    FirstFree,
}

/// The ENI side of AssociateEipAddress (`InstanceType=NetworkInterface`):
/// EIP status, region, then the ENI rules of [`targets::check_associate_eni`].
pub(crate) fn check_associate(
    tx: &mut dyn Tx,
    env: &Env,
    eip: &EipRow,
    eni_id: &str,
    mode: EipMode,
    pick: &IpPick,
) -> Result<(EipStatus, Binding)> {
    let eni = tx
        .eni_get(eni_id)?
        .filter(|e| e.account_id == env.account)
        .ok_or_else(|| Error::AssociateTargetNotFound(eni_id.to_owned()))?;
    let next = check_eip_side(EipFacts { status: eip.status, region: &eip.region_id }, &eni.region_id)?;
    let ips = tx.private_ip_list_eni(&eni.id)?;
    let eips = tx.eip_list_by_target(&eni.id)?;
    let count = |m: EipMode| eips.iter().filter(|e| e.mode == Some(m)).count();
    let facts = EniFacts {
        kind: eni.kind,
        status: eni.status,
        attached: eni.instance_id.is_some(),
        secondary_ips: ips.iter().filter(|i| !i.is_primary).count(),
        nat_eips: count(EipMode::Nat),
        binded_eips: count(EipMode::Binded),
        multi_binded_eips: count(EipMode::MultiBinded),
        multi_binded_max: crate::quotas::limit(tx, &env.account, eip_domain::quotas::QuotaKind::EniMultiBindedEips)?,
    };
    let taken = |tx: &mut dyn Tx, ip: &str| -> Result<bool> {
        Ok(tx.eip_list_by_private_ip(&eni.vswitch_id, ip)?.iter().any(|e| e.mode == Some(EipMode::Nat)))
    };
    let (choice, ip) = match (mode, pick) {
        (EipMode::Nat | EipMode::MultiBinded, IpPick::Given(want)) => {
            if ips.iter().any(|i| &i.ip == want) {
                let t = mode == EipMode::Nat && taken(tx, want)?;
                (if t { PrivateIpChoice::Taken } else { PrivateIpChoice::Free }, Some(want.clone()))
            } else {
                (PrivateIpChoice::NotOwned, None)
            }
        }
        (EipMode::Nat, IpPick::Primary) => {
            let primary = ips.iter().find(|i| i.is_primary).map(|i| i.ip.clone()).unwrap_or_default();
            let t = taken(tx, &primary)?;
            // The ENI's own EIPs already use every private IP: the ENI's quota
            // ("assigned eip is more than privateIp"), not a duplicate. (An
            // instance EIP on the primary IP is a duplicate, ENI-01.)
            if t && facts.nat_eips >= ips.len() && facts.binded_eips == 0 && facts.multi_binded_eips == 0 {
                return Err(Error::EniEipQuotaExceeded);
            }
            (if t { PrivateIpChoice::Taken } else { PrivateIpChoice::Free }, Some(primary))
        }
        (EipMode::Nat, IpPick::FirstFree) => {
            let mut found = None;
            for i in &ips {
                if !taken(tx, &i.ip)? {
                    found = Some(i.ip.clone());
                    break;
                }
            }
            match found {
                Some(ip) => (PrivateIpChoice::Free, Some(ip)),
                // The batch has more EIPs than the ENI has free private IPs.
                None if facts.binded_eips == 0 && facts.multi_binded_eips == 0 => {
                    return Err(Error::EniEipQuotaExceeded);
                }
                None => (PrivateIpChoice::Taken, None),
            }
        }
        (EipMode::MultiBinded, IpPick::Primary | IpPick::FirstFree) => (PrivateIpChoice::None, None),
        // Cut-through: the EIP replaces the ENI's (only) private IP.
        (EipMode::Binded, _) => (PrivateIpChoice::None, ips.iter().find(|i| i.is_primary).map(|i| i.ip.clone())),
    };
    targets::check_associate_eni(&facts, mode, choice)?;
    Ok((
        next,
        Binding {
            kind: AssociatedInstanceType::NetworkInterface,
            instance_id: eni.id.clone(),
            region: eni.region_id.clone(),
            mode,
            private: ip.map(|ip| (eni.vswitch_id.clone(), ip)),
        },
    ))
}

/// The ENI side of UnassociateEipAddress.
pub(crate) fn check_unassociate(tx: &mut dyn Tx, eip: &EipRow) -> Result<()> {
    let Some(eni) = tx.eni_get(eip.instance_id.as_deref().unwrap_or_default())? else {
        return Ok(());
    };
    targets::check_unassociate_eni(eip.mode.unwrap_or(EipMode::Nat), eni.status, eni.instance_id.is_some())
}

fn ipv4(name: &str, s: &str) -> Result<String> {
    s.parse::<Ipv4Addr>().map(|ip| ip.to_string()).map_err(|_| Error::invalid(name, "must be an IPv4 address"))
}

/// `PrivateIpAddress.N` xor `SecondaryPrivateIpAddressCount`.
fn secondary_request(p: &Params, max_count: i64) -> Result<(Vec<String>, i64)> {
    let listed = p.list("PrivateIpAddress")?;
    let count = p.int("SecondaryPrivateIpAddressCount", 1, max_count)?;
    if !listed.is_empty() && count.is_some() {
        return Err(Error::invalid(
            "SecondaryPrivateIpAddressCount",
            "PrivateIpAddress.N and SecondaryPrivateIpAddressCount cannot be used together",
        ));
    }
    let listed = listed.iter().map(|s| ipv4("PrivateIpAddress.N", s)).collect::<Result<Vec<_>>>()?;
    Ok((listed, count.unwrap_or(0)))
}

/// Takes the requested secondary IPs (listed ones first, then `count` free ones).
fn take_secondary(
    tx: &mut dyn Tx,
    vsw: &eip_store::VSwitchRow,
    eni: &str,
    listed: &[String],
    count: i64,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for ip in listed {
        out.push(crate::net::take_private(tx, vsw, eni, Some(ip), false)?);
    }
    for _ in 0..count {
        out.push(crate::net::take_private(tx, vsw, eni, None, false)?);
    }
    Ok(out)
}

pub(crate) async fn create(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let vsw_id = p.req("VSwitchId")?.to_owned();
    let mut sg = p.opt("SecurityGroupId").map(str::to_owned);
    if sg.is_none() {
        sg = p.list("SecurityGroupIds")?.into_iter().next();
    }
    let primary = p.opt("PrimaryIpAddress").map(|s| ipv4("PrimaryIpAddress", s)).transpose()?;
    let (listed, count) = secondary_request(p, 49)?;
    if listed.len() + count as usize > UNATTACHED_SECONDARY_IPS_MAX {
        return Err(Error::Ipv4CountExceeded);
    }
    match p.opt("InstanceType") {
        None | Some("Secondary") => {}
        Some(v) => return Err(Error::invalid("InstanceType", format!("{v} network interfaces are not supported"))),
    }
    let name = p.raw("NetworkInterfaceName").unwrap_or_default().to_owned();
    let description = p.raw("Description").unwrap_or_default().to_owned();
    check_name("NetworkInterfaceName", &name, 128)?;
    check_name("Description", &description, 256)?;
    crate::dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let vsw = tx
            .vswitch_get(&env.account, &vsw_id)?
            .filter(|v| v.region_id == region)
            .ok_or_else(|| Error::not_found(ResourceKind::VSwitch, &vsw_id))?;
        if let Some(sg_id) = &sg {
            let g = tx
                .sg_get(&env.account, sg_id)?
                .filter(|g| g.region_id == region)
                .ok_or_else(|| Error::not_found(ResourceKind::SecurityGroup, sg_id))?;
            if g.vpc_id.as_deref().is_some_and(|v| v != vsw.vpc_id) {
                return Err(Error::invalid("SecurityGroupId", "the security group is not in the vSwitch's VPC"));
            }
        }
        let row = EniRow {
            id: EniId::generate().to_string(),
            account_id: env.account.clone(),
            region_id: region.to_owned(),
            zone_id: vsw.zone_id.clone(),
            vpc_id: vsw.vpc_id.clone(),
            vswitch_id: vsw.id.clone(),
            instance_id: None,
            kind: EniType::Secondary,
            mac: crate::net::mac(tx)?,
            status: EniStatus::Available,
            name: name.clone(),
            description: description.clone(),
            security_group_id: sg.clone(),
            created_at: env.now,
        };
        tx.eni_insert(&row)?;
        crate::net::take_private(tx, &vsw, &row.id, primary.as_deref(), true)?;
        take_secondary(tx, &vsw, &row.id, &listed, count)?;
        let ips = tx.private_ip_list_eni(&row.id)?;
        let mut item = render_eni(&row, &ips, &[], None);
        if let Some(m) = item.as_object_mut() {
            m.remove("GuestConfiguration");
        }
        Ok(body(item))
    })
    .await
}

/// Guest configuration of an ENI (ENI-08; VIS-02 and VIS-04 for visible modes).
fn guest_configuration(
    eni: &EniRow,
    ips: &[PrivateIpRow],
    eips: &[EipRow],
    device: Option<(usize, &str)>,
    vsw_cidr: Option<Cidr>,
) -> Value {
    let prefix = vsw_cidr.map(|c| c.len).unwrap_or(24);
    let gateway = vsw_cidr.map(|c| Ipv4Addr::from(c.last().saturating_sub(2)).to_string()).unwrap_or_default();
    let visible: Vec<&EipRow> =
        eips.iter().filter(|e| matches!(e.mode, Some(EipMode::Binded | EipMode::MultiBinded))).collect();
    // In cut-through mode (BINDED) the EIP replaces the ENI's private IP; in
    // MULTI_BINDED the EIPs sit beside it. `on_nic` is what the guest's NIC holds.
    let kept: Vec<&PrivateIpRow> =
        ips.iter().filter(|i| !(i.is_primary && visible.iter().any(|e| e.mode == Some(EipMode::Binded)))).collect();
    let mut on_nic: Vec<String> = kept.iter().map(|i| i.ip.clone()).collect();
    let mut addresses: Vec<Value> = kept
        .iter()
        .map(|i| json!({"Address": format!("{}/{prefix}", i.ip), "Primary": i.is_primary, "Kind": "private"}))
        .collect();
    for e in &visible {
        on_nic.push(e.ip.clone());
        addresses.push(json!({"Address": format!("{}/32", e.ip), "Primary": e.mode == Some(EipMode::Binded), "Kind": "eip", "AllocationId": e.id}));
    }
    let mut routes = Vec::new();
    let mut notices = Vec::new();
    match (eni.kind, device) {
        (EniType::Secondary, Some((index, _instance))) => {
            let dev = format!("eth{index}");
            let table = 1000 + index;
            // Replies from every address on the NIC must leave through it.
            for ip in &on_nic {
                routes.push(json!({
                    "Kind": "policy",
                    "Command": format!("ip rule add from {ip} lookup {table}"),
                    "Source": ip,
                    "Table": table,
                }));
            }
            routes.push(json!({
                "Kind": "table-default",
                "Command": format!("ip route add default via {gateway} dev {dev} table {table}"),
                "Table": table,
            }));
            if !visible.is_empty() {
                // VIS-04: a default route through the visible ENI, below the primary ENI's.
                routes.push(json!({
                    "Kind": "default",
                    "Command": format!("ip route add default dev {dev} metric 200"),
                    "Metric": 200,
                }));
                // VIS-02: the reserved block must keep going through the primary ENI.
                routes.push(json!({
                    "Kind": "reserved",
                    "Command": "ip route add 100.64.0.0/10 dev eth0",
                    "Destination": "100.64.0.0/10",
                }));
                notices.push(json!({
                    "Rule": "VIS-02",
                    "Message": format!(
                        "{dev} is in EIP visible mode: 100.64.0.0/10 (internal services) is unreachable through it; \
                         keep the route for 100.64.0.0/10 on the primary ENI (eth0) or a secondary ENI not in visible mode."
                    ),
                }));
                notices.push(json!({
                    "Rule": "VIS-04",
                    "Message": format!(
                        "A default route via {dev} with metric 200 (lower priority than the primary ENI's) is \
                         needed; adjust the metric to change the preference."
                    ),
                }));
            }
            notices.push(json!({
                "Rule": "ENI-08",
                "Message": format!(
                    "If the image does not configure {dev} by itself, add its addresses and the policy routes listed here."
                ),
            }));
        }
        (EniType::Secondary, None) => {
            if !visible.is_empty() {
                notices.push(json!({
                    "Rule": "VIS-02",
                    "Message": "After attaching this visible-mode ENI, 100.64.0.0/10 (internal services) is \
                                unreachable through it: keep that route on the primary ENI (eth0).",
                }));
            }
            notices.push(json!({"Rule": "ENI-08", "Message": "Not attached: the guest sees nothing yet."}));
        }
        (EniType::Primary, _) => {}
    }
    json!({"Addresses": addresses, "Routes": routes, "Notices": notices})
}

/// One item of DescribeNetworkInterfaces (and the CreateNetworkInterface response).
fn render_eni(eni: &EniRow, ips: &[PrivateIpRow], nat_eips: &[EipRow], gc: Option<Value>) -> Value {
    let public = |ip: &str| -> Value {
        match nat_eips.iter().find(|e| e.private_ip.as_deref() == Some(ip)) {
            Some(e) => json!({"PublicIpAddress": e.ip, "AllocationId": e.id}),
            None => json!({"PublicIpAddress": "", "AllocationId": ""}),
        }
    };
    let primary = ips.iter().find(|i| i.is_primary).map(|i| i.ip.clone()).unwrap_or_default();
    let sets: Vec<Value> = ips
        .iter()
        .map(|i| json!({"PrivateIpAddress": i.ip, "Primary": i.is_primary, "AssociatedPublicIp": public(&i.ip)}))
        .collect();
    let rg = eip_types::default_resource_group(&eip_types::AccountId::from_trusted(eni.account_id.clone()));
    json!({
        "NetworkInterfaceId": eni.id,
        "NetworkInterfaceName": eni.name,
        "Description": eni.description,
        "Status": eni.status.as_str(),
        "Type": eni.kind.as_str(),
        "VpcId": eni.vpc_id,
        "VSwitchId": eni.vswitch_id,
        "ZoneId": eni.zone_id,
        "PrivateIpAddress": primary,
        "MacAddress": eni.mac,
        "InstanceId": eni.instance_id.clone().unwrap_or_default(),
        "SecurityGroupIds": {"SecurityGroupId": eni.security_group_id.iter().cloned().collect::<Vec<_>>()},
        "PrivateIpSets": {"PrivateIpSet": sets},
        "AssociatedPublicIp": public(&primary),
        "CreationTime": format_iso(eni.created_at),
        "ResourceGroupId": rg,
        "ServiceManaged": false,
        "DeleteOnRelease": eni.kind == EniType::Primary,
        "Ipv6Sets": {"Ipv6Set": []},
        "Ipv4PrefixSets": {"Ipv4PrefixSet": []},
        "Ipv6PrefixSets": {"Ipv6PrefixSet": []},
        "Tags": {"Tag": []},
        "GuestConfiguration": gc.unwrap_or_else(|| json!({"Addresses": [], "Routes": [], "Notices": []})),
    })
}

/// NAT-mode EIPs mapped to an ENI's private IPs (the instance-level EIP included).
pub(crate) fn nat_eips_of(tx: &mut dyn Tx, eni: &EniRow, ips: &[PrivateIpRow]) -> Result<Vec<EipRow>> {
    let mut out = Vec::new();
    for i in ips {
        out.extend(
            tx.eip_list_by_private_ip(&eni.vswitch_id, &i.ip)?.into_iter().filter(|e| e.mode == Some(EipMode::Nat)),
        );
    }
    Ok(out)
}

/// The full DescribeNetworkInterfaces item of an ENI.
fn describe_item(tx: &mut dyn Tx, eni: &EniRow) -> Result<Value> {
    let ips = tx.private_ip_list_eni(&eni.id)?;
    let nat = nat_eips_of(tx, eni, &ips)?;
    let all = tx.eip_list_by_target(&eni.id)?;
    let device = match &eni.instance_id {
        Some(inst) => {
            let enis = tx.eni_list_by_instance(inst)?;
            enis.iter().position(|e| e.id == eni.id).map(|i| (i, inst.as_str()))
        }
        None => None,
    };
    let cidr = tx.vswitch_get(&eni.account_id, &eni.vswitch_id)?.and_then(|v| Cidr::parse(&v.cidr));
    let gc = guest_configuration(eni, &ips, &all, device, cidr);
    Ok(render_eni(eni, &ips, &nat, Some(gc)))
}

pub(crate) fn describe(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let ids = p.list("NetworkInterfaceId")?;
    let private_ips = p.list("PrivateIpAddress")?;
    let instance = p.opt("InstanceId").map(str::to_owned);
    let vsw = p.opt("VSwitchId").map(str::to_owned);
    let vpc = p.opt("VpcId").map(str::to_owned);
    let sg = p.opt("SecurityGroupId").map(str::to_owned);
    let primary_ip = p.opt("PrimaryIpAddress").map(str::to_owned);
    let name = p.opt("NetworkInterfaceName").map(str::to_owned);
    let kind = p.enumerated("Type", EniType::parse, |v| Error::invalid("Type", format!("{v} is not a type")))?;
    let status =
        p.enumerated("Status", EniStatus::parse, |v| Error::invalid("Status", format!("{v} is not a status")))?;
    let w = crate::Window::read(p, 1000, 500)?;
    ctl.read(|tx| {
        let mut rows = Vec::new();
        for e in tx.eni_list(&ctx.account, region)? {
            if (!ids.is_empty() && !ids.contains(&e.id))
                || instance.as_ref().is_some_and(|i| e.instance_id.as_ref() != Some(i))
                || vsw.as_ref().is_some_and(|v| &e.vswitch_id != v)
                || vpc.as_ref().is_some_and(|v| &e.vpc_id != v)
                || sg.as_ref().is_some_and(|s| e.security_group_id.as_ref() != Some(s))
                || name.as_ref().is_some_and(|n| &e.name != n)
                || kind.is_some_and(|k| e.kind != k)
                || status.is_some_and(|s| e.status != s)
            {
                continue;
            }
            if !private_ips.is_empty() || primary_ip.is_some() {
                let ips = tx.private_ip_list_eni(&e.id)?;
                if !private_ips.is_empty() && !ips.iter().any(|i| private_ips.contains(&i.ip)) {
                    continue;
                }
                if primary_ip.as_ref().is_some_and(|pi| !ips.iter().any(|i| i.is_primary && &i.ip == pi)) {
                    continue;
                }
            }
            rows.push(e);
        }
        let total = rows.len() as i64;
        let mut items = Vec::new();
        for e in rows.iter().skip(w.offset as usize).take(w.limit as usize) {
            items.push(describe_item(tx, e)?);
        }
        let next = w.next_token(total);
        Ok(body(json!({
            "TotalCount": total,
            "PageNumber": w.page,
            "PageSize": w.limit,
            "NextToken": next,
            "NetworkInterfaceSets": {"NetworkInterfaceSet": items},
        })))
    })
}

pub(crate) async fn attach(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let eni_id = p.req("NetworkInterfaceId")?.to_owned();
    let instance_id = p.req("InstanceId")?.to_owned();
    ctl.write(ctx, p, move |tx, env| {
        let mut eni = eni_of(tx, &env.account, &eni_id, region)?;
        let inst = tx
            .instance_get(&instance_id)?
            .filter(|i| i.account_id == env.account && region.is_none_or(|r| r == i.region_id))
            .ok_or_else(|| Error::not_found(ResourceKind::Instance, &instance_id))?;
        let itype = catalogue::instance_type_or_nominal(&inst.instance_type);
        let secondary = tx.private_ip_list_eni(&eni.id)?.iter().filter(|i| !i.is_primary).count();
        let next = targets::check_attach(&AttachFacts {
            kind: eni.kind,
            eni_status: eni.status,
            instance_status: inst.status,
            same_vpc: inst.vpc_id.as_deref() == Some(eni.vpc_id.as_str()),
            same_zone: inst.zone_id == eni.zone_id,
            instance_enis: tx.eni_list_by_instance(&inst.id)?.len() as i64,
            eni_quantity: itype.eni_quantity,
            secondary_ips: secondary,
            eni_private_ips: itype.eni_private_ips,
        })?;
        eni.status = next;
        eni.instance_id = Some(inst.id.clone());
        tx.eni_update(&eni)?;
        schedule(tx, TaskKind::EniAttach, &eni.id, env)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn detach(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let eni_id = p.req("NetworkInterfaceId")?.to_owned();
    let instance_id = p.req("InstanceId")?.to_owned();
    ctl.write(ctx, p, move |tx, env| {
        let mut eni = eni_of(tx, &env.account, &eni_id, region)?;
        tx.instance_get(&instance_id)?
            .filter(|i| i.account_id == env.account)
            .ok_or_else(|| Error::not_found(ResourceKind::Instance, &instance_id))?;
        let next = targets::check_detach(eni.kind, eni.status)?;
        if eni.instance_id.as_deref() != Some(instance_id.as_str()) {
            return Err(Error::InvalidEniState);
        }
        eni.status = next;
        tx.eni_update(&eni)?;
        schedule(tx, TaskKind::EniDetach, &eni.id, env)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn delete(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let eni_id = p.req("NetworkInterfaceId")?.to_owned();
    ctl.write(ctx, p, move |tx, env| {
        let eni = eni_of(tx, &env.account, &eni_id, region)?;
        let has_eip = !tx.eip_list_by_target(&eni.id)?.is_empty();
        targets::check_delete_eni(eni.kind, eni.status, has_eip)?;
        crate::havip::forget_member(tx, &eni.id)?;
        tx.eni_delete(&eni.id)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn assign_private_ips(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let eni_id = p.req("NetworkInterfaceId")?.to_owned();
    let (listed, count) = secondary_request(p, 49)?;
    if listed.is_empty() && count == 0 {
        return Err(Error::MissingParameter("SecondaryPrivateIpAddressCount".into()));
    }
    ctl.write(ctx, p, move |tx, env| {
        let eni = eni_of(tx, &env.account, &eni_id, region)?;
        match eni.status {
            EniStatus::Available | EniStatus::InUse => {}
            EniStatus::Attaching | EniStatus::Detaching => return Err(Error::InvalidEniState),
        }
        let quantity = match &eni.instance_id {
            Some(i) => {
                tx.instance_get(i)?.map(|i| catalogue::instance_type_or_nominal(&i.instance_type).eni_private_ips)
            }
            None => None,
        };
        let current = tx.private_ip_list_eni(&eni.id)?.iter().filter(|i| !i.is_primary).count();
        targets::check_private_ip_count(
            eni.instance_id.is_some(),
            current,
            listed.len() + count as usize,
            quantity.unwrap_or(0),
        )?;
        let vsw = tx
            .vswitch_get(&env.account, &eni.vswitch_id)?
            .ok_or_else(|| Error::Internal("ENI without vSwitch".into()))?;
        let ips = take_secondary(tx, &vsw, &eni.id, &listed, count)?;
        Ok(body(json!({
            "AssignedPrivateIpAddressesSet": {
                "NetworkInterfaceId": eni.id,
                "PrivateIpSet": {"PrivateIpAddress": ips},
                "Ipv4PrefixSet": {"Ipv4Prefixes": []},
            }
        })))
    })
    .await
}

pub(crate) async fn unassign_private_ips(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let eni_id = p.req("NetworkInterfaceId")?.to_owned();
    let listed = p.list("PrivateIpAddress")?;
    if listed.is_empty() {
        return Err(Error::MissingParameter("PrivateIpAddress.1".into()));
    }
    ctl.write(ctx, p, move |tx, env| {
        let eni = eni_of(tx, &env.account, &eni_id, region)?;
        match eni.status {
            EniStatus::Available | EniStatus::InUse => {}
            EniStatus::Attaching | EniStatus::Detaching => return Err(Error::InvalidEniState),
        }
        let ips = tx.private_ip_list_eni(&eni.id)?;
        for want in &listed {
            match ips.iter().find(|i| &i.ip == want) {
                Some(i) if !i.is_primary => {}
                Some(_) => {
                    return Err(Error::invalid("PrivateIpAddress.N", "the primary private IP cannot be unassigned"));
                }
                None => {
                    return Err(Error::invalid(
                        "PrivateIpAddress.N",
                        format!("{want} is not a private IP of the network interface"),
                    ));
                }
            }
            if !tx.eip_list_by_private_ip(&eni.vswitch_id, want)?.is_empty() {
                return Err(Error::PrivateIpHasEip);
            }
            tx.private_ip_delete(&eni.vswitch_id, want)?;
        }
        Ok(Body::new())
    })
    .await
}

pub(crate) fn describe_instance_types(p: &Params) -> Result<Body> {
    let wanted = p.list("InstanceTypes")?;
    let family = p.opt("InstanceTypeFamily").map(str::to_owned);
    let items: Vec<Value> = catalogue::INSTANCE_TYPES
        .iter()
        .filter(|t| wanted.is_empty() || wanted.iter().any(|w| w == t.id))
        .filter(|t| family.as_ref().is_none_or(|f| t.id.starts_with(&format!("{f}."))))
        .map(|t| {
            let fam = t.id.rsplit_once('.').map(|(f, _)| f).unwrap_or_default();
            json!({
                "InstanceTypeId": t.id,
                "InstanceTypeFamily": fam,
                "CpuCoreCount": t.cpu,
                "MemorySize": t.memory_mb as f64 / 1024.0,
                "EniQuantity": t.eni_quantity,
                "EniTotalQuantity": t.eni_quantity,
                "EniPrivateIpAddressQuantity": t.eni_private_ips,
                "EniIpv6AddressQuantity": 1,
                "EniTrunkSupported": false,
                "InstanceCategory": "General-purpose",
                "InstanceFamilyLevel": "EnterpriseLevel",
                "CpuArchitecture": "X86",
                "GPUAmount": 0,
                "GPUSpec": "",
                "LocalStorageAmount": 0,
                "LocalStorageCapacity": 0,
                "LocalStorageCategory": "",
                "NvmeSupport": "unsupported",
            })
        })
        .collect();
    Ok(body(json!({"NextToken": "", "InstanceTypes": {"InstanceType": items}})))
}

/// What DeleteInstance does to the instance's ENIs: the primary one goes
/// (its EIPs are unbound), secondary ones are detached and survive.
pub(crate) fn release_instance_enis(tx: &mut dyn Tx, instance: &str) -> Result<()> {
    for mut eni in tx.eni_list_by_instance(instance)? {
        match eni.kind {
            EniType::Primary => {
                let ips = tx.private_ip_list_eni(&eni.id)?;
                for mut e in nat_eips_of(tx, &eni, &ips)? {
                    crate::bind::unbind_gone(tx, &mut e)?;
                }
                crate::bind::unbind_all(tx, &eni.id)?;
                crate::havip::forget_member(tx, &eni.id)?;
                tx.eni_delete(&eni.id)?;
            }
            EniType::Secondary => {
                eni.instance_id = None;
                eni.status = EniStatus::Available;
                tx.eni_update(&eni)?;
            }
        }
    }
    Ok(())
}
