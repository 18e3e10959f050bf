"""Data plane failures are reported, retried and never acknowledged.

The gateway's kernel refuses eipd's changes here for real: the map element an
unassociation must delete is removed behind eipd's back (the kernel refuses
the delta), and `nft` itself fails while a flag file exists (eipd finds a
wrapper first on its PATH), so the full resync that would repair it fails too.
While that lasts:

* the EIP stays `Unassociating` in DescribeEipAddresses: the API never claims
  a state the data plane has not reached;
* `/healthz` turns 503 with the last kernel error once failures persist, and
  `/metrics` counts them;

and once `nft` works again the retry resyncs the gateway, the EIP becomes
`Available`, nothing of the old mapping is left and `/healthz` is 200.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import REGION, allocate, associate, eipd_bin, eip_list, describe_eips, unassociate, wait_status
from test_dataplane import Procs, connect_once, demo_1, netns, start_server, wait_until

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "nft", "conntrack")),
    reason="the namespace lab needs root and the ip, nft and conntrack tools",
)

GW = f"openeip-gw-{REGION}"


def metric(srv, name: str) -> float:
    status, text = srv.http_get("/metrics")
    assert status == 200
    m = re.search(rf"^{name} (\S+)$", text.decode(), re.M)
    assert m, f"{name} missing from /metrics"
    return float(m.group(1))


def health(srv) -> tuple[int, dict]:
    status, raw = srv.http_get("/healthz")
    return status, json.loads(raw)


def test_a_refused_change_is_reported_retried_and_not_acknowledged(eipd_factory, tmp_path):
    real_nft = shutil.which("nft")
    flag = tmp_path / "nft-fails"
    wrappers = tmp_path / "bin"
    wrappers.mkdir()
    (wrappers / "nft").write_text(
        "#!/bin/sh\n"
        f"if [ -e {flag} ]; then echo 'nft: refused by the test (Operation not permitted)' >&2; exit 1; fi\n"
        f'exec {real_nft} "$@"\n')
    (wrappers / "nft").chmod(0o755)
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"], env={"PATH": f"{wrappers}:{os.environ['PATH']}"})
        vpc = srv.vpc()
        iid = demo_1(srv)
        start_server(procs, iid)
        status, h = health(srv)
        assert status == 200 and h["dataplane"]["state"] == "ok", h

        eip = allocate(vpc)
        aid, ip = eip["AllocationId"], eip["EipAddress"]
        associate(vpc, aid, iid)
        wait_status(vpc, aid, "InUse")
        assert connect_once(ip) is not None
        failures_before = metric(srv, "eipd_dataplane_failures_total")

        # The kernel loses the element the unassociation will delete, and nft
        # starts failing: neither the delta nor a full resync can succeed.
        flag.touch()
        out = subprocess.run(["ip", "netns", "exec", GW, real_nft, "delete", "element", "ip", "openeip",
                              "eip2priv", f"{{ {ip} }}"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        unassociate(vpc, aid, iid)

        wait_until(lambda: health(srv)[0] == 503, "/healthz to report the failing data plane", timeout=15)
        status, h = health(srv)
        dp = h["dataplane"]
        assert h["status"] == "degraded" and dp["state"] == "failing", h
        assert dp["consecutive_failures"] >= 3 and dp["last_error"], h
        assert metric(srv, "eipd_dataplane_failures_total") >= failures_before + 3
        assert metric(srv, "eipd_dataplane_consecutive_failures") >= 3
        [e] = eip_list(describe_eips(vpc, allocation_id=aid))
        assert e["Status"] == "Unassociating", "not acknowledged while the kernel refuses the change"

        # nft works again: the retry resyncs the gateway and the EIP is released.
        flag.unlink()
        wait_status(vpc, aid, "Available", timeout=20)
        wait_until(lambda: health(srv)[0] == 200, "/healthz to recover", timeout=10)
        assert health(srv)[1]["dataplane"]["consecutive_failures"] == 0
        assert metric(srv, "eipd_dataplane_consecutive_failures") == 0
        assert connect_once(ip, timeout=0.3) is None
        for m in ("eip2priv", "priv2eip"):
            listing = netns(GW, real_nft, "list", "map", "ip", "openeip", m).stdout
            assert "elements" not in listing or ip not in listing, f"{m} still maps {ip}: {listing}"
    finally:
        procs.stop_all()
        if flag.exists():
            flag.unlink()
        if srv is not None:
            srv.stop()
            subprocess.run([str(eipd_bin()), "lab", "down", "--data-dir", str(srv.data_dir)],
                           capture_output=True, text=True, timeout=60)
