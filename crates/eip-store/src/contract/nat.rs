//! NAT gateways and their SNAT and DNAT (forward) entries.

use super::fixtures::*;
use super::harness::*;
use crate::*;
use eip_types::*;

/// Gateways round-trip, are found by either of their tables, list oldest
/// first (an update of the creation time moves them, NAT-03), take an update
/// and go with their tags.
pub fn nat_gateways_round_trip_list_oldest_first_and_are_found_by_table(s: &dyn Store) {
    seed(s);
    let a = nat("ngw-a", 30);
    let b = NatGatewayRow {
        status: NatGatewayStatus::Creating,
        network_type: NatNetworkType::Intranet,
        eip_bind_mode: NatEipBindMode::MultiBinded,
        ..nat("ngw-b", 20)
    };
    let other = NatGatewayRow { account_id: ACC2.into(), ..nat("ngw-other", 1) };
    let elsewhere = NatGatewayRow { region_id: R2.into(), ..nat("ngw-r2", 1) };
    let put = [a.clone(), b.clone(), other.clone(), elsewhere.clone()];
    ok(s, move |tx| put.iter().try_for_each(|n| tx.nat_insert(n)));
    assert_eq!(read(s, |tx| tx.nat_get("ngw-a")), Some(a.clone()));
    assert_eq!(read(s, |tx| tx.nat_get("ngw-other")), Some(other.clone()), "any account's gateway");
    assert_eq!(read(s, |tx| tx.nat_get("ngw-none")), None);
    assert_eq!(read(s, |tx| tx.nat_get_by_table("stb-ngw-b")), Some(b.clone()));
    assert_eq!(read(s, |tx| tx.nat_get_by_table("ftb-ngw-b")), Some(b.clone()));
    assert_eq!(read(s, |tx| tx.nat_get_by_table("stb-none")), None);
    assert_eq!(read(s, |tx| tx.nat_list(ACC, R)), vec![b.clone(), a.clone()]);
    assert_eq!(read(s, |tx| tx.nat_list(ACC, R2)), vec![elsewhere]);
    assert_eq!(read(s, |tx| tx.nat_list(ACC2, R)), vec![other]);

    let updated = NatGatewayRow {
        name: "n2".into(),
        description: text("d2"),
        status: NatGatewayStatus::Available,
        created_at: 40,
        ..b.clone()
    };
    let put = updated.clone();
    ok(s, move |tx| tx.nat_update(&put));
    assert_eq!(read(s, |tx| tx.nat_get("ngw-b")), Some(updated.clone()));
    assert_eq!(read(s, |tx| tx.nat_list(ACC, R)), vec![a.clone(), updated.clone()]);

    ok(s, |tx| {
        tx.tag_put(&TagRow {
            account_id: ACC.into(),
            resource_type: "NATGATEWAY".into(),
            resource_id: "ngw-a".into(),
            key: "k".into(),
            value: "v".into(),
        })
    });
    ok(s, |tx| tx.nat_delete("ngw-a"));
    assert_eq!(read(s, |tx| tx.nat_get("ngw-a")), None);
    assert_eq!(read(s, |tx| tx.nat_get_by_table("stb-ngw-a")), None);
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "NATGATEWAY")), vec![]);
    assert_eq!(read(s, |tx| tx.nat_list(ACC, R)), vec![updated]);
}

/// SNAT and DNAT entries round-trip, list oldest first per gateway and are
/// deleted.
pub fn snat_and_forward_entries_round_trip_and_list_oldest_first(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.nat_insert(&nat("ngw-1", 1))?;
        tx.nat_insert(&nat("ngw-2", 2))
    });
    let s1 = snat("snat-a", "ngw-1", 20);
    let s2 =
        SnatEntryRow { source_vswitch_id: None, source_cidr: "192.168.0.0/24".into(), ..snat("snat-B", "ngw-1", 20) };
    let s3 = snat("snat-c", "ngw-1", 10);
    let s4 = snat("snat-d", "ngw-2", 1);
    let put = [s1.clone(), s2.clone(), s3.clone(), s4.clone()];
    ok(s, move |tx| put.iter().try_for_each(|e| tx.snat_insert(e)));
    assert_eq!(read(s, |tx| tx.snat_get("snat-B")), Some(s2.clone()));
    assert_eq!(read(s, |tx| tx.snat_get("snat-none")), None);
    assert_eq!(read(s, |tx| tx.snat_list("ngw-1")), vec![s3.clone(), s2.clone(), s1.clone()]);
    assert_eq!(read(s, |tx| tx.snat_list("ngw-2")), vec![s4]);
    ok(s, |tx| tx.snat_delete("snat-B"));
    assert_eq!(read(s, |tx| tx.snat_get("snat-B")), None);
    assert_eq!(read(s, |tx| tx.snat_list("ngw-1")), vec![s3, s1]);

    let f1 = forward("fwd-a", "ngw-1", "80", 20);
    let f2 = ForwardEntryRow {
        ip_protocol: IpProtocol::Any,
        external_port: "Any".into(),
        internal_port: "Any".into(),
        ..forward("fwd-b", "ngw-1", "x", 10)
    };
    let f3 = ForwardEntryRow { ip_protocol: IpProtocol::Udp, ..forward("fwd-c", "ngw-1", "80", 30) };
    let f4 = forward("fwd-d", "ngw-2", "80", 1);
    let put = [f1.clone(), f2.clone(), f3.clone(), f4.clone()];
    ok(s, move |tx| put.iter().try_for_each(|e| tx.forward_insert(e)));
    assert_eq!(read(s, |tx| tx.forward_get("fwd-b")), Some(f2.clone()));
    assert_eq!(read(s, |tx| tx.forward_get("fwd-none")), None);
    assert_eq!(read(s, |tx| tx.forward_list("ngw-1")), vec![f2.clone(), f1.clone(), f3.clone()]);
    assert_eq!(read(s, |tx| tx.forward_list("ngw-2")), vec![f4]);
    ok(s, |tx| tx.forward_delete("fwd-a"));
    assert_eq!(read(s, |tx| tx.forward_list("ngw-1")), vec![f2, f3]);
}

/// Gateway ids and each of their table and interface ids are unique; an
/// SNAT entry names at least one address; one DNAT entry per external
/// address, port and protocol of a table; entries need their gateway and a
/// gateway with entries cannot go.
pub fn nat_constraints_hold(s: &dyn Store) {
    seed(s);
    ok(s, |tx| tx.nat_insert(&nat("ngw-1", 1)));
    unique(s, "same id", |tx| tx.nat_insert(&NatGatewayRow { id: "ngw-1".into(), ..nat("ngw-2", 2) }));
    unique(s, "same SNAT table", |tx| {
        tx.nat_insert(&NatGatewayRow { snat_table_id: "stb-ngw-1".into(), ..nat("ngw-2", 2) })
    });
    unique(s, "same forward table", |tx| {
        tx.nat_insert(&NatGatewayRow { forward_table_id: "ftb-ngw-1".into(), ..nat("ngw-2", 2) })
    });
    unique(s, "same full NAT table", |tx| {
        tx.nat_insert(&NatGatewayRow { full_nat_table_id: "fulltb-ngw-1".into(), ..nat("ngw-2", 2) })
    });
    unique(s, "same interface", |tx| {
        tx.nat_insert(&NatGatewayRow { eni_id: "eni-of-ngw-1".into(), ..nat("ngw-2", 2) })
    });
    constraint(s, "gateway in a missing vSwitch", |tx| {
        tx.nat_insert(&NatGatewayRow { vswitch_id: "vsw-none".into(), ..nat("ngw-2", 2) })
    });
    constraint(s, "gateway of a missing account", |tx| {
        tx.nat_insert(&NatGatewayRow { account_id: "acc-none".into(), ..nat("ngw-2", 2) })
    });
    constraint(s, "SNAT entry without addresses", |tx| {
        tx.snat_insert(&SnatEntryRow { snat_ips: String::new(), ..snat("snat-1", "ngw-1", 1) })
    });
    constraint(s, "SNAT entry of a missing gateway", |tx| tx.snat_insert(&snat("snat-1", "ngw-none", 1)));
    constraint(s, "DNAT entry of a missing gateway", |tx| tx.forward_insert(&forward("fwd-1", "ngw-none", "80", 1)));
    ok(s, |tx| {
        tx.snat_insert(&snat("snat-1", "ngw-1", 1))?;
        tx.forward_insert(&forward("fwd-1", "ngw-1", "80", 1))
    });
    unique(s, "same SNAT id", |tx| tx.snat_insert(&snat("snat-1", "ngw-1", 2)));
    unique(s, "same DNAT id", |tx| tx.forward_insert(&forward("fwd-1", "ngw-1", "81", 2)));
    unique(s, "same external address, port and protocol", |tx| {
        tx.forward_insert(&ForwardEntryRow { internal_ip: "10.1.0.99".into(), ..forward("fwd-2", "ngw-1", "80", 2) })
    });
    ok(s, |tx| {
        tx.forward_insert(&ForwardEntryRow { ip_protocol: IpProtocol::Udp, ..forward("fwd-2", "ngw-1", "80", 2) })
    });
    constraint(s, "gateway with entries", |tx| tx.nat_delete("ngw-1"));
    ok(s, |tx| {
        tx.snat_delete("snat-1")?;
        tx.forward_delete("fwd-1")?;
        tx.forward_delete("fwd-2")?;
        tx.nat_delete("ngw-1")
    });
    assert_eq!(read(s, |tx| tx.nat_list(ACC, R)), vec![]);
}
