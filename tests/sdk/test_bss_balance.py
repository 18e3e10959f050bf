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
