"""HA-01 .. HA-04: EIPs on high-availability virtual IPs (InstanceType=HaVip)
(docs/design/targets-contract.md, "HaVips").

HA-01's failover is data plane; its control-plane part: a HaVip serves two
instances (one of them the master) and carries one EIP."""

from __future__ import annotations

import ipaddress
import time

from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    REGION,
    WAIT_TIMEOUT,
    associate,
    associate_havip,
    create_havip,
    create_vpc,
    create_vswitch,
    describe_eips,
    eip_list,
    expect_error,
    get_eip,
    get_eni,
    get_havip,
    havip_eips,
    havip_instances,
    unassociate,
    unassociate_havip,
    wait_havip,
    wait_status,
    DEMO_ZONE,
)


def _delete_havip(vpc, hid, region=REGION):
    return vpc.delete_ha_vip(vpc_models.DeleteHaVipRequest(region_id=region, ha_vip_id=hid))


def _poll_havip(vpc, hid, pred):
    deadline = time.monotonic() + WAIT_TIMEOUT
    while True:
        h = get_havip(vpc, hid)
        if pred(h):
            return h
        assert time.monotonic() < deadline, f"{hid} never satisfied the condition: {h}"
        time.sleep(0.05)


def _eip_to_havip(vpc, aid, hid):
    associate(vpc, aid, hid, instance_type="HaVip")
    e = wait_status(vpc, aid, "InUse")
    assert (e["InstanceId"], e["InstanceType"], e.get("InstanceRegionId")) == (hid, "HaVip", REGION), e
    return e


# ---------------------------------------------------------------- HA-01

def test_ha_01_create_describe_havip(vpc_v3, res):
    b = res.havip(wait=False, name="t-havip", description="ha")
    hid = b["HaVipId"]
    assert ipaddress.ip_address(b["IpAddress"]) in ipaddress.ip_network("192.168.0.0/18"), b
    assert get_havip(vpc_v3, hid)["Status"] == "Creating"
    h = wait_havip(vpc_v3, hid, "Available")
    assert (h["IpAddress"], h["VpcId"], h["VSwitchId"]) == (b["IpAddress"], res.network.vpc_id,
                                                            res.network.vsw_id), h
    assert havip_instances(h) == [] and havip_eips(h) == [], h
    # an explicit, idle IpAddress of the vSwitch
    want = "192.168.33.33"
    b2 = res.havip(ip_address=want)
    assert b2["IpAddress"] == want, b2


def test_ha_01_havip_serves_two_instances_and_carries_an_eip(vpc_v3, res):
    hid = res.havip()["HaVipId"]
    master, backup = res.instance(), res.instance()
    associate_havip(vpc_v3, hid, master)
    associate_havip(vpc_v3, hid, backup, instance_type="EcsInstance")
    h = _poll_havip(vpc_v3, hid, lambda h: len(havip_instances(h)) == 2 and h["Status"] == "InUse")
    assert sorted(havip_instances(h)) == sorted([master, backup]), h
    assert h.get("MasterInstanceId") in (master, backup), h
    assert h.get("AssociatedInstanceType") in (None, "", "EcsInstance"), h
    aid = res.eip()["AllocationId"]
    e = _eip_to_havip(vpc_v3, aid, hid)
    h = get_havip(vpc_v3, hid)
    assert havip_eips(h) == [e["IpAddress"]], h
    d = describe_eips(vpc_v3, associated_instance_type="HaVip", associated_instance_id=hid)
    assert [x["AllocationId"] for x in eip_list(d)] == [aid], d
    # the instances keep it through a backup leaving
    unassociate_havip(vpc_v3, hid, backup, instance_type="EcsInstance")
    h = _poll_havip(vpc_v3, hid, lambda h: havip_instances(h) == [master])
    assert h["Status"] == "InUse" and h.get("MasterInstanceId") == master, h
    assert get_eip(vpc_v3, aid)["InstanceId"] == hid


def test_ha_01_havip_on_enis(vpc_v3, ecs_v3, res):
    hid = res.havip()["HaVipId"]
    eni1, eni2 = res.eni()["NetworkInterfaceId"], res.eni()["NetworkInterfaceId"]
    associate_havip(vpc_v3, hid, eni1, instance_type="NetworkInterface")
    associate_havip(vpc_v3, hid, eni2, instance_type="NetworkInterface")
    h = _poll_havip(vpc_v3, hid, lambda h: len(havip_instances(h)) == 2 and h["Status"] == "InUse")
    assert sorted(havip_instances(h)) == sorted([eni1, eni2]), h
    assert h.get("AssociatedInstanceType") == "NetworkInterface", h
    assert get_eni(ecs_v3, eni1) is not None


# ---------------------------------------------------------------- HA-02

def test_ha_02_permission_quota(eipd_factory):
    srv = eipd_factory(demo=False)
    vpc = srv.vpc()
    vpc_id = create_vpc(vpc, cidr="172.16.0.0/16")
    vsw = create_vswitch(vpc, vpc_id, DEMO_ZONE, "172.16.1.0/24")
    # default permission 1: allowed
    first = create_havip(vpc, vsw)["HaVipId"]
    srv.stop()
    srv.admin("quota", "set", "--data-dir", str(srv.data_dir), "root", "havip_permission", "0")
    srv.restart()
    vpc = srv.vpc()
    expect_error(create_havip, 400, "OperationDenied.HaVipNotEnabled", vpc, vsw)
    assert get_havip(vpc, first) is not None  # existing ones stay
    srv.stop()
    srv.admin("quota", "set", "--data-dir", str(srv.data_dir), "root", "havip_permission", "1")
    srv.restart()
    vpc = srv.vpc()
    assert create_havip(vpc, vsw)["HaVipId"].startswith("havip-")


def test_ha_02_count_quota_defaults_to_50(eipd_factory):
    srv = eipd_factory(demo=False)
    vpc = srv.vpc()
    vpc_id = create_vpc(vpc, cidr="172.16.0.0/16")
    vsw = create_vswitch(vpc, vpc_id, DEMO_ZONE, "172.16.1.0/24")
    made = [create_havip(vpc, vsw)["HaVipId"] for _ in range(50)]
    assert len(set(made)) == 50
    expect_error(create_havip, 400, "QuotaExceeded.HaVip", vpc, vsw)
    srv.stop()
    srv.admin("quota", "set", "--data-dir", str(srv.data_dir), "root", "havip_count", "51")
    srv.restart()
    vpc = srv.vpc()
    create_havip(vpc, vsw)
    expect_error(create_havip, 400, "QuotaExceeded.HaVip", vpc, vsw)
    # deleting one frees a slot
    wait_havip(vpc, made[0], "Available")
    _delete_havip(vpc, made[0])
    wait_havip(vpc, made[0], None)
    assert create_havip(vpc, vsw)["HaVipId"].startswith("havip-")


# ---------------------------------------------------------------- HA-03

def test_ha_03_one_eip_per_havip(vpc_v3, res):
    hid = res.havip()["HaVipId"]
    a, b = res.eip()["AllocationId"], res.eip()["AllocationId"]
    _eip_to_havip(vpc_v3, a, hid)
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, b, hid, instance_type="HaVip")
    e = get_eip(vpc_v3, b)
    assert e["Status"] == "Available" and not e.get("InstanceId"), e
    assert len(havip_eips(get_havip(vpc_v3, hid))) == 1
    unassociate(vpc_v3, a, hid, instance_type="HaVip")
    wait_status(vpc_v3, a, "Available")
    assert havip_eips(get_havip(vpc_v3, hid)) == []
    _eip_to_havip(vpc_v3, b, hid)


def test_ha_03_havip_with_eip_or_instances_cannot_be_deleted(vpc_v3, res):
    hid = res.havip()["HaVipId"]
    aid = res.eip()["AllocationId"]
    _eip_to_havip(vpc_v3, aid, hid)
    expect_error(_delete_havip, 400, "DependencyViolation.HaVip", vpc_v3, hid)
    unassociate(vpc_v3, aid, hid, instance_type="HaVip")
    wait_status(vpc_v3, aid, "Available")
    iid = res.instance()
    associate_havip(vpc_v3, hid, iid)
    wait_havip(vpc_v3, hid, "InUse")
    expect_error(_delete_havip, 400, "DependencyViolation.HaVip", vpc_v3, hid)
    unassociate_havip(vpc_v3, hid, iid)
    wait_havip(vpc_v3, hid, "Available")
    _delete_havip(vpc_v3, hid)
    wait_havip(vpc_v3, hid, None)


# ---------------------------------------------------------------- HA-04

def test_ha_04_havip_must_be_available_or_in_use(vpc_v3, res):
    aid = res.eip()["AllocationId"]
    creating = res.havip(wait=False)["HaVipId"]
    expect_error(associate, 400, "IncorrectHaVipStatus", vpc_v3, aid, creating, instance_type="HaVip")
    assert get_eip(vpc_v3, aid)["Status"] == "Available"
    # Available (no instance yet) is fine
    wait_havip(vpc_v3, creating, "Available")
    _eip_to_havip(vpc_v3, aid, creating)
    assert get_havip(vpc_v3, creating)["Status"] == "Available"


def test_ha_04_in_use_havip_accepts_eip(vpc_v3, res):
    hid = res.havip()["HaVipId"]
    iid = res.instance()
    associate_havip(vpc_v3, hid, iid)
    wait_havip(vpc_v3, hid, "InUse")
    aid = res.eip()["AllocationId"]
    _eip_to_havip(vpc_v3, aid, hid)
    h = get_havip(vpc_v3, hid)
    assert h["Status"] == "InUse" and havip_instances(h) == [iid], h


def test_ha_01_create_havip_idempotent_with_client_token(vpc_v3, res):
    token = f"havip-{time.monotonic_ns()}"
    a = res.havip(wait=False, client_token=token)
    b = res.havip(wait=False, client_token=token)
    assert (a["HaVipId"], a["IpAddress"]) == (b["HaVipId"], b["IpAddress"])
