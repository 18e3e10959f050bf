"""Issue 10: the actions real automation tools call besides the core EIP API
(Ansible's ali_vpc / ali_vswitch wait on DescribeVpcAttribute /
DescribeVSwitchAttributes, footmark reads DescribeLoadBalancerAttribute,
Terraform's alicloud_eip_address updates through TagResources,
DeletionProtection and MoveResourceGroup, tools find the account through
STS GetCallerIdentity), through the official SDKs (V3 and V1), with their
errors; and Terraform's call sequences replayed with its query/body split."""

from __future__ import annotations

import json

import pytest
from alibabacloud_ecs20140526 import models as ecs_models
from alibabacloud_slb20140515 import models as slb_models
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    AK_ID,
    REGION,
    _config,
    body,
    describe_eips,
    eip_list,
    encode_pairs,
    expect_error,
    get_eip,
    raw_once,
    release,
    v1_pairs,
)

UNKNOWN_VPC = "vpc-" + "0" * 22


@pytest.fixture(params=["v3", "v1"])
def kind(request):
    return request.param


def clients(server, kind):
    v1 = kind == "v1"
    return server.vpc(v1=v1), server.ecs(v1=v1), server.slb(v1=v1)


# ------------------------------------------------------------ VPC and vSwitch attributes

def test_describe_vpc_attribute(server, network, kind):
    vpc, _, _ = clients(server, kind)
    got = body(vpc.describe_vpc_attribute(vpc_models.DescribeVpcAttributeRequest(
        region_id=REGION, vpc_id=network.vpc_id)))
    assert got["VpcId"] == network.vpc_id and got["Status"] == "Available", got
    assert got["CidrBlock"] == "192.168.0.0/16" and got["RegionId"] == REGION
    assert network.vsw_id in got["VSwitchIds"]["VSwitchId"]
    assert got["SecondaryCidrBlocks"]["SecondaryCidrBlock"] == []  # Terraform needs the list
    err = expect_error(vpc.describe_vpc_attribute, 404, "InvalidVpcId.NotFound",
                       vpc_models.DescribeVpcAttributeRequest(region_id=REGION, vpc_id=UNKNOWN_VPC))
    assert UNKNOWN_VPC in err.message


def test_describe_vswitch_attributes(server, network, kind):
    vpc, _, _ = clients(server, kind)
    got = body(vpc.describe_vswitch_attributes(vpc_models.DescribeVSwitchAttributesRequest(
        region_id=REGION, v_switch_id=network.vsw_id)))
    assert got["VSwitchId"] == network.vsw_id and got["VpcId"] == network.vpc_id, got
    assert got["Status"] == "Available" and got["CidrBlock"] == "192.168.0.0/18"
    assert got["AvailableIpAddressCount"] > 16000
    route_table = body(vpc.describe_vpc_attribute(vpc_models.DescribeVpcAttributeRequest(
        region_id=REGION, vpc_id=network.vpc_id)))
    assert got["RouteTable"]["RouteTableType"] == "System" and got["RouteTable"]["RouteTableId"].startswith("vtb-")
    assert route_table["VpcId"] == got["VpcId"]
    expect_error(vpc.describe_vswitch_attributes, 404, "InvalidVSwitchId.NotFound",
                 vpc_models.DescribeVSwitchAttributesRequest(region_id=REGION, v_switch_id="vsw-" + "0" * 22))


# ------------------------------------------------------------ ECS instance attribute

def test_describe_instance_attribute_without_a_region(server, res, vpc_v3, kind):
    _, ecs, _ = clients(server, kind)
    iid = res.instance()
    eip = res.eip()["AllocationId"]
    vpc_v3.associate_eip_address(vpc_models.AssociateEipAddressRequest(
        region_id=REGION, allocation_id=eip, instance_id=iid))
    got = body(ecs.describe_instance_attribute(ecs_models.DescribeInstanceAttributeRequest(instance_id=iid)))
    assert got["InstanceId"] == iid and got["RegionId"] == REGION and got["Status"] == "Running", got
    assert got["EipAddress"]["AllocationId"] == eip and isinstance(got["EipAddress"]["Bandwidth"], int)
    assert got["VpcAttributes"]["VSwitchId"] == res.network.vsw_id
    assert got["VpcAttributes"]["PrivateIpAddress"]["IpAddress"], got
    assert list(got).index("EipAddress") < list(got).index("PublicIpAddress")
    expect_error(ecs.describe_instance_attribute, 404, "InvalidInstanceId.NotFound",
                 ecs_models.DescribeInstanceAttributeRequest(instance_id="i-" + "0" * 20))


def test_describe_instance_attribute_legacy_sdk(server, res):
    from aliyunsdkecs.request.v20140526 import DescribeInstanceAttributeRequest as L
    iid = res.instance()
    req = L.DescribeInstanceAttributeRequest()
    req.set_InstanceId(iid)
    got = server.legacy().call(req)
    assert got["InstanceId"] == iid and got["InstanceName"], got


# ------------------------------------------------------------ CLB attribute

def test_describe_load_balancer_attribute(server, res, kind):
    _, _, slb = clients(server, kind)
    iid = res.instance()
    lb = res.clb(v_switch_id=res.network.vsw_id)["LoadBalancerId"]
    slb3 = server.slb()
    slb3.create_load_balancer_tcplistener(slb_models.CreateLoadBalancerTCPListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=80, backend_server_port=8080, bandwidth=-1))
    slb3.add_backend_servers(slb_models.AddBackendServersRequest(
        region_id=REGION, load_balancer_id=lb, backend_servers=json.dumps([{"ServerId": iid, "Weight": "70"}])))
    got = body(slb.describe_load_balancer_attribute(slb_models.DescribeLoadBalancerAttributeRequest(
        region_id=REGION, load_balancer_id=lb)))
    assert got["LoadBalancerId"] == lb and got["LoadBalancerStatus"] == "active", got
    assert got["ListenerPorts"]["ListenerPort"] == [80]
    assert got["ListenerPortsAndProtocol"]["ListenerPortAndProtocol"] == [
        {"ListenerPort": 80, "ListenerProtocol": "tcp"}]
    assert got["BackendServers"]["BackendServer"][0]["ServerId"] == iid
    assert got["BackendServers"]["BackendServer"][0]["Weight"] == 70
    expect_error(slb.describe_load_balancer_attribute, 404, "InvalidLoadBalancerId.NotFound",
                 slb_models.DescribeLoadBalancerAttributeRequest(region_id=REGION, load_balancer_id="lb-nope"))


# ------------------------------------------------------------ STS

def test_get_caller_identity(server, kind):
    sts = StsClient(_config(server.endpoint, kind == "v1", AK_ID, "testsecret", REGION))
    got = body(sts.get_caller_identity())
    assert got["IdentityType"] == "Account", got
    assert got["AccountId"] and got["Arn"] == f"acs:ram::{got['AccountId']}:root"
    assert got["UserId"] == got["AccountId"] == got["PrincipalId"]
    other_ak, other_secret = server.create_account(f"sts-{kind}")
    other = body(StsClient(_config(server.endpoint, False, other_ak, other_secret, REGION)).get_caller_identity())
    assert other["AccountId"] != got["AccountId"]


# ------------------------------------------------------------ tags

def tag(vpc, ids, tags, rtype="EIP"):
    return vpc.tag_resources(vpc_models.TagResourcesRequest(
        region_id=REGION, resource_type=rtype, resource_id=ids,
        tag=[vpc_models.TagResourcesRequestTag(key=k, value=v) for k, v in tags]))


def untag(vpc, ids, keys=None, rtype="EIP", all_=None):
    return vpc.un_tag_resources(vpc_models.UnTagResourcesRequest(
        region_id=REGION, resource_type=rtype, resource_id=ids, tag_key=keys, all=all_))


def list_tags(vpc, ids=None, tags=None, rtype="EIP", **kw) -> dict:
    return body(vpc.list_tag_resources(vpc_models.ListTagResourcesRequest(
        region_id=REGION, resource_type=rtype, resource_id=ids,
        tag=[vpc_models.ListTagResourcesRequestTag(key=k, value=v) for k, v in (tags or [])] or None, **kw)))


def rows(listing: dict) -> list[tuple[str, str, str]]:
    return [(r["ResourceId"], r["TagKey"], r["TagValue"]) for r in listing["TagResources"]["TagResource"]]


def test_eip_tags_are_added_listed_filtered_and_removed(server, res, kind):
    vpc, _, _ = clients(server, kind)
    a, b = res.eip()["AllocationId"], res.eip()["AllocationId"]
    env = f"env-{kind}"  # the session server is shared: keys of this test only
    tag(vpc, [a, b], [(env, "prod"), ("team", "net")])
    tag(vpc, [a], [(env, "staging")])  # a new value replaces the old one
    assert rows(list_tags(vpc, [a, b])) == sorted(
        [(a, env, "staging"), (a, "team", "net"), (b, env, "prod"), (b, "team", "net")])
    # With a tag filter: the matching resources' rows of that key.
    assert rows(list_tags(vpc, tags=[(env, "prod")])) == [(b, env, "prod")]
    assert rows(list_tags(vpc, tags=[(env, None)])) == sorted([(a, env, "staging"), (b, env, "prod")])
    # DescribeEipAddresses shows them and filters by them.
    e = get_eip(vpc, a)
    assert {t["Key"]: t["Value"] for t in e["Tags"]["Tag"]} == {env: "staging", "team": "net"}
    found = eip_list(describe_eips(vpc, tag=[vpc_models.DescribeEipAddressesRequestTag(key=env, value="staging")]))
    assert [x["AllocationId"] for x in found] == [a]
    untag(vpc, [a], ["team"])
    assert rows(list_tags(vpc, [a])) == [(a, env, "staging")]
    untag(vpc, [a, b], all_=True)
    assert rows(list_tags(vpc, [a, b])) == []
    # Paging: one row per (resource, tag).
    tag(vpc, [a], [(f"k{i:02}", "v") for i in range(12)])
    first = list_tags(vpc, [a], max_results=5)
    assert len(rows(first)) == 5 and first["NextToken"]
    second = list_tags(vpc, [a], max_results=10, next_token=first["NextToken"])
    assert len(rows(second)) == 7 and second["NextToken"] == ""


def test_tags_on_vpcs_and_vswitches(server, vpc_v3, network):
    tag(vpc_v3, [network.vpc_id], [("owner", "sdk")], rtype="VPC")
    tag(vpc_v3, [network.vsw_id], [("owner", "sdk")], rtype="vswitch")  # the type is case-insensitive
    assert rows(list_tags(vpc_v3, [network.vpc_id], rtype="VPC")) == [(network.vpc_id, "owner", "sdk")]
    got = list_tags(vpc_v3, tags=[("owner", "sdk")], rtype="VSWITCH")
    assert rows(got) == [(network.vsw_id, "owner", "sdk")]
    assert got["TagResources"]["TagResource"][0]["ResourceType"] == "VSWITCH"
    # The Describe calls show them (Ansible's ali_vpc reads them there).
    attr = body(vpc_v3.describe_vpc_attribute(vpc_models.DescribeVpcAttributeRequest(
        region_id=REGION, vpc_id=network.vpc_id)))
    assert {"Key": "owner", "Value": "sdk"} in attr["Tags"]["Tag"], attr["Tags"]
    listed = body(vpc_v3.describe_vswitches(vpc_models.DescribeVSwitchesRequest(
        region_id=REGION, v_switch_id=network.vsw_id)))
    assert {"Key": "owner", "Value": "sdk"} in listed["VSwitches"]["VSwitch"][0]["Tags"]["Tag"]
    untag(vpc_v3, [network.vpc_id], ["owner"], rtype="VPC")
    untag(vpc_v3, [network.vsw_id], ["owner"], rtype="VSWITCH")
    assert rows(list_tags(vpc_v3, [network.vpc_id], rtype="VPC")) == []


def test_tag_errors(server, res, vpc_v3):
    a = res.eip()["AllocationId"]
    expect_error(tag, 400, "NumberExceed.Tags", vpc_v3, [a], [(f"k{i}", "v") for i in range(21)])
    tag(vpc_v3, [a], [(f"k{i}", "v") for i in range(15)])
    expect_error(tag, 400, "NumberExceed.Tags", vpc_v3, [a], [(f"n{i}", "v") for i in range(6)])
    expect_error(tag, 400, "Duplicate.TagKey", vpc_v3, [a], [("x", "1"), ("x", "2")])
    expect_error(tag, 400, "InvalidResourceId.NotFound", vpc_v3, ["eip-" + "0" * 22], [("x", "1")])
    expect_error(tag, 400, "InvalidResourceId.NotFound", vpc_v3, [a], [("x", "1")], "VPC")
    expect_error(tag, 400, "InvalidParameter.ResourceType", vpc_v3, [a], [("x", "1")], "BUCKET")
    expect_error(tag, 400, "InvalidParameter", vpc_v3, [a], [("aliyun:x", "1")])
    expect_error(tag, 400, "InvalidParameter", vpc_v3, [a], [("x", "http://y")])
    expect_error(tag, 400, "NumberExceed.ResourceIds", vpc_v3, [a] * 51, [("x", "1")])
    expect_error(list_tags, 400, "MissingParameter.ResourceId.N", vpc_v3)
    # another account's EIP is not found either
    ak, secret = server.create_account("tag-other")
    other = server.vpc(ak=ak, secret=secret)
    expect_error(tag, 400, "InvalidResourceId.NotFound", other, [a], [("x", "1")])
    assert rows(list_tags(other, [a])) == []


# ------------------------------------------------------------ deletion protection, resource group

def protect(vpc, eip, on: bool):
    return vpc.deletion_protection(vpc_models.DeletionProtectionRequest(
        region_id=REGION, instance_id=eip, protection_enable=on, type="EIP"))


def test_deletion_protection_refuses_release(server, res, kind):
    vpc, _, _ = clients(server, kind)
    a = res.eip()["AllocationId"]
    protect(vpc, a, True)
    assert get_eip(vpc, a)["DeletionProtection"] is True
    err = expect_error(release, 400, "InvalidOperation.DeletionProtection", vpc, a)
    assert "deletion" in err.message
    protect(vpc, a, False)
    assert get_eip(vpc, a)["DeletionProtection"] is False
    release(vpc, a)
    expect_error(protect, 400, "DeletionProtection.ResourceNotExist", vpc, "eip-" + "0" * 22, True)
    expect_error(vpc.deletion_protection, 400, "DeletionProtection.TypeNotSupport",
                 vpc_models.DeletionProtectionRequest(region_id=REGION, instance_id=a, protection_enable=True,
                                                      type="CBWP"))


def test_move_resource_group(server, res, kind):
    vpc, _, _ = clients(server, kind)
    a = res.eip()["AllocationId"]
    vpc.move_resource_group(vpc_models.MoveResourceGroupRequest(
        region_id=REGION, resource_id=a, resource_type="EIP", new_resource_group_id="rg-acfmtest0001"))
    assert get_eip(vpc, a)["ResourceGroupId"] == "rg-acfmtest0001"
    found = eip_list(describe_eips(vpc, resource_group_id="rg-acfmtest0001"))
    assert a in [e["AllocationId"] for e in found]
    expect_error(vpc.move_resource_group, 400, "InvalidResourceGroupId", vpc_models.MoveResourceGroupRequest(
        region_id=REGION, resource_id=a, resource_type="Eip", new_resource_group_id="not-a-group"))
    expect_error(vpc.move_resource_group, 400, "IllegalParam.ResourceType", vpc_models.MoveResourceGroupRequest(
        region_id=REGION, resource_id=a, resource_type="Bucket", new_resource_group_id="rg-acfmtest0001"))
    expect_error(vpc.move_resource_group, 400, "InvalidResourceId.NotFound", vpc_models.MoveResourceGroupRequest(
        region_id=REGION, resource_id="eip-" + "0" * 22, resource_type="EIP",
        new_resource_group_id="rg-acfmtest0001"))


# ------------------------------------------------------------ Terraform's sequences, as it sends them

def tf_call(server, action: str, query: dict, form: dict) -> dict:
    """One call the way Terraform's RpcPost sends it: some parameters in the
    query, the rest in a form body, V1-signed over both."""
    pairs = v1_pairs(list(query.items()) + list(form.items()) + [("Action", action)])
    names = set(form)
    q = [p for p in pairs if p[0] not in names]
    b = [p for p in pairs if p[0] in names]
    status, _, resp = raw_once(server, query=encode_pairs(q), body=encode_pairs(b).encode())
    got = json.loads(resp)
    assert status == 200, (action, got)
    return got


def test_terraform_eip_address_update_sequence(server, vpc_v3):
    """alicloud_eip_address: create, then tags, deletion protection and resource
    group through their own calls (InstanceId / ResourceId in the query)."""
    a = tf_call(server, "AllocateEipAddress", {}, {"RegionId": REGION, "ClientToken": "tf-1", "Bandwidth": "5",
                                                     "InternetChargeType": "PayByTraffic"})["AllocationId"]
    tf_call(server, "TagResources", {"ResourceId.1": a},
            {"RegionId": REGION, "ResourceType": "EIP", "Tag.1.Key": "Created", "Tag.1.Value": "tf"})
    tf_call(server, "DeletionProtection", {"InstanceId": a},
            {"RegionId": REGION, "ClientToken": "tf-2", "ProtectionEnable": "true", "Type": "EIP"})
    tf_call(server, "MoveResourceGroup", {"ResourceId": a},
            {"NewResourceGroupId": "rg-tf00000001", "RegionId": REGION, "ResourceType": "EIP"})
    listed = tf_call(server, "ListTagResources", {}, {"RegionId": REGION, "ResourceType": "EIP", "ResourceId.1": a})
    assert listed["TagResources"]["TagResource"] == [
        {"ResourceId": a, "ResourceType": "EIP", "TagKey": "Created", "TagValue": "tf"}]
    e = get_eip(vpc_v3, a)
    assert e["DeletionProtection"] is True and e["ResourceGroupId"] == "rg-tf00000001", e
    tf_call(server, "UnTagResources", {}, {"RegionId": REGION, "ResourceType": "EIP", "ResourceId.1": a,
                                           "TagKey.1": "Created"})
    tf_call(server, "DeletionProtection", {"InstanceId": a},
            {"RegionId": REGION, "ClientToken": "tf-3", "ProtectionEnable": "false", "Type": "EIP"})
    tf_call(server, "ReleaseEipAddress", {"AllocationId": a}, {"RegionId": REGION})


def test_terraform_eip_association_reads_instance_id_while_associating(server, res, vpc_v3):
    """alicloud_eip_association reads the EIP right after AssociateEipAddress
    returns and needs InstanceId set while the status is still Associating."""
    iid = res.instance()
    a = res.eip()["AllocationId"]
    tf_call(server, "AssociateEipAddress", {"AllocationId": a, "InstanceId": iid},
            {"RegionId": REGION, "ClientToken": "tf-assoc-1", "InstanceType": "EcsInstance"})
    e = tf_call(server, "DescribeEipAddresses", {}, {"RegionId": REGION, "AllocationId": a})
    item = e["EipAddresses"]["EipAddress"][0]
    assert item["InstanceId"] == iid and item["Status"] in ("Associating", "InUse"), item


# ------------------------------------------------------------ messages that say what is wrong

def test_allocate_with_an_instance_id_says_what_the_value_is(server, res, vpc_v3):
    """footmark (ali_eip with instance_id) sends AllocateEipAddress InstanceId=i-…:
    the code stays Alibaba's, the message says the value is an instance id."""
    from conftest import allocate
    iid = res.instance(wait=False)
    err = expect_error(allocate, 400, "OperationFailed.AllocateUnfamiliarIp", vpc_v3, instance_id=iid)
    assert f"InstanceId {iid} is an ECS instance id" in err.message, err
    assert "eip-" in err.message
    err = expect_error(allocate, 400, "OperationFailed.AllocateUnfamiliarIp", vpc_v3, instance_id="eip-" + "7" * 22)
    assert "released in the last seven days" in err.message, err


# ------------------------------------------------------------ ModifyEipForwardMode

def forward_mode(vpc, eip: str, mode: str):
    return vpc.modify_eip_forward_mode(vpc_models.ModifyEipForwardModeRequest(
        region_id=REGION, instance_id=eip, mode=mode))


def test_modify_eip_forward_mode(server, res, vpc_v3, ecs_v3):
    from conftest import associate, attach_eni, create_eni, wait_eni, wait_status
    a = res.eip()["AllocationId"]
    # Unassociated: the mode is kept for the EIP's next ENI association.
    forward_mode(vpc_v3, a, "BINDED")
    assert get_eip(vpc_v3, a)["Mode"] == "BINDED"
    eni = create_eni(ecs_v3, res.network.vsw_id, res.network.sg_id)["NetworkInterfaceId"]
    res.enis.append((eni, REGION))
    associate(vpc_v3, a, eni, instance_type="NetworkInterface")
    expect_error(forward_mode, 400, "IncorrectStatus.EipInstance", vpc_v3, a, "NAT")
    wait_status(vpc_v3, a, "InUse")
    assert get_eip(vpc_v3, a)["Mode"] == "BINDED"
    # On a detached ENI: associated again in the new mode.
    forward_mode(vpc_v3, a, "NAT")
    e = wait_status(vpc_v3, a, "InUse")
    assert (e["Mode"], e["InstanceId"]) == ("NAT", eni), e
    assert e["PrivateIpAddress"], e
    # Attached to an instance: the mode cannot change.
    iid = res.instance()
    attach_eni(ecs_v3, eni, iid)
    wait_eni(ecs_v3, eni, "InUse")
    expect_error(forward_mode, 400, "ENI.BindEcs", vpc_v3, a, "BINDED")
    # On an ECS instance: not at all.
    b = res.eip()["AllocationId"]
    other = res.instance()
    associate(vpc_v3, b, other)
    wait_status(vpc_v3, b, "InUse")
    expect_error(forward_mode, 400, "BindInstance.NotSupport", vpc_v3, b, "BINDED")
    expect_error(forward_mode, 400, "IllegalParam.Mode", vpc_v3, b, "SIDEWAYS")


# ------------------------------------------------------------ route tables, renames

def test_route_tables_of_a_vpc(server, vpc_v3, network):
    attr = body(vpc_v3.describe_vpc_attribute(vpc_models.DescribeVpcAttributeRequest(
        region_id=REGION, vpc_id=network.vpc_id)))
    listed = body(vpc_v3.describe_route_table_list(vpc_models.DescribeRouteTableListRequest(
        region_id=REGION, vpc_id=network.vpc_id)))
    [table] = listed["RouterTableList"]["RouterTableListType"]
    assert table["RouteTableType"] == "System" and table["VpcId"] == network.vpc_id, table
    assert table["RouterId"] == attr["VRouterId"] and network.vsw_id in table["VSwitchIds"]["VSwitchId"]
    legacy = body(vpc_v3.describe_route_tables(vpc_models.DescribeRouteTablesRequest(
        region_id=REGION, route_table_id=table["RouteTableId"])))
    [t] = legacy["RouteTables"]["RouteTable"]
    assert t["VRouterId"] == attr["VRouterId"], t
    routes = {r["DestinationCidrBlock"]: r["NextHopType"] for r in t["RouteEntrys"]["RouteEntry"]}
    assert routes["192.168.0.0/18"] == "local" and routes["100.64.0.0/10"] == "service", routes
    none = body(vpc_v3.describe_route_table_list(vpc_models.DescribeRouteTableListRequest(
        region_id=REGION, route_table_id="vtb-" + "0" * 22)))
    assert none["RouterTableList"]["RouterTableListType"] == [] and none["TotalCount"] == 0
    expect_error(vpc_v3.describe_route_tables, 400, "MissingParameter.VRouterId",
                 vpc_models.DescribeRouteTablesRequest(region_id=REGION))


def test_modify_vpc_and_vswitch_attributes(server, res, vpc_v3):
    net = res.vpc_net(cidr="10.77.0.0/16")
    vpc_v3.modify_vpc_attribute(vpc_models.ModifyVpcAttributeRequest(
        region_id=REGION, vpc_id=net.vpc_id, vpc_name="renamed", description="new words"))
    vsw = net.vsw_ids[0]
    vpc_v3.modify_vswitch_attribute(vpc_models.ModifyVSwitchAttributeRequest(
        region_id=REGION, v_switch_id=vsw, v_switch_name="renamed-vsw"))
    v = body(vpc_v3.describe_vpc_attribute(vpc_models.DescribeVpcAttributeRequest(region_id=REGION, vpc_id=net.vpc_id)))
    assert (v["VpcName"], v["Description"]) == ("renamed", "new words"), v
    s = body(vpc_v3.describe_vswitch_attributes(vpc_models.DescribeVSwitchAttributesRequest(
        region_id=REGION, v_switch_id=vsw)))
    assert s["VSwitchName"] == "renamed-vsw", s
    expect_error(vpc_v3.modify_vpc_attribute, 404, "InvalidVpcId.NotFound", vpc_models.ModifyVpcAttributeRequest(
        region_id=REGION, vpc_id=UNKNOWN_VPC, vpc_name="x"))
    expect_error(vpc_v3.modify_vpc_attribute, 400, "InvalidParameter", vpc_models.ModifyVpcAttributeRequest(
        region_id=REGION, vpc_id=net.vpc_id, vpc_name="n" * 129))


def test_clb_tags_through_slbs_own_actions(server, res, slb_v3):
    lb = res.clb(v_switch_id=res.network.vsw_id)["LoadBalancerId"]
    slb_v3.tag_resources(slb_models.TagResourcesRequest(
        region_id=REGION, resource_type="instance", resource_id=[lb],
        tag=[slb_models.TagResourcesRequestTag(key="app", value="web")]))
    got = body(slb_v3.list_tag_resources(slb_models.ListTagResourcesRequest(
        region_id=REGION, resource_type="instance", resource_id=[lb])))
    assert got["TagResources"]["TagResource"] == [
        {"ResourceId": lb, "ResourceType": "instance", "TagKey": "app", "TagValue": "web"}], got
    shown = body(slb_v3.describe_load_balancers(slb_models.DescribeLoadBalancersRequest(
        region_id=REGION, load_balancer_id=lb)))
    assert shown["LoadBalancers"]["LoadBalancer"][0]["Tags"]["Tag"] == [{"TagKey": "app", "TagValue": "web"}]
    slb_v3.untag_resources(slb_models.UntagResourcesRequest(
        region_id=REGION, resource_type="instance", resource_id=[lb], tag_key=["app"]))
    got = body(slb_v3.list_tag_resources(slb_models.ListTagResourcesRequest(
        region_id=REGION, resource_type="instance", resource_id=[lb])))
    assert got["TagResources"]["TagResource"] == []
    expect_error(slb_v3.tag_resources, 400, "InvalidResourceId.NotFound", slb_models.TagResourcesRequest(
        region_id=REGION, resource_type="instance", resource_id=["lb-nope"],
        tag=[slb_models.TagResourcesRequestTag(key="app", value="web")]))


# ------------------------------------------------------------ CommonRequest scripts

def test_common_request_scripts(server, res):
    """aliyunsdkcore's CommonRequest, as generic legacy scripts use it: any
    action by name and version, the domain set to the endpoint."""
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest
    client = AcsClient(AK_ID, "testsecret", REGION)

    def call(version: str, action: str, **params) -> dict:
        req = CommonRequest()
        req.set_domain(server.endpoint)
        req.set_version(version)
        req.set_action_name(action)
        req.set_method("POST")
        req.set_protocol_type("http")
        req.add_query_param("RegionId", REGION)
        for k, v in params.items():
            req.add_query_param(k, v)
        return json.loads(client.do_action_with_exception(req))

    a = call("2016-04-28", "AllocateEipAddress", Bandwidth="2")["AllocationId"]
    res.track_eip(a)
    listed = call("2016-04-28", "DescribeEipAddresses", AllocationId=a)
    assert listed["EipAddresses"]["EipAddress"][0]["Bandwidth"] == "2"
    who = call("2015-04-01", "GetCallerIdentity")
    assert who["IdentityType"] == "Account"
    zones = call("2014-05-26", "DescribeZones")
    assert zones["Zones"]["Zone"], zones
