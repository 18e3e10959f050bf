"""The Quota Center (quotas 2020-05-10) through the official SDK
`alibabacloud_quotas20200510`, and the limits it governs:

* HA-02: a new account may not create HaVips (the permission is 0, as on the
  cloud); an application for it is approved at once (the default review
  policy); then it may, up to 50 HaVips (not adjustable).
* The EIP quota: 20 EIPs per account, the 21st `QuotaExceeded.Eip`; an
  application for more waits for an operator (`eipd quota approve|reject`)
  unless the review policy (`eipd quota policy`) covers it.
* Bad input gets the Quota Center's codes and changes nothing.

Each test uses an account of its own (`eipd account create`): the suite's
root account has its quotas lifted by the fixtures.
"""

from __future__ import annotations

import subprocess
import uuid

from alibabacloud_quotas20200510 import models as qm
from alibabacloud_quotas20200510.client import Client as QuotasClient

from conftest import (DEMO_ZONE, _config, allocate, create_havip, create_vpc, create_vswitch, eipd_bin,
                      expect_error, vpc_client)

HAVIP_CODE = "vpc_whitelist/ha_vip_whitelist"
EIP_CODE = "eip_quota_instances_num"


def account(srv):
    """A new account's (Quota Center client, VPC client, account name)."""
    name = f"q-{uuid.uuid4().hex[:8]}"
    ak, sk = srv.create_account(name)
    return QuotasClient(_config(srv.next_endpoint(), False, ak, sk, "cn-hangzhou")), vpc_client(
        srv.next_endpoint(), ak=ak, secret=sk), name


def quota(q, product: str, code: str) -> qm.GetProductQuotaResponseBodyQuota:
    return q.get_product_quota(qm.GetProductQuotaRequest(product_code=product, quota_action_code=code)).body.quota


def apply(q, product: str, code: str, desire, reason: str = "testing", **kw):
    return q.create_quota_application(qm.CreateQuotaApplicationRequest(
        product_code=product, quota_action_code=code, desire_value=desire, reason=reason, **kw)).body


def admin_fails(srv, *args: str) -> str:
    out = subprocess.run([str(eipd_bin()), *args, "--data-dir", str(srv.data_dir)], capture_output=True, text=True,
                         timeout=30, env=srv.admin_env())
    assert out.returncode != 0, out
    return out.stderr


def test_ha_02_the_havip_permission_is_applied_for_and_granted_then_50_havips_at_most(eipd_factory):
    srv = eipd_factory(demo=False)
    q, vpc, _ = account(srv)
    vpc_id = create_vpc(vpc, cidr="10.8.0.0/16")
    vsw = create_vswitch(vpc, vpc_id, DEMO_ZONE, "10.8.0.0/24")
    perm = quota(q, "vpc", HAVIP_CODE)
    assert (perm.total_quota, perm.quota_type, perm.quota_category) == (0.0, "privilege", "WhiteListLabel")
    expect_error(create_havip, 400, "OperationDenied.HaVipNotEnabled", vpc, vsw)
    got = apply(q, "vpc", HAVIP_CODE, 1, quota_category="WhiteListLabel")
    assert (got.status, got.approve_value, got.desire_value) == ("Agree", 1.0, 1), got.to_map()
    assert quota(q, "vpc", HAVIP_CODE).total_quota == 1.0
    # Granted once: asking again is not a higher value.
    expect_error(apply, 400, "QUOTA.DESIREVALUE.ILLEGAL", q, "vpc", HAVIP_CODE, 1)
    for _ in range(50):
        create_havip(vpc, vsw)
    expect_error(create_havip, 400, "QuotaExceeded.HaVip", vpc, vsw)
    # The count is not in the Quota Center (not adjustable on the cloud).
    expect_error(quota, 400, "QUOTA.NOT.FOUND", q, "vpc", "havip_count")


def test_the_console_key_of_the_havip_permission_names_the_same_quota(eipd_factory):
    srv = eipd_factory(demo=False)
    q, _, _ = account(srv)
    alias = quota(q, "vpc", "vpc_privilege_allow_buy_havip_instance")
    assert alias.quota_action_code == HAVIP_CODE
    got = apply(q, "vpc", "vpc_privilege_allow_buy_havip_instance", 1)
    assert got.status == "Agree" and got.quota_action_code == "vpc_privilege_allow_buy_havip_instance"
    assert quota(q, "vpc", HAVIP_CODE).total_quota == 1.0


def test_the_eip_quota_is_20_and_an_operator_decides_applications_for_more(eipd_factory):
    srv = eipd_factory(demo=False)
    q, vpc, name = account(srv)
    listed = q.list_product_quotas(qm.ListProductQuotasRequest(product_code="eip")).body
    assert [x.quota_action_code for x in listed.quotas] == [EIP_CODE] and listed.total_count == 1
    assert (listed.quotas[0].total_quota, listed.quotas[0].total_usage) == (20.0, 0.0)
    for _ in range(20):
        allocate(vpc)
    expect_error(allocate, 400, "QuotaExceeded.Eip", vpc)
    assert quota(q, "eip", EIP_CODE).total_usage == 20.0
    # Below what is held, not a whole number, or out of range: refused.
    for bad in (15, 20, 25.5, -3, 10**7):
        expect_error(apply, 400, "QUOTA.DESIREVALUE.ILLEGAL", q, "eip", EIP_CODE, bad)
    pending = apply(q, "eip", EIP_CODE, 30, reason="a bigger lab")
    assert pending.status == "Process" and pending.approve_value is None
    assert quota(q, "eip", EIP_CODE).total_quota == 20.0, "nothing changes before the decision"
    listing = srv.admin("quota", "applications", "--data-dir", str(srv.data_dir))
    assert pending.application_id in listing and "Process" in listing
    srv.admin("quota", "approve", pending.application_id, "--reason", "ok for the lab", "--data-dir", str(srv.data_dir))
    got = q.get_quota_application(qm.GetQuotaApplicationRequest(application_id=pending.application_id)).body
    assert (got.quota_application.status, got.quota_application.approve_value,
            got.quota_application.audit_reason) == ("Agree", 30.0, "ok for the lab")
    assert quota(q, "eip", EIP_CODE).total_quota == 30.0
    allocate(vpc)
    # Decided once.
    assert "decided" in admin_fails(srv, "quota", "approve", pending.application_id)
    # A rejection leaves the quota as it was.
    more = apply(q, "eip", EIP_CODE, 40)
    srv.admin("quota", "reject", more.application_id, "--reason", "no", "--data-dir", str(srv.data_dir))
    assert quota(q, "eip", EIP_CODE).total_quota == 30.0
    apps = q.list_quota_applications(qm.ListQuotaApplicationsRequest(product_code="eip")).body
    assert [a.status for a in apps.quota_applications] == ["Disagree", "Agree"], "newest first"
    only = q.list_quota_applications(qm.ListQuotaApplicationsRequest(status="Agree")).body
    assert [a.application_id for a in only.quota_applications] == [pending.application_id]
    # The review policy approves up to its ceiling when filed.
    srv.admin("quota", "policy", "eip_count", "100", "--data-dir", str(srv.data_dir))
    quick = apply(q, "eip", EIP_CODE, 60)
    assert quick.status == "Agree" and quota(q, "eip", EIP_CODE).total_quota == 60.0
    assert apply(q, "eip", EIP_CODE, 200).status == "Process"
    assert name  # the account the operator saw in `quota applications`


def test_bad_quota_center_input_gets_its_codes_and_changes_nothing(eipd_factory):
    srv = eipd_factory(demo=False)
    q, _, _ = account(srv)
    other, _, _ = account(srv)
    mine = apply(q, "eip", EIP_CODE, 25)
    expect_error(q.list_product_quotas, 400, "QUOTA.NOT.FOUND", qm.ListProductQuotasRequest(product_code="ecs-x"))
    expect_error(q.list_product_quotas, 400, "MissingProductCode", qm.ListProductQuotasRequest())
    expect_error(q.list_product_quotas, 400, "CATEGORY.NOT.SUPPORTED",
                 qm.ListProductQuotasRequest(product_code="eip", quota_category="Bogus"))
    flow = q.list_product_quotas(qm.ListProductQuotasRequest(product_code="eip", quota_category="FlowControl")).body
    assert flow.total_count == 0
    expect_error(quota, 400, "QUOTA.NOT.FOUND", q, "eip", "no_such_quota")
    expect_error(quota, 400, "QUOTA.NOT.FOUND", q, "vpc", EIP_CODE)
    dim = qm.ListProductQuotasRequestDimensions
    expect_error(q.list_product_quotas, 400, "QUOTA.DIMENSION.UNSUPPORT",
                 qm.ListProductQuotasRequest(product_code="eip", dimensions=[dim(key="zoneId", value="x")]))
    expect_error(q.list_product_quotas, 400, "QUOTA.DIMENSION.VALUE.UNSUPPORT",
                 qm.ListProductQuotasRequest(product_code="eip", dimensions=[dim(key="regionId", value="mars-1")]))
    region = q.list_product_quotas(qm.ListProductQuotasRequest(
        product_code="eip", dimensions=[dim(key="regionId", value="cn-hangzhou")])).body.quotas[0]
    assert region.dimensions == {"regionId": "cn-hangzhou"} and ":cn-hangzhou:" in region.quota_arn
    expect_error(apply, 400, "QUOTA.NOT.FOUND", q, "eip", EIP_CODE, 30, quota_category="WhiteListLabel")
    expect_error(apply, 400, "MissingParameter.Reason", q, "eip", EIP_CODE, 30, reason=None)
    expect_error(q.get_quota_application, 400, "QUOTA.APPLICATION.NOT.FOUND",
                 qm.GetQuotaApplicationRequest(application_id="00000000-0000-4000-0000-000000000000"))
    # Another account's application is not found either.
    expect_error(other.get_quota_application, 400, "QUOTA.APPLICATION.NOT.FOUND",
                 qm.GetQuotaApplicationRequest(application_id=mine.application_id))
    expect_error(q.list_quota_applications, 400, "InvalidParameter", qm.ListQuotaApplicationsRequest(status="Maybe"))
    apps = q.list_quota_applications(qm.ListQuotaApplicationsRequest()).body
    assert [a.application_id for a in apps.quota_applications] == [mine.application_id]
    assert other.list_quota_applications(qm.ListQuotaApplicationsRequest()).body.total_count == 0
    assert quota(q, "eip", EIP_CODE).total_quota == 20.0
    assert "not a quota" in admin_fails(srv, "quota", "policy", "nope", "5")
    assert "takes no applications" in admin_fails(srv, "quota", "policy", "havip_count", "60")
