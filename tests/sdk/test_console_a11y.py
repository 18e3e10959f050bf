"""The console is usable without a mouse and without JavaScript, in a real
browser: every control on every page has a label (an accessible name),
the Associate dialog works from the keyboard alone, and the forms do their
job with JavaScript turned off (htmx only improves them). Results are
checked through the official SDK."""

from __future__ import annotations

from conftest import (DEMO_ZONE, REGION, SECOND_ZONE, associate, console_row, console_sign_in, create_alb,
                      create_vpc, create_vswitch, demo_instances, get_eip, vpc_models, wait_alb, wait_status)

# Controls without an accessible name: no <label>, aria-label, aria-labelledby
# or (for buttons and links) text.
UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button, a')].filter(el => {
  if (el.labels && el.labels.length) return false;
  if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return false;
  if ((el.tagName === 'BUTTON' || el.tagName === 'A') && el.textContent.trim()) return false;
  return true;
}).map(el => el.outerHTML.slice(0, 160))"""


def test_every_control_on_every_page_has_a_label(eipd_factory, page):
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    demo1 = demo_instances(srv)["demo-1"]
    a, b = (vpc.allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
            for _ in range(2))
    associate(vpc, a, demo1["InstanceId"])
    wait_status(vpc, a, "InUse")
    net = create_vpc(vpc, cidr="10.9.0.0/16")
    vsws = [create_vswitch(vpc, net, z, f"10.9.{n + 1}.0/24") for n, z in enumerate((DEMO_ZONE, SECOND_ZONE))]
    lb = create_alb(srv.alb(), net, "Intranet", [(DEMO_ZONE, vsws[0], None), (SECOND_ZONE, vsws[1], None)])
    wait_alb(srv.alb(), lb, "Active")
    page.goto(f"{srv.base_url}/console/signin")
    assert page.evaluate(UNLABELLED) == []
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    paths = ["/console/eips", f"/console/eips/{a}", f"/console/eips/{a}/unassociate", f"/console/eips/{b}/release",
             "/console/albs", f"/console/albs/{lb}", f"/console/albs/{lb}/network-type", "/console/nlbs"]
    paths += [f"/console/eips/{b}/associate?type={t}"
              for t in ("EcsInstance", "NetworkInterface", "Nat", "SlbInstance", "HaVip")]
    paths += [f"/console/resources/{k}" for k in ("instances", "enis", "nat-gateways", "clbs", "havips")]
    paths += ["/console/quotas"]
    missing = {}
    for p in paths:
        page.goto(f"{srv.base_url}{p}")
        assert page.locator("h1").count() == 1, p
        got = page.evaluate(UNLABELLED)
        if got:
            missing[p] = got
    assert missing == {}, missing


def test_the_associate_dialog_works_from_the_keyboard(eipd_factory, page):
    """CON-01 with keys only: Enter on the row's link, Space on the
    instance's radio button, Enter on OK."""
    from playwright.sync_api import expect
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    iid = demo_instances(srv)["demo-1"]["InstanceId"]
    a = vpc.allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    console_row(page, a).get_by_role("link", name="Associate with resource").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/eips/{a}/associate")
    page.locator("label.pick", has_text=iid).locator("input").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="OK").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/eips?notice=*")
    expect(console_row(page, a).locator(".status")).to_have_text("InUse", timeout=15_000)
    assert get_eip(vpc, a)["InstanceId"] == iid


def test_the_forms_work_without_javascript(eipd_factory, browser):
    """Sign in, switch the region (the noscript button), create an EIP,
    associate and unassociate it, all with JavaScript off: no row polls, so
    the user reloads to see the status settle."""
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    iid = demo_instances(srv)["demo-1"]["InstanceId"]
    ctx = browser.new_context(java_script_enabled=False)
    page = ctx.new_page()
    page.set_default_timeout(10_000)
    try:
        console_sign_in(page, srv)
        page.wait_for_url("**/console/eips")
        page.get_by_label("Region").select_option("cn-shanghai")
        page.get_by_role("button", name="Switch").click()
        page.wait_for_url("**/console/eips")
        assert page.get_by_label("Region").input_value() == "cn-shanghai"
        page.get_by_label("Region").select_option(REGION)
        page.get_by_role("button", name="Switch").click()
        page.wait_for_url("**/console/eips")
        page.get_by_text("Create EIP").click()
        page.get_by_label("Name", exact=True).fill("no-js")
        page.get_by_role("button", name="Create").click()
        page.wait_for_url("**/console/eips?notice=*")
        [a] = [r.get_attribute("data-eip") for r in page.locator("tr[data-eip]").all()]
        assert get_eip(vpc, a)["Name"] == "no-js"
        console_row(page, a).get_by_role("link", name="Associate with resource").click()
        page.locator("label.pick", has_text=iid).locator("input").check()
        page.get_by_role("button", name="OK").click()
        page.wait_for_url("**/console/eips?notice=*")
        wait_status(vpc, a, "InUse")
        page.reload()
        assert console_row(page, a).locator(".status").inner_text() == "InUse"
        console_row(page, a).get_by_role("link", name="Unassociate").click()
        page.get_by_role("button", name="Unassociate").click()
        page.wait_for_url("**/console/eips?notice=*")
        wait_status(vpc, a, "Available")
    finally:
        ctx.close()
