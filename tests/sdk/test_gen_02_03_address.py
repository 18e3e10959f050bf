"""GEN-02: an EIP's address never changes while it exists.
GEN-03: an address released within the last 7 days can be retrieved
(AllocateEipAddress IpAddress=...); after 7 days it cannot."""

from __future__ import annotations

import ipaddress
import subprocess

from alibabacloud_ecs20140526 import models as ecs_models

from conftest import (
    EIP_ID_RE,
    allocate,
    associate,
    expect_error,
    get_eip,
    eipd_bin,
    modify,
    release,
    unassociate,
    wait_instance,
    wait_status,
)

DAY = 24 * 3600


def test_gen_02_address_never_changes(vpc_v3, ecs_v3, res):
    a = res.eip()
    aid, ip = a["AllocationId"], a["EipAddress"]
    iid = res.instance()

    def same():
        e = get_eip(vpc_v3, aid)
        assert e["AllocationId"] == aid and e["IpAddress"] == ip, f"GEN-02 broken: {e}"
        return e

    same()
    modify(vpc_v3, aid, bandwidth="20", name="gen02")
    assert same()["Bandwidth"] == "20"
    associate(vpc_v3, aid, iid)
    same()
    wait_status(vpc_v3, aid, "InUse")
    same()
    ecs_v3.stop_instance(ecs_models.StopInstanceRequest(instance_id=iid))
    wait_instance(ecs_v3, iid, "Stopped")
    ecs_v3.start_instance(ecs_models.StartInstanceRequest(instance_id=iid))
    wait_instance(ecs_v3, iid, "Running")
    assert same()["Status"] == "InUse"
    unassociate(vpc_v3, aid, iid)
    wait_status(vpc_v3, aid, "Available")
    same()


def _release_and_forget(vpc, aid):
    release(vpc, aid)
    wait_status(vpc, aid, None)


def test_gen_03_retrieve_released_within_7_days(vpc_v3, res):
    a = allocate(vpc_v3)
    aid, ip = a["AllocationId"], a["EipAddress"]
    _release_and_forget(vpc_v3, aid)

    b = res.eip(ip_address=ip)
    assert b["EipAddress"] == ip, b
    assert EIP_ID_RE.match(b["AllocationId"]), b
    e = get_eip(vpc_v3, b["AllocationId"])
    assert e["IpAddress"] == ip and e["Status"] == "Available", e

    # now it is allocated again: a second retrieval is refused
    expect_error(allocate, 400, "Ip.Allocated", vpc_v3, ip_address=ip)


def test_gen_03_retrieve_released_eip_by_its_id(vpc_v1, res):
    """AllocateEipAddress InstanceId names the released EIP instead of its
    address; with IpAddress as well, the two must agree."""
    a, other = allocate(vpc_v1), allocate(vpc_v1)
    _release_and_forget(vpc_v1, a["AllocationId"])
    _release_and_forget(vpc_v1, other["AllocationId"])
    expect_error(allocate, 400, "InvalidParameter", vpc_v1,
                 instance_id=a["AllocationId"], ip_address=other["EipAddress"])
    b = res.eip(client=vpc_v1, instance_id=a["AllocationId"])
    assert b["EipAddress"] == a["EipAddress"] and b["AllocationId"] != a["AllocationId"], b
    # Taken again: the same id retrieves nothing now.
    expect_error(allocate, 400, "Ip.Allocated", vpc_v1, instance_id=a["AllocationId"])
    # An id that never existed.
    expect_error(allocate, 400, "OperationFailed.AllocateUnfamiliarIp", vpc_v1, instance_id="eip-" + "9" * 22)


def test_gen_03_retrieve_currently_allocated_address_refused(vpc_v1, res):
    a = res.eip(client=vpc_v1)
    expect_error(allocate, 400, "Ip.Allocated", vpc_v1, ip_address=a["EipAddress"])
    assert get_eip(vpc_v1, a["AllocationId"])["Status"] == "Available"


def test_gen_03_retrieve_never_held_address_refused(eipd_factory):
    srv = eipd_factory(demo=False)
    vpc = srv.vpc()
    ip = ipaddress.ip_address(allocate(vpc)["EipAddress"])
    # a neighbour in the same pool that this account never held
    neighbour = ip + 1 if int(ip) % 256 < 250 else ip - 1
    expect_error(allocate, 400, "OperationFailed.AllocateUnfamiliarIp", vpc, ip_address=str(neighbour))


def test_gen_03_retrieve_foreign_address_refused(vpc_v3):
    """An address outside every pool was never held either; the documented
    ResourceNotFound.Ip ("The specified ip is not found.") is accepted too."""
    expect_error(allocate, 400, ("OperationFailed.AllocateUnfamiliarIp", "ResourceNotFound.Ip"),
                 vpc_v3, ip_address="8.8.8.8")


def test_gen_03_retrieve_address_held_by_other_account_refused(eipd_factory):
    """Only the account that held the address can retrieve it."""
    srv = eipd_factory(demo=False)
    root = srv.vpc()
    other = srv.vpc(ak=(keys := srv.create_account("gen03-other"))[0], secret=keys[1])
    a = allocate(root)
    _release_and_forget(root, a["AllocationId"])
    expect_error(allocate, 400, "OperationFailed.AllocateUnfamiliarIp", other, ip_address=a["EipAddress"])
    # the refused attempt did not consume it: the owner still can
    assert allocate(root, ip_address=a["EipAddress"])["EipAddress"] == a["EipAddress"]
    # and while the owner holds it, the other account is told the same
    err = expect_error(allocate, 400, ("OperationFailed.AllocateUnfamiliarIp", "Ip.Allocated"),
                       other, ip_address=a["EipAddress"])
    assert err.status == 400


def clock(srv, *args: str) -> str:
    """`eipd clock ARGS --data-dir DIR` against a running server's store."""
    return srv.admin("clock", *args, "--data-dir", str(srv.data_dir))


def test_gen_03_retrieve_after_7_days_refused(eipd_factory):
    """The control-plane clock moves with `eipd clock advance` while the
    server runs; signatures keep being checked against the host's clock."""
    srv = eipd_factory(demo=False)
    vpc = srv.vpc()

    a = allocate(vpc)
    b = allocate(vpc)
    _release_and_forget(vpc, a["AllocationId"])
    _release_and_forget(vpc, b["AllocationId"])

    # 6 days later: still retrievable
    clock(srv, "advance", "6d")
    got = allocate(vpc, ip_address=a["EipAddress"])
    assert got["EipAddress"] == a["EipAddress"], got

    # 7 days + 1 minute after the release: too late
    clock(srv, "advance", "1d1m")
    expect_error(allocate, 400, "OperationFailed.AllocateUnfamiliarIp", vpc, ip_address=b["EipAddress"])


def test_the_control_plane_clock_survives_a_restart_and_never_runs_back(eipd_factory):
    srv = eipd_factory(demo=False)
    assert "ahead of the host:  0 s" in clock(srv, "show")
    clock(srv, "advance", "2d")
    srv.restart()
    shown = clock(srv, "show")
    assert "ahead of the host:  17280" in shown, shown  # 172,800 s, kept by the store
    # Back in time is refused and changes nothing.
    out = subprocess.run([str(eipd_bin()), "clock", "set", "2020-01-01T00:00:00Z", "--data-dir", str(srv.data_dir)],
                         capture_output=True, text=True, timeout=30, env=srv.admin_env())
    assert out.returncode != 0 and "only moves forward" in out.stderr, out
    for bad in (["advance", "7w"], ["advance", "0d"], ["advance", "40000d"], ["set", "yesterday"]):
        out = subprocess.run([str(eipd_bin()), "clock", *bad, "--data-dir", str(srv.data_dir)],
                             capture_output=True, text=True, timeout=30, env=srv.admin_env())
        assert out.returncode != 0 and out.stderr.startswith("eipd: "), (bad, out)
    assert "ahead of the host:  17280" in clock(srv, "show")
    # A released address's 7 days count in control-plane time.
    vpc = srv.vpc()
    e = allocate(vpc)
    _release_and_forget(vpc, e["AllocationId"])
    clock(srv, "advance", "8d")
    expect_error(allocate, 400, "OperationFailed.AllocateUnfamiliarIp", vpc, ip_address=e["EipAddress"])


def test_gen_03_address_handed_to_another_account_cannot_be_retrieved(eipd_factory):
    """GEN-03: retrieval succeeds only if the address was not handed to anyone
    else since. A /30 pool has two usable addresses, so once both were handed
    out, the next allocation reuses the address released longest ago."""
    srv = eipd_factory(demo=False, args=["--pool", "cn-hangzhou=203.0.113.0/30"])
    root = srv.vpc()
    other = srv.vpc(ak=(keys := srv.create_account("gen03-taker"))[0], secret=keys[1])
    x = allocate(root)
    y = allocate(root)
    assert {x["EipAddress"], y["EipAddress"]} == {"203.0.113.1", "203.0.113.2"}
    _release_and_forget(root, x["AllocationId"])
    # the pool is exhausted: the other account is handed x's old address
    z = allocate(other)
    assert z["EipAddress"] == x["EipAddress"], z
    _release_and_forget(other, z["AllocationId"])
    # it was handed to someone else since root released it: root cannot retrieve it
    expect_error(allocate, 400, "OperationFailed.AllocateUnfamiliarIp", root, ip_address=x["EipAddress"])
    # the account that held it last can
    assert allocate(other, ip_address=x["EipAddress"])["EipAddress"] == x["EipAddress"]
    # and with every address held, plain allocation runs out
    expect_error(allocate, 400, "OperationFailed.InsufficientEIP", root)
