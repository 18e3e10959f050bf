"""CON-07 in a real browser: ALB and NLB are not associated from the Elastic
IP Addresses page; an EIP reaches them on their own pages, by changing the
network type to Internet with one EIP per zone (an Available one, or a new
one allocated on the spot), and leaves when it is changed back to Intranet
(LB-02). Every result is checked through the official SDK as well."""

from __future__ import annotations

import urllib.parse

import pytest
from playwright.sync_api import expect

from conftest import (DEMO_ZONE, REGION, SECOND_ZONE, console_sign_in, create_alb, create_nlb, create_vpc,
                      create_vswitch, get_alb, get_eip, get_nlb, lb_zone_allocations, vpc_models, wait_alb,
                      wait_nlb, wait_status)

ZONES = (DEMO_ZONE, SECOND_ZONE)


def _two_zone_lb(srv, slug: str) -> tuple[str, list[str], callable]:
    """An Intranet ALB or NLB over a fresh VPC with a vSwitch in each zone,
    once Active: (id, vSwitch ids, a function that reads it through the SDK)."""
    vpc = srv.vpc()
    vpc_id = create_vpc(vpc, cidr="10.9.0.0/16")
    vsws = [create_vswitch(vpc, vpc_id, z, f"10.9.{n + 1}.0/24") for n, z in enumerate(ZONES)]
    zones = [(z, v, None) for z, v in zip(ZONES, vsws)]
    if slug == "albs":
        alb = srv.alb()
        lb = create_alb(alb, vpc_id, "Intranet", zones)
        wait_alb(alb, lb, "Active")
        return lb, vsws, lambda: get_alb(alb, lb)
    nlb = srv.nlb()
    lb = create_nlb(nlb, vpc_id, "Intranet", zones)
    wait_nlb(nlb, lb, "Active")
    return lb, vsws, lambda: get_nlb(nlb, lb)


@pytest.mark.parametrize("slug,kind", [("albs", "Alb"), ("nlbs", "Nlb")])
def test_con_07_network_type_to_internet_with_an_eip_per_zone_and_back(eipd_factory, page, slug, kind):
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    lb, _, read = _two_zone_lb(srv, slug)
    mine = vpc.allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    page.get_by_role("link", name=f"{kind.upper()} instances").click()
    page.wait_for_url(f"**/console/{slug}")
    row = page.locator(f'tr[data-lb="{lb}"]')
    assert "Intranet" in row.inner_text() and "Active" in row.inner_text()
    row.get_by_role("link", name=lb).click()
    page.wait_for_url(f"**/console/{slug}/{lb}")
    assert page.locator("#lb-type").inner_text() == "Intranet"
    page.get_by_role("link", name="Change network type").click()
    # One EIP per zone: the first zone takes the Available one, the second a new one.
    page.get_by_label(f"EIP for {ZONES[0]}").select_option(mine)
    assert page.get_by_label(f"EIP for {ZONES[1]}").input_value() == "new"
    page.get_by_role("button", name="Change to Internet").click()
    page.wait_for_url(f"**/console/{slug}/{lb}?notice=*")
    # The zones section refreshes itself until the EIPs are in.
    expect(page.locator("#lb-status")).to_have_text("Active", timeout=15_000)
    assert page.locator("#lb-type").inner_text() == "Internet"
    attr = read()
    zones = lb_zone_allocations(attr)
    assert attr["AddressType"] == "Internet" and zones[ZONES[0]] == [mine], attr
    [new] = zones[ZONES[1]]
    assert new != mine
    for a in (mine, new):
        e = wait_status(vpc, a, "InUse")
        assert (e["InstanceId"], e["InstanceType"]) == (lb, kind), e
        assert e["IpAddress"] in page.locator("tr[data-zone]", has_text=a).inner_text()
    assert get_eip(vpc, new)["InternetChargeType"] == "PayByTraffic"
    # The EIP list shows them under the load balancer's type (filter by type).
    page.goto(f"{srv.base_url}/console/eips?kind={kind}")
    listed = {r.get_attribute("data-eip") for r in page.locator("tr[data-eip]").all()}
    assert listed == {mine, new}, listed
    # ... and offers no Unassociate for them: that is the network type's job (LB-02).
    assert page.locator(f'tr[data-eip="{mine}"]').get_by_role("link", name="Unassociate").count() == 0
    # Back to Intranet: both EIPs leave and stay in the account.
    page.goto(f"{srv.base_url}/console/{slug}/{lb}/network-type")
    assert "BIL-01" in page.inner_text("main")
    page.get_by_role("button", name="Change to Intranet").click()
    page.wait_for_url(f"**/console/{slug}/{lb}?notice=*")
    expect(page.locator("#lb-status")).to_have_text("Active", timeout=15_000)
    assert page.locator("#lb-type").inner_text() == "Intranet"
    for a in (mine, new):
        e = wait_status(vpc, a, "Available")
        assert not e["InstanceId"], e
    assert read()["AddressType"] == "Intranet"


def test_con_07_a_refused_change_shows_the_apis_error_and_changes_nothing(eipd_factory, page):
    """The same EIP for both zones is refused by the API (one EIP per zone);
    the page shows the code and the load balancer stays Intranet."""
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    lb, _, read = _two_zone_lb(srv, "albs")
    mine = vpc.allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    page.goto(f"{srv.base_url}/console/albs/{lb}/network-type")
    for z in ZONES:
        page.get_by_label(f"EIP for {z}").select_option(mine)
    page.get_by_role("button", name="Change to Internet").click()
    assert "InvalidParameter" in page.get_by_role("alert").inner_text()
    assert read()["AddressType"] == "Intranet"
    assert get_eip(vpc, mine)["Status"] == "Available"


def test_another_account_cannot_see_or_change_a_load_balancer(eipd_factory, page):
    """By URL or by posting the form with its own session's token, another
    account gets the API's not-found error and nothing changes."""
    srv = eipd_factory(demo=True)
    lb, _, read = _two_zone_lb(srv, "albs")
    ak, secret = srv.create_account("console-lb-other")
    console_sign_in(page, srv, ak, secret)
    page.wait_for_url("**/console/eips")
    page.goto(f"{srv.base_url}/console/albs")
    assert page.locator(f'tr[data-lb="{lb}"]').count() == 0
    page.goto(f"{srv.base_url}/console/albs/{lb}")
    assert "NotFound" in page.get_by_role("alert").inner_text()
    csrf = page.locator('input[name="csrf"]').first.input_value()
    r = page.request.post(f"{srv.base_url}/console/albs/{lb}/network-type",
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          data=urllib.parse.urlencode({"csrf": csrf, "token": "t1", f"eip.{ZONES[0]}": "new",
                                                       f"eip.{ZONES[1]}": "new"}))
    assert r.status == 400 and "NotFound" in r.text()
    assert read()["AddressType"] == "Intranet"
    # No EIP was allocated for the other account either.
    from conftest import describe_eips, eip_list
    assert eip_list(describe_eips(srv.vpc(ak=ak, secret=secret))) == []
