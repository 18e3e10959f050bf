"""GEN-04: association is asynchronous; transitional states refuse writes.

Available -> Associating -> InUse -> Unassociating -> Available -> Releasing
-> gone. While an EIP is Associating / Unassociating / Releasing every other
write gets 400 TaskConflict; an InUse EIP cannot be associated again or
released (400 IncorrectEipStatus).

The transitional windows last about the task delay (200 ms by default); each
test checks afterwards that the EIP really was still transitional, so a
too-short window shows up as a clear failure rather than a wrong verdict.
"""

from __future__ import annotations

import pytest

from conftest import (
    associate,
    describe_eips,
    eip_list,
    expect_error,
    get_eip,
    modify,
    release,
    unassociate,
    wait_status,
)


def _still(vpc, aid, status):
    e = get_eip(vpc, aid)
    if (e or {}).get("Status") != status:
        pytest.fail(f"timing: {aid} left {status} before the checks finished (now {e}); "
                    "raise EIPD_TEST_TASK_DELAY_MS")


def test_gen_04_associating_refuses_other_writes(vpc_v3, res):
    iid = res.instance()
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, iid)

    # the Status filter sees the transitional state
    d = describe_eips(vpc_v3, allocation_id=aid, status="Associating")
    assert [e["AllocationId"] for e in eip_list(d)] == [aid], d

    expect_error(unassociate, 400, "TaskConflict", vpc_v3, aid, iid)
    expect_error(release, 400, "TaskConflict", vpc_v3, aid)
    expect_error(modify, 400, "IncorrectEipStatus", vpc_v3, aid, name="renamed")
    _still(vpc_v3, aid, "Associating")

    e = wait_status(vpc_v3, aid, "InUse")
    assert e["InstanceId"] == iid
    assert e.get("Name", "") != "renamed", "a refused Modify must not change the EIP"


def test_gen_04_unassociating_refuses_other_writes(vpc_v1, res):
    iid = res.instance()
    aid = res.eip()["AllocationId"]
    associate(vpc_v1, aid, iid)
    wait_status(vpc_v1, aid, "InUse")

    unassociate(vpc_v1, aid, iid)
    expect_error(associate, 400, "TaskConflict", vpc_v1, aid, iid)
    expect_error(unassociate, 400, "TaskConflict", vpc_v1, aid, iid)
    expect_error(release, 400, "TaskConflict", vpc_v1, aid)
    expect_error(modify, 400, "IncorrectEipStatus", vpc_v1, aid, bandwidth="10")
    _still(vpc_v1, aid, "Unassociating")

    e = wait_status(vpc_v1, aid, "Available")
    assert not e.get("InstanceId"), e
    assert e["Bandwidth"] != "10", "a refused Modify must not change the EIP"


def test_gen_04_releasing_refuses_other_writes(vpc_v3, res):
    iid = res.instance()
    aid = res.eip()["AllocationId"]
    release(vpc_v3, aid)
    e = get_eip(vpc_v3, aid)
    if e is None:
        pytest.fail("timing: EIP already gone right after ReleaseEipAddress")
    assert e["Status"] == "Releasing", e

    expect_error(associate, 400, "TaskConflict", vpc_v3, aid, iid)
    expect_error(release, 400, "TaskConflict", vpc_v3, aid)
    expect_error(modify, 400, "IncorrectEipStatus", vpc_v3, aid, name="x")
    _still(vpc_v3, aid, "Releasing")

    wait_status(vpc_v3, aid, None)
    # once gone, it is not found
    expect_error(release, 404, "InvalidAllocationId.NotFound", vpc_v3, aid)
    expect_error(associate, 404, "InvalidAllocationId.NotFound", vpc_v3, aid, iid)


def test_gen_04_inuse_refuses_associate_and_release(vpc_v3, res):
    iid = res.instance()
    other = res.instance()
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, iid)
    wait_status(vpc_v3, aid, "InUse")

    expect_error(associate, 400, "IncorrectEipStatus", vpc_v3, aid, other)
    expect_error(release, 400, "IncorrectEipStatus", vpc_v3, aid)
    e = get_eip(vpc_v3, aid)
    assert e["Status"] == "InUse" and e["InstanceId"] == iid, e


def test_gen_04_unassociate_of_available_eip_refused(vpc_v3, res):
    """Documented for UnassociateEipAddress: 400 IncorrectEipStatus."""
    iid = res.instance()
    aid = res.eip()["AllocationId"]
    expect_error(unassociate, 400, "IncorrectEipStatus", vpc_v3, aid, iid)
    assert get_eip(vpc_v3, aid)["Status"] == "Available"


def test_gen_04_release_is_async_then_gone(vpc_v1, res):
    aid = res.eip(client=vpc_v1)["AllocationId"]
    release(vpc_v1, aid)
    d = describe_eips(vpc_v1, allocation_id=aid, status="Releasing")
    items = eip_list(d)
    assert [e["AllocationId"] for e in items] == [aid], d
    wait_status(vpc_v1, aid, None)
    assert eip_list(describe_eips(vpc_v1, allocation_id=aid)) == []
