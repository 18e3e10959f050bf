//! Regions, zones, VPCs and vSwitches (VPC 2016-04-28; regions and zones
//! also under ECS 2014-05-26).

use crate::{Body, Controller, Ctx, body, dry_run, paging, region_param, render};
use eip_api::{Params, Product};
use eip_domain::catalogue::{self, REGIONS};
use eip_domain::cidr::Cidr;
use eip_domain::rules::check_name;
use eip_store::{VSwitchRow, VpcRow};
use eip_types::{DependencyKind, Error, ResourceKind, Result, RouteTableId, VRouterId, VSwitchId, VpcId};
use serde_json::{Value, json};

fn english(p: &Params) -> bool {
    p.opt("AcceptLanguage").map(|l| l.starts_with("en")).unwrap_or(false)
}

pub(crate) fn describe_regions(ctx: &Ctx, p: &Params) -> Result<Body> {
    let en = english(p);
    let regions: Vec<Value> = REGIONS
        .iter()
        .map(|r| {
            let endpoint = match ctx.product {
                Product::Vpc
                | Product::Slb
                | Product::Alb
                | Product::Nlb
                | Product::Sts
                | Product::Quotas
                | Product::Bss => "vpc.aliyuncs.com".to_owned(),
                Product::Ecs => format!("ecs.{}.aliyuncs.com", r.id),
            };
            let mut v = json!({
                "RegionId": r.id,
                "LocalName": if en { r.local_name_en } else { r.local_name_zh },
                "RegionEndpoint": endpoint,
            });
            if ctx.product == Product::Ecs {
                v["Status"] = json!("available");
            }
            v
        })
        .collect();
    Ok(body(json!({"Regions": {"Region": regions}})))
}

pub(crate) fn describe_zones(ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = catalogue::region(region_param(p)?).ok_or_else(|| Error::Internal("region vanished".into()))?;
    let en = english(p);
    let zones: Vec<Value> = region
        .zones
        .iter()
        .map(|z| {
            let letter = z.rsplit('-').next().unwrap_or_default().to_uppercase();
            let name = if en { format!("{} Zone {letter}", region.local_name_en) } else { format!("{} 可用区{letter}", region.local_name_zh) };
            match ctx.product {
                Product::Vpc | Product::Slb | Product::Alb | Product::Nlb | Product::Sts | Product::Quotas | Product::Bss => json!({"ZoneId": z, "LocalName": name, "ZoneType": "AvailabilityZone"}),
                Product::Ecs => json!({
                    "ZoneId": z,
                    "LocalName": name,
                    "ZoneType": "AvailabilityZone",
                    "AvailableResourceCreation": {"ResourceTypes": ["Instance", "Disk", "VSwitch"]},
                    "AvailableInstanceTypes": {"InstanceTypes": catalogue::INSTANCE_TYPES.iter().map(|t| t.id).collect::<Vec<_>>()},
                    "AvailableVolumeCategories": {"VolumeCategories": ["cloud_essd"]},
                    "AvailableDiskCategories": {"DiskCategories": ["cloud_essd"]},
                    "AvailableResources": {"ResourcesInfo": []},
                    "DedicatedHostGenerations": {"DedicatedHostGeneration": []},
                    "AvailableDedicatedHostTypes": {"DedicatedHostType": []},
                }),
            }
        })
        .collect();
    Ok(body(json!({"Zones": {"Zone": zones}})))
}

pub(crate) async fn create_vpc(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let cidr_text = p.opt("CidrBlock").unwrap_or("172.16.0.0/12");
    let cidr = Cidr::parse(cidr_text).ok_or_else(|| Error::InvalidCidrBlock(cidr_text.to_owned()))?;
    if !cidr.is_private() || !(8..=28).contains(&cidr.len) {
        return Err(Error::InvalidCidrBlock(format!("{cidr_text} must be a private block with a mask of 8 to 28")));
    }
    let name = p.raw("VpcName").unwrap_or_default().to_owned();
    let description = p.raw("Description").unwrap_or_default().to_owned();
    check_name("VpcName", &name, 128)?;
    check_name("Description", &description, 256)?;
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let row = VpcRow {
            id: VpcId::generate().to_string(),
            account_id: env.account.clone(),
            region_id: region.to_owned(),
            cidr: cidr.to_string(),
            name: name.clone(),
            description: description.clone(),
            is_default: false,
            vrouter_id: VRouterId::generate().to_string(),
            route_table_id: RouteTableId::generate().to_string(),
            created_at: env.now,
        };
        tx.vpc_insert(&row)?;
        let rg = eip_types::default_resource_group(&eip_types::AccountId::from_trusted(env.account.clone()));
        Ok(body(json!({
            "VpcId": row.id,
            "VRouterId": row.vrouter_id,
            "RouteTableId": row.route_table_id,
            "ResourceGroupId": rg,
        })))
    })
    .await
}

pub(crate) fn describe_vpcs(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let ids = p.comma_list("VpcId", 20)?;
    let name = p.opt("VpcName").map(str::to_owned);
    let is_default = p.bool("IsDefault")?;
    let (page, size) = paging(p, 10, 50)?;
    dry_run(p)?;
    ctl.read(|tx| {
        let vpcs = tx.vpc_list(&ctx.account, region)?;
        let vsws = tx.vswitch_list(&ctx.account, region)?;
        let tags = crate::tags::of_type(tx, &ctx.account, "VPC")?;
        let matching: Vec<&VpcRow> = vpcs
            .iter()
            .filter(|v| ids.is_empty() || ids.contains(&v.id))
            .filter(|v| name.as_ref().is_none_or(|n| &v.name == n))
            .filter(|v| is_default.is_none_or(|d| v.is_default == d))
            .collect();
        let items: Vec<Value> = matching
            .iter()
            .skip(((page - 1) * size) as usize)
            .take(size as usize)
            .map(|v| {
                let ids: Vec<String> = vsws.iter().filter(|s| s.vpc_id == v.id).map(|s| s.id.clone()).collect();
                let mut item = render::vpc(v, &ids, &tx.vpc_cidr_list(&v.id)?);
                crate::tags::show(&mut item, "VpcId", &tags, false);
                Ok(item)
            })
            .collect::<Result<_>>()?;
        Ok(body(json!({
            "TotalCount": matching.len(),
            "PageNumber": page,
            "PageSize": size,
            "Vpcs": {"Vpc": items},
        })))
    })
}

pub(crate) async fn delete_vpc(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("VpcId")?.to_owned();
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let vpc = tx.vpc_get(&env.account, &id)?.filter(|v| region.is_none_or(|r| r == v.region_id));
        let vpc = vpc.ok_or_else(|| Error::not_found(ResourceKind::Vpc, &id))?;
        if tx.vswitch_list(&env.account, &vpc.region_id)?.iter().any(|s| s.vpc_id == vpc.id) {
            return Err(Error::DependencyViolation(DependencyKind::VpcHasVSwitch));
        }
        if tx.sg_list(&env.account, &vpc.region_id)?.iter().any(|s| s.vpc_id.as_deref() == Some(&vpc.id)) {
            return Err(Error::DependencyViolation(DependencyKind::VpcHasSecurityGroup));
        }
        tx.vpc_delete(&vpc.id)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn create_vswitch(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let vpc_id = p.req("VpcId")?.to_owned();
    let zone = p.req("ZoneId")?.to_owned();
    let cidr_text = p.req("CidrBlock")?.to_owned();
    let cidr = Cidr::parse(&cidr_text).ok_or_else(|| Error::InvalidCidrBlock(cidr_text.clone()))?;
    if !(16..=29).contains(&cidr.len) {
        return Err(Error::InvalidCidrBlock(format!("{cidr_text}: the mask must be 16 to 29")));
    }
    let name = p.raw("VSwitchName").unwrap_or_default().to_owned();
    let description = p.raw("Description").unwrap_or_default().to_owned();
    check_name("VSwitchName", &name, 128)?;
    check_name("Description", &description, 256)?;
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let vpc = tx.vpc_get(&env.account, &vpc_id)?.filter(|v| region.is_none_or(|r| r == v.region_id));
        let vpc = vpc.ok_or_else(|| Error::not_found(ResourceKind::Vpc, &vpc_id))?;
        if catalogue::zone_region(&zone).map(|r| r.id) != Some(vpc.region_id.as_str()) {
            return Err(Error::not_found(ResourceKind::Zone, &zone));
        }
        let vpc_cidr = Cidr::parse(&vpc.cidr).ok_or_else(|| Error::Internal("stored VPC CIDR".into()))?;
        // Inside the primary block or one of the secondary ones (VIS-03).
        let secondary: Vec<Cidr> = tx.vpc_cidr_list(&vpc.id)?.iter().filter_map(|c| Cidr::parse(c)).collect();
        if !vpc_cidr.contains_cidr(&cidr) && !secondary.iter().any(|s| s.contains_cidr(&cidr)) {
            return Err(Error::InvalidCidrBlock(format!(
                "{cidr} is not inside the VPC's {vpc_cidr} or one of its secondary CIDR blocks"
            )));
        }
        for other in tx.vswitch_list(&env.account, &vpc.region_id)?.iter().filter(|s| s.vpc_id == vpc.id) {
            if Cidr::parse(&other.cidr).is_some_and(|o| o.overlaps(&cidr)) {
                return Err(Error::CidrOverlapped);
            }
        }
        let row = VSwitchRow {
            id: VSwitchId::generate().to_string(),
            account_id: env.account.clone(),
            region_id: vpc.region_id.clone(),
            vpc_id: vpc.id.clone(),
            zone_id: zone.clone(),
            cidr: cidr.to_string(),
            name: name.clone(),
            description: description.clone(),
            created_at: env.now,
        };
        tx.vswitch_insert(&row)?;
        Ok(body(json!({"VSwitchId": row.id})))
    })
    .await
}

pub(crate) fn describe_vswitches(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let vpc = p.opt("VpcId").map(str::to_owned);
    let ids = p.comma_list("VSwitchId", 50)?;
    let zone = p.opt("ZoneId").map(str::to_owned);
    let name = p.opt("VSwitchName").map(str::to_owned);
    let (page, size) = paging(p, 10, 50)?;
    dry_run(p)?;
    ctl.read(|tx| {
        let all = tx.vswitch_list(&ctx.account, region)?;
        let matching: Vec<&VSwitchRow> = all
            .iter()
            .filter(|s| vpc.as_ref().is_none_or(|v| &s.vpc_id == v))
            .filter(|s| ids.is_empty() || ids.contains(&s.id))
            .filter(|s| zone.as_ref().is_none_or(|z| &s.zone_id == z))
            .filter(|s| name.as_ref().is_none_or(|n| &s.name == n))
            .collect();
        let tags = crate::tags::of_type(tx, &ctx.account, "VSWITCH")?;
        let mut items = Vec::new();
        for s in matching.iter().skip(((page - 1) * size) as usize).take(size as usize) {
            let avail = crate::net::vswitch_available(tx, s)?;
            let mut item = render::vswitch(s, avail);
            crate::tags::show(&mut item, "VSwitchId", &tags, false);
            items.push(item);
        }
        Ok(body(json!({
            "TotalCount": matching.len(),
            "PageNumber": page,
            "PageSize": size,
            "VSwitches": {"VSwitch": items},
        })))
    })
}

pub(crate) async fn delete_vswitch(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("VSwitchId")?.to_owned();
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let vsw = tx.vswitch_get(&env.account, &id)?.filter(|v| region.is_none_or(|r| r == v.region_id));
        let vsw = vsw.ok_or_else(|| Error::not_found(ResourceKind::VSwitch, &id))?;
        // Instances, ENIs, NAT gateways, HaVips and load balancers all hold addresses in it.
        if tx.instance_count_using(&vsw.id)? > 0
            || tx.eni_count_in_vswitch(&vsw.id)? > 0
            || !tx.private_ip_list_vswitch(&vsw.id)?.is_empty()
        {
            return Err(Error::DependencyViolation(DependencyKind::VSwitchHasInstance));
        }
        tx.vswitch_delete(&vsw.id)?;
        Ok(Body::new())
    })
    .await
}

/// DescribeVpcAttribute: one VPC by id (Ansible's `ali_vpc` waits on it).
pub(crate) fn describe_vpc_attribute(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let id = p.req("VpcId")?.to_owned();
    dry_run(p)?;
    ctl.read(|tx| {
        let vpc = tx.vpc_get(&ctx.account, &id)?.filter(|v| v.region_id == region);
        let vpc = vpc.ok_or_else(|| Error::not_found(ResourceKind::Vpc, &id))?;
        let vsws: Vec<String> =
            tx.vswitch_list(&ctx.account, region)?.into_iter().filter(|s| s.vpc_id == vpc.id).map(|s| s.id).collect();
        let secondary = tx.vpc_cidr_list(&vpc.id)?;
        let mut v = render::vpc(&vpc, &vsws, &secondary);
        crate::tags::show(&mut v, "VpcId", &crate::tags::of_type(tx, &ctx.account, "VPC")?, false);
        if let Value::Object(m) = &mut v {
            // DescribeVpcs-only fields; the attribute call has these instead.
            for k in ["RouterTableIds", "NatGatewayIds", "CenStatus"] {
                m.remove(k);
            }
            m.insert("ClassicLinkEnabled".into(), json!(false));
            m.insert("CloudResources".into(), json!({"CloudResourceSetType": []}));
            m.insert("AssociatedCens".into(), json!({"AssociatedCen": []}));
            m.insert("Ipv6CidrBlocks".into(), json!({"Ipv6CidrBlock": []}));
            m.insert("EnabledIpv6".into(), json!(false));
            m.insert("SupportIpv4Gateway".into(), json!(false));
            m.insert("Ipv4GatewayId".into(), json!(""));
            m.insert("DnsHostnameStatus".into(), json!("DISABLED"));
        }
        Ok(body(v))
    })
}

/// DescribeVSwitchAttributes: one vSwitch by id (Ansible's `ali_vswitch` waits on it).
pub(crate) fn describe_vswitch_attributes(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("VSwitchId")?.to_owned();
    dry_run(p)?;
    ctl.read(|tx| {
        let vsw = tx.vswitch_get(&ctx.account, &id)?.filter(|s| region.is_none_or(|r| r == s.region_id));
        let vsw = vsw.ok_or_else(|| Error::not_found(ResourceKind::VSwitch, &id))?;
        let avail = crate::net::vswitch_available(tx, &vsw)?;
        let route_table = tx.vpc_get(&ctx.account, &vsw.vpc_id)?.map(|v| v.route_table_id).unwrap_or_default();
        let mut v = render::vswitch(&vsw, avail);
        crate::tags::show(&mut v, "VSwitchId", &crate::tags::of_type(tx, &ctx.account, "VSWITCH")?, false);
        v["RouteTable"] = json!({"RouteTableId": route_table, "RouteTableType": "System"});
        v["EnabledIpv6"] = json!(false);
        Ok(body(v))
    })
}

/// AssociateVpcCidrBlock: adds a secondary IPv4 CIDR block, private or public
/// (VIS-03: a public block lets an ENI take an EIP's address as its private IP).
pub(crate) async fn associate_vpc_cidr_block(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("VpcId")?.to_owned();
    if p.opt("IPv6CidrBlock").is_some() || p.opt("IpVersion").is_some_and(|v| v.eq_ignore_ascii_case("IPV6")) {
        return Err(Error::ValueNotSupported { name: "IpVersion", value: "IPV6".into() });
    }
    let text = p.req("SecondaryCidrBlock")?.to_owned();
    let cidr = Cidr::parse(&text).ok_or_else(|| Error::InvalidCidrBlock(text.clone()))?;
    ctl.write(ctx, p, move |tx, env| {
        let vpc = tx.vpc_get(&env.account, &id)?.filter(|v| region.is_none_or(|r| r == v.region_id));
        let vpc = vpc.ok_or_else(|| Error::not_found(ResourceKind::Vpc, &id))?;
        let primary = Cidr::parse(&vpc.cidr).ok_or_else(|| Error::Internal("stored VPC CIDR".into()))?;
        let existing: Vec<Cidr> = tx.vpc_cidr_list(&vpc.id)?.iter().filter_map(|c| Cidr::parse(c)).collect();
        eip_domain::rules::check_secondary_cidr(&primary, &existing, &cidr)?;
        tx.vpc_cidr_add(&vpc.id, &cidr.to_string(), env.now)?;
        Ok(body(json!({"CidrBlock": cidr.to_string(), "IpVersion": "IPV4"})))
    })
    .await
}

/// UnassociateVpcCidrBlock: removes a secondary block no vSwitch uses.
pub(crate) async fn unassociate_vpc_cidr_block(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let id = p.req("VpcId")?.to_owned();
    let text = p.req("SecondaryCidrBlock")?.to_owned();
    let cidr = Cidr::parse(&text).ok_or_else(|| Error::InvalidCidrBlock(text.clone()))?;
    ctl.write(ctx, p, move |tx, env| {
        let vpc = tx.vpc_get(&env.account, &id)?.filter(|v| v.region_id == region);
        let vpc = vpc.ok_or_else(|| Error::not_found(ResourceKind::Vpc, &id))?;
        let in_use = tx
            .vswitch_list(&env.account, region)?
            .iter()
            .filter(|s| s.vpc_id == vpc.id)
            .any(|s| Cidr::parse(&s.cidr).is_some_and(|c| cidr.contains_cidr(&c)));
        if in_use {
            return Err(Error::CidrInUse);
        }
        if !tx.vpc_cidr_remove(&vpc.id, &cidr.to_string())? {
            return Err(Error::invalid("SecondaryCidrBlock", format!("{cidr} is not a secondary CIDR block of {id}")));
        }
        Ok(Body::new())
    })
    .await
}

/// The route entries of a VPC's system route table: one local route per
/// vSwitch CIDR block and the cloud-service route (100.64.0.0/10). openeip
/// keeps no custom routes.
fn system_routes(vpc: &VpcRow, vswitches: &[&VSwitchRow]) -> Vec<Value> {
    let entry = |cidr: &str, hop: &str| {
        json!({
            "RouteTableId": vpc.route_table_id,
            "DestinationCidrBlock": cidr,
            "Type": "System",
            "NextHopType": hop,
            "InstanceId": "",
            "Status": "Available",
            "RouteEntryId": "",
            "RouteEntryName": "",
            "Description": "",
            "NextHops": {"NextHop": []},
        })
    };
    let mut out: Vec<Value> = vswitches.iter().map(|s| entry(&s.cidr, "local")).collect();
    out.push(entry("100.64.0.0/10", "service"));
    out
}

/// The VPCs of the caller in `region` with their vSwitches.
fn vpcs_with_vswitches(
    tx: &mut dyn eip_store::Tx,
    account: &str,
    region: &str,
) -> Result<Vec<(VpcRow, Vec<VSwitchRow>)>> {
    let vsws = tx.vswitch_list(account, region)?;
    Ok(tx
        .vpc_list(account, region)?
        .into_iter()
        .map(|v| {
            let mine = vsws.iter().filter(|s| s.vpc_id == v.id).cloned().collect();
            (v, mine)
        })
        .collect())
}

/// DescribeRouteTables: the system route table of a VPC, by VRouterId,
/// RouterId, RouteTableId or RouteTableName (one of them is required).
pub(crate) fn describe_route_tables(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let vrouter = p.opt("VRouterId").or(p.opt("RouterId")).map(str::to_owned);
    if p.opt("VRouterId").is_some() && p.opt("RouterId").is_some() {
        return Err(Error::invalid("RouterId", "VRouterId and RouterId cannot both be given"));
    }
    let table = p.opt("RouteTableId").map(str::to_owned);
    let name = p.opt("RouteTableName").map(str::to_owned);
    if vrouter.is_none() && table.is_none() && name.is_none() {
        return Err(Error::MissingParameter("VRouterId".into()));
    }
    let (page, size) = paging(p, 10, 50)?;
    ctl.read(|tx| {
        let rg = eip_types::default_resource_group(&eip_types::AccountId::from_trusted(ctx.account.clone()));
        let matching: Vec<Value> = vpcs_with_vswitches(tx, &ctx.account, region)?
            .iter()
            .filter(|(v, _)| vrouter.as_ref().is_none_or(|r| *r == v.vrouter_id))
            .filter(|(v, _)| table.as_ref().is_none_or(|t| *t == v.route_table_id))
            .filter(|_| name.as_ref().is_none_or(|n| n.is_empty()))
            .map(|(v, vsws)| {
                let refs: Vec<&VSwitchRow> = vsws.iter().collect();
                json!({
                    "RouteTableId": v.route_table_id,
                    "RouteTableType": "System",
                    "VRouterId": v.vrouter_id,
                    "CreationTime": eip_types::time::format_iso(v.created_at),
                    "ResourceGroupId": rg,
                    "Status": "Available",
                    "VSwitchIds": {"VSwitchId": vsws.iter().map(|s| s.id.clone()).collect::<Vec<_>>()},
                    "RouteEntrys": {"RouteEntry": system_routes(v, &refs)},
                })
            })
            .collect();
        let total = matching.len();
        let items: Vec<Value> = matching.into_iter().skip(((page - 1) * size) as usize).take(size as usize).collect();
        Ok(body(
            json!({"TotalCount": total, "PageNumber": page, "PageSize": size, "RouteTables": {"RouteTable": items}}),
        ))
    })
}

/// DescribeRouteTableList: route tables by VpcId, RouteTableId, RouterId or
/// type (Terraform reads a VPC's system table through it).
pub(crate) fn describe_route_table_list(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let vpc = p.opt("VpcId").map(str::to_owned);
    let table = p.opt("RouteTableId").map(str::to_owned);
    let router = p.opt("RouterId").map(str::to_owned);
    let kind = p.opt("RouteTableType");
    if kind.is_some_and(|k| k != "System" && k != "Custom") {
        return Err(Error::invalid("RouteTableType", "must be System or Custom"));
    }
    let system_wanted = kind.is_none_or(|k| k == "System");
    let name = p.opt("RouteTableName").map(str::to_owned);
    let (page, size) = paging(p, 10, 50)?;
    ctl.read(|tx| {
        let rg = eip_types::default_resource_group(&eip_types::AccountId::from_trusted(ctx.account.clone()));
        let matching: Vec<Value> = vpcs_with_vswitches(tx, &ctx.account, region)?
            .iter()
            .filter(|_| system_wanted && name.as_ref().is_none_or(|n| n.is_empty()))
            .filter(|(v, _)| vpc.as_ref().is_none_or(|x| *x == v.id))
            .filter(|(v, _)| table.as_ref().is_none_or(|t| *t == v.route_table_id))
            .filter(|(v, _)| router.as_ref().is_none_or(|r| *r == v.vrouter_id))
            .map(|(v, vsws)| {
                json!({
                    "RouteTableId": v.route_table_id,
                    "RouteTableName": "",
                    "RouteTableType": "System",
                    "RouterId": v.vrouter_id,
                    "RouterType": "VRouter",
                    "VpcId": v.id,
                    "AssociateType": "VSwitch",
                    "Description": "",
                    "CreationTime": eip_types::time::format_iso(v.created_at),
                    "ResourceGroupId": rg,
                    "RoutePropagationEnable": true,
                    "Status": "Available",
                    "OwnerId": 0,
                    "GatewayIds": {"GatewayIds": []},
                    "Tags": {"Tag": []},
                    "VSwitchIds": {"VSwitchId": vsws.iter().map(|s| s.id.clone()).collect::<Vec<_>>()},
                })
            })
            .collect();
        let total = matching.len();
        let items: Vec<Value> = matching.into_iter().skip(((page - 1) * size) as usize).take(size as usize).collect();
        Ok(body(json!({
            "TotalCount": total,
            "PageNumber": page,
            "PageSize": size,
            "RouterTableList": {"RouterTableListType": items},
        })))
    })
}

/// The new name (`name_param`) and description of a Modify…Attribute call,
/// each checked when given.
fn rename_params(p: &Params, name_param: &str) -> Result<(Option<String>, Option<String>)> {
    let name = p.raw(name_param).map(str::to_owned);
    let description = p.raw("Description").map(str::to_owned);
    if let Some(n) = &name {
        check_name(name_param, n, 128)?;
    }
    if let Some(d) = &description {
        check_name("Description", d, 256)?;
    }
    Ok((name, description))
}

/// ModifyVpcAttribute: a VPC's name and description (Ansible's `ali_vpc`
/// calls it when they differ).
pub(crate) async fn modify_vpc_attribute(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("VpcId")?.to_owned();
    let (name, description) = rename_params(p, "VpcName")?;
    ctl.write(ctx, p, move |tx, env| {
        let vpc = tx.vpc_get(&env.account, &id)?.filter(|v| region.is_none_or(|r| r == v.region_id));
        let vpc = vpc.ok_or_else(|| Error::not_found(ResourceKind::Vpc, &id))?;
        tx.vpc_rename(
            &vpc.id,
            name.as_deref().unwrap_or(&vpc.name),
            description.as_deref().unwrap_or(&vpc.description),
        )?;
        Ok(Body::new())
    })
    .await
}

/// ModifyVSwitchAttribute: a vSwitch's name and description.
pub(crate) async fn modify_vswitch_attribute(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("VSwitchId")?.to_owned();
    let (name, description) = rename_params(p, "VSwitchName")?;
    ctl.write(ctx, p, move |tx, env| {
        let vsw = tx.vswitch_get(&env.account, &id)?.filter(|v| region.is_none_or(|r| r == v.region_id));
        let vsw = vsw.ok_or_else(|| Error::not_found(ResourceKind::VSwitch, &id))?;
        tx.vswitch_rename(
            &vsw.id,
            name.as_deref().unwrap_or(&vsw.name),
            description.as_deref().unwrap_or(&vsw.description),
        )?;
        Ok(Body::new())
    })
    .await
}
