"""The EIP detail page's traffic chart with real counters, in the namespace
lab: bytes sent through the EIP by the data plane show up as the chart's
lines, with the same per-minute numbers DescribeEipMonitorData returns.
Runs as root with `ip`, `nft` and `conntrack`; skipped otherwise."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from alibabacloud_vpc20160428 import models as vpc_models

from conftest import REGION, allocate, associate, console_sign_in, wait_status
from test_dataplane import Procs, demo_1, pytestmark, read_line  # noqa: F401  (pytestmark: same skip conditions)
from test_dataplane_eni import lab_down
from test_dataplane_monitor import BULK_SERVER, PORT, download

SIZE = 400_000


def _last_hour_peak(vpc, aid: str) -> int:
    """max(EipRX, EipTX) per minute over the last hour, as the page draws it."""
    now = datetime.now(timezone.utc)
    req = vpc_models.DescribeEipMonitorDataRequest(
        region_id=REGION, allocation_id=aid, period=60,
        start_time=(now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        end_time=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    points = vpc.describe_eip_monitor_data(req).body.eip_monitor_datas.eip_monitor_data
    return max(max(p.eip_rx, p.eip_tx) for p in points)


def test_the_traffic_chart_draws_the_data_planes_counters(eipd_factory, page):
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc = srv.vpc()
        iid = demo_1(srv)
        e = allocate(vpc)
        aid, ip = e["AllocationId"], e["EipAddress"]
        associate(vpc, aid, iid)
        wait_status(vpc, aid, "InUse")
        console_sign_in(page, srv)
        page.wait_for_url("**/console/eips")
        page.goto(f"{srv.base_url}/console/eips/{aid}")
        assert "No traffic was counted" in page.inner_text("main")
        assert read_line(procs.start(iid, BULK_SERVER, str(PORT), str(SIZE))) == "ready"
        assert download(ip) == SIZE
        deadline = time.monotonic() + 20
        while _last_hour_peak(vpc, aid) < SIZE:
            assert time.monotonic() < deadline, "the transfer was not counted"
            time.sleep(0.5)
        # Settled: the same numbers on the page as through the SDK.
        for _ in range(40):
            expected = _last_hour_peak(vpc, aid)
            page.reload()
            chart = page.locator("svg.chart")
            if chart.count() == 1 and int(chart.get_attribute("data-peak")) == expected == _last_hour_peak(vpc, aid):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"chart peak {page.locator('svg.chart').get_attribute('data-peak')} != {expected}")
        assert expected >= SIZE
        assert page.locator("svg.chart polyline.tx").get_attribute("points").count(",") >= 2
        assert f"peak {expected} bytes/min" in page.locator("svg.chart text.legend").text_content()
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)
