//! Load balancers (CLB, ALB, NLB), their zones, and CLB listeners and
//! backend servers.

use super::fixtures::*;
use super::harness::*;
use crate::*;
use eip_types::*;

fn zone(lb: &str, zone: &str, allocation: Option<&str>) -> LbZoneRow {
    LbZoneRow {
        lb_id: lb.into(),
        zone_id: zone.into(),
        vswitch_id: VSW.into(),
        private_ip: format!("10.1.0.{}", zone.len()),
        allocation_id: allocation.map(Into::into),
    }
}

/// A change that takes a listener out of Alibaba's ranges.
type Change = fn(&mut ClbListenerRow);

fn backend(lb: &str, server: &str, weight: i64) -> ClbBackendRow {
    ClbBackendRow { lb_id: lb.into(), server_id: server.into(), weight }
}

/// Load balancers round-trip, list per kind oldest first (in a region or
/// all), take an update and go with their zones, listeners, backends and tags.
pub fn load_balancers_round_trip_list_by_kind_and_delete_with_their_parts(s: &dyn Store) {
    seed(s);
    let clb_a = lb("lb-a", LoadBalancerKind::Clb, 20);
    let clb_b = LoadBalancerRow {
        vpc_id: None,
        vswitch_id: None,
        master_zone_id: None,
        delete_protection: false,
        address_type: LbAddressType::Intranet,
        ..lb("lb-B", LoadBalancerKind::Clb, 20)
    };
    let clb_r2 = LoadBalancerRow { region_id: R2.into(), ..lb("lb-r2", LoadBalancerKind::Clb, 1) };
    let alb = LoadBalancerRow {
        status: "Provisioning".into(),
        master_zone_id: None,
        ..lb("alb-1", LoadBalancerKind::Alb, 5)
    };
    let nlb = lb("nlb-1", LoadBalancerKind::Nlb, 5);
    let other = LoadBalancerRow { account_id: ACC2.into(), ..lb("lb-other", LoadBalancerKind::Clb, 1) };
    let put = [clb_a.clone(), clb_b.clone(), clb_r2.clone(), alb.clone(), nlb.clone(), other.clone()];
    ok(s, move |tx| put.iter().try_for_each(|l| tx.lb_insert(l)));
    assert_eq!(read(s, |tx| tx.lb_get("lb-B")), Some(clb_b.clone()));
    assert_eq!(read(s, |tx| tx.lb_get("alb-1")), Some(alb.clone()));
    assert_eq!(read(s, |tx| tx.lb_get("lb-other")), Some(other.clone()), "any account's load balancer");
    assert_eq!(read(s, |tx| tx.lb_get("lb-none")), None);
    assert_eq!(read(s, |tx| tx.lb_list(ACC, R, "clb")), vec![clb_b.clone(), clb_a.clone()]);
    assert_eq!(read(s, |tx| tx.lb_list(ACC, R, "alb")), vec![alb.clone()]);
    assert_eq!(read(s, |tx| tx.lb_list(ACC, R, "nlb")), vec![nlb.clone()]);
    assert_eq!(read(s, |tx| tx.lb_list(ACC, R2, "alb")), vec![]);
    assert_eq!(read(s, |tx| tx.lb_list(ACC2, R, "clb")), vec![other]);
    assert_eq!(read(s, |tx| tx.lb_list_all_regions(ACC, "clb")), vec![clb_r2.clone(), clb_b.clone(), clb_a.clone()]);
    assert_eq!(read(s, |tx| tx.lb_list_all_regions(ACC, "nlb")), vec![nlb]);

    let updated = LoadBalancerRow {
        address_type: LbAddressType::Intranet,
        address: "10.1.0.200".into(),
        name: text("renamed"),
        status: "active".into(),
        delete_protection: false,
        ..clb_a.clone()
    };
    let put = updated.clone();
    ok(s, move |tx| tx.lb_update(&put));
    assert_eq!(read(s, |tx| tx.lb_get("lb-a")), Some(updated.clone()));
    let active = LoadBalancerRow { status: "Active".into(), delete_protection: true, ..alb };
    let put = active.clone();
    ok(s, move |tx| tx.lb_update(&put));
    assert_eq!(read(s, |tx| tx.lb_get("alb-1")), Some(active));

    ok(s, |tx| {
        tx.clb_listener_put(&listener("lb-a", 80))?;
        tx.clb_backend_put(&backend("lb-a", "i-1", 100))?;
        tx.lb_zone_insert(&zone("alb-1", "cn-hangzhou-h", Some("eip-z")))?;
        tx.clb_listener_put(&listener("lb-B", 80))?;
        tx.tag_put(&TagRow {
            account_id: ACC.into(),
            resource_type: "SLB".into(),
            resource_id: "lb-a".into(),
            key: "k".into(),
            value: "v".into(),
        })
    });
    ok(s, |tx| {
        tx.lb_delete("lb-a")?;
        tx.lb_delete("alb-1")
    });
    assert_eq!(read(s, |tx| tx.lb_get("lb-a")), None);
    assert_eq!(read(s, |tx| tx.clb_listener_list("lb-a")), vec![]);
    assert_eq!(read(s, |tx| tx.clb_backend_list("lb-a")), vec![]);
    assert_eq!(read(s, |tx| tx.lb_zone_list("alb-1")), vec![]);
    assert_eq!(read(s, |tx| tx.tag_list(ACC, "SLB")), vec![]);
    assert_eq!(read(s, |tx| tx.clb_listener_list("lb-B")), vec![listener("lb-B", 80)], "other CLBs keep theirs");
    assert_eq!(read(s, |tx| tx.lb_list(ACC, R, "clb")), vec![clb_b]);
    // The zone's EIP is free for another zone again.
    ok(s, |tx| tx.lb_zone_insert(&zone("nlb-1", "cn-hangzhou-h", Some("eip-z"))));
}

/// Zones list by zone id and an update sets their EIP; a zone is added
/// once, and a zone EIP serves one zone of one load balancer.
pub fn lb_zones_list_by_zone_and_keep_their_eip_unique(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.lb_insert(&lb("alb-1", LoadBalancerKind::Alb, 1))?;
        tx.lb_insert(&lb("nlb-1", LoadBalancerKind::Nlb, 1))
    });
    ok(s, |tx| {
        tx.lb_zone_insert(&zone("alb-1", "cn-hangzhou-k", Some("eip-1")))?;
        tx.lb_zone_insert(&zone("alb-1", "cn-hangzhou-h", None))?;
        tx.lb_zone_insert(&zone("alb-1", "cn-hangzhou-i", Some("eip-2")))?;
        tx.lb_zone_insert(&zone("nlb-1", "cn-hangzhou-h", None))
    });
    assert_eq!(
        read(s, |tx| tx.lb_zone_list("alb-1")),
        vec![
            zone("alb-1", "cn-hangzhou-h", None),
            zone("alb-1", "cn-hangzhou-i", Some("eip-2")),
            zone("alb-1", "cn-hangzhou-k", Some("eip-1")),
        ]
    );
    ok(s, |tx| {
        tx.lb_zone_update(&zone("alb-1", "cn-hangzhou-h", Some("eip-3")))?;
        tx.lb_zone_update(&zone("alb-1", "cn-hangzhou-k", None))
    });
    assert_eq!(
        read(s, |tx| tx.lb_zone_list("alb-1")),
        vec![
            zone("alb-1", "cn-hangzhou-h", Some("eip-3")),
            zone("alb-1", "cn-hangzhou-i", Some("eip-2")),
            zone("alb-1", "cn-hangzhou-k", None),
        ]
    );
    assert_eq!(read(s, |tx| tx.lb_zone_list("nlb-1")), vec![zone("nlb-1", "cn-hangzhou-h", None)]);
    unique(s, "same zone twice", |tx| tx.lb_zone_insert(&zone("alb-1", "cn-hangzhou-h", None)));
    unique(s, "one EIP for two zones", |tx| tx.lb_zone_insert(&zone("nlb-1", "cn-hangzhou-i", Some("eip-2"))));
    unique(s, "update to a taken EIP", |tx| tx.lb_zone_update(&zone("nlb-1", "cn-hangzhou-h", Some("eip-3"))));
    constraint(s, "zone of a missing load balancer", |tx| tx.lb_zone_insert(&zone("alb-none", "cn-hangzhou-h", None)));
    constraint(s, "zone in a missing vSwitch", |tx| {
        tx.lb_zone_insert(&LbZoneRow { vswitch_id: "vsw-none".into(), ..zone("nlb-1", "cn-hangzhou-i", None) })
    });
    ok(s, |tx| tx.lb_zone_insert(&zone("nlb-1", "cn-hangzhou-i", Some("eip-1"))));
}

/// A put creates a listener or replaces every setting of the one on its
/// port; listeners list by port; a delete says whether there was one;
/// health check settings stay in Alibaba's ranges.
pub fn clb_listeners_are_replaced_by_port_and_health_checks_bounded(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.lb_insert(&lb("lb-1", LoadBalancerKind::Clb, 1))?;
        tx.lb_insert(&lb("lb-2", LoadBalancerKind::Clb, 1))
    });
    let off = ClbListenerRow {
        health_check: false,
        health_check_connect_port: None,
        status: "stopped".into(),
        bandwidth: 10,
        ..listener("lb-1", 443)
    };
    let put = off.clone();
    ok(s, move |tx| {
        tx.clb_listener_put(&listener("lb-1", 8080))?;
        tx.clb_listener_put(&put)?;
        tx.clb_listener_put(&listener("lb-1", 80))?;
        tx.clb_listener_put(&listener("lb-2", 80))
    });
    assert_eq!(read(s, |tx| tx.clb_listener_list("lb-1")), vec![listener("lb-1", 80), off, listener("lb-1", 8080)]);
    let edges = ClbListenerRow {
        backend_port: 1,
        health_check_connect_port: Some(65535),
        healthy_threshold: 10,
        unhealthy_threshold: 2,
        health_check_connect_timeout: 300,
        health_check_interval: 1,
        ..listener("lb-1", 443)
    };
    let put = edges.clone();
    ok(s, move |tx| tx.clb_listener_put(&put));
    let low = ClbListenerRow {
        health_check_connect_port: Some(1),
        healthy_threshold: 2,
        unhealthy_threshold: 10,
        health_check_connect_timeout: 1,
        health_check_interval: 50,
        ..listener("lb-1", 80)
    };
    let put = low.clone();
    ok(s, move |tx| tx.clb_listener_put(&put));
    assert_eq!(read(s, |tx| tx.clb_listener_list("lb-1")), vec![low, edges, listener("lb-1", 8080)]);
    assert_eq!(read(s, |tx| tx.clb_listener_list("lb-2")), vec![listener("lb-2", 80)]);

    let out_of_range: [(&str, Change); 10] = [
        ("healthy threshold 1", |l| l.healthy_threshold = 1),
        ("healthy threshold 11", |l| l.healthy_threshold = 11),
        ("unhealthy threshold 1", |l| l.unhealthy_threshold = 1),
        ("unhealthy threshold 11", |l| l.unhealthy_threshold = 11),
        ("connect timeout 0", |l| l.health_check_connect_timeout = 0),
        ("connect timeout 301", |l| l.health_check_connect_timeout = 301),
        ("interval 0", |l| l.health_check_interval = 0),
        ("interval 51", |l| l.health_check_interval = 51),
        ("connect port 0", |l| l.health_check_connect_port = Some(0)),
        ("connect port 65536", |l| l.health_check_connect_port = Some(65536)),
    ];
    for (what, change) in out_of_range {
        let mut bad = listener("lb-1", 9999);
        change(&mut bad);
        constraint(s, what, move |tx| tx.clb_listener_put(&bad));
        let mut bad = listener("lb-1", 80);
        change(&mut bad);
        constraint(s, what, move |tx| tx.clb_listener_put(&bad));
    }
    constraint(s, "listener of a missing load balancer", |tx| tx.clb_listener_put(&listener("lb-none", 80)));

    assert!(ok(s, |tx| tx.clb_listener_delete("lb-1", 443)));
    assert!(!ok(s, |tx| tx.clb_listener_delete("lb-1", 443)));
    assert!(!ok(s, |tx| tx.clb_listener_delete("lb-none", 80)));
    assert_eq!(read(s, |tx| tx.clb_listener_list("lb-1")).iter().map(|l| l.port).collect::<Vec<_>>(), [80, 8080]);
}

/// A put adds a backend or changes its weight; backends list by server id;
/// a delete says whether the server was one.
pub fn clb_backends_are_reweighted_and_listed_by_server(s: &dyn Store) {
    seed(s);
    ok(s, |tx| {
        tx.lb_insert(&lb("lb-1", LoadBalancerKind::Clb, 1))?;
        tx.lb_insert(&lb("lb-2", LoadBalancerKind::Clb, 1))
    });
    ok(s, |tx| {
        tx.clb_backend_put(&backend("lb-1", "i-c", 100))?;
        tx.clb_backend_put(&backend("lb-1", "i-a", 0))?;
        tx.clb_backend_put(&backend("lb-1", "i-B", 50))?;
        tx.clb_backend_put(&backend("lb-2", "i-a", 1))
    });
    assert_eq!(
        read(s, |tx| tx.clb_backend_list("lb-1")),
        vec![backend("lb-1", "i-B", 50), backend("lb-1", "i-a", 0), backend("lb-1", "i-c", 100)]
    );
    ok(s, |tx| tx.clb_backend_put(&backend("lb-1", "i-a", 75)));
    assert_eq!(read(s, |tx| tx.clb_backend_list("lb-1"))[1], backend("lb-1", "i-a", 75));
    assert!(ok(s, |tx| tx.clb_backend_delete("lb-1", "i-a")));
    assert!(!ok(s, |tx| tx.clb_backend_delete("lb-1", "i-a")));
    assert_eq!(
        read(s, |tx| tx.clb_backend_list("lb-1")),
        vec![backend("lb-1", "i-B", 50), backend("lb-1", "i-c", 100)]
    );
    assert_eq!(read(s, |tx| tx.clb_backend_list("lb-2")), vec![backend("lb-2", "i-a", 1)]);
    constraint(s, "backend of a missing load balancer", |tx| tx.clb_backend_put(&backend("lb-none", "i-a", 1)));
}

/// Ids are unique; an ALB or NLB lives in a VPC; the status is one the
/// controller writes; parents exist.
pub fn load_balancer_constraints_hold(s: &dyn Store) {
    seed(s);
    ok(s, |tx| tx.lb_insert(&lb("lb-1", LoadBalancerKind::Clb, 1)));
    unique(s, "same id", |tx| tx.lb_insert(&lb("lb-1", LoadBalancerKind::Alb, 2)));
    constraint(s, "ALB outside a VPC", |tx| {
        tx.lb_insert(&LoadBalancerRow { vpc_id: None, vswitch_id: None, ..lb("alb-1", LoadBalancerKind::Alb, 2) })
    });
    constraint(s, "NLB outside a VPC", |tx| {
        tx.lb_insert(&LoadBalancerRow { vpc_id: None, ..lb("nlb-1", LoadBalancerKind::Nlb, 2) })
    });
    constraint(s, "a status shown but never stored", |tx| {
        tx.lb_insert(&LoadBalancerRow { status: "Configuring".into(), ..lb("alb-1", LoadBalancerKind::Alb, 2) })
    });
    let bad = LoadBalancerRow { status: "inactive".into(), ..lb("lb-1", LoadBalancerKind::Clb, 1) };
    constraint(s, "update to an unknown status", move |tx| tx.lb_update(&bad));
    constraint(s, "missing VPC", |tx| {
        tx.lb_insert(&LoadBalancerRow { vpc_id: Some("vpc-none".into()), ..lb("lb-2", LoadBalancerKind::Clb, 2) })
    });
    constraint(s, "missing vSwitch", |tx| {
        tx.lb_insert(&LoadBalancerRow { vswitch_id: Some("vsw-none".into()), ..lb("lb-2", LoadBalancerKind::Clb, 2) })
    });
    constraint(s, "missing account", |tx| {
        tx.lb_insert(&LoadBalancerRow { account_id: "acc-none".into(), ..lb("lb-2", LoadBalancerKind::Clb, 2) })
    });
    ok(s, |tx| {
        tx.lb_insert(&LoadBalancerRow { vpc_id: None, vswitch_id: None, ..lb("lb-2", LoadBalancerKind::Clb, 2) })
    });
    assert_eq!(read(s, |tx| tx.lb_list(ACC, R, "clb")).len(), 2);
    assert_eq!(read(s, |tx| tx.lb_list(ACC, R, "alb")), vec![]);
    constraint(s, "vSwitch with a load balancer in it", |tx| tx.vswitch_delete(VSW));
    assert_eq!(read(s, |tx| tx.lb_get("lb-1")).map(|l| l.status), Some("active".into()));
}
