"""Data-plane agents: the gateway programmed by `eipd agent`, not by the API node.

The operator's site of test_dataplane_operator (a gateway namespace with an
uplink `ens9` to the internet and a link into the VPC towards demo-1) stands
for a gateway host. The API node (`eipd serve` on a PostgreSQL store, no data
plane) never touches it; two agents named for the same gateway share the
store: one holds the region's lease and programs the gateway, the other
stands by. Through the official SDK:

* an EIP associated on the API node reaches the instance through the active
  agent's table, and is `InUse` only once that agent acknowledged it; the
  traffic the agent counted is what DescribeEipMonitorData on the API node
  shows;
* the active agent killed with SIGKILL: an unassociation made meanwhile stays
  `Unassociating` (no timer completes it, no agent carried it), the standby takes
  the lease once it lapsed, repairs the table someone flushed meanwhile (drift),
  and then carries both EIPs;
* unassociation through the new agent cuts the flows; a clean stop lets the
  lease go at once.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import threading
import time

import pytest

from conftest import (allocate, associate, eipd_bin, get_eip, release, shared_database_url, unassociate,
                      wait_status)
from test_dataplane import SERVER, Procs, demo_1, netns, read_line, wait_until
from test_dataplane_monitor import monitor, sums
from test_dataplane_eni import connect_from, instance_info
from test_dataplane_operator import GW, INET, INST, build_site, tear_site

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "nft", "conntrack", "psql")),
    reason="agents need root, the ip, nft and conntrack tools, and a PostgreSQL server",
)

LEASE_MS = 3000


class Agent:
    """One `eipd agent` process and the lines it printed."""

    def __init__(self, url: str, data_dir, name: str):
        self.name = name
        self.log = data_dir.parent / f"{name}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [str(eipd_bin()), "agent", "--database-url", url, "--data-dir", str(data_dir),
             "--gateway", f"cn-hangzhou={GW}", "--uplink", "ens9", "--lease-ms", str(LEASE_MS)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={k: v for k, v in os.environ.items() if k != "EIPD_DATABASE_URL"})
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []

        def pump():
            with open(self.log, "w") as f:
                for line in self.proc.stdout:
                    f.write(line)
                    f.flush()
                    self.lines.put(line.rstrip())
        threading.Thread(target=pump, daemon=True).start()

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None or not self.lines.empty(), f"{self.name} exited: {self.seen[-20:]}"
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{self.name} never printed {text!r}; last lines: {self.seen[-20:]}")

    def stop(self, sig=signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


def lease_holder(url: str) -> str | None:
    out = subprocess.run(["psql", url, "-Atqc",
                          "SELECT holder FROM dataplane_lease WHERE region_id = 'cn-hangzhou' "
                          "AND expires_at > (extract(epoch from clock_timestamp()) * 1000)::bigint"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip() or None


def test_agent_carries_eips_and_a_standby_takes_over_repairing_drift(eipd_factory, tmp_path):
    url = shared_database_url()
    procs = Procs()
    agents: list[Agent] = []
    tear_site()
    try:
        node = eipd_factory(env={"EIPD_DATABASE_URL": url}, args=[])
        vpc = node.vpc()
        iid = demo_1(node)
        private_ip = instance_info(node, "demo-1")["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        build_site(private_ip)
        p = procs.start(INST, SERVER, "8080")
        assert read_line(p) == "ready"

        first = Agent(url, tmp_path / "agent-a", "agent-a")
        agents.append(first)
        first.wait_for(": active")
        second = Agent(url, tmp_path / "agent-b", "agent-b")
        agents.append(second)
        second.wait_for(": standby")
        holder = lease_holder(url)
        assert holder and f"/{first.proc.pid}-" in holder, holder

        # Associated on the API node, carried by the agent's gateway.
        eip = allocate(vpc)
        aid, ip = eip["AllocationId"], eip["EipAddress"]
        assert connect_from(INET, ip, 8080, timeout=0.3) is None
        associate(vpc, aid, iid)
        wait_status(vpc, aid, "InUse")
        got = connect_from(INET, ip, 8080)
        assert got is not None and got.startswith("peer=203.0.113.10:"), got
        # The agent counted that traffic; the API node, which measured
        # nothing itself, serves it from the store.
        wait_until(lambda: sums(monitor(vpc, aid))["EipRX"] > 0, "the agent's counters on the API node", timeout=20)

        # The active agent dies; someone flushes the gateway's table meanwhile.
        first.stop(signal.SIGKILL)
        netns(GW, "nft", "flush", "table", "ip", "openeip")
        assert connect_from(INET, ip, 8080, timeout=0.3) is None, "the flushed table still forwards"
        # An unassociation now has nobody to carry it: it waits for an agent.
        t_killed = time.monotonic()
        unassociate(vpc, aid, iid)
        time.sleep(1.0)
        assert get_eip(vpc, aid)["Status"] == "Unassociating", "completed without any agent"

        # The standby takes over once the lease lapsed, and its first round
        # rewrites the gateway's table from the store.
        second.wait_for("data-plane lease taken: active", timeout=LEASE_MS / 1000 * 3 + 10)
        took = time.monotonic() - t_killed
        assert took < LEASE_MS / 1000 * 2 + 3, f"takeover took {took:.1f}s"
        wait_status(vpc, aid, "Available")
        assert lease_holder(url) != holder

        associate(vpc, aid, iid)
        wait_status(vpc, aid, "InUse")
        got = connect_from(INET, ip, 8080)
        assert got is not None and got.startswith("peer=203.0.113.10:"), got
        listing = netns(GW, "nft", "list", "table", "ip", "openeip").stdout
        assert ip in listing, listing

        unassociate(vpc, aid, iid)
        wait_status(vpc, aid, "Available")
        assert connect_from(INET, ip, 8080, timeout=0.3) is None
        release(vpc, aid)

        # A clean stop lets the lease go at once.
        second.stop()
        assert lease_holder(url) is None
    finally:
        procs.stop_all()
        for a in agents:
            a.stop(signal.SIGKILL)
        tear_site()
