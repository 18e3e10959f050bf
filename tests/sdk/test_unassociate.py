"""UnassociateEipAddress details (BIL-01, BIL-03, GEN-04)."""

from __future__ import annotations

from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    REGION,
    associate,
    capture_error,
    get_eip,
    get_instance,
    instance_eip,
    unassociate,
    wait_status,
)


def test_bil_03_unassociate_with_only_allocation_id(vpc_v1, ecs_v1, res):
    """InstanceId and InstanceType are optional: the EIP knows its resource."""
    iid = res.instance()
    aid = res.eip(client=vpc_v1)["AllocationId"]
    associate(vpc_v1, aid, iid)
    wait_status(vpc_v1, aid, "InUse")
    vpc_v1.unassociate_eip_address(vpc_models.UnassociateEipAddressRequest(region_id=REGION, allocation_id=aid))
    e = wait_status(vpc_v1, aid, "Available")
    assert not e.get("InstanceId")
    assert not instance_eip(get_instance(ecs_v1, iid)).get("AllocationId")


def test_bil_01_unassociated_eip_stays_allocated(vpc_v3, res):
    """After unassociation a pay-as-you-go EIP is kept (and billed) until released."""
    iid = res.instance()
    a = res.eip()
    associate(vpc_v3, a["AllocationId"], iid)
    wait_status(vpc_v3, a["AllocationId"], "InUse")
    unassociate(vpc_v3, a["AllocationId"], iid)
    wait_status(vpc_v3, a["AllocationId"], "Available")
    e = get_eip(vpc_v3, a["AllocationId"])
    assert e is not None and e["IpAddress"] == a["EipAddress"] and e["ChargeType"] == "PostPaid", e


def test_gen_04_unassociate_with_wrong_instance_refused(vpc_v3, ecs_v3, res):
    """Unassociating from an instance the EIP is not on must not detach it."""
    iid = res.instance()
    other = res.instance()
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, iid)
    wait_status(vpc_v3, aid, "InUse")
    err = capture_error(unassociate, vpc_v3, aid, other)
    assert err is not None and err.status in (400, 404), f"expected a refusal, got {err}"
    e = get_eip(vpc_v3, aid)
    assert e["Status"] == "InUse" and e["InstanceId"] == iid, e
    assert instance_eip(get_instance(ecs_v3, iid)).get("AllocationId") == aid
