//! VPCs, vSwitches, security groups, secondary CIDR blocks and the tags of
//! resources other than EIPs: the network the rest hangs off.

use super::fixtures::*;
use super::harness::*;
use crate::*;

fn tag(resource_type: &str, resource: &str, key: &str, value: &str) -> TagRow {
    TagRow {
        account_id: ACC.into(),
        resource_type: resource_type.into(),
        resource_id: resource.into(),
        key: key.into(),
        value: value.into(),
    }
}

/// VPCs round-trip per account, list oldest first (ties by id, bytewise),
/// are renamed, and go with their secondary blocks and tags.
pub fn vpcs_round_trip_list_oldest_first_rename_and_delete(s: &dyn Store) {
    seed(s);
    let a = VpcRow { is_default: false, ..vpc("vpc-a", ACC, 20) };
    let b = vpc("vpc-B", ACC, 20);
    let c = vpc("vpc-c", ACC, 5);
    let elsewhere = VpcRow { region_id: R2.into(), ..vpc("vpc-r2", ACC, 1) };
    let other = vpc("vpc-other", ACC2, 1);
    let put = [a.clone(), b.clone(), c.clone(), elsewhere.clone(), other.clone()];
    ok(s, move |tx| put.iter().try_for_each(|v| tx.vpc_insert(v)));
    assert_eq!(read(s, |tx| tx.vpc_get(ACC, "vpc-a")), Some(a.clone()));
    assert_eq!(read(s, |tx| tx.vpc_get(ACC2, "vpc-a")), None, "another account's VPC is not found");
    assert_eq!(read(s, |tx| tx.vpc_list(ACC, R)), vec![vpc(VPC, ACC, 1), c.clone(), b.clone(), a.clone()]);
    assert_eq!(read(s, |tx| tx.vpc_list(ACC, R2)), vec![elsewhere]);
    assert_eq!(read(s, |tx| tx.vpc_list(ACC2, R)), vec![other]);

    ok(s, |tx| tx.vpc_rename("vpc-a", &text("renamed"), ""));
    let renamed = VpcRow { name: text("renamed"), description: String::new(), ..a };
    assert_eq!(read(s, |tx| tx.vpc_get(ACC, "vpc-a")), Some(renamed));

    ok(s, |tx| {
        tx.vpc_cidr_add("vpc-a", "100.64.0.0/16", 1)?;
        tx.tag_put(&tag("VPC", "vpc-a", "env", "prod"))?;
        tx.tag_put(&tag("VPC", "vpc-c", "env", "dev"))
    });
    ok(s, |tx| tx.vpc_delete("vpc-a"));
    assert_eq!(read(s, |tx| tx.vpc_get(ACC, "vpc-a")), None);
    assert_eq!(read(s, |tx| tx.vpc_cidr_list("vpc-a")), Vec::<String>::new());
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "VPC")), vec![tag("VPC", "vpc-c", "env", "dev")]);
    assert_eq!(read(s, |tx| tx.vpc_list(ACC, R)), vec![vpc(VPC, ACC, 1), c, b]);
}

/// vSwitches round-trip per account, list oldest first, are renamed, and
/// go with their tags.
pub fn vswitches_round_trip_list_oldest_first_rename_and_delete(s: &dyn Store) {
    seed(s);
    let a = vswitch("vsw-a", ACC, VPC, 30);
    let b =
        VSwitchRow { zone_id: "cn-hangzhou-i".into(), cidr: "10.2.0.0/16".into(), ..vswitch("vsw-b", ACC, VPC, 10) };
    let elsewhere = VSwitchRow { region_id: R2.into(), ..vswitch("vsw-r2", ACC, VPC, 1) };
    let put = [a.clone(), b.clone(), elsewhere.clone()];
    ok(s, move |tx| put.iter().try_for_each(|v| tx.vswitch_insert(v)));
    assert_eq!(read(s, |tx| tx.vswitch_get(ACC, "vsw-a")), Some(a.clone()));
    assert_eq!(read(s, |tx| tx.vswitch_get(ACC2, "vsw-a")), None);
    assert_eq!(read(s, |tx| tx.vswitch_list(ACC, R)), vec![vswitch(VSW, ACC, VPC, 1), b.clone(), a.clone()]);
    assert_eq!(read(s, |tx| tx.vswitch_list(ACC, R2)), vec![elsewhere]);
    assert_eq!(read(s, |tx| tx.vswitch_list(ACC2, R)), vec![]);

    ok(s, |tx| tx.vswitch_rename("vsw-b", "b2", &text("d2")));
    let renamed = VSwitchRow { name: "b2".into(), description: text("d2"), ..b };
    assert_eq!(read(s, |tx| tx.vswitch_get(ACC, "vsw-b")), Some(renamed.clone()));

    ok(s, |tx| {
        tx.tag_put(&tag("VSWITCH", "vsw-a", "k", "v"))?;
        tx.tag_put(&tag("VSWITCH", "vsw-b", "k", "v"))
    });
    ok(s, |tx| tx.vswitch_delete("vsw-a"));
    assert_eq!(read(s, |tx| tx.vswitch_get(ACC, "vsw-a")), None);
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "VSWITCH")), vec![tag("VSWITCH", "vsw-b", "k", "v")]);
    assert_eq!(read(s, |tx| tx.vswitch_list(ACC, R)), vec![vswitch(VSW, ACC, VPC, 1), renamed]);
}

/// Security groups round-trip (with or without a VPC) and are deleted.
pub fn security_groups_round_trip_list_and_delete(s: &dyn Store) {
    seed(s);
    let classic = sg("sg-classic", ACC, None, 5);
    let later = sg("sg-later", ACC, Some(VPC), 9);
    let other = sg("sg-other", ACC2, None, 1);
    let put = [classic.clone(), later.clone(), other.clone()];
    ok(s, move |tx| put.iter().try_for_each(|g| tx.sg_insert(g)));
    assert_eq!(read(s, |tx| tx.sg_get(ACC, "sg-classic")), Some(classic.clone()));
    assert_eq!(read(s, |tx| tx.sg_get(ACC, "sg-other")), None);
    assert_eq!(read(s, |tx| tx.sg_get(ACC2, "sg-other")), Some(other));
    let want = vec![sg(SG, ACC, Some(VPC), 1), classic.clone(), later.clone()];
    assert_eq!(sorted_by(read(s, |tx| tx.sg_list(ACC, R)), |g| g.id.clone()), sorted_by(want, |g| g.id.clone()));
    ok(s, |tx| tx.sg_delete("sg-classic"));
    assert_eq!(read(s, |tx| tx.sg_get(ACC, "sg-classic")), None);
    assert_eq!(sorted_by(read(s, |tx| tx.sg_list(ACC, R)), |g| g.id.clone()), vec![sg(SG, ACC, Some(VPC), 1), later]);
}

/// Secondary blocks list oldest first (not by block), are removed one by
/// one (saying whether they were there), are unique per VPC, need their VPC.
pub fn secondary_cidrs_list_oldest_first_and_go_with_their_vpc(s: &dyn Store) {
    seed(s);
    assert_eq!(read(s, |tx| tx.vpc_cidr_list(VPC)), Vec::<String>::new());
    ok(s, |tx| {
        tx.vpc_cidr_add(VPC, "172.16.0.0/16", 30)?;
        tx.vpc_cidr_add(VPC, "100.64.0.0/16", 10)?;
        tx.vpc_cidr_add(VPC, "192.168.0.0/16", 20)
    });
    assert_eq!(read(s, |tx| tx.vpc_cidr_list(VPC)), vec!["100.64.0.0/16", "192.168.0.0/16", "172.16.0.0/16"]);
    unique(s, "same block twice", |tx| tx.vpc_cidr_add(VPC, "172.16.0.0/16", 40));
    constraint(s, "block of a missing VPC", |tx| tx.vpc_cidr_add("vpc-none", "172.16.0.0/16", 40));
    assert!(ok(s, |tx| tx.vpc_cidr_remove(VPC, "192.168.0.0/16")));
    assert!(!ok(s, |tx| tx.vpc_cidr_remove(VPC, "192.168.0.0/16")));
    assert_eq!(read(s, |tx| tx.vpc_cidr_list(VPC)), vec!["100.64.0.0/16", "172.16.0.0/16"]);
}

/// Tags list per account and resource type, by resource then key; a put
/// replaces the value; a delete says whether the tag existed.
pub fn resource_tags_list_by_resource_then_key_and_replace_values(s: &dyn Store) {
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "VPC")), vec![]);
    ok(s, |tx| {
        tx.tag_put(&tag("VPC", "vpc-b", "k1", "x"))?;
        tx.tag_put(&tag("VPC", "vpc-a", "z", ""))?;
        tx.tag_put(&tag("VPC", "vpc-a", "K", &text("v")))?;
        tx.tag_put(&tag("VPC", "vpc-a", "a", "1"))?;
        tx.tag_put(&tag("HAVIP", "vpc-a", "a", "other type"))?;
        tx.tag_put(&TagRow { account_id: ACC2.into(), ..tag("VPC", "vpc-c", "a", "other account") })
    });
    let want = vec![
        tag("VPC", "vpc-a", "K", &text("v")),
        tag("VPC", "vpc-a", "a", "1"),
        tag("VPC", "vpc-a", "z", ""),
        tag("VPC", "vpc-b", "k1", "x"),
    ];
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "VPC")), want);
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "HAVIP")), vec![tag("HAVIP", "vpc-a", "a", "other type")]);
    ok(s, |tx| tx.tag_put(&tag("VPC", "vpc-a", "a", "2")));
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "VPC"))[1], tag("VPC", "vpc-a", "a", "2"));
    assert!(ok(s, |tx| tx.tag_delete("VPC", "vpc-a", "z")));
    assert!(!ok(s, |tx| tx.tag_delete("VPC", "vpc-a", "z")));
    assert!(!ok(s, |tx| tx.tag_delete("VSWITCH", "vpc-a", "a")));
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "VPC")).len(), 3);
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "HAVIP")).len(), 1, "same resource id, other type: untouched");
}

/// A key has 1 to 128 characters and a value at most 128, counted in
/// characters (not bytes) on every backend.
pub fn resource_tag_keys_and_values_have_bounded_lengths_in_characters(s: &dyn Store) {
    let wide = "é".repeat(128);
    let (k, v) = (wide.clone(), wide.clone());
    ok(s, move |tx| tx.tag_put(&tag("VPC", "vpc-1", &k, &v)));
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "VPC")), vec![tag("VPC", "vpc-1", &wide, &wide)]);
    constraint(s, "empty key", |tx| tx.tag_put(&tag("VPC", "vpc-1", "", "v")));
    constraint(s, "129-character key", |tx| tx.tag_put(&tag("VPC", "vpc-1", &"k".repeat(129), "v")));
    constraint(s, "129-character value", |tx| tx.tag_put(&tag("VPC", "vpc-1", "k", &"é".repeat(129))));
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "VPC")).len(), 1);
}

/// Ids are unique; a VPC, vSwitch or security group needs its account (and
/// VPC); a VPC with a vSwitch left in it cannot go.
pub fn network_rows_need_their_parents_and_unique_ids(s: &dyn Store) {
    seed(s);
    unique(s, "same VPC id", |tx| tx.vpc_insert(&vpc(VPC, ACC2, 2)));
    unique(s, "same vSwitch id", |tx| tx.vswitch_insert(&vswitch(VSW, ACC, VPC, 2)));
    unique(s, "same security group id", |tx| tx.sg_insert(&sg(SG, ACC, None, 2)));
    constraint(s, "VPC of a missing account", |tx| tx.vpc_insert(&vpc("vpc-x", "acc-none", 2)));
    constraint(s, "vSwitch of a missing account", |tx| tx.vswitch_insert(&vswitch("vsw-x", "acc-none", VPC, 2)));
    constraint(s, "vSwitch of a missing VPC", |tx| tx.vswitch_insert(&vswitch("vsw-x", ACC, "vpc-none", 2)));
    constraint(s, "security group of a missing VPC", |tx| tx.sg_insert(&sg("sg-x", ACC, Some("vpc-none"), 2)));
    constraint(s, "security group of a missing account", |tx| tx.sg_insert(&sg("sg-x", "acc-none", None, 2)));
    constraint(s, "VPC with a vSwitch in it", |tx| tx.vpc_delete(VPC));
    assert!(read(s, |tx| tx.vpc_get(ACC, VPC)).is_some());
    ok(s, |tx| {
        tx.sg_delete(SG)?;
        tx.vswitch_delete(VSW)?;
        tx.vpc_delete(VPC)
    });
    assert_eq!(read(s, |tx| tx.vpc_list(ACC, R)), vec![]);
}
