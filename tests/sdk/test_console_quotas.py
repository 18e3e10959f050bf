"""The console's quotas page (issue 13: whichever of the console and the
Quota Center lands second adds it): the account's quotas with their values
and usage, an application form, and the applications, all through the Quota
Center actions the API serves; the result is checked through the SDK."""

from __future__ import annotations

import uuid

from alibabacloud_quotas20200510 import models as qm
from alibabacloud_quotas20200510.client import Client as QuotasClient

from conftest import _config, allocate, console_sign_in, vpc_client


def test_quotas_page_shows_values_takes_applications_and_shows_refusals(eipd_factory, page):
    srv = eipd_factory(demo=False)
    ak, sk = srv.create_account(f"cq-{uuid.uuid4().hex[:8]}")
    allocate(vpc_client(srv.next_endpoint(), ak=ak, secret=sk))
    console_sign_in(page, srv, ak, sk)
    page.wait_for_url("**/console/eips")
    page.get_by_role("link", name="Quotas").click()
    page.wait_for_url("**/console/quotas")
    eip = page.locator('tr[data-quota="eip/eip_quota_instances_num"]')
    assert (eip.locator(".value").inner_text(), eip.locator(".usage").inner_text()) == ("20", "1")
    havip = page.locator('tr[data-quota="vpc/vpc_whitelist/ha_vip_whitelist"]')
    assert havip.locator(".value").inner_text() == "0"
    # The HaVip permission: approved when filed.
    page.get_by_label("Quota").select_option("vpc/vpc_whitelist/ha_vip_whitelist")
    page.get_by_label("Value wanted").fill("1")
    page.get_by_label("Reason").fill("HA pair")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/console/quotas?notice=*")
    assert "Agree" in page.get_by_role("status").inner_text()
    assert page.locator('tr[data-quota="vpc/vpc_whitelist/ha_vip_whitelist"] .value').inner_text() == "1"
    # More EIPs: waits for an operator.
    page.get_by_label("Quota").select_option("eip/eip_quota_instances_num")
    page.get_by_label("Value wanted").fill("40")
    page.get_by_label("Reason").fill("a bigger lab")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/console/quotas?notice=*")
    assert "Process" in page.get_by_role("status").inner_text()
    # A refused value shows the Quota Center's code and changes nothing.
    page.get_by_label("Value wanted").fill("5")
    page.get_by_label("Reason").fill("less")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url("**/console/quotas?error=*")
    assert "QUOTA.DESIREVALUE.ILLEGAL" in page.get_by_role("alert").inner_text()
    statuses = page.locator("table.applications .status").all_inner_texts()
    assert statuses == ["Process", "Agree"], statuses
    # The SDK sees the same.
    q = QuotasClient(_config(srv.next_endpoint(), False, ak, sk, "cn-hangzhou"))
    apps = q.list_quota_applications(qm.ListQuotaApplicationsRequest()).body
    assert [a.status for a in apps.quota_applications] == ["Process", "Agree"]
