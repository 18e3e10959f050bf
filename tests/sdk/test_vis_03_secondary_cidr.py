"""VIS-03, the document's recommended alternative to EIP visible mode: a
public CIDR block as a VPC secondary CIDR block, a vSwitch and a secondary
ENI in it whose primary private IP is the EIP's own address, the EIP
associated with that ENI (NAT mode: the EIP maps to the ENI's primary IP,
which is numerically the EIP), and the ENI attached to the instance, so the
operating system holds the public address itself.

This file: AssociateVpcCidrBlock / UnassociateVpcCidrBlock with Alibaba's
checks, DescribeVpcs and DescribeVpcAttribute showing SecondaryCidrBlocks,
vSwitches in the block, and the association as the control plane records it.
Real traffic: test_dataplane_vis03.py."""

from __future__ import annotations

import ipaddress

from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    REGION,
    DEMO_ZONE,
    associate,
    attach_eni,
    body,
    create_eni,
    create_vswitch,
    expect_error,
    get_eip,
    wait_eni,
    wait_status,
)


def add_cidr(vpc, vpc_id: str, cidr: str) -> dict:
    return body(vpc.associate_vpc_cidr_block(vpc_models.AssociateVpcCidrBlockRequest(
        region_id=REGION, vpc_id=vpc_id, secondary_cidr_block=cidr)))


def remove_cidr(vpc, vpc_id: str, cidr: str) -> dict:
    return body(vpc.unassociate_vpc_cidr_block(vpc_models.UnassociateVpcCidrBlockRequest(
        region_id=REGION, vpc_id=vpc_id, secondary_cidr_block=cidr)))


def secondaries(vpc, vpc_id: str) -> tuple[list[str], list[str]]:
    attr = body(vpc.describe_vpc_attribute(vpc_models.DescribeVpcAttributeRequest(region_id=REGION, vpc_id=vpc_id)))
    listed = body(vpc.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION, vpc_id=vpc_id)))
    return (attr["SecondaryCidrBlocks"]["SecondaryCidrBlock"],
            listed["Vpcs"]["Vpc"][0]["SecondaryCidrBlocks"]["SecondaryCidrBlock"])


def block_around(ip: str) -> str:
    """The /24 holding `ip` (its vSwitch then has the EIP's address usable)."""
    return str(ipaddress.ip_network(f"{ip}/24", strict=False))


def test_vis_03_secondary_cidr_blocks_with_alibabas_checks(res, vpc_v3):
    net = res.vpc_net(cidr="10.40.0.0/16")
    got = add_cidr(vpc_v3, net.vpc_id, "172.31.0.0/16")
    assert got["CidrBlock"] == "172.31.0.0/16" and got["IpVersion"] == "IPV4", got
    add_cidr(vpc_v3, net.vpc_id, "203.0.113.0/24")  # public blocks are allowed
    assert secondaries(vpc_v3, net.vpc_id) == (["172.31.0.0/16", "203.0.113.0/24"],) * 2
    expect_error(add_cidr, 400, "InvalidCidrBlock.Overlapped", vpc_v3, net.vpc_id, "10.40.8.0/24")
    expect_error(add_cidr, 400, "InvalidCidrBlock.Overlapped", vpc_v3, net.vpc_id, "172.31.5.0/24")
    for reserved in ("100.64.0.0/16", "224.0.0.0/8", "127.0.0.0/16", "169.254.0.0/16"):
        expect_error(add_cidr, 400, "InvalidCidrBlock.Malformed", vpc_v3, net.vpc_id, reserved)
    expect_error(add_cidr, 400, "InvalidCidrBlock.Malformed", vpc_v3, net.vpc_id, "198.51.100.0/29")
    expect_error(add_cidr, 400, "InvalidCidrBlock.Malformed", vpc_v3, net.vpc_id, "198.51.100.7/24")
    for i in range(3):
        add_cidr(vpc_v3, net.vpc_id, f"192.168.{i}.0/24")
    expect_error(add_cidr, 400, "QuotaExceeded.SecondaryCidrBlock", vpc_v3, net.vpc_id, "192.168.9.0/24")
    # A vSwitch may live in a secondary block; the block cannot go while it does.
    vsw = create_vswitch(vpc_v3, net.vpc_id, DEMO_ZONE, "203.0.113.0/26")
    res.vswitches.append((vsw, REGION))
    expect_error(create_vswitch, 400, "InvalidCidrBlock.Malformed", vpc_v3, net.vpc_id, DEMO_ZONE, "198.51.100.0/24")
    expect_error(remove_cidr, 400, "OperationFailed.CidrInUse", vpc_v3, net.vpc_id, "203.0.113.0/24")
    remove_cidr(vpc_v3, net.vpc_id, "172.31.0.0/16")
    assert "172.31.0.0/16" not in secondaries(vpc_v3, net.vpc_id)[0]
    expect_error(remove_cidr, 400, "InvalidParameter", vpc_v3, net.vpc_id, "172.31.0.0/16")


def test_vis_03_an_eni_holds_the_eips_own_address(server, res, vpc_v3, ecs_v3):
    """The document's sequence through the official SDK: the EIP maps, in NAT
    mode, to the ENI's primary private IP, which is the EIP's address."""
    eip = res.eip()
    a, ip = eip["AllocationId"], eip["EipAddress"]
    iid = res.instance()
    net = res.network
    add_cidr(vpc_v3, net.vpc_id, block_around(ip))
    vsw = create_vswitch(vpc_v3, net.vpc_id, DEMO_ZONE, block_around(ip))
    res.vswitches.append((vsw, REGION))
    eni = create_eni(ecs_v3, vsw, net.sg_id, primary_ip_address=ip)["NetworkInterfaceId"]
    res.enis.append((eni, REGION))
    associate(vpc_v3, a, eni, instance_type="NetworkInterface", private_ip_address=ip)
    wait_status(vpc_v3, a, "InUse")
    attach_eni(ecs_v3, eni, iid)
    wait_eni(ecs_v3, eni, "InUse")
    e = get_eip(vpc_v3, a)
    assert (e["InstanceType"], e["InstanceId"], e["Mode"], e["PrivateIpAddress"]) == (
        "NetworkInterface", eni, "NAT", ip), e
    # The instance sees the public address as an address of its own NIC.
    from conftest import raw_eni, guest_configuration
    gc = guest_configuration(raw_eni(ecs_v3, eni))
    assert [x["Address"] for x in gc["Addresses"]] == [f"{ip}/24"], gc
