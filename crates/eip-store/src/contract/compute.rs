//! ECS instances, their user data, ENIs and the private IPs taken in
//! vSwitches: what ECS actions and the data plane's snapshot read.

use super::fixtures::*;
use super::harness::*;
use crate::*;
use eip_types::*;

fn classic(id: &str, created_at: i64) -> InstanceRow {
    InstanceRow {
        network_type: InstanceNetworkType::Classic,
        vpc_id: None,
        vswitch_id: None,
        security_group_id: None,
        started_at: None,
        status: InstanceStatus::Stopped,
        want_running: false,
        charge_type: ChargeType::PostPaid,
        internet_charge_type: InternetChargeType::PayByBandwidth,
        internet_max_bandwidth_out: 0,
        public_ip: Some("198.18.7.7".into()),
        ..instance(id, created_at)
    }
}

fn primary_eni(id: &str, instance: &str, created_at: i64) -> EniRow {
    EniRow { kind: EniType::Primary, ..eni(id, Some(instance), created_at) }
}

/// Instances round-trip (VPC and classic), list oldest first per account
/// and region, take an update of their mutable columns, and are deleted.
pub fn instances_round_trip_list_oldest_first_update_and_delete(s: &dyn Store) {
    seed(s);
    let a = instance("i-a", 20);
    let b = classic("i-B", 20);
    let c = instance("i-c", 10);
    let elsewhere = InstanceRow { region_id: R2.into(), ..instance("i-r2", 1) };
    let other = InstanceRow { account_id: ACC2.into(), ..classic("i-other", 1) };
    let other = InstanceRow { public_ip: None, ..other };
    let put = [a.clone(), b.clone(), c.clone(), elsewhere.clone(), other.clone()];
    ok(s, move |tx| put.iter().try_for_each(|i| tx.instance_insert(i)));
    assert_eq!(read(s, |tx| tx.instance_get("i-a")), Some(a.clone()));
    assert_eq!(read(s, |tx| tx.instance_get("i-B")), Some(b.clone()));
    assert_eq!(read(s, |tx| tx.instance_get("i-other")), Some(other.clone()), "any account's instance");
    assert_eq!(read(s, |tx| tx.instance_get("i-none")), None);
    assert_eq!(read(s, |tx| tx.instance_list(ACC, R)), vec![c.clone(), b.clone(), a.clone()]);
    assert_eq!(read(s, |tx| tx.instance_list(ACC, R2)), vec![elsewhere.clone()]);
    assert_eq!(read(s, |tx| tx.instance_list(ACC2, R)), vec![other.clone()]);
    let all = vec![a.clone(), b.clone(), c.clone(), elsewhere.clone(), other.clone()];
    assert_eq!(sorted_by(read(s, |tx| tx.instance_list_all()), |i| i.id.clone()), sorted_by(all, |i| i.id.clone()));

    let updated = InstanceRow {
        name: "n2".into(),
        hostname: "h2".into(),
        description: text("d2"),
        status: InstanceStatus::Stopping,
        want_running: false,
        internet_charge_type: InternetChargeType::PayByBandwidth,
        internet_max_bandwidth_out: 100,
        public_ip: Some("198.18.9.9".into()),
        started_at: None,
        ..a.clone()
    };
    let put = updated.clone();
    ok(s, move |tx| tx.instance_update(&put));
    assert_eq!(read(s, |tx| tx.instance_get("i-a")), Some(updated.clone()));
    assert_eq!(read(s, |tx| tx.instance_get("i-c")), Some(c.clone()), "other rows untouched");

    ok(s, |tx| tx.instance_delete("i-c"));
    assert_eq!(read(s, |tx| tx.instance_get("i-c")), None);
    assert_eq!(read(s, |tx| tx.instance_list(ACC, R)), vec![b, updated]);
}

/// `instance_count_using` counts the instances in a vSwitch or security group.
pub fn instances_using_a_vswitch_or_security_group_are_counted(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.vswitch_insert(&vswitch("vsw-2", ACC, VPC, 2))?;
        tx.sg_insert(&sg("sg-2", ACC, Some(VPC), 2))?;
        tx.instance_insert(&instance("i-1", 1))?;
        tx.instance_insert(&instance("i-2", 2))?;
        tx.instance_insert(&InstanceRow { vswitch_id: Some("vsw-2".into()), ..instance("i-3", 3) })?;
        tx.instance_insert(&InstanceRow { security_group_id: Some("sg-2".into()), ..instance("i-4", 4) })?;
        tx.instance_insert(&classic("i-5", 5))
    });
    let counts = read(s, |tx| {
        Ok((
            tx.instance_count_using(VSW)?,
            tx.instance_count_using(SG)?,
            tx.instance_count_using("vsw-2")?,
            tx.instance_count_using("sg-2")?,
            tx.instance_count_using("vsw-none")?,
        ))
    });
    assert_eq!(counts, (3, 3, 1, 1, 0));
}

/// User data is replaced by a second put, holds up to 45000 characters,
/// needs its instance and goes with it.
pub fn user_data_is_replaced_bounded_and_goes_with_its_instance(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.instance_insert(&instance("i-1", 1))?;
        tx.instance_insert(&instance("i-2", 2))
    });
    assert_eq!(read(s, |tx| tx.user_data_get("i-1")), None);
    ok(s, |tx| tx.user_data_put("i-1", "IyEvYmluL3NoCg=="));
    ok(s, |tx| tx.user_data_put("i-2", ""));
    assert_eq!(read(s, |tx| tx.user_data_get("i-1")), Some("IyEvYmluL3NoCg==".into()));
    assert_eq!(read(s, |tx| tx.user_data_get("i-2")), Some(String::new()));
    let most = "é".repeat(45_000);
    let put = most.clone();
    ok(s, move |tx| tx.user_data_put("i-1", &put));
    assert_eq!(read(s, |tx| tx.user_data_get("i-1")), Some(most));
    constraint(s, "45001 characters", |tx| tx.user_data_put("i-1", &"A".repeat(45_001)));
    constraint(s, "user data of a missing instance", |tx| tx.user_data_put("i-none", "x"));
    ok(s, |tx| tx.instance_delete("i-1"));
    assert_eq!(read(s, |tx| tx.user_data_get("i-1")), None);
    // A new instance with the old id starts without any.
    ok(s, |tx| tx.instance_insert(&instance("i-1", 3)));
    assert_eq!(read(s, |tx| tx.user_data_get("i-1")), None);
}

/// Ids and static public IPs are unique; a VPC instance has its VPC and
/// vSwitch (ECS-01); enumerations and bandwidth are checked; parents exist;
/// an instance with an ENI attached cannot go.
pub fn instance_constraints_hold(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.instance_insert(&instance("i-1", 1))?;
        tx.instance_insert(&classic("i-2", 2))
    });
    unique(s, "same id", |tx| tx.instance_insert(&instance("i-1", 3)));
    unique(s, "same public IP", |tx| tx.instance_insert(&classic("i-3", 3)));
    let mut stolen = instance("i-1", 1);
    stolen.public_ip = Some("198.18.7.7".into());
    unique(s, "update to a taken public IP", move |tx| tx.instance_update(&stolen));
    constraint(s, "VPC instance without a vSwitch", |tx| {
        tx.instance_insert(&InstanceRow { vswitch_id: None, ..instance("i-3", 3) })
    });
    constraint(s, "VPC instance without a VPC", |tx| {
        tx.instance_insert(&InstanceRow { vpc_id: None, ..instance("i-3", 3) })
    });
    constraint(s, "negative bandwidth", |tx| {
        tx.instance_insert(&InstanceRow { internet_max_bandwidth_out: -1, ..instance("i-3", 3) })
    });
    constraint(s, "missing vSwitch", |tx| {
        tx.instance_insert(&InstanceRow { vswitch_id: Some("vsw-none".into()), ..instance("i-3", 3) })
    });
    constraint(s, "missing security group", |tx| {
        tx.instance_insert(&InstanceRow { security_group_id: Some("sg-none".into()), ..instance("i-3", 3) })
    });
    constraint(s, "missing account", |tx| {
        tx.instance_insert(&InstanceRow { account_id: "acc-none".into(), ..instance("i-3", 3) })
    });
    ok(s, |tx| tx.eni_insert(&primary_eni("eni-1", "i-1", 1)));
    constraint(s, "instance with an ENI attached", |tx| tx.instance_delete("i-1"));
    constraint(s, "vSwitch with an instance in it", |tx| tx.vswitch_delete(VSW));
    assert!(read(s, |tx| tx.instance_get("i-1")).is_some());
    assert_eq!(read(s, |tx| tx.instance_get("i-3")), None);
}

/// ENIs round-trip, list per instance, per account and region (oldest
/// first) and all together, take an update, and go with their private IPs;
/// MACs are looked up; a vSwitch's ENIs are counted.
pub fn enis_round_trip_list_update_and_delete_with_their_private_ips(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.instance_insert(&instance("i-1", 1))?;
        tx.instance_insert(&instance("i-2", 2))
    });
    let p = primary_eni("eni-p", "i-1", 30);
    let attached = EniRow { security_group_id: None, ..eni("eni-s", Some("i-1"), 20) };
    let loose = eni("eni-B", None, 20);
    let other = EniRow { account_id: ACC2.into(), ..eni("eni-other", None, 1) };
    let elsewhere = EniRow { region_id: R2.into(), ..eni("eni-r2", None, 1) };
    let put = [p.clone(), attached.clone(), loose.clone(), other.clone(), elsewhere.clone()];
    ok(s, move |tx| put.iter().try_for_each(|e| tx.eni_insert(e)));
    assert_eq!(read(s, |tx| tx.eni_get("eni-p")), Some(p.clone()));
    assert_eq!(read(s, |tx| tx.eni_get("eni-other")), Some(other.clone()), "any account's ENI");
    assert_eq!(read(s, |tx| tx.eni_get("eni-none")), None);
    assert_eq!(
        sorted_by(read(s, |tx| tx.eni_list_by_instance("i-1")), |e| e.id.clone()),
        vec![p.clone(), attached.clone()]
    );
    assert_eq!(read(s, |tx| tx.eni_list_by_instance("i-2")), vec![]);
    assert_eq!(read(s, |tx| tx.eni_list(ACC, R)), vec![loose.clone(), attached.clone(), p.clone()]);
    assert_eq!(read(s, |tx| tx.eni_list(ACC, R2)), vec![elsewhere.clone()]);
    assert_eq!(read(s, |tx| tx.eni_list(ACC2, R)), vec![other.clone()]);
    let all = vec![p.clone(), attached.clone(), loose.clone(), other.clone(), elsewhere.clone()];
    assert_eq!(sorted_by(read(s, |tx| tx.eni_list_all()), |e| e.id.clone()), sorted_by(all, |e| e.id.clone()));
    assert!(read(s, |tx| tx.eni_mac_taken(&loose.mac)));
    assert!(!read(s, |tx| tx.eni_mac_taken("00:16:3e:00:00:00")));
    assert_eq!(read(s, |tx| tx.eni_count_in_vswitch(VSW)), 5);
    assert_eq!(read(s, |tx| tx.eni_count_in_vswitch("vsw-none")), 0);

    let moved = EniRow {
        instance_id: Some("i-2".into()),
        status: EniStatus::Attaching,
        name: "n2".into(),
        description: text("d2"),
        security_group_id: Some("sg-9".into()),
        ..loose.clone()
    };
    let put = moved.clone();
    ok(s, move |tx| tx.eni_update(&put));
    assert_eq!(read(s, |tx| tx.eni_get("eni-B")), Some(moved.clone()));
    assert_eq!(read(s, |tx| tx.eni_list_by_instance("i-2")), vec![moved]);

    ok(s, |tx| {
        tx.private_ip_insert(&private_ip("10.1.0.5", "eni-s", true))?;
        tx.private_ip_insert(&private_ip("10.1.0.6", "eni-s", false))?;
        tx.private_ip_insert(&private_ip("10.1.0.7", "eni-p", true))
    });
    let detached = EniRow { instance_id: None, status: EniStatus::Available, ..attached.clone() };
    ok(s, move |tx| {
        tx.eni_update(&detached)?;
        tx.eni_delete("eni-s")
    });
    assert_eq!(read(s, |tx| tx.eni_get("eni-s")), None);
    assert_eq!(read(s, |tx| tx.private_ip_list_eni("eni-s")), vec![]);
    assert_eq!(read(s, |tx| tx.private_ip_list_vswitch(VSW)), vec![private_ip("10.1.0.7", "eni-p", true)]);
    assert!(!read(s, |tx| tx.eni_mac_taken(&attached.mac)), "its MAC is free again");
}

/// Private IPs list per vSwitch, per holder and all together, and are
/// given back one by one or per holder; an address is taken once per vSwitch.
pub fn private_ips_are_listed_per_vswitch_and_holder_and_given_back(s: &dyn Store) {
    seed(s);
    ok(s, |tx| tx.vswitch_insert(&vswitch("vsw-2", ACC, VPC, 2)));
    let in2 = PrivateIpRow { vswitch_id: "vsw-2".into(), ..private_ip("10.1.0.5", "eip-9", false) };
    let rows = vec![
        private_ip("10.1.0.5", "eni-1", true),
        private_ip("10.1.0.6", "eni-1", false),
        private_ip("10.1.0.4", "eni-1", false),
        private_ip("10.1.0.9", "ngw-1", false),
        in2.clone(),
    ];
    let put = rows.clone();
    ok(s, move |tx| put.iter().try_for_each(|r| tx.private_ip_insert(r)));
    let key = |r: &PrivateIpRow| (r.vswitch_id.clone(), r.ip.clone());
    assert_eq!(sorted_by(read(s, |tx| tx.private_ip_list_vswitch(VSW)), key), sorted_by(rows[..4].to_vec(), key));
    assert_eq!(read(s, |tx| tx.private_ip_list_vswitch("vsw-2")), vec![in2.clone()]);
    assert_eq!(sorted_by(read(s, |tx| tx.private_ip_list_eni("eni-1")), key), sorted_by(rows[..3].to_vec(), key));
    assert_eq!(sorted_by(read(s, |tx| tx.private_ip_list_all()), key), sorted_by(rows.clone(), key));
    unique(s, "same address in a vSwitch", |tx| tx.private_ip_insert(&private_ip("10.1.0.5", "eni-2", false)));
    constraint(s, "address in a missing vSwitch", |tx| {
        tx.private_ip_insert(&PrivateIpRow { vswitch_id: "vsw-none".into(), ..private_ip("10.1.0.5", "eni-2", false) })
    });
    ok(s, |tx| tx.private_ip_delete(VSW, "10.1.0.5"));
    assert_eq!(
        read(s, |tx| tx.private_ip_list_vswitch("vsw-2")),
        vec![in2.clone()],
        "same address, other vSwitch: kept"
    );
    ok(s, |tx| tx.private_ip_delete_holder("eni-1"));
    assert_eq!(read(s, |tx| tx.private_ip_list_eni("eni-1")), vec![]);
    assert_eq!(
        sorted_by(read(s, |tx| tx.private_ip_list_all()), key),
        vec![private_ip("10.1.0.9", "ngw-1", false), in2]
    );
}

/// An ECS target comes with its primary ENI's primary private IP (none
/// without one) and counts the EIPs on the instance and, in NAT mode, on
/// that address only; a missing instance is none.
pub fn ecs_targets_carry_their_primary_address_and_the_eips_holding_either(s: &dyn Store) {
    seed(s);
    let (one, two, three) =
        (instance("i-1", 1), instance("i-2", 2), InstanceRow { account_id: ACC2.into(), ..instance("i-3", 3) });
    let put = [one.clone(), two.clone(), three.clone()];
    ok(s, move |tx| {
        put.iter().try_for_each(|i| tx.instance_insert(i))?;
        tx.eni_insert(&primary_eni("eni-p1", "i-1", 1))?;
        tx.eni_insert(&eni("eni-s1", Some("i-1"), 2))?;
        tx.eni_insert(&primary_eni("eni-p2", "i-2", 3))?;
        tx.private_ip_insert(&private_ip("10.1.0.5", "eni-p1", true))?;
        tx.private_ip_insert(&private_ip("10.1.0.8", "eni-p1", false))?;
        tx.private_ip_insert(&private_ip("10.1.0.6", "eni-s1", true))
    });
    let target = |id: &'static str| read(s, move |tx| tx.ecs_target(id));
    let want = |instance: &InstanceRow, primary: Option<&str>, ecs_eips, nat_eips_on_primary| {
        Some(EcsTargetRow {
            instance: instance.clone(),
            primary: primary.map(|ip| (VSW.to_owned(), ip.to_owned())),
            ecs_eips,
            nat_eips_on_primary,
        })
    };
    assert_eq!(target("i-1"), want(&one, Some("10.1.0.5"), 0, 0));
    assert_eq!(target("i-2"), want(&two, None, 0, 0), "a primary ENI without a private IP");
    assert_eq!(target("i-3"), want(&three, None, 0, 0), "no ENI, any account");
    assert_eq!(target("i-none"), None);

    let nic = AssociatedInstanceType::NetworkInterface;
    let eips = [
        associated(eip("eip-ecs", "198.18.0.1", 1), AssociatedInstanceType::EcsInstance, "i-2", None, None),
        associated(eip("eip-nat", "198.18.0.2", 2), nic, "eni-p1", Some(EipMode::Nat), Some("10.1.0.5")),
        associated(eip("eip-sec", "198.18.0.3", 3), nic, "eni-s1", Some(EipMode::Nat), Some("10.1.0.6")),
        associated(eip("eip-2nd", "198.18.0.4", 4), nic, "eni-p1", Some(EipMode::Nat), Some("10.1.0.8")),
    ];
    ok(s, move |tx| eips.iter().try_for_each(|e| tx.eip_insert(e)));
    assert_eq!(target("i-1"), want(&one, Some("10.1.0.5"), 0, 1), "only the primary address counts");
    assert_eq!(target("i-2"), want(&two, None, 1, 0));
}

/// MACs are unique; a primary ENI is on an instance, and an instance has
/// one; attachment and status agree; parents exist.
pub fn eni_constraints_hold(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.instance_insert(&instance("i-1", 1))?;
        tx.eni_insert(&primary_eni("eni-1", "i-1", 1))
    });
    unique(s, "same id", |tx| tx.eni_insert(&EniRow { mac: "00:16:3e:other".into(), ..eni("eni-1", None, 2) }));
    unique(s, "same MAC", |tx| tx.eni_insert(&EniRow { mac: "00:16:3e:eni-1".into(), ..eni("eni-2", None, 2) }));
    unique(s, "second primary ENI", |tx| tx.eni_insert(&primary_eni("eni-2", "i-1", 2)));
    constraint(s, "primary ENI on no instance", |tx| {
        tx.eni_insert(&EniRow { kind: EniType::Primary, ..eni("eni-2", None, 2) })
    });
    constraint(s, "attached but Available", |tx| {
        tx.eni_insert(&EniRow { status: EniStatus::Available, ..eni("eni-2", Some("i-1"), 2) })
    });
    constraint(s, "detached but InUse", |tx| {
        tx.eni_insert(&EniRow { status: EniStatus::InUse, ..eni("eni-2", None, 2) })
    });
    constraint(s, "update to detached but InUse", |tx| {
        tx.eni_update(&EniRow { instance_id: None, ..primary_eni("eni-1", "i-1", 1) })
    });
    constraint(s, "missing instance", |tx| tx.eni_insert(&eni("eni-2", Some("i-none"), 2)));
    constraint(s, "missing vSwitch", |tx| {
        tx.eni_insert(&EniRow { vswitch_id: "vsw-none".into(), ..eni("eni-2", None, 2) })
    });
    constraint(s, "missing VPC", |tx| tx.eni_insert(&EniRow { vpc_id: "vpc-none".into(), ..eni("eni-2", None, 2) }));
    ok(s, |tx| tx.eni_insert(&eni("eni-2", Some("i-1"), 2)));
    assert_eq!(read(s, |tx| tx.eni_list_by_instance("i-1")).len(), 2);
}
