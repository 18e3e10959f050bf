"""Per-account API rate limits (`eipd serve --throttle`, `--throttle-limit`):
a call beyond its allowance gets HTTP 400 `Throttling.User` with
`x-acs-retry-after`, which the new Python SDK raises as ThrottlingException
(with the wait) and Terraform retries; every account has its own allowance;
other actions are not limited; off by default."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from aliyunsdkvpc.request.v20160428.AllocateEipAddressRequest import AllocateEipAddressRequest
from alibabacloud_tea_openapi import exceptions as tea_exceptions
from alibabacloud_vpc20160428 import models as vm

from conftest import REGION, Legacy, allocate, vpc_client


def test_a_call_beyond_the_allowance_is_throttled_with_the_wait(eipd_factory):
    srv = eipd_factory(demo=False, args=["--throttle-limit", "AllocateEipAddress=3/60"])
    # One node: each node keeps its own buckets (docs/quotas.md).
    vpc = vpc_client(srv.endpoint)
    for _ in range(3):
        allocate(vpc)
    with pytest.raises(tea_exceptions.ThrottlingException) as e:
        vpc.allocate_eip_address(vm.AllocateEipAddressRequest(region_id=REGION))
    assert e.value.code == "Throttling.User" and e.value.status_code == 400, e.value
    # One call every 20 s: the wait says so.
    assert 15_000 <= e.value.retry_after <= 20_000, e.value.retry_after
    # Other actions are not limited.
    for _ in range(10):
        vpc.describe_eip_addresses(vm.DescribeEipAddressesRequest(region_id=REGION))
    # Another account has an allowance of its own.
    ak, sk = srv.create_account(f"t-{uuid.uuid4().hex[:8]}")
    allocate(vpc_client(srv.next_endpoint(), ak=ak, secret=sk))
    # The legacy SDK sees the same wire: HTTP 400, the code, the header.
    status, headers, body = Legacy(srv.endpoint).raw(AllocateEipAddressRequest())
    assert status == 400, body
    assert json.loads(body)["Code"] == "Throttling.User"
    assert int({k.lower(): v for k, v in headers.items()}["x-acs-retry-after"]) > 0


def test_the_published_limit_of_allocate_is_120_a_minute(eipd_factory):
    """A burst of 120, then one call every 500 ms (tokens refill while the
    burst runs, so a few more pass: at most 2 per second elapsed)."""
    srv = eipd_factory(demo=False, args=["--throttle"])
    vpc = vpc_client(srv.endpoint)
    t0 = time.monotonic()
    passed = 0
    with pytest.raises(tea_exceptions.ThrottlingException) as e:
        for _ in range(300):
            vpc.allocate_eip_address(vm.AllocateEipAddressRequest(region_id=REGION))
            passed += 1
    elapsed = time.monotonic() - t0
    assert 120 <= passed <= 120 + 2 * elapsed + 1, (passed, elapsed)
    assert 1 <= e.value.retry_after <= 500, e.value.retry_after


def test_no_limits_unless_asked(server):
    vpc = server.vpc()
    for _ in range(130):
        vpc.describe_eip_addresses(vm.DescribeEipAddressesRequest(region_id=REGION))
    for _ in range(125):
        allocate(vpc)


def test_bad_limits_stop_the_server_at_start(tmp_path):
    import subprocess

    from conftest import eipd_bin
    for bad, why in (("AllocateEipAddress=0/60", "CALLS is 1"), ("Nope=1/1", "not an action"),
                     ("AllocateEipAddress", "ACTION=CALLS/SECONDS")):
        out = subprocess.run([str(eipd_bin()), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d"),
                              "--throttle-limit", bad], capture_output=True, text=True, timeout=30)
        assert out.returncode != 0 and why in out.stderr, (bad, out.stderr)
