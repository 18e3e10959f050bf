"""GEN-01: every resource lives in one region; an EIP only associates with a
resource of its own region (400 InvalidParameter.Mismatch otherwise)."""

from __future__ import annotations

import ipaddress

from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    DEMO_ZONE,
    REGION,
    assert_pool_address,
    associate,
    body,
    describe_eips,
    eip_list,
    expect_error,
    get_eip,
    wait_status,
)


def test_gen_01_describe_regions_vpc_and_ecs(vpc_v3, ecs_v1):
    v = body(vpc_v3.describe_regions(vpc_models.DescribeRegionsRequest()))
    vr = {r["RegionId"]: r for r in v["Regions"]["Region"]}
    assert REGION in vr, v
    assert vr[REGION].get("LocalName"), vr[REGION]
    assert len(vr) >= 2, "need at least two regions to prove GEN-01"

    e = body(ecs_v1.describe_regions(ecs_models.DescribeRegionsRequest()))
    er = {r["RegionId"] for r in e["Regions"]["Region"]}
    assert REGION in er, e
    assert er == set(vr), f"VPC and ECS disagree on regions: {sorted(vr)} vs {sorted(er)}"


def test_gen_01_describe_zones_vpc_and_ecs(vpc_v1, ecs_v3):
    v = body(vpc_v1.describe_zones(vpc_models.DescribeZonesRequest(region_id=REGION)))
    vz = {z["ZoneId"] for z in v["Zones"]["Zone"]}
    assert DEMO_ZONE in vz, v
    assert all(z.startswith(REGION + "-") for z in vz), vz

    e = body(ecs_v3.describe_zones(ecs_models.DescribeZonesRequest(region_id=REGION)))
    ez = {z["ZoneId"] for z in e["Zones"]["Zone"]}
    assert DEMO_ZONE in ez, e


def test_gen_01_eips_are_regional(vpc_v3, other_region, res):
    here = res.eip()
    there = res.eip(region=other_region)
    assert_pool_address(there["EipAddress"])

    # each region lists only its own EIPs
    d_here = describe_eips(vpc_v3, allocation_id=f"{here['AllocationId']},{there['AllocationId']}")
    assert [e["AllocationId"] for e in eip_list(d_here)] == [here["AllocationId"]], d_here
    d_there = describe_eips(vpc_v3, region=other_region,
                            allocation_id=f"{here['AllocationId']},{there['AllocationId']}")
    [e] = eip_list(d_there)
    assert e["AllocationId"] == there["AllocationId"] and e["RegionId"] == other_region, e

    # cn-hangzhou has its own /20 inside 198.18.0.0/15
    hz_pool = ipaddress.ip_network(f"{here['EipAddress']}/20", strict=False)
    assert ipaddress.ip_address(there["EipAddress"]) not in hz_pool, \
        f"{other_region} address {there['EipAddress']} inside cn-hangzhou's pool {hz_pool}"


def test_gen_01_eip_and_instance_in_different_regions_mismatch(vpc_v3, other_region, res):
    """EIP in another region, instance in cn-hangzhou."""
    iid = res.instance()
    aid = res.eip(region=other_region)["AllocationId"]
    expect_error(associate, 400, "InvalidParameter.Mismatch", vpc_v3, aid, iid, region=other_region)
    e = get_eip(vpc_v3, aid, region=other_region)
    assert e["Status"] == "Available" and not e.get("InstanceId"), e


def test_gen_01_ecs_01_instance_in_other_region_mismatch(vpc_v1, other_region, res):
    """Instance in another region (own VPC there), EIP in cn-hangzhou."""
    stack = res.stack(region=other_region)
    aid = res.eip(client=vpc_v1)["AllocationId"]
    expect_error(associate, 400, "InvalidParameter.Mismatch", vpc_v1, aid, stack.instance_id)
    assert get_eip(vpc_v1, aid)["Status"] == "Available"

    # and the same-region pair works
    aid2 = res.eip(client=vpc_v1, region=other_region)["AllocationId"]
    associate(vpc_v1, aid2, stack.instance_id, region=other_region)
    e = wait_status(vpc_v1, aid2, "InUse", region=other_region)
    assert e["InstanceId"] == stack.instance_id and e["RegionId"] == other_region, e
