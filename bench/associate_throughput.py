#!/usr/bin/env python3
"""AssociateEipAddress throughput and latency with 32 concurrent clients.

Setup (not measured): one eipd (--task-delay-ms 1 by default), a VPC, a
vSwitch and a security group, RunInstances Amount=32 (ecs.g7.large) and a
wait until all are Running, then one EIP per client.

Measured, for --duration seconds: every client owns one instance and one EIP
and loops

    AssociateEipAddress (timed) -> poll DescribeEipAddresses until InUse ->
    UnassociateEipAddress (timed) -> poll until Available

Each client is a separate process by default (--mode processes: the Python SDK
costs far more CPU per call than the server, and threads in one process would
be capped at one core by the GIL); --mode threads runs them as threads of one
process. Reported: associations/s, AssociateEipAddress latency p50/p99/max
(client side) and the server's own mean time for it (from /metrics), the
server's CPU utilisation (from /proc, per thread: the store writer vs the
HTTP workers), the clients' CPU and the machine's idle share, so it is clear
which side is the bottleneck.

Usage:
  VENV=$(bench/venv.sh)
  "$VENV/bin/python" bench/associate_throughput.py --eipd target/release/eipd
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl  # noqa: E402
from benchlib import REGION, ZONE  # noqa: E402


# --------------------------------------------------------------------------
# Setup
# --------------------------------------------------------------------------


def setup(endpoint: str, clients: int) -> list[tuple[str, str]]:
    """One VPC + vSwitch + SG, `clients` Running instances and as many EIPs."""
    from alibabacloud_ecs20140526 import models as em
    from alibabacloud_vpc20160428 import models as vm

    vpc, ecs = bl.alibaba_clients(endpoint)

    def wait(pred, what: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what}: not ready after {timeout}s")
            time.sleep(0.02)

    vpc_id = bl.body(vpc.create_vpc(vm.CreateVpcRequest(
        region_id=REGION, cidr_block="10.0.0.0/8", vpc_name=f"bench-{uuid.uuid4().hex[:6]}")))["VpcId"]
    wait(lambda: (bl.body(vpc.describe_vpcs(vm.DescribeVpcsRequest(region_id=REGION, vpc_id=vpc_id)))
                  .get("Vpcs", {}).get("Vpc") or [{}])[0].get("Status") in (None, "", "Available"), "VPC")
    vsw_id = bl.body(vpc.create_vswitch(vm.CreateVSwitchRequest(
        region_id=REGION, vpc_id=vpc_id, zone_id=ZONE, cidr_block="10.1.0.0/16",
        v_switch_name="bench")))["VSwitchId"]
    wait(lambda: (bl.body(vpc.describe_vswitches(vm.DescribeVSwitchesRequest(region_id=REGION, v_switch_id=vsw_id)))
                  .get("VSwitches", {}).get("VSwitch") or [{}])[0].get("Status") in (None, "", "Available"),
         "vSwitch")
    sg_id = bl.body(ecs.create_security_group(em.CreateSecurityGroupRequest(
        region_id=REGION, vpc_id=vpc_id, security_group_name="bench")))["SecurityGroupId"]
    ids = bl.body(ecs.run_instances(em.RunInstancesRequest(
        region_id=REGION, image_id=bl.IMAGE_ID, instance_type=bl.INSTANCE_TYPE, amount=clients,
        v_switch_id=vsw_id, security_group_id=sg_id, instance_name="bench")))["InstanceIdSets"]["InstanceIdSet"]
    assert len(ids) == clients, ids

    def all_running() -> bool:
        running = 0
        for i in range(0, len(ids), 100):
            b = bl.body(ecs.describe_instances(em.DescribeInstancesRequest(
                region_id=REGION, instance_ids=json.dumps(ids[i:i + 100]), page_size=100)))
            running += sum(1 for x in b["Instances"]["Instance"] if x["Status"] == "Running")
        return running == len(ids)

    wait(all_running, "instances Running")
    pairs = []
    for iid in ids:
        aid = bl.body(vpc.allocate_eip_address(vm.AllocateEipAddressRequest(region_id=REGION)))["AllocationId"]
        pairs.append((aid, iid))
    return pairs


# --------------------------------------------------------------------------
# One client
# --------------------------------------------------------------------------


def client_loop(endpoint: str, aid: str, iid: str, poll_s: float, ready, go, deadline_box, out,
                nice: int = 0) -> None:
    """Runs in a process or a thread; reports through `out` (a queue or a list)."""
    if nice:
        os.nice(nice)  # processes mode only: lets the server have the CPU when it needs it
    try:
        from darabonba.core import DaraCore

        DaraCore._sessions = {}  # never share a parent's pooled sockets after fork
    except Exception:  # noqa: BLE001
        pass
    from alibabacloud_vpc20160428 import models as vm

    vpc, _ = bl.alibaba_clients(endpoint)
    assoc_req = vm.AssociateEipAddressRequest(region_id=REGION, allocation_id=aid, instance_id=iid,
                                              instance_type="EcsInstance")
    unassoc_req = vm.UnassociateEipAddressRequest(region_id=REGION, allocation_id=aid, instance_id=iid,
                                                  instance_type="EcsInstance")
    desc_req = vm.DescribeEipAddressesRequest(region_id=REGION, allocation_id=aid)

    def status() -> str | None:
        b = bl.body(vpc.describe_eip_addresses(desc_req))
        items = (b.get("EipAddresses") or {}).get("EipAddress") or []
        return items[0]["Status"] if items else None

    status()  # connect, warm the SDK
    assoc_lat: list[float] = []
    unassoc_lat: list[float] = []
    polls = 0
    errors: dict[str, int] = {}
    ready.put(1) if hasattr(ready, "put") else ready.append(1)
    go.wait()
    deadline = deadline_box.value if hasattr(deadline_box, "value") else deadline_box[0]
    cpu0 = time.thread_time()  # this client only (threads mode shares the process)

    def wait_for(want: str) -> None:
        nonlocal polls
        while True:
            polls += 1
            if status() == want:
                return
            time.sleep(poll_s)

    while time.time() < deadline:
        try:
            t = time.perf_counter()
            vpc.associate_eip_address(assoc_req)
            assoc_lat.append(time.perf_counter() - t)
            wait_for("InUse")
            t = time.perf_counter()
            vpc.unassociate_eip_address(unassoc_req)
            unassoc_lat.append(time.perf_counter() - t)
            wait_for("Available")
        except Exception as e:  # noqa: BLE001 - counted and reported
            code = getattr(e, "code", None) or type(e).__name__
            errors[str(code)] = errors.get(str(code), 0) + 1
            if sum(errors.values()) > 50:
                break
            time.sleep(0.01)
            try:
                s = status()
                if s == "InUse":
                    vpc.unassociate_eip_address(unassoc_req)
                    wait_for("Available")
                elif s != "Available":
                    wait_for("Available")
            except Exception:  # noqa: BLE001
                pass
    res = {"assoc_lat": assoc_lat, "unassoc_lat": unassoc_lat, "polls": polls, "errors": errors,
           "cpu_s": time.thread_time() - cpu0}
    out.put(res) if hasattr(out, "put") else out.append(res)


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def server_mean_latency(srv: bl.Eipd, action: str) -> tuple[float, int]:
    _, body = bl.http_get(f"http://{srv.endpoint}/metrics")
    text = body.decode()
    s = re.search(rf'^eipd_request_duration_seconds_sum\{{product="[^"]*",action="{action}"\}} (\S+)$', text, re.M)
    c = re.search(rf'^eipd_request_duration_seconds_count\{{product="[^"]*",action="{action}"\}} (\d+)$', text, re.M)
    return (float(s.group(1)) if s else 0.0), (int(c.group(1)) if c else 0)


def ms(x: float) -> float:
    return round(x * 1e3, 3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eipd", default="target/release/eipd")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    ap.add_argument("--mode", choices=("processes", "threads"), default="processes")
    ap.add_argument("--task-delay-ms", type=int, default=1)
    ap.add_argument("--poll-ms", type=float, default=1.0, help="sleep between status polls")
    ap.add_argument("--log-level", default="info")
    ap.add_argument("--client-nice", type=int, default=0,
                    help="nice value for the client processes (e.g. 10: the server is never starved "
                         "of CPU by the clients; latency then shows the server, not the run queue)")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--out", default=None)
    ap.add_argument("--note", default="", help="free text stored in the JSON (e.g. which commit the binary is)")
    args = ap.parse_args()

    binary = Path(args.eipd)
    if not binary.is_absolute():
        binary = (Path.cwd() / binary).resolve()
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="openeip-bench-", dir=args.data_root) as tmp:
        root = Path(tmp)
        facts = bl.machine_facts(root, binary)
        srv = bl.Eipd(binary, root / "eipd-throughput", args.task_delay_ms, args.log_level, demo=False).start()
        try:
            t = time.monotonic()
            pairs = setup(srv.endpoint, args.clients)
            print(f"setup: {len(pairs)} Running instances and EIPs in {time.monotonic() - t:.1f} s", flush=True)
            if args.mode == "processes":
                ctx = mp.get_context("fork")
                ready, out = ctx.Queue(), ctx.Queue()
                go = ctx.Event()
                deadline = ctx.Value("d", 0.0)
                workers = [ctx.Process(target=client_loop, args=(srv.endpoint, aid, iid, args.poll_ms / 1000,
                                                                 ready, go, deadline, out, args.client_nice),
                                       daemon=True)
                           for aid, iid in pairs]
            else:
                ready_l: list[int] = []
                out_l: list[dict] = []
                go = threading.Event()
                deadline = [0.0]
                ready, out = ready_l, out_l
                workers = [threading.Thread(target=client_loop, args=(srv.endpoint, aid, iid, args.poll_ms / 1000,
                                                                      ready, go, deadline, out), daemon=True)
                           for aid, iid in pairs]
            for w in workers:
                w.start()
            if args.mode == "processes":
                for _ in workers:
                    ready.get(timeout=120)
            else:
                while len(ready_l) < len(workers):
                    time.sleep(0.05)
            sum0, cnt0 = server_mean_latency(srv, "AssociateEipAddress")
            requests0 = sum(srv.requests_total().values())
            if args.mode == "processes":
                deadline.value = time.time() + args.duration
            else:
                deadline[0] = time.time() + args.duration
            s0 = bl.cpu_snapshot(srv.pid)
            th0 = bl.thread_cpu(srv.pid)
            sys0 = bl.system_cpu()
            t0 = time.perf_counter()
            go.set()
            results = []
            if args.mode == "processes":
                for _ in workers:
                    results.append(out.get(timeout=args.duration + 120))
                for w in workers:
                    w.join(timeout=30)
            else:
                for w in workers:
                    w.join(timeout=args.duration + 120)
                results = out_l
            wall = time.perf_counter() - t0
            s1 = bl.cpu_snapshot(srv.pid)
            th1 = bl.thread_cpu(srv.pid)
            sys1 = bl.system_cpu()
            sum1, cnt1 = server_mean_latency(srv, "AssociateEipAddress")
            requests = sum(srv.requests_total().values()) - requests0
            errors_srv = srv.errors_total()
        finally:
            srv.stop()

    d = bl.cpu_delta(s0, s1)
    assoc = sorted(x for r in results for x in r["assoc_lat"])
    unassoc = sorted(x for r in results for x in r["unassoc_lat"])
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
    client_cpu = sum(r["cpu_s"] for r in results)
    threads = {k: round((th1.get(k, 0) - th0.get(k, 0)) / 1e9 / wall, 3) for k in th1}
    machine = bl.system_cpu_delta(sys0, sys1)
    ncpu = facts["nproc"] or 1
    summary: dict[str, Any] = {
        "clients": args.clients,
        "mode": args.mode,
        "duration_s": wall,
        "task_delay_ms": args.task_delay_ms,
        "poll_ms": args.poll_ms,
        "log_level": args.log_level,
        "client_nice": args.client_nice,
        "associations": len(assoc),
        "associations_per_s": len(assoc) / wall,
        "unassociations_per_s": len(unassoc) / wall,
        "associate_latency_ms": {"p50": ms(bl.percentile(assoc, 50)), "p99": ms(bl.percentile(assoc, 99)),
                                 "max": ms(assoc[-1]) if assoc else None,
                                 "mean": ms(statistics.fmean(assoc)) if assoc else None},
        "unassociate_latency_ms": {"p50": ms(bl.percentile(unassoc, 50)), "p99": ms(bl.percentile(unassoc, 99)),
                                   "max": ms(unassoc[-1]) if unassoc else None},
        "server_mean_associate_ms": ms((sum1 - sum0) / (cnt1 - cnt0)) if cnt1 > cnt0 else None,
        "requests": requests,
        "requests_per_s": requests / wall,
        "polls": sum(r["polls"] for r in results),
        "server_cpu_cores": d["clock_us"] / 1e6 / wall,
        "server_cpu_by_thread_cores": threads,
        "server_us_per_request": d["clock_us"] / max(requests, 1),
        "server_us_per_association_cycle": d["clock_us"] / max(len(assoc), 1),
        "client_cpu_cores": client_cpu / wall,
        "client_us_per_request": client_cpu * 1e6 / max(requests, 1),
        "machine_cpu_shares": machine,
        "machine_busy_cores": round((1 - machine.get("idle", 0) - machine.get("iowait", 0)) * ncpu, 3),
        "client_errors": errors,
        "server_errors": errors_srv,
    }
    print(f"\n{args.clients} clients ({args.mode}), {wall:.1f} s, task delay {args.task_delay_ms} ms, "
          f"poll every {args.poll_ms:g} ms, EIPD_LOG={args.log_level}, client nice {args.client_nice}")
    print(f"  associations/s        {summary['associations_per_s']:.1f}  ({len(assoc)} in {wall:.1f} s; "
          f"all requests incl. polls: {summary['requests_per_s']:.0f}/s)")
    a = summary["associate_latency_ms"]
    print(f"  AssociateEipAddress   p50 {a['p50']:.2f} ms, p99 {a['p99']:.2f} ms, max {a['max']:.2f} ms "
          f"(inside eipd: mean {summary['server_mean_associate_ms']} ms)")
    print(f"  server CPU            {summary['server_cpu_cores'] * 100:.0f}% of a core "
          f"({', '.join(f'{k} {v * 100:.0f}%' for k, v in threads.items())}); "
          f"{summary['server_us_per_request']:.0f} µs/request")
    print(f"  client CPU            {summary['client_cpu_cores'] * 100:.0f}% of a core "
          f"({summary['client_us_per_request']:.0f} µs/request)")
    print(f"  machine               {summary['machine_busy_cores']:.2f} of {ncpu} cores busy "
          f"(iowait {machine.get('iowait', 0) * 100:.1f}%, steal {machine.get('steal', 0) * 100:.1f}%)")
    if errors or errors_srv:
        print(f"  errors: client {errors}, server {errors_srv}")
    result = {"benchmark": "associate_throughput", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "machine": facts, "args": vars(args), "result": summary,
              "total_s": time.monotonic() - t_start}
    path = bl.write_result(f"associate_throughput-{args.mode}", result, Path(args.out) if args.out else None)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
