"""ENI-07, VIS-05, NAT-04: AssociateEipAddressBatch, all or nothing
(docs/design/targets-contract.md, "AssociateEipAddressBatch")."""

from __future__ import annotations

import uuid

from conftest import (
    associate,
    associate_batch,
    capture_error,
    describe_eips,
    eip_list,
    eni_private_ips,
    eni_public_ip_map,
    expect_error,
    get_eip,
    get_eni,
    get_nat,
    nat_ip_list,
    wait_all,
    wait_status,
)

NI = "NetworkInterface"


def _untouched(vpc, aids):
    for aid in aids:
        e = get_eip(vpc, aid)
        assert e["Status"] == "Available" and not e.get("InstanceId"), f"batch was not all-or-nothing: {e}"


# ---------------------------------------------------------------- ENI-07

def test_eni_07_batch_nat_mode_takes_free_private_ips_in_order(vpc_v3, ecs_v3, res):
    eni = res.eni(secondary_private_ip_address_count=3)["NetworkInterfaceId"]
    ips = eni_private_ips(get_eni(ecs_v3, eni))
    aids = [res.eip()["AllocationId"] for _ in ips]
    b = associate_batch(vpc_v3, eni, NI, aids)
    assert b.get("RequestId"), b
    for aid in aids:  # each goes Associating -> InUse
        e = get_eip(vpc_v3, aid)
        assert (e["Status"], e["InstanceId"]) == ("Associating", eni), e
    got = wait_all(vpc_v3, aids, "InUse")
    assert [(e["InstanceId"], e["InstanceType"], e["Mode"]) for e in got] == [(eni, NI, "NAT")] * len(aids), got
    assert [e["PrivateIpAddress"] for e in got] == ips, f"private IPs not taken in order: {got}"
    assert eni_public_ip_map(get_eni(ecs_v3, eni)) == dict(zip(ips, aids))


def test_eni_07_batch_skips_private_ips_already_taken(vpc_v3, ecs_v3, res):
    eni = res.eni(secondary_private_ip_address_count=2)["NetworkInterfaceId"]
    ips = eni_private_ips(get_eni(ecs_v3, eni))
    first = res.eip()["AllocationId"]
    associate(vpc_v3, first, eni, instance_type=NI, private_ip_address=ips[1])
    wait_status(vpc_v3, first, "InUse")
    aids = [res.eip()["AllocationId"] for _ in range(2)]
    associate_batch(vpc_v3, eni, NI, aids, mode="NAT")
    got = wait_all(vpc_v3, aids, "InUse")
    assert [e["PrivateIpAddress"] for e in got] == [ips[0], ips[2]], got


def test_eni_07_batch_all_or_nothing_when_private_ips_run_out(vpc_v3, ecs_v3, res):
    eni = res.eni(secondary_private_ip_address_count=1)["NetworkInterfaceId"]  # 2 private IPs
    aids = [res.eip()["AllocationId"] for _ in range(3)]
    err = capture_error(associate_batch, vpc_v3, eni, NI, aids)
    assert err is not None, "3 NAT-mode EIPs on an ENI with 2 private IPs succeeded"
    # the contract names no code; Alibaba documents this one for "eni assigned
    # eip is more than privateIp"
    assert (err.status, err.code) == (400, "InvalidEip.EipQuotaExceeded"), err
    _untouched(vpc_v3, aids)
    assert eni_public_ip_map(get_eni(ecs_v3, eni)) == {}


def test_eni_07_batch_all_or_nothing_one_bad_eip(vpc_v3, ecs_v3, res):
    iid = res.instance()
    eni = res.eni(secondary_private_ip_address_count=3)["NetworkInterfaceId"]
    busy = res.eip()["AllocationId"]
    associate(vpc_v3, busy, iid)
    wait_status(vpc_v3, busy, "InUse")
    good = [res.eip()["AllocationId"] for _ in range(2)]
    # one EIP in use elsewhere, in the middle
    expect_error(associate_batch, 400, "IncorrectEipStatus", vpc_v3, eni, NI, [good[0], busy, good[1]])
    _untouched(vpc_v3, good)
    assert get_eip(vpc_v3, busy)["InstanceId"] == iid
    # one EIP that does not exist, last
    expect_error(associate_batch, 404, "InvalidAllocationId.NotFound", vpc_v3, eni, NI,
                 good + ["eip-" + "0" * 22])
    _untouched(vpc_v3, good)
    assert eni_public_ip_map(get_eni(ecs_v3, eni)) == {}
    # the same ids minus the bad one go through
    associate_batch(vpc_v3, eni, NI, good)
    assert {e["InstanceId"] for e in wait_all(vpc_v3, good, "InUse")} == {eni}


def test_eni_07_batch_parameter_checks(vpc_v3, res):
    eni = res.eni()["NetworkInterfaceId"]
    aid = res.eip()["AllocationId"]
    expect_error(associate_batch, 400, "InvalidInstanceType.ValueNotSupported", vpc_v3, eni, "EcsInstance", [aid])
    expect_error(associate_batch, 400, "InvalidInstanceType.ValueNotSupported", vpc_v3, eni, "HaVip", [aid])
    fake = [f"eip-{uuid.uuid4().hex[:22]}" for _ in range(51)]
    expect_error(associate_batch, 400, "InvalidParameter", vpc_v3, eni, NI, fake)
    _untouched(vpc_v3, [aid])


# ---------------------------------------------------------------- VIS-05

def test_vis_05_batch_in_multi_binded_mode(vpc_v3, ecs_v3, res):
    eni = res.eni()["NetworkInterfaceId"]  # one private IP only: MULTI_BINDED needs none
    aids = [res.eip()["AllocationId"] for _ in range(4)]
    associate_batch(vpc_v3, eni, NI, aids, mode="MULTI_BINDED")
    got = wait_all(vpc_v3, aids, "InUse")
    assert {(e["InstanceId"], e["InstanceType"], e["Mode"]) for e in got} == {(eni, NI, "MULTI_BINDED")}, got
    d = describe_eips(vpc_v3, associated_instance_type=NI, associated_instance_id=eni)
    assert sorted(e["AllocationId"] for e in eip_list(d)) == sorted(aids), d


def test_vis_05_batch_over_multi_binded_quota_changes_nothing(vpc_v3, res):
    eni = res.eni()["NetworkInterfaceId"]
    aids = [res.eip()["AllocationId"] for _ in range(11)]
    expect_error(associate_batch, 400, "QuotaExceed.MultiBindedEip", vpc_v3, eni, NI, aids, mode="MULTI_BINDED")
    _untouched(vpc_v3, aids)
    associate_batch(vpc_v3, eni, NI, aids[:8], mode="MULTI_BINDED")
    wait_all(vpc_v3, aids[:8], "InUse")
    expect_error(associate_batch, 400, "QuotaExceed.MultiBindedEip", vpc_v3, eni, NI, aids[8:], mode="MULTI_BINDED")
    _untouched(vpc_v3, aids[8:])


def test_vis_05_batch_multi_binded_on_attached_eni_refused(vpc_v3, ecs_v3, res):
    from conftest import attach_eni, wait_eni

    iid = res.instance()
    eni = res.eni()["NetworkInterfaceId"]
    attach_eni(ecs_v3, eni, iid)
    wait_eni(ecs_v3, eni, "InUse")
    aids = [res.eip()["AllocationId"] for _ in range(2)]
    expect_error(associate_batch, 400, "Eni.Attached", vpc_v3, eni, NI, aids, mode="MULTI_BINDED")
    _untouched(vpc_v3, aids)


# ---------------------------------------------------------------- NAT-04

def test_nat_04_batch_on_nat_gateway(vpc_v3, res):
    ngw = res.nat()["NatGatewayId"]
    aids = [res.eip()["AllocationId"] for _ in range(5)]
    associate_batch(vpc_v3, ngw, "Nat", aids)
    got = wait_all(vpc_v3, aids, "InUse")
    assert {(e["InstanceId"], e["InstanceType"]) for e in got} == {(ngw, "Nat")}, got
    ips = nat_ip_list(get_nat(vpc_v3, ngw))
    assert sorted(i["AllocationId"] for i in ips) == sorted(aids), ips
    assert {i["IpAddress"] for i in ips} == {e["IpAddress"] for e in got}, ips
    d = describe_eips(vpc_v3, associated_instance_type="Nat", associated_instance_id=ngw)
    assert sorted(e["AllocationId"] for e in eip_list(d)) == sorted(aids), d


def test_nat_04_batch_over_20_changes_nothing(vpc_v3, res):
    ngw = res.nat()["NatGatewayId"]
    aids = [res.eip()["AllocationId"] for _ in range(21)]
    expect_error(associate_batch, 400, "QuotaExceeded.NumberOfEip", vpc_v3, ngw, "Nat", aids)
    _untouched(vpc_v3, aids)
    assert nat_ip_list(get_nat(vpc_v3, ngw)) == []
    associate_batch(vpc_v3, ngw, "Nat", aids[:20])
    wait_all(vpc_v3, aids[:20], "InUse")
    assert len(nat_ip_list(get_nat(vpc_v3, ngw))) == 20
    expect_error(associate_batch, 400, "QuotaExceeded.NumberOfEip", vpc_v3, ngw, "Nat", aids[20:])
    _untouched(vpc_v3, aids[20:])
