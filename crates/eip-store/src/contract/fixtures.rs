//! Sample rows: every field set, to values that would show a column mixed
//! up with another (distinct numbers, `Some` where a column is nullable,
//! names with quotes, `?1`, non-ASCII text), and the parent rows the foreign
//! keys need.

use super::harness::ok;
use crate::*;
use eip_types::*;

/// The account most rows belong to.
pub(crate) const ACC: &str = "acc-1";
/// A second account, to show lists do not mix accounts.
pub(crate) const ACC2: &str = "acc-2";
/// The region most rows live in.
pub(crate) const R: &str = "cn-hangzhou";
/// A second region.
pub(crate) const R2: &str = "cn-beijing";
/// The seeded VPC, vSwitch and security group.
pub(crate) const VPC: &str = "vpc-1";
pub(crate) const VSW: &str = "vsw-1";
pub(crate) const SG: &str = "sg-1";

/// Text that would be mangled by quoting, placeholder rewriting or a
/// byte-oriented column.
pub(crate) fn text(id: &str) -> String {
    format!("{id} 'q' \"dq\" ?1 ünïcödé ✓")
}

pub(crate) fn account(id: &str) -> AccountRow {
    AccountRow { id: id.into(), name: format!("name of {id}"), created_at: 1_700_000_000_001, active: true }
}

/// Inserts accounts [`ACC`] and [`ACC2`], VPC [`VPC`], vSwitch [`VSW`] and
/// security group [`SG`] (all of [`ACC`] in [`R`]).
pub(crate) fn seed(s: &dyn Store) {
    ok(s, |tx| {
        tx.account_insert(&account(ACC))?;
        tx.account_insert(&account(ACC2))?;
        tx.vpc_insert(&vpc(VPC, ACC, 1))?;
        tx.vswitch_insert(&vswitch(VSW, ACC, VPC, 1))?;
        tx.sg_insert(&sg(SG, ACC, Some(VPC), 1))
    });
}

pub(crate) fn access_key(id: &str, account: &str, created_at: i64) -> AccessKeyRow {
    AccessKeyRow {
        id: id.into(),
        account_id: account.into(),
        secret: format!("secret/{id}+="),
        active: true,
        created_at,
    }
}

pub(crate) fn vpc(id: &str, account: &str, created_at: i64) -> VpcRow {
    VpcRow {
        id: id.into(),
        account_id: account.into(),
        region_id: R.into(),
        cidr: "10.0.0.0/8".into(),
        name: text(id),
        description: format!("description of {id}"),
        is_default: true,
        vrouter_id: format!("vrt-{id}"),
        route_table_id: format!("vtb-{id}"),
        created_at,
    }
}

pub(crate) fn vswitch(id: &str, account: &str, vpc: &str, created_at: i64) -> VSwitchRow {
    VSwitchRow {
        id: id.into(),
        account_id: account.into(),
        region_id: R.into(),
        vpc_id: vpc.into(),
        zone_id: "cn-hangzhou-h".into(),
        cidr: "10.1.0.0/16".into(),
        name: text(id),
        description: format!("description of {id}"),
        created_at,
    }
}

pub(crate) fn sg(id: &str, account: &str, vpc: Option<&str>, created_at: i64) -> SecurityGroupRow {
    SecurityGroupRow {
        id: id.into(),
        account_id: account.into(),
        region_id: R.into(),
        vpc_id: vpc.map(Into::into),
        name: text(id),
        description: format!("description of {id}"),
        created_at,
    }
}

/// A running VPC instance in [`VPC`]/[`VSW`]/[`SG`] of [`ACC`].
pub(crate) fn instance(id: &str, created_at: i64) -> InstanceRow {
    InstanceRow {
        id: id.into(),
        account_id: ACC.into(),
        region_id: R.into(),
        zone_id: "cn-hangzhou-h".into(),
        network_type: InstanceNetworkType::Vpc,
        vpc_id: Some(VPC.into()),
        vswitch_id: Some(VSW.into()),
        security_group_id: Some(SG.into()),
        instance_type: "ecs.g7.large".into(),
        image_id: "ubuntu_22_04_x64".into(),
        name: text(id),
        hostname: format!("host-{id}"),
        description: format!("description of {id}"),
        status: InstanceStatus::Running,
        want_running: true,
        internet_charge_type: InternetChargeType::PayByTraffic,
        internet_max_bandwidth_out: 5,
        public_ip: None,
        charge_type: ChargeType::PrePaid,
        cpu: 2,
        memory_mb: 8192,
        created_at,
        started_at: Some(created_at + 7),
    }
}

/// A secondary ENI of [`ACC`] in [`VSW`]: attached (`InUse`) when `instance` is given.
pub(crate) fn eni(id: &str, instance: Option<&str>, created_at: i64) -> EniRow {
    EniRow {
        id: id.into(),
        account_id: ACC.into(),
        region_id: R.into(),
        zone_id: "cn-hangzhou-h".into(),
        vpc_id: VPC.into(),
        vswitch_id: VSW.into(),
        instance_id: instance.map(Into::into),
        kind: EniType::Secondary,
        mac: format!("00:16:3e:{id}"),
        status: if instance.is_some() { EniStatus::InUse } else { EniStatus::Available },
        name: text(id),
        description: format!("description of {id}"),
        security_group_id: Some(SG.into()),
        created_at,
    }
}

pub(crate) fn private_ip(ip: &str, holder: &str, is_primary: bool) -> PrivateIpRow {
    PrivateIpRow { vswitch_id: VSW.into(), ip: ip.into(), holder_id: holder.into(), is_primary }
}

/// An unassociated EIP of [`ACC`] in [`R`].
pub(crate) fn eip(id: &str, ip: &str, allocated_at: i64) -> EipRow {
    EipRow {
        id: id.into(),
        account_id: ACC.into(),
        region_id: R.into(),
        ip: ip.into(),
        status: EipStatus::Available,
        name: text(id),
        description: format!("description of {id}"),
        bandwidth: 5,
        charge_type: ChargeType::PostPaid,
        internet_charge_type: InternetChargeType::PayByTraffic,
        isp: "BGP".into(),
        netmode: "public".into(),
        resource_group_id: "rg-default".into(),
        allocated_at,
        expired_at: Some(allocated_at + 1_000_000),
        deletion_protection: false,
        instance_type: None,
        instance_id: None,
        private_ip: None,
        private_vswitch_id: None,
        mode: None,
        instance_region_id: None,
        tags: Vec::new(),
        version: 1,
    }
}

/// `row` associated (`InUse`) with `target` of `kind`, mapping to
/// `private_ip` in [`VSW`] when given.
pub(crate) fn associated(
    row: EipRow,
    kind: AssociatedInstanceType,
    target: &str,
    mode: Option<EipMode>,
    private_ip: Option<&str>,
) -> EipRow {
    EipRow {
        status: EipStatus::InUse,
        instance_type: Some(kind),
        instance_id: Some(target.into()),
        private_ip: private_ip.map(Into::into),
        private_vswitch_id: private_ip.map(|_| VSW.into()),
        mode,
        instance_region_id: Some(R.into()),
        ..row
    }
}

/// Tags from pairs.
pub(crate) fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect()
}

/// A NAT gateway of [`ACC`] in [`VPC`]/[`VSW`], with tables named after it.
pub(crate) fn nat(id: &str, created_at: i64) -> NatGatewayRow {
    NatGatewayRow {
        id: id.into(),
        account_id: ACC.into(),
        region_id: R.into(),
        vpc_id: VPC.into(),
        vswitch_id: VSW.into(),
        zone_id: "cn-hangzhou-h".into(),
        name: text(id),
        description: format!("description of {id}"),
        status: NatGatewayStatus::Available,
        network_type: NatNetworkType::Internet,
        eip_bind_mode: NatEipBindMode::Nat,
        snat_table_id: format!("stb-{id}"),
        forward_table_id: format!("ftb-{id}"),
        full_nat_table_id: format!("fulltb-{id}"),
        eni_id: format!("eni-of-{id}"),
        private_ip: "10.1.0.9".into(),
        created_at,
    }
}

pub(crate) fn snat(id: &str, nat: &str, created_at: i64) -> SnatEntryRow {
    SnatEntryRow {
        id: id.into(),
        account_id: ACC.into(),
        nat_gateway_id: nat.into(),
        snat_table_id: format!("stb-{nat}"),
        snat_ips: "198.18.0.1,198.18.0.2".into(),
        source_vswitch_id: Some(VSW.into()),
        source_cidr: "10.1.0.0/16".into(),
        name: text(id),
        created_at,
    }
}

pub(crate) fn forward(id: &str, nat: &str, external_port: &str, created_at: i64) -> ForwardEntryRow {
    ForwardEntryRow {
        id: id.into(),
        account_id: ACC.into(),
        nat_gateway_id: nat.into(),
        forward_table_id: format!("ftb-{nat}"),
        external_ip: "198.18.0.1".into(),
        external_port: external_port.into(),
        internal_ip: "10.1.0.20".into(),
        internal_port: "8080".into(),
        ip_protocol: IpProtocol::Tcp,
        name: text(id),
        created_at,
    }
}

pub(crate) fn havip(id: &str, ip: &str, created_at: i64) -> HaVipRow {
    HaVipRow {
        id: id.into(),
        account_id: ACC.into(),
        region_id: R.into(),
        vpc_id: VPC.into(),
        vswitch_id: VSW.into(),
        ip: ip.into(),
        status: HaVipStatus::Available,
        name: text(id),
        description: format!("description of {id}"),
        created_at,
    }
}

/// A load balancer of [`ACC`] in [`R`], in [`VPC`]/[`VSW`].
pub(crate) fn lb(id: &str, kind: LoadBalancerKind, created_at: i64) -> LoadBalancerRow {
    LoadBalancerRow {
        id: id.into(),
        account_id: ACC.into(),
        region_id: R.into(),
        kind,
        address_type: LbAddressType::Internet,
        vpc_id: Some(VPC.into()),
        vswitch_id: Some(VSW.into()),
        address: if kind == LoadBalancerKind::Clb { "198.18.1.1".into() } else { String::new() },
        name: text(id),
        spec: "slb.s2.small".into(),
        status: if kind == LoadBalancerKind::Clb { "active".into() } else { "Active".into() },
        created_at,
        delete_protection: true,
        master_zone_id: Some("cn-hangzhou-h".into()),
    }
}

pub(crate) fn listener(lb: &str, port: i64) -> ClbListenerRow {
    ClbListenerRow {
        lb_id: lb.into(),
        port,
        backend_port: port + 8000,
        bandwidth: -1,
        status: "running".into(),
        health_check: true,
        health_check_connect_port: Some(port + 9000),
        healthy_threshold: 4,
        unhealthy_threshold: 6,
        health_check_connect_timeout: 7,
        health_check_interval: 9,
    }
}

pub(crate) fn task(id: &str, due_at: i64) -> TaskRow {
    TaskRow {
        id: id.into(),
        kind: "eip.associate".into(),
        resource_id: format!("res-{id}"),
        due_at,
        created_at: due_at - 3,
    }
}

pub(crate) fn token(account: &str, action: &str, token: &str, created_at: i64) -> TokenRow {
    TokenRow {
        account_id: account.into(),
        action: action.into(),
        token: token.into(),
        params_hash: format!("hash of {token}"),
        response: format!("{{\"AllocationId\":\"eip-{token}\",\"note\":\"{}\"}}", text(token)),
        created_at,
    }
}

pub(crate) fn traffic(eip: &str, at_ms: i64, base: i64) -> TrafficRow {
    TrafficRow {
        eip_id: eip.into(),
        at_ms,
        rx_bytes: base + 1,
        tx_bytes: base + 2,
        rx_packets: base + 3,
        tx_packets: base + 4,
    }
}
