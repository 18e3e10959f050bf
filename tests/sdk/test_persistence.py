"""Crash safety: whatever the server acknowledged survives `kill -9`.
(GEN-02: the address is the same after a restart; GEN-04: an acknowledged
association still completes.)"""

from __future__ import annotations

from alibabacloud_ecs20140526 import models as ecs_models

from conftest import (
    REGION,
    allocate,
    associate,
    body,
    get_eip,
    get_instance,
    instance_eip,
    modify,
    release,
    run_instances,
    unassociate,
    wait_instance,
    wait_status,
    WAIT_TIMEOUT,
)


def _demo_instances(ecs) -> dict[str, str]:
    b = body(ecs.describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION, page_size=100)))
    return {i.get("InstanceName"): i["InstanceId"] for i in b["Instances"]["Instance"]}


def _demo_network(ecs, demo1_id):
    inst = get_instance(ecs, demo1_id)
    return inst["VpcAttributes"]["VSwitchId"], inst["SecurityGroupIds"]["SecurityGroupId"][0]


def test_gen_02_gen_04_restart_after_kill9_keeps_acknowledged_state(eipd_factory):
    srv = eipd_factory(demo=True)
    vpc, ecs = srv.vpc(), srv.ecs(v1=True)
    names = _demo_instances(ecs)
    demo1, demo2 = names["demo-1"], names["demo-2"]
    vsw, sg = _demo_network(ecs, demo1)

    kept = allocate(vpc, bandwidth="9")
    modify(vpc, kept["AllocationId"], name="survivor", description="kept across kill -9")
    gone = allocate(vpc)
    release(vpc, gone["AllocationId"])
    wait_status(vpc, gone["AllocationId"], None)
    bound = allocate(vpc)
    associate(vpc, bound["AllocationId"], demo1)
    wait_status(vpc, bound["AllocationId"], "InUse")
    [new_iid] = run_instances(ecs, vsw, sg)
    wait_instance(ecs, new_iid, "Running")
    # acknowledged, but not finished when the server dies
    in_flight = allocate(vpc)
    associate(vpc, in_flight["AllocationId"], demo2)

    srv.kill9()
    srv.restart()
    vpc, ecs = srv.vpc(), srv.ecs()

    e = get_eip(vpc, kept["AllocationId"])
    assert e is not None, "an allocated EIP vanished after kill -9"
    assert (e["IpAddress"], e["Status"], e["Bandwidth"], e["Name"], e["Description"]) == (
        kept["EipAddress"], "Available", "9", "survivor", "kept across kill -9"), e

    assert get_eip(vpc, gone["AllocationId"]) is None, "a released EIP came back"

    e = get_eip(vpc, bound["AllocationId"])
    assert e is not None and e["Status"] == "InUse" and e["InstanceId"] == demo1, e
    assert e["IpAddress"] == bound["EipAddress"]
    assert instance_eip(get_instance(ecs, demo1)).get("AllocationId") == bound["AllocationId"]

    inst = get_instance(ecs, new_iid)
    assert inst is not None and inst["Status"] == "Running", inst

    e = wait_status(vpc, in_flight["AllocationId"], "InUse", timeout=WAIT_TIMEOUT)
    assert e["InstanceId"] == demo2 and e["IpAddress"] == in_flight["EipAddress"], e

    # the restarted server keeps working, and the invariants still hold
    unassociate(vpc, bound["AllocationId"], demo1)
    wait_status(vpc, bound["AllocationId"], "Available")
    fresh = allocate(vpc)
    assert fresh["EipAddress"] not in {kept["EipAddress"], bound["EipAddress"], in_flight["EipAddress"]}
