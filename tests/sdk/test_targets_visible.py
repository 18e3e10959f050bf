"""VIS-01 .. VIS-04: EIP visible mode on secondary ENIs (Mode=BINDED,
cut-through, and Mode=MULTI_BINDED) and what the guest is told about it
(docs/design/targets-contract.md, "EIP on an ENI"). VIS-05 (batch) is in
test_targets_batch.py.

Visible mode is data-plane behaviour (the EIP is on the NIC); its control-plane
parts are the association rules and the openeip GuestConfiguration of
DescribeNetworkInterfaces (raw JSON)."""

from __future__ import annotations

import json
import re

from conftest import (
    associate,
    attach_eni,
    delete_eni,
    describe_eips,
    detach_eni,
    eip_list,
    eni_private_ips,
    expect_error,
    get_eip,
    get_eni,
    guest_addresses,
    guest_configuration,
    guest_route_sources,
    instance_primary_eni,
    raw_eni,
    unassociate,
    wait_eni,
    wait_status,
)

NI = "NetworkInterface"


def _bind(vpc, aid, eni, mode):
    associate(vpc, aid, eni, instance_type=NI, mode=mode)
    e = wait_status(vpc, aid, "InUse")
    assert (e["InstanceId"], e["InstanceType"], e.get("Mode")) == (eni, NI, mode), e
    return e


def _attach(res, eni, iid):
    attach_eni(res.ecs, eni, iid)
    return wait_eni(res.ecs, eni, "InUse")


def _routes_text(gc) -> str:
    return json.dumps(gc["Routes"])


def _metric(route) -> int | None:
    """The priority of a route, whatever its shape (object or `ip route` text)."""
    if isinstance(route, dict):
        for k in ("Metric", "Priority", "metric", "priority"):
            if k in route:
                return int(route[k])
        return None
    m = re.search(r"\b(?:metric|priority)\s*[=:]?\s*(\d+)", str(route), re.I)
    return int(m.group(1)) if m else None


def _devices(routes, skip_reserved: bool = True) -> set[str]:
    """Interfaces named by `dev X` in routes (by default not the 100.64.0.0/10 one)."""
    out = set()
    for r in routes:
        text = json.dumps(r)
        if skip_reserved and "100.64.0.0/10" in text:
            continue
        out |= set(re.findall(r"\bdev\s+([A-Za-z0-9_.-]+)", text))
        if isinstance(r, dict) and r.get("Device"):
            out.add(str(r["Device"]))
    return out


def _is_default(route) -> bool:
    text = json.dumps(route)
    return "0.0.0.0/0" in text or re.search(r"\bdefault\b", text) is not None


# ---------------------------------------------------------------- VIS-01

def test_vis_01_binded_eip_is_on_the_nic(vpc_v3, ecs_v3, res):
    iid = res.instance()
    eni = res.eni()["NetworkInterfaceId"]
    aid = res.eip()["AllocationId"]
    e = _bind(vpc_v3, aid, eni, "BINDED")
    _attach(res, eni, iid)
    gc = guest_configuration(raw_eni(ecs_v3, eni))
    assert e["IpAddress"] in json.dumps(gc["Addresses"]), f"BINDED: the EIP must be on the NIC: {gc}"
    # ENI-08: every address the NIC carries (here: the EIP, which replaced the
    # private IP) needs a source policy route, and no route names an address
    # the NIC does not have
    assert guest_route_sources(gc) == guest_addresses(gc) == {e["IpAddress"]}, (
        f"policy routes from {guest_route_sources(gc)} but the NIC has {guest_addresses(gc)}: {gc}")
    # describe is truthful after the attach
    e = get_eip(vpc_v3, aid)
    assert (e["Status"], e["InstanceId"], e["Mode"]) == ("InUse", eni, "BINDED"), e
    d = describe_eips(vpc_v3, associated_instance_type=NI, associated_instance_id=eni)
    assert [x["AllocationId"] for x in eip_list(d)] == [aid], d


def test_vis_01_multi_binded_eips_are_on_the_nic_beside_private_ip(vpc_v3, ecs_v3, res):
    iid = res.instance()
    eni = res.eni()["NetworkInterfaceId"]
    priv = get_eni(ecs_v3, eni)["PrivateIpAddress"]
    a, b = res.eip()["AllocationId"], res.eip()["AllocationId"]
    ea, eb = _bind(vpc_v3, a, eni, "MULTI_BINDED"), _bind(vpc_v3, b, eni, "MULTI_BINDED")
    _attach(res, eni, iid)
    gc = guest_configuration(raw_eni(ecs_v3, eni))
    assert guest_addresses(gc) == {ea["IpAddress"], eb["IpAddress"], priv}, gc
    # ENI-08: replies from each EIP must leave through this NIC too
    assert guest_route_sources(gc) == guest_addresses(gc), (
        f"policy routes from {guest_route_sources(gc)} but the NIC has {guest_addresses(gc)}: {gc['Routes']}")


def test_vis_01_binded_restrictions(vpc_v3, ecs_v3, res):
    """BINDED: secondary ENI only, detached, without secondary IPs, one EIP, no NAT EIPs."""
    iid = res.instance()
    a, b = res.eip()["AllocationId"], res.eip()["AllocationId"]
    prim = instance_primary_eni(ecs_v3, iid)["NetworkInterfaceId"]
    expect_error(associate, 400, "Eni.Attached", vpc_v3, a, prim, instance_type=NI, mode="BINDED")
    attached = res.eni()["NetworkInterfaceId"]
    _attach(res, attached, iid)
    expect_error(associate, 400, "Eni.Attached", vpc_v3, a, attached, instance_type=NI, mode="BINDED")
    with_sub = res.eni(secondary_private_ip_address_count=1)["NetworkInterfaceId"]
    expect_error(associate, 400, "Eni.HasSubIp", vpc_v3, a, with_sub, instance_type=NI, mode="BINDED")
    with_nat = res.eni()["NetworkInterfaceId"]
    _bind(vpc_v3, b, with_nat, "NAT")
    expect_error(associate, 400, "Mode.Conflict", vpc_v3, a, with_nat, instance_type=NI, mode="BINDED")
    assert get_eip(vpc_v3, a)["Status"] == "Available"

    free = res.eni()["NetworkInterfaceId"]
    _bind(vpc_v3, a, free, "BINDED")
    c = res.eip()["AllocationId"]
    expect_error(associate, 400, "InvalidAssociation.Duplicated", vpc_v3, c, free, instance_type=NI, mode="BINDED")
    expect_error(associate, 400, "Mode.Conflict", vpc_v3, c, free, instance_type=NI, mode="MULTI_BINDED")
    e = get_eip(vpc_v3, c)
    assert e["Status"] == "Available" and not e.get("InstanceId"), e


def test_vis_01_visible_mode_only_on_enis(vpc_v3, res):
    """Mode other than NAT on a non-ENI target: 400 Invalid.DirectEip.BindType."""
    iid = res.instance()
    aid = res.eip()["AllocationId"]
    for mode in ("BINDED", "MULTI_BINDED"):
        expect_error(associate, 400, "Invalid.DirectEip.BindType", vpc_v3, aid, iid, mode=mode)
    ngw = res.nat()["NatGatewayId"]
    hid = res.havip()["HaVipId"]
    for target, kind in ((ngw, "Nat"), (hid, "HaVip")):
        expect_error(associate, 400, "Invalid.DirectEip.BindType", vpc_v3, aid, target, instance_type=kind,
                     mode="BINDED")
    assert get_eip(vpc_v3, aid)["Status"] == "Available"
    associate(vpc_v3, aid, iid, mode="NAT")  # NAT is the instance-level mode
    assert wait_status(vpc_v3, aid, "InUse")["InstanceType"] == "EcsInstance"


def test_vis_01_multi_binded_at_most_10_eips(vpc_v3, res):
    eni = res.eni()["NetworkInterfaceId"]
    aids = [res.eip()["AllocationId"] for _ in range(11)]
    for aid in aids[:10]:
        associate(vpc_v3, aid, eni, instance_type=NI, mode="MULTI_BINDED")
    for aid in aids[:10]:
        assert wait_status(vpc_v3, aid, "InUse")["Mode"] == "MULTI_BINDED"
    expect_error(associate, 400, "QuotaExceed.MultiBindedEip", vpc_v3, aids[10], eni, instance_type=NI,
                 mode="MULTI_BINDED")
    assert get_eip(vpc_v3, aids[10])["Status"] == "Available"
    d = describe_eips(vpc_v3, associated_instance_type=NI, associated_instance_id=eni, page_size=50)
    assert sorted(x["AllocationId"] for x in eip_list(d)) == sorted(aids[:10]), d
    # an ENI with EIPs in any mode cannot be deleted
    expect_error(delete_eni, 403, "InvalidOperation.EniHasEip", res.ecs, eni)


def test_vis_01_multi_binded_restrictions(vpc_v3, ecs_v3, res):
    """MULTI_BINDED: detached secondary ENI, never mixed with NAT (both ways) nor BINDED."""
    iid = res.instance()
    a, b, c = (res.eip()["AllocationId"] for _ in range(3))
    attached = res.eni()["NetworkInterfaceId"]
    _attach(res, attached, iid)
    expect_error(associate, 400, "Eni.Attached", vpc_v3, a, attached, instance_type=NI, mode="MULTI_BINDED")
    # NAT first, then MULTI_BINDED
    eni1 = res.eni(secondary_private_ip_address_count=1)["NetworkInterfaceId"]
    _bind(vpc_v3, a, eni1, "NAT")
    expect_error(associate, 400, "OperationFailed.EipBindModeConflict", vpc_v3, b, eni1, instance_type=NI,
                 mode="MULTI_BINDED")
    # MULTI_BINDED first, then NAT
    eni2 = res.eni()["NetworkInterfaceId"]
    _bind(vpc_v3, b, eni2, "MULTI_BINDED")
    ip2 = eni_private_ips(get_eni(ecs_v3, eni2))[0]
    expect_error(associate, 400, "OperationFailed.EipBindModeConflict", vpc_v3, c, eni2, instance_type=NI,
                 mode="NAT", private_ip_address=ip2)
    expect_error(associate, 400, "OperationFailed.EipBindModeConflict", vpc_v3, c, eni2, instance_type=NI)
    # MULTI_BINDED then BINDED
    expect_error(associate, 400, "Mode.Conflict", vpc_v3, c, eni2, instance_type=NI, mode="BINDED")
    e = get_eip(vpc_v3, c)
    assert e["Status"] == "Available" and not e.get("InstanceId"), e


def test_vis_01_unassociate_binded_needs_detached_eni(vpc_v3, ecs_v3, res):
    iid = res.instance()
    eni = res.eni()["NetworkInterfaceId"]
    aid = res.eip()["AllocationId"]
    _bind(vpc_v3, aid, eni, "BINDED")
    _attach(res, eni, iid)
    expect_error(unassociate, 400, "Eni.Attached", vpc_v3, aid, eni, instance_type=NI)
    assert get_eip(vpc_v3, aid)["Status"] == "InUse"
    detach_eni(ecs_v3, eni, iid)
    wait_eni(ecs_v3, eni, "Available")
    unassociate(vpc_v3, aid, eni, instance_type=NI)
    e = wait_status(vpc_v3, aid, "Available")
    assert not e.get("InstanceId") and not e.get("InstanceType"), e


# ---------------------------------------------------------------- VIS-02

def test_vis_02_guest_configuration_warns_about_100_64(vpc_v3, ecs_v3, res):
    iid = res.instance()
    vis = res.eni()["NetworkInterfaceId"]
    nat = res.eni()["NetworkInterfaceId"]
    a, b = res.eip()["AllocationId"], res.eip()["AllocationId"]
    _bind(vpc_v3, a, vis, "BINDED")
    _bind(vpc_v3, b, nat, "NAT")
    _attach(res, vis, iid)
    _attach(res, nat, iid)
    gc = guest_configuration(raw_eni(ecs_v3, vis))
    notices = json.dumps(gc["Notices"])
    assert "100.64.0.0/10" in notices, f"visible mode must warn about 100.64.0.0/10: {gc['Notices']}"
    prim = instance_primary_eni(ecs_v3, iid)["NetworkInterfaceId"]
    # the route for 100.64.0.0/10 goes via the primary ENI, never the visible one
    all_routes = [r for e in (vis, nat, prim) for r in guest_configuration(raw_eni(ecs_v3, e))["Routes"]]
    r100 = [r for r in all_routes if "100.64.0.0/10" in json.dumps(r)]
    assert r100, f"no route for 100.64.0.0/10 anywhere: {all_routes}"
    vis_devs = _devices(gc["Routes"])  # the visible ENI's own interface
    assert vis_devs, f"cannot tell the visible ENI's device from its routes: {gc['Routes']}"
    for r in r100:
        assert not (_devices([r], skip_reserved=False) & vis_devs), f"100.64.0.0/10 must not route via the visible-mode ENI {vis_devs}: {r}"
        assert vis not in json.dumps(r), r
    # NAT-mode ENIs need no warning
    assert "100.64.0.0/10" not in json.dumps(guest_configuration(raw_eni(ecs_v3, nat))["Notices"])


def test_vis_02_multi_binded_warns_too(vpc_v3, ecs_v3, res):
    iid = res.instance()
    eni = res.eni()["NetworkInterfaceId"]
    aid = res.eip()["AllocationId"]
    _bind(vpc_v3, aid, eni, "MULTI_BINDED")
    _attach(res, eni, iid)
    assert "100.64.0.0/10" in json.dumps(guest_configuration(raw_eni(ecs_v3, eni))["Notices"])
    # once the EIP is gone the warning goes too
    detach_eni(ecs_v3, eni, iid)
    wait_eni(ecs_v3, eni, "Available")
    unassociate(vpc_v3, aid, eni, instance_type=NI)
    wait_status(vpc_v3, aid, "Available")
    assert "100.64.0.0/10" not in json.dumps(guest_configuration(raw_eni(ecs_v3, eni))["Notices"])


# ---------------------------------------------------------------- VIS-03

def test_vis_03_visible_mode_restrictions_and_nat_alternative(vpc_v3, ecs_v3, res):
    """Visible mode forbids what the recommended flow (create ENI, associate EIP,
    attach ENI, let the OS manage it) needs afterwards: secondary private IPs
    and unassociation while attached. The NAT-mode flow on the same ENI has
    none of those limits."""
    iid = res.instance()
    eni = res.eni()["NetworkInterfaceId"]
    aid = res.eip()["AllocationId"]
    _bind(vpc_v3, aid, eni, "BINDED")
    _attach(res, eni, iid)
    expect_error(unassociate, 400, "Eni.Attached", vpc_v3, aid, eni, instance_type=NI)

    alt = res.eni(secondary_private_ip_address_count=1)["NetworkInterfaceId"]
    alt_aid = res.eip()["AllocationId"]
    _bind(vpc_v3, alt_aid, alt, "NAT")
    _attach(res, alt, iid)
    # keeps its private network features and can be unassociated while attached
    assert len(eni_private_ips(get_eni(ecs_v3, alt))) == 2
    unassociate(vpc_v3, alt_aid, alt, instance_type=NI)
    assert wait_status(vpc_v3, alt_aid, "Available").get("InstanceId") in (None, "")


# ---------------------------------------------------------------- VIS-04

def test_vis_04_lower_priority_default_route_via_secondary_eni(vpc_v3, ecs_v3, res):
    iid = res.instance()
    eni = res.eni()["NetworkInterfaceId"]
    aid = res.eip()["AllocationId"]
    _bind(vpc_v3, aid, eni, "BINDED")
    _attach(res, eni, iid)
    gc = guest_configuration(raw_eni(ecs_v3, eni))
    defaults = [r for r in gc["Routes"] if _is_default(r)]
    assert defaults, f"visible mode: no default route through the secondary ENI: {gc['Routes']}"
    metrics = [m for m in map(_metric, defaults) if m is not None]
    assert metrics, f"the default route has no priority/metric the user can adjust: {defaults}"
    prim = instance_primary_eni(ecs_v3, iid)["NetworkInterfaceId"]
    prim_defaults = [r for r in guest_configuration(raw_eni(ecs_v3, prim))["Routes"] if _is_default(r)]
    prim_metrics = [m for m in map(_metric, prim_defaults) if m is not None]
    floor = min(prim_metrics) if prim_metrics else 0
    # a larger metric is a lower priority
    assert min(metrics) > floor, f"secondary {metrics} vs primary {prim_metrics or [0]}: {gc['Routes']}"
