"""Two eipd nodes on one PostgreSQL store, under load, through the official SDK.

* One node killed with SIGKILL while both take writes: every write either node
  acknowledged is there afterwards, the other node served throughout without
  an error, and an association the dead node had in flight (its task pending)
  is completed by the survivor's task runner.
* The PostgreSQL server stopped for two seconds and started again while both
  nodes take writes: requests meanwhile get Alibaba's `ServiceUnavailable`
  (HTTP 503, which the SDKs and Terraform retry) and nothing else, `/healthz`
  answers 503 while the store is unreachable, both nodes reconnect by
  themselves, and every acknowledged write is there afterwards.
* A console session started on one node is known to the other (a balancer
  without affinity may send a browser to either), keeps its region there,
  and signing out on one node ends it on both.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from alibabacloud_tea_util import models as util_models
from Tea.exceptions import TeaException

from playwright.sync_api import expect

from conftest import allocate, associate, console_sign_in, eipd_bin, get_eip, shared_database_url, wait_status
from test_dataplane import demo_1

ROOT = Path(__file__).resolve().parents[2]


class Load:
    """Threads allocating EIPs on given nodes until stopped; what each got."""

    def __init__(self, nodes, per_node: int = 2):
        self.stop = threading.Event()
        self.acked: list[str] = []
        self.errors: dict[str, list[str]] = {}
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True)
                        for n in nodes for _ in range(per_node)]

    def _run(self, node):
        vpc = node.vpc()
        rt = util_models.RuntimeOptions(autoretry=False, read_timeout=15000, connect_timeout=2000)
        while not self.stop.is_set():
            try:
                eip = allocate(vpc, rt=rt)
                with self.lock:
                    self.acked.append(eip["AllocationId"])
            except TeaException as e:
                # The SDK wraps a refused or reset connection too, without a code.
                kind = (f"connection: {e.message}"[:60] if e.code is None
                        else f"{e.code} ({getattr(e, 'statusCode', '?')})")
                with self.lock:
                    self.errors.setdefault(node.name, []).append(kind)
                time.sleep(0.05)
            except Exception as e:  # a refused or reset connection: nothing acknowledged
                with self.lock:
                    self.errors.setdefault(node.name, []).append(f"connection: {type(e).__name__}")
                time.sleep(0.05)

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)


def all_present(node, ids: list[str]) -> None:
    vpc = node.vpc()
    missing = [i for i in ids if get_eip(vpc, i) is None]
    assert not missing, f"{len(missing)} of {len(ids)} acknowledged EIPs lost: {missing[:5]}"


def two_nodes(eipd_factory, task_delay_ms: int | None = None):
    url = shared_database_url()
    a = eipd_factory(env={"EIPD_DATABASE_URL": url}, task_delay_ms=task_delay_ms)
    # The second node is given the first one's secrets key, as docs/deployment.md says.
    key = str(a.data_dir / "secrets.key")
    b = eipd_factory(env={"EIPD_DATABASE_URL": url, "EIPD_SECRETS_KEY_FILE": key}, demo=False)
    return a, b


def test_a_node_killed_under_load_loses_nothing_and_its_pending_task_completes_elsewhere(eipd_factory):
    a, b = two_nodes(eipd_factory, task_delay_ms=2500)
    iid = demo_1(a)
    vpc_b = b.vpc()
    pending = allocate(vpc_b)["AllocationId"]
    with Load([a, b]) as load:
        time.sleep(1.5)
        associate(a.vpc(), pending, iid)
        a.kill9()
        after_kill = len(load.acked)
        # The dead node's Associating task is due later, on the shared store.
        assert get_eip(vpc_b, pending)["Status"] == "Associating"
        time.sleep(1.5)
    assert len(load.acked) > after_kill, "the surviving node stopped serving"
    assert b.name not in load.errors, f"the surviving node failed requests: {load.errors[b.name][:5]}"
    assert all(e.startswith("connection:") for e in load.errors.get(a.name, [])), load.errors
    all_present(b, load.acked)
    # The survivor's task runner completes it.
    wait_status(vpc_b, pending, "InUse", timeout=15)


def health(node) -> int:
    try:
        with urllib.request.urlopen(f"{node.base_url}/healthz", timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_postgresql_down_under_load_gives_503s_then_both_nodes_recover_with_nothing_lost(eipd_factory):
    pg_dir = os.environ.get("EIPD_TEST_PG_DIR")
    if not pg_dir:
        if os.environ.get("EIPD_REQUIRE_POSTGRES") == "1":
            pytest.fail("EIPD_REQUIRE_POSTGRES=1 but EIPD_TEST_PG_DIR is not set", pytrace=False)
        pytest.skip("no EIPD_TEST_PG_DIR: the test server cannot be restarted")
    a, b = two_nodes(eipd_factory)
    statuses: list[int] = []
    with Load([a, b]) as load:
        time.sleep(1.0)
        before = len(load.acked)
        restart = subprocess.Popen(["bash", str(ROOT / "scripts/pg-cluster.sh"), "restart", pg_dir, "2"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        while restart.poll() is None:
            statuses.append(health(a))
            time.sleep(0.1)
        assert restart.returncode == 0, restart.stderr.read()
        # Both nodes serve again by themselves.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (health(a) == 200 and health(b) == 200):
            time.sleep(0.2)
        assert health(a) == 200 and health(b) == 200
        recovered = len(load.acked)
        time.sleep(1.0)
        assert len(load.acked) > recovered, "writes did not resume after the restart"
    assert len(load.acked) > before
    kinds = {k for errs in load.errors.values() for k in errs}
    assert kinds <= {"ServiceUnavailable (503)"}, f"errors other than a clean 503: {kinds}"
    assert 503 in statuses, f"/healthz never said the store was unreachable: {statuses}"
    assert set(statuses) <= {200, 503}, statuses
    all_present(a, load.acked)


def test_a_console_session_is_known_to_every_node_and_a_sign_out_on_one_ends_it_on_both(eipd_factory, page):
    a, b = two_nodes(eipd_factory)
    console_sign_in(page, a)
    page.wait_for_url(f"{a.base_url}/console/eips")
    # Cookies are not kept per port: the same browser reaching the other node
    # (as behind a balancer) carries the session cookie there.
    page.goto(f"{b.base_url}/console/eips")
    assert page.url == f"{b.base_url}/console/eips", "the other node sent the browser to sign in"
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    with page.expect_navigation():
        page.get_by_label("Region").select_option("cn-shanghai")
    assert "cn-shanghai" in page.get_by_label("Region").input_value()
    page.goto(f"{a.base_url}/console/eips")
    assert "cn-shanghai" in page.get_by_label("Region").input_value(), "the region chosen on the other node"
    page.goto(f"{b.base_url}/console/eips")
    kept = [c for c in page.context.cookies() if c["name"] == "eipd_session"]
    assert kept, "no session cookie"
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{b.base_url}/console/signin")
    # Signed out on B: a copy of the cookie, put back, no longer works on A.
    page.context.add_cookies(kept)
    page.goto(f"{a.base_url}/console/eips")
    page.wait_for_url(f"{a.base_url}/console/signin")


def test_a_node_with_another_secrets_key_refuses_to_start_and_names_the_fix(eipd_factory, tmp_path):
    """AccessKey secrets are sealed in the store with the first node's key; a
    node with a key of its own could verify no signature, so it does not start."""
    url = shared_database_url()
    a = eipd_factory(env={"EIPD_DATABASE_URL": url})
    vpc = a.vpc()
    allocate(vpc)
    out = subprocess.run([str(eipd_bin()), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "other")],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "EIPD_DATABASE_URL": url})
    assert out.returncode != 0, out
    assert "--secrets-key-file" in out.stderr and "not the one the store's secrets are sealed with" in out.stderr, out
    # The store's secrets are not readable in it.
    schema = url.split("search_path%3D")[1]
    rows = subprocess.run(["psql", url.split("?")[0], "-Atc", f"SELECT secret FROM {schema}.access_key"],
                          capture_output=True, text=True, timeout=30, check=True).stdout.split()
    assert rows and all(r.startswith("sealed1:") for r in rows), rows
    assert "testsecret" not in " ".join(rows)
