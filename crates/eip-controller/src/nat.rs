//! Public NAT gateways (VPC 2016-04-28): the gateway with its own interface
//! in a vSwitch, its SNAT and DNAT (forward) entries, and the gateway side of
//! EIP association: at most 20 EIPs (NAT-02), of which 10 pay-by-traffic,
//! and a private IP per EIP for gateways in EIP bind mode NAT created on or
//! after 2022-09-19 (NAT-03). Entries that use an EIP block its
//! unassociation unless forced, and are checked as CreateSnatEntry and
//! CreateForwardEntry check them (NAT-01).

use crate::bind::Binding;
use crate::tasks::{TaskKind, schedule};
use crate::{Body, Controller, Ctx, Env, body, dry_run, paging, region_opt, region_param};
use eip_api::Params;
use eip_domain::cidr::Cidr;
use eip_domain::rules::{EipFacts, check_eip_side, check_name};
use eip_domain::targets::{self, NatFacts};
use eip_store::{EipRow, ForwardEntryRow, NatGatewayRow, SnatEntryRow, StoreExt, Tx};
use eip_types::time::{format_iso, parse_iso};
use eip_types::{
    AssociatedInstanceType, EipMode, EipStatus, EniId, Error, ForwardEntryId, ForwardTableId, FullNatTableId,
    InternetChargeType, IpProtocol, NatEipBindMode, NatGatewayId, NatGatewayStatus, NatNetworkType, ResourceKind,
    Result, SnatEntryId, SnatTableId,
};
use serde_json::{Value, json};
use std::net::Ipv4Addr;

fn nat_of(tx: &mut dyn Tx, account: &str, id: &str, region: Option<&str>) -> Result<NatGatewayRow> {
    tx.nat_get(id)?
        .filter(|n| n.account_id == account && region.is_none_or(|r| r == n.region_id))
        .ok_or_else(|| Error::not_found(ResourceKind::NatGateway, id))
}

/// The gateway owning a table of the kind asked for.
fn nat_of_table(
    tx: &mut dyn Tx,
    account: &str,
    table: &str,
    snat: bool,
    region: Option<&str>,
) -> Result<NatGatewayRow> {
    let kind = if snat { ResourceKind::SnatTable } else { ResourceKind::ForwardTable };
    tx.nat_get_by_table(table)?
        .filter(|n| n.account_id == account && region.is_none_or(|r| r == n.region_id))
        .filter(|n| if snat { n.snat_table_id == table } else { n.forward_table_id == table })
        .ok_or_else(|| Error::not_found(kind, table))
}

/// EIPs on a gateway (any status but gone).
fn gateway_eips(tx: &mut dyn Tx, nat: &NatGatewayRow) -> Result<Vec<EipRow>> {
    Ok(tx
        .eip_list_by_target(&nat.id)?
        .into_iter()
        .filter(|e| e.instance_type == Some(AssociatedInstanceType::Nat))
        .collect())
}

/// The gateway side of AssociateEipAddress (`InstanceType=Nat`).
pub(crate) fn check_associate(tx: &mut dyn Tx, env: &Env, eip: &EipRow, id: &str) -> Result<(EipStatus, Binding)> {
    let nat = tx
        .nat_get(id)?
        .filter(|n| n.account_id == env.account)
        .ok_or_else(|| Error::AssociateTargetNotFound(id.to_owned()))?;
    let next = check_eip_side(EipFacts { status: eip.status, region: &eip.region_id }, &nat.region_id)?;
    let eips = gateway_eips(tx, &nat)?;
    let needs_private_ip = targets::nat_takes_private_ip(nat.eip_bind_mode, nat.created_at);
    let free_private_ip = match needs_private_ip {
        true => match tx.vswitch_get(&nat.account_id, &nat.vswitch_id)? {
            Some(v) => crate::net::vswitch_available(tx, &v)? > 0,
            None => false,
        },
        false => false,
    };
    targets::check_associate_nat(
        &NatFacts {
            status: nat.status,
            network: nat.network_type,
            eips: eips.len(),
            eips_max: crate::quotas::limit(tx, &env.account, eip_domain::quotas::QuotaKind::NatGatewayEips)?,
            traffic_eips: eips.iter().filter(|e| e.internet_charge_type == InternetChargeType::PayByTraffic).count(),
            needs_private_ip,
            free_private_ip,
        },
        eip.internet_charge_type,
    )?;
    Ok((
        next,
        Binding {
            kind: AssociatedInstanceType::Nat,
            instance_id: nat.id.clone(),
            region: nat.region_id.clone(),
            mode: EipMode::Nat,
            private: None,
        },
    ))
}

/// NAT-03: after [`check_associate`] accepted, a gateway that needs it lends
/// the EIP a free private IP of its vSwitch (held by the EIP, returned when
/// the EIP leaves).
pub(crate) fn take_eip_private_ip(tx: &mut dyn Tx, _env: &Env, eip: &mut EipRow) -> Result<()> {
    let Some(nat) = tx.nat_get(eip.instance_id.as_deref().unwrap_or_default())? else {
        return Ok(());
    };
    if !targets::nat_takes_private_ip(nat.eip_bind_mode, nat.created_at) {
        return Ok(());
    }
    let vsw = tx
        .vswitch_get(&nat.account_id, &nat.vswitch_id)?
        .ok_or_else(|| Error::Internal("NAT gateway without vSwitch".into()))?;
    let ip = crate::net::take_private(tx, &vsw, &eip.id, None, false).map_err(|e| match e {
        Error::NoFreePrivateIp => Error::NoAvailablePrivateIp,
        other => other,
    })?;
    eip.private_vswitch_id = Some(vsw.id.clone());
    eip.private_ip = Some(ip);
    Ok(())
}

fn snat_uses(entry: &SnatEntryRow, ip: &str) -> bool {
    entry.snat_ips.split(',').any(|x| x.trim() == ip)
}

/// The gateway side of UnassociateEipAddress: SNAT/DNAT entries that use the
/// EIP refuse it, or go first with `Force`.
pub(crate) fn check_unassociate(tx: &mut dyn Tx, eip: &EipRow, force: bool) -> Result<()> {
    let nat_id = eip.instance_id.clone().unwrap_or_default();
    let snat: Vec<SnatEntryRow> = tx.snat_list(&nat_id)?.into_iter().filter(|s| snat_uses(s, &eip.ip)).collect();
    let fwd: Vec<ForwardEntryRow> = tx.forward_list(&nat_id)?.into_iter().filter(|f| f.external_ip == eip.ip).collect();
    targets::check_unassociate_nat(!snat.is_empty(), !fwd.is_empty(), force)?;
    for s in snat {
        tx.snat_delete(&s.id)?;
    }
    for f in fwd {
        tx.forward_delete(&f.id)?;
    }
    Ok(())
}

pub(crate) async fn create(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let vpc_id = p.req("VpcId")?.to_owned();
    let vsw_id = p.req("VSwitchId")?.to_owned();
    match p.opt("NatType") {
        None | Some("Enhanced") => {}
        Some(v) => return Err(Error::invalid("NatType", format!("{v} is not supported; use Enhanced"))),
    }
    let network = p
        .enumerated("NetworkType", NatNetworkType::parse, |v| {
            Error::invalid("NetworkType", format!("{v} is not internet or intranet"))
        })?
        .unwrap_or(NatNetworkType::Internet);
    let bind_mode = p
        .enumerated("EipBindMode", NatEipBindMode::parse, |v| {
            Error::invalid("EipBindMode", format!("{v} is not MULTI_BINDED or NAT"))
        })?
        .unwrap_or(NatEipBindMode::MultiBinded);
    let name = p.raw("Name").unwrap_or_default().to_owned();
    let description = p.raw("Description").unwrap_or_default().to_owned();
    check_name("Name", &name, 128)?;
    check_name("Description", &description, 256)?;
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let vpc = tx
            .vpc_get(&env.account, &vpc_id)?
            .filter(|v| v.region_id == region)
            .ok_or_else(|| Error::not_found(ResourceKind::Vpc, &vpc_id))?;
        let vsw = tx
            .vswitch_get(&env.account, &vsw_id)?
            .filter(|v| v.vpc_id == vpc.id)
            .ok_or_else(|| Error::not_found(ResourceKind::VSwitch, &vsw_id))?;
        let eni_id = EniId::generate().to_string();
        let private_ip = crate::net::take_private(tx, &vsw, &eni_id, None, true)?;
        let row = NatGatewayRow {
            id: NatGatewayId::generate().to_string(),
            account_id: env.account.clone(),
            region_id: region.to_owned(),
            vpc_id: vpc.id.clone(),
            vswitch_id: vsw.id.clone(),
            zone_id: vsw.zone_id.clone(),
            name: name.clone(),
            description: description.clone(),
            status: NatGatewayStatus::Creating,
            network_type: network,
            eip_bind_mode: bind_mode,
            snat_table_id: SnatTableId::generate().to_string(),
            forward_table_id: ForwardTableId::generate().to_string(),
            full_nat_table_id: FullNatTableId::generate().to_string(),
            eni_id,
            private_ip,
            created_at: env.now,
        };
        tx.nat_insert(&row)?;
        schedule(tx, TaskKind::NatActivate, &row.id, env)?;
        Ok(body(json!({
            "NatGatewayId": row.id,
            "SnatTableIds": {"SnatTableId": [row.snat_table_id]},
            "ForwardTableIds": {"ForwardTableId": [row.forward_table_id]},
            "FullNatTableIds": {"FullNatTableId": [row.full_nat_table_id]},
        })))
    })
    .await
}

fn render(tx: &mut dyn Tx, n: &NatGatewayRow) -> Result<Value> {
    let snat = tx.snat_list(&n.id)?;
    let fwd = tx.forward_list(&n.id)?;
    let ips: Vec<Value> = gateway_eips(tx, n)?
        .iter()
        .map(|e| {
            let by_snat = snat.iter().any(|s| snat_uses(s, &e.ip));
            let by_fwd = fwd.iter().any(|f| f.external_ip == e.ip);
            let using = match (by_snat, by_fwd) {
                (false, false) => "Idle",
                (true, false) => "UsedBySnatTable",
                (false, true) => "UsedByForwardTable",
                (true, true) => "UsedByForwardSnatTable",
            };
            json!({
                "AllocationId": e.id,
                "IpAddress": e.ip,
                "PrivateIpAddress": e.private_ip.clone().unwrap_or_default(),
                "SnatEntryEnabled": by_snat,
                "UsingStatus": using,
            })
        })
        .collect();
    let rg = eip_types::default_resource_group(&eip_types::AccountId::from_trusted(n.account_id.clone()));
    Ok(json!({
        "NatGatewayId": n.id,
        "Name": n.name,
        "Description": n.description,
        "Status": n.status.as_str(),
        "BusinessStatus": "Normal",
        "RegionId": n.region_id,
        "VpcId": n.vpc_id,
        "NatType": "Enhanced",
        "NetworkType": n.network_type.as_str(),
        "EipBindMode": n.eip_bind_mode.as_str(),
        "Spec": "",
        "InstanceChargeType": "PostPaid",
        "InternetChargeType": "PayByLcu",
        "CreationTime": format_iso(n.created_at),
        "ExpiredTime": "",
        "AutoPay": false,
        "DeletionProtection": false,
        "EcsMetricEnabled": false,
        "IcmpReplyEnabled": true,
        "PrivateLinkEnabled": false,
        "SecurityProtectionEnabled": false,
        "ResourceGroupId": rg,
        "SnatTableIds": {"SnatTableId": [n.snat_table_id]},
        "ForwardTableIds": {"ForwardTableId": [n.forward_table_id]},
        "FullNatTableIds": {"FullNatTableId": [n.full_nat_table_id]},
        "IpLists": {"IpList": ips},
        "IpPrefixList": {"IpPrefixList": []},
        "NatGatewayPrivateInfo": {
            "EniInstanceId": n.eni_id,
            "PrivateIpAddress": n.private_ip,
            "VswitchId": n.vswitch_id,
            "IzNo": n.zone_id,
            "MaxBandwidth": 5120,
            "EniType": "indirect",
        },
        "Tags": {"Tag": []},
    }))
}

pub(crate) fn describe(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let id = p.opt("NatGatewayId").map(str::to_owned);
    let vpc = p.opt("VpcId").map(str::to_owned);
    let name = p.opt("Name").map(str::to_owned);
    let network = p.enumerated("NetworkType", NatNetworkType::parse, |v| {
        Error::invalid("NetworkType", format!("{v} is not internet or intranet"))
    })?;
    let status = p.enumerated("Status", NatGatewayStatus::parse, |v| {
        Error::invalid("Status", format!("{v} is not a NAT gateway status"))
    })?;
    let (page, size) = paging(p, 10, 50)?;
    dry_run(p)?;
    ctl.read(|tx| {
        let all: Vec<NatGatewayRow> = tx
            .nat_list(&ctx.account, region)?
            .into_iter()
            .filter(|n| id.as_ref().is_none_or(|i| &n.id == i))
            .filter(|n| vpc.as_ref().is_none_or(|v| &n.vpc_id == v))
            .filter(|n| name.as_ref().is_none_or(|x| &n.name == x))
            .filter(|n| network.is_none_or(|t| n.network_type == t))
            .filter(|n| status.is_none_or(|s| n.status == s))
            .collect();
        let tags = crate::tags::of_type(tx, &ctx.account, "NATGATEWAY")?;
        let mut items = Vec::new();
        for n in all.iter().skip(((page - 1) * size) as usize).take(size as usize) {
            let mut item = render(tx, n)?;
            crate::tags::show(&mut item, "NatGatewayId", &tags, false);
            items.push(item);
        }
        Ok(body(json!({
            "TotalCount": all.len(),
            "PageNumber": page,
            "PageSize": size,
            "NatGateways": {"NatGateway": items},
        })))
    })
}

pub(crate) async fn delete(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let id = p.req("NatGatewayId")?.to_owned();
    let force = p.bool("Force")?.unwrap_or(false);
    ctl.write(ctx, p, move |tx, env| {
        let nat = nat_of(tx, &env.account, &id, region)?;
        let eips = gateway_eips(tx, &nat)?;
        let snat = tx.snat_list(&nat.id)?;
        let fwd = tx.forward_list(&nat.id)?;
        targets::check_delete_nat(nat.status, eips.len(), snat.len(), fwd.len(), force)?;
        for s in snat {
            tx.snat_delete(&s.id)?;
        }
        for f in fwd {
            tx.forward_delete(&f.id)?;
        }
        for mut e in eips {
            crate::bind::unbind_gone(tx, &mut e)?;
        }
        tx.private_ip_delete_holder(&nat.eni_id)?;
        tx.nat_delete(&nat.id)?;
        Ok(Body::new())
    })
    .await
}

// ---------------------------------------------------------------- SNAT

pub(crate) async fn create_snat(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let table = p.req("SnatTableId")?.to_owned();
    let ips: Vec<String> = p.req("SnatIp")?.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    let source_vsw = p.opt("SourceVSwitchId").map(str::to_owned);
    let source_cidr = p.opt("SourceCIDR").map(str::to_owned);
    match (&source_vsw, &source_cidr) {
        (None, None) => return Err(Error::MissingParameter("SourceVSwitchId".into())),
        (Some(_), Some(_)) => {
            return Err(Error::invalid("SourceCIDR", "SourceVSwitchId and SourceCIDR cannot be used together"));
        }
        (None, Some(c)) => {
            Cidr::parse(c).ok_or_else(|| Error::invalid("SourceCIDR", format!("{c} is not a CIDR block")))?;
        }
        (Some(_), None) => {}
    }
    let name = p.raw("SnatEntryName").unwrap_or_default().to_owned();
    check_name("SnatEntryName", &name, 128)?;
    match p.opt("EipAffinity") {
        None | Some("0" | "1") => {}
        Some(v) => return Err(Error::invalid("EipAffinity", format!("{v} is not 0 or 1"))),
    }
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let nat = nat_of_table(tx, &env.account, &table, true, region)?;
        targets::check_nat_entry_change(nat.status)?;
        let eips = gateway_eips(tx, &nat)?;
        for ip in &ips {
            if !eips.iter().any(|e| &e.ip == ip) {
                return Err(Error::SnatIpNotInNatGateway);
            }
        }
        let cidr = match (&source_vsw, source_cidr.clone()) {
            (Some(v), _) => {
                let vsw = tx
                    .vswitch_get(&env.account, v)?
                    .filter(|s| s.vpc_id == nat.vpc_id)
                    .ok_or_else(|| Error::not_found(ResourceKind::VSwitch, v))?;
                vsw.cidr
            }
            (None, Some(c)) => c,
            (None, None) => return Err(Error::MissingParameter("SourceVSwitchId".into())),
        };
        // NAT-01: "Each vSwitch or ECS instance can be specified in only one SNAT entry."
        if tx.snat_list(&nat.id)?.iter().any(|s| {
            s.source_cidr == cidr || (source_vsw.is_some() && s.source_vswitch_id.as_ref() == source_vsw.as_ref())
        }) {
            return Err(Error::SnatSourceDuplicated);
        }
        // An EIP an IP-mapping (Any) DNAT entry uses serves no other entry.
        let fwd = tx.forward_list(&nat.id)?;
        if ips.iter().any(|ip| fwd.iter().any(|f| &f.external_ip == ip && f.ip_protocol == IpProtocol::Any)) {
            return Err(Error::SnatIpUsedByForwardEntry);
        }
        let row = SnatEntryRow {
            id: SnatEntryId::generate().to_string(),
            account_id: env.account.clone(),
            nat_gateway_id: nat.id.clone(),
            snat_table_id: nat.snat_table_id.clone(),
            snat_ips: ips.join(","),
            source_vswitch_id: source_vsw.clone(),
            source_cidr: cidr,
            name: name.clone(),
            created_at: env.now,
        };
        tx.snat_insert(&row)?;
        Ok(body(json!({"SnatEntryId": row.id})))
    })
    .await
}

pub(crate) fn describe_snat(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let table = p.opt("SnatTableId").map(str::to_owned);
    let nat_id = p.opt("NatGatewayId").map(str::to_owned);
    if table.is_none() && nat_id.is_none() {
        return Err(Error::MissingParameter("SnatTableId".into()));
    }
    let entry = p.opt("SnatEntryId").map(str::to_owned);
    let snat_ip = p.opt("SnatIp").map(str::to_owned);
    let source_cidr = p.opt("SourceCIDR").map(str::to_owned);
    let source_vsw = p.opt("SourceVSwitchId").map(str::to_owned);
    let name = p.opt("SnatEntryName").map(str::to_owned);
    let (page, size) = paging(p, 10, 50)?;
    ctl.read(|tx| {
        let nat = match (&table, &nat_id) {
            (Some(t), _) => nat_of_table(tx, &ctx.account, t, true, Some(region))?,
            (None, Some(n)) => nat_of(tx, &ctx.account, n, Some(region))?,
            (None, None) => return Err(Error::MissingParameter("SnatTableId".into())),
        };
        let rows: Vec<SnatEntryRow> = tx
            .snat_list(&nat.id)?
            .into_iter()
            .filter(|s| entry.as_ref().is_none_or(|e| &s.id == e))
            .filter(|s| snat_ip.as_ref().is_none_or(|ip| snat_uses(s, ip)))
            .filter(|s| source_cidr.as_ref().is_none_or(|c| &s.source_cidr == c))
            .filter(|s| source_vsw.as_ref().is_none_or(|v| s.source_vswitch_id.as_ref() == Some(v)))
            .filter(|s| name.as_ref().is_none_or(|n| &s.name == n))
            .collect();
        let items: Vec<Value> = rows
            .iter()
            .skip(((page - 1) * size) as usize)
            .take(size as usize)
            .map(|s| {
                json!({
                    "SnatEntryId": s.id,
                    "SnatEntryName": s.name,
                    "SnatTableId": s.snat_table_id,
                    "SnatIp": s.snat_ips,
                    "SourceCIDR": s.source_cidr,
                    "SourceVSwitchId": s.source_vswitch_id.clone().unwrap_or_default(),
                    "Status": "Available",
                    "NatGatewayId": s.nat_gateway_id,
                    "EipAffinity": "0",
                    "NetworkInterfaceId": "",
                })
            })
            .collect();
        Ok(body(json!({
            "TotalCount": rows.len(),
            "PageNumber": page,
            "PageSize": size,
            "SnatTableEntries": {"SnatTableEntry": items},
        })))
    })
}

pub(crate) async fn delete_snat(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let table = p.req("SnatTableId")?.to_owned();
    let entry = p.req("SnatEntryId")?.to_owned();
    ctl.write(ctx, p, move |tx, env| {
        let nat = nat_of_table(tx, &env.account, &table, true, region)?;
        let row = tx
            .snat_get(&entry)?
            .filter(|s| s.nat_gateway_id == nat.id)
            .ok_or_else(|| Error::not_found(ResourceKind::SnatEntry, &entry))?;
        tx.snat_delete(&row.id)?;
        Ok(Body::new())
    })
    .await
}

// ---------------------------------------------------------------- DNAT

fn port(name: &'static str, v: &str, protocol: IpProtocol) -> Result<String> {
    match protocol {
        IpProtocol::Any if v.eq_ignore_ascii_case("any") => return Ok("Any".into()),
        IpProtocol::Any | IpProtocol::Tcp | IpProtocol::Udp => {}
    }
    match port_range(v) {
        Some((a, b)) if a <= b => Ok(v.to_owned()),
        Some(_) => Err(Error::MalformedPort { name, reason: format!("the range {v} does not start below its end") }),
        None => Err(Error::MalformedPort { name, reason: "must be a port (1-65535), a range a/b, or Any".into() }),
    }
}

/// `80` → (80, 80); `100/200` → (100, 200); anything else (also `Any`) → None.
fn port_range(v: &str) -> Option<(u16, u16)> {
    let one = |n: &str| n.parse::<u16>().ok().filter(|n| *n >= 1);
    match v.split_once('/') {
        Some((a, b)) => Some((one(a)?, one(b)?)),
        None => one(v).map(|n| (n, n)),
    }
}

/// Two external (or internal) port specs of one protocol share a port.
fn ports_overlap(a: &str, b: &str) -> bool {
    match (port_range(a), port_range(b)) {
        (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 && b0 <= a1,
        _ => a.eq_ignore_ascii_case(b),
    }
}

pub(crate) async fn create_forward(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let table = p.req("ForwardTableId")?.to_owned();
    let external_ip = p.req("ExternalIp")?.to_owned();
    let protocol = IpProtocol::parse(p.req("IpProtocol")?)
        .or_else(|| match p.opt("IpProtocol").map(str::to_ascii_lowercase).as_deref() {
            Some("tcp") => Some(IpProtocol::Tcp),
            Some("udp") => Some(IpProtocol::Udp),
            Some("any") => Some(IpProtocol::Any),
            _ => None,
        })
        .ok_or_else(|| Error::invalid("IpProtocol", "must be TCP, UDP or Any"))?;
    let external_port = port("ExternalPort", p.req("ExternalPort")?, protocol)?;
    let internal_ip = p.req("InternalIp")?.to_owned();
    internal_ip.parse::<Ipv4Addr>().map_err(|_| Error::invalid("InternalIp", "must be an IPv4 address"))?;
    let internal_port = port("InternalPort", p.req("InternalPort")?, protocol)?;
    // A port range maps onto an internal range of the same size.
    match (port_range(&external_port), port_range(&internal_port)) {
        (Some((e0, e1)), Some((i0, i1))) if e1 - e0 != i1 - i0 => {
            return Err(Error::MalformedPort {
                name: "InternalPort",
                reason: format!("{internal_port} is not a range of the size of ExternalPort {external_port}"),
            });
        }
        (None, Some(_)) | (Some(_), None) => {
            return Err(Error::MalformedPort {
                name: "InternalPort",
                reason: "must be Any exactly when ExternalPort is Any".into(),
            });
        }
        _ => {}
    }
    let name = p.raw("ForwardEntryName").unwrap_or_default().to_owned();
    check_name("ForwardEntryName", &name, 128)?;
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let nat = nat_of_table(tx, &env.account, &table, false, region)?;
        targets::check_nat_entry_change(nat.status)?;
        if !gateway_eips(tx, &nat)?.iter().any(|e| e.ip == external_ip) {
            return Err(Error::invalid("ExternalIp", "is not an EIP associated with the NAT gateway"));
        }
        let vpc_cidr = tx.vpc_get(&env.account, &nat.vpc_id)?.and_then(|v| Cidr::parse(&v.cidr));
        let internal = internal_ip.parse::<Ipv4Addr>().ok();
        if matches!((vpc_cidr, internal), (Some(c), Some(ip)) if !c.contains(ip)) {
            return Err(Error::ForwardInternalIpOutOfVpc);
        }
        let same_eip: Vec<ForwardEntryRow> =
            tx.forward_list(&nat.id)?.into_iter().filter(|f| f.external_ip == external_ip).collect();
        // An IP-mapping (Any) entry is the only DNAT entry on its EIP; other
        // entries of one protocol may not share an external port.
        if same_eip.iter().any(|f| {
            protocol == IpProtocol::Any
                || f.ip_protocol == IpProtocol::Any
                || (f.ip_protocol == protocol && ports_overlap(&f.external_port, &external_port))
        }) {
            return Err(Error::ForwardEntryExists);
        }
        // "The combinations of IpProtocol, InternalIp, and InternalPort must be unique."
        if tx.forward_list(&nat.id)?.iter().any(|f| {
            f.ip_protocol == protocol && f.internal_ip == internal_ip && ports_overlap(&f.internal_port, &internal_port)
        }) {
            return Err(Error::ForwardDestinationDuplicated);
        }
        let row = ForwardEntryRow {
            id: ForwardEntryId::generate().to_string(),
            account_id: env.account.clone(),
            nat_gateway_id: nat.id.clone(),
            forward_table_id: nat.forward_table_id.clone(),
            external_ip: external_ip.clone(),
            external_port: external_port.clone(),
            internal_ip: internal_ip.clone(),
            internal_port: internal_port.clone(),
            ip_protocol: protocol,
            name: name.clone(),
            created_at: env.now,
        };
        tx.forward_insert(&row)?;
        Ok(body(json!({"ForwardEntryId": row.id})))
    })
    .await
}

pub(crate) fn describe_forward(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let table = p.opt("ForwardTableId").map(str::to_owned);
    let nat_id = p.opt("NatGatewayId").map(str::to_owned);
    if table.is_none() && nat_id.is_none() {
        return Err(Error::MissingParameter("ForwardTableId".into()));
    }
    let entry = p.opt("ForwardEntryId").map(str::to_owned);
    let external_ip = p.opt("ExternalIp").map(str::to_owned);
    let external_port = p.opt("ExternalPort").map(str::to_owned);
    let internal_ip = p.opt("InternalIp").map(str::to_owned);
    let internal_port = p.opt("InternalPort").map(str::to_owned);
    let protocol = p.opt("IpProtocol").map(str::to_owned);
    let name = p.opt("ForwardEntryName").map(str::to_owned);
    let (page, size) = paging(p, 10, 50)?;
    ctl.read(|tx| {
        let nat = match (&table, &nat_id) {
            (Some(t), _) => nat_of_table(tx, &ctx.account, t, false, Some(region))?,
            (None, Some(n)) => nat_of(tx, &ctx.account, n, Some(region))?,
            (None, None) => return Err(Error::MissingParameter("ForwardTableId".into())),
        };
        let rows: Vec<ForwardEntryRow> = tx
            .forward_list(&nat.id)?
            .into_iter()
            .filter(|f| entry.as_ref().is_none_or(|e| &f.id == e))
            .filter(|f| external_ip.as_ref().is_none_or(|x| &f.external_ip == x))
            .filter(|f| external_port.as_ref().is_none_or(|x| &f.external_port == x))
            .filter(|f| internal_ip.as_ref().is_none_or(|x| &f.internal_ip == x))
            .filter(|f| internal_port.as_ref().is_none_or(|x| &f.internal_port == x))
            .filter(|f| protocol.as_ref().is_none_or(|x| f.ip_protocol.as_str().eq_ignore_ascii_case(x)))
            .filter(|f| name.as_ref().is_none_or(|x| &f.name == x))
            .collect();
        let items: Vec<Value> = rows
            .iter()
            .skip(((page - 1) * size) as usize)
            .take(size as usize)
            .map(|f| {
                json!({
                    "ForwardEntryId": f.id,
                    "ForwardEntryName": f.name,
                    "ForwardTableId": f.forward_table_id,
                    "ExternalIp": f.external_ip,
                    "ExternalPort": f.external_port,
                    "InternalIp": f.internal_ip,
                    "InternalPort": f.internal_port,
                    "IpProtocol": f.ip_protocol.as_str(),
                    "Status": "Available",
                    "NatGatewayId": f.nat_gateway_id,
                })
            })
            .collect();
        Ok(body(json!({
            "TotalCount": rows.len(),
            "PageNumber": page,
            "PageSize": size,
            "ForwardTableEntries": {"ForwardTableEntry": items},
        })))
    })
}

pub(crate) async fn delete_forward(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_opt(p)?;
    let table = p.req("ForwardTableId")?.to_owned();
    let entry = p.req("ForwardEntryId")?.to_owned();
    ctl.write(ctx, p, move |tx, env| {
        let nat = nat_of_table(tx, &env.account, &table, false, region)?;
        let row = tx
            .forward_get(&entry)?
            .filter(|f| f.nat_gateway_id == nat.id)
            .ok_or_else(|| Error::not_found(ResourceKind::ForwardEntry, &entry))?;
        tx.forward_delete(&row.id)?;
        Ok(Body::new())
    })
    .await
}

/// `eipd nat set-creation-time`: records when an imported gateway was really
/// created, which decides NAT-03 for its later associations.
pub async fn set_creation_time(ctl: &Controller, nat_id: &str, iso: &str) -> Result<()> {
    let at = parse_iso(iso).ok_or_else(|| Error::invalid("time", format!("{iso} is not YYYY-MM-DDThh:mm:ssZ")))?;
    let nat_id = nat_id.to_owned();
    ctl.store()
        .write(move |tx| {
            let mut n = tx.nat_get(&nat_id)?.ok_or_else(|| Error::not_found(ResourceKind::NatGateway, &nat_id))?;
            n.created_at = at;
            tx.nat_update(&n)?;
            Ok(())
        })
        .await
}
