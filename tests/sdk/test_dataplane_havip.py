"""Data plane: an EIP on a HaVip follows the master instance (HA-01).

Through the official SDK, against `eipd serve --lab --demo`: a HaVip in the
demo vSwitch associated with demo-1 then demo-2 is held by its master
(DescribeHaVips' MasterInstanceId, the first associated instance) on eth0; an
EIP on the HaVip reaches the master's server with the client's source kept.
`eipd havip failover` moves the address to the other instance and points the
gateway's neighbour entry at it; a probe opening a new TCP connection every
10 ms from the internet measures the client-visible outage of each failover.

The same with ENI members: the master ENI's NIC (eth1 of its instance) holds
the address, with a source rule sending replies out through it.

Runs as root with `ip`, `nft` and `conntrack`; skipped otherwise.
"""

from __future__ import annotations

import re
import subprocess
import time

from conftest import (
    allocate,
    associate,
    associate_havip,
    attach_eni,
    create_eni,
    create_havip,
    eipd_bin,
    get_havip,
    release,
    unassociate,
    unassociate_havip,
    wait_eni,
    wait_havip,
    wait_status,
)
from test_dataplane import CLIENT_IP, Procs, netns, pytestmark, read_line, wait_until  # noqa: F401
from test_dataplane_eni import connect_from, instance_info, lab_down

PORT = 8080
INTERVAL = 0.01

# A server that names the instance it runs in.
NAMED_SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[2]))); s.listen(64)
print("ready", flush=True)
while True:
    c, a = s.accept()
    try:
        c.sendall(f"host={sys.argv[1]} peer={a[0]}\n".encode())
    except OSError:
        pass
    c.close()
"""

# Starts a new connection every argv[4] s for argv[3] s, each in its own thread
# (so a lost SYN does not delay the next probe); then prints "ok T HOST" or
# "fail T" per probe in start order, then "done".
PROBE = r"""
import socket, sys, threading, time
ip, port, dur, step = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
results = []
def probe(t):
    try:
        c = socket.create_connection((ip, port), timeout=0.5)
        c.settimeout(0.5)
        line = c.makefile("rb").readline().decode().split()[0]
        c.close()
        results.append((t, f"ok {t:.6f} {line[5:]}"))
    except OSError:
        results.append((t, f"fail {t:.6f}"))
print("ready", flush=True)
threads = []
t0 = time.monotonic()
n = 0
while time.monotonic() < t0 + dur:
    t = time.monotonic()
    th = threading.Thread(target=probe, args=(t,), daemon=True); th.start(); threads.append(th)
    n += 1
    time.sleep(max(0.0, t0 + n * step - time.monotonic()))
for th in threads:
    th.join()
for _, line in sorted(results):
    print(line, flush=True)
print("done", flush=True)
"""


def vip_on(ns: str, vip: str) -> bool:
    return f"inet {vip}/32" in netns(ns, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout


def outage_ms(lines: list[str], old: str, new: str) -> tuple[float, int]:
    """(ms between the last probe the old master answered and the first the new
    one answered after it, minus one probe interval; failed probes in between)."""
    probes = [line.split() for line in lines if line.startswith(("ok", "fail"))]
    ok = [(float(p[1]), p[2]) for p in probes if p[0] == "ok"]
    assert ok and ok[-1][1] == new, f"the last probes should reach the new master {new}: {ok[-3:]}"
    last_old = max(t for t, who in ok if who == old)
    first_new = min(t for t, who in ok if who == new and t > last_old)
    failed = sum(1 for p in probes if p[0] == "fail" and last_old < float(p[1]) < first_new)
    return max(0.0, 1000 * (first_new - last_old - INTERVAL)), failed


def test_havip_eip_follows_the_master_and_failover_outage(eipd_factory):
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc = srv.vpc()
        d1, d2 = instance_info(srv, "demo-1"), instance_info(srv, "demo-2")
        i1, i2 = d1["InstanceId"], d2["InstanceId"]
        vsw = d1["VpcAttributes"]["VSwitchId"]
        hv = create_havip(vpc, vsw)
        hid, vip = hv["HaVipId"], hv["IpAddress"]
        wait_havip(vpc, hid, "Available")
        associate_havip(vpc, hid, i1)
        associate_havip(vpc, hid, i2)
        wait_havip(vpc, hid, "InUse")
        assert get_havip(vpc, hid)["MasterInstanceId"] == i1
        eip = allocate(vpc)
        aid, ip = eip["AllocationId"], eip["EipAddress"]
        associate(vpc, aid, hid, instance_type="HaVip")
        wait_status(vpc, aid, "InUse")
        wait_until(lambda: vip_on(i1, vip), f"{vip} on the master {i1}")
        assert not vip_on(i2, vip)
        for iid in (i1, i2):
            assert read_line(procs.start(iid, NAMED_SERVER, iid, str(PORT))) == "ready"
        assert connect_from("openeip-internet", ip, PORT) == f"host={i1} peer={CLIENT_IP}"

        outages, fails, took = [], [], []
        master, standby = i1, i2
        for _ in range(4):
            probe = procs.start("openeip-internet", PROBE, ip, str(PORT), "1.0", str(INTERVAL))
            assert read_line(probe) == "ready"
            time.sleep(0.3)
            out = subprocess.run([str(eipd_bin()), "havip", "failover", "--data-dir", str(srv.data_dir),
                                  hid, standby], capture_output=True, text=True, timeout=30,
                                 env=srv.admin_env())
            assert out.returncode == 0, out.stdout + out.stderr
            took.append(int(re.search(r"moved to \S+ \((\d+) ms\)", out.stdout)[1]))
            lines = []
            while (line := read_line(probe, 10)) != "done":
                lines.append(line)
            ms, failed = outage_ms(lines, master, standby)
            outages.append(ms)
            fails.append(failed)
            assert get_havip(vpc, hid)["MasterInstanceId"] == standby
            assert vip_on(standby, vip) and not vip_on(master, vip)
            master, standby = standby, master
        outages.sort()
        print(f"\nHaVip failover (eipd havip failover, new connection every {INTERVAL * 1000:.0f} ms): outage median "
              f"{outages[len(outages) // 2]:.1f} ms, max {outages[-1]:.1f} ms, failed probes {fails} (n={len(outages)}); "
              f"address move + neighbour update in the command: {sorted(took)} ms")
        assert outages[len(outages) // 2] < 100, outages

        # A crashed master: its address is gone first (the instance died), then the
        # operator's failover runs at once. The outage is the whole command's wall time.
        probe = procs.start("openeip-internet", PROBE, ip, str(PORT), "1.0", str(INTERVAL))
        assert read_line(probe) == "ready"
        time.sleep(0.3)
        assert netns(master, "ip", "addr", "del", f"{vip}/32", "dev", "eth0").returncode == 0
        netns(master, "ip", "link", "set", "eth0", "down")
        out = subprocess.run([str(eipd_bin()), "havip", "failover", "--data-dir", str(srv.data_dir), hid, standby],
                             capture_output=True, text=True, timeout=30, env=srv.admin_env())
        assert out.returncode == 0, out.stdout + out.stderr
        lines = []
        while (line := read_line(probe, 10)) != "done":
            lines.append(line)
        crash_ms, crash_failed = outage_ms(lines, master, standby)
        print(f"HaVip failover after the master died (address removed, NIC down, then the command): outage "
              f"{crash_ms:.1f} ms, {crash_failed} failed probes")
        assert crash_ms < 1000, crash_ms
        netns(master, "ip", "link", "set", "eth0", "up")
        netns(master, "ip", "route", "replace", "default", "via", "172.16.1.253", "dev", "eth0")
        master, standby = standby, master

        # The agent agrees with the operator's move: after a few rounds the
        # address is still on the master, and only there.
        time.sleep(2.5)
        assert vip_on(master, vip) and not vip_on(standby, vip)
        assert connect_from("openeip-internet", ip, PORT) == f"host={master} peer={CLIENT_IP}"

        # Unassociating the master hands the address to the remaining member.
        unassociate_havip(vpc, hid, master)
        wait_until(lambda: vip_on(standby, vip) and not vip_on(master, vip), f"{vip} to move to {standby}")
        wait_until(lambda: connect_from("openeip-internet", ip, PORT, timeout=0.3) == f"host={standby} peer={CLIENT_IP}",
                   "the EIP to reach the remaining member")

        unassociate(vpc, aid, hid, instance_type="HaVip")
        wait_status(vpc, aid, "Available")
        assert connect_from("openeip-internet", ip, PORT, timeout=0.3) is None
        release(vpc, aid)
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)


def vip_on_nic(ns: str, vip: str, dev: str) -> bool:
    return f"inet {vip}/32" in netns(ns, "ip", "-4", "-o", "addr", "show", "dev", dev).stdout


def test_havip_members_that_are_enis(eipd_factory):
    """HA-01 with ENI members: the master ENI's NIC (eth1 of the instance it is
    attached to) holds the address, replies leave through it, and a failover to
    the other ENI moves the address and the traffic to the other instance."""
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc, ecs = srv.vpc(), srv.ecs()
        d1, d2 = instance_info(srv, "demo-1"), instance_info(srv, "demo-2")
        i1, i2 = d1["InstanceId"], d2["InstanceId"]
        vsw, sg = d1["VpcAttributes"]["VSwitchId"], d1["SecurityGroupIds"]["SecurityGroupId"][0]
        enis = []
        for iid in (i1, i2):
            eni = create_eni(ecs, vsw, sg)["NetworkInterfaceId"]
            attach_eni(ecs, eni, iid)
            wait_eni(ecs, eni, "InUse")
            enis.append(eni)
        e1, e2 = enis
        hv = create_havip(vpc, vsw)
        hid, vip = hv["HaVipId"], hv["IpAddress"]
        wait_havip(vpc, hid, "Available")
        associate_havip(vpc, hid, e1, instance_type="NetworkInterface")
        associate_havip(vpc, hid, e2, instance_type="NetworkInterface")
        assert get_havip(vpc, hid)["MasterInstanceId"] == e1
        eip = allocate(vpc)
        aid, ip = eip["AllocationId"], eip["EipAddress"]
        associate(vpc, aid, hid, instance_type="HaVip")
        wait_status(vpc, aid, "InUse")
        wait_until(lambda: vip_on_nic(i1, vip, "eth1"), f"{vip} on eth1 of {i1} (the master ENI)")
        assert not vip_on_nic(i1, vip, "eth0") and not vip_on_nic(i2, vip, "eth1")
        assert f"from {vip} lookup 1001" in netns(i1, "ip", "rule", "show").stdout, "replies leave through the ENI"
        for iid in (i1, i2):
            assert read_line(procs.start(iid, NAMED_SERVER, iid, str(PORT))) == "ready"
        assert connect_from("openeip-internet", ip, PORT) == f"host={i1} peer={CLIENT_IP}"

        out = subprocess.run([str(eipd_bin()), "havip", "failover", "--data-dir", str(srv.data_dir), hid, e2],
                             capture_output=True, text=True, timeout=30, env=srv.admin_env())
        assert out.returncode == 0, out.stdout + out.stderr
        assert get_havip(vpc, hid)["MasterInstanceId"] == e2
        assert vip_on_nic(i2, vip, "eth1") and not vip_on_nic(i1, vip, "eth1")
        assert f"from {vip} lookup" not in netns(i1, "ip", "rule", "show").stdout
        assert connect_from("openeip-internet", ip, PORT) == f"host={i2} peer={CLIENT_IP}"
        time.sleep(2.5)  # the agent agrees with the operator's move
        assert vip_on_nic(i2, vip, "eth1") and not vip_on_nic(i1, vip, "eth1")

        # Unassociating the master ENI hands the address back to the other.
        unassociate_havip(vpc, hid, e2, instance_type="NetworkInterface")
        wait_until(lambda: vip_on_nic(i1, vip, "eth1") and not vip_on_nic(i2, vip, "eth1"), f"{vip} back on {e1}")
        wait_until(lambda: connect_from("openeip-internet", ip, PORT, timeout=0.3) == f"host={i1} peer={CLIENT_IP}",
                   "the EIP to reach the remaining ENI")
        unassociate(vpc, aid, hid, instance_type="HaVip")
        wait_status(vpc, aid, "Available")
        release(vpc, aid)
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)
