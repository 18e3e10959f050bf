"""Format=XML through the legacy SDK (its raw get_response path keeps the
request's own Format; do_action_with_exception would force JSON)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aliyunsdkvpc.request.v20160428 import (
    DescribeEipAddressesRequest as LDescribe,
    ReleaseEipAddressRequest as LRelease,
)


def test_describe_eip_addresses_xml(legacy, res):
    a = res.eip()
    req = LDescribe.DescribeEipAddressesRequest()
    req.set_AllocationId(a["AllocationId"])
    req.set_accept_format("XML")
    status, headers, raw = legacy.raw(req)
    assert status == 200, raw
    root = ET.fromstring(raw)
    assert root.tag == "DescribeEipAddressesResponse", raw[:200]
    assert root.findtext("RequestId"), raw
    assert root.findtext("TotalCount") == "1", raw
    items = root.findall("./EipAddresses/EipAddress")
    assert len(items) == 1, raw
    assert items[0].findtext("AllocationId") == a["AllocationId"]
    assert items[0].findtext("IpAddress") == a["EipAddress"]
    assert items[0].findtext("Status") == "Available"


def test_error_xml(legacy):
    req = LRelease.ReleaseEipAddressRequest()
    req.set_AllocationId("eip-" + "0" * 22)
    req.set_accept_format("XML")
    status, headers, raw = legacy.raw(req)
    assert status == 404, raw
    root = ET.fromstring(raw)
    assert root.tag == "Error", raw[:200]
    assert root.findtext("Code") == "InvalidAllocationId.NotFound", raw
    for k in ("RequestId", "HostId", "Message"):
        assert root.findtext(k), f"{k} missing: {raw!r}"
