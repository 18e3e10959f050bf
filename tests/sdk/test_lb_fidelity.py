"""Load balancer fidelity: ALB/NLB address-type changes settle through a
`Configuring` status (LB-02), CreateLoadBalancer checks its required and
enumerated parameters (ALB 2020-06-16 / NLB 2022-04-30), deletion protection
(CLB `DeleteProtection`, ALB `DeletionProtectionEnabled`) and the CLB's master
zone."""

from __future__ import annotations

import uuid

from alibabacloud_alb20200616 import models as alb_models
from alibabacloud_slb20140515 import models as slb_models

from conftest import (
    DEMO_ZONE,
    REGION,
    SECOND_ZONE,
    capture_error,
    create_alb,
    create_nlb,
    delete_clb,
    expect_error,
    get_alb,
    get_clb,
    get_eip,
    get_nlb,
    lb_zone_allocations,
    update_alb_address_type,
    update_nlb_address_type,
    wait_alb,
    wait_nlb,
    wait_status,
)

ZONES = (DEMO_ZONE, SECOND_ZONE)


def _zm(net, aids):
    return list(zip(net.zones, net.vsw_ids, aids))


# ---------------------------------------------------------------- LB-02: Configuring

def test_lb_02_alb_internet_intranet_internet_is_refused_while_configuring(vpc_v3, alb_v3, res):
    net = res.vpc_net(zones=ZONES)
    old = [res.eip()["AllocationId"] for _ in ZONES]
    new = [res.eip()["AllocationId"] for _ in ZONES]
    lb = res.alb(net.vpc_id, "Internet", list(zip(net.zones, net.vsw_ids, old)))
    assert update_alb_address_type(alb_v3, lb, "Intranet").get("JobId")
    # the old EIPs are still unassociating: the ALB is Configuring and a
    # second change is refused (never a 500)
    assert get_alb(alb_v3, lb)["LoadBalancerStatus"] == "Configuring"
    expect_error(update_alb_address_type, 400, "IncorrectStatus.LoadBalancer", alb_v3, lb, "Internet", _zm(net, new))
    expect_error(alb_v3.delete_load_balancer, 400, "IncorrectStatus.LoadBalancer",
                 alb_models.DeleteLoadBalancerRequest(load_balancer_id=lb))
    for a in new:
        assert get_eip(vpc_v3, a)["Status"] == "Available"
    for a in old:
        wait_status(vpc_v3, a, "Available")
    attr = wait_alb(alb_v3, lb, "Active")
    assert attr["AddressType"] == "Intranet"
    # once Active, the change back to Internet with the new EIPs works
    assert update_alb_address_type(alb_v3, lb, "Internet", _zm(net, new)).get("JobId")
    assert get_alb(alb_v3, lb)["LoadBalancerStatus"] == "Configuring"
    for a in new:
        e = wait_status(vpc_v3, a, "InUse")
        assert e["InstanceId"] == lb, e
    attr = wait_alb(alb_v3, lb, "Active")
    assert attr["AddressType"] == "Internet"
    assert lb_zone_allocations(attr) == {z: [a] for z, a in zip(net.zones, new)}, attr


def test_lb_02_nlb_internet_intranet_internet_is_refused_while_configuring(vpc_v3, nlb_v3, res):
    net = res.vpc_net(zones=ZONES)
    old = [res.eip()["AllocationId"] for _ in ZONES]
    new = [res.eip()["AllocationId"] for _ in ZONES]
    lb = res.nlb(net.vpc_id, "Internet", list(zip(net.zones, net.vsw_ids, old)))
    assert update_nlb_address_type(nlb_v3, lb, "Intranet").get("JobId")
    assert get_nlb(nlb_v3, lb)["LoadBalancerStatus"] == "Configuring"
    expect_error(update_nlb_address_type, 400, "IncorrectStatus.LoadBalancer", nlb_v3, lb, "Internet", _zm(net, new))
    for a in old:
        wait_status(vpc_v3, a, "Available")
    wait_nlb(nlb_v3, lb, "Active")
    assert update_nlb_address_type(nlb_v3, lb, "Internet", _zm(net, new)).get("JobId")
    for a in new:
        wait_status(vpc_v3, a, "InUse")
    attr = wait_nlb(nlb_v3, lb, "Active")
    assert attr["AddressType"] == "Internet"
    assert lb_zone_allocations(attr) == {z: [a] for z, a in zip(net.zones, new)}, attr


def test_lb_02_internet_to_internet_with_new_eips_is_refused(vpc_v3, alb_v3, nlb_v3, res):
    net = res.vpc_net(zones=ZONES)
    a_old = [res.eip()["AllocationId"] for _ in ZONES]
    n_old = [res.eip()["AllocationId"] for _ in ZONES]
    new = [res.eip()["AllocationId"] for _ in ZONES]
    alb = res.alb(net.vpc_id, "Internet", list(zip(net.zones, net.vsw_ids, a_old)))
    nlb = res.nlb(net.vpc_id, "Internet", list(zip(net.zones, net.vsw_ids, n_old)))
    err = expect_error(update_alb_address_type, 400, "InvalidParameter", alb_v3, alb, "Internet", _zm(net, new))
    assert "AllocationId" in err.message, err
    expect_error(update_nlb_address_type, 400, "InvalidParameter", nlb_v3, nlb, "Internet", _zm(net, new))
    for a in new:
        assert get_eip(vpc_v3, a)["Status"] == "Available"
    assert lb_zone_allocations(get_alb(alb_v3, alb)) == {z: [a] for z, a in zip(net.zones, a_old)}


# ---------------------------------------------------------------- CreateLoadBalancer parameters

def _raw_alb_create(alb_v3, net, **kw):
    zm = [alb_models.CreateLoadBalancerRequestZoneMappings(zone_id=z, v_switch_id=v)
          for z, v in zip(kw.pop("zones", net.zones), kw.pop("vsws", net.vsw_ids))]
    kw.setdefault("address_type", "Intranet")
    req = alb_models.CreateLoadBalancerRequest(vpc_id=net.vpc_id, zone_mappings=zm,
                                               load_balancer_name=f"t-{uuid.uuid4().hex[:8]}", **kw)
    return alb_v3.create_load_balancer(req).body.to_map()


def test_lb_01_alb_create_checks_required_and_enumerated_parameters(alb_v3, res):
    net = res.vpc_net(zones=ZONES)
    billing = alb_models.CreateLoadBalancerRequestLoadBalancerBillingConfig(pay_type="PostPay")
    # one zone in a region with two or more
    expect_error(_raw_alb_create, 400, "InvalidParameter", alb_v3, net, zones=net.zones[:1],
                 vsws=net.vsw_ids[:1], load_balancer_edition="Standard", load_balancer_billing_config=billing)
    # edition: required, enumerated
    expect_error(_raw_alb_create, 400, "InvalidParameter", alb_v3, net,
                 load_balancer_edition="Gold", load_balancer_billing_config=billing)
    expect_error(_raw_alb_create, 400, "MissingParameter.LoadBalancerEdition", alb_v3, net,
                 load_balancer_billing_config=billing)
    # billing config: required, PostPay only
    expect_error(_raw_alb_create, 400, "MissingParameter.LoadBalancerBillingConfig.PayType", alb_v3, net,
                 load_balancer_edition="Standard")
    expect_error(_raw_alb_create, 400, "InvalidParameter", alb_v3, net, load_balancer_edition="Standard",
                 load_balancer_billing_config=alb_models.CreateLoadBalancerRequestLoadBalancerBillingConfig(
                     pay_type="PrePay"))
    # AddressType is Internet or Intranet, as spelt
    expect_error(_raw_alb_create, 400, "InvalidParameter", alb_v3, net, address_type="internet",
                 load_balancer_edition="Standard", load_balancer_billing_config=billing)
    listed = alb_v3.list_load_balancers(alb_models.ListLoadBalancersRequest(vpc_ids=[net.vpc_id])).body.to_map()
    assert listed.get("LoadBalancers") in (None, []), listed
    # the valid request
    b = _raw_alb_create(alb_v3, net, load_balancer_edition="StandardWithWaf", load_balancer_billing_config=billing)
    res.albs.append(b["LoadBalancerId"])
    assert get_alb(alb_v3, b["LoadBalancerId"])["LoadBalancerEdition"] == "StandardWithWaf"


def test_lb_01_nlb_create_checks_zones_and_address_type(nlb_v3, res):
    net = res.vpc_net(zones=ZONES)
    one = [(net.zones[0], net.vsw_ids[0], None)]
    expect_error(create_nlb, 400, "InvalidParameter", nlb_v3, net.vpc_id, "Intranet", one)
    both = list(zip(net.zones, net.vsw_ids, [None, None]))
    expect_error(create_nlb, 400, "InvalidParameter", nlb_v3, net.vpc_id, "intranet", both)
    lb = res.nlb(net.vpc_id, "Intranet", both, wait=False)
    assert lb.startswith("nlb-")


# ---------------------------------------------------------------- deletion protection

def test_lb_03_clb_delete_protection(slb_v3, res):
    b = res.clb(v_switch_id=res.network.vsw_id, delete_protection="on")
    lb = b["LoadBalancerId"]
    assert get_clb(slb_v3, lb)["DeleteProtection"] == "on"
    err = expect_error(delete_clb, 400, "OperationDenied.DeleteProtectionIsOn", slb_v3, lb)
    assert err.message, err
    assert get_clb(slb_v3, lb) is not None
    slb_v3.set_load_balancer_delete_protection(slb_models.SetLoadBalancerDeleteProtectionRequest(
        region_id=REGION, load_balancer_id=lb, delete_protection="off"))
    assert get_clb(slb_v3, lb)["DeleteProtection"] == "off"
    delete_clb(slb_v3, lb)
    assert get_clb(slb_v3, lb) is None
    # off by default; anything but on/off is refused
    plain = res.clb(v_switch_id=res.network.vsw_id)
    assert get_clb(slb_v3, plain["LoadBalancerId"])["DeleteProtection"] == "off"
    expect_error(res.clb, 400, "InvalidParameter", v_switch_id=res.network.vsw_id, delete_protection="yes")


def test_lb_01_alb_deletion_protection(alb_v3, res):
    net = res.vpc_net(zones=ZONES)
    lb = create_alb(alb_v3, net.vpc_id, "Intranet", [(z, v, None) for z, v in zip(net.zones, net.vsw_ids)],
                    deletion_protection_enabled=True)
    res.albs.append(lb)
    attr = wait_alb(alb_v3, lb, "Active")
    assert attr["DeletionProtectionConfig"]["Enabled"] is True, attr
    expect_error(alb_v3.delete_load_balancer, 400, "OperationDenied.DeleteProtectionIsOn",
                 alb_models.DeleteLoadBalancerRequest(load_balancer_id=lb))
    alb_v3.disable_deletion_protection(alb_models.DisableDeletionProtectionRequest(resource_id=lb))
    assert get_alb(alb_v3, lb)["DeletionProtectionConfig"]["Enabled"] is False
    alb_v3.enable_deletion_protection(alb_models.EnableDeletionProtectionRequest(resource_id=lb))
    assert get_alb(alb_v3, lb)["DeletionProtectionConfig"]["Enabled"] is True
    alb_v3.disable_deletion_protection(alb_models.DisableDeletionProtectionRequest(resource_id=lb))
    alb_v3.delete_load_balancer(alb_models.DeleteLoadBalancerRequest(load_balancer_id=lb))
    assert capture_error(get_alb, alb_v3, lb).code == "ResourceNotFound.LoadBalancer"


# ---------------------------------------------------------------- CLB master zone

def test_lb_03_clb_master_zone_is_the_vswitch_zone(slb_v3, res):
    net = res.vpc_net(zones=ZONES)
    i_vsw = net.vsw_ids[1]  # cn-hangzhou-i
    b = res.clb(v_switch_id=i_vsw)
    d = get_clb(slb_v3, b["LoadBalancerId"])
    assert d["MasterZoneId"] == SECOND_ZONE, d
    assert d["SlaveZoneId"] != SECOND_ZONE, d
    h = res.clb(v_switch_id=net.vsw_ids[0], master_zone_id=DEMO_ZONE)
    assert get_clb(slb_v3, h["LoadBalancerId"])["MasterZoneId"] == DEMO_ZONE
    err = expect_error(res.clb, 400, "InvalidParameter", v_switch_id=i_vsw, master_zone_id=DEMO_ZONE)
    assert "MasterZoneId" in err.message, err
