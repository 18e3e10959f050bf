//! Elastic IPs: rows with their tags, the lookups association rules make,
//! `DescribeEipAddresses` (`eip_query`), and the constraints that keep an
//! association legal (GEN-02, GEN-04, ECS-02, LB-03, HA-03, ENI-03, VIS-01)
//! even when a rule in the controller is skipped.

use super::fixtures::*;
use super::harness::*;
use crate::*;
use AssociatedInstanceType as K;
use eip_types::*;

fn ids(rows: &[EipRow]) -> Vec<&str> {
    rows.iter().map(|r| r.id.as_str()).collect()
}

/// An EIP reads back with every column and its tags sorted by key, from
/// any account; a delete takes the tags along.
pub fn eips_round_trip_with_tags_sorted_by_key(s: &dyn Store) {
    seed(s);
    let plain = eip("eip-1", "198.18.0.1", 10);
    let full = EipRow {
        tags: tags(&[("zeta", "last"), ("Alpha", ""), ("alpha", &text("v"))]),
        deletion_protection: true,
        expired_at: None,
        charge_type: ChargeType::PrePaid,
        internet_charge_type: InternetChargeType::PayByBandwidth,
        bandwidth: 200,
        version: 7,
        ..associated(
            eip("eip-2", "198.18.0.2", 20),
            AssociatedInstanceType::NetworkInterface,
            "eni-1",
            Some(EipMode::Nat),
            Some("10.1.0.5"),
        )
    };
    let other = EipRow { account_id: ACC2.into(), ..eip("eip-3", "198.18.0.3", 30) };
    let elsewhere = EipRow { region_id: R2.into(), ..eip("eip-4", "198.18.0.4", 40) };
    let put = [plain.clone(), full.clone(), other.clone(), elsewhere];
    ok(s, move |tx| put.iter().try_for_each(|e| tx.eip_insert(e)));
    assert_eq!(read(s, |tx| tx.eip_get("eip-1")), Some(plain.clone()));
    let sorted_tags = tags(&[("Alpha", ""), ("alpha", &text("v")), ("zeta", "last")]);
    assert_eq!(read(s, |tx| tx.eip_get("eip-2")), Some(EipRow { tags: sorted_tags, ..full.clone() }));
    assert_eq!(read(s, |tx| tx.eip_get("eip-3")), Some(other));
    assert_eq!(read(s, |tx| tx.eip_get("eip-none")), None);
    assert_eq!(read(s, |tx| Ok((tx.eip_count(ACC, R)?, tx.eip_count(ACC2, R)?, tx.eip_count(ACC, R2)?))), (2, 1, 1));
    assert_eq!(read(s, |tx| Ok((tx.eip_count_all_regions(ACC)?, tx.eip_count_all_regions(ACC2)?))), (3, 1));

    ok(s, |tx| tx.eip_delete("eip-2"));
    assert_eq!(read(s, |tx| tx.eip_get("eip-2")), None);
    assert_eq!(read(s, |tx| tx.eip_count(ACC, R)), 1);
    // A new EIP with the same id starts without the old tags.
    let again = eip("eip-2", "198.18.0.2", 40);
    let put = again.clone();
    ok(s, move |tx| tx.eip_insert(&put));
    assert_eq!(read(s, |tx| tx.eip_get("eip-2")), Some(again));
}

/// `eip_update` writes the columns an action changes and leaves the tags;
/// `eip_tags_set` replaces the tags; `eip_set_resource_group` moves it.
pub fn eip_updates_leave_tags_alone_and_tags_are_replaced_whole(s: &dyn Store) {
    seed(s);
    let row = EipRow { tags: tags(&[("a", "1"), ("b", "2")]), ..eip("eip-1", "198.18.0.1", 10) };
    let put = row.clone();
    ok(s, move |tx| tx.eip_insert(&put));
    let updated = EipRow {
        name: "renamed".into(),
        description: text("d2"),
        bandwidth: 50,
        internet_charge_type: InternetChargeType::PayByBandwidth,
        expired_at: None,
        deletion_protection: true,
        version: 2,
        ..associated(row.clone(), AssociatedInstanceType::EcsInstance, "i-1", Some(EipMode::Nat), Some("10.1.0.5"))
    };
    let put = EipRow { tags: tags(&[("ignored", "by update")]), ..updated.clone() };
    ok(s, move |tx| tx.eip_update(&put));
    assert_eq!(read(s, |tx| tx.eip_get("eip-1")), Some(updated.clone()));

    let released = EipRow {
        status: EipStatus::Unassociating,
        private_ip: None,
        private_vswitch_id: None,
        mode: None,
        version: 3,
        ..updated.clone()
    };
    let put = released.clone();
    ok(s, move |tx| tx.eip_update(&put));
    assert_eq!(read(s, |tx| tx.eip_get("eip-1")), Some(released.clone()));

    ok(s, |tx| tx.eip_tags_set("eip-1", &tags(&[("z", ""), ("c", "3")])));
    let want = EipRow { tags: tags(&[("c", "3"), ("z", "")]), ..released.clone() };
    assert_eq!(read(s, |tx| tx.eip_get("eip-1")), Some(want));
    ok(s, |tx| tx.eip_set_resource_group("eip-1", "rg-2"));
    ok(s, |tx| tx.eip_tags_set("eip-1", &[]));
    let want = EipRow { tags: vec![], resource_group_id: "rg-2".into(), ..released };
    assert_eq!(read(s, |tx| tx.eip_get("eip-1")), Some(want));
}

/// EIPs are found by their target (with tags), by the private address they
/// map to (any mode), and all associated ones without tags.
pub fn eips_are_found_by_target_private_ip_and_association(s: &dyn Store) {
    seed(s);
    let t = tags(&[("k", "v")]);
    let free = EipRow { tags: t.clone(), ..eip("eip-free", "198.18.0.1", 1) };
    let on_ecs = EipRow {
        tags: t.clone(),
        ..associated(
            eip("eip-ecs", "198.18.0.2", 2),
            AssociatedInstanceType::EcsInstance,
            "i-1",
            Some(EipMode::Nat),
            Some("10.1.0.5"),
        )
    };
    let multi_a = associated(
        eip("eip-ma", "198.18.0.3", 3),
        AssociatedInstanceType::NetworkInterface,
        "eni-1",
        Some(EipMode::MultiBinded),
        Some("10.1.0.6"),
    );
    let multi_b = EipRow {
        tags: t.clone(),
        ..associated(
            eip("eip-mb", "198.18.0.4", 4),
            AssociatedInstanceType::NetworkInterface,
            "eni-1",
            Some(EipMode::MultiBinded),
            Some("10.1.0.6"),
        )
    };
    let on_nat = associated(eip("eip-nat", "198.18.0.5", 5), AssociatedInstanceType::Nat, "ngw-1", None, None);
    let put = [free.clone(), on_ecs.clone(), multi_a.clone(), multi_b.clone(), on_nat.clone()];
    ok(s, move |tx| put.iter().try_for_each(|e| tx.eip_insert(e)));
    let by_id = |r: &EipRow| r.id.clone();
    assert_eq!(read(s, |tx| tx.eip_list_by_target("i-1")), vec![on_ecs.clone()]);
    assert_eq!(sorted_by(read(s, |tx| tx.eip_list_by_target("eni-1")), by_id), vec![multi_a.clone(), multi_b.clone()]);
    assert_eq!(read(s, |tx| tx.eip_list_by_target("i-none")), vec![]);
    assert_eq!(read(s, |tx| tx.eip_list_by_private_ip(VSW, "10.1.0.5")), vec![on_ecs.clone()]);
    assert_eq!(
        sorted_by(read(s, |tx| tx.eip_list_by_private_ip(VSW, "10.1.0.6")), by_id),
        vec![multi_a.clone(), multi_b.clone()]
    );
    assert_eq!(read(s, |tx| tx.eip_list_by_private_ip("vsw-other", "10.1.0.5")), vec![]);
    let bare = |r: &EipRow| EipRow { tags: vec![], ..r.clone() };
    assert_eq!(
        sorted_by(read(s, |tx| tx.eip_list_associated()), by_id),
        vec![bare(&on_ecs), bare(&multi_a), bare(&multi_b), bare(&on_nat)]
    );
}

/// The data set of the `eip_query` cases: (rows, in insertion order).
fn query_rows() -> Vec<EipRow> {
    vec![
        EipRow {
            name: "alpha".into(),
            resource_group_id: "rg-1".into(),
            tags: tags(&[("env", "prod"), ("team", "a")]),
            ..eip("eip-1", "198.18.0.1", 100)
        },
        EipRow {
            name: "beta".into(),
            isp: "BGP_PRO".into(),
            resource_group_id: "rg-2".into(),
            charge_type: ChargeType::PrePaid,
            tags: tags(&[("env", "dev")]),
            ..associated(eip("eip-2", "198.18.0.2", 200), AssociatedInstanceType::EcsInstance, "i-1", None, None)
        },
        EipRow {
            name: "alpha".into(),
            tags: tags(&[("team", "b")]),
            ..associated(
                eip("eip-3", "198.18.0.3", 300),
                AssociatedInstanceType::NetworkInterface,
                "eni-1",
                Some(EipMode::Nat),
                Some("10.1.0.5"),
            )
        },
        EipRow { name: "alpha".into(), ..eip("eip-4", "198.18.0.4", 300) },
        EipRow { region_id: R2.into(), ..eip("eip-r2", "198.18.0.5", 150) },
        EipRow { account_id: ACC2.into(), ..eip("eip-acc2", "198.18.0.6", 150) },
    ]
}

/// Every filter of `eip_query` narrows the account's EIPs in the region;
/// rows come with their tags, newest first.
pub fn eip_query_filters_every_field(s: &dyn Store) {
    seed(s);
    let rows = query_rows();
    let put = rows.clone();
    ok(s, move |tx| put.iter().try_for_each(|e| tx.eip_insert(e)));
    let base = EipQuery { account_id: ACC.into(), region_id: R.into(), limit: 50, ..Default::default() };
    let run = |q: EipQuery| read(s, move |tx| tx.eip_query(&q));
    let found = |q: EipQuery| {
        let (total, page) = run(q);
        assert_eq!(total, page.len() as i64, "every match is on the one page");
        page.iter().map(|r| r.id.clone()).collect::<Vec<_>>()
    };
    let (total, page) = run(base.clone());
    assert_eq!(total, 4);
    assert_eq!(ids(&page), ["eip-4", "eip-3", "eip-2", "eip-1"], "newest first, ties by id descending");
    assert_eq!(page[3], rows[0], "with every column and the tags");
    assert_eq!(page[1], rows[2]);

    let q = |f: &dyn Fn(&mut EipQuery)| {
        let mut q = base.clone();
        f(&mut q);
        found(q)
    };
    assert_eq!(
        q(&|q| q.ids = vec!["eip-1".into(), "eip-3".into(), "eip-r2".into(), "eip-acc2".into()]),
        ["eip-3", "eip-1"]
    );
    assert_eq!(q(&|q| q.ips = vec!["198.18.0.2".into(), "198.18.0.9".into()]), ["eip-2"]);
    assert_eq!(q(&|q| q.status = Some(EipStatus::InUse)), ["eip-3", "eip-2"]);
    assert_eq!(q(&|q| q.status = Some(EipStatus::Releasing)), Vec::<String>::new());
    assert_eq!(q(&|q| q.instance_type = Some(AssociatedInstanceType::EcsInstance)), ["eip-2"]);
    assert_eq!(q(&|q| q.instance_id = Some("eni-1".into())), ["eip-3"]);
    assert_eq!(q(&|q| q.charge_type = Some(ChargeType::PrePaid)), ["eip-2"]);
    assert_eq!(q(&|q| q.isp = Some("BGP".into())), ["eip-4", "eip-3", "eip-1"]);
    assert_eq!(q(&|q| q.name = Some("alpha".into())), ["eip-4", "eip-3", "eip-1"]);
    assert_eq!(q(&|q| q.name = Some("Alpha".into())), Vec::<String>::new(), "names match exactly");
    assert_eq!(q(&|q| q.resource_group_id = Some("rg-default".into())), ["eip-4", "eip-3"]);
    assert_eq!(q(&|q| q.tags = tags(&[("env", "prod")])), ["eip-1"]);
    assert_eq!(q(&|q| q.tags = tags(&[("env", "")])), ["eip-2", "eip-1"], "a key without a value matches any value");
    assert_eq!(q(&|q| q.tags = tags(&[("env", ""), ("team", "")])), ["eip-1"], "every tag must be there");
    assert_eq!(q(&|q| q.tags = tags(&[("env", "prod"), ("team", "b")])), Vec::<String>::new());
    assert_eq!(q(&|q| q.created_from = Some(200)), ["eip-4", "eip-3", "eip-2"], "from is inclusive");
    assert_eq!(q(&|q| q.created_to = Some(200)), ["eip-2", "eip-1"], "to is inclusive");
    assert_eq!(
        q(&|q| {
            q.created_from = Some(101);
            q.created_to = Some(299)
        }),
        ["eip-2"]
    );
    assert_eq!(
        q(&|q| {
            q.name = Some("alpha".into());
            q.status = Some(EipStatus::Available);
            q.ids = vec!["eip-1".into(), "eip-4".into()];
        }),
        ["eip-4", "eip-1"]
    );
    let other = EipQuery { account_id: ACC2.into(), ..base.clone() };
    assert_eq!(found(other), ["eip-acc2"]);
    let elsewhere = EipQuery { region_id: R2.into(), ..base };
    assert_eq!(found(elsewhere), ["eip-r2"]);
}

/// Pages are slices of the newest-first order; the total counts every
/// match whatever the page (full, short, empty past the end).
pub fn eip_query_pages_newest_first_with_the_total(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        for i in 0..25 {
            let mut row = eip(&format!("eip-{i:02}"), &format!("198.18.0.{i}"), 1000 + i);
            if i % 2 == 0 {
                row.tags = tags(&[("even", "yes")]);
            }
            tx.eip_insert(&row)?;
        }
        // Not this account's: never counted.
        tx.eip_insert(&EipRow { account_id: ACC2.into(), ..eip("eip-x", "198.18.1.1", 5000) })
    });
    let page = |offset: i64, limit: i64, even: bool| {
        let q = EipQuery {
            account_id: ACC.into(),
            region_id: R.into(),
            offset,
            limit,
            tags: if even { tags(&[("even", "yes")]) } else { vec![] },
            ..Default::default()
        };
        let (total, rows) = read(s, move |tx| tx.eip_query(&q));
        (total, rows.iter().map(|r| r.allocated_at - 1000).collect::<Vec<_>>())
    };
    let newest: Vec<i64> = (0..25).rev().collect();
    assert_eq!(page(0, 10, false), (25, newest[..10].to_vec()), "full first page");
    assert_eq!(page(10, 10, false), (25, newest[10..20].to_vec()), "full middle page");
    assert_eq!(page(15, 10, false), (25, newest[15..25].to_vec()), "full last page");
    assert_eq!(page(20, 10, false), (25, newest[20..].to_vec()), "short last page");
    assert_eq!(page(0, 100, false), (25, newest.clone()), "everything on one page");
    assert_eq!(page(30, 10, false), (25, vec![]), "past the end");
    assert_eq!(page(0, 5, true), (13, vec![24, 22, 20, 18, 16]));
    assert_eq!(page(10, 5, true), (13, vec![4, 2, 0]));
    assert_eq!(page(13, 5, true), (13, vec![]));
}

/// One EIP per id and per address (GEN-02); an EIP needs its account.
pub fn eips_are_unique_per_id_and_address(s: &dyn Store) {
    seed(s);
    ok(s, |tx| tx.eip_insert(&eip("eip-1", "198.18.0.1", 1)));
    unique(s, "same id", |tx| tx.eip_insert(&eip("eip-1", "198.18.0.2", 2)));
    unique(s, "same address", |tx| tx.eip_insert(&eip("eip-2", "198.18.0.1", 2)));
    constraint(s, "missing account", |tx| {
        tx.eip_insert(&EipRow { account_id: "acc-none".into(), ..eip("eip-2", "198.18.0.2", 2) })
    });
    constraint(s, "bandwidth 0", |tx| tx.eip_insert(&EipRow { bandwidth: 0, ..eip("eip-2", "198.18.0.2", 2) }));
    assert_eq!(read(s, |tx| tx.eip_count(ACC, R)), 1);
}

/// EIP number `n`, unassociated.
fn e(n: u8) -> EipRow {
    eip(&format!("eip-{n}"), &format!("198.18.0.{n}"), i64::from(n))
}

/// EIP number `n`, associated.
fn on(n: u8, kind: AssociatedInstanceType, target: &str, mode: Option<EipMode>, ip: Option<&str>) -> EipRow {
    associated(e(n), kind, target, mode, ip)
}

/// A target is recorded exactly while associating, in use or unassociating
/// (GEN-04), with its kind, and a private address only with its vSwitch and
/// a target; the partial unique indexes allow one EIP per ECS instance, CLB
/// or HaVip, per NAT-mode private address and per BINDED ENI, and any
/// number in MULTI_BINDED mode or on a NAT gateway.
pub fn eip_association_constraints_hold(s: &dyn Store) {
    seed(s);
    constraint(s, "InUse without a target", |tx| tx.eip_insert(&EipRow { status: EipStatus::InUse, ..e(1) }));
    constraint(s, "Available with a target", |tx| {
        tx.eip_insert(&EipRow { status: EipStatus::Available, ..on(1, K::EcsInstance, "i-1", None, None) })
    });
    constraint(s, "target without a kind", |tx| {
        tx.eip_insert(&EipRow { instance_type: None, ..on(1, K::EcsInstance, "i-1", None, None) })
    });
    constraint(s, "private IP without its vSwitch", |tx| {
        tx.eip_insert(&EipRow { private_vswitch_id: None, ..on(1, K::EcsInstance, "i-1", None, Some("10.1.0.5")) })
    });
    constraint(s, "private IP without a target", |tx| {
        tx.eip_insert(&EipRow { private_ip: Some("10.1.0.5".into()), private_vswitch_id: Some(VSW.into()), ..e(1) })
    });
    ok(s, |tx| tx.eip_insert(&e(1)));
    let bad = EipRow { status: EipStatus::Associating, ..e(1) };
    constraint(s, "update to associating without a target", move |tx| tx.eip_update(&bad));

    ok(s, |tx| {
        tx.eip_insert(&on(2, K::EcsInstance, "i-1", Some(EipMode::Nat), Some("10.1.0.5")))?;
        tx.eip_insert(&on(3, K::SlbInstance, "lb-1", None, None))?;
        tx.eip_insert(&on(4, K::HaVip, "havip-1", None, None))?;
        tx.eip_insert(&on(5, K::NetworkInterface, "eni-1", Some(EipMode::Binded), Some("10.1.0.7")))
    });
    unique(s, "second EIP on an ECS instance (ECS-02)", |tx| tx.eip_insert(&on(10, K::EcsInstance, "i-1", None, None)));
    unique(s, "second EIP on a CLB (LB-03)", |tx| tx.eip_insert(&on(10, K::SlbInstance, "lb-1", None, None)));
    unique(s, "second EIP on a HaVip (HA-03)", |tx| tx.eip_insert(&on(10, K::HaVip, "havip-1", None, None)));
    unique(s, "a second NAT-mode EIP on one private IP (ENI-03)", |tx| {
        tx.eip_insert(&on(10, K::NetworkInterface, "eni-2", Some(EipMode::Nat), Some("10.1.0.5")))
    });
    unique(s, "a second EIP on a BINDED ENI (VIS-01)", |tx| {
        tx.eip_insert(&on(10, K::NetworkInterface, "eni-1", Some(EipMode::Binded), Some("10.1.0.8")))
    });
    let moved = on(1, K::EcsInstance, "i-1", None, None);
    unique(s, "an update onto a taken ECS instance", move |tx| tx.eip_update(&moved));
    ok(s, |tx| {
        tx.eip_insert(&on(11, K::NetworkInterface, "eni-3", Some(EipMode::MultiBinded), Some("10.1.0.9")))?;
        tx.eip_insert(&on(12, K::NetworkInterface, "eni-3", Some(EipMode::MultiBinded), Some("10.1.0.9")))?;
        tx.eip_insert(&on(13, K::Nat, "ngw-1", None, None))?;
        tx.eip_insert(&on(14, K::Nat, "ngw-1", None, None))?;
        tx.eip_insert(&on(15, K::NetworkInterface, "eni-4", Some(EipMode::Nat), Some("10.1.0.10")))?;
        tx.eip_insert(&on(16, K::NetworkInterface, "eni-4", Some(EipMode::Nat), Some("10.1.0.11")))
    });
    assert_eq!(read(s, |tx| tx.eip_count(ACC, R)), 11);
    assert_eq!(read(s, |tx| tx.eip_get("eip-10")), None);
}

/// A tag key appears once per EIP, and tags need their EIP.
pub fn eip_tags_belong_to_an_eip_and_have_unique_keys(s: &dyn Store) {
    seed(s);
    unique(s, "one key twice on insert", |tx| {
        tx.eip_insert(&EipRow { tags: tags(&[("k", "1"), ("k", "2")]), ..eip("eip-1", "198.18.0.1", 1) })
    });
    assert_eq!(read(s, |tx| tx.eip_get("eip-1")), None, "the EIP went with its tags");
    ok(s, |tx| tx.eip_insert(&eip("eip-1", "198.18.0.1", 1)));
    unique(s, "one key twice on set", |tx| tx.eip_tags_set("eip-1", &tags(&[("k", "1"), ("k", "1")])));
    constraint(s, "tags of a missing EIP", |tx| tx.eip_tags_set("eip-none", &tags(&[("k", "1")])));
    assert_eq!(read(s, |tx| tx.eip_get("eip-1")).map(|e| e.tags), Some(vec![]));
}
