"""LB-01 .. LB-03: EIPs and load balancers: CLB (SLB 2014-05-15) through
AssociateEipAddress, ALB (2020-06-16) and NLB (2022-04-30) only through their
own CreateLoadBalancer / UpdateLoadBalancerAddressTypeConfig
(docs/design/targets-contract.md, "Load balancers")."""

from __future__ import annotations

import ipaddress
import uuid

from alibabacloud_alb20200616 import models as alb_models
from alibabacloud_nlb20220430 import models as nlb_models

from conftest import (
    DEMO_ZONE,
    REGION,
    SECOND_ZONE,
    assert_pool_address,
    associate,
    capture_error,
    create_alb,
    create_nlb,
    delete_clb,
    describe_eips,
    eip_list,
    expect_error,
    get_alb,
    get_clb,
    get_eip,
    get_nlb,
    lb_zone_allocations,
    unassociate,
    update_alb_address_type,
    update_nlb_address_type,
    wait_alb,
    wait_nlb,
    wait_status,
)

ZONES = (DEMO_ZONE, SECOND_ZONE)


def _eips_on(vpc, aids, lb_id, kind):
    for aid in aids:
        e = wait_status(vpc, aid, "InUse")
        assert (e["InstanceId"], e["InstanceType"]) == (lb_id, kind), e
        assert e.get("InstanceRegionId") == REGION, e


def _available(vpc, aids):
    for aid in aids:
        e = wait_status(vpc, aid, "Available")
        assert not e.get("InstanceId"), e


# ---------------------------------------------------------------- LB-03 (CLB)

def test_lb_03_intranet_clb_takes_one_eip(vpc_v3, slb_v3, res):
    b = res.clb(v_switch_id=res.network.vsw_id, vpc_id=res.network.vpc_id)  # intranet by default
    lb = b["LoadBalancerId"]
    assert ipaddress.ip_address(b["Address"]) in ipaddress.ip_network("192.168.0.0/18"), b
    assert b.get("NetworkType") in (None, "vpc"), b
    d = get_clb(slb_v3, lb)
    assert (d["AddressType"], d["VSwitchId"], d["VpcId"]) == ("intranet", res.network.vsw_id,
                                                              res.network.vpc_id), d
    a, c = res.eip()["AllocationId"], res.eip()["AllocationId"]
    associate(vpc_v3, a, lb, instance_type="SlbInstance")
    _eips_on(vpc_v3, [a], lb, "SlbInstance")
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, c, lb, instance_type="SlbInstance")
    assert get_eip(vpc_v3, c)["Status"] == "Available"
    got = describe_eips(vpc_v3, associated_instance_type="SlbInstance", associated_instance_id=lb)
    assert [e["AllocationId"] for e in eip_list(got)] == [a], got
    unassociate(vpc_v3, a, lb, instance_type="SlbInstance")
    _available(vpc_v3, [a])
    associate(vpc_v3, c, lb, instance_type="SlbInstance")
    _eips_on(vpc_v3, [c], lb, "SlbInstance")


def test_lb_03_clb_with_explicit_private_address(slb_v3, res):
    b = res.clb(v_switch_id=res.network.vsw_id, vpc_id=res.network.vpc_id, address="192.168.44.44",
                address_type="intranet")
    assert b["Address"] == "192.168.44.44", b
    assert get_clb(slb_v3, b["LoadBalancerId"])["Address"] == "192.168.44.44"


def test_lb_03_internet_clb_refuses_eip(vpc_v3, slb_v3, res):
    b = res.clb(address_type="internet")
    lb = b["LoadBalancerId"]
    assert get_clb(slb_v3, lb)["AddressType"] == "internet"
    assert_pool_address(b["Address"])  # a public address of the region's pool
    aid = res.eip()["AllocationId"]
    expect_error(associate, 400, "OperationDenied.InternetLoadBalancer", vpc_v3, aid, lb, instance_type="SlbInstance")
    assert get_eip(vpc_v3, aid)["Status"] == "Available"


def test_lb_03_deleting_clb_unbinds_its_eip(vpc_v3, slb_v3, res):
    lb = res.clb(v_switch_id=res.network.vsw_id)["LoadBalancerId"]
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, lb, instance_type="SlbInstance")
    _eips_on(vpc_v3, [aid], lb, "SlbInstance")
    delete_clb(slb_v3, lb)
    assert get_clb(slb_v3, lb) is None
    _available(vpc_v3, [aid])


# ---------------------------------------------------------------- LB-01 (ALB / NLB across zones)

def test_lb_01_internet_alb_spans_zones_with_one_eip_each(vpc_v3, alb_v3, res):
    net = res.vpc_net(zones=ZONES)
    aids = [res.eip()["AllocationId"] for _ in ZONES]
    lb = res.alb(net.vpc_id, "Internet", list(zip(net.zones, net.vsw_ids, aids)), wait=False)
    assert lb.startswith("alb-")
    assert get_alb(alb_v3, lb)["LoadBalancerStatus"] == "Provisioning"
    attr = wait_alb(alb_v3, lb, "Active")
    assert (attr["AddressType"], attr["VpcId"]) == ("Internet", net.vpc_id), attr
    assert lb_zone_allocations(attr) == {z: [a] for z, a in zip(net.zones, aids)}, attr["ZoneMappings"]
    for zm in attr["ZoneMappings"]:
        assert zm["VSwitchId"] == net.vsw_ids[net.zones.index(zm["ZoneId"])], zm
        [addr] = zm["LoadBalancerAddresses"]
        assert addr["Address"] == get_eip(vpc_v3, addr["AllocationId"])["IpAddress"], addr
    _eips_on(vpc_v3, aids, lb, "Alb")
    listed = alb_v3.list_load_balancers(alb_models.ListLoadBalancersRequest(load_balancer_ids=[lb])).body.to_map()
    assert [x["LoadBalancerId"] for x in listed["LoadBalancers"]] == [lb], listed
    assert listed["LoadBalancers"][0]["AddressType"] == "Internet"


def test_lb_01_internet_nlb_spans_zones_with_one_eip_each(vpc_v3, nlb_v3, res):
    net = res.vpc_net(zones=ZONES)
    aids = [res.eip()["AllocationId"] for _ in ZONES]
    lb = res.nlb(net.vpc_id, "Internet", list(zip(net.zones, net.vsw_ids, aids)), wait=False)
    assert lb.startswith("nlb-")
    assert get_nlb(nlb_v3, lb)["LoadBalancerStatus"] == "Provisioning"
    attr = wait_nlb(nlb_v3, lb, "Active")
    assert (attr["AddressType"], attr["VpcId"]) == ("Internet", net.vpc_id), attr
    assert lb_zone_allocations(attr) == {z: [a] for z, a in zip(net.zones, aids)}, attr["ZoneMappings"]
    for zm in attr["ZoneMappings"]:
        [addr] = zm["LoadBalancerAddresses"]
        assert addr["PublicIPv4Address"] == get_eip(vpc_v3, addr["AllocationId"])["IpAddress"], addr
        cidr = net.cidrs[net.zones.index(zm["ZoneId"])]
        assert ipaddress.ip_address(addr["PrivateIPv4Address"]) in ipaddress.ip_network(cidr), addr
    _eips_on(vpc_v3, aids, lb, "Nlb")
    listed = nlb_v3.list_load_balancers(nlb_models.ListLoadBalancersRequest(
        load_balancer_ids=[lb], region_id=REGION)).body.to_map()
    assert [x["LoadBalancerId"] for x in listed["LoadBalancers"]] == [lb], listed


def test_lb_01_deleting_alb_and_nlb_frees_their_eips(vpc_v3, alb_v3, nlb_v3, res):
    net = res.vpc_net(zones=ZONES)
    a_aids = [res.eip()["AllocationId"] for _ in ZONES]
    n_aids = [res.eip()["AllocationId"] for _ in ZONES]
    alb = create_alb(alb_v3, net.vpc_id, "Internet", list(zip(net.zones, net.vsw_ids, a_aids)))
    res.albs.append(alb)
    nlb = create_nlb(nlb_v3, net.vpc_id, "Internet", list(zip(net.zones, net.vsw_ids, n_aids)))
    res.nlbs.append((nlb, REGION))
    wait_alb(alb_v3, alb, "Active"), wait_nlb(nlb_v3, nlb, "Active")
    _eips_on(vpc_v3, a_aids, alb, "Alb")
    _eips_on(vpc_v3, n_aids, nlb, "Nlb")
    alb_v3.delete_load_balancer(alb_models.DeleteLoadBalancerRequest(load_balancer_id=alb))
    nlb_v3.delete_load_balancer(nlb_models.DeleteLoadBalancerRequest(load_balancer_id=nlb, region_id=REGION))
    _available(vpc_v3, a_aids + n_aids)


# ---------------------------------------------------------------- LB-02

def test_lb_02_alb_eip_only_at_create_or_update(vpc_v3, alb_v3, res):
    net = res.vpc_net(zones=ZONES)
    lb = res.alb(net.vpc_id, "Intranet", [(z, v, None) for z, v in zip(net.zones, net.vsw_ids)])
    assert get_alb(alb_v3, lb)["AddressType"] == "Intranet"
    aids = [res.eip()["AllocationId"] for _ in ZONES]
    # not through the EIP API, whatever InstanceType says
    for kind in ("EcsInstance", "SlbInstance", None):
        expect_error(associate, 400, "BindInstance.NotSupported", vpc_v3, aids[0], lb, instance_type=kind)
    _available(vpc_v3, aids)
    # Intranet -> Internet attaches the zone EIPs
    b = update_alb_address_type(alb_v3, lb, "Internet", list(zip(net.zones, net.vsw_ids, aids)))
    assert b.get("JobId"), b
    _eips_on(vpc_v3, aids, lb, "Alb")
    # nor can the EIP API take them off (the contract names no code for this)
    err = capture_error(unassociate, vpc_v3, aids[0], lb, instance_type=None)
    assert err is not None and err.status == 400, err
    assert get_eip(vpc_v3, aids[0])["Status"] == "InUse"
    attr = wait_alb(alb_v3, lb, "Active")
    assert attr["AddressType"] == "Internet" and lb_zone_allocations(attr) == {
        z: [a] for z, a in zip(net.zones, aids)}, attr
    # and back: Internet -> Intranet releases them
    b = update_alb_address_type(alb_v3, lb, "Intranet")
    assert b.get("JobId"), b
    _available(vpc_v3, aids)
    attr = wait_alb(alb_v3, lb, "Active")
    assert attr["AddressType"] == "Intranet" and all(not v for v in lb_zone_allocations(attr).values()), attr


def test_lb_02_nlb_eip_only_at_create_or_update(vpc_v3, nlb_v3, res):
    net = res.vpc_net(zones=ZONES)
    lb = res.nlb(net.vpc_id, "Intranet", [(z, v, None) for z, v in zip(net.zones, net.vsw_ids)])
    aids = [res.eip()["AllocationId"] for _ in ZONES]
    expect_error(associate, 400, "BindInstance.NotSupported", vpc_v3, aids[0], lb, instance_type="EcsInstance")
    _available(vpc_v3, aids)
    b = update_nlb_address_type(nlb_v3, lb, "Internet", list(zip(net.zones, net.vsw_ids, aids)))
    assert b.get("JobId"), b
    _eips_on(vpc_v3, aids, lb, "Nlb")
    attr = wait_nlb(nlb_v3, lb, "Active")
    assert attr["AddressType"] == "Internet", attr
    b = update_nlb_address_type(nlb_v3, lb, "Intranet")
    assert b.get("JobId"), b
    _available(vpc_v3, aids)
    assert wait_nlb(nlb_v3, lb, "Active")["AddressType"] == "Intranet"


def test_lb_02_internet_alb_nlb_need_an_available_eip_per_zone(vpc_v3, alb_v3, nlb_v3, res, other_region):
    net = res.vpc_net(zones=ZONES)
    a = res.eip()["AllocationId"]
    one_missing = [(net.zones[0], net.vsw_ids[0], a), (net.zones[1], net.vsw_ids[1], None)]
    expect_error(create_alb, 400, "MissingParameter.ZoneMappings.N.AllocationId", alb_v3, net.vpc_id,
                 "Internet", one_missing)
    expect_error(create_nlb, 400, "MissingParameter.ZoneMappings.N.AllocationId", nlb_v3, net.vpc_id,
                 "Internet", one_missing)
    _available(vpc_v3, [a])
    # an EIP already in use elsewhere
    iid = res.instance()
    busy = res.eip()["AllocationId"]
    associate(vpc_v3, busy, iid)
    wait_status(vpc_v3, busy, "InUse")
    err = expect_error(create_alb, 400, "IncorrectEipStatus", alb_v3, net.vpc_id, "Internet",
                       [(net.zones[0], net.vsw_ids[0], a), (net.zones[1], net.vsw_ids[1], busy)])
    assert get_eip(vpc_v3, a)["Status"] == "Available", err  # nothing half-done
    assert get_eip(vpc_v3, busy)["InstanceId"] == iid
    # an EIP of another region (GEN-01's code)
    far = res.eip(region=other_region)["AllocationId"]
    expect_error(create_nlb, 400, "InvalidParameter.Mismatch", nlb_v3, net.vpc_id, "Internet",
                 [(net.zones[0], net.vsw_ids[0], a), (net.zones[1], net.vsw_ids[1], far)])
    assert get_eip(vpc_v3, a)["Status"] == "Available"
    assert get_eip(vpc_v3, far, other_region)["Status"] == "Available"


def test_lb_02_update_to_internet_needs_eips(vpc_v3, alb_v3, res):
    net = res.vpc_net(zones=ZONES)
    lb = res.alb(net.vpc_id, "Intranet", [(z, v, None) for z, v in zip(net.zones, net.vsw_ids)])
    expect_error(alb_v3.update_load_balancer_address_type_config, 400,
                 "MissingParameter.ZoneMappings.N.AllocationId",
                 alb_models.UpdateLoadBalancerAddressTypeConfigRequest(load_balancer_id=lb, address_type="Internet"))
    assert get_alb(alb_v3, lb)["AddressType"] == "Intranet"


def test_lb_03_create_clb_idempotent_with_client_token(slb_v3, res):
    token = f"lb-{uuid.uuid4().hex}"
    a = res.clb(v_switch_id=res.network.vsw_id, client_token=token)
    b = res.clb(v_switch_id=res.network.vsw_id, client_token=token)
    assert (a["LoadBalancerId"], a["Address"]) == (b["LoadBalancerId"], b["Address"])
