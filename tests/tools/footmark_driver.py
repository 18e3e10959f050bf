"""Drives footmark (PyPI footmark, the library under Ansible's alicloud
modules) against an eipd, unmodified: only the endpoint is registered with
aliyunsdkcore, as any footmark user pointing it at a private endpoint would.
Runs in the tools venv (tests/tools/requirements.txt).

    python footmark_driver.py ENDPOINT AK SECRET SCENARIO OUT.json [ARG]

Writes what footmark returned as JSON to OUT.json; an exception is recorded
with its type and message, so the calling test shows what broke.
"""

from __future__ import annotations

import json
import platform
import sys
import traceback

ENDPOINT, AK, SECRET, SCENARIO, OUT = sys.argv[1:6]
ARG = sys.argv[6] if len(sys.argv) > 6 else ""
REGION = "cn-hangzhou"

# footmark writes a logging config under /etc and logs under /var/log when it
# sees Linux; the test keeps HOME in a temporary directory and this keeps
# footmark out of the system's directories.
platform.system = lambda: "openeip-test"

from aliyunsdkcore.profile import region_provider  # noqa: E402

for product in ("Ecs", "Vpc", "Slb"):
    region_provider.modify_point(product, REGION, ENDPOINT)

import footmark.ecs  # noqa: E402
import footmark.slb  # noqa: E402
import footmark.vpc  # noqa: E402

KW = dict(acs_access_key_id=AK, acs_secret_access_key=SECRET, user_agent="openeip-suite")


def instances() -> dict:
    ecs = footmark.ecs.connect_to_region(REGION, **KW)
    out = []
    for i in ecs.describe_instances():
        out.append({"id": i.id, "status": i.status, "name": i.name, "private_ip": i.private_ip_address,
                    "public_ip": i.public_ip_address, "vpc_id": i.vpc_id, "vswitch_id": i.vswitch_id})
    return {"instances": out}


def eip_lifecycle(instance_id: str) -> dict:
    vpc = footmark.vpc.connect_to_region(REGION, **KW)
    steps = {}
    eip = vpc.allocate_eip_address(bandwidth=5, internet_charge_type="PayByTraffic", name="fm-eip",
                                   description="from footmark")
    steps["allocated"] = {"id": eip.id, "ip": eip.ip_address, "status": eip.status, "name": eip.name}
    listed = vpc.describe_eip_addresses(allocation_id=eip.id)
    steps["listed"] = [{"id": e.id, "status": e.status, "bandwidth": e.bandwidth} for e in listed]
    steps["associated"] = bool(eip.associate(instance_id))
    got = eip.get()
    steps["after_associate"] = {"status": got.status, "instance_id": got.instance_id}
    steps["unassociated"] = bool(got.unassociate(instance_id))
    steps["after_unassociate"] = eip.get().status
    steps["tagged"] = bool(eip.add_tags({"env": "ci", "owner": "footmark"}))
    steps["tags"] = vpc.list_tag_resources(resource_ids=[eip.id], resource_type="eip")
    steps["untagged"] = bool(eip.remove_tags({"env": "ci"}))
    steps["tags_after"] = eip.get().tags
    steps["released"] = bool(eip.release())
    steps["after_release"] = [e.id for e in vpc.describe_eip_addresses(allocation_id=eip.id)]
    return steps


def network() -> dict:
    vpc = footmark.vpc.connect_to_region(REGION, **KW)
    slb = footmark.slb.connect_to_region(REGION, **KW)
    v = vpc.create_vpc(cidr_block="172.20.0.0/16", vpc_name="fm-vpc", description="from footmark")
    s = vpc.create_vswitch(vpc_id=v.id, cidr_block="172.20.1.0/24", zone_id="cn-hangzhou-h",
                           vswitch_name="fm-vsw", description="from footmark")
    lb = slb.create_load_balancer(load_balancer_name="fm-lb", address_type="intranet", vswitch_id=s.id,
                                  load_balancer_spec="slb.s1.small")
    return {
        "vpc": {"id": v.id, "status": v.status, "cidr": v.cidr_block, "name": v.vpc_name},
        "vswitch": {"id": s.id, "status": s.status, "vpc_id": s.vpc_id, "cidr": s.cidr_block},
        "lb": {"id": lb.id, "status": lb.load_balancer_status, "name": lb.load_balancer_name},
    }


SCENARIOS = {"instances": lambda: instances(), "eip": lambda: eip_lifecycle(ARG), "network": lambda: network()}

try:
    result = {"ok": True, "result": SCENARIOS[SCENARIO]()}
except BaseException as e:  # RecursionError included: that is what the suite guards against
    result = {"ok": False, "error": f"{type(e).__name__}: {e}"[:2000], "trace": traceback.format_exc()[-4000:]}
with open(OUT, "w") as f:
    json.dump(result, f, default=str)
