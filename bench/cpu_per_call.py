#!/usr/bin/env python3
"""Server CPU time per API call: eipd (Alibaba EIP API, official Python SDK)
against moto_server 5.2.5 (AWS EC2 addresses, boto3), same machine, same run.

The cycle, driven through the official SDK with its default V3 signer:

  eipd:  AllocateEipAddress -> AssociateEipAddress -> poll DescribeEipAddresses
         (every --poll-ms) until InUse -> DescribeEipAddresses ->
         UnassociateEipAddress -> poll until Available -> ReleaseEipAddress ->
         poll until the EIP is gone
  moto:  allocate_address(Domain=vpc) -> associate_address -> describe_addresses
         (the "poll": moto is synchronous, the first look already shows the
         association) -> describe_addresses -> disassociate_address ->
         describe_addresses (the "poll") -> release_address

Server CPU is read from /proc for the server's pid only (the client's cost is
excluded): the process CPU clock (ns, every thread including exited ones) is
the reported figure; utime+stime from /proc/<pid>/stat (ticks) and the sum of
/proc/<pid>/task/*/schedstat (ns, live threads only) are recorded beside it.
Every HTTP request the SDKs send is counted (urllib3 level, polls included)
and, for eipd, cross-checked with the server's own /metrics counters.

Then (unless --no-breakdown) loops of a single call type attribute the cost
per action, on both servers.

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

    def allocate(self) -> str:
        b = bl.body(self.vpc.allocate_eip_address(self.vm.AllocateEipAddressRequest(region_id=REGION)))
        return b["AllocationId"]

    def associate(self, aid: str) -> None:
        self.vpc.associate_eip_address(self.vm.AssociateEipAddressRequest(
            region_id=REGION, allocation_id=aid, instance_id=self.iid, instance_type="EcsInstance"))

    def unassociate(self, aid: str) -> None:
        self.vpc.unassociate_eip_address(self.vm.UnassociateEipAddressRequest(
            region_id=REGION, allocation_id=aid, instance_id=self.iid, instance_type="EcsInstance"))

    def release(self, aid: str) -> None:
        self.vpc.release_eip_address(self.vm.ReleaseEipAddressRequest(region_id=REGION, allocation_id=aid))

    def describe(self, aid: str) -> dict | None:
        b = bl.body(self.vpc.describe_eip_addresses(self.vm.DescribeEipAddressesRequest(
            region_id=REGION, allocation_id=aid)))
        items = (b.get("EipAddresses") or {}).get("EipAddress") or []
        return items[0] if items else None

    def describe_regions(self) -> None:
        self.vpc.describe_regions(self.vm.DescribeRegionsRequest())

    def describe_instance(self) -> None:
        from alibabacloud_ecs20140526 import models as em

        self.ecs.describe_instances(em.DescribeInstancesRequest(
            region_id=REGION, instance_ids=json.dumps([self.iid])))

    def wait(self, aid: str, status: str | None, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            e = self.describe(aid)
            self.polls += 1
            cur = e.get("Status") if e else None
            if cur == status:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{aid}: {status!r} not reached in {timeout}s (last {cur!r})")
            time.sleep(self.poll_s)

    def cycle(self) -> None:
        aid = self.allocate()
        self.associate(aid)
        self.wait(aid, "InUse")
        e = self.describe(aid)
        assert e and e.get("InstanceId") == self.iid, e
        self.unassociate(aid)
        self.wait(aid, "Available")
        self.release(aid)
        self.wait(aid, None)


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


def measure_cycles(pid: int, cycle: Callable[[], None], n: int, warmup: int,
                   scrape: Callable[[], dict[str, int]] | None = None) -> dict[str, Any]:
    for _ in range(warmup):
        cycle()
    before_srv = scrape() if scrape else None
    walls: list[float] = []
    calls0 = HTTP.n
    own0 = bl.own_cpu_s()
    s0 = bl.cpu_snapshot(pid)
    for _ in range(n):
        t = time.perf_counter()
        cycle()
        walls.append(time.perf_counter() - t)
    s1 = bl.cpu_snapshot(pid)
    own1 = bl.own_cpu_s()
    calls = HTTP.n - calls0
    d = bl.cpu_delta(s0, s1)
    out: dict[str, Any] = {
        "cycles": n,
        "warmup_cycles": warmup,
        "calls": calls,
        "calls_per_cycle": calls / n,
        "server_cpu": d,
        "server_us_per_call": d["clock_us"] / calls,
        "server_us_per_call_stat": d["stat_us"] / calls,
        "server_us_per_call_live_threads": d["tasks_us"] / calls,
        "server_us_per_cycle": d["clock_us"] / n,
        "server_cpu_utilisation": d["clock_us"] / d["wall_us"],
        "client_us_per_call": (own1 - own0) * 1e6 / calls,
        "client_wall_ms_per_cycle": {
            "mean": statistics.fmean(walls) * 1e3,
            "p50": bl.percentile(sorted(walls), 50) * 1e3,
            "p99": bl.percentile(sorted(walls), 99) * 1e3,
        },
        "wall_s": d["wall_us"] / 1e6,
    }
    if scrape:
        after = scrape()
        diff = {k: after.get(k, 0) - before_srv.get(k, 0) for k in after}
        out["server_counted_calls"] = sum(diff.values())
        out["server_counted_by_action"] = {k: v for k, v in sorted(diff.items()) if v}
    return out


def per_call(pid: int, fn: Callable[[], Any], n: int, settle_s: float = 0.0,
             label: str = "") -> dict[str, Any]:
    """CPU of `n` back-to-back calls of one kind (with `settle_s` sleep after each)."""
    calls0 = HTTP.n
    own0 = bl.own_cpu_s()
    s0 = bl.cpu_snapshot(pid)
    for _ in range(n):
        fn()
        if settle_s:
            time.sleep(settle_s)
    s1 = bl.cpu_snapshot(pid)
    own1 = bl.own_cpu_s()
    d = bl.cpu_delta(s0, s1)
    calls = HTTP.n - calls0
    return {"label": label, "n": n, "http_calls": calls, "server_us_per_op": d["clock_us"] / n,
            "server_us_stat_per_op": d["stat_us"] / n,
            "client_us_per_op": (own1 - own0) * 1e6 / n, "wall_us_per_op": d["wall_us"] / n}


class Split:
    """Accumulates the server CPU of the pieces of an alternating sequence
    (e.g. associate / its task / unassociate / its task), each piece between
    two snapshots."""

    def __init__(self, pid: int):
        self.pid = pid
        self.us: dict[str, float] = {}
        self.n: dict[str, int] = {}
        self.wall: dict[str, float] = {}
        self.last = bl.cpu_snapshot(pid)

    def mark(self, key: str) -> None:
        now = bl.cpu_snapshot(self.pid)
        d = bl.cpu_delta(self.last, now)
        self.us[key] = self.us.get(key, 0.0) + d["clock_us"]
        self.wall[key] = self.wall.get(key, 0.0) + d["wall_us"]
        self.n[key] = self.n.get(key, 0) + 1
        self.last = now

    def rows(self, idle_us_per_s: float) -> list[dict[str, Any]]:
        out = []
        for k in self.us:
            idle = idle_us_per_s * self.wall[k] / 1e6
            out.append({"label": k, "n": self.n[k], "server_us_per_op": self.us[k] / self.n[k],
                        "server_us_per_op_minus_idle": (self.us[k] - idle) / self.n[k],
                        "wall_us_per_op": self.wall[k] / self.n[k]})
        return out


def idle_rate(pid: int, seconds: float = 2.0) -> float:
    s0 = bl.cpu_snapshot(pid)
    time.sleep(seconds)
    s1 = bl.cpu_snapshot(pid)
    d = bl.cpu_delta(s0, s1)
    return d["clock_us"] / (d["wall_us"] / 1e6)


def eipd_breakdown(binary: Path, root: Path, log_level: str, n: int, n_reads: int,
                   task_delay_ms: int) -> dict[str, Any]:
    srv = bl.Eipd(binary, root / f"eipd-breakdown-{log_level}", task_delay_ms, log_level).start()
    try:
        drv = EipdDriver(srv.endpoint, 0.001)
        pid = srv.pid
        settle = max(0.008, task_delay_ms * 4 / 1000)
        # Warm up every path once.
        aid = drv.allocate()
        drv.associate(aid)
        drv.wait(aid, "InUse")
        drv.unassociate(aid)
        drv.wait(aid, "Available")
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
        conn.close()
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
        sp2 = Split(pid)
        for _ in range(n):
            try:
                drv.associate(aid)
            except Exception:  # noqa: BLE001 - counted, the settle was too short
                errors += 1
            sp2.mark("AssociateEipAddress (call)")
            time.sleep(settle)
            sp2.mark("AssociateEipAddress (task: Associating -> InUse)")
            try:
                drv.unassociate(aid)
            except Exception:  # noqa: BLE001
                errors += 1
            sp2.mark("UnassociateEipAddress (call)")
            time.sleep(settle)
            sp2.mark("UnassociateEipAddress (task: Unassociating -> Available)")
        rows += sp.rows(idle) + sp2.rows(idle)
        return {"server": "eipd", "log_level": log_level, "task_delay_ms": task_delay_ms,
                "settle_ms": settle * 1e3, "errors": errors, "rows": rows,
                "server_errors": srv.errors_total()}
    finally:
        srv.stop()


def moto_breakdown(root: Path, n: int, n_reads: int) -> dict[str, Any]:
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
        return {"server": "moto", "rows": rows, "descendants": bl.descendants(pid)}
    finally:
        srv.stop()


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def run_eipd(binary: Path, root: Path, args, log_level: str) -> dict[str, Any]:
    srv = bl.Eipd(binary, root / f"eipd-cycle-{log_level}", args.task_delay_ms, log_level).start()
    try:
        drv = EipdDriver(srv.endpoint, args.poll_ms / 1000)
        r = measure_cycles(srv.pid, drv.cycle, args.cycles, args.warmup, srv.requests_total)
        r["server"] = "eipd"
        r["log_level"] = log_level
        r["task_delay_ms"] = args.task_delay_ms
        r["poll_ms"] = args.poll_ms
        r["descendants"] = bl.descendants(srv.pid)
        r["server_errors"] = srv.errors_total()
        r["log_bytes"] = srv.log_path.stat().st_size
        return r
    finally:
        srv.stop()


def run_moto(root: Path, args) -> dict[str, Any]:
    srv = bl.Moto(root / "moto-cycle.log").start()
    try:
        drv = MotoDriver(srv.url)
        r = measure_cycles(srv.pid, drv.cycle, args.moto_cycles, args.warmup)
        r["server"] = "moto"
        r["descendants"] = bl.descendants(srv.pid)
        r["ami"] = drv.ami
        r["log_bytes"] = srv.log_path.stat().st_size
        return r
    finally:
        srv.stop()


def fmt_cycle_table(results: list[dict[str, Any]], moto: dict[str, Any] | None) -> str:
    lines = [
        f"{'server':<14}{'calls':>7}{'calls/cyc':>10}{'srv µs/call':>13}{'(stat)':>9}{'(live thr)':>11}"
        f"{'srv µs/cyc':>12}{'client µs/call':>16}{'wall ms/cyc p50':>17}{'srv CPU%':>10}",
    ]
    rows = list(results) + ([moto] if moto else [])
    for r in rows:
        name = r["server"] + (f" ({r['log_level']})" if "log_level" in r else "")
        lines.append(
            f"{name:<14}{r['calls']:>7}{r['calls_per_cycle']:>10.2f}{r['server_us_per_call']:>13.1f}"
            f"{r['server_us_per_call_stat']:>9.1f}{r['server_us_per_call_live_threads']:>11.1f}"
            f"{r['server_us_per_cycle']:>12.0f}{r['client_us_per_call']:>16.0f}"
            f"{r['client_wall_ms_per_cycle']['p50']:>17.1f}{r['server_cpu_utilisation'] * 100:>9.1f}%")
    if moto:
        for r in results:
            lines.append(
                f"ratio moto/eipd ({r['log_level']}): per call {moto['server_us_per_call'] / r['server_us_per_call']:.1f}x, "
                f"per cycle {moto['server_us_per_cycle'] / r['server_us_per_cycle']:.1f}x; "
                f"target {TARGET_US:.0f} µs/call: "
                f"{'met' if r['server_us_per_call'] <= TARGET_US else 'MISSED'}")
    return "\n".join(lines)


def fmt_breakdown(b: dict[str, Any]) -> str:
    head = f"-- {b['server']}" + (f" (EIPD_LOG={b['log_level']}, task delay {b['task_delay_ms']} ms)"
                                   if b["server"] == "eipd" else "")
    lines = [head, f"{'operation':<58}{'n':>6}{'server µs/op':>14}{'client µs/op':>14}"]
    for r in b["rows"]:
        us = r.get("server_us_per_op_minus_idle", r["server_us_per_op"])
        cl = r.get("client_us_per_op")
        lines.append(f"{r['label']:<58}{r['n']:>6}{us:>14.1f}{(f'{cl:.0f}' if cl is not None else '-'):>14}")
    if b.get("errors"):
        lines.append(f"errors (settle too short): {b['errors']}")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eipd", default="target/release/eipd", help="eipd binary (built by you)")
    ap.add_argument("--cycles", type=int, default=300)
    ap.add_argument("--moto-cycles", type=int, default=None, help="default: --cycles")
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--task-delay-ms", type=int, default=20)
    ap.add_argument("--poll-ms", type=float, default=5.0)
    ap.add_argument("--log-level", default="info", help="EIPD_LOG for eipd (default info)")
    ap.add_argument("--also-log-level", action="append", default=[],
                    help="run the eipd cycle again with this EIPD_LOG (repeatable), e.g. warn")
    ap.add_argument("--skip-moto", action="store_true")
    ap.add_argument("--no-breakdown", action="store_true")
    ap.add_argument("--breakdown-n", type=int, default=300, help="write pairs per action")
    ap.add_argument("--breakdown-reads", type=int, default=1000, help="calls per read action")
    ap.add_argument("--breakdown-task-delay-ms", type=int, default=2)
    ap.add_argument("--data-root", default=None,
                    help="parent of the temporary data dirs (default: the system temp dir)")
    ap.add_argument("--out", default=None, help="JSON result path (default bench/results/...)")
    args = ap.parse_args()
    if args.moto_cycles is None:
        args.moto_cycles = args.cycles

    binary = Path(args.eipd)
    if not binary.is_absolute():
        binary = (Path.cwd() / binary).resolve()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="openeip-bench-", dir=args.data_root) as tmp:
        root = Path(tmp)
        facts = bl.machine_facts(root, binary)
        print(f"machine: {facts['nproc']} x {facts['cpu_model']}, kernel {facts['kernel']}, "
              f"{facts['rustc']}; data dir on {facts['data_dir_filesystem'].get('type')} "
              f"({facts['data_dir_filesystem'].get('device')})", flush=True)
        cycles = []
        for lvl in [args.log_level] + args.also_log_level:
            print(f"eipd cycle, EIPD_LOG={lvl}: {args.warmup} warm-up + {args.cycles} cycles ...", flush=True)
            cycles.append(run_eipd(binary, root, args, lvl))
        moto = None
        if not args.skip_moto:
            print(f"moto cycle: {args.warmup} warm-up + {args.moto_cycles} cycles ...", flush=True)
            moto = run_moto(root, args)
        print()
        print(fmt_cycle_table(cycles, moto))
        for r in cycles:
            if r.get("server_counted_calls") != r["calls"]:
                print(f"WARNING: client counted {r['calls']} calls, eipd counted "
                      f"{r.get('server_counted_calls')}")
            if r.get("server_errors"):
                print(f"eipd errors during the run: {r['server_errors']}")
        breakdowns = []
        if not args.no_breakdown:
            print(f"\nper-action breakdown ({args.breakdown_reads} reads, {args.breakdown_n} write pairs) ...",
                  flush=True)
            breakdowns.append(eipd_breakdown(binary, root, args.log_level, args.breakdown_n,
                                             args.breakdown_reads, args.breakdown_task_delay_ms))
            print(fmt_breakdown(breakdowns[-1]), flush=True)
            if not args.skip_moto:
                breakdowns.append(moto_breakdown(root, args.breakdown_n, args.breakdown_reads))
                print(fmt_breakdown(breakdowns[-1]), flush=True)
        result = {
            "benchmark": "cpu_per_call",
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "target_us_per_call": TARGET_US,
            "machine": facts,
            "args": vars(args),
            "eipd": cycles,
            "moto": moto,
            "breakdown": breakdowns,
            "duration_s": time.monotonic() - t0,
        }
        path = bl.write_result("cpu_per_call", result, Path(args.out) if args.out else None)
        print(f"\nwrote {path} ({result['duration_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
