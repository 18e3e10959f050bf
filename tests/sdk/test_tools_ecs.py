"""Issue 10: ECS actions tools call that openeip lacked: DescribeUserData and
DescribeDisks (Ansible's ali_instance_info), and the older ECS-product EIP API
(ECS 2014-05-26 AllocateEipAddress ... ModifyEipAddressAttribute) that legacy
aliyunsdkecs scripts and pop-core still call: the same EIPs and rules as the
VPC actions, ECS's field names."""

from __future__ import annotations

import base64

from alibabacloud_ecs20140526 import models as ecs_models
from aliyunsdkecs.request.v20140526 import (
    AllocateEipAddressRequest as LAllocate,
    AssociateEipAddressRequest as LAssociate,
    DescribeEipAddressesRequest as LDescribe,
    ModifyEipAddressAttributeRequest as LModify,
    ReleaseEipAddressRequest as LRelease,
    UnassociateEipAddressRequest as LUnassociate,
)

from conftest import (
    REGION,
    body,
    expect_error,
    get_eip,
    run_instances,
    wait_instance,
    wait_status,
)


def legacy_error(fn, *args):
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    try:
        fn(*args)
    except ServerException as e:
        return e
    raise AssertionError("no error")


# ------------------------------------------------------------ user data and disks

def test_user_data_round_trips_through_run_instances(server, res, ecs_v3, ecs_v1):
    script = base64.b64encode(b"#!/bin/sh\necho hello > /tmp/hi\n").decode()
    iid = run_instances(ecs_v3, res.network.vsw_id, res.network.sg_id, user_data=script)[0]
    res.track_instance(iid)
    for ecs in (ecs_v3, ecs_v1):
        got = body(ecs.describe_user_data(ecs_models.DescribeUserDataRequest(region_id=REGION, instance_id=iid)))
        assert got == {"InstanceId": iid, "RegionId": REGION, "RequestId": got["RequestId"], "UserData": script}
    plain = res.instance(wait=False)
    got = body(ecs_v3.describe_user_data(ecs_models.DescribeUserDataRequest(region_id=REGION, instance_id=plain)))
    assert got["UserData"] == ""
    expect_error(ecs_v3.describe_user_data, 404, "InvalidInstanceId.NotFound",
                 ecs_models.DescribeUserDataRequest(region_id=REGION, instance_id="i-" + "0" * 20))
    expect_error(run_instances, 400, "InvalidParameter", ecs_v3, res.network.vsw_id, res.network.sg_id,
                 user_data="not base64!")
    too_big = base64.b64encode(b"x" * (32 * 1024 + 1)).decode()
    expect_error(run_instances, 400, "InvalidParameter", ecs_v3, res.network.vsw_id, res.network.sg_id,
                 user_data=too_big)


def test_every_instance_has_a_system_disk(server, res, ecs_v3, ecs_v1):
    iid = res.instance()
    for ecs in (ecs_v3, ecs_v1):
        got = body(ecs.describe_disks(ecs_models.DescribeDisksRequest(region_id=REGION, instance_id=iid)))
        disks = got["Disks"]["Disk"]
        assert len(disks) == 1 and got["TotalCount"] == 1, got
        d = disks[0]
        assert d["InstanceId"] == iid and d["Type"] == "system" and d["Status"] == "In_use", d
        assert d["DiskId"].startswith("d-") and d["Size"] == 40 and d["DeleteWithInstance"] is True
    by_id = body(ecs_v3.describe_disks(ecs_models.DescribeDisksRequest(
        region_id=REGION, disk_ids=f'["{disks[0]["DiskId"]}"]')))
    assert [x["InstanceId"] for x in by_id["Disks"]["Disk"]] == [iid]
    none = body(ecs_v3.describe_disks(ecs_models.DescribeDisksRequest(region_id=REGION, instance_id=iid,
                                                                      disk_type="data")))
    assert none["Disks"]["Disk"] == [] and none["TotalCount"] == 0
    expect_error(ecs_v3.describe_disks, 400, "InvalidDiskType.ValueNotSupported",
                 ecs_models.DescribeDisksRequest(region_id=REGION, disk_type="boot"))
    expect_error(ecs_v3.describe_disks, 400, "InvalidStatus.ValueNotSupported",
                 ecs_models.DescribeDisksRequest(region_id=REGION, status="Spinning"))


# ------------------------------------------------------------ the ECS-product EIP API

def test_legacy_ecs_eip_lifecycle(server, res, vpc_v3):
    """aliyunsdkecs's EIP requests, as old scripts send them: allocate,
    describe, associate with an instance, modify bandwidth, unassociate,
    release; the same EIP seen through VPC's API."""
    leg = server.legacy()
    iid = res.instance()
    req = LAllocate.AllocateEipAddressRequest()
    req.set_Bandwidth("5")
    req.set_InternetChargeType("PayByTraffic")
    got = leg.call(req)
    assert set(got) == {"AllocationId", "EipAddress", "RequestId"}, got
    a = got["AllocationId"]
    res.track_eip(a)
    assert get_eip(vpc_v3, a)["IpAddress"] == got["EipAddress"]

    req = LAssociate.AssociateEipAddressRequest()
    req.set_AllocationId(a)
    req.set_InstanceId(iid)
    leg.call(req)
    wait_status(vpc_v3, a, "InUse")

    req = LDescribe.DescribeEipAddressesRequest()
    req.set_AllocationId(a)
    listed = leg.call(req)
    item = listed["EipAddresses"]["EipAddress"][0]
    assert item["InstanceId"] == iid and item["InstanceType"] == "EcsInstance" and item["Status"] == "InUse", item
    assert "Name" not in item and "Mode" not in item and "Tags" not in item  # ECS's field set
    assert isinstance(item["Bandwidth"], str)

    req = LModify.ModifyEipAddressAttributeRequest()
    req.set_AllocationId(a)
    req.set_Bandwidth("10")
    leg.call(req)
    assert get_eip(vpc_v3, a)["Bandwidth"] == "10"

    # VPC's rules: the instance already has an EIP (ECS-02), and a released
    # EIP must be unassociated first; errors as VPC's table has them.
    other = LAllocate.AllocateEipAddressRequest()
    b = leg.call(other)["AllocationId"]
    res.track_eip(b)
    req = LAssociate.AssociateEipAddressRequest()
    req.set_AllocationId(b)
    req.set_InstanceId(iid)
    e = legacy_error(leg.call, req)
    assert e.get_error_code() in ("InvalidAssociation.Duplicated", "IncorrectInstanceStatus"), e
    req = LRelease.ReleaseEipAddressRequest()
    req.set_AllocationId(a)
    e = legacy_error(leg.call, req)
    assert e.get_error_code() == "IncorrectEipStatus" and e.get_http_status() == 400, e

    req = LUnassociate.UnassociateEipAddressRequest()
    req.set_AllocationId(a)
    req.set_InstanceId(iid)
    leg.call(req)
    wait_status(vpc_v3, a, "Available")
    req = LRelease.ReleaseEipAddressRequest()
    req.set_AllocationId(a)
    leg.call(req)
    wait_status(vpc_v3, a, None)


def test_new_ecs_sdk_eip_calls(server, res, ecs_v3, vpc_v3):
    got = body(ecs_v3.allocate_eip_address(ecs_models.AllocateEipAddressRequest(region_id=REGION, bandwidth="2")))
    a = got["AllocationId"]
    res.track_eip(a)
    listed = body(ecs_v3.describe_eip_addresses(ecs_models.DescribeEipAddressesRequest(
        region_id=REGION, allocation_id=a)))
    item = listed["EipAddresses"]["EipAddress"][0]
    assert item["AllocationId"] == a and item["Status"] == "Available" and item["Bandwidth"] == "2", item
    expect_error(ecs_v3.modify_eip_address_attribute, 400, "MissingParameter.Bandwidth",
                 ecs_models.ModifyEipAddressAttributeRequest(region_id=REGION, allocation_id=a))
    ecs_v3.modify_eip_address_attribute(ecs_models.ModifyEipAddressAttributeRequest(
        region_id=REGION, allocation_id=a, bandwidth="3"))
    assert get_eip(vpc_v3, a)["Bandwidth"] == "3"
    # The whole lifecycle through the new ECS SDK.
    target = res.instance()
    ecs_v3.associate_eip_address(ecs_models.AssociateEipAddressRequest(
        region_id=REGION, allocation_id=a, instance_id=target))
    wait_status(vpc_v3, a, "InUse")
    ecs_v3.unassociate_eip_address(ecs_models.UnassociateEipAddressRequest(
        region_id=REGION, allocation_id=a, instance_id=target))
    wait_status(vpc_v3, a, "Available")
    b = body(ecs_v3.allocate_eip_address(ecs_models.AllocateEipAddressRequest(region_id=REGION)))["AllocationId"]
    ecs_v3.release_eip_address(ecs_models.ReleaseEipAddressRequest(region_id=REGION, allocation_id=b))
    wait_status(vpc_v3, b, None)
    expect_error(ecs_v3.release_eip_address, 404, "InvalidAllocationId.NotFound",
                 ecs_models.ReleaseEipAddressRequest(region_id=REGION, allocation_id="eip-" + "0" * 22))
    # A stopped instance refuses association with VPC's code and status (400).
    iid = res.instance()
    ecs_v3.stop_instance(ecs_models.StopInstanceRequest(instance_id=iid))
    wait_instance(ecs_v3, iid, "Stopped")
    ecs_v3.start_instance(ecs_models.StartInstanceRequest(instance_id=iid))
    err = expect_error(ecs_v3.associate_eip_address, 400, "IncorrectInstanceStatus",
                       ecs_models.AssociateEipAddressRequest(region_id=REGION, allocation_id=a, instance_id=iid))
    assert err is not None
