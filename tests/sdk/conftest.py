"""Fixtures and helpers for the SDK integration suite.

The suite drives a real `eipd` process with Alibaba Cloud's official,
unmodified Python SDKs:

* the generated SDKs (``alibabacloud_vpc20160428`` / ``alibabacloud_ecs20140526``)
  with their default V3 signer (ACS3-HMAC-SHA256) and with
  ``signature_algorithm='v2'`` (the legacy RPC HMAC-SHA1 signer, "V1");
* the legacy SDK (``aliyunsdkcore`` + ``aliyunsdkvpc`` / ``aliyunsdkecs``).

Environment:
  EIPD_BIN                   server binary (default target/debug/eipd, relative
                             to the repository root)
  EIPD_TEST_TASK_DELAY_MS    --task-delay-ms for the servers (default 200)
  EIPD_SDK_STORE             "sqlite" (default) or "postgres": each server keeps its
                             state in a fresh schema of EIPD_TEST_DATABASE_URL
  EIPD_SDK_NODES             with postgres, eipd processes per server (default 1);
                             with 2, every other client the suite makes talks to
                             the second node, so flows cross nodes
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import urllib.parse
import ipaddress
import json
import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from alibabacloud_alb20200616 import models as alb_models
from alibabacloud_alb20200616.client import Client as AlbClient
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_ecs20140526.client import Client as EcsClient
from alibabacloud_nlb20220430 import models as nlb_models
from alibabacloud_nlb20220430.client import Client as NlbClient
from alibabacloud_slb20140515 import models as slb_models
from alibabacloud_slb20140515.client import Client as SlbClient
from alibabacloud_tea_openapi import exceptions as tea_exceptions
from alibabacloud_tea_openapi.client import Client as _OpenApiClientBase
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_openapi.utils import Utils as _OpenApiUtils
from alibabacloud_tea_openapi.utils_models import OpenApiRequest as _OpenApiRequest
from alibabacloud_tea_openapi.utils_models import Params as _OpenApiParams
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient
from aliyunsdkcore.acs_exception.exceptions import ServerException as LegacyServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkvpc.request.v20160428 import DescribeEipAddressesRequest as LDescribeEipAddresses
from darabonba.runtime import ExtendsParameters, RuntimeOptions

# Every successful body the generated SDKs receive in this session, by
# (version, action): test_zz_response_key_order.py checks each against the
# SDK's response model (key order at every level, issue 10).
RESPONSES: dict[tuple[str, str], list[dict]] = {}
_MAX_SAMPLES = 6
_original_call_api = _OpenApiClientBase.call_api


def _recording_call_api(self, params, request, runtime):
    resp = _original_call_api(self, params, request, runtime)
    body = resp.get("body") if isinstance(resp, dict) else None
    if isinstance(body, dict):
        samples = RESPONSES.setdefault((params.version, params.action), [])
        if len(samples) < _MAX_SAMPLES:
            samples.append(body)
        else:  # keep the richest sample in the last slot
            if len(json.dumps(body)) > len(json.dumps(samples[-1])):
                samples[-1] = body
    return resp


_OpenApiClientBase.call_api = _recording_call_api

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "cn-hangzhou"
DEMO_ZONE = "cn-hangzhou-h"
AK_ID = "testid"
AK_SECRET = "testsecret"
TASK_DELAY_MS = int(os.environ.get("EIPD_TEST_TASK_DELAY_MS", "200"))
# Generous bound for one asynchronous transition (a few task delays).
WAIT_TIMEOUT = max(10.0, TASK_DELAY_MS * 20 / 1000.0)
HEALTH_TIMEOUT = 20.0
SDK_STORE = os.environ.get("EIPD_SDK_STORE", "sqlite")
SDK_NODES = int(os.environ.get("EIPD_SDK_NODES", "1"))

# Tests that look at the SQLite file itself.
sqlite_only = pytest.mark.skipif(SDK_STORE != "sqlite", reason="looks at the SQLite file of a server")

EIP_ID_RE = re.compile(r"^eip-[a-z0-9]{22}$")
ADDRESS_SPACE = ipaddress.ip_network("198.18.0.0/15")
TRANSITIONAL = {"Associating", "Unassociating", "Releasing"}

# A plain-Python image/type pair; the emulator does not run guests.
IMAGE_ID = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
INSTANCE_TYPE = "ecs.g7.large"


# --------------------------------------------------------------------------
# Server process management
# --------------------------------------------------------------------------


def eipd_bin() -> Path:
    p = Path(os.environ.get("EIPD_BIN", "target/debug/eipd"))
    return p if p.is_absolute() else REPO_ROOT / p


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_SERVERS: list["EipdServer"] = []  # every server started in this session


# --------------------------------------------------------------------------
# Network namespaces: one user at a time
# --------------------------------------------------------------------------
#
# The lab, the operator's site and the agents' gateway use fixed namespace
# names (openeip-internet, openeip-gw-<region>, oeipop-*), so two test runs on
# one host (scripts/test.sh runs the SQLite and the PostgreSQL pass side by
# side) must not build them at once. Every module that makes namespaces holds
# an exclusive lock on NETNS_LOCK while it runs; EIPD_SDK_NETNS_ORDER=first
# or =last runs those modules before or after the others, so two runs
# ordered oppositely seldom wait for each other.

NETNS_LOCK = Path(os.environ.get("EIPD_SDK_NETNS_LOCK", "/tmp/openeip-sdk-netns.lock"))
NETNS_MODULES = ("test_agent", "test_console_traffic", "test_dataplane")
_netns_held = False


def uses_netns(module_name: str) -> bool:
    return module_name.startswith(NETNS_MODULES)


def pytest_collection_modifyitems(session, config, items):
    order = os.environ.get("EIPD_SDK_NETNS_ORDER", "")
    if order not in ("first", "last"):
        return
    def key(item) -> int:
        name = item.module.__name__
        if name == "test_zz_response_key_order":
            return 2  # checks what every other module saw: always last
        netns = uses_netns(name)
        return 0 if netns == (order == "first") else 1
    items.sort(key=key)  # stable: file order within each group


@pytest.fixture(scope="module", autouse=True)
def _netns_lock(request):
    global _netns_held
    if not uses_netns(request.module.__name__):
        yield
        return
    with open(NETNS_LOCK, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"\nwaiting for {NETNS_LOCK} (another run uses the namespaces)", flush=True)
            fcntl.flock(f, fcntl.LOCK_EX)
        _netns_held = True
        try:
            yield
        finally:
            _netns_held = False
            fcntl.flock(f, fcntl.LOCK_UN)


def fresh_database_url() -> str | None:
    """With EIPD_SDK_STORE=postgres, a URL whose connections use a new, empty
    schema of the test server (one per EipdServer, shared by its nodes)."""
    if SDK_STORE != "postgres":
        return None
    base = os.environ.get("EIPD_TEST_DATABASE_URL")
    if not base:
        pytest.fail("EIPD_SDK_STORE=postgres needs EIPD_TEST_DATABASE_URL", pytrace=False)
    return schema_url(base)


def schema_url(base: str) -> str:
    """A URL on the server `base` whose connections use a new, empty schema."""
    schema = f"sdk_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", base, "-qc", f"CREATE SCHEMA {schema}"], check=True, capture_output=True, timeout=30)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def shared_database_url() -> str:
    """For tests of several processes on one PostgreSQL store, whatever
    EIPD_SDK_STORE says: a fresh schema of the test server. Without one the
    test is skipped, unless EIPD_REQUIRE_POSTGRES=1 (the test command) makes
    that a failure."""
    base = os.environ.get("EIPD_TEST_DATABASE_URL")
    if not base:
        if os.environ.get("EIPD_REQUIRE_POSTGRES") == "1":
            pytest.fail("EIPD_REQUIRE_POSTGRES=1 but EIPD_TEST_DATABASE_URL is not set", pytrace=False)
        pytest.skip("no EIPD_TEST_DATABASE_URL: no PostgreSQL server to share")
    return schema_url(base)


class EipdServer:
    """One `eipd serve` process, its data directory and its log file."""

    def __init__(
        self,
        name: str,
        data_dir: Path,
        log_dir: Path,
        task_delay_ms: int = TASK_DELAY_MS,
        demo: bool = True,
        env: dict[str, str] | None = None,
        owner: str | None = None,
    ):
        self.name = name
        self.data_dir = Path(data_dir)
        self.log_dir = Path(log_dir)
        self.task_delay_ms = task_delay_ms
        self.demo = demo
        self.extra_env = dict(env or {})
        self.extra_args: list[str] = []
        self.owner = owner  # nodeid of the test that owns it (None: session)
        # The shared store (PostgreSQL mode) and the other nodes serving it.
        self.database_url = self.extra_env.get("EIPD_DATABASE_URL") or fresh_database_url()
        if self.database_url:
            self.extra_env["EIPD_DATABASE_URL"] = self.database_url
        self.peers: list[EipdServer] = []
        self._clients = 0
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.starts = 0
        self.log_path: Path | None = None
        self._log_file = None
        _SERVERS.append(self)

    # -- lifecycle -------------------------------------------------------
    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.endpoint}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, port: int | None = None) -> "EipdServer":
        if "--lab" in self.extra_args and not _netns_held:
            pytest.fail("a --lab server outside a module listed in NETNS_MODULES (conftest): "
                        "it would build the lab's namespaces beside another run's", pytrace=False)
        binary = eipd_bin()
        if not binary.exists():
            pytest.fail(
                f"eipd binary not found at {binary} (build it with `cargo build -p eipd`"
                " or set EIPD_BIN)",
                pytrace=False,
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        last_err = None
        for attempt in range(3):
            use_port = port if (port is not None and attempt == 0) else free_port()
            try:
                self._spawn(binary, use_port)
                self._start_peers()
                return self
            except _PortInUse as e:  # somebody took the port between probe and bind
                last_err = e
                continue
        pytest.fail(f"eipd {self.name}: could not bind a port: {last_err}", pytrace=False)

    def _spawn(self, binary: Path, port: int) -> None:
        self.starts += 1
        self.port = port
        self.log_path = self.log_dir / f"eipd-{self.name}-{self.starts}.log"
        self._log_file = open(self.log_path, "wb")
        args = [
            str(binary),
            "serve",
            "--listen",
            f"127.0.0.1:{port}",
            "--data-dir",
            str(self.data_dir),
            "--task-delay-ms",
            str(self.task_delay_ms),
        ]
        if self.demo:
            args.append("--demo")
        args.extend(self.extra_args)
        env = dict(os.environ)
        env.update(
            {
                "EIPD_ROOT_ACCESS_KEY_ID": AK_ID,
                "EIPD_ROOT_ACCESS_KEY_SECRET": AK_SECRET,
            }
        )
        env.setdefault("RUST_BACKTRACE", "1")
        env.update(self.extra_env)
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(REPO_ROOT),
        )
        deadline = time.monotonic() + HEALTH_TIMEOUT
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                tail = self.log_tail()
                if re.search(r"(?i)address (already )?in use|AddrInUse", tail):
                    raise _PortInUse(tail)
                pytest.fail(
                    f"eipd {self.name} exited with status {rc} during startup:\n{tail}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        if self.starts == 1 and not getattr(self, "is_peer", False):
                            self._test_quotas()
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.05)
        tail = self.log_tail()
        self.stop()
        pytest.fail(
            f"eipd {self.name}: GET /healthz did not return 200 within {HEALTH_TIMEOUT}s:\n{tail}",
            pytrace=False,
        )

    def _test_quotas(self) -> None:
        """The suite's servers share one root account across many tests: lift
        its EIP quota (20 on the cloud) and grant the HaVip permission (0 on
        the cloud). Tests of the defaults use accounts of their own."""
        for name, value in (("eip_count", "100000"), ("havip_permission", "1")):
            self.admin("quota", "set", "root", name, value, "--data-dir", str(self.data_dir))

    def _start_peers(self) -> None:
        """The other nodes on the same store (EIPD_SDK_NODES), made once."""
        if not self.database_url or SDK_NODES < 2 or getattr(self, "is_peer", False):
            return
        if not self.peers:
            for n in range(2, SDK_NODES + 1):
                peer = EipdServer.__new__(EipdServer)
                peer.__dict__.update(self.__dict__)
                peer.name = f"{self.name}-node{n}"
                peer.data_dir = self.data_dir.parent / f"{self.data_dir.name}-node{n}"
                peer.extra_env = dict(self.extra_env)
                peer.extra_args = list(self.extra_args)
                peer.peers = []
                peer.is_peer = True
                peer.proc = None
                peer.port = None
                peer.starts = 0
                peer._log_file = None
                peer.log_path = None
                _SERVERS.append(peer)
                self.peers.append(peer)
        for peer in self.peers:
            # The nodes of one server share its settings, also changed ones,
            # and the key its AccessKey secrets are sealed with.
            peer.extra_env = dict(self.extra_env)
            peer.extra_env.setdefault("EIPD_SECRETS_KEY_FILE", str(self.data_dir / "secrets.key"))
            peer.extra_args = list(self.extra_args)
            if not peer.alive():
                peer.start(port=peer.port)

    def nodes(self) -> list["EipdServer"]:
        return [self, *self.peers]

    def next_endpoint(self) -> str:
        """The endpoint for the next client: the nodes in turn."""
        nodes = self.nodes()
        self._clients += 1
        return nodes[(self._clients - 1) % len(nodes)].endpoint

    def stop(self) -> None:
        for peer in self.peers:
            peer.stop()
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._close_log()

    def kill9(self) -> None:
        """Crash the server: SIGKILL by PID, no chance to flush anything."""
        assert self.proc is not None
        for peer in self.peers:
            if peer.alive():
                peer.kill9()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=5)
        self._close_log()

    def restart(self) -> "EipdServer":
        """Start again on the same data dir (same port when it is free)."""
        if self.alive():
            self.stop()
        return self.start(port=self.port)

    def _close_log(self) -> None:
        if self._log_file is not None:
            try:
                self._log_file.close()
            except Exception:
                pass
            self._log_file = None

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path or not self.log_path.exists():
            return "(no log)"
        data = self.log_path.read_bytes()[-65536:].decode("utf-8", "replace")
        return "\n".join(data.splitlines()[-lines:])

    # -- convenience -----------------------------------------------------
    def vpc(self, v1: bool = False, **kw) -> VpcClient:
        return vpc_client(self.next_endpoint(), v1=v1, **kw)

    def ecs(self, v1: bool = False, **kw) -> EcsClient:
        return ecs_client(self.next_endpoint(), v1=v1, **kw)

    def legacy(self, **kw) -> "Legacy":
        return Legacy(self.next_endpoint(), **kw)

    def slb(self, v1: bool = False, **kw) -> SlbClient:
        return slb_client(self.next_endpoint(), v1=v1, **kw)

    def alb(self, v1: bool = False, **kw) -> AlbClient:
        return alb_client(self.next_endpoint(), v1=v1, **kw)

    def nlb(self, v1: bool = False, **kw) -> NlbClient:
        return nlb_client(self.next_endpoint(), v1=v1, **kw)

    def admin(self, *args: str) -> str:
        """Run the admin CLI `eipd ARGS...` (the caller passes --data-dir);
        asserts exit 0 and returns stdout."""
        out = subprocess.run([str(eipd_bin()), *args], capture_output=True, text=True,
                             timeout=30, cwd=str(REPO_ROOT), env=self.admin_env())
        assert out.returncode == 0, f"eipd {' '.join(args)} failed ({out.returncode}): {out.stdout}{out.stderr}"
        return out.stdout

    def create_account(self, name: str) -> tuple[str, str]:
        """`eipd account create NAME --data-dir DIR` (works while the server
        runs); returns the new account's (AccessKeyId, AccessKeySecret)."""
        out = subprocess.run(
            [str(eipd_bin()), "account", "create", name, "--data-dir", str(self.data_dir)],
            capture_output=True, text=True, timeout=30, cwd=str(REPO_ROOT), env=self.admin_env())
        assert out.returncode == 0, f"eipd account create failed: {out.stdout}{out.stderr}"
        ak = re.search(r"^AccessKeyId:\s*(\S+)", out.stdout, re.M)
        sk = re.search(r"^AccessKeySecret:\s*(\S+)", out.stdout, re.M)
        assert ak and sk, f"cannot parse the key pair from: {out.stdout!r}"
        return ak.group(1), sk.group(1)

    def store_bytes(self) -> int:
        """How much the store takes: the SQLite file, or on PostgreSQL the
        server's size of the server's schema (tables and indexes)."""
        if not self.database_url:
            return (self.data_dir / "eipd.db").stat().st_size
        schema = re.search(r"search_path%3D(\w+)", self.database_url)[1]
        base = self.database_url.split("?")[0]
        q = ("SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
             f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{schema}' AND c.relkind = 'r'")
        out = subprocess.run(["psql", base, "-Atqc", q], check=True, capture_output=True, text=True, timeout=30)
        return int(out.stdout.strip())

    def admin_env(self) -> dict[str, str]:
        """The environment of admin commands: they reach the same store."""
        env = dict(os.environ)
        if self.database_url:
            env["EIPD_DATABASE_URL"] = self.database_url
        if "EIPD_SECRETS_KEY_FILE" in self.extra_env:
            env["EIPD_SECRETS_KEY_FILE"] = self.extra_env["EIPD_SECRETS_KEY_FILE"]
        return env

    def http_get(self, path: str) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"{self.base_url}{path}", timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


class _PortInUse(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    for srv in _SERVERS:
        if srv.owner in (None, item.nodeid) and srv.log_path is not None:
            rep.sections.append(
                (f"eipd {srv.name} (pid {srv.proc.pid if srv.proc else '-'}) log tail: {srv.log_path}",
                 srv.log_tail()),
            )


def pytest_report_header(config):
    store = f"{SDK_STORE}, {SDK_NODES} node(s)" if SDK_STORE == "postgres" else "sqlite"
    return f"eipd: {eipd_bin()} (task delay {TASK_DELAY_MS} ms, wait timeout {WAIT_TIMEOUT:.0f} s, store {store})"


def pytest_sessionfinish(session, exitstatus):
    for srv in _SERVERS:
        try:
            srv.stop()
        except Exception:
            pass


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> EipdServer:
    """The shared server of the session (demo data seeded)."""
    base = tmp_path_factory.mktemp("eipd-session")
    srv = EipdServer("session", base / "data", base / "logs", demo=True)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def eipd_factory(request, tmp_path) -> Callable[..., EipdServer]:
    """Start SEPARATE servers (fresh data dir each) owned by this test.

    ``eipd_factory(demo=True, task_delay_ms=None, env=None, data_dir=None)``
    """
    started: list[EipdServer] = []

    def start(demo: bool = True, task_delay_ms: int | None = None,
              env: dict[str, str] | None = None, data_dir: Path | None = None,
              args: list[str] | None = None) -> EipdServer:
        n = len(started) + 1
        base = tmp_path / f"eipd-{n}"
        srv = EipdServer(
            f"{request.node.name}-{n}",
            data_dir or base / "data",
            base / "logs",
            task_delay_ms=TASK_DELAY_MS if task_delay_ms is None else task_delay_ms,
            demo=demo,
            env=env,
            owner=request.node.nodeid,
        )
        srv.extra_args = list(args or [])
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        srv.stop()


# --------------------------------------------------------------------------
# The web console in a real browser
# --------------------------------------------------------------------------

CHROMIUM = os.environ.get("EIPD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    """One Debian chromium for the whole session (scripts/test.sh installs
    it; Playwright is given its path and fetches no browser of its own)."""
    if not os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium", pytrace=False)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, tmp_path):
    """A fresh browser context and page; its last screen is saved (path printed)."""
    ctx = browser.new_context()
    pg = ctx.new_page()
    pg.set_default_timeout(10_000)
    yield pg
    shot = tmp_path / "last.png"
    try:
        pg.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
    except Exception:
        pass
    ctx.close()


def console_sign_in(page, srv, ak: str = AK_ID, secret: str = AK_SECRET) -> None:
    page.goto(f"{srv.base_url}/console/")
    page.get_by_label("AccessKey ID").fill(ak)
    page.get_by_label("AccessKey Secret").fill(secret)
    page.get_by_role("button", name="Sign in").click()


def console_row(page, eip_id: str):
    """The EIP list's row of `eip_id`."""
    return page.locator(f'tr[data-eip="{eip_id}"]')


def demo_instances(srv) -> dict[str, dict]:
    """The demo's ECS instances by name (demo-1, demo-2, ...)."""
    insts = srv.ecs().describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION)).body.to_map()
    return {i["InstanceName"]: i for i in insts["Instances"]["Instance"]}


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------


def _config(endpoint: str, v1: bool, ak: str, secret: str, region: str) -> Config:
    cfg = Config(
        access_key_id=ak,
        access_key_secret=secret,
        endpoint=endpoint,
        protocol="http",
        region_id=region,
    )
    if v1:
        cfg.signature_algorithm = "v2"  # selects the legacy RPC HMAC-SHA1 signer
    return cfg


def vpc_client(endpoint: str, v1: bool = False, ak: str = AK_ID, secret: str = AK_SECRET,
               region: str = REGION) -> VpcClient:
    return VpcClient(_config(endpoint, v1, ak, secret, region))


def ecs_client(endpoint: str, v1: bool = False, ak: str = AK_ID, secret: str = AK_SECRET,
               region: str = REGION) -> EcsClient:
    return EcsClient(_config(endpoint, v1, ak, secret, region))


def slb_client(endpoint: str, v1: bool = False, ak: str = AK_ID, secret: str = AK_SECRET,
               region: str = REGION) -> SlbClient:
    return SlbClient(_config(endpoint, v1, ak, secret, region))


def alb_client(endpoint: str, v1: bool = False, ak: str = AK_ID, secret: str = AK_SECRET,
               region: str = REGION) -> AlbClient:
    return AlbClient(_config(endpoint, v1, ak, secret, region))


def nlb_client(endpoint: str, v1: bool = False, ak: str = AK_ID, secret: str = AK_SECRET,
               region: str = REGION) -> NlbClient:
    return NlbClient(_config(endpoint, v1, ak, secret, region))


class Legacy:
    """The legacy SDK (aliyunsdkcore AcsClient) pointed at the server."""

    def __init__(self, endpoint: str, ak: str = AK_ID, secret: str = AK_SECRET,
                 region: str = REGION):
        self.endpoint = endpoint
        self.client = AcsClient(ak, secret, region)

    def prepare(self, request):
        request.set_endpoint(self.endpoint)
        return request

    def call(self, request) -> dict:
        """do_action_with_exception: forces Format=JSON, raises ServerException."""
        body = self.client.do_action_with_exception(self.prepare(request))
        return json.loads(body)

    def raw(self, request) -> tuple[int, dict, bytes]:
        """Status, headers, body; no exception, the request's own Format."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            status, headers, body = self.client.get_response(self.prepare(request))
        return status, headers, body


@pytest.fixture(scope="session")
def vpc_v3(server) -> VpcClient:
    return server.vpc()


@pytest.fixture(scope="session")
def ecs_v3(server) -> EcsClient:
    return server.ecs()


@pytest.fixture(scope="session")
def vpc_v1(server) -> VpcClient:
    return server.vpc(v1=True)


@pytest.fixture(scope="session")
def ecs_v1(server) -> EcsClient:
    return server.ecs(v1=True)


@pytest.fixture(scope="session")
def legacy(server) -> Legacy:
    return server.legacy()


@pytest.fixture(scope="session")
def slb_v3(server) -> SlbClient:
    return server.slb()


@pytest.fixture(scope="session")
def alb_v3(server) -> AlbClient:
    return server.alb()


@pytest.fixture(scope="session")
def nlb_v3(server) -> NlbClient:
    return server.nlb()


def runtime(headers: dict[str, str] | None = None,
            queries: dict[str, str] | None = None) -> RuntimeOptions:
    """RuntimeOptions whose extends_parameters override what the SDK would send
    (e.g. ``x-acs-date`` / ``Timestamp`` / nonces). The SDK stays unmodified."""
    return RuntimeOptions(extends_parameters=ExtendsParameters(headers=headers, queries=queries))


def is_v1(client) -> bool:
    return getattr(client, "_signature_algorithm", None) == "v2"


def acs_time(offset_s: float = 0.0) -> str:
    t = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def override_clock(client, offset_s: float) -> RuntimeOptions:
    """Runtime options that make *client* sign with a clock shifted by offset_s."""
    if is_v1(client):
        return runtime(queries={"Timestamp": acs_time(offset_s)})
    return runtime(headers={"x-acs-date": acs_time(offset_s)})


def override_nonce(client, nonce: str) -> RuntimeOptions:
    if is_v1(client):
        return runtime(queries={"SignatureNonce": nonce})
    return runtime(headers={"x-acs-signature-nonce": nonce})


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


@dataclass
class ApiError:
    status: int | None
    code: str | None
    message: str | None  # the server's Message (raw, not the SDK's decorated text)
    data: dict | None  # the parsed error body (new SDK only)
    exc: BaseException = field(repr=False)

    def __str__(self):
        return f"HTTP {self.status} {self.code}: {self.message} body={self.data}"


def capture_error(fn: Callable, *args, **kwargs) -> ApiError | None:
    """Run fn; return ApiError if the SDK raised an API error, None on success."""
    try:
        fn(*args, **kwargs)
    except tea_exceptions.AlibabaCloudException as e:
        data = dict(e.data) if isinstance(getattr(e, "data", None), dict) else None
        msg = (data or {}).get("Message", e.message)
        return ApiError(e.status_code, e.code, msg, data, e)
    except LegacyServerException as e:
        return ApiError(e.get_http_status(), e.get_error_code(), e.get_error_msg(), None, e)
    return None


def expect_error(fn: Callable, status: int | None, code: str | tuple[str, ...], *args, **kwargs) -> ApiError:
    """Call fn(*args, **kwargs) and assert it fails with HTTP status and code."""
    err = capture_error(fn, *args, **kwargs)
    codes = (code,) if isinstance(code, str) else tuple(code)
    assert err is not None, f"expected HTTP {status} {codes}, but the call succeeded"
    assert err.code in codes, f"expected code {codes}, got {err}"
    if status is not None:
        assert err.status == status, f"expected HTTP {status}, got {err}"
    return err


def check_error_body(err: ApiError) -> None:
    """Every error body has RequestId, HostId, Code, Message, Recommend."""
    assert err.data is not None, f"no parsed error body: {err}"
    for k in ("RequestId", "HostId", "Code", "Message", "Recommend"):
        assert k in err.data, f"error body lacks {k}: {err.data}"
        assert isinstance(err.data[k], str), f"{k} is not a string: {err.data}"
    assert err.data["RequestId"], err.data
    assert err.data["Code"] == err.code


# --------------------------------------------------------------------------
# VPC / EIP helpers (new SDK clients, V3 or V1)
# --------------------------------------------------------------------------


def body(resp) -> dict:
    """The response body as a dict with wire (PascalCase) keys."""
    return resp.body.to_map()


def allocate(vpc: VpcClient, region: str = REGION, rt: RuntimeOptions | None = None, **kw) -> dict:
    req = vpc_models.AllocateEipAddressRequest(region_id=region, **kw)
    if rt is not None:
        return body(vpc.allocate_eip_address_with_options(req, rt))
    return body(vpc.allocate_eip_address(req))


def associate(vpc: VpcClient, allocation_id: str, instance_id: str, region: str = REGION,
              instance_type: str | None = "EcsInstance", **kw) -> dict:
    req = vpc_models.AssociateEipAddressRequest(
        region_id=region, allocation_id=allocation_id, instance_id=instance_id,
        instance_type=instance_type, **kw)
    return body(vpc.associate_eip_address(req))


def unassociate(vpc: VpcClient, allocation_id: str, instance_id: str | None = None,
                region: str = REGION, instance_type: str | None = "EcsInstance", **kw) -> dict:
    req = vpc_models.UnassociateEipAddressRequest(
        region_id=region, allocation_id=allocation_id, instance_id=instance_id,
        instance_type=instance_type, **kw)
    return body(vpc.unassociate_eip_address(req))


def release(vpc: VpcClient, allocation_id: str, region: str = REGION) -> dict:
    req = vpc_models.ReleaseEipAddressRequest(region_id=region, allocation_id=allocation_id)
    return body(vpc.release_eip_address(req))


def modify(vpc: VpcClient, allocation_id: str, region: str = REGION, **kw) -> dict:
    req = vpc_models.ModifyEipAddressAttributeRequest(region_id=region, allocation_id=allocation_id, **kw)
    return body(vpc.modify_eip_address_attribute(req))


def describe_eips(vpc: VpcClient, region: str = REGION, rt: RuntimeOptions | None = None, **kw) -> dict:
    req = vpc_models.DescribeEipAddressesRequest(region_id=region, **kw)
    if rt is not None:
        return body(vpc.describe_eip_addresses_with_options(req, rt))
    return body(vpc.describe_eip_addresses(req))


def eip_list(desc: dict) -> list[dict]:
    wrapper = desc.get("EipAddresses")
    assert isinstance(wrapper, dict), f"EipAddresses wrapper missing: {desc}"
    items = wrapper.get("EipAddress")
    assert isinstance(items, list), f"EipAddresses.EipAddress is not a list: {desc}"
    return items


# -- legacy-client equivalents (json.loads of the raw bytes) --------------

def _legacy_describe(leg: Legacy, allocation_id: str, region: str) -> dict:
    req = LDescribeEipAddresses.DescribeEipAddressesRequest()
    req.set_AllocationId(allocation_id)
    req.set_accept_format("JSON")
    req.add_query_param("RegionId", region)
    return leg.call(req)


def get_eip(client, allocation_id: str, region: str = REGION) -> dict | None:
    """One EIP by id via DescribeEipAddresses, or None when it is absent."""
    if isinstance(client, Legacy):
        desc = _legacy_describe(client, allocation_id, region)
    else:
        desc = describe_eips(client, region=region, allocation_id=allocation_id)
    items = [e for e in eip_list(desc) if e.get("AllocationId") == allocation_id]
    assert len(items) <= 1, f"duplicate AllocationId in describe: {desc}"
    return items[0] if items else None


def wait_status(client, allocation_id: str, status: str | None, timeout: float = WAIT_TIMEOUT,
                region: str = REGION) -> dict | None:
    """Poll DescribeEipAddresses until the EIP has `status` (None: gone)."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        eip = get_eip(client, allocation_id, region)
        cur = eip.get("Status") if eip else None
        if not seen or seen[-1] != cur:
            seen.append(cur)
        if cur == status:
            return eip
        if time.monotonic() > deadline:
            pytest.fail(
                f"{allocation_id}: status {status!r} not reached within {timeout}s; "
                f"statuses seen: {seen}; last: {eip}"
            )
        time.sleep(0.05)


# --------------------------------------------------------------------------
# ECS / network helpers
# --------------------------------------------------------------------------


def describe_instances(ecs: EcsClient, instance_ids: list[str], region: str = REGION,
                       **kw) -> list[dict]:
    req = ecs_models.DescribeInstancesRequest(
        region_id=region, instance_ids=json.dumps(instance_ids), page_size=100, **kw)
    b = body(ecs.describe_instances(req))
    inst = b.get("Instances", {}).get("Instance")
    assert isinstance(inst, list), f"Instances.Instance is not a list: {b}"
    return inst


def get_instance(ecs: EcsClient, instance_id: str, region: str = REGION) -> dict | None:
    items = [i for i in describe_instances(ecs, [instance_id], region) if i.get("InstanceId") == instance_id]
    return items[0] if items else None


def wait_instance(ecs: EcsClient, instance_id: str, status: str | None,
                  timeout: float = WAIT_TIMEOUT, region: str = REGION) -> dict | None:
    """Poll DescribeInstances until the instance has `status` (None: gone)."""
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        inst = get_instance(ecs, instance_id, region)
        cur = inst.get("Status") if inst else None
        if not seen or seen[-1] != cur:
            seen.append(cur)
        if cur == status:
            return inst
        if time.monotonic() > deadline:
            pytest.fail(f"{instance_id}: status {status!r} not reached within {timeout}s; seen {seen}")
        time.sleep(0.05)


def instance_public_ips(inst: dict) -> list[str]:
    return [ip for ip in (inst.get("PublicIpAddress") or {}).get("IpAddress") or [] if ip]


def instance_eip(inst: dict) -> dict:
    return inst.get("EipAddress") or {}


def run_instances(ecs: EcsClient, vsw_id: str | None, sg_id: str | None, amount: int = 1,
                  region: str = REGION, rt: RuntimeOptions | None = None, **kw) -> list[str]:
    req = ecs_models.RunInstancesRequest(
        region_id=region, image_id=IMAGE_ID, instance_type=INSTANCE_TYPE, amount=amount,
        v_switch_id=vsw_id, security_group_id=sg_id, **kw)
    resp = ecs.run_instances_with_options(req, rt) if rt is not None else ecs.run_instances(req)
    b = body(resp)
    ids = (b.get("InstanceIdSets") or {}).get("InstanceIdSet")
    assert isinstance(ids, list) and len(ids) == amount, f"RunInstances returned {b}"
    return ids


def create_instance(ecs: EcsClient, vsw_id: str, sg_id: str, region: str = REGION, **kw) -> str:
    req = ecs_models.CreateInstanceRequest(
        region_id=region, image_id=IMAGE_ID, instance_type=INSTANCE_TYPE,
        v_switch_id=vsw_id, security_group_id=sg_id, **kw)
    b = body(ecs.create_instance(req))
    assert str(b.get("InstanceId", "")).startswith("i-"), f"CreateInstance returned {b}"
    return b["InstanceId"]


def delete_instance(ecs: EcsClient, instance_id: str, force: bool = True) -> None:
    ecs.delete_instance(ecs_models.DeleteInstanceRequest(instance_id=instance_id, force=force))


def create_vpc(vpc: VpcClient, region: str = REGION, cidr: str = "192.168.0.0/16",
               name: str | None = None) -> str:
    b = body(vpc.create_vpc(vpc_models.CreateVpcRequest(
        region_id=region, cidr_block=cidr, vpc_name=name or f"t-{uuid.uuid4().hex[:8]}")))
    vpc_id = b.get("VpcId", "")
    assert vpc_id.startswith("vpc-"), f"CreateVpc returned {b}"
    _wait_vpc_available(vpc, vpc_id, region)
    return vpc_id


def _wait_vpc_available(vpc: VpcClient, vpc_id: str, region: str) -> None:
    # Real VPCs go Pending -> Available; tolerate both an immediate Available
    # and a short Pending phase.
    deadline = time.monotonic() + WAIT_TIMEOUT
    while time.monotonic() < deadline:
        b = body(vpc.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=region, vpc_id=vpc_id)))
        vs = (b.get("Vpcs") or {}).get("Vpc") or []
        if vs and vs[0].get("Status") in (None, "", "Available"):
            return
        time.sleep(0.05)
    pytest.fail(f"VPC {vpc_id} did not become Available")


def create_vswitch(vpc: VpcClient, vpc_id: str, zone: str, cidr: str, region: str = REGION) -> str:
    b = body(vpc.create_vswitch(vpc_models.CreateVSwitchRequest(
        region_id=region, vpc_id=vpc_id, zone_id=zone, cidr_block=cidr,
        v_switch_name=f"t-{uuid.uuid4().hex[:8]}")))
    vsw = b.get("VSwitchId", "")
    assert vsw.startswith("vsw-"), f"CreateVSwitch returned {b}"
    deadline = time.monotonic() + WAIT_TIMEOUT
    while time.monotonic() < deadline:
        d = body(vpc.describe_vswitches(vpc_models.DescribeVSwitchesRequest(
            region_id=region, v_switch_id=vsw)))
        vs = (d.get("VSwitches") or {}).get("VSwitch") or []
        if vs and vs[0].get("Status") in (None, "", "Available"):
            return vsw
        time.sleep(0.05)
    pytest.fail(f"vSwitch {vsw} did not become Available")


def create_security_group(ecs: EcsClient, vpc_id: str, region: str = REGION) -> str:
    b = body(ecs.create_security_group(ecs_models.CreateSecurityGroupRequest(
        region_id=region, vpc_id=vpc_id, security_group_name=f"t-{uuid.uuid4().hex[:8]}")))
    sg = b.get("SecurityGroupId", "")
    assert sg.startswith("sg-"), f"CreateSecurityGroup returned {b}"
    return sg


def first_zone(vpc: VpcClient, region: str) -> str:
    b = body(vpc.describe_zones(vpc_models.DescribeZonesRequest(region_id=region)))
    zones = [z["ZoneId"] for z in (b.get("Zones") or {}).get("Zone") or []]
    assert zones, f"DescribeZones({region}) returned no zone: {b}"
    return sorted(zones)[0]


@pytest.fixture(scope="session")
def network(server, vpc_v3, ecs_v3) -> SimpleNamespace:
    """A VPC + vSwitch + security group of the session, for fresh instances."""
    vpc_id = create_vpc(vpc_v3, cidr="192.168.0.0/16", name="sdk-suite")
    vsw_id = create_vswitch(vpc_v3, vpc_id, DEMO_ZONE, "192.168.0.0/18")
    sg_id = create_security_group(ecs_v3, vpc_id)
    return SimpleNamespace(vpc_id=vpc_id, vsw_id=vsw_id, sg_id=sg_id, region=REGION)


@pytest.fixture(scope="session")
def other_region(vpc_v3) -> str:
    """A region other than cn-hangzhou (cn-shanghai when offered)."""
    b = body(vpc_v3.describe_regions(vpc_models.DescribeRegionsRequest()))
    regions = [r["RegionId"] for r in (b.get("Regions") or {}).get("Region") or []]
    assert REGION in regions, f"{REGION} missing from DescribeRegions: {b}"
    others = [r for r in regions if r != REGION]
    assert others, f"only one region offered: {regions}"
    return "cn-shanghai" if "cn-shanghai" in others else sorted(others)[0]


class Resources:
    """Per-test resource tracker with best-effort cleanup.

    EIPs are unassociated then released; instances force-deleted; then
    vSwitches and VPCs. Cleanup problems are reported as warnings, never as
    test failures: the tests that check those actions assert on them.
    """

    def __init__(self, server: EipdServer):
        self.server = server
        self.vpc = server.vpc()
        self.ecs = server.ecs()
        self.eips: list[tuple[str, str]] = []  # (allocation_id, region)
        self.instances: list[tuple[str, str]] = []
        self.vswitches: list[tuple[str, str]] = []
        self.security_groups: list[tuple[str, str]] = []
        self.vpcs: list[tuple[str, str]] = []
        self.network: SimpleNamespace | None = None
        # association targets (tests/sdk/test_targets_*.py)
        self.enis: list[tuple[str, str]] = []
        self.nats: list[tuple[str, str]] = []
        self.havips: list[tuple[str, str]] = []
        self.clbs: list[tuple[str, str]] = []
        self.albs: list[str] = []
        self.nlbs: list[tuple[str, str]] = []

    # -- creation shortcuts ---------------------------------------------
    def eip(self, client: VpcClient | None = None, region: str = REGION, **kw) -> dict:
        b = allocate(client or self.vpc, region=region, **kw)
        assert EIP_ID_RE.match(b.get("AllocationId", "")), f"bad AllocationId in {b}"
        self.eips.append((b["AllocationId"], region))
        return b

    def track_eip(self, allocation_id: str, region: str = REGION) -> None:
        self.eips.append((allocation_id, region))

    def instance(self, wait: bool = True, vsw_id: str | None = None, sg_id: str | None = None,
                 region: str = REGION, **kw) -> str:
        """A fresh instance (RunInstances, Amount=1) in the session network."""
        net = self.network
        assert net is not None or (vsw_id and sg_id)
        iid = run_instances(self.ecs, vsw_id or net.vsw_id, sg_id or net.sg_id, region=region, **kw)[0]
        self.instances.append((iid, region))
        if wait:
            wait_instance(self.ecs, iid, "Running", region=region)
        return iid

    def track_instance(self, instance_id: str, region: str = REGION) -> None:
        self.instances.append((instance_id, region))

    def stack(self, region: str = REGION, zone: str | None = None) -> SimpleNamespace:
        """A fresh VPC + vSwitch + security group + Running instance."""
        zone = zone or (DEMO_ZONE if region == REGION else first_zone(self.vpc, region))
        vpc_id = create_vpc(self.vpc, region=region, cidr="10.0.0.0/16")
        self.vpcs.append((vpc_id, region))
        vsw_id = create_vswitch(self.vpc, vpc_id, zone, "10.0.1.0/24", region=region)
        self.vswitches.append((vsw_id, region))
        sg_id = create_security_group(self.ecs, vpc_id, region=region)
        self.security_groups.append((sg_id, region))
        iid = self.instance(vsw_id=vsw_id, sg_id=sg_id, region=region)
        return SimpleNamespace(vpc_id=vpc_id, vsw_id=vsw_id, sg_id=sg_id, instance_id=iid,
                               region=region, zone=zone)

    # -- association targets ------------------------------------------------
    def vpc_net(self, zones: tuple[str, ...] = (DEMO_ZONE,), cidr: str = "10.0.0.0/16",
                region: str = REGION, masks: tuple[int, ...] | None = None) -> SimpleNamespace:
        """A fresh VPC with one vSwitch per zone (10.0.N.0/24, or /masks[N]) and a
        security group."""
        vpc_id = create_vpc(self.vpc, region=region, cidr=cidr)
        self.vpcs.append((vpc_id, region))
        base = ipaddress.ip_network(cidr)
        vsws, cidrs = [], []
        for n, zone in enumerate(zones):
            mask = masks[n] if masks else 24
            sub = str(ipaddress.ip_network(f"{base.network_address + (n + 1) * 256}/{mask}"))
            vsw = create_vswitch(self.vpc, vpc_id, zone, sub, region=region)
            self.vswitches.append((vsw, region))
            vsws.append(vsw)
            cidrs.append(sub)
        sg_id = self.security_group(vpc_id, region=region)
        return SimpleNamespace(vpc_id=vpc_id, vsw_ids=vsws, vsw_id=vsws[0], cidrs=cidrs,
                               zones=list(zones), sg_id=sg_id, region=region)

    def security_group(self, vpc_id: str | None = None, region: str = REGION) -> str:
        sg = create_security_group(self.ecs, vpc_id or self.network.vpc_id, region=region)
        self.security_groups.append((sg, region))
        return sg

    def eni(self, vsw_id: str | None = None, sg_id: str | None = None, region: str = REGION,
            **kw) -> dict:
        """CreateNetworkInterface (Secondary) in the session network unless told."""
        b = create_eni(self.ecs, vsw_id or self.network.vsw_id, sg_id or self.network.sg_id,
                       region=region, **kw)
        self.enis.append((b["NetworkInterfaceId"], region))
        return b

    def nat(self, vpc_id: str | None = None, vsw_id: str | None = None, wait: bool = True,
            region: str = REGION, **kw) -> dict:
        b = create_nat(self.vpc, vpc_id or self.network.vpc_id, vsw_id or self.network.vsw_id,
                       region=region, **kw)
        self.nats.append((b["NatGatewayId"], region))
        if wait:
            wait_nat(self.vpc, b["NatGatewayId"], "Available", region=region)
        return b

    def havip(self, vsw_id: str | None = None, wait: bool = True, region: str = REGION,
              **kw) -> dict:
        b = create_havip(self.vpc, vsw_id or self.network.vsw_id, region=region, **kw)
        self.havips.append((b["HaVipId"], region))
        if wait:
            wait_havip(self.vpc, b["HaVipId"], "Available", region=region)
        return b

    def clb(self, region: str = REGION, **kw) -> dict:
        b = create_clb(self.server.slb(), region=region, **kw)
        self.clbs.append((b["LoadBalancerId"], region))
        return b

    def alb(self, vpc_id: str, address_type: str, zones: list[tuple[str, str, str | None]],
            wait: bool = True) -> str:
        lb = create_alb(self.server.alb(), vpc_id, address_type, zones)
        self.albs.append(lb)
        if wait:
            wait_alb(self.server.alb(), lb, "Active")
        return lb

    def nlb(self, vpc_id: str, address_type: str, zones: list[tuple[str, str, str | None]],
            wait: bool = True, region: str = REGION) -> str:
        lb = create_nlb(self.server.nlb(), vpc_id, address_type, zones, region=region)
        self.nlbs.append((lb, region))
        if wait:
            wait_nlb(self.server.nlb(), lb, "Active", region=region)
        return lb

    # -- cleanup -------------------------------------------------------------
    def cleanup(self) -> None:
        import warnings

        problems = []
        pending = []
        _cleanup_targets_before_eips(self, problems)
        for aid, region in self.eips:
            try:
                eip = get_eip(self.vpc, aid, region)
                if eip is None:
                    continue
                st = eip.get("Status")
                if st in ("Associating", "Unassociating"):
                    eip = _settle(self.vpc, aid, region)
                    st = eip.get("Status") if eip else None
                if st == "InUse":
                    unassociate(self.vpc, aid, eip.get("InstanceId") or None, region=region,
                                instance_type=eip.get("InstanceType") or "EcsInstance")
                    pending.append((aid, region))
                elif st == "Available":
                    if eip.get("ChargeType") != "PrePaid":
                        release(self.vpc, aid, region)
            except Exception as e:  # pragma: no cover - best effort
                problems.append(f"EIP {aid}: {e}")
        for aid, region in pending:
            try:
                eip = _settle(self.vpc, aid, region)
                if eip and eip.get("Status") == "Available" and eip.get("ChargeType") != "PrePaid":
                    release(self.vpc, aid, region)
            except Exception as e:  # pragma: no cover
                problems.append(f"EIP {aid}: {e}")
        _cleanup_targets_after_eips(self, problems)
        for iid, region in self.instances:
            try:
                _settle_instance(self.ecs, iid, region)
                delete_instance(self.ecs, iid, force=True)
            except Exception as e:
                if "NotFound" not in str(e):
                    problems.append(f"instance {iid}: {e}")
        if self.vswitches or self.vpcs or self.security_groups:
            for iid, region in self.instances:
                try:
                    wait_instance(self.ecs, iid, None, region=region, timeout=5)
                except BaseException:
                    pass
        for vsw, region in self.vswitches:
            try:
                self.vpc.delete_vswitch(vpc_models.DeleteVSwitchRequest(region_id=region, v_switch_id=vsw))
            except Exception as e:
                problems.append(f"vSwitch {vsw}: {e}")
        for sg_id, region in self.security_groups:
            try:
                self.ecs.delete_security_group(ecs_models.DeleteSecurityGroupRequest(
                    region_id=region, security_group_id=sg_id))
            except Exception as e:
                problems.append(f"security group {sg_id}: {e}")
        for vpc_id, region in self.vpcs:
            try:
                self.vpc.delete_vpc(vpc_models.DeleteVpcRequest(region_id=region, vpc_id=vpc_id, force_delete=True))
            except Exception as e:
                problems.append(f"VPC {vpc_id}: {e}")
        if problems:
            warnings.warn("cleanup problems: " + "; ".join(problems))


def _settle_instance(ecs: EcsClient, iid: str, region: str, timeout: float = WAIT_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inst = get_instance(ecs, iid, region)
        if inst is None or inst.get("Status") not in ("Pending", "Starting", "Stopping"):
            return
        time.sleep(0.05)


def _settle(vpc: VpcClient, aid: str, region: str, timeout: float = WAIT_TIMEOUT) -> dict | None:
    deadline = time.monotonic() + timeout
    while True:
        eip = get_eip(vpc, aid, region)
        if eip is None or eip.get("Status") not in TRANSITIONAL:
            return eip
        if time.monotonic() > deadline:
            return eip
        time.sleep(0.05)


@pytest.fixture
def res(server, network) -> Resources:
    """Resource tracker on the session server (cleanup at teardown)."""
    r = Resources(server)
    r.network = network
    yield r
    if server.alive():
        r.cleanup()


# --------------------------------------------------------------------------
# Small assertions
# --------------------------------------------------------------------------


def assert_pool_address(ip: str) -> None:
    addr = ipaddress.ip_address(ip)
    assert addr in ADDRESS_SPACE, f"{ip} is not in {ADDRESS_SPACE}"


ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$")


def in_threads(n: int, fn: Callable[[int], Any]) -> list[Any]:
    """Run fn(i) in n threads; return results (or the exceptions raised)."""
    results: list[Any] = [None] * n

    def run(i):
        try:
            results[i] = fn(i)
        except BaseException as e:  # noqa: BLE001 - reported to the caller
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


# --------------------------------------------------------------------------
# Association targets: ENIs, NAT gateways, HaVips, CLB/ALB/NLB, batch
# (docs/design/targets-contract.md; tests/sdk/test_targets_*.py)
# --------------------------------------------------------------------------

SECOND_ZONE = "cn-hangzhou-i"  # a second zone of REGION, for multi-zone set-ups
ENI_ID_RE = re.compile(r"^eni-[a-z0-9]+$")
NAT_ID_RE = re.compile(r"^ngw-[a-z0-9]+$")
HAVIP_ID_RE = re.compile(r"^havip-[a-z0-9]+$")


def raw_action(client, action: str, version: str, query: dict | None = None,
               rt: RuntimeOptions | None = None) -> dict:
    """Call *action* through the SDK's generic call_api (the same transport and
    signer as the typed calls) and return the raw JSON body, with the fields
    the SDK models would drop (e.g. openeip's GuestConfiguration)."""
    params = _OpenApiParams(action=action, version=version, protocol="HTTP", pathname="/",
                            method="POST", auth_type="AK", style="RPC",
                            req_body_type="formData", body_type="json")
    req = _OpenApiRequest(query=_OpenApiUtils.query(query or {}))
    resp = client.call_api(params, req, rt or RuntimeOptions())
    return resp["body"]


def ecs_version_raw(ecs: EcsClient, action: str, query: dict) -> dict:
    return raw_action(ecs, action, "2014-05-26", query)


# -- ENIs ------------------------------------------------------------------

def create_eni(ecs: EcsClient, vsw_id: str, sg_id: str | None, region: str = REGION,
               **kw) -> dict:
    req = ecs_models.CreateNetworkInterfaceRequest(
        region_id=region, v_switch_id=vsw_id, security_group_id=sg_id, **kw)
    b = body(ecs.create_network_interface(req))
    assert ENI_ID_RE.match(b.get("NetworkInterfaceId", "")), f"CreateNetworkInterface returned {b}"
    return b


def describe_enis(ecs: EcsClient, eni_ids: list[str] | None = None, region: str = REGION,
                  **kw) -> list[dict]:
    req = ecs_models.DescribeNetworkInterfacesRequest(
        region_id=region, network_interface_id=eni_ids, page_size=100, **kw)
    b = body(ecs.describe_network_interfaces(req))
    items = (b.get("NetworkInterfaceSets") or {}).get("NetworkInterfaceSet")
    assert isinstance(items, list), f"NetworkInterfaceSets.NetworkInterfaceSet is not a list: {b}"
    return items


def get_eni(ecs: EcsClient, eni_id: str, region: str = REGION) -> dict | None:
    items = [e for e in describe_enis(ecs, [eni_id], region) if e.get("NetworkInterfaceId") == eni_id]
    assert len(items) <= 1, items
    return items[0] if items else None


def raw_eni(ecs: EcsClient, eni_id: str, region: str = REGION) -> dict:
    """DescribeNetworkInterfaces item as raw JSON (GuestConfiguration included)."""
    b = ecs_version_raw(ecs, "DescribeNetworkInterfaces",
                        {"RegionId": region, "NetworkInterfaceId": [eni_id]})
    items = [e for e in (b.get("NetworkInterfaceSets") or {}).get("NetworkInterfaceSet") or []
             if e.get("NetworkInterfaceId") == eni_id]
    assert len(items) == 1, f"{eni_id} not in raw DescribeNetworkInterfaces: {b}"
    return items[0]


def raw_instance(ecs: EcsClient, instance_id: str, region: str = REGION) -> dict:
    """DescribeInstances item as raw JSON (ENI AssociatedPublicIp included)."""
    b = ecs_version_raw(ecs, "DescribeInstances",
                        {"RegionId": region, "InstanceIds": json.dumps([instance_id])})
    items = [i for i in (b.get("Instances") or {}).get("Instance") or []
             if i.get("InstanceId") == instance_id]
    assert len(items) == 1, f"{instance_id} not in raw DescribeInstances: {b}"
    return items[0]


def wait_eni(ecs: EcsClient, eni_id: str, status: str | None, timeout: float = WAIT_TIMEOUT,
             region: str = REGION) -> dict | None:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        eni = get_eni(ecs, eni_id, region)
        cur = eni.get("Status") if eni else None
        if not seen or seen[-1] != cur:
            seen.append(cur)
        if cur == status:
            return eni
        if time.monotonic() > deadline:
            pytest.fail(f"{eni_id}: status {status!r} not reached within {timeout}s; seen {seen}")
        time.sleep(0.05)


def attach_eni(ecs: EcsClient, eni_id: str, instance_id: str, region: str = REGION) -> dict:
    return body(ecs.attach_network_interface(ecs_models.AttachNetworkInterfaceRequest(
        region_id=region, network_interface_id=eni_id, instance_id=instance_id)))


def detach_eni(ecs: EcsClient, eni_id: str, instance_id: str, region: str = REGION) -> dict:
    return body(ecs.detach_network_interface(ecs_models.DetachNetworkInterfaceRequest(
        region_id=region, network_interface_id=eni_id, instance_id=instance_id)))


def delete_eni(ecs: EcsClient, eni_id: str, region: str = REGION) -> dict:
    return body(ecs.delete_network_interface(ecs_models.DeleteNetworkInterfaceRequest(
        region_id=region, network_interface_id=eni_id)))


def eni_ip_sets(eni: dict) -> list[dict]:
    return (eni.get("PrivateIpSets") or {}).get("PrivateIpSet") or []


def eni_private_ips(eni: dict) -> list[str]:
    """The ENI's private IPs, primary first."""
    sets = eni_ip_sets(eni)
    prim = [s["PrivateIpAddress"] for s in sets if s.get("Primary")]
    rest = [s["PrivateIpAddress"] for s in sets if not s.get("Primary")]
    if not prim and eni.get("PrivateIpAddress"):
        prim = [eni["PrivateIpAddress"]]
        rest = [ip for ip in rest if ip != prim[0]]
    return prim + rest


def eni_public_ip_map(eni: dict) -> dict[str, str]:
    """private IP -> AllocationId of its NAT-mode EIP (PrivateIpSets…AssociatedPublicIp)."""
    out = {}
    for s in eni_ip_sets(eni):
        ap = s.get("AssociatedPublicIp") or {}
        if ap.get("AllocationId") or ap.get("PublicIpAddress"):
            out[s["PrivateIpAddress"]] = ap.get("AllocationId")
    return out


def instance_primary_eni(ecs: EcsClient, instance_id: str, region: str = REGION) -> dict:
    items = [e for e in describe_enis(ecs, None, region, instance_id=instance_id)
             if e.get("Type") == "Primary"]
    assert len(items) == 1, f"{instance_id}: expected one primary ENI, got {items}"
    return items[0]


def instance_type_info(ecs: EcsClient, instance_type: str = INSTANCE_TYPE) -> dict:
    b = body(ecs.describe_instance_types(ecs_models.DescribeInstanceTypesRequest(
        instance_types=[instance_type])))
    items = [t for t in (b.get("InstanceTypes") or {}).get("InstanceType") or []
             if t.get("InstanceTypeId") == instance_type]
    assert len(items) == 1, f"DescribeInstanceTypes({instance_type}) returned {b}"
    return items[0]


def guest_configuration(raw: dict) -> dict:
    gc = raw.get("GuestConfiguration")
    assert isinstance(gc, dict), f"no GuestConfiguration object in the raw ENI item: {raw}"
    for k in ("Addresses", "Routes", "Notices"):
        assert isinstance(gc.get(k), list), f"GuestConfiguration.{k} is not a list: {gc}"
    return gc


def guest_route_sources(gc: dict) -> set[str]:
    """Source addresses of the source policy routes (`from X` / Source)."""
    out = set()
    for r in gc["Routes"]:
        if isinstance(r, dict) and r.get("Source"):
            out.add(str(r["Source"]).split("/")[0])
        out |= {m.split("/")[0] for m in re.findall(r"\bfrom\s+([0-9.]+(?:/\d+)?)", json.dumps(r))}
    return out


def guest_addresses(gc: dict) -> set[str]:
    """The addresses the NIC carries, without prefix lengths."""
    return {m.split("/")[0] for m in re.findall(r"\b\d+\.\d+\.\d+\.\d+(?:/\d+)?", json.dumps(gc["Addresses"]))}


# -- NAT gateways ----------------------------------------------------------

def create_nat(vpc: VpcClient, vpc_id: str, vsw_id: str, region: str = REGION, **kw) -> dict:
    kw.setdefault("nat_type", "Enhanced")
    kw.setdefault("network_type", "internet")
    req = vpc_models.CreateNatGatewayRequest(region_id=region, vpc_id=vpc_id, v_switch_id=vsw_id,
                                             **kw)
    b = body(vpc.create_nat_gateway(req))
    assert NAT_ID_RE.match(b.get("NatGatewayId", "")), f"CreateNatGateway returned {b}"
    return b


def get_nat(vpc: VpcClient, ngw_id: str, region: str = REGION) -> dict | None:
    b = body(vpc.describe_nat_gateways(vpc_models.DescribeNatGatewaysRequest(
        region_id=region, nat_gateway_id=ngw_id)))
    items = [n for n in (b.get("NatGateways") or {}).get("NatGateway") or []
             if n.get("NatGatewayId") == ngw_id]
    return items[0] if items else None


def wait_nat(vpc: VpcClient, ngw_id: str, status: str | None, timeout: float = WAIT_TIMEOUT,
             region: str = REGION) -> dict | None:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        n = get_nat(vpc, ngw_id, region)
        cur = n.get("Status") if n else None
        if not seen or seen[-1] != cur:
            seen.append(cur)
        if cur == status:
            return n
        if time.monotonic() > deadline:
            pytest.fail(f"{ngw_id}: status {status!r} not reached within {timeout}s; seen {seen}")
        time.sleep(0.05)


def nat_ip_list(nat: dict) -> list[dict]:
    return (nat.get("IpLists") or {}).get("IpList") or []


def nat_snat_table(b: dict) -> str:
    ids = (b.get("SnatTableIds") or {}).get("SnatTableId") or []
    assert len(ids) == 1 and ids[0].startswith("stb-"), b
    return ids[0]


def nat_forward_table(b: dict) -> str:
    ids = (b.get("ForwardTableIds") or {}).get("ForwardTableId") or []
    assert len(ids) == 1 and ids[0].startswith("ftb-"), b
    return ids[0]


def create_snat(vpc: VpcClient, stb: str, snat_ip: str, **kw) -> dict:
    return body(vpc.create_snat_entry(vpc_models.CreateSnatEntryRequest(
        region_id=REGION, snat_table_id=stb, snat_ip=snat_ip, **kw)))


def snat_entries(vpc: VpcClient, stb: str) -> list[dict]:
    b = body(vpc.describe_snat_table_entries(vpc_models.DescribeSnatTableEntriesRequest(
        region_id=REGION, snat_table_id=stb, page_size=50)))
    return (b.get("SnatTableEntries") or {}).get("SnatTableEntry") or []


def create_dnat(vpc: VpcClient, ftb: str, ext_ip: str, ext_port, int_ip: str, int_port, proto: str = "TCP") -> dict:
    return body(vpc.create_forward_entry(vpc_models.CreateForwardEntryRequest(
        region_id=REGION, forward_table_id=ftb, external_ip=ext_ip, external_port=str(ext_port),
        internal_ip=int_ip, internal_port=str(int_port), ip_protocol=proto)))


def dnat_entries(vpc: VpcClient, ftb: str) -> list[dict]:
    b = body(vpc.describe_forward_table_entries(vpc_models.DescribeForwardTableEntriesRequest(
        region_id=REGION, forward_table_id=ftb, page_size=50)))
    return (b.get("ForwardTableEntries") or {}).get("ForwardTableEntry") or []


def delete_nat(vpc: VpcClient, ngw_id: str, force: bool | None = None, region: str = REGION) -> dict:
    return body(vpc.delete_nat_gateway(vpc_models.DeleteNatGatewayRequest(
        region_id=region, nat_gateway_id=ngw_id, force=force)))


def vswitch_available_ips(vpc: VpcClient, vsw_id: str, region: str = REGION) -> int:
    d = body(vpc.describe_vswitches(vpc_models.DescribeVSwitchesRequest(region_id=region,
                                                                        v_switch_id=vsw_id)))
    [vs] = (d.get("VSwitches") or {}).get("VSwitch") or [None]
    assert vs is not None, d
    return int(vs["AvailableIpAddressCount"])


# -- batch -----------------------------------------------------------------

def associate_batch(vpc: VpcClient, binded_id: str, binded_type: str, allocation_ids: list[str],
                    mode: str | None = None, region: str = REGION, **kw) -> dict:
    req = vpc_models.AssociateEipAddressBatchRequest(
        region_id=region, binded_instance_id=binded_id, binded_instance_type=binded_type,
        instance_ids=allocation_ids, mode=mode, **kw)
    return body(vpc.associate_eip_address_batch(req))


def wait_all(vpc: VpcClient, allocation_ids: list[str], status: str | None,
             region: str = REGION) -> list[dict]:
    return [wait_status(vpc, a, status, region=region) for a in allocation_ids]


# -- HaVips ----------------------------------------------------------------

def create_havip(vpc: VpcClient, vsw_id: str, region: str = REGION, **kw) -> dict:
    b = body(vpc.create_ha_vip(vpc_models.CreateHaVipRequest(region_id=region, v_switch_id=vsw_id,
                                                            **kw)))
    assert HAVIP_ID_RE.match(b.get("HaVipId", "")), f"CreateHaVip returned {b}"
    return b


def get_havip(vpc: VpcClient, havip_id: str, region: str = REGION) -> dict | None:
    f = [vpc_models.DescribeHaVipsRequestFilter(key="HaVipId", value=[havip_id])]
    b = body(vpc.describe_ha_vips(vpc_models.DescribeHaVipsRequest(region_id=region, filter=f)))
    items = [h for h in (b.get("HaVips") or {}).get("HaVip") or [] if h.get("HaVipId") == havip_id]
    return items[0] if items else None


def wait_havip(vpc: VpcClient, havip_id: str, status: str | None, timeout: float = WAIT_TIMEOUT,
               region: str = REGION) -> dict | None:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        h = get_havip(vpc, havip_id, region)
        cur = h.get("Status") if h else None
        if not seen or seen[-1] != cur:
            seen.append(cur)
        if cur == status:
            return h
        if time.monotonic() > deadline:
            pytest.fail(f"{havip_id}: status {status!r} not reached within {timeout}s; seen {seen}")
        time.sleep(0.05)


def associate_havip(vpc: VpcClient, havip_id: str, instance_id: str,
                    instance_type: str | None = None, region: str = REGION) -> dict:
    return body(vpc.associate_ha_vip(vpc_models.AssociateHaVipRequest(
        region_id=region, ha_vip_id=havip_id, instance_id=instance_id, instance_type=instance_type)))


def unassociate_havip(vpc: VpcClient, havip_id: str, instance_id: str,
                      instance_type: str | None = None, region: str = REGION) -> dict:
    return body(vpc.unassociate_ha_vip(vpc_models.UnassociateHaVipRequest(
        region_id=region, ha_vip_id=havip_id, instance_id=instance_id, instance_type=instance_type)))


def havip_instances(h: dict) -> list[str]:
    return list((h.get("AssociatedInstances") or {}).get("associatedInstance") or [])


def havip_eips(h: dict) -> list[str]:
    return list((h.get("AssociatedEipAddresses") or {}).get("associatedEipAddresse") or [])


# -- load balancers --------------------------------------------------------

def create_clb(slb: SlbClient, region: str = REGION, **kw) -> dict:
    kw.setdefault("load_balancer_spec", "slb.s1.small")
    b = body(slb.create_load_balancer(slb_models.CreateLoadBalancerRequest(region_id=region, **kw)))
    assert str(b.get("LoadBalancerId", "")).startswith("lb-"), f"CreateLoadBalancer (SLB) returned {b}"
    return b


def get_clb(slb: SlbClient, lb_id: str, region: str = REGION) -> dict | None:
    b = body(slb.describe_load_balancers(slb_models.DescribeLoadBalancersRequest(
        region_id=region, load_balancer_id=lb_id)))
    items = [x for x in (b.get("LoadBalancers") or {}).get("LoadBalancer") or []
             if x.get("LoadBalancerId") == lb_id]
    return items[0] if items else None


def delete_clb(slb: SlbClient, lb_id: str, region: str = REGION) -> dict:
    return body(slb.delete_load_balancer(slb_models.DeleteLoadBalancerRequest(
        region_id=region, load_balancer_id=lb_id)))


def create_alb(alb: AlbClient, vpc_id: str, address_type: str,
               zones: list[tuple[str, str, str | None]], **kw) -> str:
    """zones: (ZoneId, VSwitchId, AllocationId or None)."""
    zm = [alb_models.CreateLoadBalancerRequestZoneMappings(zone_id=z, v_switch_id=v, allocation_id=a)
          for z, v, a in zones]
    req = alb_models.CreateLoadBalancerRequest(
        vpc_id=vpc_id, address_type=address_type, zone_mappings=zm,
        load_balancer_edition=kw.pop("load_balancer_edition", "Standard"),
        load_balancer_billing_config=alb_models.CreateLoadBalancerRequestLoadBalancerBillingConfig(
            pay_type="PostPay"),
        load_balancer_name=kw.pop("load_balancer_name", f"t-{uuid.uuid4().hex[:8]}"), **kw)
    b = body(alb.create_load_balancer(req))
    assert str(b.get("LoadBalancerId", "")).startswith("alb-"), f"ALB CreateLoadBalancer returned {b}"
    return b["LoadBalancerId"]


def get_alb(alb: AlbClient, lb_id: str) -> dict:
    return body(alb.get_load_balancer_attribute(
        alb_models.GetLoadBalancerAttributeRequest(load_balancer_id=lb_id)))


def update_alb_address_type(alb: AlbClient, lb_id: str, address_type: str,
                            zones: list[tuple[str, str, str]] | None = None) -> dict:
    """UpdateLoadBalancerAddressTypeConfig; zones: (ZoneId, VSwitchId, AllocationId)."""
    zm = None if zones is None else [
        alb_models.UpdateLoadBalancerAddressTypeConfigRequestZoneMappings(zone_id=z, v_switch_id=v, allocation_id=a)
        for z, v, a in zones]
    return body(alb.update_load_balancer_address_type_config(alb_models.UpdateLoadBalancerAddressTypeConfigRequest(
        load_balancer_id=lb_id, address_type=address_type, zone_mappings=zm)))


def wait_alb(alb: AlbClient, lb_id: str, status: str, timeout: float = WAIT_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        a = get_alb(alb, lb_id)
        cur = a.get("LoadBalancerStatus")
        if not seen or seen[-1] != cur:
            seen.append(cur)
        if cur == status:
            return a
        if time.monotonic() > deadline:
            pytest.fail(f"{lb_id}: status {status!r} not reached within {timeout}s; seen {seen}")
        time.sleep(0.05)


def create_nlb(nlb: NlbClient, vpc_id: str, address_type: str,
               zones: list[tuple[str, str, str | None]], region: str = REGION, **kw) -> str:
    zm = [nlb_models.CreateLoadBalancerRequestZoneMappings(zone_id=z, v_switch_id=v, allocation_id=a)
          for z, v, a in zones]
    req = nlb_models.CreateLoadBalancerRequest(
        region_id=region, vpc_id=vpc_id, address_type=address_type, zone_mappings=zm,
        load_balancer_type="network",
        load_balancer_billing_config=nlb_models.CreateLoadBalancerRequestLoadBalancerBillingConfig(
            pay_type="PostPay"),
        load_balancer_name=kw.pop("load_balancer_name", f"t-{uuid.uuid4().hex[:8]}"), **kw)
    b = body(nlb.create_load_balancer(req))
    # NLB's create response spells it LoadbalancerId (sic).
    assert str(b.get("LoadbalancerId", "")).startswith("nlb-"), f"NLB CreateLoadBalancer returned {b}"
    return b["LoadbalancerId"]


def get_nlb(nlb: NlbClient, lb_id: str, region: str = REGION) -> dict:
    return body(nlb.get_load_balancer_attribute(
        nlb_models.GetLoadBalancerAttributeRequest(load_balancer_id=lb_id, region_id=region)))


def update_nlb_address_type(nlb: NlbClient, lb_id: str, address_type: str,
                            zones: list[tuple[str, str, str]] | None = None, region: str = REGION) -> dict:
    """UpdateLoadBalancerAddressTypeConfig; zones: (ZoneId, VSwitchId, AllocationId)."""
    zm = None if zones is None else [
        nlb_models.UpdateLoadBalancerAddressTypeConfigRequestZoneMappings(zone_id=z, v_switch_id=v, allocation_id=a)
        for z, v, a in zones]
    return body(nlb.update_load_balancer_address_type_config(nlb_models.UpdateLoadBalancerAddressTypeConfigRequest(
        load_balancer_id=lb_id, address_type=address_type, zone_mappings=zm, region_id=region)))


def wait_nlb(nlb: NlbClient, lb_id: str, status: str, timeout: float = WAIT_TIMEOUT,
             region: str = REGION) -> dict:
    deadline = time.monotonic() + timeout
    seen = []
    while True:
        a = get_nlb(nlb, lb_id, region)
        cur = a.get("LoadBalancerStatus")
        if not seen or seen[-1] != cur:
            seen.append(cur)
        if cur == status:
            return a
        if time.monotonic() > deadline:
            pytest.fail(f"{lb_id}: status {status!r} not reached within {timeout}s; seen {seen}")
        time.sleep(0.05)


def lb_zone_allocations(attr: dict) -> dict[str, list[str]]:
    """ZoneId -> AllocationIds of GetLoadBalancerAttribute's ZoneMappings (ALB and NLB)."""
    out: dict[str, list[str]] = {}
    for zm in attr.get("ZoneMappings") or []:
        out[zm.get("ZoneId")] = [a.get("AllocationId") for a in zm.get("LoadBalancerAddresses") or []
                                 if a.get("AllocationId")]
    return out


# -- cleanup of the targets (called by Resources.cleanup) -------------------

def _ignore_gone(problems: list[str], what: str, fn: Callable, *a, **kw) -> None:
    try:
        fn(*a, **kw)
    except Exception as e:  # pragma: no cover - best effort
        if "NotFound" not in str(e) and "not found" not in str(e).lower():
            problems.append(f"{what}: {e}")


def _cleanup_targets_before_eips(r: "Resources", problems: list[str]) -> None:
    """Load balancers and NAT gateways go first (they unbind their EIPs), then
    secondary ENIs are detached so visible-mode EIPs can be unassociated."""
    for lb in r.albs:
        _ignore_gone(problems, f"ALB {lb}", r.server.alb().delete_load_balancer,
                     alb_models.DeleteLoadBalancerRequest(load_balancer_id=lb))
    for lb, region in r.nlbs:
        _ignore_gone(problems, f"NLB {lb}", r.server.nlb().delete_load_balancer,
                     nlb_models.DeleteLoadBalancerRequest(load_balancer_id=lb, region_id=region))
    for lb, region in r.clbs:
        _ignore_gone(problems, f"CLB {lb}", delete_clb, r.server.slb(), lb, region)
    deleting = []
    for ngw, region in r.nats:
        try:
            n = get_nat(r.vpc, ngw, region)
            deadline = time.monotonic() + WAIT_TIMEOUT
            while n is not None and n.get("Status") == "Creating" and time.monotonic() < deadline:
                time.sleep(0.05)
                n = get_nat(r.vpc, ngw, region)
            if n is None:
                continue
            delete_nat(r.vpc, ngw, True, region)
            deleting.append((ngw, region))
        except Exception as e:  # pragma: no cover
            if "NotFound" not in str(e):
                problems.append(f"NAT {ngw}: {e}")
    detaching = []
    for eni_id, region in r.enis:
        try:
            eni = get_eni(r.ecs, eni_id, region)
            if eni is None:
                continue
            if eni.get("Status") in ("Attaching", "Detaching"):
                deadline = time.monotonic() + WAIT_TIMEOUT
                while eni and eni.get("Status") in ("Attaching", "Detaching") and time.monotonic() < deadline:
                    time.sleep(0.05)
                    eni = get_eni(r.ecs, eni_id, region)
            if eni and eni.get("Status") == "InUse" and eni.get("InstanceId"):
                detach_eni(r.ecs, eni_id, eni["InstanceId"], region)
                detaching.append((eni_id, region))
        except Exception as e:  # pragma: no cover
            problems.append(f"ENI {eni_id}: {e}")
    for eni_id, region in detaching:
        deadline = time.monotonic() + WAIT_TIMEOUT
        while time.monotonic() < deadline:
            eni = get_eni(r.ecs, eni_id, region)
            if eni is None or eni.get("Status") == "Available":
                break
            time.sleep(0.05)
    for ngw, region in deleting:
        deadline = time.monotonic() + WAIT_TIMEOUT
        while time.monotonic() < deadline:
            try:
                if get_nat(r.vpc, ngw, region) is None:
                    break
            except Exception:
                break
            time.sleep(0.05)


def _cleanup_targets_after_eips(r: "Resources", problems: list[str]) -> None:
    """HaVips (after their EIP is gone) and secondary ENIs."""
    for hid, region in r.havips:
        try:
            h = get_havip(r.vpc, hid, region)
            if h is None:
                continue
            kind = h.get("AssociatedInstanceType") or None
            for iid in havip_instances(h):
                _ignore_gone(problems, f"HaVip {hid}/{iid}", unassociate_havip, r.vpc, hid, iid,
                             kind if kind else ("NetworkInterface" if iid.startswith("eni-") else None),
                             region)
            deadline = time.monotonic() + WAIT_TIMEOUT
            while time.monotonic() < deadline:
                h = get_havip(r.vpc, hid, region)
                if h is None or (not havip_instances(h) and h.get("Status") == "Available"):
                    break
                time.sleep(0.05)
            _ignore_gone(problems, f"HaVip {hid}", r.vpc.delete_ha_vip,
                         vpc_models.DeleteHaVipRequest(region_id=region, ha_vip_id=hid))
        except Exception as e:  # pragma: no cover
            problems.append(f"HaVip {hid}: {e}")
    for eni_id, region in r.enis:
        try:
            eni = get_eni(r.ecs, eni_id, region)
            if eni is not None:
                delete_eni(r.ecs, eni_id, region)
        except Exception as e:  # pragma: no cover
            if "NotFound" not in str(e):
                problems.append(f"ENI {eni_id}: {e}")


# --------------------------------------------------------------------------
# Raw V1 requests (what tools send that the typed SDK calls would not:
# parameters split between query and body, hostile values)
# --------------------------------------------------------------------------

def _pct(s: str) -> str:
    return urllib.parse.quote(s, safe="-_.~")


def v1_pairs(params: list[tuple[str, str]] | dict, ak: str = AK_ID, secret: str = AK_SECRET,
             method: str = "POST", nonce: str | None = None,
             version: str = "2016-04-28") -> list[tuple[str, str]]:
    """Signs `params` the way the legacy SDK does (HMAC-SHA1 over the sorted,
    percent-encoded pairs) and returns every pair, Signature last."""
    pairs = list(params.items()) if isinstance(params, dict) else list(params)
    common = {
        "Format": "JSON", "Version": version, "AccessKeyId": ak, "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0", "SignatureNonce": nonce or uuid.uuid4().hex, "Timestamp": acs_time(),
    }
    names = {k for k, _ in pairs}
    pairs += [(k, v) for k, v in common.items() if k not in names]
    canonical = "&".join(f"{_pct(k)}={_pct(v)}" for k, v in sorted(pairs))
    sts = f"{method}&%2F&{_pct(canonical)}"
    sig = base64.b64encode(hmac.new((secret + "&").encode(), sts.encode(), hashlib.sha1).digest()).decode()
    return pairs + [("Signature", sig)]


def encode_pairs(pairs) -> str:
    return "&".join(f"{_pct(k)}={_pct(v)}" for k, v in pairs)


class Raw:
    """One keep-alive HTTP/1.1 connection to eipd, for requests the SDKs would never send."""

    def __init__(self, server, timeout: float = 30):
        import http.client
        host, port = server.endpoint.split(":")
        self.c = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def send(self, method: str = "POST", query: str = "", body: bytes = b"",
             headers: dict | None = None) -> tuple[int, str, bytes]:
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        self.c.request(method, "/?" + query if query else "/", body=body, headers=h)
        r = self.c.getresponse()
        return r.status, r.getheader("Content-Type") or "", r.read()

    def close(self):
        self.c.close()


def raw_once(server, *args, **kw):
    r = Raw(server)
    try:
        return r.send(*args, **kw)
    finally:
        r.close()
