"""The official Node.js SDKs (@alicloud/vpc20160428, @alicloud/ecs20140526 on
@alicloud/openapi-core) work against eipd unmodified, with V3 signing and with
the V1 signer (signatureAlgorithm 'v2'): GEN-04's lifecycle end to end, tags with
characters Node leaves unescaped (`*`), and the not-found error's code and status.
scripts/test.sh installs the packages into tests/node/node_modules."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


def test_gen_04_lifecycle_with_the_node_sdks(eipd_factory):
    if shutil.which("node") is None:
        pytest.fail("node is not installed (the machine contract includes Node 20)")
    if not (NODE_DIR / "node_modules" / "@alicloud" / "vpc20160428").is_dir():
        pytest.fail("tests/node/node_modules is missing: run `npm install` in tests/node (scripts/test.sh does)")
    srv = eipd_factory(demo=True)
    env = dict(os.environ, EP=srv.endpoint)
    r = subprocess.run(["node", "smoke.js"], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert any(l.startswith("v3 eip-") and l.endswith("InUse") for l in lines), r.stdout
    assert any(l.startswith("v2 eip-") and l.endswith("InUse") for l in lines), r.stdout
    assert "v3 error InvalidAllocationId.NotFound 404" in lines and "v2 error InvalidAllocationId.NotFound 404" in lines


def test_pop_core_scripts_work_unmodified(eipd_factory):
    """@alicloud/pop-core (the generic RPC client Node scripts use, issue 10):
    the EIP lifecycle by action name, GET and form POST, and its error."""
    if not (NODE_DIR / "node_modules" / "@alicloud" / "pop-core").is_dir():
        pytest.fail("tests/node/node_modules lacks @alicloud/pop-core: run `npm ci` in tests/node")
    srv = eipd_factory(demo=True)
    env = dict(os.environ, EP=srv.endpoint)
    r = subprocess.run(["node", "popcore.js"], cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    import json
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["allocated"].startswith("eip-") and got["status"] == "InUse", got
    assert got["instance"] == got["allocated"], got
    assert got["error"] == "InvalidAllocationId.NotFound", got
