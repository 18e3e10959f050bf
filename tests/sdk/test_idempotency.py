"""ClientToken: a retry with the same token and parameters returns the first
result; the same token with other parameters gets IdempotentParameterMismatch."""

from __future__ import annotations

import uuid

from aliyunsdkvpc.request.v20160428 import AllocateEipAddressRequest as LAllocate

from conftest import (
    allocate,
    associate,
    describe_eips,
    eip_list,
    expect_error,
    get_eip,
    get_instance,
    instance_eip,
    wait_status,
)


def test_allocate_same_client_token_same_eip(vpc_v3, vpc_v1, res):
    token = uuid.uuid4().hex
    first = allocate(vpc_v3, client_token=token, bandwidth="8")
    res.track_eip(first["AllocationId"])
    # a retry, even through the other signer, returns the same EIP
    again = allocate(vpc_v1, client_token=token, bandwidth="8")
    assert again["AllocationId"] == first["AllocationId"], (first, again)
    assert again["EipAddress"] == first["EipAddress"], (first, again)
    d = describe_eips(vpc_v3, eip_address=first["EipAddress"])
    assert [e["AllocationId"] for e in eip_list(d)] == [first["AllocationId"]], d


def test_allocate_same_client_token_other_params_mismatch(vpc_v3, res):
    token = uuid.uuid4().hex
    first = allocate(vpc_v3, client_token=token, bandwidth="8")
    res.track_eip(first["AllocationId"])
    expect_error(allocate, 400, "IdempotentParameterMismatch", vpc_v3, client_token=token, bandwidth="9")
    assert get_eip(vpc_v3, first["AllocationId"])["Bandwidth"] == "8"


def test_allocate_client_token_legacy(legacy, vpc_v3, res):
    token = uuid.uuid4().hex

    def alloc():
        req = LAllocate.AllocateEipAddressRequest()
        req.set_ClientToken(token)
        req.set_Name("legacy-token")
        return legacy.call(req)

    a, b = alloc(), alloc()
    res.track_eip(a["AllocationId"])
    assert a["AllocationId"] == b["AllocationId"] and a["EipAddress"] == b["EipAddress"], (a, b)


def test_distinct_tokens_distinct_eips(vpc_v3, res):
    a = res.eip(client_token=uuid.uuid4().hex)
    b = res.eip(client_token=uuid.uuid4().hex)
    assert a["AllocationId"] != b["AllocationId"] and a["EipAddress"] != b["EipAddress"]


def test_associate_retry_with_same_client_token(vpc_v3, ecs_v3, res):
    """A retried AssociateEipAddress (same token, same params) is not a new
    operation: no TaskConflict / Duplicated, and one association results."""
    iid = res.instance()
    aid = res.eip()["AllocationId"]
    token = uuid.uuid4().hex
    r1 = associate(vpc_v3, aid, iid, client_token=token)
    r2 = associate(vpc_v3, aid, iid, client_token=token)  # while Associating
    assert r1.get("RequestId") and r2.get("RequestId")
    e = wait_status(vpc_v3, aid, "InUse")
    assert e["InstanceId"] == iid
    r3 = associate(vpc_v3, aid, iid, client_token=token)  # after InUse
    assert r3.get("RequestId")
    assert get_eip(vpc_v3, aid)["Status"] == "InUse"
    assert instance_eip(get_instance(ecs_v3, iid)).get("AllocationId") == aid


def test_associate_same_client_token_other_params_mismatch(vpc_v3, res):
    iid = res.instance()
    other = res.instance()
    aid = res.eip()["AllocationId"]
    token = uuid.uuid4().hex
    associate(vpc_v3, aid, iid, client_token=token)
    expect_error(associate, 400, "IdempotentParameterMismatch", vpc_v3, aid, other, client_token=token)
    assert wait_status(vpc_v3, aid, "InUse")["InstanceId"] == iid
