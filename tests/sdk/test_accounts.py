"""Accounts are isolated: another account's EIPs and instances do not exist
for you (a prerequisite of GEN-03 'released from an account')."""

from __future__ import annotations

from alibabacloud_ecs20140526 import models as ecs_models

from conftest import (
    REGION,
    allocate,
    associate,
    body,
    describe_eips,
    eip_list,
    expect_error,
    get_eip,
    modify,
    release,
    wait_status,
)


def test_accounts_do_not_see_or_touch_each_other(eipd_factory):
    srv = eipd_factory(demo=True)
    ak, sk = srv.create_account("isolation-other")
    root_vpc, root_ecs = srv.vpc(), srv.ecs()
    oth_vpc, oth_ecs = srv.vpc(ak=ak, secret=sk), srv.ecs(v1=True, ak=ak, secret=sk)

    demo = body(root_ecs.describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION)))
    demo_ids = [i["InstanceId"] for i in demo["Instances"]["Instance"]]
    assert len(demo_ids) >= 2

    mine = allocate(root_vpc)
    theirs = allocate(oth_vpc)
    assert mine["EipAddress"] != theirs["EipAddress"]

    # listings are per account
    assert [e["AllocationId"] for e in eip_list(describe_eips(oth_vpc))] == [theirs["AllocationId"]]
    assert theirs["AllocationId"] not in [e["AllocationId"] for e in eip_list(describe_eips(root_vpc, page_size=100))]
    other_instances = body(oth_ecs.describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION)))
    assert other_instances["Instances"]["Instance"] == [], other_instances

    # another account's EIP is "not found"
    expect_error(release, 404, "InvalidAllocationId.NotFound", oth_vpc, mine["AllocationId"])
    expect_error(modify, 404, "InvalidAllocationId.NotFound", oth_vpc, mine["AllocationId"], name="x")
    expect_error(associate, 404, "InvalidAllocationId.NotFound", oth_vpc, mine["AllocationId"], demo_ids[0])
    # another account's instance is "not found" for association
    expect_error(associate, 404, "InvalidInstanId.NotFound", oth_vpc, theirs["AllocationId"], demo_ids[0])

    e = get_eip(root_vpc, mine["AllocationId"])
    assert e["Status"] == "Available" and e.get("Name", "") != "x", e
    # the owner still can use both
    associate(root_vpc, mine["AllocationId"], demo_ids[0])
    assert wait_status(root_vpc, mine["AllocationId"], "InUse")["InstanceId"] == demo_ids[0]
