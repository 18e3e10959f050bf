#!/usr/bin/env python3
"""Every association target of openeip, driven by Alibaba Cloud's official
Python SDKs. Runs against a fresh `eipd serve --demo`:

    EIPD_ENDPOINT=127.0.0.1:8716 ALIBABA_CLOUD_ACCESS_KEY_ID=... \
    ALIBABA_CLOUD_ACCESS_KEY_SECRET=... python3 docs/examples/targets.py

The test suite runs this file (tests/sdk/test_docs_examples.py), so the
examples in docs/targets.md stay true.
"""

import json
import os
import time

from alibabacloud_alb20200616 import models as alb_m
from alibabacloud_alb20200616.client import Client as Alb
from alibabacloud_ecs20140526 import models as ecs_m
from alibabacloud_ecs20140526.client import Client as Ecs
from alibabacloud_nlb20220430 import models as nlb_m
from alibabacloud_nlb20220430.client import Client as Nlb
from alibabacloud_slb20140515 import models as slb_m
from alibabacloud_slb20140515.client import Client as Slb
from alibabacloud_tea_openapi.models import Config
from alibabacloud_vpc20160428 import models as vpc_m
from alibabacloud_vpc20160428.client import Client as Vpc

REGION = "cn-hangzhou"
cfg = Config(
    access_key_id=os.environ["ALIBABA_CLOUD_ACCESS_KEY_ID"],
    access_key_secret=os.environ["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
    endpoint=os.environ.get("EIPD_ENDPOINT", "127.0.0.1:8716"),
    protocol="http",
    region_id=REGION,
)
vpc, ecs, slb, alb, nlb = Vpc(cfg), Ecs(cfg), Slb(cfg), Alb(cfg), Nlb(cfg)


def wait(what, check, timeout=30.0):
    """Polls `check()` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = check()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError(what)


def eip(allocation_id):
    r = vpc.describe_eip_addresses(vpc_m.DescribeEipAddressesRequest(region_id=REGION, allocation_id=allocation_id))
    return r.body.eip_addresses.eip_address[0]


def new_eip(**kw):
    return vpc.allocate_eip_address(vpc_m.AllocateEipAddressRequest(region_id=REGION, **kw)).body.allocation_id


def in_use(allocation_id):
    return wait(f"{allocation_id} InUse", lambda: eip(allocation_id).status == "InUse")


# The demo estate: a VPC, a vSwitch in cn-hangzhou-h, a security group, two running instances.
demo = {i.instance_name: i for i in ecs.describe_instances(ecs_m.DescribeInstancesRequest(region_id=REGION)).body.instances.instance}
inst = demo["demo-1"]
vpc_id, vsw_id = inst.vpc_attributes.vpc_id, inst.vpc_attributes.v_switch_id
sg_id = inst.security_group_ids.security_group_id[0]

# 1. ECS instance (ECS-01..06): one EIP, NAT mode, on the primary ENI.
a = new_eip()
vpc.associate_eip_address(vpc_m.AssociateEipAddressRequest(region_id=REGION, allocation_id=a, instance_id=inst.instance_id))
in_use(a)

# 2. Secondary ENI in NAT mode (ENI-03/05): one EIP per private IP, picked with PrivateIpAddress.
eni = ecs.create_network_interface(ecs_m.CreateNetworkInterfaceRequest(
    region_id=REGION, v_switch_id=vsw_id, security_group_id=sg_id, secondary_private_ip_address_count=2)).body
ips = [s.private_ip_address for s in eni.private_ip_sets.private_ip_set]
for ip in ips:
    b = new_eip()
    vpc.associate_eip_address(vpc_m.AssociateEipAddressRequest(
        region_id=REGION, allocation_id=b, instance_id=eni.network_interface_id,
        instance_type="NetworkInterface", private_ip_address=ip))
    in_use(b)
ecs.attach_network_interface(ecs_m.AttachNetworkInterfaceRequest(
    region_id=REGION, instance_id=demo["demo-2"].instance_id, network_interface_id=eni.network_interface_id))

# 3. EIP visible modes (VIS-01..05): on an unattached secondary ENI, then attach it.
cut = ecs.create_network_interface(ecs_m.CreateNetworkInterfaceRequest(
    region_id=REGION, v_switch_id=vsw_id, security_group_id=sg_id)).body.network_interface_id
c = new_eip()
vpc.associate_eip_address(vpc_m.AssociateEipAddressRequest(
    region_id=REGION, allocation_id=c, instance_id=cut, instance_type="NetworkInterface", mode="BINDED"))
in_use(c)
multi = ecs.create_network_interface(ecs_m.CreateNetworkInterfaceRequest(
    region_id=REGION, v_switch_id=vsw_id, security_group_id=sg_id)).body.network_interface_id
# 4. Batch association (ENI-07, VIS-05, NAT-04): all or nothing, up to 50 EIPs.
batch = [new_eip() for _ in range(3)]
vpc.associate_eip_address_batch(vpc_m.AssociateEipAddressBatchRequest(
    region_id=REGION, binded_instance_id=multi, binded_instance_type="NetworkInterface",
    mode="MULTI_BINDED", instance_ids=batch))
for b in batch:
    in_use(b)
ecs.attach_network_interface(ecs_m.AttachNetworkInterfaceRequest(
    region_id=REGION, instance_id=demo["demo-2"].instance_id, network_interface_id=multi))
wait("ENI attached", lambda: ecs.describe_network_interfaces(ecs_m.DescribeNetworkInterfacesRequest(
    region_id=REGION, network_interface_id=[multi])).body.network_interface_sets.network_interface_set[0].status == "InUse")
# The guest hint (ENI-08, VIS-02, VIS-04) rides in the raw JSON of DescribeNetworkInterfaces.
raw = ecs.call_api(
    __import__("alibabacloud_tea_openapi.models", fromlist=["Params"]).Params(
        action="DescribeNetworkInterfaces", version="2014-05-26", protocol="HTTP", pathname="/", method="POST",
        auth_type="AK", style="RPC", req_body_type="formData", body_type="json"),
    __import__("alibabacloud_tea_openapi.models", fromlist=["OpenApiRequest"]).OpenApiRequest(
        query={"RegionId": REGION, "NetworkInterfaceId.1": multi}),
    __import__("darabonba.runtime", fromlist=["RuntimeOptions"]).RuntimeOptions())
guest = raw["body"]["NetworkInterfaceSets"]["NetworkInterfaceSet"][0]["GuestConfiguration"]
assert any(n["Rule"] == "VIS-02" for n in guest["Notices"]), guest

# 5. Public NAT gateway (NAT-01..04): EIPs, then SNAT for the vSwitch and DNAT for a port.
ngw = vpc.create_nat_gateway(vpc_m.CreateNatGatewayRequest(
    region_id=REGION, vpc_id=vpc_id, v_switch_id=vsw_id, nat_type="Enhanced", network_type="internet",
    eip_bind_mode="NAT")).body
wait("NAT gateway Available", lambda: vpc.describe_nat_gateways(vpc_m.DescribeNatGatewaysRequest(
    region_id=REGION, nat_gateway_id=ngw.nat_gateway_id)).body.nat_gateways.nat_gateway[0].status == "Available")
n1, n2 = new_eip(), new_eip()
vpc.associate_eip_address_batch(vpc_m.AssociateEipAddressBatchRequest(
    region_id=REGION, binded_instance_id=ngw.nat_gateway_id, binded_instance_type="Nat", instance_ids=[n1, n2]))
in_use(n1)
in_use(n2)
vpc.create_snat_entry(vpc_m.CreateSnatEntryRequest(
    region_id=REGION, snat_table_id=ngw.snat_table_ids.snat_table_id[0], snat_ip=eip(n1).ip_address,
    source_vswitch_id=vsw_id))
vpc.create_forward_entry(vpc_m.CreateForwardEntryRequest(
    region_id=REGION, forward_table_id=ngw.forward_table_ids.forward_table_id[0], external_ip=eip(n2).ip_address,
    external_port="80", internal_ip=demo["demo-2"].vpc_attributes.private_ip_address.ip_address[0],
    internal_port="8080", ip_protocol="TCP"))

# 6. HaVip (HA-01..04): a floating private IP shared by two instances, with one EIP.
havip = vpc.create_ha_vip(vpc_m.CreateHaVipRequest(region_id=REGION, v_switch_id=vsw_id)).body.ha_vip_id
wait("HaVip Available", lambda: vpc.describe_ha_vips(vpc_m.DescribeHaVipsRequest(
    region_id=REGION, filter=[vpc_m.DescribeHaVipsRequestFilter(key="HaVipId", value=[havip])])).body.ha_vips.ha_vip[0].status == "Available")
for name in ("demo-1", "demo-2"):
    vpc.associate_ha_vip(vpc_m.AssociateHaVipRequest(region_id=REGION, ha_vip_id=havip, instance_id=demo[name].instance_id))
h = new_eip()
vpc.associate_eip_address(vpc_m.AssociateEipAddressRequest(region_id=REGION, allocation_id=h, instance_id=havip, instance_type="HaVip"))
in_use(h)

# 7. CLB (LB-03): an intranet CLB in a vSwitch takes an EIP like an instance does.
clb = slb.create_load_balancer(slb_m.CreateLoadBalancerRequest(
    region_id=REGION, address_type="intranet", v_switch_id=vsw_id, load_balancer_spec="slb.s1.small")).body.load_balancer_id
l = new_eip()
vpc.associate_eip_address(vpc_m.AssociateEipAddressRequest(region_id=REGION, allocation_id=l, instance_id=clb, instance_type="SlbInstance"))
in_use(l)

# 8. ALB and NLB (LB-01/02): EIPs only at creation (or UpdateLoadBalancerAddressTypeConfig), one per zone.
vsw2 = vpc.create_vswitch(vpc_m.CreateVSwitchRequest(
    vpc_id=vpc_id, zone_id="cn-hangzhou-i", cidr_block="172.16.2.0/24", v_switch_name="demo-vsw-i")).body.v_switch_id
z1, z2 = new_eip(), new_eip()
alb_id = alb.create_load_balancer(alb_m.CreateLoadBalancerRequest(
    vpc_id=vpc_id, address_type="Internet", load_balancer_edition="Standard", load_balancer_name="demo-alb",
    load_balancer_billing_config=alb_m.CreateLoadBalancerRequestLoadBalancerBillingConfig(pay_type="PostPay"),
    zone_mappings=[alb_m.CreateLoadBalancerRequestZoneMappings(zone_id="cn-hangzhou-h", v_switch_id=vsw_id, allocation_id=z1),
                   alb_m.CreateLoadBalancerRequestZoneMappings(zone_id="cn-hangzhou-i", v_switch_id=vsw2, allocation_id=z2)])).body.load_balancer_id
nlb_eips = [new_eip(), new_eip()]
nlb_id = nlb.create_load_balancer(nlb_m.CreateLoadBalancerRequest(
    region_id=REGION, vpc_id=vpc_id, address_type="Internet", load_balancer_type="network", load_balancer_name="demo-nlb",
    load_balancer_billing_config=nlb_m.CreateLoadBalancerRequestLoadBalancerBillingConfig(pay_type="PostPay"),
    zone_mappings=[nlb_m.CreateLoadBalancerRequestZoneMappings(zone_id="cn-hangzhou-h", v_switch_id=vsw_id, allocation_id=nlb_eips[0]),
                   nlb_m.CreateLoadBalancerRequestZoneMappings(zone_id="cn-hangzhou-i", v_switch_id=vsw2, allocation_id=nlb_eips[1])])).body.loadbalancer_id
for x in (z1, z2, *nlb_eips):
    in_use(x)

# Every EIP now says truthfully where it is.
rows = vpc.describe_eip_addresses(vpc_m.DescribeEipAddressesRequest(region_id=REGION, page_size=100)).body.eip_addresses.eip_address
summary = sorted({(r.instance_type, r.mode) for r in rows})
print(json.dumps({"eips": len(rows), "targets": summary}))
print("all targets OK")
