"""Wire protocol: signatures (V3, V1, legacy), clock and nonce windows,
routing by version/action, error envelope, parameter validation."""

from __future__ import annotations

import json
import uuid

import pytest
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
from alibabacloud_vpc20160428 import models as vpc_models
from aliyunsdkcore.acs_exception.exceptions import ServerException as LegacyServerException
from aliyunsdkvpc.request.v20160428 import (
    DescribeEipAddressesRequest as LDescribe,
    ReleaseEipAddressRequest as LRelease,
)
from darabonba.runtime import RuntimeOptions

from conftest import (
    REGION,
    sqlite_only,
    Legacy,
    allocate,
    associate,
    capture_error,
    check_error_body,
    describe_eips,
    eip_list,
    expect_error,
    get_eip,
    modify,
    override_clock,
    override_nonce,
    release,
    unassociate,
    vpc_client,
)

UNKNOWN_EIP = "eip-" + "0" * 22
UNKNOWN_INSTANCE = "i-" + "0" * 20
SIG_MSG_PREFIX = "Specified signature is not matched with our calculation. server string to sign is:"
VPC_VERSION = "2016-04-28"
ECS_VERSION = "2014-05-26"


def call_action(client, action: str, version: str = VPC_VERSION, query: dict | None = None,
                form: dict | None = None, rt: RuntimeOptions | None = None) -> dict:
    """The SDK's generic call_api (same transport and signer as the typed calls)."""
    params = Params(action=action, version=version, protocol="HTTP", pathname="/", method="POST",
                    auth_type="AK", style="RPC", req_body_type="formData", body_type="json")
    req = OpenApiRequest(query=Utils.query(query or {}), body=form)
    return client.call_api(params, req, rt or RuntimeOptions())


def client_kinds(server):
    return {"v3": server.vpc(), "v1": server.vpc(v1=True)}


# ------------------------------------------------------------ signatures

@pytest.mark.parametrize("kind", ["v3", "v1"])
def test_signature_wrong_secret_refused(server, kind):
    vpc = server.vpc(v1=(kind == "v1"), secret="not-the-secret")
    err = expect_error(describe_eips, 400, "SignatureDoesNotMatch", vpc)
    check_error_body(err)
    if kind == "v1":
        assert err.message.startswith(SIG_MSG_PREFIX), err.message


def test_signature_wrong_secret_legacy_string_to_sign_matches(server):
    """The legacy SDK compares the server's string-to-sign (after the ':' of the
    SignatureDoesNotMatch message) with its own; an exact match turns the error
    into InvalidAccessKeySecret. So this proves the V1 canonicalisation."""
    leg = Legacy(server.endpoint, secret="not-the-secret")
    req = LDescribe.DescribeEipAddressesRequest()
    with pytest.raises(LegacyServerException) as ei:
        leg.call(req)
    e = ei.value
    assert e.get_http_status() == 400
    assert e.get_error_code() == "InvalidAccessKeySecret", (
        f"server string-to-sign differs from the SDK's: code={e.get_error_code()} "
        f"msg={e.get_error_msg()!r} sdk string_to_sign={req.string_to_sign!r}")


@pytest.mark.parametrize("kind", ["v3", "v1", "legacy"])
def test_unknown_access_key_id(server, kind):
    if kind == "legacy":
        leg = Legacy(server.endpoint, ak="no-such-key")
        err = expect_error(leg.call, 404, "InvalidAccessKeyId.NotFound", LDescribe.DescribeEipAddressesRequest())
    else:
        vpc = server.vpc(v1=(kind == "v1"), ak="no-such-key")
        err = expect_error(describe_eips, 404, "InvalidAccessKeyId.NotFound", vpc)
        check_error_body(err)


@pytest.mark.parametrize("kind", ["v3", "v1"])
@pytest.mark.parametrize("skew_s", [-20 * 60, 20 * 60])
def test_timestamp_outside_15_minutes_refused(server, kind, skew_s):
    vpc = client_kinds(server)[kind]
    err = expect_error(describe_eips, 400, "InvalidTimeStamp.Expired", vpc, rt=override_clock(vpc, skew_s))
    check_error_body(err)


@pytest.mark.parametrize("kind", ["v3", "v1"])
def test_timestamp_inside_window_accepted(server, kind):
    vpc = client_kinds(server)[kind]
    for skew in (-5 * 60, 5 * 60):
        d = describe_eips(vpc, rt=override_clock(vpc, skew))
        assert isinstance(d.get("TotalCount"), int), d


@pytest.mark.parametrize("kind", ["v3", "v1"])
def test_signature_nonce_reuse_refused(server, kind):
    vpc = client_kinds(server)[kind]
    nonce = uuid.uuid4().hex
    d = describe_eips(vpc, rt=override_nonce(vpc, nonce))
    assert "TotalCount" in d
    err = expect_error(describe_eips, 400, "SignatureNonceUsed", vpc, rt=override_nonce(vpc, nonce))
    check_error_body(err)
    # a fresh nonce is fine again
    assert "TotalCount" in describe_eips(vpc, rt=override_nonce(vpc, uuid.uuid4().hex))


@pytest.mark.parametrize("kind", ["v3", "v1"])
def test_signature_nonce_of_a_write_stays_used_after_a_crash(eipd_factory, kind):
    """A captured write replayed after eipd restarts (kill -9, so nothing is
    flushed on the way out) is refused, not run a second time."""
    srv = eipd_factory(demo=False)
    vpc = client_kinds(srv)[kind]
    nonce = uuid.uuid4().hex
    first = allocate(vpc, rt=override_nonce(vpc, nonce))["AllocationId"]
    srv.kill9()
    srv.restart()
    vpc = client_kinds(srv)[kind]
    err = expect_error(allocate, 400, "SignatureNonceUsed", vpc, rt=override_nonce(vpc, nonce))
    check_error_body(err)
    assert [e["AllocationId"] for e in eip_list(describe_eips(vpc))] == [first]
    # A refused write records nothing: its nonce stays usable.
    bad = uuid.uuid4().hex
    refused = capture_error(allocate, vpc, rt=override_nonce(vpc, bad), ip_address="203.0.113.9")
    assert refused.status is not None and 400 <= refused.status < 500, refused
    assert refused.code != "SignatureNonceUsed", refused
    srv.kill9()
    srv.restart()
    vpc = client_kinds(srv)[kind]
    assert allocate(vpc, rt=override_nonce(vpc, bad))["AllocationId"] != first


def test_root_key_from_the_environment_replaces_the_earlier_pair(eipd_factory):
    """EIPD_ROOT_ACCESS_KEY_ID/SECRET give root exactly that pair: after a
    restart with another pair, the earlier one is refused."""
    srv = eipd_factory(demo=False, env={"EIPD_ROOT_ACCESS_KEY_ID": "first",
                                        "EIPD_ROOT_ACCESS_KEY_SECRET": "firstsecret"})
    ep = srv.endpoint
    assert "TotalCount" in describe_eips(vpc_client(ep, ak="first", secret="firstsecret"))
    srv.stop()
    srv.extra_env.update({"EIPD_ROOT_ACCESS_KEY_ID": "second", "EIPD_ROOT_ACCESS_KEY_SECRET": "secondsecret"})
    srv.restart()
    ep = srv.endpoint
    err = expect_error(describe_eips, 400, "InvalidAccessKeyId.Inactive",
                       vpc_client(ep, ak="first", secret="firstsecret"))
    check_error_body(err)
    assert "TotalCount" in describe_eips(vpc_client(ep, ak="second", secret="secondsecret"))


def test_control_characters_in_parameters_refused(vpc_v3, res):
    """A Description with C0 controls would come back as XML no parser reads."""
    err = expect_error(allocate, 400, "InvalidParameter", vpc_v3, description="x\x01y")
    assert "Description" in err.message, err
    a = res.eip()["AllocationId"]
    expect_error(modify, 400, "InvalidParameter", vpc_v3, a, name="a\x00b")
    # Tabs and line breaks are text.
    modify(vpc_v3, a, description="line one\nline two\ttabbed")
    e = eip_list(describe_eips(vpc_v3, allocation_id=a))[0]
    assert e["Description"] == "line one\nline two\ttabbed", e


def _raw(server, method: str, query: str, body: bytes = b"", ctype: str = "application/x-www-form-urlencoded"):
    import http.client
    host, port = server.endpoint.split(":")
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        c.request(method, "/?" + query, body=body, headers={"Content-Type": ctype})
        r = c.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        c.close()


def test_refusals_before_parsing_honour_format_xml(server):
    import xml.dom.minidom
    # No signature at all.
    status, ctype, body = _raw(server, "GET", "Format=XML&Action=DescribeRegions&Version=2016-04-28")
    assert status == 400 and ctype.startswith("text/xml"), (status, ctype, body)
    doc = xml.dom.minidom.parseString(body)
    assert doc.getElementsByTagName("Code")[0].firstChild.data == "IncompleteSignature", body
    # A body over the limit (1 MiB): the envelope, not a bare 413.
    status, ctype, body = _raw(server, "POST", "Format=XML", b"a" * (3 << 20))
    assert status == 413 and ctype.startswith("text/xml"), (status, ctype, body[:200])
    assert xml.dom.minidom.parseString(body).getElementsByTagName("Code")[0].firstChild.data == "InvalidParameter"
    status, ctype, body = _raw(server, "POST", "Format=JSON", b"a" * ((1 << 20) + 10))
    assert status == 413 and json.loads(body)["Code"] == "InvalidParameter", (status, body[:200])


@sqlite_only
def test_data_directory_and_database_are_private(eipd_factory):
    """The database holds every AccessKey secret: its files are the owner's
    alone (a data directory eipd creates itself is 0700 too; this harness
    makes the directory before)."""
    import stat
    srv = eipd_factory(demo=False)
    for p in (srv.data_dir / "eipd.db", srv.data_dir / "eipd.db-wal", srv.data_dir / "eipd.db-shm",
              srv.data_dir / "secrets.key"):
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode & 0o077 == 0, f"{p}: {oct(mode)}"


# ------------------------------------------------------------ routing

@pytest.mark.parametrize("kind", ["v3", "v1"])
def test_unknown_action_not_found(server, kind):
    vpc = client_kinds(server)[kind]
    err = expect_error(call_action, 404, "InvalidAction.NotFound", vpc, "NoSuchEipAction")
    check_error_body(err)


def test_unknown_action_not_found_legacy(legacy):
    req = LDescribe.DescribeEipAddressesRequest()
    req.set_action_name("NoSuchEipAction")
    expect_error(legacy.call, 404, "InvalidAction.NotFound", req)


def test_version_selects_product(server):
    vpc = server.vpc()
    # an ECS-only action under the VPC version does not exist
    expect_error(call_action, 404, "InvalidAction.NotFound", vpc, "RunInstances", VPC_VERSION,
                 {"RegionId": REGION})
    # DescribeRegions exists in both products; the version picks the one answering
    v = call_action(vpc, "DescribeRegions", VPC_VERSION)["body"]
    e = call_action(vpc, "DescribeRegions", ECS_VERSION)["body"]
    assert any(r["RegionId"] == REGION for r in v["Regions"]["Region"]), v
    assert any(r["RegionId"] == REGION for r in e["Regions"]["Region"]), e
    # ECS DescribeInstances answers under the ECS version only
    d = call_action(vpc, "DescribeInstances", ECS_VERSION, {"RegionId": REGION})["body"]
    assert isinstance(d["Instances"]["Instance"], list), d
    expect_error(call_action, 404, "InvalidAction.NotFound", vpc, "DescribeInstances", VPC_VERSION,
                 {"RegionId": REGION})


@pytest.mark.parametrize("kind", ["v3", "v1"])
def test_parameters_in_form_body_accepted(server, res, kind):
    vpc = client_kinds(server)[kind]
    a = res.eip()
    res.eip()
    d = call_action(vpc, "DescribeEipAddresses", form={"RegionId": REGION, "AllocationId": a["AllocationId"]})
    items = d["body"]["EipAddresses"]["EipAddress"]
    assert [e["AllocationId"] for e in items] == [a["AllocationId"]], d["body"]


# ------------------------------------------------------------ error envelope

def test_error_envelope_json(legacy):
    req = LRelease.ReleaseEipAddressRequest()
    req.set_AllocationId(UNKNOWN_EIP)
    req.set_accept_format("JSON")
    status, headers, raw = legacy.raw(req)
    assert status == 404, raw
    ctype = {k.lower(): v for k, v in dict(headers).items()}.get("content-type", "")
    assert "application/json" in ctype, headers
    b = json.loads(raw)
    assert set(b) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}, b
    assert b["Code"] == "InvalidAllocationId.NotFound", b


def test_dry_run_describe(vpc_v3, vpc_v1):
    for vpc in (vpc_v3, vpc_v1):
        err = expect_error(describe_eips, 400, "DryRunOperation", vpc, dry_run=True)
        check_error_body(err)
        # DryRun=False (sent as "False" by the Python SDK) is a normal call
        assert isinstance(describe_eips(vpc, dry_run=False)["TotalCount"], int)


# ------------------------------------------------------------ required / malformed / not found

def test_missing_parameter_allocation_id(vpc_v3, res):
    iid = res.instance()
    calls = [
        lambda: vpc_v3.release_eip_address(vpc_models.ReleaseEipAddressRequest(region_id=REGION)),
        lambda: vpc_v3.associate_eip_address(vpc_models.AssociateEipAddressRequest(
            region_id=REGION, instance_id=iid, instance_type="EcsInstance")),
        lambda: vpc_v3.unassociate_eip_address(vpc_models.UnassociateEipAddressRequest(region_id=REGION)),
        lambda: vpc_v3.modify_eip_address_attribute(vpc_models.ModifyEipAddressAttributeRequest(
            region_id=REGION, name="x")),
    ]
    for c in calls:
        err = expect_error(c, 400, "MissingParameter.AllocationId")
        check_error_body(err)


def test_missing_parameter_instance_id(vpc_v1, res):
    aid = res.eip()["AllocationId"]
    err = expect_error(lambda: vpc_v1.associate_eip_address(vpc_models.AssociateEipAddressRequest(
        region_id=REGION, allocation_id=aid)), 400, "MissingParameter.InstanceId")
    check_error_body(err)


def test_unknown_allocation_id_not_found(vpc_v3, res):
    iid = res.instance()
    for fn, args in [
        (associate, (vpc_v3, UNKNOWN_EIP, iid)),
        (unassociate, (vpc_v3, UNKNOWN_EIP, iid)),
        (release, (vpc_v3, UNKNOWN_EIP)),
        (modify, (vpc_v3, UNKNOWN_EIP)),
    ]:
        err = expect_error(fn, 404, "InvalidAllocationId.NotFound", *args)
        check_error_body(err)


def test_describe_unknown_allocation_id_is_empty(vpc_v3):
    d = describe_eips(vpc_v3, allocation_id=UNKNOWN_EIP)
    assert eip_list(d) == [] and d["TotalCount"] == 0, d


def test_unknown_instance_on_associate(vpc_v3, res):
    aid = res.eip()["AllocationId"]
    err = expect_error(associate, 404, "InvalidInstanId.NotFound", vpc_v3, aid, UNKNOWN_INSTANCE)
    check_error_body(err)


def test_malformed_values_invalid_parameter(vpc_v3, res):
    aid = res.eip()["AllocationId"]
    iid = res.instance()
    # the Python SDK does not type-check, so a non-number reaches the wire
    err = capture_error(describe_eips, vpc_v3, page_size="abc")
    assert err and err.status == 400 and err.code.startswith("InvalidParameter"), err
    err = capture_error(allocate, vpc_v3, bandwidth="lots")
    assert err and err.status == 400 and err.code in ("InvalidParameter", "InvalidBandwidth.Malformed"), err
    err = capture_error(associate, vpc_v3, aid, iid, instance_type="Toaster")
    assert err and err.status == 400 and err.code in (
        "InvalidInstanceType.ValueNotSupported", "InvalidParameter"), err
    err = capture_error(allocate, vpc_v3, internet_charge_type="PayByMood")
    assert err and err.status == 400 and err.code == "InvalidParameter", err
    err = capture_error(allocate, vpc_v3, zone="cn-hangzhou-z")
    assert err and (err.status, err.code) == (400, "IllegalParam.Zone"), err
    assert allocate(vpc_v3, zone="cn-hangzhou-h")["AllocationId"]
    err = capture_error(associate, vpc_v3, aid, iid, private_ip_address="999.1.1.1")
    assert err and err.status == 400 and err.code == "InvalidParameter", err
    err = capture_error(associate, vpc_v3, aid, iid, private_ip_address="172.31.255.250")
    assert err and err.status == 400 and err.code == "InvalidParameter" and "PrivateIpAddress" in err.message, err
    assert get_eip(vpc_v3, aid)["Status"] == "Available"
    err = capture_error(describe_eips, vpc_v3, allocation_id=" , ,")
    assert err and (err.status, err.code) == (400, "InvalidParameter"), err


def test_hidden_owner_parameters_ignored(vpc_v1, res):
    a = res.eip(client=vpc_v1, owner_id=123456, resource_owner_account="someone", owner_account="x")
    d = describe_eips(vpc_v1, allocation_id=a["AllocationId"], resource_owner_id=42)
    assert [e["AllocationId"] for e in eip_list(d)] == [a["AllocationId"]]


def test_healthz(server):
    status, _ = server.http_get("/healthz")
    assert status == 200
