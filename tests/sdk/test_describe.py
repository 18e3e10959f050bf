"""DescribeEipAddresses: filters, pagination and the response shape."""

from __future__ import annotations

import uuid

from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    ISO_Z,
    REGION,
    associate,
    capture_error,
    describe_eips,
    eip_list,
    wait_status,
)


def _ids(d):
    return [e["AllocationId"] for e in eip_list(d)]


def _tag(key, value):
    return vpc_models.AllocateEipAddressRequestTag(key=key, value=value)


def _dtag(key, value):
    return vpc_models.DescribeEipAddressesRequestTag(key=key, value=value)


def test_describe_by_allocation_id_list(vpc_v3, res):
    a, b, c = (res.eip()["AllocationId"] for _ in range(3))
    d = describe_eips(vpc_v3, allocation_id=f"{a},{c}")
    assert sorted(_ids(d)) == sorted([a, c]), d
    assert d["TotalCount"] == 2
    assert b not in _ids(d)


def test_describe_by_eip_address_list(vpc_v1, res):
    a, b, c = (res.eip(client=vpc_v1) for _ in range(3))
    d = describe_eips(vpc_v1, eip_address=f"{a['EipAddress']},{b['EipAddress']}")
    assert sorted(_ids(d)) == sorted([a["AllocationId"], b["AllocationId"]]), d
    assert {e["IpAddress"] for e in eip_list(d)} == {a["EipAddress"], b["EipAddress"]}


def test_describe_by_status_and_associated_instance(vpc_v3, res):
    iid = res.instance()
    a = res.eip()["AllocationId"]
    b = res.eip()["AllocationId"]
    associate(vpc_v3, a, iid)
    wait_status(vpc_v3, a, "InUse")
    ids = f"{a},{b}"
    assert _ids(describe_eips(vpc_v3, allocation_id=ids, status="InUse")) == [a]
    assert _ids(describe_eips(vpc_v3, allocation_id=ids, status="Available")) == [b]
    assert _ids(describe_eips(vpc_v3, allocation_id=ids, status="Associating")) == []
    d = describe_eips(vpc_v3, associated_instance_type="EcsInstance", associated_instance_id=iid)
    assert _ids(d) == [a], d
    assert _ids(describe_eips(vpc_v3, allocation_id=ids, associated_instance_type="Nat")) == []


def test_describe_by_charge_type(vpc_v3, res):
    post = res.eip()["AllocationId"]
    pre = res.eip(instance_charge_type="PrePaid", internet_charge_type="PayByBandwidth",
                  period=1, pricing_cycle="Month", auto_pay=True)["AllocationId"]
    ids = f"{post},{pre}"
    assert _ids(describe_eips(vpc_v3, allocation_id=ids, charge_type="PostPaid")) == [post]
    d = describe_eips(vpc_v3, allocation_id=ids, charge_type="PrePaid")
    assert _ids(d) == [pre]
    assert eip_list(d)[0]["ChargeType"] == "PrePaid"


def test_describe_by_tag(vpc_v3, res):
    team = uuid.uuid4().hex[:12]
    a = res.eip(tag=[_tag("team", team), _tag("env", "test")])["AllocationId"]
    b = res.eip(tag=[_tag("team", team), _tag("env", "prod")])["AllocationId"]
    res.eip(tag=[_tag("team", "other-" + team)])
    d = describe_eips(vpc_v3, tag=[_dtag("team", team)])
    assert sorted(_ids(d)) == sorted([a, b]), d
    d = describe_eips(vpc_v3, tag=[_dtag("team", team), _dtag("env", "prod")])
    assert _ids(d) == [b], d
    tags = {t["Key"]: t["Value"] for t in eip_list(d)[0]["Tags"]["Tag"]}
    assert tags == {"team": team, "env": "prod"}, tags
    # A key without a value matches that key with any value.
    d = describe_eips(vpc_v3, tag=[_dtag("team", team), _dtag("env", None)])
    assert sorted(_ids(d)) == sorted([a, b]), d


def test_describe_pagination(vpc_v1, res):
    team = uuid.uuid4().hex[:12]
    mine = {res.eip(client=vpc_v1, tag=[_tag("page", team)])["AllocationId"] for _ in range(3)}
    p1 = describe_eips(vpc_v1, tag=[_dtag("page", team)], page_size=2, page_number=1)
    p2 = describe_eips(vpc_v1, tag=[_dtag("page", team)], page_size=2, page_number=2)
    p3 = describe_eips(vpc_v1, tag=[_dtag("page", team)], page_size=2, page_number=3)
    assert (p1["TotalCount"], p1["PageNumber"], p1["PageSize"]) == (3, 1, 2), p1
    assert (p2["TotalCount"], p2["PageNumber"], p2["PageSize"]) == (3, 2, 2), p2
    # Past the end the page is empty and the total still counts everything.
    assert (p3["TotalCount"], p3["PageNumber"]) == (3, 3), p3
    assert len(_ids(p1)) == 2 and len(_ids(p2)) == 1 and _ids(p3) == []
    assert set(_ids(p1)) | set(_ids(p2)) == mine


def test_describe_page_size_default_and_bounds(vpc_v3):
    d = describe_eips(vpc_v3)
    assert d["PageSize"] == 10 and d["PageNumber"] == 1, {k: d[k] for k in ("PageSize", "PageNumber")}
    assert len(eip_list(d)) <= 10
    assert describe_eips(vpc_v3, page_size=100)["PageSize"] == 100
    assert describe_eips(vpc_v3, page_size=1)["PageSize"] == 1
    for bad in (0, 101):
        err = capture_error(describe_eips, vpc_v3, page_size=bad)
        assert err is not None and err.status == 400 and err.code.startswith("InvalidParameter"), \
            f"PageSize={bad}: {err}"
    err = capture_error(describe_eips, vpc_v3, page_number=0)
    assert err is not None and err.status == 400 and err.code.startswith("InvalidParameter"), err


def test_describe_response_shape_and_types(vpc_v3, res):
    """Exact wire types (the Python SDK stores what it receives, no coercion)."""
    a = res.eip(name="shape", description="typed fields", bandwidth="7")
    d = describe_eips(vpc_v3, allocation_id=a["AllocationId"])
    assert isinstance(d["RequestId"], str) and d["RequestId"]
    for k in ("TotalCount", "PageNumber", "PageSize"):
        assert type(d[k]) is int, f"{k} must be an int: {d[k]!r}"
    [e] = eip_list(d)
    assert e["IpAddress"] == a["EipAddress"]
    assert e["Bandwidth"] == "7", "Bandwidth is a string on the wire"
    assert e["Name"] == "shape" and e["Description"] == "typed fields", e
    assert e["RegionId"] == REGION
    assert e["ChargeType"] == "PostPaid"
    assert e["InternetChargeType"] in ("PayByBandwidth", "PayByTraffic"), e
    assert ISO_Z.match(e["AllocationTime"]), e["AllocationTime"]
    # wrapped lists (object wrapper, then an array even when empty)
    assert isinstance(e["OperationLocks"]["LockReason"], list), e.get("OperationLocks")
    assert isinstance(e["Tags"]["Tag"], list), e.get("Tags")
    assert isinstance(e["SecurityProtectionTypes"]["SecurityProtectionType"], list), e
    # booleans, integers and boolean-like strings as the SDK models declare them
    assert type(e["DeletionProtection"]) is bool and type(e["SecondLimited"]) is bool, e
    assert type(e["ServiceManaged"]) is int, e
    assert e["HDMonitorStatus"] in ("true", "false") and e["HasReservationData"] in ("true", "false"), e
    assert isinstance(e["EipBandwidth"], str), e


def test_allocate_defaults(vpc_v3, res):
    """Documented defaults: PostPaid, PayByBandwidth, 5 Mbit/s."""
    a = res.eip()
    assert a.get("RequestId") and a["EipAddress"]
    [e] = eip_list(describe_eips(vpc_v3, allocation_id=a["AllocationId"]))
    assert e["ChargeType"] == "PostPaid", e
    assert e["InternetChargeType"] == "PayByBandwidth", e
    assert e["Bandwidth"] == "5", e
    assert e["Status"] == "Available", e


def test_describe_unknown_status_value(vpc_v3):
    err = capture_error(describe_eips, vpc_v3, status="Sleeping")
    # either an empty result or a 400 InvalidParameter-like code is acceptable;
    # what must not happen is a 5xx or an unfiltered list.
    if err is None:
        assert eip_list(describe_eips(vpc_v3, status="Sleeping")) == []
    else:
        assert err.status == 400, err
