"""BssOpenApi (2017-12-14) through the official SDK
`alibabacloud_bssopenapi20171214`: QueryAccountBalance reports the balance
`eipd account topup` fills, in the BssOpenApi envelope (Code "200",
Success true, amounts as strings of dollars); each account has its own;
bad top-ups change nothing."""

from __future__ import annotations

import subprocess
import uuid

from alibabacloud_bssopenapi20171214.client import Client as BssClient

from conftest import _config, eipd_bin


def bss(srv, ak: str, sk: str) -> BssClient:
    return BssClient(_config(srv.next_endpoint(), False, ak, sk, "cn-hangzhou"))


def topup(srv, name: str, amount: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(eipd_bin()), "account", "topup", name, amount, "--data-dir", str(srv.data_dir)],
                          capture_output=True, text=True, timeout=30, env=srv.admin_env())


def test_the_balance_is_what_was_topped_up_and_bad_top_ups_change_nothing(eipd_factory):
    srv = eipd_factory(demo=False)
    name = f"b-{uuid.uuid4().hex[:8]}"
    ak, sk = srv.create_account(name)
    client = bss(srv, ak, sk)
    first = client.query_account_balance().body
    assert (first.code, first.message, first.success) == ("200", "success", True)
    assert first.data.available_amount == "0.00" and first.data.currency == "USD"
    out = topup(srv, name, "25")
    assert out.returncode == 0 and "USD 25.00" in out.stdout, out
    assert topup(srv, name, "12.345").returncode == 0
    got = client.query_account_balance().body.data
    assert (got.available_amount, got.available_cash_amount) == ("37.35", "37.35")
    assert (got.credit_amount, got.mybank_credit_amount, got.quota_limit) == ("0.00", "0.00", "0.00")
    for bad in ("0", "-5", "abc", "1000000.01", "1.1234567"):
        out = topup(srv, name, bad)
        assert out.returncode != 0 and out.stderr.startswith("eipd: "), (bad, out)
    out = topup(srv, "no-such-account", "5")
    assert out.returncode != 0 and "not found" in out.stderr, out
    assert client.query_account_balance().body.data.available_amount == "37.35"
    # Another account's balance is its own.
    other_ak, other_sk = srv.create_account(f"o-{uuid.uuid4().hex[:8]}")
    assert bss(srv, other_ak, other_sk).query_account_balance().body.data.available_amount == "0.00"


def test_query_available_instances_lists_the_accounts_eips_and_answers_terraforms_probe(eipd_factory):
    from alibabacloud_bssopenapi20171214 import models as bm
    from alibabacloud_vpc20160428 import models as vm

    from conftest import REGION, allocate, expect_error, vpc_client

    srv = eipd_factory(demo=False)
    ak, sk = srv.create_account(f"i-{uuid.uuid4().hex[:8]}")
    client, vpc = bss(srv, ak, sk), vpc_client(srv.next_endpoint(), ak=ak, secret=sk)
    # What Terraform's provider sends at start to learn the account type.
    probe = client.query_available_instances(bm.QueryAvailableInstancesRequest(
        product_code="vipcloudfw", product_type="vipcloudfw", subscription_type="Subscription",
        page_num=1, page_size=50)).body
    assert (probe.code, probe.success, probe.data.total_count, probe.data.instance_list) == ("200", True, 0, [])
    payg = allocate(vpc)["AllocationId"]
    bought = vpc.allocate_eip_address(vm.AllocateEipAddressRequest(
        region_id=REGION, instance_charge_type="PrePaid", internet_charge_type="PayByBandwidth",
        period=1, pricing_cycle="Month", auto_pay=True)).body.to_map()
    # A subscription answers with its order; the address is for DescribeEipAddresses.
    assert bought.get("OrderId") and "EipAddress" not in bought and "ResourceGroupId" not in bought, bought
    sub = bought["AllocationId"]
    both = client.query_available_instances(bm.QueryAvailableInstancesRequest(product_code="eip")).body.data
    assert both.total_count == 2 and {i.instance_id for i in both.instance_list} == {payg, sub}
    subs = client.query_available_instances(bm.QueryAvailableInstancesRequest(
        product_code="eip", subscription_type="Subscription")).body.data
    assert [i.instance_id for i in subs.instance_list] == [sub]
    item = subs.instance_list[0]
    assert (item.product_code, item.region, item.status, item.renew_status) == ("eip", REGION, "Normal",
                                                                                 "ManualRenewal")
    assert item.end_time > item.create_time, item.to_map()
    only = client.query_available_instances(bm.QueryAvailableInstancesRequest(instance_ids=payg)).body.data
    assert [i.subscription_type for i in only.instance_list] == ["PayAsYouGo"]
    page = client.query_available_instances(bm.QueryAvailableInstancesRequest(page_size=1, page_num=2)).body.data
    assert (page.total_count, len(page.instance_list), page.page_num) == (2, 1, 2)
    expect_error(client.query_available_instances, 400, "InvalidParameter",
                 bm.QueryAvailableInstancesRequest(subscription_type="Monthly"))
    expect_error(client.query_available_instances, 400, "InvalidParameter",
                 bm.QueryAvailableInstancesRequest(page_size=301))
    expect_error(client.query_available_instances, 400, "InvalidParameter",
                 bm.QueryAvailableInstancesRequest(end_time_start="yesterday"))
