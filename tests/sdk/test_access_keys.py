"""Accounts and AccessKeys administered while the server runs:
`eipd accesskey create|list|disable|enable|delete` and
`eipd account disable|enable`. An account has several key pairs, each signs
for it; a disabled key, or any key of a disabled account, gets
`InvalidAccessKeyId.Inactive` from the next request on; a key is deleted only
once disabled, and then it is `InvalidAccessKeyId.NotFound`. Secrets are
printed once, at creation, and never listed."""

from __future__ import annotations

import re
import subprocess
import uuid

from alibabacloud_vpc20160428 import models as vm

from conftest import REGION, allocate, eipd_bin, expect_error, vpc_client


def admin(srv, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(eipd_bin()), *args, "--data-dir", str(srv.data_dir)], capture_output=True, text=True,
                          timeout=30, env=srv.admin_env())


def new_key(srv, account: str) -> tuple[str, str]:
    out = admin(srv, "accesskey", "create", account)
    assert out.returncode == 0, out
    ak = re.search(r"^AccessKeyId:\s*(\S+)", out.stdout, re.M).group(1)
    sk = re.search(r"^AccessKeySecret:\s*(\S+)", out.stdout, re.M).group(1)
    return ak, sk


def describe(vpc):
    return vpc.describe_eip_addresses(vm.DescribeEipAddressesRequest(region_id=REGION)).body


def test_keys_are_created_listed_disabled_and_deleted_while_the_server_runs(eipd_factory):
    srv = eipd_factory(demo=False)
    name = f"k-{uuid.uuid4().hex[:8]}"
    ak1, sk1 = srv.create_account(name)
    ak2, sk2 = new_key(srv, name)
    first, second = vpc_client(srv.next_endpoint(), ak=ak1, secret=sk1), vpc_client(srv.next_endpoint(), ak=ak2,
                                                                                    secret=sk2)
    # Both sign for the same account.
    mine = allocate(first)["AllocationId"]
    assert [e.allocation_id for e in describe(second).eip_addresses.eip_address] == [mine]
    listed = admin(srv, "accesskey", "list", name)
    assert listed.returncode == 0 and ak1 in listed.stdout and ak2 in listed.stdout
    assert sk1 not in listed.stdout and sk2 not in listed.stdout, "secrets are never listed"
    # Disabled: refused at once, the other key unaffected.
    assert admin(srv, "accesskey", "disable", ak2).returncode == 0
    expect_error(describe, 400, "InvalidAccessKeyId.Inactive", second)
    describe(first)
    assert re.search(rf"^{ak2}\tdisabled\t", admin(srv, "accesskey", "list", name).stdout, re.M)
    # Enabled again: works again.
    assert admin(srv, "accesskey", "enable", ak2).returncode == 0
    describe(second)
    # An enabled key cannot be deleted; a disabled one can, and is then unknown.
    refused = admin(srv, "accesskey", "delete", ak2)
    assert refused.returncode != 0 and "disable it before deleting" in refused.stderr, refused
    describe(second)
    assert admin(srv, "accesskey", "disable", ak2).returncode == 0
    assert admin(srv, "accesskey", "delete", ak2).returncode == 0
    expect_error(describe, 404, "InvalidAccessKeyId.NotFound", second)
    assert ak2 not in admin(srv, "accesskey", "list", name).stdout
    # Unknown ids and accounts are refused by the commands.
    for args in (["accesskey", "disable", "LTAInope"], ["accesskey", "delete", "LTAInope"],
                 ["accesskey", "create", "no-such-account"], ["account", "disable", "no-such-account"]):
        out = admin(srv, *args)
        assert out.returncode != 0 and "not found" in out.stderr, (args, out)


def test_a_disabled_account_signs_nothing_until_enabled(eipd_factory):
    srv = eipd_factory(demo=False)
    name = f"d-{uuid.uuid4().hex[:8]}"
    ak1, sk1 = srv.create_account(name)
    ak2, sk2 = new_key(srv, name)
    keys = [vpc_client(srv.next_endpoint(), ak=a, secret=s) for a, s in ((ak1, sk1), (ak2, sk2))]
    describe(keys[0])
    assert admin(srv, "account", "disable", name).returncode == 0
    for k in keys:
        expect_error(describe, 400, "InvalidAccessKeyId.Inactive", k)
    assert re.search(rf"\t{name}\tdisabled\t", admin(srv, "account", "list").stdout)
    # Other accounts are unaffected.
    describe(srv.vpc())
    assert admin(srv, "account", "enable", name).returncode == 0
    for k in keys:
        describe(k)


def test_a_disabled_account_is_signed_out_of_the_console(eipd_factory, page):
    from conftest import console_sign_in

    srv = eipd_factory(demo=False)
    name = f"c-{uuid.uuid4().hex[:8]}"
    ak, sk = srv.create_account(name)
    console_sign_in(page, srv, ak, sk)
    page.wait_for_url(f"{srv.base_url}/console/eips")
    assert admin(srv, "account", "disable", name).returncode == 0
    page.goto(f"{srv.base_url}/console/eips")
    page.wait_for_url(f"{srv.base_url}/console/signin")
    # Nor can it sign in again.
    console_sign_in(page, srv, ak, sk)
    assert page.url.endswith("/console/signin"), page.url
    assert page.get_by_role("alert").is_visible()
