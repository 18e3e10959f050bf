"""Fidelity of HaVip association (HA-01) and of NAT gateway SNAT/DNAT entries
(NAT-01, NAT-03), driven through the official Python SDK.

* HA-01: AssociateHaVip says "The HaVip and ECS instance must belong to the
  same vSwitch": an instance or ENI of another zone, or of another vSwitch of
  the same zone, is refused.
* NAT-01: CreateSnatEntry takes one entry per source vSwitch ("Each vSwitch or
  ECS instance can be specified in only one SNAT entry") and EipAffinity 0/1;
  CreateForwardEntry refuses reversed or mismatched port ranges, an InternalIp
  outside the VPC, overlapping external ports, a second entry on the EIP of an
  IpProtocol=Any (IP mapping) entry, and a duplicate destination.
* NAT-03: the default EipBindMode (MULTI_BINDED) lends the EIP no private IP;
  only the NAT mode does (spec/alibaba-api.md §4.3).
"""

from __future__ import annotations

from conftest import (
    DEMO_ZONE,
    SECOND_ZONE,
    associate,
    associate_havip,
    create_dnat,
    create_snat,
    dnat_entries,
    expect_error,
    get_havip,
    get_nat,
    havip_instances,
    nat_forward_table,
    nat_ip_list,
    nat_snat_table,
    snat_entries,
    vswitch_available_ips,
    wait_all,
)


# ---------------------------------------------------------------- HA-01

def test_ha_01_associate_refuses_instance_or_eni_outside_the_havip_vswitch(vpc_v3, res):
    # three vSwitches: two in the HaVip's zone, one in another zone
    net = res.vpc_net(zones=(DEMO_ZONE, DEMO_ZONE, SECOND_ZONE))
    home, same_zone, other_zone = net.vsw_ids
    hid = res.havip(vsw_id=home)["HaVipId"]
    in_same_zone = res.instance(vsw_id=same_zone, sg_id=net.sg_id)
    in_other_zone = res.instance(vsw_id=other_zone, sg_id=net.sg_id)
    expect_error(associate_havip, 400, "OperationDenied", vpc_v3, hid, in_same_zone)
    expect_error(associate_havip, 400, "OperationDenied", vpc_v3, hid, in_other_zone,
                 instance_type="EcsInstance")
    eni_elsewhere = res.eni(vsw_id=same_zone, sg_id=net.sg_id)["NetworkInterfaceId"]
    expect_error(associate_havip, 400, "OperationDenied", vpc_v3, hid, eni_elsewhere,
                 instance_type="NetworkInterface")
    h = get_havip(vpc_v3, hid)
    assert h["Status"] == "Available" and havip_instances(h) == [], h
    # the HaVip's own vSwitch is fine, for an instance and for an ENI
    local = res.instance(vsw_id=home, sg_id=net.sg_id)
    eni_local = res.eni(vsw_id=home, sg_id=net.sg_id)["NetworkInterfaceId"]
    associate_havip(vpc_v3, hid, local)
    associate_havip(vpc_v3, hid, eni_local, instance_type="NetworkInterface")
    h = get_havip(vpc_v3, hid)
    assert set(havip_instances(h)) == {local, eni_local}, h


# ---------------------------------------------------------------- NAT-01 helpers

def _gateway(vpc, res, n_eips=1, **kw):
    b = res.nat(**kw)
    ngw = b["NatGatewayId"]
    aids = [res.eip()["AllocationId"] for _ in range(n_eips)]
    for aid in aids:
        associate(vpc, aid, ngw, instance_type="Nat")
    eips = wait_all(vpc, aids, "InUse")
    return b, [e["IpAddress"] for e in eips]






# ---------------------------------------------------------------- NAT-01 SNAT

def test_nat_01_snat_one_entry_per_source_vswitch(vpc_v3, res):
    b, ips = _gateway(vpc_v3, res, 2)
    stb = nat_snat_table(b)
    vsw = res.network.vsw_id
    create_snat(vpc_v3, stb, ips[0], source_vswitch_id=vsw)
    expect_error(create_snat, 400, "Forbidden.SourceVSwitchId.Duplicated", vpc_v3, stb, ips[1],
                 source_vswitch_id=vsw)
    assert len(snat_entries(vpc_v3, stb)) == 1
    # another source CIDR is another entry
    create_snat(vpc_v3, stb, ips[1], source_cidr="192.168.200.0/24")
    expect_error(create_snat, 400, "Forbidden.SourceVSwitchId.Duplicated", vpc_v3, stb, ips[1],
                 source_cidr="192.168.200.0/24")
    assert len(snat_entries(vpc_v3, stb)) == 2


def test_nat_01_snat_eip_affinity_is_0_or_1(vpc_v3, res):
    b, ips = _gateway(vpc_v3, res, 1)
    stb = nat_snat_table(b)
    for bad in (2, -1):
        expect_error(create_snat, 400, "InvalidParameter", vpc_v3, stb, ips[0],
                     source_cidr="192.168.201.0/24", eip_affinity=bad)
    assert len(snat_entries(vpc_v3, stb)) == 0
    create_snat(vpc_v3, stb, ips[0], source_cidr="192.168.201.0/24", eip_affinity=1)
    create_snat(vpc_v3, stb, ips[0], source_cidr="192.168.202.0/24", eip_affinity=0)
    assert len(snat_entries(vpc_v3, stb)) == 2


# ---------------------------------------------------------------- NAT-01 DNAT

def test_nat_01_dnat_reversed_port_range_is_refused(vpc_v3, res):
    b, [ip] = _gateway(vpc_v3, res, 1)
    ftb = nat_forward_table(b)
    expect_error(create_dnat, 400, "InvalidExternalPort.Malformed", vpc_v3, ftb, ip, "200/100", "192.168.1.5",
                 "200/100")
    expect_error(create_dnat, 400, "InvalidInternalPort.Malformed", vpc_v3, ftb, ip, "100/200", "192.168.1.5",
                 "200/100")
    expect_error(create_dnat, 400, "InvalidExternalPort.Malformed", vpc_v3, ftb, ip, "0", "192.168.1.5", "80")
    assert len(dnat_entries(vpc_v3, ftb)) == 0


def test_nat_01_dnat_port_ranges_must_have_the_same_size(vpc_v3, res):
    b, [ip] = _gateway(vpc_v3, res, 1)
    ftb = nat_forward_table(b)
    expect_error(create_dnat, 400, "InvalidInternalPort.Malformed", vpc_v3, ftb, ip, "100/200", "192.168.1.5",
                 "100/150")
    expect_error(create_dnat, 400, "InvalidInternalPort.Malformed", vpc_v3, ftb, ip, "100/200", "192.168.1.5", "80")
    assert len(dnat_entries(vpc_v3, ftb)) == 0
    f = create_dnat(vpc_v3, ftb, ip, "100/200", "192.168.1.5", "1100/1200")
    assert f["ForwardEntryId"].startswith("fwd-"), f


def test_nat_01_dnat_internal_ip_must_be_in_the_vpc(vpc_v3, res):
    b, [ip] = _gateway(vpc_v3, res, 1)  # session VPC: 192.168.0.0/16
    ftb = nat_forward_table(b)
    expect_error(create_dnat, 400, "Forbidden.DestnationIpOutOfVpcCIDR", vpc_v3, ftb, ip, 80, "10.99.0.5", 80)
    assert len(dnat_entries(vpc_v3, ftb)) == 0
    create_dnat(vpc_v3, ftb, ip, 80, "192.168.63.5", 80)


def test_nat_01_dnat_overlaps_and_duplicate_destinations(vpc_v3, res):
    b, [ip] = _gateway(vpc_v3, res, 1)
    ftb = nat_forward_table(b)
    create_dnat(vpc_v3, ftb, ip, "100/200", "192.168.1.5", "100/200")
    # an external port inside the range, for the same protocol
    expect_error(create_dnat, 400, "Forward.EntryAlreadyExist", vpc_v3, ftb, ip, 150, "192.168.1.6", 150)
    expect_error(create_dnat, 400, "Forward.EntryAlreadyExist", vpc_v3, ftb, ip, "50/100", "192.168.1.6", "50/100")
    # the same destination (protocol, internal IP and port) again
    expect_error(create_dnat, 400, "OperationUnsupported.ForwardEntry", vpc_v3, ftb, ip, 300, "192.168.1.5", 150)
    assert len(dnat_entries(vpc_v3, ftb)) == 1
    create_dnat(vpc_v3, ftb, ip, 150, "192.168.1.6", 150, proto="UDP")  # other protocol
    assert len(dnat_entries(vpc_v3, ftb)) == 2


def test_nat_01_dnat_any_entry_is_alone_on_its_eip(vpc_v3, res):
    b, [busy, free] = _gateway(vpc_v3, res, 2)
    ftb, stb = nat_forward_table(b), nat_snat_table(b)
    create_dnat(vpc_v3, ftb, busy, 80, "192.168.1.5", 80)
    expect_error(create_dnat, 400, "Forward.EntryAlreadyExist", vpc_v3, ftb, busy, "Any", "192.168.1.9", "Any",
                 proto="Any")
    create_dnat(vpc_v3, ftb, free, "Any", "192.168.1.9", "Any", proto="Any")
    expect_error(create_dnat, 400, "Forward.EntryAlreadyExist", vpc_v3, ftb, free, 443, "192.168.1.10", 443)
    # nor may SNAT use the IP-mapped EIP
    expect_error(create_snat, 400, "Forbidden.IpUsedInForwardTable", vpc_v3, stb, free,
                 source_vswitch_id=res.network.vsw_id)
    assert len(dnat_entries(vpc_v3, ftb)) == 2 and len(snat_entries(vpc_v3, stb)) == 0
    create_snat(vpc_v3, stb, busy, source_vswitch_id=res.network.vsw_id)


# ---------------------------------------------------------------- NAT-03

def test_nat_03_default_multi_binded_mode_lends_no_private_ip(vpc_v3, res):
    b = res.nat()
    ngw = b["NatGatewayId"]
    assert get_nat(vpc_v3, ngw)["EipBindMode"] == "MULTI_BINDED"
    before = vswitch_available_ips(vpc_v3, res.network.vsw_id)
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, ngw, instance_type="Nat")
    wait_all(vpc_v3, [aid], "InUse")
    assert vswitch_available_ips(vpc_v3, res.network.vsw_id) == before
    [item] = nat_ip_list(get_nat(vpc_v3, ngw))
    assert not item.get("PrivateIpAddress"), item
