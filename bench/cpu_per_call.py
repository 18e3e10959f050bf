#!/usr/bin/env python3
"""Server CPU time per API call: eipd (Alibaba EIP API, official Python SDK)
against moto_server 5.2.5 (AWS EC2 addresses, boto3), same machine, same run.

The cycle, driven through the official SDK with its default V3 signer:

  eipd:  AllocateEipAddress -> AssociateEipAddress -> poll DescribeEipAddresses
         (AllocationId, every --poll-ms) until InUse -> DescribeEipAddresses ->
         UnassociateEipAddress -> poll until Available -> ReleaseEipAddress ->
         poll until the EIP is gone
  moto:  allocate_address(Domain=vpc) -> associate_address -> describe_addresses
         (the "poll": moto is synchronous, the first look already shows the
         association) -> describe_addresses -> disassociate_address ->
         describe_addresses (the "poll") -> release_address

Server CPU is read from /proc for the server's pid only, so the client's cost
is excluded: the process CPU clock (clock_gettime on the pid's CPU clock: ns,
every thread, including threads that exited) is the reported figure;
utime+stime from /proc/<pid>/stat (10 ms ticks, exited threads included) and
the sum of /proc/<pid>/task/*/schedstat (ns, live threads only) are recorded
beside it. Every HTTP request the SDKs send is counted (urllib3 level, polls
included) and, for eipd, cross-checked with the server's /metrics counters.

Both servers run side by side and the measured cycles are split into
--rounds rounds that alternate between them, so a drift in the speed of the
(virtual) machine hits both alike.

Then:
  * an attribution pass (--attribute-cycles) splits eipd's CPU in the cycle
    by step (each call, each sleep between polls: task completions land there);
  * the per-action breakdown (unless --no-breakdown) runs loops of one call
    type on both servers, and the same read with the client pausing 0, 1 and
    5 ms between calls (an idle server pays a wake-up cost on every call).

Usage:
  VENV=$(bench/venv.sh)
  cargo build --release -p eipd
  "$VENV/bin/python" bench/cpu_per_call.py --eipd target/release/eipd
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl  # noqa: E402
from benchlib import HTTP, REGION  # noqa: E402

HTTP.install()

TARGET_US = 45.0


# --------------------------------------------------------------------------
# eipd
# --------------------------------------------------------------------------


class EipdDriver:
    """The EIP cycle through the official Alibaba SDK."""

    def __init__(self, endpoint: str, poll_s: float):
        from alibabacloud_vpc20160428 import models as vm

        self.vm = vm
        self.vpc, self.ecs = bl.alibaba_clients(endpoint)
        self.poll_s = poll_s
        self.iid = bl.find_instance(self.ecs, "demo-1")
        self.polls = 0
        # Polls each wait took, in order (bench/floor.py replays them).
        self.wait_polls: list[int] = []
        # Optional hook called with a label after every request and every sleep.
        self.mark: Callable[[str], None] | None = None

    def _m(self, label: str) -> None:
        if self.mark is not None:
            self.mark(label)

    def allocate(self) -> str:
        b = bl.body(self.vpc.allocate_eip_address(self.vm.AllocateEipAddressRequest(region_id=REGION)))
        self._m("AllocateEipAddress")
        return b["AllocationId"]

    def associate(self, aid: str) -> None:
        self.vpc.associate_eip_address(self.vm.AssociateEipAddressRequest(
            region_id=REGION, allocation_id=aid, instance_id=self.iid, instance_type="EcsInstance"))
        self._m("AssociateEipAddress")

    def unassociate(self, aid: str) -> None:
        self.vpc.unassociate_eip_address(self.vm.UnassociateEipAddressRequest(
            region_id=REGION, allocation_id=aid, instance_id=self.iid, instance_type="EcsInstance"))
        self._m("UnassociateEipAddress")

    def release(self, aid: str) -> None:
        self.vpc.release_eip_address(self.vm.ReleaseEipAddressRequest(region_id=REGION, allocation_id=aid))
        self._m("ReleaseEipAddress")

    def describe(self, aid: str, label: str = "DescribeEipAddresses") -> dict | None:
        b = bl.body(self.vpc.describe_eip_addresses(self.vm.DescribeEipAddressesRequest(
            region_id=REGION, allocation_id=aid)))
        self._m(label)
        items = (b.get("EipAddresses") or {}).get("EipAddress") or []
        return items[0] if items else None

    def describe_regions(self) -> None:
        self.vpc.describe_regions(self.vm.DescribeRegionsRequest())

    def describe_instance(self) -> None:
        from alibabacloud_ecs20140526 import models as em

        self.ecs.describe_instances(em.DescribeInstancesRequest(
            region_id=REGION, instance_ids=json.dumps([self.iid])))

    def wait(self, aid: str, status: str | None, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        start = self.polls
        while True:
            e = self.describe(aid, f"DescribeEipAddresses (poll until {what})")
            self.polls += 1
            cur = e.get("Status") if e else None
            if cur == status:
                self.wait_polls.append(self.polls - start)
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{aid}: {status!r} not reached in {timeout}s (last {cur!r})")
            time.sleep(self.poll_s)
            self._m(f"sleep between polls (until {what}; task completes here)")

    def cycle(self) -> None:
        aid = self.allocate()
        self.associate(aid)
        self.wait(aid, "InUse", "InUse")
        e = self.describe(aid)
        assert e and e.get("InstanceId") == self.iid, e
        self.unassociate(aid)
        self.wait(aid, "Available", "Available")
        self.release(aid)
        self.wait(aid, None, "gone")


# --------------------------------------------------------------------------
# moto
# --------------------------------------------------------------------------


class MotoDriver:
    """The AWS equivalent through boto3 against moto_server."""

    def __init__(self, url: str):
        import boto3
        from botocore.config import Config

        self.ec2 = boto3.client(
            "ec2", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        images = self.ec2.describe_images(Owners=["amazon"])["Images"] or self.ec2.describe_images()["Images"]
        self.ami = sorted(i["ImageId"] for i in images)[0]
        r = self.ec2.run_instances(ImageId=self.ami, MinCount=1, MaxCount=1, InstanceType="t2.micro")
        self.iid = r["Instances"][0]["InstanceId"]
        self.polls = 0

    def allocate(self) -> str:
        return self.ec2.allocate_address(Domain="vpc")["AllocationId"]

    def associate(self, aid: str) -> str:
        return self.ec2.associate_address(AllocationId=aid, InstanceId=self.iid)["AssociationId"]

    def describe(self, aid: str) -> dict:
        return self.ec2.describe_addresses(AllocationIds=[aid])["Addresses"][0]

    def disassociate(self, assoc: str) -> None:
        self.ec2.disassociate_address(AssociationId=assoc)

    def release(self, aid: str) -> None:
        self.ec2.release_address(AllocationId=aid)

    def cycle(self) -> None:
        aid = self.allocate()
        assoc = self.associate(aid)
        e = self.describe(aid)  # the poll: already associated (synchronous)
        self.polls += 1
        assert e.get("InstanceId") == self.iid, e
        e = self.describe(aid)
        assert e.get("AssociationId") == assoc, e
        self.disassociate(assoc)
        e = self.describe(aid)  # the poll: already disassociated
        self.polls += 1
        assert not e.get("InstanceId"), e
        self.release(aid)


# --------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------


class Subject:
    """One server under test with its driver, and the rounds measured on it."""

    def __init__(self, name: str, pid: int, cycle: Callable[[], None],
                 scrape: Callable[[], dict[str, int]] | None = None, **info: Any):
        self.name = name
        self.pid = pid
        self.cycle = cycle
        self.scrape = scrape
        self.info = info
        self.rounds: list[dict[str, Any]] = []

    def measure(self, n: int) -> None:
        before_srv = self.scrape() if self.scrape else None
        walls: list[float] = []
        calls0 = HTTP.n
        sys0 = bl.system_cpu()
        own0 = bl.own_cpu_s()
        s0 = bl.cpu_snapshot(self.pid)
        for _ in range(n):
            t = time.perf_counter()
            self.cycle()
            walls.append(time.perf_counter() - t)
        s1 = bl.cpu_snapshot(self.pid)
        own1 = bl.own_cpu_s()
        sys1 = bl.system_cpu()
        r = {"cycles": n, "calls": HTTP.n - calls0, "cpu": bl.cpu_delta(s0, s1),
             "client_cpu_us": (own1 - own0) * 1e6, "walls_s": walls,
             "machine": bl.system_cpu_delta(sys0, sys1)}
        if self.scrape:
            after = self.scrape()
            r["server_counted"] = {k: after.get(k, 0) - before_srv.get(k, 0)
                                   for k in after if after.get(k, 0) - before_srv.get(k, 0)}
        self.rounds.append(r)

    def summary(self) -> dict[str, Any]:
        rs = self.rounds
        calls = sum(r["calls"] for r in rs)
        cycles = sum(r["cycles"] for r in rs)
        keys = ("wall_us", "clock_us", "stat_us", "utime_us", "stime_us", "tasks_us")
        cpu = {k: sum(r["cpu"][k] for r in rs) for k in keys}
        walls = sorted(w for r in rs for w in r["walls_s"])
        per_round = [r["cpu"]["clock_us"] / r["calls"] for r in rs]
        out: dict[str, Any] = {
            "server": self.name, **self.info,
            "rounds": len(rs),
            "cycles": cycles,
            "calls": calls,
            "calls_per_cycle": calls / cycles,
            "server_cpu": cpu,
            "server_us_per_call": cpu["clock_us"] / calls,
            "server_us_per_call_stat": cpu["stat_us"] / calls,
            "server_us_per_call_live_threads": cpu["tasks_us"] / calls,
            "server_us_per_call_by_round": [round(x, 1) for x in per_round],
            "server_us_per_cycle": cpu["clock_us"] / cycles,
            "server_user_share": cpu["utime_us"] / max(cpu["stat_us"], 1),
            "server_cpu_utilisation": cpu["clock_us"] / cpu["wall_us"],
            "client_us_per_call": sum(r["client_cpu_us"] for r in rs) / calls,
            "client_wall_ms_per_cycle": {
                "mean": statistics.fmean(walls) * 1e3,
                "p50": bl.percentile(walls, 50) * 1e3,
                "p99": bl.percentile(walls, 99) * 1e3,
            },
            "machine_cpu_shares_by_round": [r["machine"] for r in rs],
        }
        if self.scrape:
            by_action: dict[str, int] = {}
            for r in rs:
                for k, v in r["server_counted"].items():
                    by_action[k] = by_action.get(k, 0) + v
            out["server_counted_calls"] = sum(by_action.values())
            out["server_counted_by_action"] = dict(sorted(by_action.items()))
        return out


def per_call(pid: int, fn: Callable[[], Any], n: int, gap_s: float = 0.0,
             label: str = "") -> dict[str, Any]:
    """Server CPU of `n` calls of one kind, `gap_s` of client sleep between them."""
    calls0 = HTTP.n
    own0 = bl.own_cpu_s()
    s0 = bl.cpu_snapshot(pid)
    for _ in range(n):
        fn()
        if gap_s:
            time.sleep(gap_s)
    s1 = bl.cpu_snapshot(pid)
    own1 = bl.own_cpu_s()
    d = bl.cpu_delta(s0, s1)
    return {"label": label, "n": n, "http_calls": HTTP.n - calls0, "gap_ms": gap_s * 1e3,
            "server_us_per_op": d["clock_us"] / n,
            "client_us_per_op": (own1 - own0) * 1e6 / n, "wall_us_per_op": d["wall_us"] / n}


class Split:
    """Accumulates the server CPU between consecutive marks, by label."""

    def __init__(self, pid: int):
        self.pid = pid
        self.us: dict[str, float] = {}
        self.n: dict[str, int] = {}
        self.wall: dict[str, float] = {}
        self.last = bl.cpu_snapshot(pid)

    def reset(self) -> None:
        self.last = bl.cpu_snapshot(self.pid)

    def mark(self, key: str) -> None:
        now = bl.cpu_snapshot(self.pid)
        d = bl.cpu_delta(self.last, now)
        self.us[key] = self.us.get(key, 0.0) + d["clock_us"]
        self.wall[key] = self.wall.get(key, 0.0) + d["wall_us"]
        self.n[key] = self.n.get(key, 0) + 1
        self.last = now

    def rows(self, idle_us_per_s: float = 0.0, per: int | None = None) -> list[dict[str, Any]]:
        out = []
        for k in self.us:
            idle = idle_us_per_s * self.wall[k] / 1e6
            row = {"label": k, "n": self.n[k], "server_us_per_op": (self.us[k] - idle) / self.n[k],
                   "wall_us_per_op": self.wall[k] / self.n[k]}
            if per:
                row["per_cycle"] = self.n[k] / per
                row["server_us_per_cycle"] = (self.us[k] - idle) / per
            out.append(row)
        return out


def idle_rate(pid: int, seconds: float = 2.0) -> float:
    s0 = bl.cpu_snapshot(pid)
    time.sleep(seconds)
    d = bl.cpu_delta(s0, bl.cpu_snapshot(pid))
    return d["clock_us"] / (d["wall_us"] / 1e6)


def attribute_cycle(drv: EipdDriver, pid: int, n: int) -> dict[str, Any]:
    """Per-step server CPU inside the cycle (one snapshot after every step)."""
    sp = Split(pid)
    drv.mark = sp.mark
    try:
        sp.reset()
        for _ in range(n):
            drv.cycle()
    finally:
        drv.mark = None
    rows = sp.rows(per=n)
    return {"cycles": n, "rows": rows,
            "server_us_per_cycle": sum(r["server_us_per_cycle"] for r in rows)}


def eipd_breakdown(binary: Path, root: Path, log_level: str, n: int, n_reads: int,
                   task_delay_ms: int, n_paced: int) -> dict[str, Any]:
    srv = bl.Eipd(binary, root / f"eipd-breakdown-{log_level}", task_delay_ms, log_level).start()
    try:
        drv = EipdDriver(srv.endpoint, 0.001)
        pid = srv.pid
        settle = max(0.008, task_delay_ms * 4 / 1000)
        # Warm up every path once.
        aid = drv.allocate()
        drv.associate(aid)
        drv.wait(aid, "InUse", "InUse")
        drv.unassociate(aid)
        drv.wait(aid, "Available", "Available")
        drv.describe_regions()
        drv.describe_instance()
        idle = idle_rate(pid)
        rows: list[dict[str, Any]] = [{"label": "idle (µs of CPU per second)", "n": 0,
                                       "server_us_per_op": idle}]
        conn = http.client.HTTPConnection("127.0.0.1", srv.port)

        def healthz() -> None:
            conn.request("GET", "/healthz")
            conn.getresponse().read()

        for _ in range(20):
            healthz()
        rows.append(per_call(pid, healthz, n_reads, label="GET /healthz (no SDK, no auth)"))
        rows.append(per_call(pid, drv.describe_regions, n_reads, label="DescribeRegions"))
        rows.append(per_call(pid, lambda: drv.describe(aid), n_reads,
                             label="DescribeEipAddresses (AllocationId, 1 result)"))
        rows.append(per_call(pid, drv.describe_instance, n_reads,
                             label="DescribeInstances (ECS, InstanceIds=[1])"))
        # Writes: alternate, and attribute each piece separately.
        errors = 0
        sp = Split(pid)
        for _ in range(n):
            a = drv.allocate()
            sp.mark("AllocateEipAddress")
            drv.release(a)
            sp.mark("ReleaseEipAddress (call)")
            time.sleep(settle)
            sp.mark("ReleaseEipAddress (task: Releasing -> gone)")
        for _ in range(n):
            try:
                drv.associate(aid)
            except Exception:  # noqa: BLE001 - counted, the settle was too short
                errors += 1
            sp.mark("AssociateEipAddress (call)")
            time.sleep(settle)
            sp.mark("AssociateEipAddress (task: Associating -> InUse)")
            try:
                drv.unassociate(aid)
            except Exception:  # noqa: BLE001
                errors += 1
            sp.mark("UnassociateEipAddress (call)")
            time.sleep(settle)
            sp.mark("UnassociateEipAddress (task: Unassociating -> Available)")
        rows += sp.rows(idle)
        # Pacing: the same cheap calls with the client pausing between them.
        paced = []
        for gap in (0.0, 0.001, 0.005):
            paced.append(per_call(pid, healthz, n_paced, gap, label=f"GET /healthz, {gap * 1e3:g} ms apart"))
            paced.append(per_call(pid, lambda: drv.describe(aid), n_paced, gap,
                                  label=f"DescribeEipAddresses, {gap * 1e3:g} ms apart"))
        conn.close()
        return {"server": "eipd", "log_level": log_level, "task_delay_ms": task_delay_ms,
                "settle_ms": settle * 1e3, "errors": errors, "rows": rows, "paced": paced,
                "server_errors": srv.errors_total()}
    finally:
        srv.stop()


def moto_breakdown(root: Path, n: int, n_reads: int, n_paced: int) -> dict[str, Any]:
    srv = bl.Moto(root / "moto-breakdown.log").start()
    try:
        drv = MotoDriver(srv.url)
        pid = srv.pid
        aid = drv.allocate()
        drv.describe(aid)
        idle = idle_rate(pid)
        rows: list[dict[str, Any]] = [{"label": "idle (µs of CPU per second)", "n": 0,
                                       "server_us_per_op": idle}]
        rows.append(per_call(pid, lambda: drv.ec2.describe_regions(), n_reads, label="DescribeRegions"))
        rows.append(per_call(pid, lambda: drv.describe(aid), n_reads,
                             label="DescribeAddresses (AllocationIds=[1])"))
        rows.append(per_call(pid, lambda: drv.ec2.describe_instances(InstanceIds=[drv.iid]), n_reads,
                             label="DescribeInstances (InstanceIds=[1])"))
        sp = Split(pid)
        for _ in range(n):
            a = drv.allocate()
            sp.mark("AllocateAddress")
            drv.release(a)
            sp.mark("ReleaseAddress")
        for _ in range(n):
            assoc = drv.associate(aid)
            sp.mark("AssociateAddress")
            drv.disassociate(assoc)
            sp.mark("DisassociateAddress")
        rows += sp.rows(idle)
        paced = [per_call(pid, lambda: drv.describe(aid), n_paced, gap,
                          label=f"DescribeAddresses, {gap * 1e3:g} ms apart")
                 for gap in (0.0, 0.001, 0.005)]
        return {"server": "moto", "rows": rows, "paced": paced, "descendants": bl.descendants(pid)}
    finally:
        srv.stop()


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def fmt_cycle_table(subjects: list[dict[str, Any]]) -> str:
    lines = [
        f"{'server':<14}{'calls':>7}{'calls/cyc':>10}{'srv µs/call':>13}{'(stat)':>9}{'(live thr)':>11}"
        f"{'rounds min-max':>16}{'srv µs/cyc':>12}{'client µs/call':>16}{'wall ms/cyc p50':>17}{'srv CPU%':>10}",
    ]
    for r in subjects:
        name = r["server"] + (f" ({r['log_level']})" if "log_level" in r else "")
        br = r["server_us_per_call_by_round"]
        lines.append(
            f"{name:<14}{r['calls']:>7}{r['calls_per_cycle']:>10.2f}{r['server_us_per_call']:>13.1f}"
            f"{r['server_us_per_call_stat']:>9.1f}{r['server_us_per_call_live_threads']:>11.1f}"
            f"{f'{min(br):.0f}-{max(br):.0f}':>16}"
            f"{r['server_us_per_cycle']:>12.0f}{r['client_us_per_call']:>16.0f}"
            f"{r['client_wall_ms_per_cycle']['p50']:>17.1f}{r['server_cpu_utilisation'] * 100:>9.1f}%")
    moto = next((r for r in subjects if r["server"] == "moto"), None)
    for r in subjects:
        if r["server"] != "eipd":
            continue
        verdict = "met" if r["server_us_per_call"] <= TARGET_US else \
            f"MISSED by {r['server_us_per_call'] / TARGET_US:.1f}x"
        ratio = ""
        if moto:
            ratio = (f"moto/eipd per call {moto['server_us_per_call'] / r['server_us_per_call']:.1f}x, "
                     f"per cycle {moto['server_us_per_cycle'] / r['server_us_per_cycle']:.1f}x; ")
        lines.append(f"eipd ({r['log_level']}): {ratio}target {TARGET_US:.0f} µs/call: {verdict}")
    return "\n".join(lines)


def fmt_attribution(a: dict[str, Any]) -> str:
    lines = [f"-- eipd CPU inside the cycle, by step ({a['cycles']} cycles)",
             f"{'step':<62}{'per cycle':>10}{'µs/op':>9}{'µs/cycle':>10}"]
    for r in a["rows"]:
        lines.append(f"{r['label']:<62}{r['per_cycle']:>10.2f}{r['server_us_per_op']:>9.1f}"
                     f"{r['server_us_per_cycle']:>10.0f}")
    lines.append(f"{'total':<62}{'':>10}{'':>9}{a['server_us_per_cycle']:>10.0f}")
    return "\n".join(lines)


def fmt_breakdown(b: dict[str, Any]) -> str:
    head = f"-- {b['server']}" + (f" (EIPD_LOG={b['log_level']}, task delay {b['task_delay_ms']} ms)"
                                   if b["server"] == "eipd" else "")
    lines = [head, f"{'operation':<58}{'n':>6}{'server µs/op':>14}{'client µs/op':>14}"]
    for r in b["rows"] + b.get("paced", []):
        cl = r.get("client_us_per_op")
        lines.append(f"{r['label']:<58}{r['n']:>6}{r['server_us_per_op']:>14.1f}"
                     f"{(f'{cl:.0f}' if cl is not None else '-'):>14}")
    if b.get("errors"):
        lines.append(f"errors (settle too short): {b['errors']}")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eipd", default="target/release/eipd", help="eipd binary (built by you)")
    ap.add_argument("--cycles", type=int, default=300, help="measured cycles per server (all rounds)")
    ap.add_argument("--moto-cycles", type=int, default=None, help="default: --cycles")
    ap.add_argument("--rounds", type=int, default=3, help="alternate between the servers this many times")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--task-delay-ms", type=int, default=20)
    ap.add_argument("--poll-ms", type=float, default=5.0)
    ap.add_argument("--log-level", default="info", help="EIPD_LOG for eipd (default info)")
    ap.add_argument("--also-log-level", action="append", default=[],
                    help="measure one more eipd with this EIPD_LOG (repeatable), e.g. warn")
    ap.add_argument("--skip-moto", action="store_true")
    ap.add_argument("--attribute-cycles", type=int, default=50,
                    help="cycles of the per-step attribution pass (0: skip)")
    ap.add_argument("--no-breakdown", action="store_true")
    ap.add_argument("--breakdown-n", type=int, default=300, help="write pairs per action")
    ap.add_argument("--breakdown-reads", type=int, default=1000, help="calls per read action")
    ap.add_argument("--breakdown-paced", type=int, default=300, help="calls per pacing row")
    ap.add_argument("--breakdown-task-delay-ms", type=int, default=2)
    ap.add_argument("--data-root", default=None,
                    help="parent of the temporary data dirs (default: the system temp dir)")
    ap.add_argument("--out", default=None, help="JSON result path (default bench/results/...)")
    ap.add_argument("--note", default="", help="free text stored in the JSON (e.g. which commit the binary is)")
    args = ap.parse_args()
    if args.moto_cycles is None:
        args.moto_cycles = args.cycles

    binary = Path(args.eipd)
    if not binary.is_absolute():
        binary = (Path.cwd() / binary).resolve()
    t0 = time.monotonic()
    started: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="openeip-bench-", dir=args.data_root) as tmp:
        root = Path(tmp)
        facts = bl.machine_facts(root, binary)
        print(f"machine: {facts['nproc']} x {facts['cpu_model']}, kernel {facts['kernel']}, "
              f"{facts['rustc']}; data dir on {facts['data_dir_filesystem'].get('type')} "
              f"({facts['data_dir_filesystem'].get('device')}); eipd {facts.get('eipd_version')}",
              flush=True)
        try:
            subjects: list[Subject] = []
            eipd_drivers: list[tuple[bl.Eipd, EipdDriver]] = []
            for lvl in [args.log_level] + args.also_log_level:
                srv = bl.Eipd(binary, root / f"eipd-cycle-{lvl}", args.task_delay_ms, lvl).start()
                started.append(srv)
                drv = EipdDriver(srv.endpoint, args.poll_ms / 1000)
                eipd_drivers.append((srv, drv))
                subjects.append(Subject("eipd", srv.pid, drv.cycle, srv.requests_total, log_level=lvl,
                                        task_delay_ms=args.task_delay_ms, poll_ms=args.poll_ms))
            moto_srv = None
            if not args.skip_moto:
                moto_srv = bl.Moto(root / "moto-cycle.log").start()
                started.append(moto_srv)
                mdrv = MotoDriver(moto_srv.url)
                subjects.append(Subject("moto", moto_srv.pid, mdrv.cycle, None, ami=mdrv.ami))
            for s in subjects:
                for _ in range(args.warmup):
                    s.cycle()
            print(f"{args.rounds} rounds of {', '.join(s.name for s in subjects)} after {args.warmup} "
                  f"warm-up cycles each ...", flush=True)
            for rnd in range(args.rounds):
                order = subjects if rnd % 2 == 0 else subjects[::-1]
                for s in order:
                    total = args.moto_cycles if s.name == "moto" else args.cycles
                    n = total // args.rounds + (1 if rnd < total % args.rounds else 0)
                    s.measure(n)
            summaries = [s.summary() for s in subjects]
            for summ, (srv, _) in zip(summaries, eipd_drivers):
                summ["server_errors"] = srv.errors_total()
                summ["descendants"] = bl.descendants(srv.pid)
                summ["log_bytes"] = srv.log_path.stat().st_size
            if moto_srv is not None:
                summaries[-1]["descendants"] = bl.descendants(moto_srv.pid)
                summaries[-1]["log_bytes"] = moto_srv.log_path.stat().st_size
            print()
            print(fmt_cycle_table(summaries))
            for summ in summaries:
                if summ["server"] == "eipd":
                    if summ.get("server_counted_calls") != summ["calls"]:
                        print(f"WARNING: client counted {summ['calls']} calls, eipd counted "
                              f"{summ.get('server_counted_calls')}")
                    if summ.get("server_errors"):
                        print(f"eipd errors during the run: {summ['server_errors']}")
                if summ.get("descendants"):
                    print(f"NOTE: {summ['server']} has child processes {summ['descendants']}: not measured")
            attribution = None
            if args.attribute_cycles:
                srv, drv = eipd_drivers[0]
                attribution = attribute_cycle(drv, srv.pid, args.attribute_cycles)
                print()
                print(fmt_attribution(attribution), flush=True)
        finally:
            for p in started:
                p.stop()
        breakdowns = []
        if not args.no_breakdown:
            print(f"\nper-action breakdown ({args.breakdown_reads} reads, {args.breakdown_n} write pairs, "
                  f"{args.breakdown_paced} paced calls) ...", flush=True)
            breakdowns.append(eipd_breakdown(binary, root, args.log_level, args.breakdown_n,
                                             args.breakdown_reads, args.breakdown_task_delay_ms,
                                             args.breakdown_paced))
            print(fmt_breakdown(breakdowns[-1]), flush=True)
            if not args.skip_moto:
                breakdowns.append(moto_breakdown(root, args.breakdown_n, args.breakdown_reads,
                                                 args.breakdown_paced))
                print(fmt_breakdown(breakdowns[-1]), flush=True)
        for s in subjects:  # raw per-round data, without the per-cycle wall times
            for r in s.rounds:
                r.pop("walls_s", None)
        result = {
            "benchmark": "cpu_per_call",
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "target_us_per_call": TARGET_US,
            "machine": facts,
            "args": vars(args),
            "cycle": summaries,
            "cycle_rounds": {f"{s.name}:{s.info.get('log_level', '')}": s.rounds for s in subjects},
            "attribution": attribution,
            "breakdown": breakdowns,
            "duration_s": time.monotonic() - t0,
        }
        path = bl.write_result("cpu_per_call", result, Path(args.out) if args.out else None)
        print(f"\nwrote {path} ({result['duration_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
