"""Shared pieces of the openeip benchmarks (bench/).

* starting and stopping an `eipd serve` process and a `moto_server` process;
* reading a process's CPU time from /proc, three ways (see ``cpu_snapshot``);
* counting the HTTP requests the client libraries send;
* machine facts for the result files.

Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import json
import math
import os
import platform
import queue
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench" / "results"

REGION = "cn-hangzhou"
ZONE = "cn-hangzhou-h"
AK_ID = "benchid"
AK_SECRET = "benchsecret"
IMAGE_ID = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
INSTANCE_TYPE = "ecs.g7.large"

CLK_TCK = os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------
# CPU time of another process
# --------------------------------------------------------------------------


def _process_cpu_clock(pid: int) -> int:
    """The clock id of `pid`'s process-wide CPU clock (CPUCLOCK_SCHED), the
    value glibc's clock_getcpuclockid() returns: ((~pid) << 3) | 2."""
    return ((~pid) << 3) | 2


def cpu_snapshot(pid: int) -> dict[str, Any]:
    """CPU consumed so far by process `pid`, read three ways:

    clock_ns    clock_gettime() on the process's CPU clock: every thread,
                including threads that already exited, in ns. The figure the
                benchmarks report.
    stat_ticks  utime+stime from /proc/<pid>/stat, in clock ticks
                (SC_CLK_TCK, normally 100/s): also includes exited threads,
                but only 10 ms resolution.
    tasks_ns    sum of field 1 of /proc/<pid>/task/*/schedstat: ns, but only
                the threads alive now (CPU of exited threads is lost).
    """
    wall = time.monotonic_ns()
    clock_ns = time.clock_gettime_ns(_process_cpu_clock(pid))
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    rest = stat[stat.rindex(")") + 2:].split()
    # rest[0] is field 3 (state); utime is field 14, stime field 15.
    utime, stime = int(rest[11]), int(rest[12])
    nthreads = int(rest[17])
    tasks_ns = 0
    live = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        tids = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                tasks_ns += int(f.read().split()[0])
            live += 1
        except (FileNotFoundError, ProcessLookupError):
            pass
    return {
        "wall_ns": wall,
        "clock_ns": clock_ns,
        "stat_ticks": utime + stime,
        "utime_ticks": utime,
        "stime_ticks": stime,
        "tasks_ns": tasks_ns,
        "threads": nthreads,
    }


def cpu_delta(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """CPU spent between two snapshots, in µs, per measure."""
    return {
        "wall_us": (b["wall_ns"] - a["wall_ns"]) / 1e3,
        "clock_us": (b["clock_ns"] - a["clock_ns"]) / 1e3,
        "stat_us": (b["stat_ticks"] - a["stat_ticks"]) * 1e6 / CLK_TCK,
        "utime_us": (b["utime_ticks"] - a["utime_ticks"]) * 1e6 / CLK_TCK,
        "stime_us": (b["stime_ticks"] - a["stime_ticks"]) * 1e6 / CLK_TCK,
        "tasks_us": (b["tasks_ns"] - a["tasks_ns"]) / 1e3,
        "threads_before": a["threads"],
        "threads_after": b["threads"],
    }


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU ns of each live thread of `pid`, summed by thread name (comm)."""
    out: dict[str, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                ns = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue
        out[comm] = out.get(comm, 0) + ns
    return out


def descendants(pid: int) -> list[int]:
    """Every live descendant of `pid` (through /proc/<pid>/task/*/children)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def system_cpu() -> dict[str, int]:
    """The machine-wide `cpu` line of /proc/stat, in clock ticks."""
    with open("/proc/stat") as f:
        vals = [int(x) for x in f.readline().split()[1:]]
    names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
    return dict(zip(names, vals))


def system_cpu_delta(a: dict[str, int], b: dict[str, int]) -> dict[str, float]:
    """Share of all CPUs' time per state between two system_cpu() readings."""
    d = {k: b[k] - a[k] for k in a}
    tot = sum(d.values()) or 1
    return {k: round(v / tot, 4) for k, v in d.items()}


def own_cpu_s() -> float:
    """CPU seconds used by this process (all threads), ns resolution."""
    return time.process_time()


# --------------------------------------------------------------------------
# Counting HTTP requests
# --------------------------------------------------------------------------


class HttpCounter:
    """Counts every HTTP request sent through urllib3, which both the
    Alibaba SDK (requests) and boto3 (botocore) use. Retries count: each
    attempt is a request the server had to handle."""

    def __init__(self) -> None:
        self.n = 0
        self._lock = threading.Lock()
        self._installed = False

    def install(self) -> "HttpCounter":
        if self._installed:
            return self
        import urllib3.connectionpool as cp

        orig = cp.HTTPConnectionPool.urlopen
        counter = self

        def urlopen(pool, method, url, *a, **kw):
            with counter._lock:
                counter.n += 1
            return orig(pool, method, url, *a, **kw)

        cp.HTTPConnectionPool.urlopen = urlopen
        self._installed = True
        return self


HTTP = HttpCounter()


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _wait_http(proc: subprocess.Popen, url: str, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail(log)}")
        try:
            status, _ = http_get(url, timeout=1)
            if status < 500:
                return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what}: {url} not answering after {timeout}s:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        data = path.read_bytes()[-16384:].decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(data.splitlines()[-lines:])


_STARTED: list[Any] = []  # servers started by this process, stopped at exit whatever happens


def _stop_all() -> None:
    for srv in list(_STARTED):
        try:
            srv.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def _on_signal(signum, _frame) -> None:
    raise SystemExit(128 + signum)


atexit.register(_stop_all)
for _sig in (signal.SIGTERM, signal.SIGHUP):
    try:
        signal.signal(_sig, _on_signal)
    except (ValueError, OSError):  # not the main thread / not allowed
        pass


def _stop(proc: subprocess.Popen | None, term_timeout: float = 10) -> None:
    """SIGTERM by pid (SIGKILL after `term_timeout` s) the one process we started."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=term_timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


class _Server:
    """What both server wrappers share: the process, its log, stopping, and
    use as a context manager (`with Eipd(...) as e:`)."""

    proc: subprocess.Popen | None = None
    _log = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        if self in _STARTED:
            _STARTED.remove(self)
        _stop(self.proc)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def lift_eip_quota(binary: Path, data_dir: Path, extra: list[str] | None = None) -> None:
    """Benchmarks hold far more EIPs than the cloud's default quota of 20 per
    account: raise the root account's, as an operator would."""
    subprocess.run([str(binary), "quota", "set", "root", "eip_count", "1000000", "--data-dir", str(data_dir),
                    *(extra or [])], check=True, stdout=subprocess.DEVNULL, timeout=60)


class Eipd(_Server):
    """One `eipd serve` process on a free port with its own data directory."""

    def __init__(self, binary: Path, data_dir: Path, task_delay_ms: int, log_level: str = "info",
                 demo: bool = True, log_path: Path | None = None, extra_args: list[str] | None = None):
        self.binary = Path(binary)
        self.extra_args = list(extra_args or [])
        self.data_dir = Path(data_dir)
        self.task_delay_ms = task_delay_ms
        self.log_level = log_level
        self.demo = demo
        self.log_path = log_path or (self.data_dir.parent / f"{self.data_dir.name}.log")
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._log = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "Eipd":
        if not self.binary.exists():
            raise SystemExit(f"eipd binary not found at {self.binary}; build it with "
                             "`cargo build --release -p eipd`")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self._log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.update({
            "EIPD_ROOT_ACCESS_KEY_ID": AK_ID,
            "EIPD_ROOT_ACCESS_KEY_SECRET": AK_SECRET,
            "EIPD_LOG": self.log_level,
        })
        args = [str(self.binary), "serve", "--listen", self.endpoint, "--data-dir",
                str(self.data_dir), "--task-delay-ms", str(self.task_delay_ms)]
        if self.demo:
            args.append("--demo")
        args += self.extra_args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env)
        _STARTED.append(self)
        _wait_http(self.proc, f"http://{self.endpoint}/healthz", 30, "eipd", self.log_path)
        lift_eip_quota(self.binary, self.data_dir)
        return self

    def requests_total(self) -> dict[str, int]:
        """eipd_requests_total by action, from /metrics (its own scrape is not an RPC)."""
        _, body = http_get(f"http://{self.endpoint}/metrics")
        out: dict[str, int] = {}
        for m in re.finditer(r'^eipd_requests_total\{product="[^"]*",action="([^"]*)"\} (\d+)$',
                             body.decode(), re.M):
            out[m.group(1)] = out.get(m.group(1), 0) + int(m.group(2))
        return out

    def errors_total(self) -> dict[str, int]:
        _, body = http_get(f"http://{self.endpoint}/metrics")
        out: dict[str, int] = {}
        for m in re.finditer(r'^eipd_errors_total\{product="[^"]*",action="([^"]*)",code="([^"]*)"\} (\d+)$',
                             body.decode(), re.M):
            k = f"{m.group(1)}:{m.group(2)}"
            out[k] = out.get(k, 0) + int(m.group(3))
        return out



class Moto(_Server):
    """One `moto_server` process (moto 5, threaded werkzeug, one process)."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Moto":
        self.port = free_port()
        exe = Path(sys.executable).with_name("moto_server")
        args = [str(exe)] if exe.exists() else [sys.executable, "-m", "moto.server"]
        args += ["-H", "127.0.0.1", "-p", str(self.port)]
        self._log = open(self.log_path, "wb")
        env = dict(os.environ)
        # Never reach out for real credentials or metadata.
        env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"})
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env)
        _STARTED.append(self)
        _wait_http(self.proc, f"{self.url}/moto-api/", 60, "moto_server", self.log_path)
        return self



# --------------------------------------------------------------------------
# Alibaba SDK clients
# --------------------------------------------------------------------------


def alibaba_clients(endpoint: str):
    """(VpcClient, EcsClient) with the SDK defaults (V3 ACS3-HMAC-SHA256)."""
    from alibabacloud_ecs20140526.client import Client as EcsClient
    from alibabacloud_tea_openapi.models import Config
    from alibabacloud_vpc20160428.client import Client as VpcClient

    def cfg() -> Config:
        return Config(access_key_id=AK_ID, access_key_secret=AK_SECRET, endpoint=endpoint,
                      protocol="http", region_id=REGION)

    return VpcClient(cfg()), EcsClient(cfg())


def body(resp) -> dict:
    return resp.body.to_map()


def eip_status(vpc, aid: str) -> str | None:
    """The EIP's Status, or None once it is gone."""
    from alibabacloud_vpc20160428 import models as vm

    b = body(vpc.describe_eip_addresses(vm.DescribeEipAddressesRequest(region_id=REGION, allocation_id=aid)))
    items = (b.get("EipAddresses") or {}).get("EipAddress") or []
    return items[0].get("Status") if items else None


def wait_eip_status(vpc, aid: str, want: str, poll_s: float, timeout: float) -> float:
    """Polls until the EIP has status `want`; returns time.monotonic() then."""
    deadline = time.monotonic() + timeout
    while True:
        if eip_status(vpc, aid) == want:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{aid} not {want} within {timeout}s")
        time.sleep(poll_s)


def find_instance(ecs, name: str) -> str:
    from alibabacloud_ecs20140526 import models as em

    b = body(ecs.describe_instances(em.DescribeInstancesRequest(
        region_id=REGION, instance_name=name, page_size=100)))
    for i in b.get("Instances", {}).get("Instance", []):
        if i.get("InstanceName") == name and i.get("Status") == "Running":
            return i["InstanceId"]
    raise RuntimeError(f"no Running instance named {name}: {b}")


# --------------------------------------------------------------------------
# Facts and results
# --------------------------------------------------------------------------


def _run(args: list[str]) -> str:
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def filesystem_of(path: Path) -> dict[str, str]:
    """Mount point, type, device and options of the filesystem holding `path`."""
    real = os.path.realpath(path)
    best = None
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, mnt, fstype, opts = line.split()[:4]
            mnt = mnt.replace("\\040", " ")
            if real == mnt or real.startswith(mnt.rstrip("/") + "/") or mnt == "/":
                if best is None or len(mnt) >= len(best[1]):
                    best = (dev, mnt, fstype, opts)
    if best is None:
        return {}
    return {"device": best[0], "mount": best[1], "type": best[2], "options": best[3]}


def machine_facts(data_dir: Path | None = None, eipd: Path | None = None) -> dict[str, Any]:
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    facts: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_gib": round(mem_kb / 1048576, 1),
        "kernel": platform.release(),
        "os": _os_release(),
        "python": platform.python_version(),
        "rustc": _run(["rustc", "--version"]),
        "clk_tck": CLK_TCK,
        "git_commit": _run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"]),
        "git_dirty": bool(_run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "--", "crates"])),
    }
    if eipd is not None:
        facts["eipd_version"] = _run([str(eipd), "--version"])
        try:
            facts["eipd_binary_mtime"] = _dt.datetime.fromtimestamp(
                Path(eipd).stat().st_mtime, _dt.timezone.utc).isoformat(timespec="seconds")
        except OSError:
            pass
    if data_dir is not None:
        facts["data_dir"] = str(data_dir)
        facts["data_dir_filesystem"] = filesystem_of(data_dir)
    try:
        from importlib.metadata import version

        facts["packages"] = {p: version(p) for p in (
            "alibabacloud_vpc20160428", "alibabacloud_ecs20140526", "alibabacloud_tea_openapi",
            "darabonba-core", "moto", "boto3", "botocore", "werkzeug", "flask")}
    except Exception:  # noqa: BLE001 - facts are best effort
        pass
    return facts


def _os_release() -> str:
    try:
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def write_result(name: str, data: dict[str, Any], out: Path | None = None) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = out or RESULTS_DIR / f"{name}-{stamp}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path


def percentile(sorted_vals: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, int(round(p / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def latency_stats(vals: list[float | None]) -> dict[str, float] | None:
    """n, p50/p90/p99 (nearest rank: with 100 values p99 is the 99th, not the
    maximum), max, min and mean of the values that are not None."""
    s = sorted(v for v in vals if v is not None)
    if not s:
        return None

    def rank(p: float) -> float:
        return round(s[max(0, math.ceil(p / 100 * len(s)) - 1)], 3)

    return {"n": len(s), "p50": rank(50), "p90": rank(90), "p99": rank(99), "max": round(s[-1], 3),
            "min": round(s[0], 3), "mean": round(statistics.fmean(s), 3)}


# ---------------------------------------------------------------- network namespaces (data-plane benches, root)


def namespaces() -> list[str]:
    """The named network namespaces (`ip netns list`)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


class NsProc:
    """A Python script run in a network namespace, its stdout lines queued;
    stopped by pid."""

    def __init__(self, ns: str, script: str, *args: str, stdin: bool = False):
        self.p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", script, *args],
                                  stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.put(line.strip())

    def read(self, timeout: float) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"no output from {self.p.args[2:4]} within {timeout}s") from None

    def send(self, line: str) -> None:
        assert self.p.stdin is not None
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
        try:
            self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def rm_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
