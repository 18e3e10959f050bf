"""The runnable examples in docs/ stay true: docs/examples/targets.py drives
every association target (ECS-01, ENI-03, VIS-01, ENI-07, NAT-04, HA-03,
LB-02, LB-03) through the official SDKs against a fresh demo server."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import AK_ID, AK_SECRET

REPO = Path(__file__).resolve().parents[2]


def test_docs_targets_example_runs(eipd_factory):
    srv = eipd_factory(demo=True)
    env = dict(os.environ)
    env.update({
        "EIPD_ENDPOINT": srv.endpoint,
        "ALIBABA_CLOUD_ACCESS_KEY_ID": AK_ID,
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": AK_SECRET,
    })
    r = subprocess.run([sys.executable, str(REPO / "docs/examples/targets.py")], env=env,
                       capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all targets OK" in r.stdout, r.stdout
    for kind in ("EcsInstance", "NetworkInterface", "Nat", "HaVip", "SlbInstance", "Alb", "Nlb"):
        assert f'"{kind}"' in r.stdout, (kind, r.stdout)
