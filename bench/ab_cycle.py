#!/usr/bin/env python3
"""Paired A/B of eipd builds (or log levels) on the cpu_per_call cycle.

On a shared virtual machine the server's CPU per call drifts by +-20 % from
one minute to the next, which hides any change smaller than that when two
builds are measured one after the other. This runs every variant side by
side and alternates between them in many short rounds (default 30 rounds of
6 cycles), then reports, per variant, the median of the per-round ratio to
the first variant: drift hits both sides of each ratio alike.

Usage:
  "$VENV/bin/python" bench/ab_cycle.py base=/tmp/eipd-before new=target/release/eipd
  "$VENV/bin/python" bench/ab_cycle.py info=target/release/eipd warn=target/release/eipd:warn
Each variant is NAME=BINARY[:EIPD_LOG].
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl  # noqa: E402
from cpu_per_call import EipdDriver  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("variants", nargs="+", help="NAME=BINARY[:EIPD_LOG]; the first is the reference")
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--cycles", type=int, default=6, help="cycles per round per variant")
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--task-delay-ms", type=int, default=20)
    ap.add_argument("--poll-ms", type=float, default=5.0)
    ap.add_argument("--out", default=None)
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    bl.HTTP.install()
    t0 = time.monotonic()
    variants = []
    with tempfile.TemporaryDirectory(prefix="openeip-ab-") as tmp:
        try:
            for spec in args.variants:
                name, _, rest = spec.partition("=")
                binary, _, lvl = rest.partition(":")
                b = Path(binary)
                b = b if b.is_absolute() else (Path.cwd() / b).resolve()
                srv = bl.Eipd(b, Path(tmp) / f"ab-{name}", args.task_delay_ms, lvl or "info").start()
                variants.append({"name": name, "binary": str(b), "log_level": lvl or "info", "srv": srv,
                                 "drv": EipdDriver(srv.endpoint, args.poll_ms / 1000), "rounds": []})
            for v in variants:
                for _ in range(args.warmup):
                    v["drv"].cycle()
            for r in range(args.rounds):
                for v in (variants if r % 2 == 0 else variants[::-1]):
                    c0 = bl.HTTP.n
                    s0 = bl.cpu_snapshot(v["srv"].pid)
                    for _ in range(args.cycles):
                        v["drv"].cycle()
                    d = bl.cpu_delta(s0, bl.cpu_snapshot(v["srv"].pid))
                    v["rounds"].append({"calls": bl.HTTP.n - c0, "clock_us": d["clock_us"]})
        finally:
            for v in variants:
                v["srv"].stop()
    ref = [x["clock_us"] / x["calls"] for x in variants[0]["rounds"]]
    out = []
    print(f"{'variant':<16}{'µs/call (median round)':>24}{'min':>8}{'max':>8}{'ratio to ' + variants[0]['name']:>22}{'q1-q3':>16}")
    for v in variants:
        per = [x["clock_us"] / x["calls"] for x in v["rounds"]]
        rel = [p / b for p, b in zip(per, ref)]
        q = statistics.quantiles(rel, n=4)
        row = {"name": v["name"], "binary": v["binary"], "log_level": v["log_level"],
               "us_per_call_median": statistics.median(per), "us_per_call_min": min(per),
               "us_per_call_max": max(per),
               "us_per_call_total": sum(x["clock_us"] for x in v["rounds"]) / sum(x["calls"] for x in v["rounds"]),
               "ratio_median": statistics.median(rel), "ratio_q1": q[0], "ratio_q3": q[2],
               "rounds": v["rounds"]}
        out.append(row)
        print(f"{v['name']:<16}{row['us_per_call_median']:>24.1f}{row['us_per_call_min']:>8.0f}"
              f"{row['us_per_call_max']:>8.0f}{row['ratio_median']:>22.3f}{f'{q[0]:.2f}-{q[2]:.2f}':>16}")
    result = {"benchmark": "ab_cycle", "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "machine": bl.machine_facts(), "args": vars(args), "variants": out,
              "duration_s": time.monotonic() - t0}
    path = bl.write_result("ab_cycle", result, Path(args.out) if args.out else None)
    print(f"wrote {path} ({result['duration_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
