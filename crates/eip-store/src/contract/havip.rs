//! HaVips and the instances and ENIs they float between.

use super::fixtures::*;
use super::harness::*;
use crate::*;
use eip_types::*;

fn member(havip: &str, instance: &str, kind: AssociatedInstanceType, created_at: i64) -> HaVipMemberRow {
    HaVipMemberRow { havip_id: havip.into(), instance_id: instance.into(), instance_type: kind, created_at }
}

/// HaVips round-trip, list oldest first, are counted per account in every
/// region, take an update and go with their members and tags.
pub fn havips_round_trip_list_oldest_first_count_and_delete_with_their_members(s: &dyn Store) {
    seed(s);
    let a = havip("havip-a", "10.1.0.10", 20);
    let b = HaVipRow { status: HaVipStatus::Creating, ..havip("havip-B", "10.1.0.11", 20) };
    let c = havip("havip-c", "10.1.0.12", 5);
    let elsewhere = HaVipRow { region_id: R2.into(), ..havip("havip-r2", "10.1.0.13", 1) };
    let other = HaVipRow { account_id: ACC2.into(), ..havip("havip-other", "10.1.0.14", 1) };
    let put = [a.clone(), b.clone(), c.clone(), elsewhere.clone(), other.clone()];
    ok(s, move |tx| put.iter().try_for_each(|h| tx.havip_insert(h)));
    assert_eq!(read(s, |tx| tx.havip_get("havip-B")), Some(b.clone()));
    assert_eq!(read(s, |tx| tx.havip_get("havip-other")), Some(other.clone()), "any account's HaVip");
    assert_eq!(read(s, |tx| tx.havip_get("havip-none")), None);
    assert_eq!(read(s, |tx| tx.havip_list(ACC, R)), vec![c.clone(), b.clone(), a.clone()]);
    assert_eq!(read(s, |tx| tx.havip_list(ACC, R2)), vec![elsewhere]);
    assert_eq!(read(s, |tx| tx.havip_list(ACC2, R)), vec![other]);
    assert_eq!(read(s, |tx| Ok((tx.havip_count(ACC)?, tx.havip_count(ACC2)?, tx.havip_count("acc-none")?))), (4, 1, 0));

    let updated = HaVipRow { status: HaVipStatus::InUse, name: "n2".into(), description: text("d2"), ..b.clone() };
    let put = updated.clone();
    ok(s, move |tx| tx.havip_update(&put));
    assert_eq!(read(s, |tx| tx.havip_get("havip-B")), Some(updated));

    ok(s, |tx| {
        tx.havip_member_insert(&member("havip-a", "i-1", AssociatedInstanceType::EcsInstance, 1))?;
        tx.havip_member_insert(&member("havip-c", "i-1", AssociatedInstanceType::EcsInstance, 1))?;
        tx.tag_put(&TagRow {
            account_id: ACC.into(),
            resource_type: "HAVIP".into(),
            resource_id: "havip-a".into(),
            key: "k".into(),
            value: "v".into(),
        })
    });
    ok(s, |tx| tx.havip_delete("havip-a"));
    assert_eq!(read(s, |tx| tx.havip_get("havip-a")), None);
    assert_eq!(read(s, |tx| tx.havip_member_list("havip-a")), vec![]);
    assert_eq!(
        read(s, |tx| tx.havip_member_list_by_instance("i-1")),
        vec![member("havip-c", "i-1", AssociatedInstanceType::EcsInstance, 1)]
    );
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "HAVIP")), vec![]);
    assert_eq!(read(s, |tx| tx.havip_count(ACC)), 3);
}

/// Members list oldest first per HaVip, are found per instance, and are
/// removed one by one.
pub fn havip_members_list_oldest_first_per_havip_and_per_instance(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.havip_insert(&havip("havip-1", "10.1.0.10", 1))?;
        tx.havip_insert(&havip("havip-2", "10.1.0.11", 2))
    });
    let m1 = member("havip-1", "i-b", AssociatedInstanceType::EcsInstance, 30);
    let m2 = member("havip-1", "eni-a", AssociatedInstanceType::NetworkInterface, 10);
    let m3 = member("havip-1", "i-a", AssociatedInstanceType::EcsInstance, 20);
    let m4 = member("havip-2", "i-b", AssociatedInstanceType::EcsInstance, 5);
    let put = [m1.clone(), m2.clone(), m3.clone(), m4.clone()];
    ok(s, move |tx| put.iter().try_for_each(|m| tx.havip_member_insert(m)));
    assert_eq!(read(s, |tx| tx.havip_member_list("havip-1")), vec![m2.clone(), m3.clone(), m1.clone()]);
    assert_eq!(read(s, |tx| tx.havip_member_list("havip-2")), vec![m4.clone()]);
    assert_eq!(
        sorted_by(read(s, |tx| tx.havip_member_list_by_instance("i-b")), |m| m.havip_id.clone()),
        vec![m1.clone(), m4.clone()]
    );
    assert_eq!(read(s, |tx| tx.havip_member_list_by_instance("i-none")), vec![]);
    ok(s, |tx| tx.havip_member_delete("havip-1", "i-b"));
    assert_eq!(read(s, |tx| tx.havip_member_list("havip-1")), vec![m2, m3]);
    assert_eq!(read(s, |tx| tx.havip_member_list_by_instance("i-b")), vec![m4]);
}

/// A vSwitch address is one HaVip; a member joins a HaVip once, is an ECS
/// instance or an ENI, and needs its HaVip; a HaVip needs its vSwitch.
pub fn havip_constraints_hold(s: &dyn Store) {
    seed(s);
    ok(s, |tx| tx.havip_insert(&havip("havip-1", "10.1.0.10", 1)));
    unique(s, "same id", |tx| tx.havip_insert(&havip("havip-1", "10.1.0.11", 2)));
    unique(s, "same address in the vSwitch", |tx| tx.havip_insert(&havip("havip-2", "10.1.0.10", 2)));
    constraint(s, "HaVip in a missing vSwitch", |tx| {
        tx.havip_insert(&HaVipRow { vswitch_id: "vsw-none".into(), ..havip("havip-2", "10.1.0.11", 2) })
    });
    constraint(s, "HaVip in a missing VPC", |tx| {
        tx.havip_insert(&HaVipRow { vpc_id: "vpc-none".into(), ..havip("havip-2", "10.1.0.11", 2) })
    });
    ok(s, |tx| tx.havip_member_insert(&member("havip-1", "i-1", AssociatedInstanceType::EcsInstance, 1)));
    unique(s, "same member twice", |tx| {
        tx.havip_member_insert(&member("havip-1", "i-1", AssociatedInstanceType::NetworkInterface, 2))
    });
    constraint(s, "a CLB as a member", |tx| {
        tx.havip_member_insert(&member("havip-1", "lb-1", AssociatedInstanceType::SlbInstance, 2))
    });
    constraint(s, "member of a missing HaVip", |tx| {
        tx.havip_member_insert(&member("havip-none", "i-1", AssociatedInstanceType::EcsInstance, 2))
    });
    assert_eq!(read(s, |tx| tx.havip_member_list("havip-1")).len(), 1);
}
