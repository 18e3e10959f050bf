"""Data plane, second milestone: secondary ENIs in NAT mode and the guards.

Through the official SDK, against `eipd serve --lab --demo`:

* a secondary ENI attached to an instance appears in its namespace as eth<n>
  (`InUse` is reported once it is there, `Available` after detaching once it is gone)
  with all its private IPs on its vSwitch's bridge, and the source policy
  routes DescribeNetworkInterfaces' GuestConfiguration lists are exactly what
  the namespace holds; two EIPs on two private IPs of that ENI each reach a
  TCP server bound to that private IP with the client's source kept, and
  each private IP leaves as its own EIP (ENI-03/05); detaching removes the
  NIC and its rules;
* guards: an unassociated pool address does not answer (and is counted by
  the gateway's pool guard), an instance without an EIP cannot reach the
  internet with its private source (dropped by the egress guard).

Runs as root with `ip`, `nft` and `conntrack`; skipped otherwise.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from alibabacloud_ecs20140526 import models as ecs_models

from conftest import (
    REGION,
    allocate,
    associate,
    attach_eni,
    body,
    create_eni,
    detach_eni,
    eipd_bin,
    eni_private_ips,
    get_eni,
    guest_configuration,
    raw_eni,
    release,
    unassociate,
    wait_eni,
    wait_status,
)
from test_dataplane import (
    CLIENT_IP,
    SERVER,
    Procs,
    demo_1,
    netns,
    pytestmark,  # noqa: F401  (same skip conditions)
    read_line,
    wait_until,
)

PORT = 8080
GW_NS = f"openeip-gw-{REGION}"

# A server bound to one address that tells each client its local and peer addresses.
BOUND_SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
print("ready", flush=True)
while True:
    c, a = s.accept()
    l = c.getsockname()
    try:
        c.sendall(f"local={l[0]} peer={a[0]}\n".encode())
    except OSError:
        pass
    c.close()
"""


def connect_from(ns: str, ip: str, port: int, source: str | None = None, timeout: float = 1.0) -> str | None:
    """One TCP connection from namespace ns (optionally from a source address):
    the server's first line, or None when it failed."""
    bind = f"c.bind(('{source}',0));" if source else ""
    code = ("import socket\n"
            "try:\n"
            f"  c=socket.socket();c.settimeout({timeout});{bind}c.connect(('{ip}',{port}))\n"
            "  print(c.makefile('rb').readline().decode().strip())\n"
            "except OSError as e:\n"
            "  print('FAIL', e)\n")
    out = netns(ns, sys.executable, "-c", code).stdout.strip()
    return None if out.startswith("FAIL") or not out else out


def counter(chain: str) -> int:
    """Packets counted by the `counter` of a gateway chain."""
    text = netns(GW_NS, "nft", "list", "chain", "ip", "openeip", chain).stdout
    return sum(int(n) for n in re.findall(r"counter packets (\d+)", text))


def instance_info(srv, name: str) -> dict:
    b = body(srv.ecs().describe_instances(ecs_models.DescribeInstancesRequest(
        region_id=REGION, instance_name=name)))
    [inst] = [i for i in b["Instances"]["Instance"] if i["InstanceName"] == name]
    return inst


def lab_down(srv) -> None:
    srv.stop()
    subprocess.run([str(eipd_bin()), "lab", "down", "--data-dir", str(srv.data_dir)],
                   capture_output=True, text=True, timeout=60)


def test_secondary_eni_private_ips_carry_their_own_eips(eipd_factory):
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc, ecs = srv.vpc(), srv.ecs()
        iid = demo_1(srv)
        inst = instance_info(srv, "demo-1")
        vsw = inst["VpcAttributes"]["VSwitchId"]
        sg = inst["SecurityGroupIds"]["SecurityGroupId"][0]

        eni_id = create_eni(ecs, vsw, sg, secondary_private_ip_address_count=1)["NetworkInterfaceId"]
        attach_eni(ecs, eni_id, iid)
        eni = wait_eni(ecs, eni_id, "InUse")
        ips = eni_private_ips(eni)
        assert len(ips) == 2, eni

        # The lab wires the ENI as GuestConfiguration describes it.
        gc = guest_configuration(raw_eni(ecs, eni_id))
        [dev] = {m for r in gc["Routes"] for m in re.findall(r"\bdev (eth\d+)", r.get("Command", ""))}
        assert dev == "eth1", gc
        # InUse means the NIC is there (the lab completes the attachment).
        nic = netns(iid, "ip", "-4", "-o", "addr", "show", "dev", dev).stdout
        assert all(f"inet {ip}/" in nic for ip in ips), (ips, nic)
        mac = netns(iid, "ip", "-o", "link", "show", "dev", dev).stdout
        assert eni["MacAddress"].lower() in mac.lower(), mac
        rules = netns(iid, "ip", "rule", "show").stdout
        for r in gc["Routes"]:
            if r["Kind"] == "policy":
                assert f"from {r['Source']} lookup {r['Table']}" in rules, (r, rules)
            elif r["Kind"] == "table-default":
                table = netns(iid, "ip", "route", "show", "table", str(r["Table"])).stdout
                via = re.search(r"default via (\S+) dev (\S+)", r["Command"])
                assert f"default via {via[1]} dev {via[2]}" in table, (r, table)
            else:
                pytest.fail(f"unexpected route kind in NAT mode: {r}")
        for a in gc["Addresses"]:
            assert f"inet {a['Address']}" in netns(iid, "ip", "-4", "-o", "addr", "show", "dev", dev).stdout, a

        # Two EIPs, one per private IP of the secondary ENI (ENI-03/05).
        eips = [allocate(vpc) for _ in ips]
        for e, ip in zip(eips, ips):
            associate(vpc, e["AllocationId"], eni_id, instance_type="NetworkInterface", private_ip_address=ip)
        for e in eips:
            wait_status(vpc, e["AllocationId"], "InUse")
        for ip in ips:
            assert read_line(procs.start(iid, BOUND_SERVER, ip, str(PORT))) == "ready"
        outside = procs.start("openeip-internet", SERVER, "9090")
        assert read_line(outside) == "ready"
        for e, ip in zip(eips, ips):
            got = connect_from("openeip-internet", e["EipAddress"], PORT)
            assert got == f"local={ip} peer={CLIENT_IP}", (e["EipAddress"], got)
            # Outbound from that private IP leaves as its EIP (through eth1's table).
            out = connect_from(iid, CLIENT_IP, 9090, source=ip, timeout=3)
            assert out is not None and out.startswith(f"peer={e['EipAddress']}:"), (ip, out)

        # Unassociate, detach: the NIC and its rules go.
        for e in eips:
            unassociate(vpc, e["AllocationId"], eni_id, instance_type="NetworkInterface")
        for e in eips:
            wait_status(vpc, e["AllocationId"], "Available")
            assert connect_from("openeip-internet", e["EipAddress"], PORT, timeout=0.3) is None
            release(vpc, e["AllocationId"])
        detach_eni(ecs, eni_id, iid)
        wait_eni(ecs, eni_id, "Available")
        # Available means the NIC and its rules are gone.
        assert dev not in netns(iid, "ip", "-o", "link", "show").stdout
        assert not any(ip in netns(iid, "ip", "rule", "show").stdout for ip in ips)
        assert get_eni(ecs, eni_id)["Status"] == "Available"
        # The primary NIC is untouched.
        assert "via 172.16.1.253 dev eth0" in netns(iid, "ip", "route", "show", "default").stdout
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)


def test_guards_unassociated_pool_address_and_unmapped_private_source(eipd_factory):
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc = srv.vpc()
        bare = instance_info(srv, "demo-2")  # no EIP
        bid = bare["InstanceId"]
        bare_ip = bare["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        wait_until(lambda: bid in subprocess.run(["ip", "netns", "list"], capture_output=True,
                                                 text=True).stdout, f"namespace {bid}")
        assert read_line(procs.start(bid, SERVER, str(PORT))) == "ready"
        outside = procs.start("openeip-internet", SERVER, "9090")
        assert read_line(outside) == "ready"

        # A pool address with no association does not answer; the pool guard counts it.
        eip = allocate(vpc)
        before = counter("pool_guard")
        assert connect_from("openeip-internet", eip["EipAddress"], PORT, timeout=0.5) is None
        assert counter("pool_guard") > before, "the unassociated pool address should be dropped by pool_guard"

        # An instance without an EIP: its private source never leaves unmapped.
        before = counter("egress_guard")
        assert connect_from(bid, CLIENT_IP, 9090, timeout=0.5) is None, \
            "an instance without an EIP must not reach the internet"
        assert counter("egress_guard") > before, "the private source should be dropped by egress_guard"
        conntrack = netns(GW_NS, "conntrack", "-L", "-s", bare_ip)
        assert "ASSURED" not in conntrack.stdout, conntrack.stdout

        # The instance's private address cannot be reached from the internet either.
        assert connect_from("openeip-internet", bare_ip, PORT, timeout=0.3) is None

        # With an EIP the same instance gets out, as the EIP.
        associate(vpc, eip["AllocationId"], bid)
        wait_status(vpc, eip["AllocationId"], "InUse")
        out = connect_from(bid, CLIENT_IP, 9090, timeout=3)
        assert out is not None and out.startswith(f"peer={eip['EipAddress']}:"), out
        unassociate(vpc, eip["AllocationId"], bid)
        wait_status(vpc, eip["AllocationId"], "Available")
        assert connect_from(bid, CLIENT_IP, 9090, timeout=0.5) is None
        release(vpc, eip["AllocationId"])
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)
