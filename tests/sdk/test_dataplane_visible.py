"""Data plane, third milestone: EIP visible mode (BINDED, MULTI_BINDED) in the lab.

Through the official SDK, against `eipd serve --lab --demo`:

* BINDED: the EIP replaces the secondary ENI's private IP on its NIC inside
  the instance (VIS-01), the gateway routes it untranslated to the NIC (it is
  in `set visible`, not in `eip2priv`), a TCP server bound to the EIP itself
  is reachable from the internet and sees the client's address, and a
  connection from the EIP leaves with the EIP as its source;
* VIS-04: the instance has a default route through the visible NIC with
  metric 200; with the primary ENI's default removed, unbound traffic leaves
  through it as the EIP;
* VIS-02: the gateway's "metadata" address 100.100.100.200 is reached through
  eth0 thanks to the guest hint (`ip route add 100.64.0.0/10 dev eth0`, which
  the lab configures as GuestConfiguration says); without the hint it goes
  through the visible NIC and is refused (the gateway's counter rises); the
  hint restores it;
* MULTI_BINDED: the EIP sits beside the private IP on the NIC and carries a
  server bound to it;
* detaching removes the NIC and the gateway's route for the EIP.

Runs as root with `ip`, `nft` and `conntrack`; skipped otherwise.
"""

from __future__ import annotations

import re

from conftest import (
    allocate,
    associate,
    attach_eni,
    create_eni,
    detach_eni,
    eni_private_ips,
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
)
from test_dataplane_eni import BOUND_SERVER, GW_NS, PORT, connect_from, instance_info, lab_down

NI = "NetworkInterface"
METADATA = "100.100.100.200"
HINT = ["100.64.0.0/10", "dev", "eth0"]


def service_drops() -> int:
    """Packets the gateway refused from a visible EIP towards 100.64.0.0/10."""
    n = 0
    for chain in ("input", "forward"):
        text = netns(GW_NS, "nft", "list", "chain", "ip", "openeip", chain).stdout
        for line in text.splitlines():
            if "100.64.0.0/10" in line:
                n += sum(int(x) for x in re.findall(r"counter packets (\d+)", line))
    return n


def device(gc: dict) -> str:
    [dev] = {m for r in gc["Routes"] if r.get("Kind") == "table-default"
             for m in re.findall(r"\bdev (eth\d+)", r["Command"])}
    return dev


def addrs(ns: str, dev: str) -> str:
    return netns(ns, "ip", "-4", "-o", "addr", "show", "dev", dev).stdout


def test_visible_mode_eips_are_on_the_nic_and_routed(eipd_factory):
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc, ecs = srv.vpc(), srv.ecs()
        iid = demo_1(srv)
        inst = instance_info(srv, "demo-1")
        vsw = inst["VpcAttributes"]["VSwitchId"]
        sg = inst["SecurityGroupIds"]["SecurityGroupId"][0]
        primary_ip = inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        outside = procs.start("openeip-internet", SERVER, "9090")
        assert read_line(outside) == "ready"

        # BINDED: associate while detached, then attach.
        eni_b = create_eni(ecs, vsw, sg)["NetworkInterfaceId"]
        eip_b = allocate(vpc)
        associate(vpc, eip_b["AllocationId"], eni_b, instance_type=NI, mode="BINDED")
        wait_status(vpc, eip_b["AllocationId"], "InUse")
        attach_eni(ecs, eni_b, iid)
        eni = wait_eni(ecs, eni_b, "InUse")
        [private_b] = eni_private_ips(eni)
        ip_b = eip_b["EipAddress"]
        gc = guest_configuration(raw_eni(ecs, eni_b))
        dev = device(gc)
        # VIS-01: the EIP is on the NIC, replacing the private IP.
        nic = addrs(iid, dev)
        assert f"inet {ip_b}/32" in nic, nic
        assert f"inet {private_b}/" not in nic, nic
        for a in gc["Addresses"]:
            assert f"inet {a['Address']}" in nic, (a, nic)
        # The gateway routes it, untranslated.
        table = netns(GW_NS, "nft", "list", "table", "ip", "openeip").stdout
        assert re.search(rf"set visible \{{[^}}]*\b{re.escape(ip_b)}\b", table, re.S), table
        assert f"{ip_b} :" not in table, "a visible EIP is not in a translation map"
        route = netns(GW_NS, "ip", "route", "get", ip_b).stdout
        assert re.search(r"dev br\w+", route), route

        # A server bound to the EIP itself sees the client's address.
        assert read_line(procs.start(iid, BOUND_SERVER, ip_b, str(PORT))) == "ready"
        assert connect_from("openeip-internet", ip_b, PORT) == f"local={ip_b} peer={CLIENT_IP}"
        # From the EIP, the instance leaves as the EIP (routed, not translated).
        out = connect_from(iid, CLIENT_IP, 9090, source=ip_b, timeout=3)
        assert out is not None and out.startswith(f"peer={ip_b}:"), out

        # VIS-04: a lower-priority default route through the visible NIC.
        defaults = netns(iid, "ip", "route", "show", "default").stdout
        assert re.search(rf"default via \S+ dev {dev} .*metric 200", defaults), defaults
        assert re.search(r"default via (\S+) dev eth0", defaults), defaults
        router = re.search(r"default via (\S+) dev eth0", defaults)[1]

        # VIS-02: the lab configured the guest hint, 100.64.0.0/10 via eth0.
        assert "100.64.0.0/10 dev eth0" in netns(iid, "ip", "route", "show").stdout
        [hint_cmd] = [r["Command"] for r in gc["Routes"] if r.get("Kind") == "reserved"]
        assert hint_cmd == "ip route add " + " ".join(HINT), hint_cmd
        meta = procs.start(GW_NS, BOUND_SERVER, METADATA, "80")
        assert read_line(meta) == "ready"
        assert connect_from(iid, METADATA, 80) == f"local={METADATA} peer={primary_ip}"
        # Prefer the visible NIC for everything (the primary's default gone):
        # the internet is reached as the EIP, the metadata still via eth0.
        assert netns(iid, "ip", "route", "del", "default", "via", router, "dev", "eth0").returncode == 0
        out = connect_from(iid, CLIENT_IP, 9090, timeout=3)
        assert out is not None and out.startswith(f"peer={ip_b}:"), out
        assert connect_from(iid, METADATA, 80) == f"local={METADATA} peer={primary_ip}"
        # Without the hint, 100.64.0.0/10 goes through the visible NIC and is refused.
        assert netns(iid, "ip", "route", "del", *HINT).returncode == 0
        before = service_drops()
        assert connect_from(iid, METADATA, 80, timeout=0.5) is None
        assert service_drops() > before, "the gateway should refuse the EIP towards 100.64.0.0/10"
        # The guest hint, as GuestConfiguration words it, brings it back.
        assert netns(iid, *hint_cmd.split()).returncode == 0
        assert connect_from(iid, METADATA, 80) == f"local={METADATA} peer={primary_ip}"
        assert netns(iid, "ip", "route", "add", "default", "via", router, "dev", "eth0").returncode == 0

        # MULTI_BINDED: the EIP beside the private IP.
        eni_m = create_eni(ecs, vsw, sg)["NetworkInterfaceId"]
        eip_m = allocate(vpc)
        associate(vpc, eip_m["AllocationId"], eni_m, instance_type=NI, mode="MULTI_BINDED")
        wait_status(vpc, eip_m["AllocationId"], "InUse")
        attach_eni(ecs, eni_m, iid)
        [private_m] = eni_private_ips(wait_eni(ecs, eni_m, "InUse"))
        ip_m = eip_m["EipAddress"]
        dev_m = device(guest_configuration(raw_eni(ecs, eni_m)))
        nic = addrs(iid, dev_m)
        assert f"inet {ip_m}/32" in nic and f"inet {private_m}/" in nic, nic
        assert read_line(procs.start(iid, BOUND_SERVER, ip_m, str(PORT))) == "ready"
        assert connect_from("openeip-internet", ip_m, PORT) == f"local={ip_m} peer={CLIENT_IP}"
        out = connect_from(iid, CLIENT_IP, 9090, source=ip_m, timeout=3)
        assert out is not None and out.startswith(f"peer={ip_m}:"), out
        # The BINDED one still works beside it.
        assert connect_from("openeip-internet", ip_b, PORT) == f"local={ip_b} peer={CLIENT_IP}"

        # Detach (visible mode needs it before unassociating): NIC and route go.
        for eni_id, e in ((eni_b, eip_b), (eni_m, eip_m)):
            detach_eni(ecs, eni_id, iid)
            wait_eni(ecs, eni_id, "Available")
            assert f"{e['EipAddress']} " not in netns(GW_NS, "ip", "route", "show").stdout
            assert connect_from("openeip-internet", e["EipAddress"], PORT, timeout=0.3) is None
            unassociate(vpc, e["AllocationId"], eni_id, instance_type=NI)
            wait_status(vpc, e["AllocationId"], "Available")
            release(vpc, e["AllocationId"])
        assert dev not in netns(iid, "ip", "-o", "link", "show").stdout
        assert "via 172.16.1.253 dev eth0" in netns(iid, "ip", "route", "show", "default").stdout
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)
