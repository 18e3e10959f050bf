"""ModifyEipAddressAttribute, bandwidth ranges, release of subscription EIPs
(BIL-01/BIL-02 related: PrePaid EIPs cannot be released through the API)."""

from __future__ import annotations

import pytest

from conftest import (
    allocate,
    expect_error,
    get_eip,
    modify,
    release,
    wait_status,
)


def test_modify_name_description_bandwidth(vpc_v3, vpc_v1, res):
    a = res.eip()
    aid = a["AllocationId"]
    r = modify(vpc_v3, aid, name="web-1", description="front door", bandwidth="50")
    assert r.get("RequestId"), r
    e = get_eip(vpc_v1, aid)
    assert (e["Name"], e["Description"], e["Bandwidth"]) == ("web-1", "front door", "50"), e
    assert e["IpAddress"] == a["EipAddress"] and e["Status"] == "Available"

    # only what is sent changes
    modify(vpc_v1, aid, bandwidth="60")
    e = get_eip(vpc_v3, aid)
    assert (e["Name"], e["Description"], e["Bandwidth"]) == ("web-1", "front door", "60"), e


@pytest.mark.parametrize("charge,limit", [("PayByBandwidth", 500), ("PayByTraffic", 200)])
def test_allocate_bandwidth_range(vpc_v3, res, charge, limit):
    for bad in ("0", str(limit + 1)):
        expect_error(allocate, 400, "InvalidParameter", vpc_v3, internet_charge_type=charge, bandwidth=bad)
    for ok in ("1", str(limit)):
        a = res.eip(internet_charge_type=charge, bandwidth=ok)
        e = get_eip(vpc_v3, a["AllocationId"])
        assert e["Bandwidth"] == ok and e["InternetChargeType"] == charge, e


@pytest.mark.parametrize("charge,limit", [("PayByBandwidth", 500), ("PayByTraffic", 200)])
def test_modify_bandwidth_range(vpc_v1, res, charge, limit):
    aid = res.eip(client=vpc_v1, internet_charge_type=charge)["AllocationId"]
    for bad in ("0", str(limit + 1)):
        expect_error(modify, 400, "InvalidParameter", vpc_v1, aid, bandwidth=bad)
    modify(vpc_v1, aid, bandwidth=str(limit))
    assert get_eip(vpc_v1, aid)["Bandwidth"] == str(limit)


def test_release_prepaid_forbidden(vpc_v3, res):
    a = res.eip(instance_charge_type="PrePaid", internet_charge_type="PayByBandwidth",
                period=1, pricing_cycle="Month", auto_pay=True)
    aid = a["AllocationId"]
    e = get_eip(vpc_v3, aid)
    assert e["ChargeType"] == "PrePaid" and e["Status"] == "Available", e
    expect_error(release, 400, "Forbidden.ChargeTypeIsPrepaid", vpc_v3, aid)
    assert get_eip(vpc_v3, aid)["Status"] == "Available"


def test_release_available_postpaid(vpc_v1, res):
    aid = res.eip(client=vpc_v1)["AllocationId"]
    assert release(vpc_v1, aid).get("RequestId")
    wait_status(vpc_v1, aid, None)
    assert get_eip(vpc_v1, aid) is None
