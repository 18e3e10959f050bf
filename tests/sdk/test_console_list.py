"""The Elastic IP Addresses list beyond one row's actions, in a real browser:
batch tag and deletion-protection changes on checked rows, the filters
(status, associated type, tag, search) kept across pages, the copy button,
the monitoring link; the read-only resource pages, each linking to its EIPs;
and unassociating a NAT gateway's EIP that SNAT uses (refused, then forced:
CON-08 for NAT). Each result is checked through the official SDK as well."""

from __future__ import annotations

import urllib.parse

from playwright.sync_api import expect

from conftest import (REGION, associate, console_row, console_sign_in, create_clb, create_eni, create_havip,
                      create_nat, create_snat, demo_instances, describe_eips, eip_list, get_eip, nat_snat_table,
                      snat_entries, vpc_models, wait_havip, wait_nat, wait_status)


def _allocate(vpc, n: int, **kw) -> list[str]:
    return [vpc.allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=REGION, **kw)).body.allocation_id
            for _ in range(n)]


def _tags(vpc, allocation_id: str) -> dict[str, str]:
    e = get_eip(vpc, allocation_id)
    return {t["Key"]: t["Value"] for t in (e.get("Tags") or {}).get("Tag") or []}


def test_batch_tags_and_deletion_protection_on_checked_rows(eipd_factory, page):
    srv = eipd_factory(demo=False)
    vpc = srv.vpc()
    a, b, c = _allocate(vpc, 3)
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    for x in (a, b):
        page.get_by_label(f"Select {x}").check()
    page.get_by_label("Tag key").fill("team")
    page.get_by_label("Tag value").fill("ci")
    page.get_by_role("button", name="Add tag").click()
    page.wait_for_url("**/console/eips?notice=*")
    assert (_tags(vpc, a), _tags(vpc, b), _tags(vpc, c)) == ({"team": "ci"}, {"team": "ci"}, {})
    assert "team=ci" in console_row(page, a).inner_text() and "team" not in console_row(page, c).inner_text()
    # The tag filter, through DescribeEipAddresses' Tag.N.
    page.get_by_label("Tag (key or key=value)").fill("team=ci")
    page.get_by_role("button", name="Filter").click()
    listed = {r.get_attribute("data-eip") for r in page.locator("tr[data-eip]").all()}
    assert listed == {a, b}, listed
    # Select all (the header box), then protection on for the filtered page.
    page.get_by_label("Select all EIPs on this page").check()
    assert page.get_by_label(f"Select {a}").is_checked() and page.get_by_label(f"Select {b}").is_checked()
    page.get_by_role("button", name="Turn on deletion protection").click()
    page.wait_for_url("**/console/eips?notice=*")
    assert [get_eip(vpc, x)["DeletionProtection"] for x in (a, b, c)] == [True, True, False]
    assert console_row(page, a).locator("td.protection").inner_text() == "On"
    # Removing the tag from one of them.
    page.get_by_label(f"Select {b}").check()
    page.get_by_label("Tag key").fill("team")
    page.get_by_role("button", name="Remove tag").click()
    page.wait_for_url("**/console/eips?notice=*")
    assert (_tags(vpc, a), _tags(vpc, b)) == ({"team": "ci"}, {})
    # Nothing checked: a clear message, nothing changes.
    page.get_by_label("Tag key").fill("other")
    page.get_by_role("button", name="Add tag").click()
    assert "Select at least one EIP" in page.get_by_role("alert").inner_text()
    assert _tags(vpc, c) == {}
    # The batch form needs the CSRF token like every other.
    session = next(x["value"] for x in page.context.cookies() if x["name"] == "eipd_session")
    r = page.request.post(f"{srv.base_url}/console/eips/batch",
                          headers={"Content-Type": "application/x-www-form-urlencoded",
                                   "Cookie": f"eipd_session={session}"},
                          data=urllib.parse.urlencode([("op", "tag_add"), ("tag_key", "x"), ("id", c)]))
    assert r.status == 403 and _tags(vpc, c) == {}


def test_batch_changes_cannot_reach_another_accounts_eips(eipd_factory, page):
    """A form edited to carry another account's EIP id gets the API's error."""
    srv = eipd_factory(demo=False)
    [theirs] = _allocate(srv.vpc(), 1)
    ak, secret = srv.create_account("console-batch-other")
    console_sign_in(page, srv, ak, secret)
    page.wait_for_url("**/console/eips")
    csrf = page.locator('form#batch input[name="csrf"]').input_value()
    r = page.request.post(f"{srv.base_url}/console/eips/batch",
                          headers={"Content-Type": "application/x-www-form-urlencoded"},
                          data=urllib.parse.urlencode([("csrf", csrf), ("op", "tag_add"), ("tag_key", "x"),
                                                       ("tag_value", "y"), ("id", theirs)]))
    assert "NotFound" in r.text(), r.text()[:500]
    assert _tags(srv.vpc(), theirs) == {}


def test_filters_by_type_and_search_and_paging_keeps_them(eipd_factory, page):
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    demo1 = demo_instances(srv)["demo-1"]
    on_ecs, *free = _allocate(vpc, 52, name="bulk")
    associate(vpc, on_ecs, demo1["InstanceId"])
    wait_status(vpc, on_ecs, "InUse")
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    page.get_by_label("Associated resource type").select_option("EcsInstance")
    page.get_by_role("button", name="Filter").click()
    assert [r.get_attribute("data-eip") for r in page.locator("tr[data-eip]").all()] == [on_ecs]
    # Search by address.
    ip = get_eip(vpc, free[3])["IpAddress"]
    page.goto(f"{srv.base_url}/console/eips")
    page.get_by_label("Search by ID, address or name").fill(ip)
    page.get_by_role("button", name="Filter").click()
    assert [r.get_attribute("data-eip") for r in page.locator("tr[data-eip]").all()] == [free[3]]
    # By name, over two pages: the Next link keeps the filter.
    page.goto(f"{srv.base_url}/console/eips?status=Available&q=bulk")
    assert page.locator("tr[data-eip]").count() == 50
    assert "51 EIPs" in page.locator("nav.pages").inner_text()
    page.get_by_role("link", name="Next").click()
    assert page.locator("tr[data-eip]").count() == 1
    assert page.get_by_label("Status").input_value() == "Available"
    assert page.get_by_label("Search by ID, address or name").input_value() == "bulk"


def test_copy_button_and_monitoring_link(eipd_factory, page):
    srv = eipd_factory(demo=False)
    got = srv.vpc().allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=REGION)).body
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=srv.base_url)
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    r = console_row(page, got.allocation_id)
    r.get_by_role("button", name=f"Copy {got.eip_address}").click()
    expect(r.get_by_role("button", name=f"Copy {got.eip_address}")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == got.eip_address
    r.get_by_role("link", name=f"Monitoring of {got.allocation_id}").click()
    page.wait_for_url(f"**/console/eips/{got.allocation_id}#traffic")
    assert page.locator("#traffic").is_visible()


def test_resource_pages_list_what_the_dialog_picks_from_and_link_to_eips(eipd_factory, page):
    srv = eipd_factory(demo=True)
    vpc, ecs = srv.vpc(), srv.ecs()
    demo = demo_instances(srv)
    demo1 = demo["demo-1"]
    vpc_id, vsw = demo1["VpcAttributes"]["VpcId"], demo1["VpcAttributes"]["VSwitchId"]
    sg = demo1["SecurityGroupIds"]["SecurityGroupId"][0]
    [a] = _allocate(vpc, 1)
    associate(vpc, a, demo1["InstanceId"])
    wait_status(vpc, a, "InUse")
    eni = create_eni(ecs, vsw, sg)["NetworkInterfaceId"]
    nat = create_nat(vpc, vpc_id, vsw)["NatGatewayId"]
    clb = create_clb(srv.slb(), v_switch_id=vsw)["LoadBalancerId"]
    havip = create_havip(vpc, vsw)["HaVipId"]
    wait_nat(vpc, nat, "Available")
    wait_havip(vpc, havip, "Available")
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    page.get_by_role("link", name="ECS instances").click()
    page.wait_for_url("**/console/resources/instances")
    for name, inst in demo.items():
        assert name in page.locator(f'tr[data-resource="{inst["InstanceId"]}"]').inner_text()
    ip = get_eip(vpc, a)["IpAddress"]
    assert f"{ip} (EIP)" in page.locator(f'tr[data-resource="{demo1["InstanceId"]}"]').inner_text()
    page.get_by_role("link", name=f"EIPs of {demo1['InstanceId']}").click()
    assert [r.get_attribute("data-eip") for r in page.locator("tr[data-eip]").all()] == [a]
    assert demo1["InstanceId"] in page.inner_text("main")
    for link, slug, rid in (("Elastic network interfaces", "enis", eni), ("NAT gateways", "nat-gateways", nat),
                            ("CLB instances", "clbs", clb), ("HaVips", "havips", havip)):
        page.get_by_role("link", name=link, exact=True).click()
        page.wait_for_url(f"**/console/resources/{slug}")
        assert page.locator(f'tr[data-resource="{rid}"]').count() == 1, slug
    # Another account sees none of them.
    ak, secret = srv.create_account("console-res-other")
    page.get_by_role("button", name="Sign out").click()
    console_sign_in(page, srv, ak, secret)
    page.wait_for_url("**/console/eips")
    page.goto(f"{srv.base_url}/console/resources/instances")
    assert page.locator("tr[data-resource]").count() == 0


def test_con_08_unassociate_a_nat_gateway_eip_used_by_snat_needs_force(eipd_factory, page):
    """CON-08 on a NAT gateway: the confirmation lists the SNAT entry that
    uses the address; without Force the API refuses, with it the entry goes
    and the EIP is unassociated."""
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    demo1 = demo_instances(srv)["demo-1"]
    vpc_id, vsw = demo1["VpcAttributes"]["VpcId"], demo1["VpcAttributes"]["VSwitchId"]
    made = create_nat(vpc, vpc_id, vsw)
    nat, stb = made["NatGatewayId"], nat_snat_table(made)
    wait_nat(vpc, nat, "Available")
    [a] = _allocate(vpc, 1)
    ip = get_eip(vpc, a)["IpAddress"]
    associate(vpc, a, nat, instance_type="Nat")
    wait_status(vpc, a, "InUse")
    entry = create_snat(vpc, stb, ip, source_vswitch_id=vsw)["SnatEntryId"]
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    console_row(page, a).get_by_role("link", name="Unassociate").click()
    main = page.inner_text("main")
    assert entry in main and "SNAT" in main
    page.get_by_role("button", name="Unassociate").click()
    alert = page.get_by_role("alert").inner_text()
    assert "Snat" in alert or "SNAT" in alert, alert
    assert get_eip(vpc, a)["Status"] == "InUse" and len(snat_entries(vpc, stb)) == 1
    page.get_by_label("Force: also delete the SNAT and DNAT entries that use this address").check()
    page.get_by_role("button", name="Unassociate").click()
    page.wait_for_url("**/console/eips?notice=*")
    expect(console_row(page, a).locator(".status")).to_have_text("Available", timeout=15_000)
    assert snat_entries(vpc, stb) == []
    assert eip_list(describe_eips(vpc, associated_instance_type="Nat")) == []


def test_con_01_the_picker_pages_through_many_instances(eipd_factory, page):
    """With 60 instances the dialog shows 50 and a Next page; an instance
    from the second page is associated (CON-01)."""
    from conftest import run_instances, wait_instance
    srv = eipd_factory(demo=True)
    vpc, ecs = srv.vpc(), srv.ecs()
    demo1 = demo_instances(srv)["demo-1"]
    vsw, sg = demo1["VpcAttributes"]["VSwitchId"], demo1["SecurityGroupIds"]["SecurityGroupId"][0]
    ids = run_instances(ecs, vsw, sg, amount=58)
    wait_instance(ecs, ids[-1], "Running")
    [a] = _allocate(vpc, 1)
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    page.goto(f"{srv.base_url}/console/eips/{a}/associate")
    assert page.locator("label.pick").count() == 50
    assert "60 in all" in page.inner_text("main")
    first_page = set(page.locator("label.pick .id").all_inner_texts())
    page.get_by_role("link", name="Next").click()
    second = page.locator("label.pick .id").all_inner_texts()
    assert len(second) == 10 and not first_page & set(second)
    target = second[-1]
    page.locator("label.pick", has_text=target).locator("input").check()
    page.get_by_role("button", name="OK").click()
    page.wait_for_url("**/console/eips?notice=*")
    e = wait_status(vpc, a, "InUse")
    assert e["InstanceId"] == target, e
