//! How the columns of each table become rows: the column lists the
//! statements select (macros, so each fixed query is one compile-time string
//! and hits the statement cache without formatting) and the functions that
//! read them back, parsing stored names into typed statuses.

use super::SqlRow;
use crate::*;
use eip_types::{
    AssociatedInstanceType, BackendHealth, ChargeType, EipMode, EipStatus, EniStatus, EniType, HaVipStatus,
    InstanceNetworkType, InstanceStatus, InternetChargeType, IpProtocol, LbAddressType, LoadBalancerKind,
    NatEipBindMode, NatGatewayStatus, NatNetworkType, QuotaApplicationStatus,
};

pub(super) fn b(v: bool) -> i64 {
    i64::from(v)
}

pub(super) fn bad(col: &str, v: &str) -> StoreError {
    StoreError::Other(format!("column {col} holds {v:?}, which is not one of its values"))
}

pub(super) fn parse_enum<T>(col: &str, v: String, f: fn(&str) -> Option<T>) -> StoreResult<T> {
    f(&v).ok_or_else(|| bad(col, &v))
}

pub(super) fn parse_opt<T>(col: &str, v: Option<String>, f: fn(&str) -> Option<T>) -> StoreResult<Option<T>> {
    v.map(|v| parse_enum(col, v, f)).transpose()
}

pub(super) fn network_type(s: &str) -> Option<InstanceNetworkType> {
    InstanceNetworkType::parse(s)
}

// Column lists are macros so every fixed query is one `concat!` string built at
// compile time: the statement cache is hit without formatting a query per call.
macro_rules! eip_cols {
    () => {
        "id, account_id, region_id, ip, status, name, description, bandwidth, charge_type, \
    internet_charge_type, isp, netmode, resource_group_id, allocated_at, expired_at, deletion_protection, \
    instance_type, instance_id, private_ip, mode, instance_region_id, version, private_vswitch_id"
    };
}
/// The EIP columns, for the one query assembled at run time (`eip_query`).
pub(super) const EIP_COLS: &str = eip_cols!();
/// How many columns [`EIP_COLS`] names (what [`eip_from_row`] reads).
pub(super) const EIP_NCOLS: usize = 23;

/// The total of a paged query when the page itself shows it: a page with
/// fewer rows than the limit is the last, unless it is empty past the start
/// (the offset may be beyond the end).
pub(super) fn derived_total(offset: i64, limit: i64, got: usize) -> Option<i64> {
    let got = got as i64;
    (got < limit && (got > 0 || offset == 0)).then_some(offset + got)
}

pub(super) fn eip_from_row(r: &dyn SqlRow) -> StoreResult<EipRow> {
    Ok(EipRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        ip: r.get(3)?,
        status: parse_enum("status", r.get(4)?, EipStatus::parse)?,
        name: r.get(5)?,
        description: r.get(6)?,
        bandwidth: r.get(7)?,
        charge_type: parse_enum("charge_type", r.get(8)?, ChargeType::parse)?,
        internet_charge_type: parse_enum("internet_charge_type", r.get(9)?, InternetChargeType::parse)?,
        isp: r.get(10)?,
        netmode: r.get(11)?,
        resource_group_id: r.get(12)?,
        allocated_at: r.get(13)?,
        expired_at: r.get(14)?,
        deletion_protection: r.get::<i64>(15)? != 0,
        instance_type: parse_opt("instance_type", r.get(16)?, AssociatedInstanceType::parse)?,
        instance_id: r.get(17)?,
        private_ip: r.get(18)?,
        mode: parse_opt("mode", r.get(19)?, EipMode::parse)?,
        instance_region_id: r.get(20)?,
        tags: Vec::new(),
        version: r.get(21)?,
        private_vswitch_id: r.get(22)?,
    })
}

macro_rules! instance_cols {
    () => {
        "id, account_id, region_id, zone_id, network_type, vpc_id, vswitch_id, \
    security_group_id, instance_type, image_id, name, hostname, description, status, want_running, \
    internet_charge_type, internet_max_bandwidth_out, public_ip, charge_type, cpu, memory_mb, created_at, started_at"
    };
}

/// How many columns `instance_cols!` names (what [`instance_from_row`] reads).
pub(super) const INSTANCE_NCOLS: usize = 23;

pub(super) fn instance_from_row(r: &dyn SqlRow) -> StoreResult<InstanceRow> {
    Ok(InstanceRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        zone_id: r.get(3)?,
        network_type: parse_enum("network_type", r.get(4)?, network_type)?,
        vpc_id: r.get(5)?,
        vswitch_id: r.get(6)?,
        security_group_id: r.get(7)?,
        instance_type: r.get(8)?,
        image_id: r.get(9)?,
        name: r.get(10)?,
        hostname: r.get(11)?,
        description: r.get(12)?,
        status: parse_enum("status", r.get(13)?, InstanceStatus::parse)?,
        want_running: r.get::<i64>(14)? != 0,
        internet_charge_type: parse_enum("internet_charge_type", r.get(15)?, InternetChargeType::parse)?,
        internet_max_bandwidth_out: r.get(16)?,
        public_ip: r.get(17)?,
        charge_type: parse_enum("charge_type", r.get(18)?, ChargeType::parse)?,
        cpu: r.get(19)?,
        memory_mb: r.get(20)?,
        created_at: r.get(21)?,
        started_at: r.get(22)?,
    })
}

macro_rules! vpc_cols {
    () => {
        "id, account_id, region_id, cidr, name, description, is_default, vrouter_id, route_table_id, created_at"
    };
}

pub(super) fn vpc_from_row(r: &dyn SqlRow) -> StoreResult<VpcRow> {
    Ok(VpcRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        cidr: r.get(3)?,
        name: r.get(4)?,
        description: r.get(5)?,
        is_default: r.get::<i64>(6)? != 0,
        vrouter_id: r.get(7)?,
        route_table_id: r.get(8)?,
        created_at: r.get(9)?,
    })
}

macro_rules! vsw_cols {
    () => {
        "id, account_id, region_id, vpc_id, zone_id, cidr, name, description, created_at"
    };
}

pub(super) fn vsw_from_row(r: &dyn SqlRow) -> StoreResult<VSwitchRow> {
    Ok(VSwitchRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        vpc_id: r.get(3)?,
        zone_id: r.get(4)?,
        cidr: r.get(5)?,
        name: r.get(6)?,
        description: r.get(7)?,
        created_at: r.get(8)?,
    })
}

macro_rules! sg_cols {
    () => {
        "id, account_id, region_id, vpc_id, name, description, created_at"
    };
}

pub(super) fn sg_from_row(r: &dyn SqlRow) -> StoreResult<SecurityGroupRow> {
    Ok(SecurityGroupRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        vpc_id: r.get(3)?,
        name: r.get(4)?,
        description: r.get(5)?,
        created_at: r.get(6)?,
    })
}

macro_rules! eni_cols {
    () => {
        "id, account_id, region_id, zone_id, vpc_id, vswitch_id, instance_id, kind, mac, status, name, \
    security_group_id, created_at, description"
    };
}

pub(super) fn eni_from_row(r: &dyn SqlRow) -> StoreResult<EniRow> {
    Ok(EniRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        zone_id: r.get(3)?,
        vpc_id: r.get(4)?,
        vswitch_id: r.get(5)?,
        instance_id: r.get(6)?,
        kind: parse_enum("kind", r.get(7)?, EniType::parse)?,
        mac: r.get(8)?,
        status: parse_enum("status", r.get(9)?, EniStatus::parse)?,
        name: r.get(10)?,
        security_group_id: r.get(11)?,
        created_at: r.get(12)?,
        description: r.get(13)?,
    })
}

pub(super) fn pip_from_row(r: &dyn SqlRow) -> StoreResult<PrivateIpRow> {
    Ok(PrivateIpRow { vswitch_id: r.get(0)?, ip: r.get(1)?, holder_id: r.get(2)?, is_primary: r.get::<i64>(3)? != 0 })
}

pub(super) fn address_from_row(r: &dyn SqlRow) -> StoreResult<AddressRow> {
    Ok(AddressRow {
        ip: r.get(0)?,
        region_id: r.get(1)?,
        holder_kind: r.get(2)?,
        holder_id: r.get(3)?,
        last_account_id: r.get(4)?,
        released_at: r.get(5)?,
    })
}

macro_rules! nat_cols {
    () => {
        "id, account_id, region_id, vpc_id, vswitch_id, zone_id, name, description, status, \
    network_type, eip_bind_mode, snat_table_id, forward_table_id, full_nat_table_id, eni_id, private_ip, created_at"
    };
}

pub(super) fn nat_from_row(r: &dyn SqlRow) -> StoreResult<NatGatewayRow> {
    Ok(NatGatewayRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        vpc_id: r.get(3)?,
        vswitch_id: r.get(4)?,
        zone_id: r.get(5)?,
        name: r.get(6)?,
        description: r.get(7)?,
        status: parse_enum("status", r.get(8)?, NatGatewayStatus::parse)?,
        network_type: parse_enum("network_type", r.get(9)?, NatNetworkType::parse)?,
        eip_bind_mode: parse_enum("eip_bind_mode", r.get(10)?, NatEipBindMode::parse)?,
        snat_table_id: r.get(11)?,
        forward_table_id: r.get(12)?,
        full_nat_table_id: r.get(13)?,
        eni_id: r.get(14)?,
        private_ip: r.get(15)?,
        created_at: r.get(16)?,
    })
}

macro_rules! snat_cols {
    () => {
        "id, account_id, nat_gateway_id, snat_table_id, snat_ips, source_vswitch_id, source_cidr, name, created_at"
    };
}

pub(super) fn snat_from_row(r: &dyn SqlRow) -> StoreResult<SnatEntryRow> {
    Ok(SnatEntryRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        nat_gateway_id: r.get(2)?,
        snat_table_id: r.get(3)?,
        snat_ips: r.get(4)?,
        source_vswitch_id: r.get(5)?,
        source_cidr: r.get(6)?,
        name: r.get(7)?,
        created_at: r.get(8)?,
    })
}

macro_rules! fwd_cols {
    () => {
        "id, account_id, nat_gateway_id, forward_table_id, external_ip, external_port, internal_ip, \
    internal_port, ip_protocol, name, created_at"
    };
}

pub(super) fn fwd_from_row(r: &dyn SqlRow) -> StoreResult<ForwardEntryRow> {
    Ok(ForwardEntryRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        nat_gateway_id: r.get(2)?,
        forward_table_id: r.get(3)?,
        external_ip: r.get(4)?,
        external_port: r.get(5)?,
        internal_ip: r.get(6)?,
        internal_port: r.get(7)?,
        ip_protocol: parse_enum("ip_protocol", r.get(8)?, IpProtocol::parse)?,
        name: r.get(9)?,
        created_at: r.get(10)?,
    })
}

macro_rules! havip_cols {
    () => {
        "id, account_id, region_id, vpc_id, vswitch_id, ip, status, name, description, created_at"
    };
}

pub(super) fn havip_from_row(r: &dyn SqlRow) -> StoreResult<HaVipRow> {
    Ok(HaVipRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        vpc_id: r.get(3)?,
        vswitch_id: r.get(4)?,
        ip: r.get(5)?,
        status: parse_enum("status", r.get(6)?, HaVipStatus::parse)?,
        name: r.get(7)?,
        description: r.get(8)?,
        created_at: r.get(9)?,
    })
}

pub(super) fn member_from_row(r: &dyn SqlRow) -> StoreResult<HaVipMemberRow> {
    Ok(HaVipMemberRow {
        havip_id: r.get(0)?,
        instance_id: r.get(1)?,
        instance_type: parse_enum("instance_type", r.get(2)?, AssociatedInstanceType::parse)?,
        created_at: r.get(3)?,
    })
}

macro_rules! lb_cols {
    () => {
        "id, account_id, region_id, kind, address_type, vpc_id, vswitch_id, address, name, spec, status, created_at, \
         delete_protection, master_zone_id"
    };
}

pub(super) fn lb_from_row(r: &dyn SqlRow) -> StoreResult<LoadBalancerRow> {
    Ok(LoadBalancerRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        region_id: r.get(2)?,
        kind: parse_enum("kind", r.get(3)?, LoadBalancerKind::parse)?,
        address_type: parse_enum("address_type", r.get(4)?, LbAddressType::parse)?,
        vpc_id: r.get(5)?,
        vswitch_id: r.get(6)?,
        address: r.get(7)?,
        name: r.get(8)?,
        spec: r.get(9)?,
        status: r.get(10)?,
        created_at: r.get(11)?,
        delete_protection: r.get(12)?,
        master_zone_id: r.get(13)?,
    })
}

pub(super) fn task_from_row(r: &dyn SqlRow) -> StoreResult<TaskRow> {
    Ok(TaskRow { id: r.get(0)?, kind: r.get(1)?, resource_id: r.get(2)?, due_at: r.get(3)?, created_at: r.get(4)? })
}

pub(super) fn traffic_row(r: &dyn SqlRow) -> StoreResult<TrafficRow> {
    Ok(TrafficRow {
        eip_id: r.get(0)?,
        at_ms: r.get(1)?,
        rx_bytes: r.get(2)?,
        tx_bytes: r.get(3)?,
        rx_packets: r.get(4)?,
        tx_packets: r.get(5)?,
    })
}

pub(super) fn backend_health_row(r: &dyn SqlRow) -> StoreResult<BackendHealthRow> {
    Ok(BackendHealthRow {
        region_id: r.get(0)?,
        lb_id: r.get(1)?,
        listener_port: r.get(2)?,
        server_id: r.get(3)?,
        health: parse_enum("health", r.get(4)?, BackendHealth::parse)?,
    })
}

macro_rules! quota_application_cols {
    () => {
        "id, account_id, quota_name, product_code, quota_action_code, desire_value, approve_value, status, \
    reason, audit_reason, dimension, notice_type, applied_at, decided_at"
    };
}

pub(super) fn quota_application_from_row(r: &dyn SqlRow) -> StoreResult<QuotaApplicationRow> {
    Ok(QuotaApplicationRow {
        id: r.get(0)?,
        account_id: r.get(1)?,
        quota_name: r.get(2)?,
        product_code: r.get(3)?,
        quota_action_code: r.get(4)?,
        desire_value: r.get(5)?,
        approve_value: r.get(6)?,
        status: parse_enum("status", r.get(7)?, QuotaApplicationStatus::parse)?,
        reason: r.get(8)?,
        audit_reason: r.get(9)?,
        dimension: r.get(10)?,
        notice_type: r.get(11)?,
        applied_at: r.get(12)?,
        decided_at: r.get(13)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_that_is_not_full_gives_the_total_and_anything_else_needs_the_count() {
        // First page, short: the rows are all there is.
        assert_eq!(derived_total(0, 10, 3), Some(3));
        assert_eq!(derived_total(0, 10, 0), Some(0));
        // Later page, short but not empty: offset plus what came back.
        assert_eq!(derived_total(20, 10, 4), Some(24));
        // A full page may have more after it; an empty page past the start
        // may be far beyond the end.
        assert_eq!(derived_total(0, 10, 10), None);
        assert_eq!(derived_total(30, 10, 0), None);
    }
}
