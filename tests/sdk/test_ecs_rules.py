"""ECS-01 .. ECS-06: association with an ECS instance (InstanceType=EcsInstance)."""

from __future__ import annotations

import threading

from alibabacloud_ecs20140526 import models as ecs_models

from conftest import (
    associate,
    capture_error,
    create_instance,
    describe_eips,
    eip_list,
    expect_error,
    get_eip,
    get_instance,
    in_threads,
    instance_eip,
    instance_public_ips,
    run_instances,
    runtime,
    unassociate,
    wait_instance,
    wait_status,
)


# ---------------------------------------------------------------- ECS-01

def test_ecs_01_classic_network_instance_refused(vpc_v3, ecs_v3, res):
    """A classic-network instance (no VPC) cannot take an EIP: 400 OperationDenied."""
    # RunInstancesRequest has no InstanceNetworkType field; send it as an
    # extra query parameter through the SDK's extends_parameters.
    [iid] = run_instances(ecs_v3, None, None,
                          rt=runtime(queries={"InstanceNetworkType": "classic"}))
    res.track_instance(iid)
    inst = wait_instance(ecs_v3, iid, "Running")
    assert inst.get("InstanceNetworkType") == "classic", inst
    assert not (inst.get("VpcAttributes") or {}).get("VpcId"), inst.get("VpcAttributes")

    aid = res.eip()["AllocationId"]
    expect_error(associate, 400, "OperationDenied", vpc_v3, aid, iid)
    e = get_eip(vpc_v3, aid)
    assert e["Status"] == "Available" and not e.get("InstanceId"), e


def test_ecs_01_vpc_instance_accepted(vpc_v3, ecs_v3, res):
    iid = res.instance()
    inst = get_instance(ecs_v3, iid)
    assert inst.get("InstanceNetworkType") == "vpc", inst
    assert inst["VpcAttributes"]["VpcId"] == res.network.vpc_id, inst["VpcAttributes"]
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, iid)
    assert wait_status(vpc_v3, aid, "InUse")["InstanceId"] == iid


# ---------------------------------------------------------------- ECS-02

def test_ecs_02_one_eip_per_instance(vpc_v3, ecs_v3, res):
    iid = res.instance()
    a = res.eip()["AllocationId"]
    b = res.eip()["AllocationId"]
    associate(vpc_v3, a, iid)
    wait_status(vpc_v3, a, "InUse")

    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, b, iid)
    eb = get_eip(vpc_v3, b)
    assert eb["Status"] == "Available" and not eb.get("InstanceId"), eb
    d = describe_eips(vpc_v3, associated_instance_type="EcsInstance", associated_instance_id=iid)
    assert [e["AllocationId"] for e in eip_list(d)] == [a], d
    assert instance_eip(get_instance(ecs_v3, iid)).get("AllocationId") == a


def test_ecs_02_second_eip_refused_while_first_associating(vpc_v1, res):
    iid = res.instance()
    a = res.eip()["AllocationId"]
    b = res.eip()["AllocationId"]
    associate(vpc_v1, a, iid)
    # a is still Associating: the instance is already taken
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v1, b, iid)
    assert get_eip(vpc_v1, a)["Status"] == "Associating"
    wait_status(vpc_v1, a, "InUse")
    assert get_eip(vpc_v1, b)["Status"] == "Available"


def test_ecs_02_concurrent_associate_race_one_wins(server, vpc_v3, ecs_v3, res):
    """16 threads, 16 EIPs, one instance: exactly one association succeeds."""
    n = 16
    iid = res.instance()
    barrier = threading.Barrier(n)

    def worker(i):
        vpc = server.vpc(v1=bool(i % 2))  # one client per thread, both signers
        aid = res.eip(client=vpc)["AllocationId"]
        barrier.wait(timeout=30)
        return aid, capture_error(associate, vpc, aid, iid)

    results = in_threads(n, worker)
    for r in results:
        assert not isinstance(r, BaseException), f"worker crashed: {r!r}"
    winners = [aid for aid, err in results if err is None]
    losers = [(aid, err) for aid, err in results if err is not None]
    assert len(winners) == 1, f"expected exactly one winner, got {winners}; errors {losers}"
    for aid, err in losers:
        assert err.status == 400 and err.code == "InvalidAssociation.Duplicated", f"{aid}: {err}"

    [win] = winners
    e = wait_status(vpc_v3, win, "InUse")
    assert e["InstanceId"] == iid
    for aid, _ in losers:
        le = get_eip(vpc_v3, aid)
        assert le["Status"] == "Available" and not le.get("InstanceId"), le
    d = describe_eips(vpc_v3, associated_instance_id=iid, associated_instance_type="EcsInstance")
    assert [x["AllocationId"] for x in eip_list(d)] == [win], d
    assert instance_eip(get_instance(ecs_v3, iid)).get("AllocationId") == win


# ---------------------------------------------------------------- ECS-03

def test_ecs_03_pending_instance_refused(vpc_v3, ecs_v3, res):
    aid = res.eip()["AllocationId"]
    [iid] = run_instances(ecs_v3, res.network.vsw_id, res.network.sg_id)
    res.track_instance(iid)
    err = capture_error(associate, vpc_v3, aid, iid)
    status_after = (get_instance(ecs_v3, iid) or {}).get("Status")
    assert err is not None, f"associate with a just-created instance succeeded (status now {status_after})"
    assert (err.status, err.code) == (400, "IncorrectInstanceStatus"), err
    assert get_eip(vpc_v3, aid)["Status"] == "Available"

    wait_instance(ecs_v3, iid, "Running")
    associate(vpc_v3, aid, iid)
    wait_status(vpc_v3, aid, "InUse")


def test_ecs_03_stopping_and_starting_instance_refused(vpc_v3, ecs_v3, res):
    iid = res.instance()
    aid = res.eip()["AllocationId"]

    ecs_v3.stop_instance(ecs_models.StopInstanceRequest(instance_id=iid))
    expect_error(associate, 400, "IncorrectInstanceStatus", vpc_v3, aid, iid)
    assert get_instance(ecs_v3, iid)["Status"] == "Stopping"
    wait_instance(ecs_v3, iid, "Stopped")

    ecs_v3.start_instance(ecs_models.StartInstanceRequest(instance_id=iid))
    expect_error(associate, 400, "IncorrectInstanceStatus", vpc_v3, aid, iid)
    assert get_instance(ecs_v3, iid)["Status"] == "Starting"
    wait_instance(ecs_v3, iid, "Running")

    e = get_eip(vpc_v3, aid)
    assert e["Status"] == "Available" and not e.get("InstanceId"), e


def test_ecs_03_stopped_instance_accepted(vpc_v1, ecs_v1, res):
    iid = res.instance()
    ecs_v1.stop_instance(ecs_models.StopInstanceRequest(instance_id=iid))
    wait_instance(ecs_v1, iid, "Stopped")
    aid = res.eip()["AllocationId"]
    associate(vpc_v1, aid, iid)
    e = wait_status(vpc_v1, aid, "InUse")
    assert e["InstanceId"] == iid
    assert instance_eip(get_instance(ecs_v1, iid)).get("AllocationId") == aid


def test_ecs_03_created_instance_pending_then_stopped(vpc_v3, ecs_v3, res):
    """CreateInstance: Pending (refused) -> Stopped (accepted)."""
    aid = res.eip()["AllocationId"]
    iid = create_instance(ecs_v3, res.network.vsw_id, res.network.sg_id)
    res.track_instance(iid)
    err = capture_error(associate, vpc_v3, aid, iid)
    assert err is not None and (err.status, err.code) == (400, "IncorrectInstanceStatus"), \
        f"{err} (instance now {get_instance(ecs_v3, iid)})"
    wait_instance(ecs_v3, iid, "Stopped")
    associate(vpc_v3, aid, iid)
    assert wait_status(vpc_v3, aid, "InUse")["InstanceId"] == iid


# ---------------------------------------------------------------- ECS-04

def test_ecs_04_instance_with_public_ip_refused(vpc_v3, ecs_v3, res):
    iid = res.instance(internet_max_bandwidth_out=10)
    inst = get_instance(ecs_v3, iid)
    ips = instance_public_ips(inst)
    assert len(ips) == 1, f"InternetMaxBandwidthOut>0 must give a public IP: {inst.get('PublicIpAddress')}"
    aid = res.eip()["AllocationId"]
    expect_error(associate, 400, "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP", vpc_v3, aid, iid)
    assert get_eip(vpc_v3, aid)["Status"] == "Available"


def test_ecs_04_allocated_public_ip_then_refused(vpc_v1, ecs_v1, res):
    iid = create_instance(ecs_v1, res.network.vsw_id, res.network.sg_id, internet_max_bandwidth_out=5)
    res.track_instance(iid)
    wait_instance(ecs_v1, iid, "Stopped")
    r = ecs_v1.allocate_public_ip_address(ecs_models.AllocatePublicIpAddressRequest(instance_id=iid)).body.to_map()
    ip = r.get("IpAddress")
    assert ip, r
    assert ip in instance_public_ips(get_instance(ecs_v1, iid))
    aid = res.eip(client=vpc_v1)["AllocationId"]
    assert get_eip(vpc_v1, aid)["IpAddress"] != ip, "EIP and public IP must differ"
    expect_error(associate, 400, "EIP_CAN_NOT_ASSOCIATE_WITH_PUBLIC_IP", vpc_v1, aid, iid)


def test_ecs_04_allocate_public_ip_needs_bandwidth(ecs_v3, res):
    iid = res.instance()  # InternetMaxBandwidthOut defaults to 0
    inst = get_instance(ecs_v3, iid)
    assert instance_public_ips(inst) == [], inst.get("PublicIpAddress")
    err = capture_error(ecs_v3.allocate_public_ip_address,
                        ecs_models.AllocatePublicIpAddressRequest(instance_id=iid))
    # ECS reports this class of refusal with 403 (e.g. IncorrectInstanceStatus);
    # any 4xx with a code is accepted, the outcome (no public IP) is asserted.
    assert err is not None and 400 <= err.status < 500 and err.code, f"expected a 4xx error, got {err}"
    assert instance_public_ips(get_instance(ecs_v3, iid)) == []


def test_ecs_04_instance_with_eip_cannot_take_second(vpc_v3, res):
    """ECS-04 'no other EIP' (same invariant as ECS-02, through Stopped state)."""
    iid = res.instance()
    a = res.eip()["AllocationId"]
    b = res.eip()["AllocationId"]
    associate(vpc_v3, a, iid)
    wait_status(vpc_v3, a, "InUse")
    res.ecs.stop_instance(ecs_models.StopInstanceRequest(instance_id=iid))
    wait_instance(res.ecs, iid, "Stopped")
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, b, iid)


# ---------------------------------------------------------------- ECS-05

def test_ecs_05_nat_mode_instance_keeps_private_ip(vpc_v3, ecs_v3, res):
    """NAT mode: the instance keeps only its private IP; the EIP is translated."""
    iid = res.instance()
    before = get_instance(ecs_v3, iid)
    priv = before["VpcAttributes"]["PrivateIpAddress"]["IpAddress"]
    assert priv and priv[0], before["VpcAttributes"]
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, iid)
    e = wait_status(vpc_v3, aid, "InUse")
    assert e.get("Mode") == "NAT", e  # NAT is the only mode for an ECS instance
    after = get_instance(ecs_v3, iid)
    assert after["VpcAttributes"]["PrivateIpAddress"]["IpAddress"] == priv
    assert instance_public_ips(after) == []
    assert instance_eip(after).get("IpAddress") == e["IpAddress"]


# ---------------------------------------------------------------- ECS-06

def test_ecs_06_change_eip_requires_unassociate_first(vpc_v3, ecs_v3, res):
    iid = res.instance()
    a = res.eip()
    b = res.eip()
    associate(vpc_v3, a["AllocationId"], iid)
    wait_status(vpc_v3, a["AllocationId"], "InUse")

    # no in-place swap
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, b["AllocationId"], iid)
    assert instance_eip(get_instance(ecs_v3, iid)).get("AllocationId") == a["AllocationId"]

    unassociate(vpc_v3, a["AllocationId"], iid)
    wait_status(vpc_v3, a["AllocationId"], "Available")
    associate(vpc_v3, b["AllocationId"], iid)
    wait_status(vpc_v3, b["AllocationId"], "InUse")
    eip = instance_eip(get_instance(ecs_v3, iid))
    assert eip.get("AllocationId") == b["AllocationId"] and eip.get("IpAddress") == b["EipAddress"], eip
    assert get_eip(vpc_v3, a["AllocationId"])["Status"] == "Available"
