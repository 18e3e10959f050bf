"""Invariants under concurrency (GEN-02, GEN-04, ECS-02 are in their own
files; these add the pool and idempotency angles)."""

from __future__ import annotations

import threading
import uuid

from conftest import (
    allocate,
    associate,
    capture_error,
    describe_eips,
    eip_list,
    get_eip,
    get_instance,
    in_threads,
    instance_eip,
    run_instances,
    wait_instance,
    wait_status,
)


def test_gen_04_concurrent_associate_same_eip_one_wins(server, vpc_v3, ecs_v3, res):
    """One EIP, 12 instances, concurrent AssociateEipAddress: one resource at a time."""
    n = 12
    ids = run_instances(ecs_v3, res.network.vsw_id, res.network.sg_id, amount=n)
    for iid in ids:
        res.track_instance(iid)
    for iid in ids:
        wait_instance(ecs_v3, iid, "Running")
    aid = res.eip()["AllocationId"]
    barrier = threading.Barrier(n)

    def worker(i):
        vpc = server.vpc(v1=bool(i % 2))
        barrier.wait(timeout=30)
        return ids[i], capture_error(associate, vpc, aid, ids[i])

    results = in_threads(n, worker)
    for r in results:
        assert not isinstance(r, BaseException), f"worker crashed: {r!r}"
    winners = [iid for iid, err in results if err is None]
    assert len(winners) == 1, f"winners {winners}; {[(i, str(e)) for i, e in results if e]}"
    for iid, err in results:
        if err is not None:
            assert err.status == 400 and err.code in ("TaskConflict", "IncorrectEipStatus"), f"{iid}: {err}"
    e = wait_status(vpc_v3, aid, "InUse")
    assert e["InstanceId"] == winners[0]
    with_eip = [iid for iid in ids if instance_eip(get_instance(ecs_v3, iid)).get("AllocationId")]
    assert with_eip == winners, with_eip


def test_gen_02_concurrent_allocations_get_distinct_addresses(server, res):
    n = 24
    barrier = threading.Barrier(n)

    def worker(i):
        vpc = server.vpc(v1=bool(i % 2))
        barrier.wait(timeout=30)
        return res.eip(client=vpc)

    results = in_threads(n, worker)
    for r in results:
        assert not isinstance(r, BaseException), f"worker failed: {r!r}"
    assert len({r["AllocationId"] for r in results}) == n
    assert len({r["EipAddress"] for r in results}) == n, sorted(r["EipAddress"] for r in results)


def test_concurrent_retries_with_one_client_token_allocate_once(server, vpc_v3, res):
    n = 8
    token = uuid.uuid4().hex
    barrier = threading.Barrier(n)

    def worker(i):
        vpc = server.vpc(v1=bool(i % 2))
        barrier.wait(timeout=30)
        return allocate(vpc, client_token=token, name="one-token")

    results = in_threads(n, worker)
    for r in results:
        assert not isinstance(r, BaseException), f"retry failed: {r!r}"
    aids = {r["AllocationId"] for r in results}
    assert len(aids) == 1, aids
    [aid] = aids
    res.track_eip(aid)
    d = describe_eips(vpc_v3, eip_address=results[0]["EipAddress"])
    assert [e["AllocationId"] for e in eip_list(d)] == [aid], d
    assert get_eip(vpc_v3, aid)["Name"] == "one-token"
