//! Rows as the SDK models expect them: exact field names, strings where the
//! models declare strings (e.g. EIP `Bandwidth`), and lists always wrapped
//! (`{"Tag": [...]}`), even when empty.

use eip_store::{EipRow, EniRow, InstanceRow, PrivateIpRow, SecurityGroupRow, VSwitchRow, VpcRow};
use eip_types::time::{format_iso, format_iso_minutes};
use eip_types::{ChargeType, EipMode, InstanceNetworkType};
use serde_json::{Value, json};

/// Text of an optional time.
fn opt_time(t: Option<i64>) -> String {
    t.map(format_iso).unwrap_or_default()
}

/// One item of DescribeEipAddresses.
pub(crate) fn eip(r: &EipRow) -> Value {
    let bw = r.bandwidth.to_string();
    let tags: Vec<Value> = r.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect();
    json!({
        "AllocationId": r.id,
        "IpAddress": r.ip,
        "Status": r.status.as_str(),
        "RegionId": r.region_id,
        "AllocationTime": format_iso(r.allocated_at),
        "Bandwidth": bw,
        "EipBandwidth": bw,
        "ChargeType": r.charge_type.as_str(),
        "InternetChargeType": r.internet_charge_type.as_str(),
        "InstanceId": r.instance_id.clone().unwrap_or_default(),
        "InstanceType": r.instance_type.map(|t| t.as_str()).unwrap_or_default(),
        "InstanceRegionId": r.instance_region_id.clone().unwrap_or_default(),
        "PrivateIpAddress": r.private_ip.clone().unwrap_or_default(),
        "Mode": r.mode.unwrap_or(EipMode::Nat).as_str(),
        "Name": r.name,
        "Description": r.description,
        "ISP": r.isp,
        "Netmode": r.netmode,
        "ResourceGroupId": r.resource_group_id,
        "ExpiredTime": opt_time(r.expired_at),
        "BusinessStatus": "Normal",
        "OperationLocks": {"LockReason": []},
        "DeletionProtection": r.deletion_protection,
        "SecondLimited": false,
        "HDMonitorStatus": "false",
        "HasReservationData": "false",
        "ReservationActiveTime": "",
        "ReservationBandwidth": "",
        "ReservationInternetChargeType": "",
        "ReservationOrderType": "",
        "BandwidthPackageId": "",
        "BandwidthPackageBandwidth": "",
        "BandwidthPackageType": "",
        "SecurityProtectionTypes": {"SecurityProtectionType": []},
        "Tags": {"Tag": tags},
        "PublicIpAddressPoolId": "",
        "SegmentInstanceId": "",
        "VpcId": "",
        "Zone": "",
        "BizType": "Default",
        "ServiceManaged": 0,
    })
}

/// One item of DescribeVpcs.
pub(crate) fn vpc(r: &VpcRow, vswitches: &[String], secondary_cidrs: &[String]) -> Value {
    json!({
        "VpcId": r.id,
        "RegionId": r.region_id,
        "Status": "Available",
        "VpcName": r.name,
        "Description": r.description,
        "CreationTime": format_iso(r.created_at),
        "CidrBlock": r.cidr,
        "VRouterId": r.vrouter_id,
        "IsDefault": r.is_default,
        "ResourceGroupId": eip_types::default_resource_group(&eip_types::AccountId::from_trusted(r.account_id.clone())),
        "VSwitchIds": {"VSwitchId": vswitches},
        "RouterTableIds": {"RouterTableIds": [r.route_table_id]},
        "SecondaryCidrBlocks": {"SecondaryCidrBlock": secondary_cidrs},
        "UserCidrs": {"UserCidr": []},
        "NatGatewayIds": {"NatGatewayIds": []},
        "Tags": {"Tag": []},
        "Ipv6CidrBlock": "",
        "DhcpOptionsSetId": "",
        "DhcpOptionsSetStatus": "",
        "OwnerId": 0,
        "CenStatus": "",
    })
}

/// One item of DescribeVSwitches.
pub(crate) fn vswitch(r: &VSwitchRow, available: i64) -> Value {
    json!({
        "VSwitchId": r.id,
        "VpcId": r.vpc_id,
        "Status": "Available",
        "CidrBlock": r.cidr,
        "ZoneId": r.zone_id,
        "AvailableIpAddressCount": available,
        "Description": r.description,
        "VSwitchName": r.name,
        "CreationTime": format_iso(r.created_at),
        "IsDefault": false,
        "ResourceGroupId": eip_types::default_resource_group(&eip_types::AccountId::from_trusted(r.account_id.clone())),
        "RouteTable": {"RouteTableId": "", "RouteTableType": "System"},
        "Tags": {"Tag": []},
        "Ipv6CidrBlock": "",
        "NetworkAclId": "",
        "ShareType": "",
        "OwnerId": 0,
    })
}

/// One item of DescribeSecurityGroups.
pub(crate) fn security_group(r: &SecurityGroupRow) -> Value {
    json!({
        "SecurityGroupId": r.id,
        "SecurityGroupName": r.name,
        "Description": r.description,
        "VpcId": r.vpc_id.clone().unwrap_or_default(),
        "CreationTime": format_iso(r.created_at),
        "SecurityGroupType": "normal",
        "ResourceGroupId": eip_types::default_resource_group(&eip_types::AccountId::from_trusted(r.account_id.clone())),
        "ServiceManaged": false,
        "Tags": {"Tag": []},
    })
}

/// What DescribeInstances shows besides the instance row.
pub(crate) struct InstanceExtras<'a> {
    pub enis: &'a [(EniRow, Vec<PrivateIpRow>)],
    pub eip: Option<&'a EipRow>,
    /// NAT-mode EIPs mapped to the instance's ENI addresses (ENI-01, ENI-05).
    pub nat_eips: &'a [EipRow],
}

/// One item of DescribeInstances.
pub(crate) fn instance(r: &InstanceRow, x: &InstanceExtras<'_>) -> Value {
    let primary_ips: Vec<String> = x
        .enis
        .iter()
        .filter(|(e, _)| e.kind == eip_types::EniType::Primary)
        .flat_map(|(_, ips)| ips.iter().filter(|i| i.is_primary).map(|i| i.ip.clone()))
        .collect();
    let nics: Vec<Value> = x
        .enis
        .iter()
        .map(|(e, ips)| {
            let sets: Vec<Value> = ips
                .iter()
                .map(|i| {
                    let public = x.nat_eips.iter().find(|e| {
                        e.private_vswitch_id.as_deref() == Some(i.vswitch_id.as_str())
                            && e.private_ip.as_deref() == Some(i.ip.as_str())
                    });
                    let ap = match public {
                        Some(p) => json!({"PublicIpAddress": p.ip, "AllocationId": p.id}),
                        None => json!({"PublicIpAddress": "", "AllocationId": ""}),
                    };
                    json!({"PrivateIpAddress": i.ip, "Primary": i.is_primary, "AssociatedPublicIp": ap})
                })
                .collect();
            json!({
                "NetworkInterfaceId": e.id,
                "Type": e.kind.as_str(),
                "MacAddress": e.mac,
                "PrimaryIpAddress": ips.iter().find(|i| i.is_primary).map(|i| i.ip.clone()).unwrap_or_default(),
                "PrivateIpSets": {"PrivateIpSet": sets},
                "Ipv6Sets": {"Ipv6Set": []},
                "Ipv4PrefixSets": {"Ipv4PrefixSet": []},
            })
        })
        .collect();
    let eip = match x.eip {
        Some(e) => json!({
            "AllocationId": e.id,
            "IpAddress": e.ip,
            "Bandwidth": e.bandwidth,
            "InternetChargeType": e.internet_charge_type.as_str(),
            "IsSupportUnassociate": true,
        }),
        None => {
            json!({"AllocationId": "", "IpAddress": "", "Bandwidth": 0, "InternetChargeType": "", "IsSupportUnassociate": false})
        }
    };
    let (vpc_attrs, inner) = match r.network_type {
        InstanceNetworkType::Vpc => (
            json!({
                "VpcId": r.vpc_id.clone().unwrap_or_default(),
                "VSwitchId": r.vswitch_id.clone().unwrap_or_default(),
                "PrivateIpAddress": {"IpAddress": primary_ips},
                "NatIpAddress": "",
            }),
            Vec::new(),
        ),
        InstanceNetworkType::Classic => (
            json!({"VpcId": "", "VSwitchId": "", "PrivateIpAddress": {"IpAddress": []}, "NatIpAddress": ""}),
            primary_ips,
        ),
    };
    let public: Vec<String> = r.public_ip.iter().cloned().collect();
    let charge = match r.charge_type {
        ChargeType::PostPaid => "PostPaid",
        ChargeType::PrePaid => "PrePaid",
    };
    json!({
        "InstanceId": r.id,
        "InstanceName": r.name,
        "Description": r.description,
        "HostName": r.hostname,
        "ImageId": r.image_id,
        "InstanceType": r.instance_type,
        "InstanceTypeFamily": family(&r.instance_type),
        "RegionId": r.region_id,
        "ZoneId": r.zone_id,
        "Status": r.status.as_str(),
        "CreationTime": format_iso_minutes(r.created_at),
        "StartTime": r.started_at.map(format_iso_minutes).unwrap_or_default(),
        "ExpiredTime": "2099-12-31T15:59Z",
        "InstanceChargeType": charge,
        "InternetChargeType": r.internet_charge_type.as_str(),
        "InternetMaxBandwidthOut": r.internet_max_bandwidth_out,
        "InternetMaxBandwidthIn": 200,
        "Cpu": r.cpu,
        "Memory": r.memory_mb,
        "OSName": "Alibaba Cloud Linux 3",
        "OSType": "linux",
        "InstanceNetworkType": r.network_type.as_str(),
        "VpcAttributes": vpc_attrs,
        "InnerIpAddress": {"IpAddress": inner},
        "PublicIpAddress": {"IpAddress": public},
        "EipAddress": eip,
        "SecurityGroupIds": {"SecurityGroupId": r.security_group_id.iter().cloned().collect::<Vec<_>>()},
        "NetworkInterfaces": {"NetworkInterface": nics},
        "Tags": {"Tag": []},
        "DeletionProtection": false,
        "Recyclable": false,
        "StoppedMode": if r.status == eip_types::InstanceStatus::Stopped { "KeepCharging" } else { "Not-applicable" },
        "SerialNumber": r.id.trim_start_matches("i-"),
        "IoOptimized": true,
        "DeviceAvailable": true,
        "GPUAmount": 0,
        "LocalStorageAmount": 0,
        "VlanId": "",
    })
}

/// `ecs.g7.large` → `ecs.g7`.
fn family(t: &str) -> String {
    match t.rsplit_once('.') {
        Some((f, _)) if f.contains('.') => f.to_owned(),
        _ => String::new(),
    }
}
