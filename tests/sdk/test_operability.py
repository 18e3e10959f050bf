"""Operability: /metrics counts requests and errors per action and exposes the
latency histogram and the task backlog; every request's log line carries its
RequestId, action and account (JSON logs with --log-format json)."""

import json
import time
import urllib.request

from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vpc20160428 import models as vpc_models

from conftest import REGION


def _metrics(srv) -> str:
    with urllib.request.urlopen(f"{srv.base_url}/metrics", timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain")
        return r.read().decode()


def _value(text: str, prefix: str) -> float:
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_errors_and_backlog(eipd_factory):
    srv = eipd_factory(demo=False, task_delay_ms=60_000)
    vpc = srv.vpc()
    before = _metrics(srv)
    a = vpc.allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=REGION)).body
    try:
        vpc.release_eip_address(vpc_models.ReleaseEipAddressRequest(allocation_id="eip-doesnotexist"))
        raise AssertionError("expected InvalidAllocationId.NotFound")
    except ClientException as e:
        assert e.code == "InvalidAllocationId.NotFound"
    vpc.release_eip_address(vpc_models.ReleaseEipAddressRequest(allocation_id=a.allocation_id))
    after = _metrics(srv)
    alloc = 'eipd_requests_total{product="Vpc",action="AllocateEipAddress"}'
    assert _value(after, alloc) == _value(before, alloc) + 1
    rel = 'eipd_requests_total{product="Vpc",action="ReleaseEipAddress"}'
    assert _value(after, rel) == _value(before, rel) + 2
    err = 'eipd_errors_total{product="Vpc",action="ReleaseEipAddress",code="InvalidAllocationId.NotFound"}'
    assert _value(after, err) == 1
    assert 'eipd_request_duration_seconds_bucket{product="Vpc",action="AllocateEipAddress",le="+Inf"} 1' in after
    # The release is Releasing for a minute: one task waits.
    assert _value(after, "eipd_task_backlog") >= 1


def test_logs_carry_request_id_action_and_account(eipd_factory):
    srv = eipd_factory(demo=False)
    srv.extra_args = ["--log-format", "json"]
    srv.restart()
    vpc = srv.vpc()
    resp = vpc.allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=REGION))
    rid = resp.body.request_id
    deadline = time.monotonic() + 5
    found = None
    while time.monotonic() < deadline and found is None:
        for line in srv.log_path.read_text(errors="replace").splitlines():
            if rid in line and line.startswith("{"):
                found = json.loads(line)
        time.sleep(0.1)
    assert found is not None, srv.log_tail()
    fields = found.get("fields", {})
    assert fields.get("request_id") == rid
    assert fields.get("action") == "AllocateEipAddress"
    assert str(fields.get("account", "")).startswith("acc-")
