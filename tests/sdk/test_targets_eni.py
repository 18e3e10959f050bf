"""ENI-01 .. ENI-06, ENI-08: EIPs on elastic network interfaces in NAT mode
(InstanceType=NetworkInterface), and the ENI life cycle they depend on
(docs/design/targets-contract.md, "ENIs" and "EIP on an ENI").

ENI-06 (no NAT ALG) is data-plane only; its control-plane part is that an ENI
EIP is reported in NAT mode and the guest is told only its private IPs.
ENI-07 (batch) is in test_targets_batch.py."""

from __future__ import annotations

import json
import threading

from alibabacloud_ecs20140526 import models as ecs_models

from conftest import (
    REGION,
    associate,
    attach_eni,
    capture_error,
    delete_eni,
    describe_eips,
    detach_eni,
    eip_list,
    eni_private_ips,
    eni_public_ip_map,
    expect_error,
    get_eip,
    get_eni,
    get_instance,
    guest_addresses,
    guest_configuration,
    guest_route_sources,
    in_threads,
    instance_eip,
    instance_primary_eni,
    instance_type_info,
    raw_eni,
    raw_instance,
    run_instances,
    unassociate,
    wait_eni,
    wait_status,
)

NI = "NetworkInterface"


def _attached_eni(res, iid, **kw) -> dict:
    """A secondary ENI (session network) attached to instance iid, InUse."""
    eni = res.eni(**kw)["NetworkInterfaceId"]
    attach_eni(res.ecs, eni, iid)
    wait_eni(res.ecs, eni, "InUse")
    return get_eni(res.ecs, eni)


def _assert_eip_on_eni(vpc, aid, eni_id, private_ip, mode="NAT"):
    e = wait_status(vpc, aid, "InUse")
    assert e["InstanceId"] == eni_id, e
    assert e["InstanceType"] == NI, e
    assert e.get("PrivateIpAddress") == private_ip, e
    assert e.get("Mode") == mode, e
    assert e.get("InstanceRegionId") == REGION, e
    return e


# ---------------------------------------------------------------- ENI life cycle

def test_eni_02_create_describe_and_attach_detach_status_sequence(ecs_v3, res):
    iid = res.instance()
    b = res.eni(secondary_private_ip_address_count=2)
    eni_id = b["NetworkInterfaceId"]
    eni = get_eni(ecs_v3, eni_id)
    assert eni["Type"] == "Secondary" and eni["Status"] == "Available", eni
    assert eni["VpcId"] == res.network.vpc_id and eni["VSwitchId"] == res.network.vsw_id, eni
    assert not eni.get("InstanceId"), eni
    ips = eni_private_ips(eni)
    assert len(ips) == 3 and len(set(ips)) == 3, eni

    attach_eni(ecs_v3, eni_id, iid)
    assert get_eni(ecs_v3, eni_id)["Status"] == "Attaching"
    eni = wait_eni(ecs_v3, eni_id, "InUse")
    assert eni["InstanceId"] == iid, eni
    enis = {e["NetworkInterfaceId"]: e for e in get_instance(ecs_v3, iid)["NetworkInterfaces"]["NetworkInterface"]}
    assert eni_id in enis and enis[eni_id]["Type"] == "Secondary", enis

    detach_eni(ecs_v3, eni_id, iid)
    assert get_eni(ecs_v3, eni_id)["Status"] == "Detaching"
    eni = wait_eni(ecs_v3, eni_id, "Available")
    assert not eni.get("InstanceId"), eni
    assert eni_private_ips(eni) == ips  # private IPs survive detach


def test_eni_02_every_instance_has_one_primary_eni(ecs_v3, res):
    iid = res.instance()
    prim = instance_primary_eni(ecs_v3, iid)
    inst = get_instance(ecs_v3, iid)
    assert prim["Status"] == "InUse" and prim["InstanceId"] == iid, prim
    assert prim["PrivateIpAddress"] in inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"], (prim, inst)
    # primary ENIs go with their instance: no detach, no delete
    expect_error(detach_eni, 403, "InvalidOperation.DetachPrimaryEniNotAllowed",
                 ecs_v3, prim["NetworkInterfaceId"], iid)
    expect_error(delete_eni, 403, "InvalidOperation.InvalidEniState", ecs_v3, prim["NetworkInterfaceId"])
    assert get_eni(ecs_v3, prim["NetworkInterfaceId"])["Status"] == "InUse"


def test_eni_02_describe_instance_types_reports_eni_limits(ecs_v3):
    """Real types with Alibaba's published limits (primary ENI / primary IP included)."""
    t = instance_type_info(ecs_v3, "ecs.g7.large")
    assert (t.get("EniQuantity"), t.get("EniPrivateIpAddressQuantity")) == (3, 6), t
    big = instance_type_info(ecs_v3, "ecs.g7.xlarge")
    assert big["EniQuantity"] > t["EniQuantity"], (t, big)  # the limit depends on the type
    assert big["EniPrivateIpAddressQuantity"] > t["EniPrivateIpAddressQuantity"], (t, big)


def test_eni_02_secondary_enis_bounded_by_instance_type(ecs_v3, res):
    """EniQuantity counts the primary ENI: EniQuantity-1 secondaries attach, the next one is refused."""
    quantity = instance_type_info(ecs_v3)["EniQuantity"]
    iid = res.instance()
    enis = [res.eni()["NetworkInterfaceId"] for _ in range(quantity)]
    for eni in enis[:-1]:
        attach_eni(ecs_v3, eni, iid)
    for eni in enis[:-1]:
        wait_eni(ecs_v3, eni, "InUse")
    expect_error(attach_eni, 403, "EniPerInstanceLimitExceeded", ecs_v3, enis[-1], iid)
    assert get_eni(ecs_v3, enis[-1])["Status"] == "Available"
    inst = get_instance(ecs_v3, iid)
    assert len(inst["NetworkInterfaces"]["NetworkInterface"]) == quantity, inst["NetworkInterfaces"]


def test_eni_02_attach_preconditions(vpc_v3, ecs_v3, res):
    """ENI Available, instance Running/Stopped, same VPC and zone (403s)."""
    iid = res.instance()
    # instance still Pending
    [pending] = run_instances(ecs_v3, res.network.vsw_id, res.network.sg_id)
    res.track_instance(pending)
    eni = res.eni()["NetworkInterfaceId"]
    expect_error(attach_eni, 403, "IncorrectInstanceStatus", ecs_v3, eni, pending)
    # ENI of another VPC
    other = res.vpc_net(zones=("cn-hangzhou-h", "cn-hangzhou-i"))
    foreign = res.eni(vsw_id=other.vsw_ids[0], sg_id=other.sg_id)["NetworkInterfaceId"]
    expect_error(attach_eni, 403, "InvalidOperation.VpcMismatch", ecs_v3, foreign, iid)
    # same VPC as an instance of the other VPC, but another zone
    other_iid = res.instance(vsw_id=other.vsw_ids[0], sg_id=other.sg_id)
    wrong_zone = res.eni(vsw_id=other.vsw_ids[1], sg_id=other.sg_id)["NetworkInterfaceId"]
    expect_error(attach_eni, 403, "InvalidOperation.ZoneMismatch", ecs_v3, wrong_zone, other_iid)
    # an ENI already InUse
    attach_eni(ecs_v3, eni, iid)
    wait_eni(ecs_v3, eni, "InUse")
    iid2 = res.instance()
    expect_error(attach_eni, 403, "InvalidOperation.InvalidEniState", ecs_v3, eni, iid2)
    for e in (foreign, wrong_zone):
        assert get_eni(ecs_v3, e)["Status"] == "Available"
    assert get_eni(ecs_v3, eni)["InstanceId"] == iid


def test_eni_02_delete_needs_available_eni_without_eip(vpc_v3, ecs_v3, res):
    iid = res.instance()
    eni = _attached_eni(res, iid)["NetworkInterfaceId"]
    expect_error(delete_eni, 403, "InvalidOperation.InvalidEniState", ecs_v3, eni)
    detach_eni(ecs_v3, eni, iid)
    wait_eni(ecs_v3, eni, "Available")
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, eni, instance_type=NI)
    wait_status(vpc_v3, aid, "InUse")
    expect_error(delete_eni, 403, "InvalidOperation.EniHasEip", ecs_v3, eni)
    unassociate(vpc_v3, aid, eni, instance_type=NI)
    wait_status(vpc_v3, aid, "Available")
    delete_eni(ecs_v3, eni)
    assert get_eni(ecs_v3, eni) is None


def test_eni_03_private_ip_count_limits(ecs_v3, res):
    """Secondary IPs: PrivateIpAddress.N xor SecondaryPrivateIpAddressCount;
    at most 10 on an unattached ENI, EniPrivateIpAddressQuantity-1 attached."""
    err = expect_error(res.eni, 400, "InvalidParameter", private_ip_address=["192.168.1.10"],
                       secondary_private_ip_address_count=1)
    expect_error(res.eni, 403, "InvalidOperation.Ipv4CountExceeded", secondary_private_ip_address_count=11)
    eni = res.eni(secondary_private_ip_address_count=10)["NetworkInterfaceId"]
    assert len(eni_private_ips(get_eni(ecs_v3, eni))) == 11
    expect_error(ecs_v3.assign_private_ip_addresses, 403, "InvalidOperation.Ipv4CountExceeded",
                 ecs_models.AssignPrivateIpAddressesRequest(region_id=REGION, network_interface_id=eni,
                                                            secondary_private_ip_address_count=1))
    per_eni = instance_type_info(ecs_v3)["EniPrivateIpAddressQuantity"]
    iid = res.instance()
    att = _attached_eni(res, iid)["NetworkInterfaceId"]
    if per_eni > 1:
        ecs_v3.assign_private_ip_addresses(ecs_models.AssignPrivateIpAddressesRequest(
            region_id=REGION, network_interface_id=att, secondary_private_ip_address_count=per_eni - 1))
    assert len(eni_private_ips(get_eni(ecs_v3, att))) == per_eni
    expect_error(ecs_v3.assign_private_ip_addresses, 403, "InvalidOperation.Ipv4CountExceeded",
                 ecs_models.AssignPrivateIpAddressesRequest(region_id=REGION, network_interface_id=att,
                                                            secondary_private_ip_address_count=1))
    assert len(eni_private_ips(get_eni(ecs_v3, att))) == per_eni
    assert err.status == 400


# ---------------------------------------------------------------- ENI-01

def test_eni_01_several_eips_on_one_instance_through_enis(vpc_v3, ecs_v3, res):
    """One direct EIP (EcsInstance); more EIPs through the instance's secondary ENIs."""
    iid = res.instance()
    direct = res.eip()["AllocationId"]
    associate(vpc_v3, direct, iid)
    wait_status(vpc_v3, direct, "InUse")
    # a second direct EIP is still refused (ECS-02) ...
    second = res.eip()["AllocationId"]
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, second, iid)
    # ... but the secondary ENI takes it
    eni = _attached_eni(res, iid)
    associate(vpc_v3, second, eni["NetworkInterfaceId"], instance_type=NI)
    _assert_eip_on_eni(vpc_v3, second, eni["NetworkInterfaceId"], eni["PrivateIpAddress"])

    e = get_eip(vpc_v3, direct)
    assert e["InstanceId"] == iid and e["InstanceType"] == "EcsInstance", e
    assert instance_eip(get_instance(ecs_v3, iid)).get("AllocationId") == direct
    # ENI EIPs are in DescribeInstances' NetworkInterfaces (raw JSON: the model drops them)
    raw = raw_instance(ecs_v3, iid)
    seen = {}
    for ni in raw["NetworkInterfaces"]["NetworkInterface"]:
        for s in (ni.get("PrivateIpSets") or {}).get("PrivateIpSet") or []:
            ap = s.get("AssociatedPublicIp") or {}
            if ap.get("AllocationId"):
                seen[(ni["NetworkInterfaceId"], s["PrivateIpAddress"])] = ap["AllocationId"]
    assert seen.get((eni["NetworkInterfaceId"], eni["PrivateIpAddress"])) == second, raw["NetworkInterfaces"]
    assert direct not in [v for k, v in seen.items() if k[0] == eni["NetworkInterfaceId"]]


def test_eni_01_instance_eip_occupies_primary_eni_primary_ip(vpc_v3, ecs_v3, res):
    """EcsInstance EIP and a NetworkInterface EIP on the primary ENI's primary IP conflict."""
    iid = res.instance()
    prim = instance_primary_eni(ecs_v3, iid)
    a, b = res.eip()["AllocationId"], res.eip()["AllocationId"]
    associate(vpc_v3, a, iid)
    ea = wait_status(vpc_v3, a, "InUse")
    # DescribeNetworkInterfaces tells the truth: the instance EIP is on the primary ENI's primary IP
    cur = get_eni(ecs_v3, prim["NetworkInterfaceId"])
    assert eni_public_ip_map(cur) == {prim["PrivateIpAddress"]: a}, cur
    assert (cur.get("AssociatedPublicIp") or {}).get("PublicIpAddress") == ea["IpAddress"], cur
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, b, prim["NetworkInterfaceId"],
                 instance_type=NI)
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, b, prim["NetworkInterfaceId"],
                 instance_type=NI, private_ip_address=prim["PrivateIpAddress"])
    assert get_eip(vpc_v3, b)["Status"] == "Available"
    unassociate(vpc_v3, a, iid)
    wait_status(vpc_v3, a, "Available")
    # the other way round: the primary ENI's primary IP taken through the ENI
    associate(vpc_v3, b, prim["NetworkInterfaceId"], instance_type=NI)
    _assert_eip_on_eni(vpc_v3, b, prim["NetworkInterfaceId"], prim["PrivateIpAddress"])
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, a, iid)
    assert get_eip(vpc_v3, a)["Status"] == "Available"


# ---------------------------------------------------------------- ENI-03

def test_eni_03_one_eip_per_private_ip(vpc_v3, ecs_v3, res):
    eni_b = res.eni(secondary_private_ip_address_count=2)
    eni = eni_b["NetworkInterfaceId"]
    ips = eni_private_ips(get_eni(ecs_v3, eni))
    a, b, c, d = (res.eip()["AllocationId"] for _ in range(4))

    associate(vpc_v3, a, eni, instance_type=NI)  # default: the primary private IP
    _assert_eip_on_eni(vpc_v3, a, eni, ips[0])
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, b, eni, instance_type=NI,
                 private_ip_address=ips[0])
    assert get_eip(vpc_v3, b)["Status"] == "Available"

    associate(vpc_v3, b, eni, instance_type=NI, private_ip_address=ips[1])
    associate(vpc_v3, c, eni, instance_type=NI, private_ip_address=ips[2])
    _assert_eip_on_eni(vpc_v3, b, eni, ips[1])
    _assert_eip_on_eni(vpc_v3, c, eni, ips[2])
    # every private IP taken: a fourth EIP has nowhere to go
    for ip in ips:
        expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, d, eni, instance_type=NI,
                     private_ip_address=ip)
    # ... and without naming one, the ENI's quota is what refuses it
    expect_error(associate, 400, "InvalidEip.EipQuotaExceeded", vpc_v3, d, eni, instance_type=NI)
    # an IP that is not the ENI's
    err = expect_error(associate, 400, "InvalidParameter", vpc_v3, d, eni, instance_type=NI,
                       private_ip_address="192.168.63.250")
    assert "PrivateIpAddress" in (err.message or ""), err
    assert get_eip(vpc_v3, d)["Status"] == "Available"

    assert eni_public_ip_map(get_eni(ecs_v3, eni)) == {ips[0]: a, ips[1]: b, ips[2]: c}
    desc = describe_eips(vpc_v3, associated_instance_type=NI, associated_instance_id=eni)
    assert {e["AllocationId"]: e["PrivateIpAddress"] for e in eip_list(desc)} == {a: ips[0], b: ips[1], c: ips[2]}


def test_eni_03_primary_and_unattached_secondary_eni_accept_nat_eips(vpc_v3, ecs_v3, res):
    iid = res.instance()
    prim = instance_primary_eni(ecs_v3, iid)
    loose = res.eni()  # never attached
    a, b = res.eip()["AllocationId"], res.eip()["AllocationId"]
    associate(vpc_v3, a, prim["NetworkInterfaceId"], instance_type=NI)
    associate(vpc_v3, b, loose["NetworkInterfaceId"], instance_type=NI, mode="NAT")
    _assert_eip_on_eni(vpc_v3, a, prim["NetworkInterfaceId"], prim["PrivateIpAddress"])
    _assert_eip_on_eni(vpc_v3, b, loose["NetworkInterfaceId"], get_eni(ecs_v3, loose["NetworkInterfaceId"])["PrivateIpAddress"])
    ap = get_eni(ecs_v3, loose["NetworkInterfaceId"]).get("AssociatedPublicIp") or {}
    assert ap.get("AllocationId") == b and ap.get("PublicIpAddress") == get_eip(vpc_v3, b)["IpAddress"], ap


def test_eni_03_region_and_existence_checks(vpc_v3, ecs_v3, res, other_region):
    eni = res.eni()["NetworkInterfaceId"]
    far = res.eip(region=other_region)["AllocationId"]
    expect_error(associate, 400, "InvalidParameter.Mismatch", vpc_v3, far, eni, region=other_region,
                 instance_type=NI)
    assert get_eip(vpc_v3, far, other_region)["Status"] == "Available"
    aid = res.eip()["AllocationId"]
    err = capture_error(associate, vpc_v3, aid, "eni-" + "0" * 20, instance_type=NI)
    assert err is not None and err.status in (400, 404), err
    assert err.code in ("InvalidInstanceId.NotFound", "InvalidInstanId.NotFound", "InvalidParams.NotFound",
                        "InvalidNicOrVm.NotFound", "InvalidInstance.NotExist"), err
    assert get_eip(vpc_v3, aid)["Status"] == "Available"


def test_eni_03_unassign_private_ip_with_eip_refused(vpc_v3, ecs_v3, res):
    eni = res.eni(secondary_private_ip_address_count=2)["NetworkInterfaceId"]
    ips = eni_private_ips(get_eni(ecs_v3, eni))
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, eni, instance_type=NI, private_ip_address=ips[1])
    wait_status(vpc_v3, aid, "InUse")
    req = ecs_models.UnassignPrivateIpAddressesRequest(region_id=REGION, network_interface_id=eni,
                                                       private_ip_address=[ips[1]])
    expect_error(ecs_v3.unassign_private_ip_addresses, 403, "InvalidOperation.PrivateIpHasEip", req)
    assert ips[1] in eni_private_ips(get_eni(ecs_v3, eni))
    # the free one can go
    ecs_v3.unassign_private_ip_addresses(ecs_models.UnassignPrivateIpAddressesRequest(
        region_id=REGION, network_interface_id=eni, private_ip_address=[ips[2]]))
    assert eni_private_ips(get_eni(ecs_v3, eni)) == ips[:2]


def test_eni_03_unassociate_by_private_ip_frees_it(vpc_v3, ecs_v3, res):
    eni = res.eni(secondary_private_ip_address_count=1)["NetworkInterfaceId"]
    ips = eni_private_ips(get_eni(ecs_v3, eni))
    a, b = res.eip()["AllocationId"], res.eip()["AllocationId"]
    associate(vpc_v3, a, eni, instance_type=NI, private_ip_address=ips[1])
    wait_status(vpc_v3, a, "InUse")
    unassociate(vpc_v3, a, eni, instance_type=NI, private_ip_address=ips[1])
    assert get_eip(vpc_v3, a)["Status"] == "Unassociating"
    e = wait_status(vpc_v3, a, "Available")
    assert not e.get("InstanceId") and not e.get("PrivateIpAddress"), e
    assert eni_public_ip_map(get_eni(ecs_v3, eni)) == {}
    associate(vpc_v3, b, eni, instance_type=NI, private_ip_address=ips[1])
    _assert_eip_on_eni(vpc_v3, b, eni, ips[1])


def test_eni_03_concurrent_same_private_ip_one_wins(server, vpc_v3, ecs_v3, res):
    """16 threads, 16 EIPs, one ENI private IP: exactly one association succeeds."""
    n = 16
    eni = res.eni(secondary_private_ip_address_count=1)["NetworkInterfaceId"]
    ip = eni_private_ips(get_eni(ecs_v3, eni))[1]
    aids = [res.eip()["AllocationId"] for _ in range(n)]
    barrier = threading.Barrier(n)

    def worker(i):
        vpc = server.vpc(v1=bool(i % 2))
        barrier.wait(timeout=30)
        return aids[i], capture_error(associate, vpc, aids[i], eni, instance_type=NI, private_ip_address=ip)

    results = in_threads(n, worker)
    for r in results:
        assert not isinstance(r, BaseException), f"worker crashed: {r!r}"
    winners = [a for a, err in results if err is None]
    losers = [(a, err) for a, err in results if err is not None]
    assert len(winners) == 1, f"winners {winners}; errors {[(a, str(e)) for a, e in losers]}"
    for a, err in losers:
        assert (err.status, err.code) == (400, "InvalidAssociation.Duplicated"), f"{a}: {err}"
    _assert_eip_on_eni(vpc_v3, winners[0], eni, ip)
    for a, _ in losers:
        e = get_eip(vpc_v3, a)
        assert e["Status"] == "Available" and not e.get("InstanceId"), e
    assert eni_public_ip_map(get_eni(ecs_v3, eni)) == {ip: winners[0]}


# ---------------------------------------------------------------- ENI-04

def test_eni_04_several_enis_one_eip_each_own_security_group(vpc_v3, ecs_v3, res):
    iid = res.instance()
    quantity = instance_type_info(ecs_v3)["EniQuantity"]
    k = min(2, quantity - 1)
    sgs = [res.security_group() for _ in range(k)]
    enis = [_attached_eni(res, iid, sg_id=sg) for sg in sgs]
    aids = [res.eip()["AllocationId"] for _ in enis]
    for aid, eni in zip(aids, enis):
        associate(vpc_v3, aid, eni["NetworkInterfaceId"], instance_type=NI)
    for aid, eni in zip(aids, enis):
        _assert_eip_on_eni(vpc_v3, aid, eni["NetworkInterfaceId"], eni["PrivateIpAddress"])
    for sg, eni in zip(sgs, enis):
        cur = get_eni(ecs_v3, eni["NetworkInterfaceId"])
        assert cur["SecurityGroupIds"]["SecurityGroupId"] == [sg], cur
        assert cur["InstanceId"] == iid and cur["Status"] == "InUse", cur
        assert eni_public_ip_map(cur) == {cur["PrivateIpAddress"]: aids[enis.index(eni)]}
    assert len(set(sgs)) == k
    desc = describe_eips(vpc_v3, associated_instance_type=NI)
    mine = {e["AllocationId"]: e["InstanceId"] for e in eip_list(desc) if e["AllocationId"] in aids}
    assert mine == {a: e["NetworkInterfaceId"] for a, e in zip(aids, enis)}, mine


# ---------------------------------------------------------------- ENI-05

def test_eni_05_several_eips_on_one_secondary_eni(vpc_v3, ecs_v3, res):
    iid = res.instance()
    eni = _attached_eni(res, iid, secondary_private_ip_address_count=3)
    eni_id = eni["NetworkInterfaceId"]
    ips = eni_private_ips(eni)
    assert len(ips) == 4
    aids = [res.eip()["AllocationId"] for _ in ips]
    for aid, ip in zip(aids, ips):
        associate(vpc_v3, aid, eni_id, instance_type=NI, private_ip_address=ip)
    got = {}
    for aid, ip in zip(aids, ips):
        got[aid] = _assert_eip_on_eni(vpc_v3, aid, eni_id, ip)["IpAddress"]
    assert len(set(got.values())) == 4
    cur = get_eni(ecs_v3, eni_id)
    assert eni_public_ip_map(cur) == dict(zip(ips, aids))
    for s in cur["PrivateIpSets"]["PrivateIpSet"]:
        assert s["AssociatedPublicIp"]["PublicIpAddress"] == got[s["AssociatedPublicIp"]["AllocationId"]], s
    raw = raw_instance(ecs_v3, iid)
    [ni] = [x for x in raw["NetworkInterfaces"]["NetworkInterface"] if x["NetworkInterfaceId"] == eni_id]
    raw_map = {s["PrivateIpAddress"]: (s.get("AssociatedPublicIp") or {}).get("AllocationId")
               for s in ni["PrivateIpSets"]["PrivateIpSet"]}
    assert raw_map == dict(zip(ips, aids)), ni


# ---------------------------------------------------------------- ENI-06

def test_eni_06_nat_mode_is_reported_and_guest_sees_only_private_ips(vpc_v3, ecs_v3, res):
    iid = res.instance()
    eni = _attached_eni(res, iid, secondary_private_ip_address_count=1)
    aid = res.eip()["AllocationId"]
    associate(vpc_v3, aid, eni["NetworkInterfaceId"], instance_type=NI)  # no Mode: NAT
    e = _assert_eip_on_eni(vpc_v3, aid, eni["NetworkInterfaceId"], eni["PrivateIpAddress"], mode="NAT")
    gc = guest_configuration(raw_eni(ecs_v3, eni["NetworkInterfaceId"]))
    text = json.dumps(gc["Addresses"])
    for ip in eni_private_ips(eni):
        assert ip in text, gc
    assert e["IpAddress"] not in text, f"NAT mode: the EIP must not be on the NIC: {gc}"
    assert "100.64.0.0/10" not in json.dumps(gc["Notices"]), gc


# ---------------------------------------------------------------- ENI-08

def test_eni_08_guest_configuration_lists_addresses_and_routes(ecs_v3, res):
    iid = res.instance()
    eni = _attached_eni(res, iid, secondary_private_ip_address_count=2)
    gc = guest_configuration(raw_eni(ecs_v3, eni["NetworkInterfaceId"]))
    addrs = json.dumps(gc["Addresses"])
    for ip in eni_private_ips(eni):
        assert ip in addrs, f"{ip} missing from GuestConfiguration.Addresses: {gc}"
    assert gc["Routes"], f"an attached secondary ENI needs source policy routes: {gc}"
    assert guest_route_sources(gc) == set(eni_private_ips(eni)) == guest_addresses(gc), (
        f"one source policy route per address of the NIC: {gc}")
    # the primary ENI needs nothing special: no policy routes for its IP
    prim = instance_primary_eni(ecs_v3, iid)
    pgc = guest_configuration(raw_eni(ecs_v3, prim["NetworkInterfaceId"]))
    assert prim["PrivateIpAddress"] in json.dumps(pgc["Addresses"]), pgc


def test_eni_02_deleting_instance_takes_primary_eni_and_detaches_secondaries(vpc_v3, ecs_v3, res):
    """Primary ENIs go with their instance (their EIP is unbound, as for
    instances); secondary ENIs are detached and keep their EIPs."""
    from conftest import delete_instance, wait_instance

    iid = res.instance()
    prim = instance_primary_eni(ecs_v3, iid)["NetworkInterfaceId"]
    sec = _attached_eni(res, iid)["NetworkInterfaceId"]
    a, b = res.eip()["AllocationId"], res.eip()["AllocationId"]
    associate(vpc_v3, a, prim, instance_type=NI)
    associate(vpc_v3, b, sec, instance_type=NI)
    wait_status(vpc_v3, a, "InUse"), wait_status(vpc_v3, b, "InUse")
    delete_instance(ecs_v3, iid, force=True)
    wait_instance(ecs_v3, iid, None)
    assert get_eni(ecs_v3, prim) is None
    e = wait_status(vpc_v3, a, "Available")
    assert not e.get("InstanceId"), e
    eni = wait_eni(ecs_v3, sec, "Available")
    assert not eni.get("InstanceId"), eni
    e = get_eip(vpc_v3, b)
    assert (e["Status"], e["InstanceId"]) == ("InUse", sec), e


def test_eni_02_stopped_instance_takes_enis_and_create_is_idempotent(ecs_v3, res):
    from conftest import wait_instance

    iid = res.instance()
    ecs_v3.stop_instance(ecs_models.StopInstanceRequest(instance_id=iid))
    wait_instance(ecs_v3, iid, "Stopped")

    def count():
        req = ecs_models.DescribeNetworkInterfacesRequest(region_id=REGION, v_switch_id=res.network.vsw_id,
                                                          page_size=1)
        return ecs_v3.describe_network_interfaces(req).body.total_count

    before = count()
    token = f"eni-{iid}"
    first = res.eni(client_token=token)["NetworkInterfaceId"]
    again = res.eni(client_token=token)["NetworkInterfaceId"]
    assert again == first
    assert count() == before + 1
    attach_eni(ecs_v3, first, iid)
    assert wait_eni(ecs_v3, first, "InUse")["InstanceId"] == iid
