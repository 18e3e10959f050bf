"""Operator mode: eipd programs a gateway namespace the operator built.

A private-cloud operator has a gateway (here a namespace `oeipop-gw`, standing
for a host) with a real uplink under its own name (`ens9`, towards
`oeipop-inet`, the internet) and a link into the VPC (`vpc0`, towards the
instance `oeipop-i1`, wired with the private IP the API gave demo-1). eipd runs
with `--gateway cn-hangzhou=oeipop-gw --uplink ens9`, creates no namespace,
link or route of its own, and through the official SDK:

* an EIP associated with demo-1 reaches the instance with the client's source
  kept, and the instance's outbound traffic leaves as the EIP;
* after unassociation new connections fail;
* a clean stop leaves the operator's table in place (forwarding goes on while
  the control plane restarts), and the restart takes it over;
* a namespace that does not exist, or lacks the uplink, is refused at start
  with a message naming it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from conftest import allocate, associate, eipd_bin, release, unassociate, wait_status
from test_dataplane import SERVER, Procs, demo_1, namespaces, netns, read_line
from test_dataplane_eni import connect_from, instance_info

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "nft", "conntrack")),
    reason="operator mode needs root and the ip, nft and conntrack tools",
)

GW, INET, INST = "oeipop-gw", "oeipop-inet", "oeipop-i1"
CLIENT = "203.0.113.10"


def sh(*cmd: str) -> None:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"{' '.join(cmd)}: {out.stderr}"


def build_site(private_ip: str) -> None:
    """The operator's own network: internet -- ens9 [gateway] vpc0 -- instance."""
    for ns in (GW, INET, INST):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", "oeipop-a", "netns", INET, "type", "veth", "peer", "name", "ens9", "netns", GW)
    sh("ip", "-n", INET, "link", "set", "oeipop-a", "name", "eth0")
    sh("ip", "-n", INET, "addr", "add", f"{CLIENT}/24", "dev", "eth0")
    sh("ip", "-n", INET, "link", "set", "eth0", "up")
    sh("ip", "-n", INET, "route", "add", "198.18.0.0/15", "via", "203.0.113.1")
    sh("ip", "-n", GW, "addr", "add", "203.0.113.1/24", "dev", "ens9")
    sh("ip", "-n", GW, "link", "set", "ens9", "up")
    sh("ip", "link", "add", "oeipop-b", "netns", INST, "type", "veth", "peer", "name", "vpc0", "netns", GW)
    sh("ip", "-n", INST, "link", "set", "oeipop-b", "name", "eth0")
    sh("ip", "-n", INST, "addr", "add", f"{private_ip}/24", "dev", "eth0")
    sh("ip", "-n", INST, "link", "set", "eth0", "up")
    router = private_ip.rsplit(".", 1)[0] + ".253"
    sh("ip", "-n", INST, "route", "add", "default", "via", router)
    sh("ip", "-n", GW, "addr", "add", f"{router}/24", "dev", "vpc0")
    sh("ip", "-n", GW, "link", "set", "vpc0", "up")
    sh("ip", "netns", "exec", GW, "sysctl", "-qw", "net.ipv4.ip_forward=1")


def tear_site() -> None:
    for ns in (GW, INET, INST):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def refused_start(tmp_path, *args: str) -> str:
    out = subprocess.run([str(eipd_bin()), "serve", "--listen", "127.0.0.1:0", "--data-dir",
                          str(tmp_path / "refused"), *args], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0, out.stdout
    return out.stderr


def test_operator_gateway_carries_eips(eipd_factory, tmp_path):
    procs = Procs()
    srv = None
    tear_site()
    try:
        assert "no network namespace oeipop-gw" in refused_start(
            tmp_path, "--gateway", f"cn-hangzhou={GW}", "--uplink", "ens9")
        srv = eipd_factory(args=[])  # the store first: demo-1's private IP wires the site
        iid = demo_1(srv)
        private_ip = instance_info(srv, "demo-1")["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        srv.stop()
        build_site(private_ip)
        assert "has no interface eth7" in refused_start(
            tmp_path, "--gateway", f"cn-hangzhou={GW}", "--uplink", "eth7")
        before = set(namespaces())

        srv.extra_args = ["--gateway", f"cn-hangzhou={GW}", "--uplink", "ens9"]
        srv.start()
        vpc = srv.vpc()
        assert set(namespaces()) == before, "operator mode creates no namespace"
        p = procs.start(INST, SERVER, "8080")
        assert read_line(p) == "ready"
        eip = allocate(vpc)
        aid, ip = eip["AllocationId"], eip["EipAddress"]
        assert connect_from(INET, ip, 8080, timeout=0.3) is None
        associate(vpc, aid, iid)
        wait_status(vpc, aid, "InUse")
        got = connect_from(INET, ip, 8080)
        assert got is not None and got.startswith(f"peer={CLIENT}:"), got
        listing = netns(GW, "nft", "list", "table", "ip", "openeip").stdout
        assert 'iifname != "ens9"' in listing and "pub0" not in listing, listing

        # Outbound from the instance leaves as the EIP.
        outside = procs.start(INET, SERVER, "9090")
        assert read_line(outside) == "ready"
        out = netns(INST, sys.executable, "-c",
                    f"import socket;c=socket.create_connection(('{CLIENT}',9090),timeout=3);"
                    "print(c.makefile('rb').readline().decode().strip())").stdout.strip()
        assert out.startswith(f"peer={ip}:"), out

        # A clean stop keeps the table (and the traffic); a restart takes over.
        srv.stop()
        assert connect_from(INET, ip, 8080) is not None, "the gateway keeps forwarding while eipd is down"
        srv.start()
        vpc = srv.vpc()
        wait_status(vpc, aid, "InUse")
        unassociate(vpc, aid, iid)
        wait_status(vpc, aid, "Available")
        assert connect_from(INET, ip, 8080, timeout=0.3) is None
        release(vpc, aid)
    finally:
        procs.stop_all()
        if srv is not None:
            srv.stop()
        tear_site()
