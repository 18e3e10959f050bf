"""Supporting resources: demo seed, VPC / vSwitch / security group, ECS
instance life cycle (status sequences), id formats. Prerequisites of GEN-01
and ECS-01..04."""

from __future__ import annotations

import ipaddress
import json
import re
import time

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    DEMO_ZONE,
    REGION,
    body,
    capture_error,
    create_instance,
    create_security_group,
    create_vpc,
    create_vswitch,
    delete_instance,
    describe_instances,
    get_instance,
    instance_public_ips,
    run_instances,
    wait_instance,
)

ID_RE = {
    "i": re.compile(r"^i-[a-z0-9]{8,}$"),
    "vpc": re.compile(r"^vpc-[a-z0-9]{8,}$"),
    "vsw": re.compile(r"^vsw-[a-z0-9]{8,}$"),
    "sg": re.compile(r"^sg-[a-z0-9]{8,}$"),
    "eni": re.compile(r"^eni-[a-z0-9]{8,}$"),
}


def _statuses_until(ecs, iid, final, timeout=10.0):
    """Poll fast; the de-duplicated list of statuses seen up to `final`."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = (get_instance(ecs, iid) or {}).get("Status")
        if not seen or seen[-1] != st:
            seen.append(st)
        if st == final:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"{iid} never reached {final}; seen {seen}")


# ------------------------------------------------------------ demo seed

def test_demo_seed(vpc_v3, ecs_v3):
    v = body(vpc_v3.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION, vpc_name="demo-vpc")))
    vpcs = [x for x in v["Vpcs"]["Vpc"] if x.get("VpcName") == "demo-vpc"]
    assert len(vpcs) == 1, v
    demo = vpcs[0]
    assert ID_RE["vpc"].match(demo["VpcId"]), demo
    assert ipaddress.ip_network(demo["CidrBlock"]).subnet_of(ipaddress.ip_network("172.16.0.0/12")), demo

    s = body(vpc_v3.describe_vswitches(vpc_models.DescribeVSwitchesRequest(region_id=REGION, vpc_id=demo["VpcId"])))
    vsws = [x for x in s["VSwitches"]["VSwitch"] if x.get("VSwitchName") == "demo-vsw"]
    assert len(vsws) == 1, s
    assert vsws[0]["ZoneId"] == DEMO_ZONE and vsws[0]["VpcId"] == demo["VpcId"], vsws[0]
    assert ipaddress.ip_network(vsws[0]["CidrBlock"]).subnet_of(ipaddress.ip_network(demo["CidrBlock"]))

    g = body(ecs_v3.describe_security_groups(ecs_models.DescribeSecurityGroupsRequest(
        region_id=REGION, vpc_id=demo["VpcId"])))
    names = [x.get("SecurityGroupName") for x in g["SecurityGroups"]["SecurityGroup"]]
    assert "demo-sg" in names, g

    i = body(ecs_v3.describe_instances(ecs_models.DescribeInstancesRequest(
        region_id=REGION, vpc_id=demo["VpcId"], page_size=100)))
    by_name = {x.get("InstanceName"): x for x in i["Instances"]["Instance"]}
    for name in ("demo-1", "demo-2"):
        assert name in by_name, f"{name} missing: {sorted(by_name)}"
        inst = by_name[name]
        assert ID_RE["i"].match(inst["InstanceId"]), inst
        assert inst["Status"] == "Running", inst
        assert instance_public_ips(inst) == [], inst.get("PublicIpAddress")
        assert not (inst.get("EipAddress") or {}).get("AllocationId"), inst.get("EipAddress")
        assert inst["VpcAttributes"]["VSwitchId"] == vsws[0]["VSwitchId"]


# ------------------------------------------------------------ VPC / vSwitch / SG

def test_vpc_vswitch_crud(vpc_v1):
    vpc_id = create_vpc(vpc_v1, cidr="172.20.0.0/16", name="crud-vpc")
    assert ID_RE["vpc"].match(vpc_id)
    v = body(vpc_v1.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION, vpc_id=vpc_id)))
    [x] = v["Vpcs"]["Vpc"]
    assert (x["VpcName"], x["CidrBlock"], x.get("RegionId", REGION)) == ("crud-vpc", "172.20.0.0/16", REGION), x

    vsw = create_vswitch(vpc_v1, vpc_id, DEMO_ZONE, "172.20.1.0/24")
    assert ID_RE["vsw"].match(vsw)
    s = body(vpc_v1.describe_vswitches(vpc_models.DescribeVSwitchesRequest(region_id=REGION, vpc_id=vpc_id)))
    [y] = s["VSwitches"]["VSwitch"]
    assert (y["VSwitchId"], y["ZoneId"], y["CidrBlock"], y["VpcId"]) == (vsw, DEMO_ZONE, "172.20.1.0/24", vpc_id), y

    vpc_v1.delete_vswitch(vpc_models.DeleteVSwitchRequest(region_id=REGION, v_switch_id=vsw))
    _wait_gone(lambda: body(vpc_v1.describe_vswitches(vpc_models.DescribeVSwitchesRequest(
        region_id=REGION, v_switch_id=vsw)))["VSwitches"]["VSwitch"])
    vpc_v1.delete_vpc(vpc_models.DeleteVpcRequest(region_id=REGION, vpc_id=vpc_id))
    _wait_gone(lambda: body(vpc_v1.describe_vpcs(vpc_models.DescribeVpcsRequest(
        region_id=REGION, vpc_id=vpc_id)))["Vpcs"]["Vpc"])


def _wait_gone(listing, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        items = listing()
        if items == []:
            return
        assert time.monotonic() < deadline, f"still listed: {items}"
        time.sleep(0.05)


def test_security_group_create_describe(vpc_v3, ecs_v3, network):
    sg = create_security_group(ecs_v3, network.vpc_id)
    assert ID_RE["sg"].match(sg)
    g = body(ecs_v3.describe_security_groups(ecs_models.DescribeSecurityGroupsRequest(
        region_id=REGION, security_group_id=sg)))
    [x] = [y for y in g["SecurityGroups"]["SecurityGroup"] if y["SecurityGroupId"] == sg]
    assert x["VpcId"] == network.vpc_id, x


# ------------------------------------------------------------ instances

def test_run_instances_amount_and_status_sequence(ecs_v3, network, res):
    ids = run_instances(ecs_v3, network.vsw_id, network.sg_id, amount=2, instance_name="seq")
    for iid in ids:
        res.track_instance(iid)
    assert len(set(ids)) == 2 and all(ID_RE["i"].match(i) for i in ids), ids
    seen = _statuses_until(ecs_v3, ids[0], "Running")
    assert seen == ["Pending", "Starting", "Running"], seen
    wait_instance(ecs_v3, ids[1], "Running")

    [inst] = describe_instances(ecs_v3, [ids[0]])
    assert inst["RegionId"] == REGION and inst["ZoneId"] == DEMO_ZONE, inst
    assert inst["InstanceType"] and inst["ImageId"], inst
    va = inst["VpcAttributes"]
    assert va["VpcId"] == network.vpc_id and va["VSwitchId"] == network.vsw_id, va
    [priv] = va["PrivateIpAddress"]["IpAddress"]
    assert ipaddress.ip_address(priv) in ipaddress.ip_network("192.168.0.0/18"), priv
    enis = inst["NetworkInterfaces"]["NetworkInterface"]
    assert enis and ID_RE["eni"].match(enis[0]["NetworkInterfaceId"]), enis
    assert network.sg_id in inst["SecurityGroupIds"]["SecurityGroupId"], inst.get("SecurityGroupIds")
    assert instance_public_ips(inst) == []


def test_instance_lifecycle_create_start_stop_delete(ecs_v1, network, res):
    iid = create_instance(ecs_v1, network.vsw_id, network.sg_id, instance_name="life")
    res.track_instance(iid)
    assert _statuses_until(ecs_v1, iid, "Stopped") == ["Pending", "Stopped"]

    ecs_v1.start_instance(ecs_models.StartInstanceRequest(instance_id=iid))
    assert _statuses_until(ecs_v1, iid, "Running") == ["Starting", "Running"]

    ecs_v1.stop_instance(ecs_models.StopInstanceRequest(instance_id=iid))
    assert _statuses_until(ecs_v1, iid, "Stopped") == ["Stopping", "Stopped"]

    ecs_v1.start_instance(ecs_models.StartInstanceRequest(instance_id=iid))
    wait_instance(ecs_v1, iid, "Running")
    # a Running instance needs Force=true (ECS answers IncorrectInstanceStatus)
    err = capture_error(delete_instance, ecs_v1, iid, force=False)
    assert err is not None and err.status in (400, 403) and err.code == "IncorrectInstanceStatus", err
    assert get_instance(ecs_v1, iid)["Status"] == "Running"
    delete_instance(ecs_v1, iid, force=True)
    wait_instance(ecs_v1, iid, None)

    # a Stopped instance is deleted without Force
    other = create_instance(ecs_v1, network.vsw_id, network.sg_id)
    res.track_instance(other)
    wait_instance(ecs_v1, other, "Stopped")
    delete_instance(ecs_v1, other, force=False)
    wait_instance(ecs_v1, other, None)


def test_describe_instance_status(ecs_v3, network, res):
    a = res.instance()
    b = create_instance(ecs_v3, network.vsw_id, network.sg_id)
    res.track_instance(b)
    wait_instance(ecs_v3, b, "Stopped")
    d = body(ecs_v3.describe_instance_status(ecs_models.DescribeInstanceStatusRequest(
        region_id=REGION, instance_id=[a, b], page_size=50)))
    st = {x["InstanceId"]: x["Status"] for x in d["InstanceStatuses"]["InstanceStatus"]}
    assert st.get(a) == "Running" and st.get(b) == "Stopped", d
    assert isinstance(d["TotalCount"], int)


def test_describe_instances_by_id_list(ecs_v3, network, res):
    a = res.instance(wait=False)
    b = res.instance(wait=False)
    got = {i["InstanceId"] for i in describe_instances(ecs_v3, [a, b])}
    assert got == {a, b}
    assert {i["InstanceId"] for i in describe_instances(ecs_v3, [b])} == {b}
    # the wire value really is a JSON array string
    req = ecs_models.DescribeInstancesRequest(region_id=REGION, instance_ids=json.dumps([a]))
    [only] = body(ecs_v3.describe_instances(req))["Instances"]["Instance"]
    assert only["InstanceId"] == a
