"""Issue 10: real automation tools work unmodified. footmark (the library
under Ansible's alicloud modules) and the Ansible modules themselves run
against eipd with nothing but an endpoint (footmark: aliyunsdkcore's endpoint
registry; Ansible: HTTP_PROXY, since the modules have no endpoint option).
They run in their own venv (tests/tools/requirements.txt, made by
scripts/test.sh); without it these tests skip, unless EIPD_REQUIRE_TOOLS=1
(the test command sets it) makes that a failure."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import AK_ID, AK_SECRET, REPO_ROOT, describe_eips, eip_list, vpc_models

TOOLS_VENV = Path(os.environ.get("EIPD_TOOLS_VENV", REPO_ROOT / ".venv-tools"))
DRIVER = REPO_ROOT / "tests" / "tools" / "footmark_driver.py"
PLAYBOOK = REPO_ROOT / "tests" / "tools" / "playbooks" / "eip_network.yml"


def tools_python() -> Path:
    py = TOOLS_VENV / "bin" / "python"
    if not py.exists():
        message = f"the tools venv {TOOLS_VENV} is missing (scripts/test.sh makes it)"
        if os.environ.get("EIPD_REQUIRE_TOOLS") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return py


def tool_env(tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), ANSIBLE_HOME=str(tmp_path / "ansible"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible"),
               ANSIBLE_NOCOLOR="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def footmark(server, tmp_path, scenario: str, arg: str = "") -> dict:
    out = tmp_path / f"{scenario}.json"
    run = subprocess.run([str(tools_python()), str(DRIVER), server.endpoint, AK_ID, AK_SECRET, scenario, str(out), arg],
                         env=tool_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert out.exists(), f"the footmark driver wrote nothing: {run.stdout[-2000:]}{run.stderr[-2000:]}"
    got = json.loads(out.read_text())
    assert got["ok"], f"footmark failed: {got['error']}\n{got['trace']}"
    return got["result"]


def demo_instance(server) -> str:
    from conftest import ecs_models
    ecs = server.ecs()
    got = ecs.describe_instances(ecs_models.DescribeInstancesRequest(region_id="cn-hangzhou")).body.to_map()
    return next(i["InstanceId"] for i in got["Instances"]["Instance"] if i["InstanceName"] == "demo-1")


def test_footmark_describe_instances(eipd_factory, tmp_path):
    """footmark filled instances from the response's keys in order and looped
    into RecursionError while PublicIpAddress came before EipAddress."""
    srv = eipd_factory(demo=True)
    got = footmark(srv, tmp_path, "instances")["instances"]
    assert sorted(i["name"] for i in got) == ["demo-1", "demo-2"], got
    for i in got:
        assert i["status"] == "running" and i["private_ip"].startswith("172.16.") and i["vpc_id"].startswith("vpc-")


def test_footmark_eip_lifecycle_with_tags(eipd_factory, tmp_path):
    srv = eipd_factory(demo=True)
    iid = demo_instance(srv)
    got = footmark(srv, tmp_path, "eip", iid)
    a = got["allocated"]
    assert a["status"] == "available" and a["name"] == "fm-eip" and a["ip"].startswith("198.18."), got
    assert got["listed"] == [{"id": a["id"], "status": "available", "bandwidth": "5"}]
    assert got["associated"] and got["after_associate"] == {"status": "inuse", "instance_id": iid}
    assert got["unassociated"] and got["after_unassociate"] == "available"
    assert got["tagged"] and got["tags"] == {"env": "ci", "owner": "footmark"}
    assert got["untagged"] and got["tags_after"] == {"owner": "footmark"}
    assert got["released"]
    from conftest import wait_status
    wait_status(srv.vpc(), a["id"], None)


def test_footmark_vpc_vswitch_and_load_balancer(eipd_factory, tmp_path):
    srv = eipd_factory(demo=False)
    got = footmark(srv, tmp_path, "network")
    assert got["vpc"]["status"] == "Available" and got["vpc"]["cidr"] == "172.20.0.0/16", got
    assert got["vswitch"]["status"] == "Available" and got["vswitch"]["vpc_id"] == got["vpc"]["id"]
    assert got["lb"]["status"] == "active" and got["lb"]["name"] == "fm-lb"


def test_ansible_alicloud_modules(eipd_factory, tmp_path):
    """ali_eip (tags, an idempotent re-run, purge, release), ali_vpc and
    ali_vswitch (which wait on the attribute calls) and ali_instance_info
    (DescribeInstances, DescribeDisks, DescribeUserData), as a playbook."""
    srv = eipd_factory(demo=True)
    iid = demo_instance(srv)
    out = tmp_path / "ansible.json"
    tools_python()
    run = subprocess.run(
        [str(TOOLS_VENV / "bin" / "ansible-playbook"), "-i", "localhost,", str(PLAYBOOK),
         "-e", f"openeip={srv.endpoint}", "-e", f"access_key={AK_ID}", "-e", f"secret_key={AK_SECRET}",
         "-e", f"instance_id={iid}", "-e", f"out={out}"],
        env=tool_env(tmp_path), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"ansible-playbook failed:\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    got = json.loads(out.read_text())
    assert got["instance"]["id"] == iid and got["vpc"]["vpc_name"] == "ansible-vpc", got
    vpc = srv.vpc()
    # The released EIP is gone (or going); the playbook's VPC is there.
    assert all(e["Name"] != "ansible-eip" or e["Status"] == "Releasing" for e in eip_list(describe_eips(vpc)))
    vpcs = vpc.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id="cn-hangzhou")).body.to_map()
    assert "ansible-vpc" in [v["VpcName"] for v in vpcs["Vpcs"]["Vpc"]]
