#!/usr/bin/env python3
"""The data plane at N associations (default 100,000), end to end.

A benchmark for docs/benchmarks.md (not a test). Runs as root with a release
`eipd` and the official Python SDK (the bench venv). For each N (the one asked
for, then N = 1 for comparison unless --no-baseline):

1. Seeds a data directory with N running instances each with an InUse EIP
   (`seed_scale`, an example of the eipd package, through the controller's own
   dispatch), or reuses one (--reuse). N = 1 is a fresh data directory with
   just the demo (`--demo`: two instances, no EIP).
2. Builds an operator site (docs/dataplane.md, "Operator mode"):
   `oeipsc-inet` (the client, 203.0.113.10/24, 198.18.0.0/15 via the gateway),
   `oeipsc-gw` (uplink `ens9` 203.0.113.1/24, forwarding on) and, once the API
   has given it a private IP, `oeipsc-i1`: one extra instance created through
   the SDK (in a vSwitch of its own, so it has no EIP) running a TCP listener,
   linked to the gateway's `vpc0`.
3. Starts `eipd serve --gateway cn-hangzhou=oeipsc-gw --uplink ens9
   --task-delay-ms 1` twice: the first start loads the table into a gateway
   that has none, the second takes over the table left by the first (a clean
   stop leaves it): a full resync replacing N elements. For each: time from
   process start to the log's "data plane: gateways ... (X ms)" line (X is the
   first round: store read, desired state, table load, acknowledgement) and to
   /healthz answering; then `nft list map ip openeip eip2priv` in the gateway
   must hold N elements (N + 0: the extra instance has no EIP yet).
   Then the kernel's part of a full resync alone: `nft -f` of add table +
   delete table + the table as `nft list table` prints it, timed.
4. eipd's CPU over an idle window (--idle-s, default 20 s): what the periodic
   rounds (store poll every 2 s, counters every 5 s, drift read-back) cost at N.
   Then --full-rounds (10) CreateSecurityGroup calls: any write that is not an
   EIP action makes the agent re-read the store and rebuild and compare the
   whole desired state (nothing changes in the kernel); each round's time is
   eipd_dataplane_last_apply_microseconds.
5. Cycles (--cycles, default 200, after --warmup): one EIP allocated once, then
   each cycle AssociateEipAddress(EIP, extra instance) and, from the call's
   return, (a) the first TCP connection from oeipsc-inet to EIP:port that
   succeeds (a probe process already running in oeipsc-inet gets a go line on
   stdin and starts a new non-blocking connect every --probe-interval-ms until
   one completes: no process start-up is counted), (b) DescribeEipAddresses
   showing InUse (polled every --poll-ms); then UnassociateEipAddress and the
   time to Available and to new connections failing (the first attempt, of one
   every --probe-interval-ms, that gets no answer within 5 ms). Also per cycle:
   eipd's CPU, and the data plane's own apply time of the round
   (eipd_dataplane_last_apply_microseconds, when exactly one round ran).
   With --profile, `perf record -g -p PID` runs during the full rounds and
   during the cycles, and the top symbols of each are reported.
6. Tears everything down whatever happens: eipd stopped (SIGTERM by pid), the
   oeipsc-* namespaces this script made deleted, and the host's `nft list
   tables` checked unchanged.

Results: bench/results/scale-<date>.json (raw per-cycle rows and summaries).

Usage:
  cargo build --release -p eipd --bin eipd --example seed_scale
  VENV=$(bench/venv.sh)
  sudo "$VENV/bin/python" bench/scale_dataplane.py --eipd target/release/eipd \\
      --seed-bin target/release/examples/seed_scale [--n 100000] [--reuse] [--profile]
"""

from __future__ import annotations

import argparse
import datetime as _dt
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchlib as bl  # noqa: E402
from benchlib import REGION  # noqa: E402

GW, INET, INST = "oeipsc-gw", "oeipsc-inet", "oeipsc-i1"
OURS = (GW, INET, INST)
CLIENT = "203.0.113.10"
UPLINK = "ens9"
PORT = 8080

# Accepts and resets connections forever (linger 0: no TIME_WAIT piles up);
# prints "ready" once listening.
SERVER = r"""
import socket, struct, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(4096)
print("ready", flush=True)
L = struct.pack("ii", 1, 0)
while True:
    c, _ = s.accept(); c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, L); c.close()
"""

# Prints "ready"; then for each stdin line "MODE IP PORT LIMIT_S ATTEMPT_S"
# starts a new non-blocking connect every INTERVAL s (argv[1]); an attempt
# with no answer after ATTEMPT_S is given up (a dropped SYN is never answered:
# each attempt is a new socket, hence a new conntrack entry at the gateway).
#   up:   until one attempt connects  -> "ok T_GO T_EVENT ATTEMPTS"
#   down: until one attempt fails (no answer within ATTEMPT_S, or refused)
#         -> "ok T_GO T_EVENT ATTEMPTS" with T_EVENT the failed attempt's start
# or "timeout T_GO ATTEMPTS" after LIMIT_S. Times are CLOCK_MONOTONIC seconds,
# which network namespaces share. Connected sockets are closed with linger 0.
PROBE = r"""
import errno, select, socket, struct, sys, time
interval = float(sys.argv[1])
L = struct.pack("ii", 1, 0)
def close(s):
    try: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, L)
    except OSError: pass
    s.close()
print("ready", flush=True)
for line in sys.stdin:
    mode, ip, port, limit, stale = line.split()
    port, limit, stale = int(port), float(limit), float(stale)
    up = mode == "up"
    t_go = time.monotonic()
    deadline = t_go + limit
    pending = {}
    attempts = 0
    event = None
    failed_start = None
    next_at = t_go
    while event is None:
        now = time.monotonic()
        if now >= deadline:
            break
        if now >= next_at and (up or failed_start is None):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            started = time.monotonic()
            err = s.connect_ex((ip, port))
            attempts += 1
            if err == errno.EINPROGRESS:
                pending[s] = started
            elif err == 0:
                close(s)
                if up:
                    event = time.monotonic(); break
            else:
                close(s)
                if not up and failed_start is None:
                    failed_start = started
            next_at += interval
            if next_at < now:
                next_at = now + interval
        for ps, st in list(pending.items()):
            if now - st > stale:
                close(ps); del pending[ps]
                if not up and (failed_start is None or st < failed_start):
                    failed_start = st
        if not up and failed_start is not None and not any(st < failed_start for st in pending.values()):
            event = failed_start; break
        wait = max(0.0, min(next_at - time.monotonic(), 0.001))
        _, ready, _ = select.select([], list(pending), [], wait)
        for s in ready:
            st = pending.pop(s)
            ok = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
            close(s)
            if up and ok and event is None:
                event = time.monotonic()
            elif not up and not ok and (failed_start is None or st < failed_start):
                failed_start = st
    for s in pending:
        close(s)
    if event is None:
        print(f"timeout {t_go:.6f} {attempts}", flush=True)
    else:
        print(f"ok {t_go:.6f} {event:.6f} {attempts}", flush=True)
"""


# --------------------------------------------------------------------------
# Processes and the site
# --------------------------------------------------------------------------


def sh(*cmd: str, timeout: float = 60) -> str:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {out.stderr.strip()}")
    return out.stdout


def tear_site() -> None:
    for ns in OURS:
        if ns in bl.namespaces():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def build_edge() -> None:
    """internet -- ens9 [gateway]: what must exist before eipd starts."""
    for ns in (GW, INET):
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
    sh("ip", "link", "add", "oeipsc-a", "netns", INET, "type", "veth", "peer", "name", UPLINK, "netns", GW)
    sh("ip", "-n", INET, "link", "set", "oeipsc-a", "name", "eth0")
    sh("ip", "-n", INET, "addr", "add", f"{CLIENT}/24", "dev", "eth0")
    sh("ip", "-n", INET, "link", "set", "eth0", "up")
    sh("ip", "-n", INET, "route", "add", "198.18.0.0/15", "via", "203.0.113.1")
    sh("ip", "-n", GW, "addr", "add", "203.0.113.1/24", "dev", UPLINK)
    sh("ip", "-n", GW, "link", "set", UPLINK, "up")
    sh("ip", "netns", "exec", GW, "sysctl", "-qw", "net.ipv4.ip_forward=1")


def wire_instance(private_ip: str) -> None:
    """[gateway] vpc0 -- eth0 of the instance, wired with the API's private IP."""
    sh("ip", "netns", "add", INST)
    sh("ip", "-n", INST, "link", "set", "lo", "up")
    sh("ip", "link", "add", "oeipsc-b", "netns", INST, "type", "veth", "peer", "name", "vpc0", "netns", GW)
    sh("ip", "-n", INST, "link", "set", "oeipsc-b", "name", "eth0")
    sh("ip", "-n", INST, "addr", "add", f"{private_ip}/24", "dev", "eth0")
    sh("ip", "-n", INST, "link", "set", "eth0", "up")
    router = private_ip.rsplit(".", 1)[0] + ".253"
    sh("ip", "-n", INST, "route", "add", "default", "via", router)
    sh("ip", "-n", GW, "addr", "add", f"{router}/24", "dev", "vpc0")
    sh("ip", "-n", GW, "link", "set", "vpc0", "up")


def eip2priv_count() -> tuple[int, float]:
    """Elements of the gateway's eip2priv map, and how long `nft list map` took."""
    t = time.monotonic()
    out = sh("ip", "netns", "exec", GW, "nft", "list", "map", "ip", "openeip", "eip2priv", timeout=300)
    took = time.monotonic() - t
    return len(re.findall(r"\d+\.\d+\.\d+\.\d+ : \d+\.\d+\.\d+\.\d+", out)), took


def nft_reload() -> dict[str, Any]:
    """The kernel's part of a full resync alone: `nft -f` of add table + delete table + the
    table as `nft list table` prints it (what eipd loads, give or take counters), timed."""
    t = time.monotonic()
    listing = sh("ip", "netns", "exec", GW, "nft", "list", "table", "ip", "openeip", timeout=300)
    list_s = time.monotonic() - t
    batch = "add table ip openeip\ndelete table ip openeip\n" + listing
    t = time.monotonic()
    out = subprocess.run(["ip", "netns", "exec", GW, "nft", "-f", "-"], input=batch, capture_output=True,
                         text=True, timeout=300)
    load_s = time.monotonic() - t
    return {"list_table_s": round(list_s, 3), "nft_f_s": round(load_s, 3), "ok": out.returncode == 0,
            "error": out.stderr.strip()[:500], "bytes": len(batch)}


class EipdProc:
    """`eipd serve` in operator mode, with every output line time-stamped."""

    def __init__(self, binary: Path, data_dir: Path, log_path: Path, demo: bool, log_level: str):
        self.binary, self.data_dir, self.log_path, self.demo = binary, data_dir, log_path, demo
        self.log_level = log_level
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.lines: list[tuple[float, str]] = []
        self._log = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            t = time.monotonic()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.lines.append((t, line))
            if self._log is not None:
                self._log.write(f"{t:.6f} {line}\n")
                self._log.flush()

    def start(self) -> dict[str, Any]:
        self.port = bl.free_port()
        self._log = open(self.log_path, "a")
        self.lines = []
        env = dict(os.environ)
        env.update({"EIPD_ROOT_ACCESS_KEY_ID": bl.AK_ID, "EIPD_ROOT_ACCESS_KEY_SECRET": bl.AK_SECRET,
                    "EIPD_LOG": self.log_level})
        args = [str(self.binary), "serve", "--listen", self.endpoint, "--data-dir", str(self.data_dir),
                "--task-delay-ms", "1", "--pool", f"{REGION}=198.18.0.0/15",
                "--gateway", f"{REGION}={GW}", "--uplink", UPLINK]
        if self.demo:
            args.append("--demo")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env)
        threading.Thread(target=self._pump, daemon=True).start()
        deadline = t0 + 600
        t_health = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                time.sleep(0.2)
                raise RuntimeError(f"eipd exited with {self.proc.returncode}:\n" +
                                   "\n".join(x for _, x in self.lines[-30:]))
            try:
                status, _ = bl.http_get(f"http://{self.endpoint}/healthz", timeout=1)
                if status == 200:
                    t_health = time.monotonic()
                    bl.lift_eip_quota(self.binary, self.data_dir)
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.01)
        if t_health is None:
            raise RuntimeError("eipd: /healthz not answering after 600 s")
        dp = next(((t, x) for t, x in self.lines if "data plane: gateways" in x), None)
        m = re.search(r"\((\d+) ms\)", dp[1]) if dp else None
        return {"healthz_ms": round((t_health - t0) * 1e3, 1),
                "dataplane_line_ms": round((dp[0] - t0) * 1e3, 1) if dp else None,
                "first_round_ms": int(m.group(1)) if m else None,
                "dataplane_line": dp[1] if dp else None}

    def stop(self) -> None:
        # A clean stop at 100k may take a while (the table is removed).
        bl._stop(self.proc, term_timeout=60)
        self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def metrics(self) -> dict[str, float]:
        _, body = bl.http_get(f"http://{self.endpoint}/metrics")
        out = {}
        for m in re.finditer(r"^(eipd_dataplane_\w+) (\S+)$", body.decode(), re.M):
            out[m.group(1)] = float(m.group(2))
        return out


# --------------------------------------------------------------------------
# Statistics
# --------------------------------------------------------------------------


# --------------------------------------------------------------------------
# One N
# --------------------------------------------------------------------------


def seed(a, n: int, data_dir: Path) -> dict[str, Any] | None:
    """Seeds data_dir with n associations unless --reuse finds it done. Returns seed_scale's report."""
    marker = data_dir / "seed.json"
    if a.reuse and marker.exists():
        rep = json.loads(marker.read_text())
        if rep.get("n") == n:
            print(f"reusing {data_dir} ({n} associations, seeded in {rep['ms']['total'] / 1000:.1f} s)",
                  file=sys.stderr)
            rep["reused"] = True
            return rep
    bl.rm_tree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update({"EIPD_ROOT_ACCESS_KEY_ID": bl.AK_ID, "EIPD_ROOT_ACCESS_KEY_SECRET": bl.AK_SECRET})
    print(f"seeding {data_dir} with {n} associations ...", file=sys.stderr)
    t = time.monotonic()
    out = subprocess.run([str(a.seed_bin), "--data-dir", str(data_dir), "--n", str(n)], capture_output=True,
                         text=True, env=env, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"seed_scale failed: {out.stderr}")
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    rep["wall_s"] = round(time.monotonic() - t, 1)
    rep["reused"] = False
    print(f"seeded in {rep['wall_s']} s: {rep['ms']}", file=sys.stderr)
    return rep


def cpu_ms(a_snap: dict, b_snap: dict) -> dict[str, float]:
    d = bl.cpu_delta(a_snap, b_snap)
    return {"wall_ms": round(d["wall_us"] / 1e3, 3), "cpu_ms": round(d["clock_us"] / 1e3, 3),
            "stat_ms": round(d["stat_us"] / 1e3, 1), "utime_ms": round(d["utime_us"] / 1e3, 1),
            "stime_ms": round(d["stime_us"] / 1e3, 1)}


def perf_top(data: Path, k: int = 10) -> list[dict[str, Any]]:
    out = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none",
                          "--sort", "dso,symbol", "--percent-limit", "0.5"],
                         capture_output=True, text=True, timeout=600).stdout
    top = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)$", line)
        if m:
            sym = re.sub(r"(\s+-)+\s*$", "", m.group(3)).strip()  # perf's empty IPC columns
            top.append({"percent": float(m.group(1)), "dso": m.group(2), "symbol": sym})
        if len(top) >= k:
            break
    return top


def run_n(a, n: int, workdir: Path) -> dict[str, Any]:
    from alibabacloud_ecs20140526 import models as em
    from alibabacloud_vpc20160428 import models as vm

    demo = n <= 1
    data_dir = (a.data_dir if a.data_dir and not demo else workdir / f"data-{n}")
    rep: dict[str, Any] = {"n": n, "data_dir": str(data_dir)}
    rep["seed"] = None if demo else seed(a, n, data_dir)
    if demo:
        bl.rm_tree(data_dir)
        data_dir.mkdir(parents=True)
    log_path = workdir / f"eipd-{n}.log"
    srv = EipdProc(a.eipd, data_dir, log_path, demo, a.log_level)
    procs: list[Proc] = []
    perf: subprocess.Popen | None = None
    cycles: list[dict[str, Any]] = []
    tear_site()
    try:
        build_edge()
        # Start 1: a gateway without the table; start 2: taking over the table start 1 left.
        starts = []
        for i in range(2):
            s = srv.start()
            cnt, list_s = eip2priv_count()
            s.update({"eip2priv_elements": cnt, "nft_list_map_s": round(list_s, 2)})
            starts.append(s)
            print(f"N={n} start {i + 1}: data plane line at {s['dataplane_line_ms']} ms (first round "
                  f"{s['first_round_ms']} ms), /healthz at {s['healthz_ms']} ms; eip2priv {cnt} elements",
                  file=sys.stderr)
            if not demo and cnt != n:
                raise RuntimeError(f"eip2priv holds {cnt} elements, expected {n}")
            if i == 0:
                srv.stop()
        rep["starts"] = starts
        rep["nft_reload"] = nft_reload()
        print(f"N={n} nft -f replacing the table with its own listing: {rep['nft_reload']}", file=sys.stderr)
        vpc, ecs = bl.alibaba_clients(srv.endpoint)

        # The extra instance, in a vSwitch of its own at the top of the VPC.
        vpcs = bl.body(vpc.describe_vpcs(vm.DescribeVpcsRequest(region_id=REGION)))["Vpcs"]["Vpc"]
        vpc_row = next(v for v in vpcs if v["VpcName"] in ("scale-vpc", "demo-vpc"))
        net = ipaddress.ip_network(vpc_row["CidrBlock"])
        cidr = str(list(net.subnets(new_prefix=24))[-1]) if net.prefixlen < 24 else str(net)
        # Idempotent: a reused data directory keeps the extra vSwitch and instance of a previous run.
        vsws = bl.body(vpc.describe_vswitches(vm.DescribeVSwitchesRequest(
            region_id=REGION, vpc_id=vpc_row["VpcId"], v_switch_name="scale-extra")))["VSwitches"]["VSwitch"]
        if vsws:
            vsw_id, cidr = vsws[0]["VSwitchId"], vsws[0]["CidrBlock"]
        else:
            vsw_id = bl.body(vpc.create_vswitch(vm.CreateVSwitchRequest(
                region_id=REGION, vpc_id=vpc_row["VpcId"], zone_id=bl.ZONE, cidr_block=cidr,
                v_switch_name="scale-extra")))["VSwitchId"]
        old = bl.body(ecs.describe_instances(em.DescribeInstancesRequest(
            region_id=REGION, instance_name="scale-extra")))["Instances"]["Instance"]
        if old:
            iid = old[0]["InstanceId"]
        else:
            sgs = bl.body(ecs.describe_security_groups(em.DescribeSecurityGroupsRequest(
                region_id=REGION, vpc_id=vpc_row["VpcId"])))["SecurityGroups"]["SecurityGroup"]
            iid = bl.body(ecs.run_instances(em.RunInstancesRequest(
                region_id=REGION, instance_type=bl.INSTANCE_TYPE, image_id=bl.IMAGE_ID, v_switch_id=vsw_id,
                security_group_id=sgs[0]["SecurityGroupId"], instance_name="scale-extra", amount=1)))[
                "InstanceIdSets"]["InstanceIdSet"][0]
        deadline = time.monotonic() + 120
        while True:
            inst = bl.body(ecs.describe_instances(em.DescribeInstancesRequest(
                region_id=REGION, instance_ids=json.dumps([iid]))))["Instances"]["Instance"][0]
            if inst["Status"] == "Running":
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{iid} not Running: {inst['Status']}")
            time.sleep(0.05)
        private_ip = inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        wire_instance(private_ip)
        rep["extra_instance"] = {"id": iid, "private_ip": private_ip, "vswitch": cidr}
        server = bl.NsProc(INST, SERVER, str(PORT))
        procs.append(server)
        if server.read(10) != "ready":
            raise RuntimeError("server did not start")
        probe = bl.NsProc(INET, PROBE, str(a.probe_interval_ms / 1000), stdin=True)
        procs.append(probe)
        if probe.read(10) != "ready":
            raise RuntimeError("probe did not start")
        eip = bl.body(vpc.allocate_eip_address(vm.AllocateEipAddressRequest(region_id=REGION)))
        aid, ip = eip["AllocationId"], eip["EipAddress"]
        rep["eip"] = {"id": aid, "ip": ip}

        # Idle: what the periodic rounds cost (after the setup's rounds settle).
        time.sleep(3)
        m0, c0 = srv.metrics(), bl.cpu_snapshot(srv.pid)
        time.sleep(a.idle_s)
        m1, c1 = srv.metrics(), bl.cpu_snapshot(srv.pid)
        idle = cpu_ms(c0, c1)
        idle["rounds"] = m1.get("eipd_dataplane_rounds_total", 0) - m0.get("eipd_dataplane_rounds_total", 0)
        idle["cpu_share"] = round(idle["cpu_ms"] / idle["wall_ms"], 4)
        rep["idle"] = idle
        print(f"N={n} idle {a.idle_s} s: eipd CPU {idle['cpu_ms']:.0f} ms ({idle['cpu_share'] * 100:.2f} %), "
              f"{idle['rounds']:.0f} data-plane rounds", file=sys.stderr)

        # Full rounds: any write that is not an EIP action (here CreateSecurityGroup)
        # makes the agent re-read the store and rebuild the desired state; nothing
        # changes in the kernel, so this is the store read + build + compare at N.
        if a.profile and shutil.which("perf"):
            perf = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-p", str(srv.pid), "-o",
                                     str(workdir / f"perf-full-{n}.data")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        full_rounds: list[dict[str, Any]] = []
        full_sgs: list[str] = []
        for k in range(a.full_rounds):
            g0 = srv.metrics()
            c0 = bl.cpu_snapshot(srv.pid)
            t0 = time.monotonic()
            full_sgs.append(bl.body(ecs.create_security_group(em.CreateSecurityGroupRequest(
                region_id=REGION, vpc_id=vpc_row["VpcId"], security_group_name=f"scale-full-{k}")))[
                "SecurityGroupId"])
            key = "eipd_dataplane_applied_generation"
            while True:
                g1 = srv.metrics()
                if g1.get(key, 0) > g0.get(key, 0):
                    break
                if time.monotonic() - t0 > 120:
                    raise RuntimeError("no full round within 120 s")
                time.sleep(0.005)
            t1 = time.monotonic()
            full_rounds.append({"apply_us": g1.get("eipd_dataplane_last_apply_microseconds"),
                                "rounds": g1.get(key, 0) - g0.get(key, 0),
                                "seen_ms": round((t1 - t0) * 1e3, 1),
                                "cpu_ms": cpu_ms(c0, bl.cpu_snapshot(srv.pid))["cpu_ms"]})
            time.sleep(0.2)
        for sg in full_sgs:
            ecs.delete_security_group(em.DeleteSecurityGroupRequest(region_id=REGION, security_group_id=sg))
        if perf is not None:
            os.kill(perf.pid, signal.SIGINT)
            perf.wait(timeout=120)
            perf = None
            rep["perf_top_full_round"] = perf_top(workdir / f"perf-full-{n}.data")
        rep["full_rounds"] = full_rounds
        rep["full_round_summary"] = {k: bl.latency_stats([x[k] for x in full_rounds]) for k in ("apply_us", "cpu_ms")}
        print(f"N={n} full rounds (CreateSecurityGroup): apply {rep['full_round_summary']['apply_us']}",
              file=sys.stderr)

        def wait_status(want: str) -> float:
            return bl.wait_eip_status(vpc, aid, want, a.poll_ms / 1000, timeout=60.0)

        def probe_result(what: str) -> tuple[float, float, int]:
            res = probe.read(70).split()
            if res[0] != "ok":
                raise RuntimeError(f"{what}: probe gave {res}")
            return float(res[1]), float(res[2]), int(res[3])

        if a.profile and shutil.which("perf"):
            perf_data = workdir / f"perf-{n}.data"
            perf = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-p", str(srv.pid), "-o", str(perf_data)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        limit = "60"
        print(f"N={n}: {a.warmup} warm-up + {a.cycles} cycles on {ip} -> {iid} ({private_ip})", file=sys.stderr)
        for r in range(a.warmup + a.cycles):
            probe.send(f"up {ip} {PORT} 0.005 0.02")
            closed = probe.read(5).split()
            if closed[0] != "timeout":
                raise RuntimeError(f"cycle {r}: {ip} answered before AssociateEipAddress ({closed})")
            g0 = srv.metrics()
            c_a = bl.cpu_snapshot(srv.pid)
            t_call = time.monotonic()
            vpc.associate_eip_address(vm.AssociateEipAddressRequest(
                region_id=REGION, allocation_id=aid, instance_id=iid, instance_type="EcsInstance"))
            t_ret = time.monotonic()
            probe.send(f"up {ip} {PORT} {limit} 0.02")
            t_inuse = wait_status("InUse")
            t_go, t_first, att_up = probe_result(f"cycle {r} associate")
            g1 = srv.metrics()
            c_b = bl.cpu_snapshot(srv.pid)
            t_call2 = time.monotonic()
            vpc.unassociate_eip_address(vm.UnassociateEipAddressRequest(
                region_id=REGION, allocation_id=aid, instance_id=iid, instance_type="EcsInstance"))
            t_ret2 = time.monotonic()
            probe.send(f"down {ip} {PORT} {limit} 0.005")
            t_avail = wait_status("Available")
            t_go2, t_fail, att_down = probe_result(f"cycle {r} unassociate")
            g2 = srv.metrics()
            c_c = bl.cpu_snapshot(srv.pid)

            def apply_us(ga: dict, gb: dict) -> float | None:
                k = "eipd_dataplane_applied_generation"
                if gb.get(k, 0) - ga.get(k, 0) != 1:
                    return None  # another round ran meanwhile: not this operation's alone
                return gb.get("eipd_dataplane_last_apply_microseconds")

            row = {
                "cycle": r - a.warmup, "warmup": r < a.warmup,
                "associate_call_ms": round((t_ret - t_call) * 1e3, 3),
                "first_packet_ms": round((t_first - t_ret) * 1e3, 3),
                "inuse_seen_ms": round((t_inuse - t_ret) * 1e3, 3),
                "probe_go_delay_ms": round((t_go - t_ret) * 1e3, 3),
                "probe_attempts_up": att_up,
                "associate_apply_us": apply_us(g0, g1),
                "associate_rounds": g1.get("eipd_dataplane_rounds_total", 0) - g0.get("eipd_dataplane_rounds_total", 0),
                "unassociate_call_ms": round((t_ret2 - t_call2) * 1e3, 3),
                "available_seen_ms": round((t_avail - t_ret2) * 1e3, 3),
                "conn_fail_ms": round((t_fail - t_ret2) * 1e3, 3),
                "probe_attempts_down": att_down,
                "unassociate_apply_us": apply_us(g1, g2),
                "cpu_associate_ms": cpu_ms(c_a, c_b)["cpu_ms"],
                "cpu_unassociate_ms": cpu_ms(c_b, c_c)["cpu_ms"],
                "cycle_wall_ms": round((time.monotonic() - t_call) * 1e3, 3),
            }
            cycles.append(row)
            if r >= a.warmup and (r - a.warmup) % 25 == 0:
                print(f"N={n} cycle {row['cycle']}: first packet {row['first_packet_ms']} ms, InUse seen "
                      f"{row['inuse_seen_ms']} ms, conn fail {row['conn_fail_ms']} ms, Available seen "
                      f"{row['available_seen_ms']} ms, apply {row['associate_apply_us']} us", file=sys.stderr)
        if perf is not None:
            os.kill(perf.pid, signal.SIGINT)
            perf.wait(timeout=120)
            perf = None
            rep["perf_top"] = perf_top(workdir / f"perf-{n}.data")
        rep["final_metrics"] = srv.metrics()
        vpc.release_eip_address(vm.ReleaseEipAddressRequest(region_id=REGION, allocation_id=aid))
    finally:
        if perf is not None and perf.poll() is None:
            os.kill(perf.pid, signal.SIGINT)
            try:
                perf.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(perf.pid, signal.SIGKILL)
        for p in procs:
            p.stop()
        srv.stop()
        tear_site()
        rep["eipd_log_tail"] = bl.tail(log_path, 15)
    measured = [c for c in cycles if not c["warmup"]]
    rep["summary"] = {k: bl.latency_stats([c[k] for c in measured]) for k in (
        "first_packet_ms", "inuse_seen_ms", "associate_call_ms", "probe_go_delay_ms", "associate_apply_us",
        "unassociate_call_ms", "available_seen_ms", "conn_fail_ms", "unassociate_apply_us",
        "cpu_associate_ms", "cpu_unassociate_ms", "cycle_wall_ms")}
    rep["summary"]["apply_us_single_round"] = sum(c["associate_apply_us"] is not None for c in measured)
    rep["cycles"] = cycles
    if demo:
        bl.rm_tree(data_dir)
    return rep


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = Path(os.environ.get("CARGO_TARGET_DIR", bl.REPO_ROOT / "target"))
    ap.add_argument("--eipd", type=Path, default=target / "release" / "eipd")
    ap.add_argument("--seed-bin", type=Path, default=target / "release" / "examples" / "seed_scale")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--data-dir", type=Path, help="where the N data directory lives (default /var/tmp/oeipsc-N)")
    ap.add_argument("--reuse", action="store_true", help="reuse a data directory seed_scale already seeded")
    ap.add_argument("--no-baseline", action="store_true", help="skip the N = 1 comparison")
    ap.add_argument("--baseline-only", action="store_true", help="only the N = 1 run")
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--probe-interval-ms", type=float, default=0.2)
    ap.add_argument("--poll-ms", type=float, default=1.0, help="DescribeEipAddresses poll interval")
    ap.add_argument("--idle-s", type=float, default=20.0)
    ap.add_argument("--full-rounds", type=int, default=10, help="full rounds triggered by CreateSecurityGroup")
    ap.add_argument("--profile", action="store_true", help="perf record -g -p PID during the cycles")
    ap.add_argument("--log-level", default="info", help="EIPD_LOG")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args()
    if a.data_dir is None:
        a.data_dir = Path(f"/var/tmp/oeipsc-{a.n}")

    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "nft", "conntrack")):
        print("needs root and the ip, nft and conntrack tools", file=sys.stderr)
        return 1
    for b in (a.eipd, a.seed_bin):
        if not b.exists():
            print(f"{b} not found: cargo build --release -p eipd --bin eipd --example seed_scale",
                  file=sys.stderr)
            return 1
    host_tables = sh("nft", "list", "tables")
    workdir = Path(f"/var/tmp/oeipsc-run-{os.getpid()}")
    workdir.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "bench": "scale_dataplane",
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()},
        "machine": bl.machine_facts(data_dir=a.data_dir.parent, eipd=a.eipd),
        "runs": [],
    }
    ns = ([] if a.baseline_only else [a.n]) + ([] if a.no_baseline else [1])
    rc = 0
    try:
        for n in ns:
            result["runs"].append(run_n(a, n, workdir))
    except Exception as e:  # noqa: BLE001 - record what was measured, then fail
        result["error"] = f"{e!r}: {getattr(e, 'message', '')} {getattr(e, 'data', '')}"
        traceback.print_exc()
        rc = 1
    finally:
        tear_site()
        after = sh("nft", "list", "tables")
        result["host_nft_tables_unchanged"] = after == host_tables
        if after != host_tables:
            print(f"host nft tables changed:\n{host_tables}\n->\n{after}", file=sys.stderr)
            rc = 1
        left = [x for x in bl.namespaces() if x.startswith("oeipsc-")]
        result["namespaces_left"] = left
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        out = a.out or bl.RESULTS_DIR / f"scale-{stamp}.json"
        bl.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"results: {out}", file=sys.stderr)
        for x in workdir.glob("perf-*.data*"):
            x.unlink()
    for run in result["runs"]:
        s = run["summary"]
        print(f"\nN={run['n']}:")
        for st in run.get("starts", []):
            print(f"  start: first round {st['first_round_ms']} ms, /healthz {st['healthz_ms']} ms, "
                  f"eip2priv {st['eip2priv_elements']}")
        if "idle" in run:
            print(f"  idle: {run['idle']['cpu_share'] * 100:.2f} % of a CPU, {run['idle']['rounds']:.0f} rounds")
        for k, v in s.items():
            if isinstance(v, dict):
                print(f"  {k:24s} p50 {v['p50']:>10} p99 {v['p99']:>10} max {v['max']:>10} (n={v['n']})")
        if "full_round_summary" in run:
            print(f"  full round (no kernel change): {run['full_round_summary']}")
        if "nft_reload" in run:
            print(f"  nft -f reload: {run['nft_reload']}")
        for t in run.get("perf_top", []):
            print(f"  perf cycles     {t['percent']:5.2f}% {t['dso']} {t['symbol']}")
        for t in run.get("perf_top_full_round", []):
            print(f"  perf full round {t['percent']:5.2f}% {t['dso']} {t['symbol']}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
