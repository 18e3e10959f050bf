//! ECS 2014-05-26: security groups and instances with their real status
//! sequence (Pending → Starting → Running, Running → Stopping → Stopped),
//! each instance with a primary ENI holding a private IP of its vSwitch.

use crate::tasks::{TaskKind, schedule};
use crate::{Body, Controller, Ctx, Env, body, dry_run, paging, region_param, render};
use eip_api::Params;
use eip_domain::rules::{self, check_name};
use eip_store::{EniRow, InstanceRow, SecurityGroupRow, Tx};
use eip_types::{
    AssociatedInstanceType, ChargeType, EipMode, EniId, Error, InstanceId, InstanceNetworkType, InstanceStatus,
    InternetChargeType, ResourceKind, Result, SecurityGroupId,
};
use serde_json::{Value, json};

/// Types outside the catalogue are accepted when they look like ECS types
/// (`ecs.<family>.<size>`), with a nominal size.
fn plausible_type(t: &str) -> bool {
    let parts: Vec<&str> = t.split('.').collect();
    parts.len() == 3
        && parts[0] == "ecs"
        && parts[1..].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

pub(crate) async fn create_security_group(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let vpc_id = p.opt("VpcId").map(str::to_owned);
    let name = p.raw("SecurityGroupName").unwrap_or_default().to_owned();
    let description = p.raw("Description").unwrap_or_default().to_owned();
    check_name("SecurityGroupName", &name, 128)?;
    check_name("Description", &description, 256)?;
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        if let Some(v) = &vpc_id {
            tx.vpc_get(&env.account, v)?
                .filter(|x| x.region_id == region)
                .ok_or_else(|| Error::not_found(ResourceKind::Vpc, v))?;
        }
        let row = SecurityGroupRow {
            id: SecurityGroupId::generate().to_string(),
            account_id: env.account.clone(),
            region_id: region.to_owned(),
            vpc_id: vpc_id.clone(),
            name: name.clone(),
            description: description.clone(),
            created_at: env.now,
        };
        tx.sg_insert(&row)?;
        Ok(body(json!({"SecurityGroupId": row.id})))
    })
    .await
}

pub(crate) fn describe_security_groups(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let vpc = p.opt("VpcId").map(str::to_owned);
    let id = p.opt("SecurityGroupId").map(str::to_owned);
    let ids = p.json_list("SecurityGroupIds", 100)?;
    let name = p.opt("SecurityGroupName").map(str::to_owned);
    let (page, size) = paging(p, 10, 50)?;
    dry_run(p)?;
    ctl.read(|tx| {
        let all = tx.sg_list(&ctx.account, region)?;
        let m: Vec<&SecurityGroupRow> = all
            .iter()
            .filter(|s| vpc.as_ref().is_none_or(|v| s.vpc_id.as_ref() == Some(v)))
            .filter(|s| id.as_ref().is_none_or(|i| &s.id == i))
            .filter(|s| ids.as_ref().is_none_or(|l| l.contains(&s.id)))
            .filter(|s| name.as_ref().is_none_or(|n| &s.name == n))
            .collect();
        let items: Vec<Value> = m
            .iter()
            .skip(((page - 1) * size) as usize)
            .take(size as usize)
            .map(|s| render::security_group(s))
            .collect();
        Ok(body(json!({
            "RegionId": region,
            "TotalCount": m.len(),
            "PageNumber": page,
            "PageSize": size,
            "NextToken": "",
            "SecurityGroups": {"SecurityGroup": items},
        })))
    })
}

pub(crate) async fn delete_security_group(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("SecurityGroupId")?.to_owned();
    ctl.write(ctx, p, move |tx, env| {
        let sg = tx.sg_get(&env.account, &id)?.filter(|s| region.is_none_or(|r| r == s.region_id));
        let sg = sg.ok_or_else(|| Error::not_found(ResourceKind::SecurityGroup, &id))?;
        if tx.instance_count_using(&sg.id)? > 0 {
            return Err(Error::DependencyViolation(eip_types::DependencyKind::SecurityGroupHasInstance));
        }
        tx.sg_delete(&sg.id)?;
        Ok(Body::new())
    })
    .await
}

/// Everything RunInstances/CreateInstance needs, validated before the write.
struct Launch {
    region: &'static str,
    instance_type: String,
    cpu: i64,
    memory_mb: i64,
    image_id: String,
    classic_zone: Option<String>,
    vswitch_id: Option<String>,
    zone_id: Option<String>,
    sg_id: Option<String>,
    private_ip: Option<String>,
    amount: i64,
    name: String,
    hostname: String,
    description: String,
    internet_charge_type: InternetChargeType,
    bandwidth_out: i64,
    charge_type: ChargeType,
    /// `UserData`, Base64 as sent (checked).
    user_data: Option<String>,
}

/// Most bytes of user data once decoded (Alibaba's limit).
const MAX_USER_DATA: usize = 32 * 1024;

fn user_data_param(p: &Params) -> Result<Option<String>> {
    use base64::Engine;
    let Some(v) = p.opt("UserData") else {
        return Ok(None);
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(v)
        .map_err(|_| Error::invalid("UserData", "must be Base64-encoded"))?;
    if decoded.len() > MAX_USER_DATA {
        return Err(Error::invalid("UserData", "must be at most 32 KB before Base64 encoding"));
    }
    Ok(Some(v.to_owned()))
}

fn launch_params(p: &Params, start: bool) -> Result<Launch> {
    let region = region_param(p)?;
    let instance_type = p.req("InstanceType")?.to_owned();
    let (cpu, memory_mb) = eip_domain::catalogue::instance_type(&instance_type)
        .map(|t| (t.cpu, t.memory_mb))
        .or_else(|| plausible_type(&instance_type).then_some((2, 4096)))
        .ok_or_else(|| Error::ValueNotSupported { name: "InstanceType", value: instance_type.clone() })?;
    let amount = if start { p.int("Amount", 1, 100)?.unwrap_or(1) } else { 1 };
    let mut sg_id = p.opt("SecurityGroupId").map(str::to_owned);
    if sg_id.is_none() {
        sg_id = p.list("SecurityGroupIds")?.into_iter().next();
    }
    let classic = p.opt("InstanceNetworkType") == Some("classic");
    let vswitch_id = p.opt("VSwitchId").map(str::to_owned);
    let zone_id = p.opt("ZoneId").map(str::to_owned);
    if let Some(z) = &zone_id
        && eip_domain::catalogue::zone_region(z).map(|r| r.id) != Some(region)
    {
        return Err(Error::not_found(ResourceKind::Zone, z));
    }
    let classic_zone = if classic {
        if vswitch_id.is_some() {
            return Err(Error::invalid("InstanceNetworkType", "a classic instance takes no VSwitchId"));
        }
        // Without a zone, a classic instance lands in the region's first zone.
        let first = eip_domain::catalogue::region(region).and_then(|r| r.zones.first()).copied().unwrap_or_default();
        Some(zone_id.clone().unwrap_or_else(|| first.to_owned()))
    } else {
        if vswitch_id.is_none() {
            return Err(Error::MissingParameter("VSwitchId".into()));
        }
        if sg_id.is_none() {
            return Err(Error::MissingParameter("SecurityGroupId".into()));
        }
        None
    };
    let private_ip = p.opt("PrivateIpAddress").map(str::to_owned);
    if private_ip.is_some() && amount > 1 {
        return Err(Error::invalid("PrivateIpAddress", "can only be set when Amount is 1"));
    }
    let internet_charge_type = p
        .enumerated("InternetChargeType", InternetChargeType::parse, |v| {
            Error::invalid("InternetChargeType", format!("{v} is not supported"))
        })?
        .unwrap_or(InternetChargeType::PayByTraffic);
    let bandwidth_out = p.int("InternetMaxBandwidthOut", 0, 100)?.unwrap_or(0);
    let charge_type = p
        .enumerated("InstanceChargeType", ChargeType::parse, |v| {
            Error::invalid("InstanceChargeType", format!("{v} is not supported"))
        })?
        .unwrap_or(ChargeType::PostPaid);
    let name = p.raw("InstanceName").unwrap_or_default().to_owned();
    check_name("InstanceName", &name, 128)?;
    let description = p.raw("Description").unwrap_or_default().to_owned();
    check_name("Description", &description, 256)?;
    Ok(Launch {
        region,
        instance_type,
        cpu,
        memory_mb,
        image_id: p.opt("ImageId").unwrap_or("aliyun_3_x64_20G_alibase_20240819.vhd").to_owned(),
        classic_zone,
        vswitch_id,
        zone_id,
        sg_id,
        private_ip,
        amount,
        hostname: p.opt("HostName").unwrap_or_default().to_owned(),
        name,
        description,
        internet_charge_type,
        bandwidth_out,
        charge_type,
        user_data: user_data_param(p)?,
    })
}

fn launch_one(tx: &mut dyn Tx, env: &Env, l: &Launch, start: bool) -> Result<String> {
    let id = InstanceId::generate().to_string();
    let hostname = if l.hostname.is_empty() { format!("iZ{}Z", &id[2..]) } else { l.hostname.clone() };
    let mut row = InstanceRow {
        id: id.clone(),
        account_id: env.account.clone(),
        region_id: l.region.to_owned(),
        zone_id: String::new(),
        network_type: InstanceNetworkType::Vpc,
        vpc_id: None,
        vswitch_id: None,
        security_group_id: None,
        instance_type: l.instance_type.clone(),
        image_id: l.image_id.clone(),
        name: if l.name.is_empty() { id.clone() } else { l.name.clone() },
        hostname,
        description: l.description.clone(),
        status: InstanceStatus::Pending,
        want_running: start,
        internet_charge_type: l.internet_charge_type,
        internet_max_bandwidth_out: l.bandwidth_out,
        public_ip: None,
        charge_type: l.charge_type,
        cpu: l.cpu,
        memory_mb: l.memory_mb,
        created_at: env.now,
        started_at: None,
    };
    if let Some(sg) = &l.sg_id {
        let sg = tx.sg_get(&env.account, sg)?.filter(|s| s.region_id == l.region);
        let sg =
            sg.ok_or_else(|| Error::not_found(ResourceKind::SecurityGroup, l.sg_id.clone().unwrap_or_default()))?;
        row.security_group_id = Some(sg.id.clone());
    }
    match (&l.classic_zone, &l.vswitch_id) {
        (Some(zone), _) => {
            row.network_type = InstanceNetworkType::Classic;
            row.zone_id = zone.clone();
            tx.instance_insert(&row)?;
        }
        (None, Some(vsw_id)) => {
            let vsw = tx.vswitch_get(&env.account, vsw_id)?.filter(|v| v.region_id == l.region);
            let vsw = vsw.ok_or_else(|| Error::not_found(ResourceKind::VSwitch, vsw_id))?;
            if let Some(z) = &l.zone_id
                && z != &vsw.zone_id
            {
                return Err(Error::invalid("ZoneId", format!("the vSwitch is in {}", vsw.zone_id)));
            }
            if let Some(sg) = &row.security_group_id
                && let Some(sg) = tx.sg_get(&env.account, sg)?
                && sg.vpc_id.as_deref().is_some_and(|v| v != vsw.vpc_id)
            {
                return Err(Error::invalid("SecurityGroupId", "the security group is not in the vSwitch's VPC"));
            }
            row.zone_id = vsw.zone_id.clone();
            row.vpc_id = Some(vsw.vpc_id.clone());
            row.vswitch_id = Some(vsw.id.clone());
            tx.instance_insert(&row)?;
            let eni = EniRow {
                id: EniId::generate().to_string(),
                account_id: env.account.clone(),
                region_id: l.region.to_owned(),
                zone_id: vsw.zone_id.clone(),
                vpc_id: vsw.vpc_id.clone(),
                vswitch_id: vsw.id.clone(),
                instance_id: Some(id.clone()),
                kind: eip_types::EniType::Primary,
                mac: crate::net::mac(tx)?,
                status: eip_types::EniStatus::InUse,
                name: String::new(),
                description: String::new(),
                security_group_id: row.security_group_id.clone(),
                created_at: env.now,
            };
            tx.eni_insert(&eni)?;
            crate::net::take_private(tx, &vsw, &eni.id, l.private_ip.as_deref(), true)?;
        }
        (None, None) => return Err(Error::MissingParameter("VSwitchId".into())),
    }
    if let Some(data) = &l.user_data {
        tx.user_data_put(&id, data)?;
    }
    // RunInstances with outbound bandwidth assigns a static public IP.
    if start && l.bandwidth_out > 0 {
        let ip = crate::net::take_public(tx, l.region, "instance", &id)?;
        row.public_ip = Some(ip);
        tx.instance_update(&row)?;
    }
    schedule(tx, TaskKind::InstanceStep, &id, env)?;
    Ok(id)
}

pub(crate) async fn run_instances(ctl: &Controller, ctx: &Ctx, p: &Params, start: bool) -> Result<Body> {
    let l = launch_params(p, start)?;
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let mut ids = Vec::new();
        for _ in 0..l.amount {
            ids.push(launch_one(tx, env, &l, start)?);
        }
        if start {
            Ok(body(json!({"InstanceIdSets": {"InstanceIdSet": ids}, "TradePrice": 0.0, "OrderId": ""})))
        } else {
            Ok(body(json!({"InstanceId": ids[0], "TradePrice": 0.0, "OrderId": ""})))
        }
    })
    .await
}

fn instance_of(tx: &mut dyn Tx, account: &str, id: &str, region: Option<&str>) -> Result<InstanceRow> {
    tx.instance_get(id)?
        .filter(|i| i.account_id == account && region.is_none_or(|r| r == i.region_id))
        .ok_or_else(|| Error::not_found(ResourceKind::Instance, id))
}

pub(crate) fn describe_instances(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let ids = p.json_list("InstanceIds", 100)?;
    let private_ips = p.json_list("PrivateIpAddresses", 100)?;
    let public_ips = p.json_list("PublicIpAddresses", 100)?;
    let eip_ips = p.json_list("EipAddresses", 100)?;
    let vpc = p.opt("VpcId").map(str::to_owned);
    let vsw = p.opt("VSwitchId").map(str::to_owned);
    let zone = p.opt("ZoneId").map(str::to_owned);
    let name = p.opt("InstanceName").map(str::to_owned);
    let sg = p.opt("SecurityGroupId").map(str::to_owned);
    let status =
        p.enumerated("Status", InstanceStatus::parse, |v| Error::invalid("Status", format!("{v} is not a status")))?;
    let net = p.enumerated("InstanceNetworkType", InstanceNetworkType::parse, |v| {
        Error::invalid("InstanceNetworkType", format!("{v} is not vpc or classic"))
    })?;
    let w = crate::Window::read(p, 100, 100)?;
    dry_run(p)?;
    ctl.read(|tx| {
        let all = tx.instance_list(&ctx.account, region)?;
        let mut rows = Vec::new();
        for i in all {
            if ids.as_ref().is_some_and(|l| !l.contains(&i.id))
                || vpc.as_ref().is_some_and(|v| i.vpc_id.as_ref() != Some(v))
                || vsw.as_ref().is_some_and(|v| i.vswitch_id.as_ref() != Some(v))
                || zone.as_ref().is_some_and(|z| &i.zone_id != z)
                || name.as_ref().is_some_and(|n| &i.name != n)
                || sg.as_ref().is_some_and(|s| i.security_group_id.as_ref() != Some(s))
                || status.is_some_and(|s| i.status != s)
                || net.is_some_and(|n| i.network_type != n)
                || public_ips.as_ref().is_some_and(|l| !i.public_ip.as_ref().is_some_and(|ip| l.contains(ip)))
            {
                continue;
            }
            let (with_ips, eip, nat_eips) = instance_view(tx, &i)?;
            if private_ips
                .as_ref()
                .is_some_and(|l| !with_ips.iter().any(|(_, ips)| ips.iter().any(|x| l.contains(&x.ip))))
            {
                continue;
            }
            if eip_ips.as_ref().is_some_and(|l| !eip.as_ref().is_some_and(|e| l.contains(&e.ip))) {
                continue;
            }
            rows.push((i, with_ips, eip, nat_eips));
        }
        let total = rows.len() as i64;
        let items: Vec<Value> = rows
            .iter()
            .skip(w.offset as usize)
            .take(w.limit as usize)
            .map(|(i, enis, eip, nat_eips)| {
                render::instance(i, &render::InstanceExtras { enis, eip: eip.as_ref(), nat_eips })
            })
            .collect();
        let next = w.next_token(total);
        Ok(body(json!({
            "TotalCount": total,
            "PageNumber": w.page,
            "PageSize": w.limit,
            "NextToken": next,
            "Instances": {"Instance": items},
        })))
    })
}

/// What an instance shows besides its row: its ENIs with their private IPs,
/// the EIP on the instance itself, and the NAT-mode EIPs on its ENIs.
type InstanceView =
    (Vec<(eip_store::EniRow, Vec<eip_store::PrivateIpRow>)>, Option<eip_store::EipRow>, Vec<eip_store::EipRow>);

fn instance_view(tx: &mut dyn eip_store::Tx, i: &InstanceRow) -> Result<InstanceView> {
    let mut with_ips = Vec::new();
    let mut nat_eips = Vec::new();
    for e in tx.eni_list_by_instance(&i.id)? {
        let ips = tx.private_ip_list_eni(&e.id)?;
        nat_eips.extend(crate::eni::nat_eips_of(tx, &e, &ips)?);
        with_ips.push((e, ips));
    }
    let eip = tx
        .eip_list_by_target(&i.id)?
        .into_iter()
        .find(|e| e.instance_type == Some(eip_types::AssociatedInstanceType::EcsInstance));
    Ok((with_ips, eip, nat_eips))
}

/// DescribeUserData: the instance's user data, Base64 as given (empty without).
pub(crate) fn describe_user_data(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let id = p.req("InstanceId")?.to_owned();
    ctl.read(|tx| {
        let i = tx
            .instance_get(&id)?
            .filter(|i| i.account_id == ctx.account && i.region_id == region)
            .ok_or_else(|| Error::not_found(ResourceKind::Instance, &id))?;
        let data = tx.user_data_get(&i.id)?.unwrap_or_default();
        Ok(body(json!({"InstanceId": i.id, "RegionId": i.region_id, "UserData": data})))
    })
}

/// Size of every instance's system disk, in GiB.
const SYSTEM_DISK_GIB: i64 = 40;

/// The id of an instance's system disk: `d-` and the instance's own suffix,
/// so it is stable and unique without a table of its own.
fn system_disk_id(instance: &str) -> String {
    format!("d-{}", instance.trim_start_matches("i-"))
}

/// DescribeDisks: every instance has one system disk (a 40 GiB ESSD, released
/// with the instance); openeip models no data disks. Filters: InstanceId,
/// DiskIds (JSON array), DiskType, Category, Status, ZoneId; paging by
/// PageNumber/PageSize or MaxResults/NextToken.
pub(crate) fn describe_disks(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let instance = p.opt("InstanceId").map(str::to_owned);
    let disk_ids = p.json_list("DiskIds", 100)?;
    let disk_type = p.opt("DiskType").unwrap_or("all");
    if !matches!(disk_type, "all" | "system" | "data") {
        return Err(Error::ValueNotSupported { name: "DiskType", value: disk_type.to_owned() });
    }
    let category = p.opt("Category").unwrap_or("all");
    if !matches!(
        category,
        "all"
            | "cloud"
            | "cloud_efficiency"
            | "cloud_ssd"
            | "cloud_essd"
            | "cloud_auto"
            | "local_ssd_pro"
            | "local_hdd_pro"
            | "ephemeral"
            | "ephemeral_ssd"
            | "elastic_ephemeral_disk_standard"
            | "elastic_ephemeral_disk_premium"
    ) {
        return Err(Error::ValueNotSupported { name: "Category", value: category.to_owned() });
    }
    let status = p.opt("Status").unwrap_or("All");
    if !matches!(status, "In_use" | "Available" | "Attaching" | "Detaching" | "Creating" | "ReIniting" | "All") {
        return Err(Error::ValueNotSupported { name: "DiskStatus", value: status.to_owned() });
    }
    let zone = p.opt("ZoneId").map(str::to_owned);
    let max_results = p.int("MaxResults", i64::MIN, i64::MAX)?.map(|n| n.clamp(10, 500));
    let (page, size) = paging(p, 10, 100)?;
    dry_run(p)?;
    ctl.read(|tx| {
        let mut disks = Vec::new();
        for i in tx.instance_list(&ctx.account, region)? {
            let id = system_disk_id(&i.id);
            let wanted = instance.as_ref().is_none_or(|x| *x == i.id)
                && disk_ids.as_ref().is_none_or(|l| l.contains(&id))
                && disk_type != "data"
                && matches!(category, "all" | "cloud_essd")
                && matches!(status, "All" | "In_use")
                && zone.as_ref().is_none_or(|z| *z == i.zone_id);
            if !wanted {
                continue;
            }
            let created = eip_types::time::format_iso(i.created_at);
            disks.push(json!({
                "DiskId": id,
                "DiskName": "",
                "Description": "",
                "Type": "system",
                "Category": "cloud_essd",
                "PerformanceLevel": "PL0",
                "Size": SYSTEM_DISK_GIB,
                "Status": "In_use",
                "InstanceId": i.id,
                "Device": "/dev/xvda",
                "ZoneId": i.zone_id,
                "RegionId": i.region_id,
                "ImageId": i.image_id,
                "DiskChargeType": if i.charge_type == ChargeType::PrePaid { "PrePaid" } else { "PostPaid" },
                "DeleteWithInstance": true,
                "DeleteAutoSnapshot": false,
                "EnableAutoSnapshot": false,
                "Encrypted": false,
                "Portable": false,
                "CreationTime": created,
                "AttachedTime": created,
                "DetachedTime": "",
                "ExpiredTime": "2999-09-08T16:00Z",
                "IOPS": 3800,
                "SerialNumber": i.id.trim_start_matches("i-"),
                "ResourceGroupId": "",
                "Attachments": {"Attachment": [{"InstanceId": i.id, "Device": "/dev/xvda", "AttachedTime": created}]},
                "OperationLocks": {"OperationLock": []},
                "Tags": {"Tag": []},
            }));
        }
        let total = disks.len() as i64;
        let w = match max_results {
            Some(limit) => crate::Window::by_token(p, limit)?,
            None => crate::Window { page, offset: (page - 1) * size, limit: size, by_token: false },
        };
        let (offset, limit, next) = (w.offset, w.limit, w.next_token(total));
        let items: Vec<Value> = disks.into_iter().skip(offset as usize).take(limit as usize).collect();
        Ok(body(json!({
            "TotalCount": total,
            "PageNumber": page,
            "PageSize": if max_results.is_some() { limit } else { size },
            "NextToken": next,
            "Disks": {"Disk": items},
        })))
    })
}

/// DescribeInstanceAttribute: one instance by id, in any region (the new
/// SDK's request has no RegionId; the legacy one adds its client's).
pub(crate) fn describe_instance_attribute(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let id = p.req("InstanceId")?.to_owned();
    ctl.read(|tx| {
        let i = tx
            .instance_get(&id)?
            .filter(|i| i.account_id == ctx.account)
            .ok_or_else(|| Error::not_found(ResourceKind::Instance, &id))?;
        let (enis, eip, nat_eips) = instance_view(tx, &i)?;
        let mut v =
            render::instance(&i, &render::InstanceExtras { enis: &enis, eip: eip.as_ref(), nat_eips: &nat_eips });
        if let Value::Object(m) = &mut v {
            for k in [
                "NetworkInterfaces",
                "Tags",
                "InstanceTypeFamily",
                "OSName",
                "OSType",
                "StartTime",
                "DeletionProtection",
                "Recyclable",
                "DeviceAvailable",
                "GPUAmount",
                "LocalStorageAmount",
            ] {
                m.remove(k);
            }
            m.insert("ClusterId".into(), json!(""));
            m.insert("CreditSpecification".into(), json!(""));
            m.insert("DedicatedHostAttribute".into(), json!({"DedicatedHostId": "", "DedicatedHostName": ""}));
            m.insert("EnableJumboFrame".into(), json!(false));
            m.insert("EnableNetworkEncryption".into(), json!(false));
            m.insert(
                "NetworkOptions".into(),
                json!({"BandwidthWeighting": "", "EnableJumboFrame": false, "EnableNetworkEncryption": false}),
            );
            m.insert("OperationLocks".into(), json!({"LockReason": []}));
            m.insert("SecurityOptions".into(), json!({"EnableSecureBoot": false}));
            m.insert("IoOptimized".into(), json!("optimized"));
            if let Some(Value::Object(e)) = m.get_mut("EipAddress") {
                e.remove("IsSupportUnassociate");
            }
        }
        Ok(body(v))
    })
}

pub(crate) fn describe_instance_status(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = region_param(p)?;
    let ids = p.list("InstanceId")?;
    let zone = p.opt("ZoneId").map(str::to_owned);
    let (page, size) = paging(p, 10, 50)?;
    ctl.read(|tx| {
        let all = tx.instance_list(&ctx.account, region)?;
        let m: Vec<&InstanceRow> = all
            .iter()
            .filter(|i| ids.is_empty() || ids.contains(&i.id))
            .filter(|i| zone.as_ref().is_none_or(|z| &i.zone_id == z))
            .collect();
        let items: Vec<Value> = m
            .iter()
            .skip(((page - 1) * size) as usize)
            .take(size as usize)
            .map(|i| json!({"InstanceId": i.id, "Status": i.status.as_str()}))
            .collect();
        Ok(body(json!({
            "TotalCount": m.len(),
            "PageNumber": page,
            "PageSize": size,
            "InstanceStatuses": {"InstanceStatus": items},
        })))
    })
}

pub(crate) async fn start_instance(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("InstanceId")?.to_owned();
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let mut i = instance_of(tx, &env.account, &id, region)?;
        i.status = rules::check_start(i.status)?;
        i.want_running = true;
        tx.instance_update(&i)?;
        schedule(tx, TaskKind::InstanceStep, &i.id, env)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn stop_instance(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("InstanceId")?.to_owned();
    p.bool("ForceStop")?;
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let mut i = instance_of(tx, &env.account, &id, region)?;
        i.status = rules::check_stop(i.status)?;
        i.want_running = false;
        tx.instance_update(&i)?;
        schedule(tx, TaskKind::InstanceStep, &i.id, env)?;
        Ok(Body::new())
    })
    .await
}

/// The instance side of AssociateEipAddress (`InstanceType=EcsInstance`,
/// ECS-01..06). The instance-level EIP maps to the primary ENI's primary IP,
/// so a NAT-mode EIP on that address counts as the instance's EIP (ENI-01).
pub(crate) fn check_associate(
    tx: &mut dyn Tx,
    env: &Env,
    eip: &eip_store::EipRow,
    id: &str,
) -> Result<(eip_types::EipStatus, crate::bind::Binding)> {
    // One read for the instance, its primary address and the EIPs on either:
    // an association is a handful of round trips on a remote database.
    let target = tx
        .ecs_target(id)?
        .filter(|t| t.instance.account_id == env.account)
        .ok_or_else(|| Error::AssociateTargetNotFound(id.to_owned()))?;
    // ECS-02 / ECS-04: an EIP on the instance, or one in NAT mode on its primary address.
    let has_eip = target.ecs_eips > 0 || target.nat_eips_on_primary > 0;
    let (inst, private) = (target.instance, target.primary);
    let next = rules::check_associate_ecs(
        rules::EipFacts { status: eip.status, region: &eip.region_id },
        rules::InstanceFacts {
            region: &inst.region_id,
            status: inst.status,
            network_type: inst.network_type,
            has_public_ip: inst.public_ip.is_some(),
            has_eip,
        },
    )?;
    Ok((
        next,
        crate::bind::Binding {
            kind: AssociatedInstanceType::EcsInstance,
            instance_id: inst.id.clone(),
            region: inst.region_id.clone(),
            mode: EipMode::Nat,
            private,
        },
    ))
}

pub(crate) async fn delete_instance(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("InstanceId")?.to_owned();
    let force = p.bool("Force")?.unwrap_or(false);
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let i = instance_of(tx, &env.account, &id, region)?;
        rules::check_delete_instance(i.status, force)?;
        // The EIP outlives the instance: it is unbound at once and stays allocated.
        crate::bind::unbind_all(tx, &i.id)?;
        // The primary ENI goes with the instance; secondary ones are detached and survive.
        crate::eni::release_instance_enis(tx, &i.id)?;
        crate::havip::forget_member(tx, &i.id)?;
        if let Some(ip) = &i.public_ip {
            crate::net::free_instance_public(tx, ip, &i.region_id, env.now)?;
        }
        tx.instance_delete(&i.id)?;
        Ok(Body::new())
    })
    .await
}

pub(crate) async fn allocate_public_ip(ctl: &Controller, ctx: &Ctx, p: &Params) -> Result<Body> {
    let region = crate::region_opt(p)?;
    let id = p.req("InstanceId")?.to_owned();
    dry_run(p)?;
    ctl.write(ctx, p, move |tx, env| {
        let mut i = instance_of(tx, &env.account, &id, region)?;
        match i.status {
            InstanceStatus::Running | InstanceStatus::Stopped => {}
            s => return Err(Error::IncorrectInstanceStatus(s)),
        }
        if i.network_type == InstanceNetworkType::Classic {
            return Err(Error::OperationDenied("Classic-network instances are not supported.".into()));
        }
        if i.public_ip.is_some() || !tx.eip_list_by_target(&i.id)?.is_empty() {
            return Err(Error::InstanceAlreadyHasPublicIp);
        }
        if i.internet_max_bandwidth_out <= 0 {
            return Err(Error::InstanceBandwidthZero);
        }
        let ip = crate::net::take_public(tx, &i.region_id, "instance", &i.id)?;
        i.public_ip = Some(ip.clone());
        tx.instance_update(&i)?;
        Ok(body(json!({"IpAddress": ip})))
    })
    .await
}
