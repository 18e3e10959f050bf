"""GEN-04 / GEN-02: the core EIP life cycle, once per client kind.

allocate -> associate -> poll InUse -> describe -> unassociate -> poll
Available -> release -> gone, with the new SDK signing V3 (default), the new
SDK signing V1 (signature_algorithm='v2') and the legacy aliyunsdkcore SDK.
"""

from __future__ import annotations

import json

from aliyunsdkecs.request.v20140526 import DescribeInstancesRequest as LDescribeInstances
from aliyunsdkvpc.request.v20160428 import (
    AllocateEipAddressRequest as LAllocate,
    AssociateEipAddressRequest as LAssociate,
    DescribeEipAddressesRequest as LDescribe,
    ReleaseEipAddressRequest as LRelease,
    UnassociateEipAddressRequest as LUnassociate,
)

from conftest import (
    EIP_ID_RE,
    ISO_Z,
    REGION,
    allocate,
    assert_pool_address,
    associate,
    describe_eips,
    eip_list,
    get_eip,
    get_instance,
    instance_eip,
    release,
    unassociate,
    wait_status,
)


def _check_available_eip(eip: dict, aid: str, ip: str) -> None:
    assert eip["AllocationId"] == aid
    assert eip["IpAddress"] == ip
    assert eip["Status"] == "Available"
    assert eip["RegionId"] == REGION
    assert not eip.get("InstanceId"), eip
    assert eip.get("ChargeType") == "PostPaid", eip
    assert isinstance(eip.get("Bandwidth"), str), f"Bandwidth must be a string: {eip}"
    assert ISO_Z.match(eip.get("AllocationTime", "")), eip


def _core_flow_new_sdk(vpc, ecs, res):
    stack = res.stack()  # fresh VPC + vSwitch + SG + Running instance
    iid = stack.instance_id

    # allocate
    a = allocate(vpc)
    assert a.get("RequestId"), a
    aid, ip = a["AllocationId"], a["EipAddress"]
    res.track_eip(aid)
    assert EIP_ID_RE.match(aid), aid
    assert_pool_address(ip)
    _check_available_eip(get_eip(vpc, aid), aid, ip)

    # associate: Associating, and the instance shows up at once
    r = associate(vpc, aid, iid)
    assert r.get("RequestId"), r
    e = get_eip(vpc, aid)
    assert e["Status"] == "Associating", e
    assert e.get("InstanceId") == iid and e.get("InstanceType") == "EcsInstance", e

    e = wait_status(vpc, aid, "InUse")
    assert e["InstanceId"] == iid and e["InstanceType"] == "EcsInstance", e
    assert e["IpAddress"] == ip, "GEN-02: the address changed"
    assert e.get("InstanceRegionId") in (None, "", REGION), e

    # describe by the associated instance; ECS side shows the EIP
    d = describe_eips(vpc, associated_instance_type="EcsInstance", associated_instance_id=iid)
    assert [x["AllocationId"] for x in eip_list(d)] == [aid], d
    inst = get_instance(ecs, iid)
    assert instance_eip(inst).get("AllocationId") == aid, inst.get("EipAddress")
    assert instance_eip(inst).get("IpAddress") == ip, inst.get("EipAddress")

    # unassociate
    r = unassociate(vpc, aid, iid)
    assert r.get("RequestId"), r
    assert get_eip(vpc, aid)["Status"] == "Unassociating"
    e = wait_status(vpc, aid, "Available")
    assert not e.get("InstanceId"), e
    assert e["IpAddress"] == ip, "GEN-02: the address changed"
    assert not instance_eip(get_instance(ecs, iid)).get("AllocationId")

    # release
    r = release(vpc, aid)
    assert r.get("RequestId"), r
    e = get_eip(vpc, aid)
    assert e is None or e["Status"] == "Releasing", e
    wait_status(vpc, aid, None)
    d = describe_eips(vpc, allocation_id=aid)
    assert eip_list(d) == [] and d["TotalCount"] == 0, d


def test_gen_04_core_flow_v3(vpc_v3, ecs_v3, res):
    _core_flow_new_sdk(vpc_v3, ecs_v3, res)


def test_gen_04_core_flow_v1(vpc_v1, ecs_v1, res):
    _core_flow_new_sdk(vpc_v1, ecs_v1, res)


def test_gen_04_core_flow_legacy(legacy, res):
    stack = res.stack()
    iid = stack.instance_id

    req = LAllocate.AllocateEipAddressRequest()
    a = legacy.call(req)  # RegionId is added by the legacy SDK
    aid, ip = a["AllocationId"], a["EipAddress"]
    res.track_eip(aid)
    assert EIP_ID_RE.match(aid), a
    assert_pool_address(ip)
    assert isinstance(a["RequestId"], str) and a["RequestId"]

    def describe(**params):
        req = LDescribe.DescribeEipAddressesRequest()
        for k, v in params.items():
            getattr(req, f"set_{k}")(v)
        d = legacy.call(req)
        # raw JSON: exact wire types
        assert isinstance(d["TotalCount"], int) and isinstance(d["PageNumber"], int), d
        assert isinstance(d["PageSize"], int), d
        assert isinstance(d["EipAddresses"]["EipAddress"], list), d
        return d["EipAddresses"]["EipAddress"]

    [e] = describe(AllocationId=aid)
    _check_available_eip(e, aid, ip)

    req = LAssociate.AssociateEipAddressRequest()
    req.set_AllocationId(aid)
    req.set_InstanceId(iid)
    req.set_InstanceType("EcsInstance")
    assert legacy.call(req)["RequestId"]
    [e] = describe(AllocationId=aid)
    assert e["Status"] == "Associating" and e["InstanceId"] == iid, e

    e = wait_status(legacy, aid, "InUse")
    assert e["InstanceId"] == iid and e["InstanceType"] == "EcsInstance" and e["IpAddress"] == ip

    got = describe(AssociatedInstanceType="EcsInstance", AssociatedInstanceId=iid)
    assert [x["AllocationId"] for x in got] == [aid], got

    req = LDescribeInstances.DescribeInstancesRequest()
    req.set_InstanceIds(json.dumps([iid]))
    d = legacy.call(req)
    [inst] = d["Instances"]["Instance"]
    assert inst["EipAddress"]["AllocationId"] == aid and inst["EipAddress"]["IpAddress"] == ip, inst

    req = LUnassociate.UnassociateEipAddressRequest()
    req.set_AllocationId(aid)
    req.set_InstanceId(iid)
    assert legacy.call(req)["RequestId"]
    [e] = describe(AllocationId=aid)
    assert e["Status"] == "Unassociating", e
    e = wait_status(legacy, aid, "Available")
    assert not e.get("InstanceId") and e["IpAddress"] == ip, e

    req = LRelease.ReleaseEipAddressRequest()
    req.set_AllocationId(aid)
    assert legacy.call(req)["RequestId"]
    wait_status(legacy, aid, None)
    assert describe(AllocationId=aid) == []
