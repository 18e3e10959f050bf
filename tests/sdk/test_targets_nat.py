"""NAT-01 .. NAT-03: EIPs on public NAT gateways (InstanceType=Nat), SNAT/DNAT
entries, the 20-EIP limit and the private IPs of gateways created on or after
2022-09-19 (docs/design/targets-contract.md, "NAT gateways"). NAT-04 (batch)
is in test_targets_batch.py.

NAT-01's traffic part (instances sharing EIPs outbound) is data plane; here:
the gateway's SNAT entries list its EIPs and DescribeNatGateways says which
EIPs SNAT uses."""

from __future__ import annotations

import ipaddress
import threading
import uuid

from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    REGION,
    allocate,
    associate,
    associate_batch,
    body,
    capture_error,
    create_dnat,
    create_nat,
    create_snat,
    create_vpc,
    create_vswitch,
    delete_nat,
    dnat_entries,
    describe_eips,
    eip_list,
    expect_error,
    get_eip,
    get_nat,
    in_threads,
    nat_forward_table,
    nat_ip_list,
    nat_snat_table,
    snat_entries,
    unassociate,
    vswitch_available_ips,
    wait_all,
    wait_nat,
    wait_status,
    DEMO_ZONE,
)

OLD = "2021-05-01T00:00:00Z"


def _assoc_all(vpc, ngw, aids):
    for aid in aids:
        associate(vpc, aid, ngw, instance_type="Nat")
    got = wait_all(vpc, aids, "InUse")
    for e in got:
        assert (e["InstanceId"], e["InstanceType"], e.get("InstanceRegionId")) == (ngw, "Nat", REGION), e
    return got






# ---------------------------------------------------------------- gateway life cycle

def test_nat_01_gateway_create_describe(vpc_v3, res):
    before = vswitch_available_ips(vpc_v3, res.network.vsw_id)
    b = res.nat(wait=False, name="t-nat", eip_bind_mode="NAT")
    ngw = b["NatGatewayId"]
    nat_snat_table(b), nat_forward_table(b)
    assert isinstance((b.get("FullNatTableIds") or {}).get("FullNatTableId"), list), b
    assert get_nat(vpc_v3, ngw)["Status"] == "Creating"
    n = wait_nat(vpc_v3, ngw, "Available")
    assert (n["VpcId"], n["NatType"], n["NetworkType"], n["EipBindMode"]) == (
        res.network.vpc_id, "Enhanced", "internet", "NAT"), n
    info = n["NatGatewayPrivateInfo"]
    assert info["VswitchId"] == res.network.vsw_id, info
    assert ipaddress.ip_address(info["PrivateIpAddress"]) in ipaddress.ip_network("192.168.0.0/18"), info
    assert vswitch_available_ips(vpc_v3, res.network.vsw_id) == before - 1  # its own ENI
    assert nat_ip_list(n) == []
    # default EipBindMode is MULTI_BINDED
    n2 = res.nat(wait=False)
    assert get_nat(vpc_v3, n2["NatGatewayId"])["EipBindMode"] == "MULTI_BINDED"


# ---------------------------------------------------------------- NAT-01

def test_nat_01_snat_entries_list_the_gateway_eips(vpc_v3, res):
    b = res.nat()
    ngw, stb = b["NatGatewayId"], nat_snat_table(b)
    aids = [res.eip()["AllocationId"] for _ in range(3)]
    eips = _assoc_all(vpc_v3, ngw, aids)
    ips = [e["IpAddress"] for e in eips]
    s = create_snat(vpc_v3, stb, f"{ips[0]},{ips[1]}", source_vswitch_id=res.network.vsw_id, snat_entry_name="t")
    assert s["SnatEntryId"].startswith("snat-"), s
    [entry] = snat_entries(vpc_v3, stb)
    assert entry["SnatEntryId"] == s["SnatEntryId"], entry
    assert sorted(entry["SnatIp"].split(",")) == sorted(ips[:2]), entry
    assert entry.get("SourceVSwitchId") == res.network.vsw_id, entry
    s2 = create_snat(vpc_v3, stb, ips[2], source_cidr="192.168.10.0/24")
    assert {e["SnatEntryId"] for e in snat_entries(vpc_v3, stb)} == {s["SnatEntryId"], s2["SnatEntryId"]}
    used = {i["AllocationId"]: i for i in nat_ip_list(get_nat(vpc_v3, ngw))}
    assert set(used) == set(aids), used
    for aid in aids:
        assert used[aid]["SnatEntryEnabled"] is True, used[aid]
        assert used[aid]["IpAddress"] == get_eip(vpc_v3, aid)["IpAddress"]
    # an IP that is not the gateway's
    stranger = res.eip()
    expect_error(create_snat, 400, "OperationFailed.SnatIpNotInNatGateway", vpc_v3, stb, stranger["EipAddress"],
                 source_cidr="192.168.11.0/24")
    assert len(snat_entries(vpc_v3, stb)) == 2
    vpc_v3.delete_snat_entry(vpc_models.DeleteSnatEntryRequest(region_id=REGION, snat_table_id=stb,
                                                               snat_entry_id=s2["SnatEntryId"]))
    assert [e["SnatEntryId"] for e in snat_entries(vpc_v3, stb)] == [s["SnatEntryId"]]
    used = {i["AllocationId"]: i for i in nat_ip_list(get_nat(vpc_v3, ngw))}
    assert used[aids[2]]["SnatEntryEnabled"] is False, used[aids[2]]


def test_nat_01dnat_entries(vpc_v3, res):
    b = res.nat()
    ngw, ftb = b["NatGatewayId"], nat_forward_table(b)
    [eip] = _assoc_all(vpc_v3, ngw, [res.eip()["AllocationId"]])
    f = create_dnat(vpc_v3, ftb, eip["IpAddress"], 80, "192.168.1.5", 8080)
    assert f["ForwardEntryId"].startswith("fwd-"), f
    expect_error(create_dnat, 400, "Forward.EntryAlreadyExist", vpc_v3, ftb, eip["IpAddress"], 80, "192.168.1.6", 80)
    f2 = create_dnat(vpc_v3, ftb, eip["IpAddress"], 80, "192.168.1.6", 80, proto="UDP")  # other protocol
    entries = {e["ForwardEntryId"]: e for e in dnat_entries(vpc_v3, ftb)}
    assert set(entries) == {f["ForwardEntryId"], f2["ForwardEntryId"]}, entries
    e = entries[f["ForwardEntryId"]]
    assert (e["ExternalIp"], str(e["ExternalPort"]), e["InternalIp"], str(e["InternalPort"]), e["IpProtocol"]) == (
        eip["IpAddress"], "80", "192.168.1.5", "8080", "TCP"), e
    vpc_v3.delete_forward_entry(vpc_models.DeleteForwardEntryRequest(
        region_id=REGION, forward_table_id=ftb, forward_entry_id=f2["ForwardEntryId"]))
    assert [x["ForwardEntryId"] for x in dnat_entries(vpc_v3, ftb)] == [f["ForwardEntryId"]]


def test_nat_01_unassociate_eip_used_by_entries_needs_force(vpc_v3, res):
    b = res.nat()
    ngw, stb, ftb = b["NatGatewayId"], nat_snat_table(b), nat_forward_table(b)
    a, d = res.eip()["AllocationId"], res.eip()["AllocationId"]
    ea, ed = _assoc_all(vpc_v3, ngw, [a, d])
    create_snat(vpc_v3, stb, ea["IpAddress"], source_vswitch_id=res.network.vsw_id)
    create_dnat(vpc_v3, ftb, ed["IpAddress"], 22, "192.168.1.7", 22)
    expect_error(unassociate, 400, "InvalidIpStatus.HasBeenUsedBySnatTable", vpc_v3, a, ngw, instance_type="Nat")
    expect_error(unassociate, 400, "InvalidIpStatus.HasBeenUsedByForwardEntry", vpc_v3, d, ngw, instance_type="Nat")
    assert get_eip(vpc_v3, a)["Status"] == "InUse" and get_eip(vpc_v3, d)["Status"] == "InUse"
    unassociate(vpc_v3, a, ngw, instance_type="Nat", force=True)
    unassociate(vpc_v3, d, ngw, instance_type="Nat", force=True)
    for aid in (a, d):
        e = wait_status(vpc_v3, aid, "Available")
        assert not e.get("InstanceId"), e
    assert snat_entries(vpc_v3, stb) == [] and dnat_entries(vpc_v3, ftb) == []
    assert nat_ip_list(get_nat(vpc_v3, ngw)) == []


def test_nat_01_delete_gateway_dependencies_and_force(vpc_v3, res):
    b = res.nat()
    ngw, stb, ftb = b["NatGatewayId"], nat_snat_table(b), nat_forward_table(b)
    a, d = res.eip()["AllocationId"], res.eip()["AllocationId"]
    ea, ed = _assoc_all(vpc_v3, ngw, [a, d])
    expect_error(delete_nat, 400, "DependencyViolation.EIPS", vpc_v3, ngw)
    f = create_dnat(vpc_v3, ftb, ed["IpAddress"], 443, "192.168.1.8", 443)
    expect_error(delete_nat, 400, "DependencyViolation.ForwardEntries", vpc_v3, ngw)
    vpc_v3.delete_forward_entry(vpc_models.DeleteForwardEntryRequest(
        region_id=REGION, forward_table_id=ftb, forward_entry_id=f["ForwardEntryId"]))
    create_snat(vpc_v3, stb, ea["IpAddress"], source_vswitch_id=res.network.vsw_id)
    expect_error(delete_nat, 400, "DependencyViolation.SnatEntries", vpc_v3, ngw)
    create_dnat(vpc_v3, ftb, ed["IpAddress"], 443, "192.168.1.8", 443)
    err = expect_error(delete_nat, 400, ("DependencyViolation.SnatEntries", "DependencyViolation.ForwardEntries"),
                       vpc_v3, ngw)
    assert get_nat(vpc_v3, ngw)["Status"] == "Available", err
    delete_nat(vpc_v3, ngw, force=True)
    for aid in (a, d):
        e = wait_status(vpc_v3, aid, "Available")
        assert not e.get("InstanceId"), e
    wait_nat(vpc_v3, ngw, None)


def test_nat_01_delete_gateway_without_dependencies(vpc_v3, res):
    ngw = res.nat()["NatGatewayId"]
    before = vswitch_available_ips(vpc_v3, res.network.vsw_id)
    delete_nat(vpc_v3, ngw)
    wait_nat(vpc_v3, ngw, None)
    assert vswitch_available_ips(vpc_v3, res.network.vsw_id) == before + 1  # its ENI is gone


# ---------------------------------------------------------------- NAT-02

def test_nat_02_at_most_20_eips(vpc_v3, res):
    ngw = res.nat()["NatGatewayId"]
    aids = [res.eip()["AllocationId"] for _ in range(21)]
    for aid in aids[:20]:
        associate(vpc_v3, aid, ngw, instance_type="Nat")
    expect_error(associate, 400, "QuotaExceeded.NumberOfEip", vpc_v3, aids[20], ngw, instance_type="Nat")
    got = wait_all(vpc_v3, aids[:20], "InUse")
    assert {(e["InstanceId"], e["InstanceType"]) for e in got} == {(ngw, "Nat")}
    e = get_eip(vpc_v3, aids[20])
    assert e["Status"] == "Available" and not e.get("InstanceId"), e
    assert len(nat_ip_list(get_nat(vpc_v3, ngw))) == 20
    d = describe_eips(vpc_v3, associated_instance_type="Nat", associated_instance_id=ngw, page_size=50)
    assert d["TotalCount"] == 20 and sorted(x["AllocationId"] for x in eip_list(d)) == sorted(aids[:20]), d
    # one out, one in
    unassociate(vpc_v3, aids[0], ngw, instance_type="Nat")
    wait_status(vpc_v3, aids[0], "Available")
    associate(vpc_v3, aids[20], ngw, instance_type="Nat")
    assert wait_status(vpc_v3, aids[20], "InUse")["InstanceId"] == ngw


def test_nat_02_at_most_10_pay_by_traffic_eips(vpc_v3, res):
    ngw = res.nat()["NatGatewayId"]
    traffic = [res.eip(internet_charge_type="PayByTraffic")["AllocationId"] for _ in range(11)]
    bw = res.eip(internet_charge_type="PayByBandwidth")["AllocationId"]
    _assoc_all(vpc_v3, ngw, traffic[:10])
    expect_error(associate, 400, "QuotaExceeded.NumberOfTrafficEip", vpc_v3, traffic[10], ngw, instance_type="Nat")
    assert get_eip(vpc_v3, traffic[10])["Status"] == "Available"
    associate(vpc_v3, bw, ngw, instance_type="Nat")  # pay-by-bandwidth ones still fit
    assert wait_status(vpc_v3, bw, "InUse")["InstanceId"] == ngw


def test_nat_02_concurrent_32_threads_exactly_20_win(server, vpc_v3, res):
    n = 32
    ngw = res.nat()["NatGatewayId"]
    aids = [res.eip()["AllocationId"] for _ in range(n)]
    barrier = threading.Barrier(n)

    def worker(i):
        vpc = server.vpc(v1=bool(i % 2))
        barrier.wait(timeout=30)
        return aids[i], capture_error(associate, vpc, aids[i], ngw, instance_type="Nat")

    results = in_threads(n, worker)
    for r in results:
        assert not isinstance(r, BaseException), f"worker crashed: {r!r}"
    winners = [a for a, err in results if err is None]
    losers = [(a, err) for a, err in results if err is not None]
    assert len(winners) == 20, f"{len(winners)} winners; errors {[str(e) for _, e in losers]}"
    for a, err in losers:
        assert (err.status, err.code) == (400, "QuotaExceeded.NumberOfEip"), f"{a}: {err}"
    wait_all(vpc_v3, winners, "InUse")
    for a, _ in losers:
        e = get_eip(vpc_v3, a)
        assert e["Status"] == "Available" and not e.get("InstanceId"), e
    assert sorted(i["AllocationId"] for i in nat_ip_list(get_nat(vpc_v3, ngw))) == sorted(winners)


def test_nat_02_gateway_status_type_and_region(vpc_v3, res, other_region):
    """Available (not Creating), internet (not intranet), same region."""
    b = res.nat(wait=False)
    aid = res.eip()["AllocationId"]
    expect_error(associate, 400, "IncorrectStatus.NatGateway", vpc_v3, aid, b["NatGatewayId"], instance_type="Nat")
    intranet = res.nat(network_type="intranet")["NatGatewayId"]
    expect_error(associate, 400, "OperationDenied.UnsupportedEipBindMode", vpc_v3, aid, intranet, instance_type="Nat")
    far = res.eip(region=other_region)["AllocationId"]
    wait_nat(vpc_v3, b["NatGatewayId"], "Available")
    expect_error(associate, 400, "InvalidParameter.Mismatch", vpc_v3, far, b["NatGatewayId"], region=other_region,
                 instance_type="Nat")
    assert get_eip(vpc_v3, aid)["Status"] == "Available"
    assert get_eip(vpc_v3, far, other_region)["Status"] == "Available"
    associate(vpc_v3, aid, b["NatGatewayId"], instance_type="Nat")
    e = wait_status(vpc_v3, aid, "InUse")
    assert (e["InstanceId"], e["InstanceType"]) == (b["NatGatewayId"], "Nat"), e
    assert e.get("InstanceRegionId") == REGION, e


# ---------------------------------------------------------------- NAT-03

def _tiny_net(srv):
    """A VPC with a /29 vSwitch (4 usable addresses) on a factory server."""
    vpc = srv.vpc()
    vpc_id = create_vpc(vpc, cidr="172.16.0.0/16")
    vsw = create_vswitch(vpc, vpc_id, DEMO_ZONE, "172.16.0.0/29")
    return vpc, vpc_id, vsw


def _set_creation_time(srv, ngw, when):
    srv.stop()
    srv.admin("nat", "set-creation-time", "--data-dir", str(srv.data_dir), ngw, when)
    srv.restart()


def test_nat_03_new_gateway_eips_consume_vswitch_private_ips(eipd_factory):
    srv = eipd_factory(demo=False)
    vpc, vpc_id, vsw = _tiny_net(srv)
    usable = vswitch_available_ips(vpc, vsw)
    ngw = create_nat(vpc, vpc_id, vsw, eip_bind_mode="NAT")["NatGatewayId"]
    n = wait_nat(vpc, ngw, "Available")
    assert n["CreationTime"] >= "2022-09-19", n
    free = vswitch_available_ips(vpc, vsw)
    assert free == usable - 1 and free >= 1, (usable, free)
    aids = [allocate(vpc)["AllocationId"] for _ in range(free + 1)]
    for aid in aids[:free]:
        associate(vpc, aid, ngw, instance_type="Nat")
    err = expect_error(associate, 400, "OperationDenied.NoAvailablePrivateIp", vpc, aids[free], ngw,
                       instance_type="Nat")
    wait_all(vpc, aids[:free], "InUse")
    assert get_eip(vpc, aids[free])["Status"] == "Available", err
    assert vswitch_available_ips(vpc, vsw) == 0
    ips = nat_ip_list(get_nat(vpc, ngw))
    privs = [i["PrivateIpAddress"] for i in ips]
    assert len(set(privs)) == free and n["NatGatewayPrivateInfo"]["PrivateIpAddress"] not in privs, ips
    for p in privs:
        assert ipaddress.ip_address(p) in ipaddress.ip_network("172.16.0.0/29"), ips
    for i in ips:  # DescribeEipAddresses tells the same private IP
        e = get_eip(vpc, i["AllocationId"])
        assert (e["InstanceType"], e["InstanceId"], e.get("PrivateIpAddress")) == (
            "Nat", ngw, i["PrivateIpAddress"]), (e, i)
    # the batch path hits the same wall, all or nothing
    expect_error(associate_batch, 400, "OperationDenied.NoAvailablePrivateIp", vpc, ngw, "Nat", aids[free:])
    # unassociating gives the private IP back
    unassociate(vpc, aids[0], ngw, instance_type="Nat")
    wait_status(vpc, aids[0], "Available")
    assert vswitch_available_ips(vpc, vsw) == 1
    associate(vpc, aids[free], ngw, instance_type="Nat")
    wait_status(vpc, aids[free], "InUse")
    mine = [i for i in nat_ip_list(get_nat(vpc, ngw)) if i["AllocationId"] == aids[free]]
    assert mine and mine[0]["PrivateIpAddress"], mine


def test_nat_03_gateways_created_before_2022_09_19_take_no_private_ip(eipd_factory):
    srv = eipd_factory(demo=False)
    vpc, vpc_id, vsw = _tiny_net(srv)
    ngw = create_nat(vpc, vpc_id, vsw, eip_bind_mode="NAT")["NatGatewayId"]
    wait_nat(vpc, ngw, "Available")
    _set_creation_time(srv, ngw, OLD)
    vpc = srv.vpc()
    n = get_nat(vpc, ngw)
    assert n["CreationTime"].startswith("2021-05-01T00:00"), n
    free = vswitch_available_ips(vpc, vsw)
    aids = [allocate(vpc)["AllocationId"] for _ in range(free + 2)]
    for aid in aids:
        associate(vpc, aid, ngw, instance_type="Nat")
    wait_all(vpc, aids, "InUse")
    assert vswitch_available_ips(vpc, vsw) == free
    ips = nat_ip_list(get_nat(vpc, ngw))
    assert len(ips) == free + 2 and all(not i.get("PrivateIpAddress") for i in ips), ips


def test_nat_03_cutoff_is_2022_09_19(eipd_factory):
    """Created 2022-09-18T23:59:59Z: no private IP; 2022-09-19T00:00:00Z: one per EIP."""
    srv = eipd_factory(demo=False)
    vpc = srv.vpc()
    vpc_id = create_vpc(vpc, cidr="172.16.0.0/16")
    vsw_a = create_vswitch(vpc, vpc_id, DEMO_ZONE, "172.16.0.0/29")
    vsw_b = create_vswitch(vpc, vpc_id, DEMO_ZONE, "172.16.0.8/29")
    before = create_nat(vpc, vpc_id, vsw_a, eip_bind_mode="NAT")["NatGatewayId"]
    on = create_nat(vpc, vpc_id, vsw_b, eip_bind_mode="NAT")["NatGatewayId"]
    wait_nat(vpc, before, "Available"), wait_nat(vpc, on, "Available")
    srv.stop()
    srv.admin("nat", "set-creation-time", "--data-dir", str(srv.data_dir), before, "2022-09-18T23:59:59Z")
    srv.admin("nat", "set-creation-time", "--data-dir", str(srv.data_dir), on, "2022-09-19T00:00:00Z")
    srv.restart()
    vpc = srv.vpc()
    free_a, free_b = vswitch_available_ips(vpc, vsw_a), vswitch_available_ips(vpc, vsw_b)
    a, b = allocate(vpc)["AllocationId"], allocate(vpc)["AllocationId"]
    associate(vpc, a, before, instance_type="Nat")
    associate(vpc, b, on, instance_type="Nat")
    wait_all(vpc, [a, b], "InUse")
    assert vswitch_available_ips(vpc, vsw_a) == free_a
    assert vswitch_available_ips(vpc, vsw_b) == free_b - 1
    assert not nat_ip_list(get_nat(vpc, before))[0].get("PrivateIpAddress")
    assert nat_ip_list(get_nat(vpc, on))[0].get("PrivateIpAddress")


def test_nat_01_create_gateway_idempotent_with_client_token(vpc_v3, res):
    token = f"ngw-{uuid.uuid4().hex}"
    a = res.nat(wait=False, client_token=token)["NatGatewayId"]
    b = res.nat(wait=False, client_token=token)["NatGatewayId"]
    assert a == b
    d = body(vpc_v3.describe_nat_gateways(vpc_models.DescribeNatGatewaysRequest(
        region_id=REGION, vpc_id=res.network.vpc_id, page_size=50)))
    assert [n["NatGatewayId"] for n in d["NatGateways"]["NatGateway"]].count(a) == 1, d


def test_nat_04_batch_retry_with_client_token_is_idempotent(vpc_v3, res):
    ngw = res.nat()["NatGatewayId"]
    aids = [res.eip()["AllocationId"] for _ in range(3)]
    token = uuid.uuid4().hex
    associate_batch(vpc_v3, ngw, "Nat", aids, client_token=token)
    associate_batch(vpc_v3, ngw, "Nat", aids, client_token=token)  # a retry, not a conflict
    wait_all(vpc_v3, aids, "InUse")
    assert sorted(i["AllocationId"] for i in nat_ip_list(get_nat(vpc_v3, ngw))) == sorted(aids)
