#!/usr/bin/env python3
"""AssociateEipAddress returning -> first packet reaching the instance.

A benchmark for docs/benchmarks.md (not a test). Runs as root: it starts a
release `eipd serve --lab --demo` (the namespace lab: `openeip-internet` is
the internet, one gateway namespace per region, one namespace per ECS
instance named after its id), puts a TCP listener in demo-1's namespace, and
a probe process in `openeip-internet` that is already running and waits for a
go line on stdin, so no process start-up is counted.

Each round, with the official Python SDK:

    AssociateEipAddress(EIP, demo-1)              -> t_ret when the call returns
    go to the probe: a new non-blocking connect to EIP:port every 0.5 ms
      (each attempt its own socket; attempts still pending after 20 ms are
      dropped, their SYN went nowhere) until one completes -> t_first
    meanwhile DescribeEipAddresses every --poll-ms until InUse -> t_inuse
    UnassociateEipAddress, poll until Available (timed, not the point)
    before each call: 5 ms of probing must find the EIP closed

Reported over the rounds: p50/p99/max of t_first - t_ret ("first packet",
the probe's SYN through the gateway and the SYN-ACK back) and of
t_inuse - t_ret, plus the Associate call's own latency and the probe's floor
(the same go once the EIP is InUse: signal + one connect, which bounds
"first packet" from below). With --probe-from call the probe starts when the
call is sent, so a negative "first packet" shows the path open before the
reply reached the client. Both processes read
CLOCK_MONOTONIC, which network namespaces share. The lab is torn down with a
clean stop and `eipd lab down --data-dir D` whatever happens.

Usage:
  cargo build --release -p eipd
  VENV=$(bench/venv.sh)
  sudo "$VENV/bin/python" bench/assoc_first_packet.py --eipd target/release/eipd
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl  # noqa: E402
from benchlib import REGION  # noqa: E402

INTERNET_NS = "openeip-internet"

# Accepts and closes connections forever; prints "ready" once listening.
SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1024)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.close()
"""

# Prints "ready"; then for every "IP PORT TIMEOUT_S" line on stdin starts a
# new non-blocking connect every INTERVAL seconds (argv[1]) until one
# completes, and prints "ok T_GO T_FIRST ATTEMPTS" (CLOCK_MONOTONIC seconds)
# or "timeout T_GO ATTEMPTS".
PROBE = r"""
import errno, select, socket, sys, time
interval = float(sys.argv[1])
STALE = 0.02
print("ready", flush=True)
for line in sys.stdin:
    ip, port, limit = line.split()
    t_go = time.monotonic()
    deadline = t_go + float(limit)
    pending = {}  # socket -> started
    attempts = 0
    result = None
    next_at = t_go
    while result is None:
        now = time.monotonic()
        if now >= deadline:
            break
        if now >= next_at:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            err = s.connect_ex((ip, int(port)))
            attempts += 1
            if err == 0:
                result = time.monotonic(); s.close(); break
            if err == errno.EINPROGRESS:
                pending[s] = now
            else:
                s.close()
            next_at += interval
            if next_at < now:
                next_at = now + interval
            for ps, started in list(pending.items()):
                if now - started > STALE:
                    ps.close(); del pending[ps]
        # select() takes a timeval (us); poll()/epoll round up to whole ms.
        wait = max(0.0, next_at - time.monotonic())
        _, ready, _ = select.select([], list(pending), [], wait)
        for s in ready:
            del pending[s]
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 and result is None:
                result = time.monotonic()
            s.close()
    for s in pending:
        s.close()
    if result is None:
        print(f"timeout {t_go:.6f} {attempts}", flush=True)
    else:
        print(f"ok {t_go:.6f} {result:.6f} {attempts}", flush=True)
"""


def wait_for(cond, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eipd", type=Path,
                    default=Path(os.environ.get("CARGO_TARGET_DIR", bl.REPO_ROOT / "target")) / "release" / "eipd")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=3, help="unmeasured rounds first")
    ap.add_argument("--task-delay-ms", type=int, default=1, help="the smallest eipd accepts")
    ap.add_argument("--probe-interval-ms", type=float, default=0.5)
    ap.add_argument("--poll-ms", type=float, default=2.0, help="DescribeEipAddresses poll interval")
    ap.add_argument("--probe-from", choices=("return", "call"), default="return",
                    help="start probing when AssociateEipAddress returns (default), or when it is sent "
                         "(then first_packet_ms can be negative: the path was open before the reply arrived)")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--log-level", default="info", help="EIPD_LOG")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()

    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "nft", "conntrack")):
        print("needs root and the ip, nft and conntrack tools (the namespace lab)", file=sys.stderr)
        return 1
    left = [n for n in bl.namespaces() if n.startswith("openeip-")]
    if left:
        print(f"a lab is already up ({left}); stop it first (eipd lab down)", file=sys.stderr)
        return 1

    from alibabacloud_vpc20160428 import models as vm

    tmp = Path(tempfile.mkdtemp(prefix="oeipbn-assoc-"))
    data_dir = tmp / "data"
    srv = bl.Eipd(a.eipd, data_dir, a.task_delay_ms, log_level=a.log_level, extra_args=["--lab"],
                  log_path=tmp / "eipd.log")
    procs: list[Proc] = []
    rounds: list[dict[str, Any]] = []
    try:
        srv.start()
        vpc, ecs = bl.alibaba_clients(srv.endpoint)
        iid = bl.find_instance(ecs, "demo-1")
        wait_for(lambda: INTERNET_NS in bl.namespaces() and iid in bl.namespaces(), "the lab's namespaces")
        wait_for(lambda: "inet " in subprocess.run(["ip", "-n", iid, "-4", "-o", "addr", "show", "dev", "eth0"],
                                                    capture_output=True, text=True).stdout, f"{iid}'s eth0")
        server = bl.NsProc(iid, SERVER, str(a.port))
        procs.append(server)
        if server.read(10) != "ready":
            raise RuntimeError("server did not start")
        probe = bl.NsProc(INTERNET_NS, PROBE, str(a.probe_interval_ms / 1000), stdin=True)
        procs.append(probe)
        if probe.read(10) != "ready":
            raise RuntimeError("probe did not start")

        eip = bl.body(vpc.allocate_eip_address(vm.AllocateEipAddressRequest(region_id=REGION)))
        aid, ip = eip["AllocationId"], eip["EipAddress"]

        def wait_status(want: str) -> float:
            return bl.wait_eip_status(vpc, aid, want, a.poll_ms / 1000, timeout=10.0)

        print(f"eipd {srv.endpoint} (task delay {a.task_delay_ms} ms), instance {iid}, EIP {ip} ({aid}); "
              f"{a.warmup} warm-up + {a.rounds} rounds", file=sys.stderr)
        for r in range(a.warmup + a.rounds):
            # Sanity: the EIP is closed before the call (5 ms of probing, 10
            # attempts, finds nothing; an open path answers in about 0.2 ms).
            probe.send(f"{ip} {a.port} 0.005")
            closed = probe.read(5).split()
            if closed[0] != "timeout":
                raise RuntimeError(f"round {r}: {ip} answered before AssociateEipAddress ({closed})")
            t_call = time.monotonic()
            if a.probe_from == "call":
                probe.send(f"{ip} {a.port} 10")
            vpc.associate_eip_address(vm.AssociateEipAddressRequest(
                region_id=REGION, allocation_id=aid, instance_id=iid, instance_type="EcsInstance"))
            t_ret = time.monotonic()
            if a.probe_from == "return":
                probe.send(f"{ip} {a.port} 10")
            t_inuse = wait_status("InUse")
            res = probe.read(15).split()
            if res[0] != "ok":
                raise RuntimeError(f"round {r}: no connection through within 10 s ({res})")
            t_go, t_first, attempts = float(res[1]), float(res[2]), int(res[3])
            # The probe's own floor: the same go to the EIP once it is InUse
            # (one attempt that succeeds at once: go signal + connect through).
            t_floor = time.monotonic()
            probe.send(f"{ip} {a.port} 10")
            fl = probe.read(15).split()
            floor_ms = (float(fl[2]) - t_floor) * 1e3 if fl[0] == "ok" else None
            vpc.unassociate_eip_address(vm.UnassociateEipAddressRequest(
                region_id=REGION, allocation_id=aid, instance_id=iid, instance_type="EcsInstance"))
            t_unassoc = time.monotonic()
            t_avail = wait_status("Available")
            row = {"round": r - a.warmup, "warmup": r < a.warmup,
                   "associate_call_ms": round((t_ret - t_call) * 1e3, 3),
                   "first_packet_ms": round((t_first - t_ret) * 1e3, 3),
                   "inuse_seen_ms": round((t_inuse - t_ret) * 1e3, 3),
                   "probe_go_delay_ms": round((t_go - t_ret) * 1e3, 3),
                   "probe_attempts": attempts,
                   "probe_floor_ms": None if floor_ms is None else round(floor_ms, 3),
                   "available_seen_ms": round((t_avail - t_unassoc) * 1e3, 3)}
            rounds.append(row)
            if r >= a.warmup and (r - a.warmup) % 20 == 0:
                print(f"round {row['round']}: first packet {row['first_packet_ms']} ms, InUse seen "
                      f"{row['inuse_seen_ms']} ms", file=sys.stderr)
        vpc.release_eip_address(vm.ReleaseEipAddressRequest(region_id=REGION, allocation_id=aid))
    finally:
        for p in procs:
            p.stop()
        srv.stop()
        down = subprocess.run([str(a.eipd), "lab", "down", "--data-dir", str(data_dir)],
                              capture_output=True, text=True, timeout=120)
        if down.returncode != 0:
            print(f"eipd lab down failed: {down.stderr}", file=sys.stderr)
        log_tail = bl.tail(tmp / "eipd.log", 20)
        bl.rm_tree(tmp)

    measured = [x for x in rounds if not x["warmup"]]
    summary = {k: bl.latency_stats([x[k] for x in measured if x[k] is not None])
               for k in ("first_packet_ms", "inuse_seen_ms", "associate_call_ms", "probe_go_delay_ms",
                         "probe_floor_ms", "available_seen_ms")}
    summary["first_attempt_succeeded"] = sum(x["probe_attempts"] == 1 for x in measured)
    summary["first_packet_before_inuse_seen"] = sum(x["first_packet_ms"] <= x["inuse_seen_ms"] for x in measured)
    result = {"bench": "assoc_first_packet",
              "config": {"rounds": a.rounds, "warmup": a.warmup, "task_delay_ms": a.task_delay_ms,
                         "probe_interval_ms": a.probe_interval_ms, "poll_ms": a.poll_ms, "port": a.port,
                         "probe_from": a.probe_from,
                         "eipd_log": a.log_level, "eipd_args": ["serve", "--lab", "--demo"]},
              "machine": bl.machine_facts(eipd=a.eipd), "summary": summary, "rounds": rounds,
              "eipd_log_tail": log_tail}
    name = "assoc_first_packet" if a.probe_from == "return" else "assoc_first_packet-from-call"
    path = bl.write_result(name, result, a.out)
    f, i = summary["first_packet_ms"], summary["inuse_seen_ms"]
    print(f"\nAssociateEipAddress returned -> first connection through: p50 {f['p50']} ms, p99 {f['p99']} ms, "
          f"max {f['max']} ms (n={f['n']})")
    print(f"AssociateEipAddress returned -> InUse seen:             p50 {i['p50']} ms, p99 {i['p99']} ms, "
          f"max {i['max']} ms")
    fl = summary["probe_floor_ms"]
    print(f"probe floor (go -> connected, EIP already InUse):       p50 {fl['p50']} ms, p99 {fl['p99']} ms; "
          f"first attempt through in {summary['first_attempt_succeeded']}/{f['n']} rounds")
    c = summary["associate_call_ms"]
    print(f"AssociateEipAddress call itself:                        p50 {c['p50']} ms, p99 {c['p99']} ms")
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
