#!/usr/bin/env python3
"""The floor under `cpu_per_call.py`: what the cheapest possible server costs
for the same traffic on this machine.

`floor_server` (crates/eipd/examples/floor_server.rs) is one blocking thread
that reads an HTTP request and writes a fixed JSON answer: no framework, no
signature check, no store, no logs. With `--durable` it also does the least a
durable commit can do for each write action (16 KiB pwrite + fdatasync on
the same disk as eipd's data directory).

The official Python SDK drives the same call sequence against each server,
paced the same way: eipd runs the real EIP cycle (allocate → associate → poll
every 5 ms until InUse → describe → unassociate → poll until Available →
release → poll until gone), and the floor servers get a replay of it with the
same number of polls per wait that eipd needed (the fixed answer would never
change status). Rounds alternate between the servers so the machine's drift
hits all alike. CPU is each server's process CPU clock from /proc.

Usage:
  VENV=$(bench/venv.sh)
  cargo build --release -p eipd --example floor_server
  "$VENV/bin/python" bench/floor.py
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl  # noqa: E402
from benchlib import HTTP, REGION  # noqa: E402
from cpu_per_call import EipdDriver  # noqa: E402

HTTP.install()


class Floor(bl._Server):
    """floor_server on a free port."""

    def __init__(self, binary: Path, log_path: Path, extra: list[str]):
        self.binary, self.log_path, self.extra = binary, log_path, extra
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Floor":
        self.port = bl.free_port()
        args = [str(self.binary), str(self.port), *self.extra]
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self._log, text=True)
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise SystemExit(f"floor_server did not start; see {self.log_path}")
        bl._STARTED.append(self)
        return self


class Replay:
    """The eipd cycle's request sequence against a server that always gives
    the same answer: the writes, then `polls` DescribeEipAddresses per wait
    with the same sleep between them."""

    def __init__(self, endpoint: str, poll_s: float):
        from alibabacloud_vpc20160428 import models as vm

        self.vm = vm
        self.vpc, _ = bl.alibaba_clients(endpoint)
        self.poll_s = poll_s

    def _polls(self, n: int) -> None:
        for i in range(n):
            self.vpc.describe_eip_addresses(self.vm.DescribeEipAddressesRequest(
                region_id=REGION, allocation_id="eip-floor0000000000000001"))
            if i + 1 < n:
                time.sleep(self.poll_s)

    def cycle(self, polls: list[int]) -> None:
        vm, aid, iid = self.vm, "eip-floor0000000000000001", "i-floor000000000000001"
        self.vpc.allocate_eip_address(vm.AllocateEipAddressRequest(region_id=REGION))
        self.vpc.associate_eip_address(vm.AssociateEipAddressRequest(
            region_id=REGION, allocation_id=aid, instance_id=iid, instance_type="EcsInstance"))
        self._polls(polls[0])
        self._polls(1)
        self.vpc.unassociate_eip_address(vm.UnassociateEipAddressRequest(
            region_id=REGION, allocation_id=aid, instance_id=iid, instance_type="EcsInstance"))
        self._polls(polls[1])
        self.vpc.release_eip_address(vm.ReleaseEipAddressRequest(region_id=REGION, allocation_id=aid))
        self._polls(polls[2])


def measure(pid: int, run) -> tuple[float, int]:
    """(server CPU µs, requests) for one call of `run`."""
    n0 = HTTP.n
    a = bl.cpu_snapshot(pid)
    run()
    b = bl.cpu_snapshot(pid)
    return (b["clock_ns"] - a["clock_ns"]) / 1e3, HTTP.n - n0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--eipd", default="target/release/eipd")
    ap.add_argument("--floor", default="target/release/examples/floor_server")
    ap.add_argument("--cycles", type=int, default=150, help="measured cycles per server (all rounds)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--task-delay-ms", type=int, default=20)
    ap.add_argument("--poll-ms", type=float, default=5.0)
    ap.add_argument("--data-root", default=None, help="where the data directories go (default: a temp dir on /var/tmp)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="oeip-floor-", dir=args.data_root or "/var/tmp"))
    per_round = max(1, args.cycles // args.rounds)
    poll_s = args.poll_ms / 1e3
    # name -> floor_server options; "eipd" is the real server.
    floors = {
        "floor": [],
        "floor_fdatasync_16k": ["--durable", str(root / "d16k.bin"), "--bytes", "16384"],
        "floor_fdatasync_4k": ["--durable", str(root / "d4k.bin"), "--bytes", "4096"],
        "floor_odirect_dsync_4k": ["--durable", str(root / "o4k.bin"), "--bytes", "4096", "--direct"],
    }
    names = ["eipd", *floors]
    results: dict[str, dict] = {n: {"cpu_us": 0.0, "requests": 0, "rounds": []} for n in names}
    with contextlib.ExitStack() as stack:
        e = stack.enter_context(bl.Eipd(Path(args.eipd), root / "eipd", args.task_delay_ms))
        pids = {"eipd": e.pid}
        reps = {}
        for name, extra in floors.items():
            f = stack.enter_context(Floor(Path(args.floor), root / f"{name}.log", extra))
            pids[name] = f.pid
            reps[name] = Replay(f.endpoint, poll_s)
        drv = EipdDriver(e.endpoint, poll_s)
        for _ in range(args.warmup):
            drv.cycle()
            for rep in reps.values():
                rep.cycle([5, 5, 5])
        for r in range(args.rounds):
            waits: list[list[int]] = []
            for name in names:
                cpu, n = 0.0, 0
                for c in range(per_round):
                    if name == "eipd":
                        w0 = len(drv.wait_polls)
                        us, k = measure(pids[name], drv.cycle)
                        waits.append(drv.wait_polls[w0:])
                    else:
                        us, k = measure(pids[name], lambda: reps[name].cycle(waits[c % len(waits)]))
                    cpu += us
                    n += k
                results[name]["cpu_us"] += cpu
                results[name]["requests"] += n
                results[name]["rounds"].append(cpu / n)
            print(f"round {r + 1}: " + ", ".join(
                f"{k} {v['rounds'][-1]:.0f}" for k, v in results.items()) + " µs/call", flush=True)
    out = {"benchmark": "floor", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "machine": bl.machine_facts(root), "args": vars(args), "servers": {}}
    for name, v in results.items():
        out["servers"][name] = {"us_per_call": v["cpu_us"] / v["requests"], "requests": v["requests"],
                                "rounds_us_per_call": v["rounds"],
                                "median_round": statistics.median(v["rounds"])}
        print(f"{name}: {v['cpu_us'] / v['requests']:.1f} µs/call over {v['requests']} requests "
              f"(rounds {', '.join(f'{x:.0f}' for x in v['rounds'])})")
    path = bl.write_result("floor", out, Path(args.out) if args.out else None)
    print(f"wrote {path}")
    bl.rm_tree(root)


if __name__ == "__main__":
    main()
