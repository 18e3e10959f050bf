"""DescribeEipMonitorData: per-EIP traffic counted by the data plane.

Through the official SDK:

* without `--lab` the answer has the documented shape (one EipMonitorData
  per period, integer counters, an ISO 8601 TimeStamp) and every counter is
  zero;
* with `--lab` (root, `ip`, `nft`, `conntrack`), traffic through an EIP
  raises its EipRX, EipTX, EipFlow and EipPackets (and after a restart the
  history is still there and a new transfer adds to it): the gateway's accounting
  sets count every packet on the uplink per public address, and the agent
  turns them into totals it records every round.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from alibabacloud_vpc20160428 import models as vpc_models

from conftest import REGION, allocate, associate, body, release, unassociate, wait_status
from test_dataplane import Procs, demo_1, netns, pytestmark as lab_only, read_line
from test_dataplane_eni import lab_down

PORT = 8080
SIZE = 300_000

# Sends SIZE bytes to each client, then closes.
BULK_SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16)
print("ready", flush=True)
while True:
    c, a = s.accept()
    try:
        c.sendall(b"x" * int(sys.argv[2]))
    except OSError:
        pass
    c.close()
"""


def download(ip: str, port: int = PORT) -> int:
    """Bytes a client on the internet receives from ip:port until it closes."""
    code = ("import socket\n"
            f"c=socket.create_connection(('{ip}',{port}),timeout=3)\n"
            "n=0\n"
            "while True:\n"
            "  b=c.recv(65536)\n"
            "  if not b: break\n"
            "  n+=len(b)\n"
            "print(n)\n")
    return int(netns("openeip-internet", "python3", "-c", code).stdout.strip())


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def monitor(vpc, aid: str, period: int | None = None) -> list[dict]:
    """The 15 minutes around now, starting on a 5-minute boundary."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    start = now.replace(minute=now.minute - now.minute % 5) - timedelta(minutes=5)
    req = vpc_models.DescribeEipMonitorDataRequest(
        region_id=REGION, allocation_id=aid, start_time=iso(start),
        end_time=iso(start + timedelta(minutes=15)), period=period)
    resp = vpc.describe_eip_monitor_data(req)
    data = resp.body.eip_monitor_datas.eip_monitor_data
    b = body(resp)
    assert isinstance(b["EipMonitorDatas"]["EipMonitorData"], list), b
    return [d.to_map() for d in data]


def sums(points: list[dict]) -> dict:
    return {k: sum(p[k] for p in points) for k in ("EipRX", "EipTX", "EipFlow", "EipPackets")}


def test_monitor_data_has_the_shape_and_is_zero_without_a_data_plane(eipd_factory):
    srv = eipd_factory()
    vpc = srv.vpc()
    aid = allocate(vpc)["AllocationId"]
    points = monitor(vpc, aid)
    assert len(points) == 15, points  # fifteen 60 s periods
    for p in points:
        assert set(p) == {"EipRX", "EipTX", "EipFlow", "EipBandwidth", "EipPackets", "TimeStamp"}, p
        assert all(isinstance(p[k], int) and p[k] == 0 for k in p if k != "TimeStamp"), p
        assert p["TimeStamp"].endswith("Z"), p
    assert len(monitor(vpc, aid, period=300)) == 3
    release(vpc, aid)


@lab_only
def test_traffic_through_an_eip_raises_its_counters(eipd_factory):
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc = srv.vpc()
        iid = demo_1(srv)
        e = allocate(vpc)
        aid, ip = e["AllocationId"], e["EipAddress"]
        associate(vpc, aid, iid)
        wait_status(vpc, aid, "InUse")
        assert read_line(procs.start(iid, BULK_SERVER, str(PORT), str(SIZE))) == "ready"
        before = sums(monitor(vpc, aid))
        got = download(ip)
        assert got == SIZE, got
        deadline = time.monotonic() + 15
        while True:
            after = sums(monitor(vpc, aid))
            if after["EipTX"] - before["EipTX"] >= SIZE:
                break
            assert time.monotonic() < deadline, (before, after)
            time.sleep(0.5)
        assert after["EipRX"] > before["EipRX"], (before, after)
        # (veths hand the gateway large GSO packets, so few packets carry it)
        assert after["EipPackets"] - before["EipPackets"] >= 4, (before, after)
        assert after["EipFlow"] == after["EipRX"] + after["EipTX"], after

        # A restart keeps the history, and the totals go on from it.
        time.sleep(5.5)  # at least one sampling period after the transfer: persisted
        kept = sums(monitor(vpc, aid))
        srv.restart()
        vpc = srv.vpc()
        wait_status(vpc, aid, "InUse")
        assert sums(monitor(vpc, aid)) == kept, "the traffic history survives a restart"
        procs.stop_all()
        assert read_line(procs.start(iid, BULK_SERVER, str(PORT), str(SIZE))) == "ready"
        got = download(ip)
        assert got == SIZE, got
        deadline = time.monotonic() + 15
        while True:
            again = sums(monitor(vpc, aid))
            if again["EipTX"] - kept["EipTX"] >= SIZE:
                break
            assert time.monotonic() < deadline, (kept, again)
            time.sleep(0.5)
        unassociate(vpc, aid, iid)
        wait_status(vpc, aid, "Available")
        release(vpc, aid)
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)
