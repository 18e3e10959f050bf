"""The web console (issue 11), in a real browser: Playwright drives Debian's
chromium (scripts/test.sh installs it; Playwright fetches no browser of its own). This
first part covers sign-in and its security (cookie flags, wrong keys, CSRF,
sign-out, tenant isolation), the region selector, the Elastic IP Addresses
list with live status, and allocation; each result is checked through the
official SDK too. Screenshots go to the pytest temp directory (printed)."""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import (REGION, associate, console_row, console_sign_in, demo_instances, describe_eips, eip_list,
                      get_eip, wait_status)

def test_sign_in_cookie_flags_wrong_keys_and_sign_out(eipd_factory, page):
    srv = eipd_factory(demo=True)
    console_sign_in(page, srv, secret="not-the-secret")
    alert = page.get_by_role("alert")
    assert "wrong" in alert.inner_text()
    assert page.context.cookies() and not any(c["name"] == "eipd_session" for c in page.context.cookies())
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    assert page.get_by_role("heading", name="Elastic IP Addresses").is_visible()
    assert page.locator(".account").inner_text() == "root"
    [cookie] = [c for c in page.context.cookies() if c["name"] == "eipd_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console", cookie
    assert cookie["expires"] > 0  # it expires (12 h)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/console/signin")
    # The old session cookie is refused after sign-out.
    req = urllib.request.Request(f"{srv.base_url}/console/eips", headers={"Cookie": f"eipd_session={cookie['value']}"})
    with urllib.request.urlopen(req) as r:  # follows the redirect to the sign-in page
        assert r.url.endswith("/console/signin"), r.url


def test_state_changing_forms_need_the_csrf_token(eipd_factory, page):
    srv = eipd_factory(demo=False)
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    session = next(c["value"] for c in page.context.cookies() if c["name"] == "eipd_session")
    data = urllib.parse.urlencode({"metering": "PayByTraffic", "bandwidth": "5", "quantity": "1"}).encode()
    req = urllib.request.Request(f"{srv.base_url}/console/eips/allocate", data=data,
                                 headers={"Cookie": f"eipd_session={session}"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 403
    assert eip_list(describe_eips(srv.vpc())) == []  # nothing happened


def test_allocate_from_the_console(eipd_factory, page):
    srv = eipd_factory(demo=False)
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    assert "No EIPs in cn-hangzhou" in page.inner_text("main")
    page.get_by_text("Create EIP").click()
    page.get_by_label("Maximum bandwidth (Mbit/s)").fill("7")
    page.get_by_label("Name", exact=True).fill("from-the-console")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/console/eips?notice=*")
    assert "Created eip-" in page.get_by_role("status").inner_text()
    eips = eip_list(describe_eips(srv.vpc()))
    assert len(eips) == 2 and {e["Name"] for e in eips} == {"from-the-console"}, eips
    for e in eips:
        r = console_row(page, e["AllocationId"])
        assert e["IpAddress"] in r.inner_text() and "Available" in r.locator(".status").inner_text()
        assert "7 Mbit/s" in r.inner_text()
    # A refused allocation shows Alibaba's code and changes nothing.
    page.get_by_text("Create EIP").click()
    page.get_by_label("Maximum bandwidth (Mbit/s)").evaluate("el => el.removeAttribute('max')")
    page.get_by_label("Maximum bandwidth (Mbit/s)").fill("900")
    page.get_by_role("button", name="Create").click()
    assert "InvalidParameter" in page.get_by_role("alert").inner_text()
    assert len(eip_list(describe_eips(srv.vpc()))) == 2


def test_allocate_a_subscription_once_however_often_the_form_is_sent(eipd_factory, page):
    """Billing method Subscription (pay-by-bandwidth, 2 months) shows its
    expiry; Release is refused with the API's reason (BIL-02); the form's
    ClientToken makes a second submit of the same form allocate nothing."""
    srv = eipd_factory(demo=False)
    vpc = srv.vpc()
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    page.get_by_text("Create EIP").click()
    page.get_by_label("Billing method").select_option("PrePaid")
    page.get_by_label("Subscription duration", exact=True).fill("2")
    page.get_by_label("Metering method").select_option("PayByBandwidth")
    form = {x.get_attribute("name"): x.input_value() for x in page.locator("details.allocate input[type=hidden]").all()}
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/console/eips?notice=*")
    [e] = eip_list(describe_eips(vpc))
    assert (e["ChargeType"], e["InternetChargeType"]) == ("PrePaid", "PayByBandwidth"), e
    assert e["ExpiredTime"] and e["ExpiredTime"][:10] in console_row(page, e["AllocationId"]).inner_text()
    assert "Subscription" in console_row(page, e["AllocationId"]).inner_text()
    # The same form again (a double click, a reload that re-posts): still one EIP.
    data = urllib.parse.urlencode({**form, "billing": "PrePaid", "cycle": "Month", "period": "2",
                                   "metering": "PayByBandwidth", "bandwidth": "5", "quantity": "1", "name": ""})
    r = page.request.post(f"{srv.base_url}/console/eips/allocate", data=data,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.ok and e["AllocationId"] in r.text()
    assert len(eip_list(describe_eips(vpc))) == 1
    # A subscription EIP is not released from here: the API's reason is shown.
    page.goto(f"{srv.base_url}/console/eips/{e['AllocationId']}/release")
    page.get_by_role("button", name="Release").click()
    alert = page.get_by_role("alert").inner_text()
    assert "Prepaid" in alert or "PrePaid" in alert or "prepaid" in alert.lower(), alert
    assert get_eip(vpc, e["AllocationId"])["Status"] == "Available"


def test_status_goes_live_from_associating_to_in_use_without_reload(eipd_factory, page):
    srv = eipd_factory(demo=True, task_delay_ms=2500)
    vpc = srv.vpc()
    eip = vpc.allocate_eip_address(__import__("alibabacloud_vpc20160428.models", fromlist=["x"])
                                   .AllocateEipAddressRequest(region_id=REGION)).body
    from conftest import ecs_models
    insts = srv.ecs().describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION)).body.to_map()
    iid = next(i["InstanceId"] for i in insts["Instances"]["Instance"] if i["InstanceName"] == "demo-1")
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    associate(vpc, eip.allocation_id, iid)
    page.reload()
    status = console_row(page, eip.allocation_id).locator(".status")
    assert status.inner_text() == "Associating"
    # No reload from here: the row polls itself until it settles.
    from playwright.sync_api import expect
    expect(console_row(page, eip.allocation_id).locator(".status")).to_have_text("InUse", timeout=15_000)
    assert iid in console_row(page, eip.allocation_id).inner_text()
    assert console_row(page, eip.allocation_id).get_attribute("hx-trigger") is None  # polling stopped
    assert get_eip(vpc, eip.allocation_id)["Status"] == "InUse"
    wait_status(vpc, eip.allocation_id, "InUse")


def test_another_accounts_eips_are_never_shown(eipd_factory, page):
    srv = eipd_factory(demo=False)
    mine = srv.vpc().allocate_eip_address(__import__("alibabacloud_vpc20160428.models", fromlist=["x"])
                                          .AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    ak, secret = srv.create_account("console-other")
    console_sign_in(page, srv, ak, secret)
    page.wait_for_url("**/console/eips")
    assert page.locator(".account").inner_text() == "console-other"
    assert console_row(page, mine).count() == 0
    # Asking for the row by id does not show it either.
    page.goto(f"{srv.base_url}/console/eips?q={mine}")
    assert console_row(page, mine).count() == 0
    assert page.request.get(f"{srv.base_url}/console/eips/{mine}/row").text() == ""


def test_edited_forms_cannot_act_on_another_accounts_resources(eipd_factory, page):
    """Signed in as another account with a valid CSRF token: associating,
    unassociating or releasing the root's EIP by editing the URL, or putting
    the root's instance in the target field, gets the API's not-found error
    and changes nothing."""
    from alibabacloud_vpc20160428 import models as m
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    theirs_eip = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    theirs_inst = demo_instances(srv)["demo-1"]["InstanceId"]
    ak, secret = srv.create_account("console-editor")
    mine = srv.vpc(ak=ak, secret=secret).allocate_eip_address(
        m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    console_sign_in(page, srv, ak, secret)
    page.wait_for_url("**/console/eips")
    csrf = page.locator('form#batch input[name="csrf"]').input_value()

    def post(path: str, form: dict) -> str:
        r = page.request.post(f"{srv.base_url}{path}", form=form)
        return r.text()

    for path, form in ((f"/console/eips/{theirs_eip}/associate",
                        {"csrf": csrf, "token": "t1", "instance_type": "EcsInstance", "target": theirs_inst}),
                       (f"/console/eips/{theirs_eip}/unassociate", {"csrf": csrf, "token": "t2"}),
                       (f"/console/eips/{theirs_eip}/release", {"csrf": csrf})):
        assert "InvalidAllocationId.NotFound" in post(path, form), path
    got = post(f"/console/eips/{mine}/associate",
               {"csrf": csrf, "token": "t3", "instance_type": "EcsInstance", "target": theirs_inst})
    assert "NotFound" in got and "InvalidAllocationId" not in got, got[:400]
    assert get_eip(vpc, theirs_eip)["Status"] == "Available"
    assert get_eip(srv.vpc(ak=ak, secret=secret), mine)["Status"] == "Available"


def test_the_region_selector_switches_the_list(eipd_factory, page):
    srv = eipd_factory(demo=False)
    from alibabacloud_vpc20160428 import models as m
    other = "cn-shanghai"
    there = srv.vpc().allocate_eip_address(m.AllocateEipAddressRequest(region_id=other)).body.allocation_id
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    assert console_row(page, there).count() == 0
    page.get_by_label("Region").select_option(other)
    page.wait_for_load_state()
    page.wait_for_selector(f'tr[data-eip="{there}"]')
    assert "cn-shanghai" in page.get_by_label("Region").input_value()
    page.reload()  # remembered for the session
    assert console_row(page, there).count() == 1


def test_con_01_associate_with_an_ecs_instance_and_con_08_unassociate(eipd_factory, page):
    """CON-01: Actions → Associate with resource → ECS instance → the
    instance; CON-08: Actions → Unassociate. Checked through the SDK too."""
    from alibabacloud_vpc20160428 import models as m
    from playwright.sync_api import expect
    from conftest import ecs_models
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    a = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    b = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    insts = srv.ecs().describe_instances(ecs_models.DescribeInstancesRequest(region_id=REGION)).body.to_map()
    ids = {i["InstanceName"]: i["InstanceId"] for i in insts["Instances"]["Instance"]}
    # demo-2 already has an EIP: the picker shows it disabled, with the rule.
    associate(vpc, b, ids["demo-2"])
    wait_status(vpc, b, "InUse")
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    console_row(page, a).get_by_role("link", name="Associate with resource").click()
    page.wait_for_url(f"**/console/eips/{a}/associate")
    assert page.get_by_label("ECS instance").is_checked()
    busy = page.locator("label.pick", has_text=ids["demo-2"])
    assert "already has an EIP — ECS-02" in busy.inner_text()
    assert busy.locator("input").is_disabled()
    page.locator("label.pick", has_text=ids["demo-1"]).locator("input").check()
    page.get_by_role("button", name="OK").click()
    page.wait_for_url("**/console/eips?notice=*")
    expect(console_row(page, a).locator(".status")).to_have_text("InUse", timeout=15_000)
    assert ids["demo-1"] in console_row(page, a).inner_text()
    e = get_eip(vpc, a)
    assert (e["Status"], e["InstanceId"], e["InstanceType"]) == ("InUse", ids["demo-1"], "EcsInstance"), e
    # An InUse EIP is not released: the API's reason is shown, nothing changes.
    console_row(page, a).get_by_role("link", name="Release").click()
    page.get_by_role("button", name="Release").click()
    assert "IncorrectEipStatus" in page.get_by_role("alert").inner_text()
    assert get_eip(vpc, a)["Status"] == "InUse"
    page.goto(f"{srv.base_url}/console/eips")
    # CON-08, with the BIL-01 notice.
    console_row(page, a).get_by_role("link", name="Unassociate").click()
    assert "configuration fee" in page.inner_text("main") and "BIL-01" in page.inner_text("main")
    page.get_by_role("button", name="Unassociate").click()
    page.wait_for_url("**/console/eips?notice=*")
    expect(console_row(page, a).locator(".status")).to_have_text("Available", timeout=15_000)
    assert get_eip(vpc, a)["InstanceId"] == ""


def test_a_console_action_racing_the_sdk_loses_with_the_rules_error(eipd_factory, page):
    """The console and the SDK go through the same rules: the SDK takes the
    instance first, the console's association then gets ECS-02's error."""
    from alibabacloud_vpc20160428 import models as m
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    a = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    b = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    target = demo_instances(srv)["demo-1"]["InstanceId"]
    console_sign_in(page, srv)
    page.goto(f"{srv.base_url}/console/eips/{a}/associate")
    page.locator("label.pick", has_text=target).locator("input").check()
    associate(vpc, b, target)  # the SDK wins the instance meanwhile
    page.get_by_role("button", name="OK").click()
    assert "InvalidAssociation.Duplicated" in page.get_by_role("alert").inner_text()
    assert get_eip(vpc, a)["Status"] == "Available"


def test_a_console_click_and_an_sdk_call_at_once_exactly_one_wins(eipd_factory, page):
    """The click on OK and AssociateEipAddress for another EIP on the same
    instance, released together (the SDK a little later each round): exactly one EIP
    gets the instance and the other side sees ECS-02's error."""
    import threading
    from alibabacloud_vpc20160428 import models as m
    from conftest import capture_error, unassociate
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    target = demo_instances(srv)["demo-1"]["InstanceId"]
    a, b = (vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
            for _ in range(2))
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    winners = []
    for n in range(6):
        page.goto(f"{srv.base_url}/console/eips/{a}/associate")
        page.locator("label.pick", has_text=target).locator("input").check()
        go = threading.Barrier(2)
        sdk: dict = {}

        def by_sdk(delay=0.03 * n):
            go.wait()
            time.sleep(delay)  # staggered, so that either side can be first
            sdk["error"] = capture_error(associate, vpc, b, target)

        th = threading.Thread(target=by_sdk)
        th.start()
        go.wait()
        with page.expect_navigation():
            page.get_by_role("button", name="OK").click()
        th.join()
        alert = page.get_by_role("alert")
        console_lost = alert.count() == 1
        sdk_lost = sdk["error"] is not None
        assert console_lost != sdk_lost, (alert.all_inner_texts(), sdk["error"])
        loser = alert.inner_text() if console_lost else sdk["error"].code
        assert "InvalidAssociation.Duplicated" in loser, loser
        won = b if console_lost else a
        winners.append(won)
        got = wait_status(vpc, won, "InUse")
        assert got["InstanceId"] == target, got
        assert get_eip(vpc, a if won == b else b)["Status"] == "Available"
        unassociate(vpc, won, target)
        wait_status(vpc, won, "Available")
    print("winners:", ["console" if w == a else "sdk" for w in winners])


def test_release_refused_while_protected_then_released_and_retrieved(eipd_factory, page):
    """Release from the Actions column (refused with the API's reason while
    deletion protection is on), then GEN-03's retrieval by address."""
    from alibabacloud_vpc20160428 import models as m
    srv = eipd_factory(demo=False)
    vpc = srv.vpc()
    got = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body
    a, ip = got.allocation_id, got.eip_address
    vpc.deletion_protection(m.DeletionProtectionRequest(region_id=REGION, instance_id=a, protection_enable=True,
                                                        type="EIP"))
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    assert console_row(page, a).locator("td.protection").inner_text() == "On"
    console_row(page, a).get_by_role("link", name="Release").click()
    page.get_by_role("button", name="Release").click()
    assert "InvalidOperation.DeletionProtection" in page.get_by_role("alert").inner_text()
    assert get_eip(vpc, a)["Status"] == "Available"
    vpc.deletion_protection(m.DeletionProtectionRequest(region_id=REGION, instance_id=a, protection_enable=False,
                                                        type="EIP"))
    page.get_by_role("button", name="Release").click()
    page.wait_for_url("**/console/eips?notice=*")
    wait_status(vpc, a, None)
    page.goto(f"{srv.base_url}/console/eips")
    page.get_by_text("Retrieve a released EIP").click()
    page.get_by_label("IP address").fill(ip)
    page.get_by_role("button", name="Retrieve").click()
    page.wait_for_url("**/console/eips?notice=*")
    assert ip in page.get_by_role("status").inner_text()
    [back] = eip_list(describe_eips(vpc))
    assert back["IpAddress"] == ip and back["AllocationId"] != a
    # An address of the pool this account never held is refused with the API's code.
    import ipaddress
    neighbour = str(ipaddress.ip_address(ip) + 7)
    page.get_by_text("Retrieve a released EIP").click()
    page.get_by_label("IP address").fill(neighbour)
    page.get_by_role("button", name="Retrieve").click()
    assert "OperationFailed.AllocateUnfamiliarIp" in page.get_by_role("alert").inner_text()


def test_con_02_an_eni_in_nat_mode_on_its_secondary_private_ip(eipd_factory, page):
    """CON-02: Associate with resource → Elastic Network Interface → NAT mode
    → the ENI's secondary private IP (ENI-03, ENI-05)."""
    from alibabacloud_vpc20160428 import models as m
    from playwright.sync_api import expect
    from conftest import attach_eni, create_eni, eni_private_ips, wait_eni
    srv = eipd_factory(demo=True)
    vpc, ecs = srv.vpc(), srv.ecs()
    demo1 = demo_instances(srv)["demo-1"]
    vsw, sg = demo1["VpcAttributes"]["VSwitchId"], demo1["SecurityGroupIds"]["SecurityGroupId"][0]
    eni = create_eni(ecs, vsw, sg, secondary_private_ip_address_count=1)["NetworkInterfaceId"]
    attach_eni(ecs, eni, demo1["InstanceId"])
    e = wait_eni(ecs, eni, "InUse")
    secondary = [ip for ip in eni_private_ips(e) if ip != e["PrivateIpAddress"]][0]
    a = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    console_sign_in(page, srv)
    page.goto(f"{srv.base_url}/console/eips/{a}/associate")
    page.get_by_label("Elastic network interface").check()
    page.get_by_role("button", name="Show").click()
    assert page.get_by_label("NAT mode").is_checked()
    page.locator("label.pick", has_text=secondary).locator("input").check()
    page.get_by_role("button", name="OK").click()
    page.wait_for_url("**/console/eips?notice=*")
    expect(console_row(page, a).locator(".status")).to_have_text("InUse", timeout=15_000)
    got = get_eip(vpc, a)
    assert (got["InstanceType"], got["InstanceId"], got["Mode"], got["PrivateIpAddress"]) == (
        "NetworkInterface", eni, "NAT", secondary), got
    assert secondary in console_row(page, a).inner_text() and "NAT" in console_row(page, a).inner_text()


def test_con_05_a_clb_and_con_07_no_alb_or_nlb_in_the_dialog(eipd_factory, page):
    """CON-05: Associate with resource → CLB instance; CON-07: the dialog has
    no ALB or NLB and says where to go instead."""
    from alibabacloud_vpc20160428 import models as m
    from playwright.sync_api import expect
    from conftest import create_clb
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    vsw = demo_instances(srv)["demo-1"]["VpcAttributes"]["VSwitchId"]
    lb = create_clb(srv.slb(), v_switch_id=vsw)["LoadBalancerId"]
    a = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    console_sign_in(page, srv)
    page.goto(f"{srv.base_url}/console/eips/{a}/associate?type=SlbInstance")
    text = page.inner_text("main")
    assert "ALB" in text and "LB-02" in text and page.get_by_label("ALB").count() == 0
    page.locator("label.pick", has_text=lb).locator("input").check()
    page.get_by_role("button", name="OK").click()
    page.wait_for_url("**/console/eips?notice=*")
    expect(console_row(page, a).locator(".status")).to_have_text("InUse", timeout=15_000)
    got = get_eip(vpc, a)
    assert (got["InstanceType"], got["InstanceId"]) == ("SlbInstance", lb), got


@pytest.mark.parametrize("rule,kind,label", [("CON-04", "Nat", "NAT gateway"),
                                             ("CON-06", "HaVip", "High-availability virtual IP")])
def test_con_04_a_nat_gateway_and_con_06_a_havip(eipd_factory, page, rule, kind, label):
    """CON-04: Associate with resource → NAT Gateway instance; CON-06: → HaVip."""
    from alibabacloud_vpc20160428 import models as m
    from playwright.sync_api import expect
    from conftest import create_havip, create_nat, wait_havip, wait_nat
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    demo1 = demo_instances(srv)["demo-1"]
    vpc_id, vsw = demo1["VpcAttributes"]["VpcId"], demo1["VpcAttributes"]["VSwitchId"]
    if kind == "Nat":
        target = create_nat(vpc, vpc_id, vsw)["NatGatewayId"]
        wait_nat(vpc, target, "Available")
    else:
        target = create_havip(vpc, vsw)["HaVipId"]
        wait_havip(vpc, target, "Available")
    a = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    console_sign_in(page, srv)
    page.goto(f"{srv.base_url}/console/eips/{a}/associate")
    page.get_by_label(label).check()
    page.get_by_role("button", name="Show").click()
    page.locator("label.pick", has_text=target).locator("input").check()
    page.get_by_role("button", name="OK").click()
    page.wait_for_url("**/console/eips?notice=*")
    expect(console_row(page, a).locator(".status")).to_have_text("InUse", timeout=15_000)
    got = get_eip(vpc, a)
    assert (got["InstanceType"], got["InstanceId"]) == (kind, target), (rule, got)
    if kind == "HaVip":
        # HA-03: the HaVip now has its EIP; a second one is offered disabled.
        b = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
        page.goto(f"{srv.base_url}/console/eips/{b}/associate?type=HaVip")
        busy = page.locator("label.pick", has_text=target)
        assert "HA-03" in busy.inner_text() and busy.locator("input").is_disabled()


def test_con_03_an_eni_in_eip_visible_mode(eipd_factory, page):
    """CON-03: Associate with resource → Elastic Network Interface → EIP
    visible mode (cut-through: the ENI must not be attached yet, VIS-01)."""
    from alibabacloud_vpc20160428 import models as m
    from playwright.sync_api import expect
    from conftest import create_eni
    srv = eipd_factory(demo=True)
    vpc, ecs = srv.vpc(), srv.ecs()
    demo1 = demo_instances(srv)["demo-1"]
    vsw, sg = demo1["VpcAttributes"]["VSwitchId"], demo1["SecurityGroupIds"]["SecurityGroupId"][0]
    eni = create_eni(ecs, vsw, sg)["NetworkInterfaceId"]
    a = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION)).body.allocation_id
    console_sign_in(page, srv)
    page.goto(f"{srv.base_url}/console/eips/{a}/associate?type=NetworkInterface")
    page.get_by_label("EIP visible mode (cut-through)").check()
    page.locator("label.pick", has_text=eni).first.locator("input").check()
    page.get_by_role("button", name="OK").click()
    page.wait_for_url("**/console/eips?notice=*")
    expect(console_row(page, a).locator(".status")).to_have_text("InUse", timeout=15_000)
    got = get_eip(vpc, a)
    assert (got["InstanceType"], got["InstanceId"], got["Mode"]) == ("NetworkInterface", eni, "BINDED"), got
    assert "BINDED" in console_row(page, a).inner_text()


def test_the_detail_page_shows_attributes_topology_and_traffic(eipd_factory, page):
    """EIP detail: attributes, EIP → instance → vSwitch → VPC as a picture,
    and the traffic chart (a note without a data plane)."""
    from alibabacloud_vpc20160428 import models as m
    srv = eipd_factory(demo=True)
    vpc = srv.vpc()
    got = vpc.allocate_eip_address(m.AllocateEipAddressRequest(region_id=REGION, name="detail-me")).body
    demo1 = demo_instances(srv)["demo-1"]
    associate(vpc, got.allocation_id, demo1["InstanceId"])
    wait_status(vpc, got.allocation_id, "InUse")
    console_sign_in(page, srv)
    page.wait_for_url("**/console/eips")
    console_row(page, got.allocation_id).get_by_role("link", name=got.allocation_id, exact=True).click()
    page.wait_for_url(f"**/console/eips/{got.allocation_id}")
    main = page.inner_text("main")
    assert got.eip_address in main and "detail-me" in main and "InUse" in main
    topology = page.locator("svg.topology").get_attribute("aria-label")
    for part in (got.eip_address, demo1["InstanceId"], demo1["VpcAttributes"]["VSwitchId"],
                 demo1["VpcAttributes"]["VpcId"]):
        assert part in topology, topology
    assert "No traffic was counted" in main  # no data plane in this test
