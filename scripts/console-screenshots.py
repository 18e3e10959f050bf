#!/usr/bin/env python3
"""Takes the screenshots docs/console.md shows, from a real eipd and Debian's
chromium, so they can be made again whenever the pages change.

Starts `eipd serve --demo` on a free port with a throwaway data directory,
builds a small estate through the official SDK (EIPs with tags, one InUse on
demo-1, an ENI with a secondary IP, an Intranet ALB over two zones), then
signs in and saves each page to docs/console/<name>.png. Run it with the SDK
venv (it has Playwright):

  cargo build -p eipd
  .venv-sdk/bin/python scripts/console-screenshots.py [--eipd target/debug/eipd] [--out docs/console]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "sdk"))

AK_ID, AK_SECRET = "shotsid", "shotssecret"
REGION = "cn-hangzhou"
ZONES = ("cn-hangzhou-h", "cn-hangzhou-i")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eipd", type=Path, default=REPO / "target" / "debug" / "eipd")
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "console")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "EIPD_ROOT_ACCESS_KEY_ID": AK_ID, "EIPD_ROOT_ACCESS_KEY_SECRET": AK_SECRET,
               "EIPD_LOG": "warn"}
        proc = subprocess.Popen([str(a.eipd), "serve", "--demo", "--listen", f"127.0.0.1:{port}", "--data-dir",
                                 f"{tmp}/data", "--task-delay-ms", "200"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            shoot(base, port, a.out)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def shoot(base: str, port: int, out: Path) -> None:
    import conftest as c
    from playwright.sync_api import expect, sync_playwright

    endpoint = f"127.0.0.1:{port}"
    vpc = c.vpc_client(endpoint, ak=AK_ID, secret=AK_SECRET)
    ecs = c.ecs_client(endpoint, ak=AK_ID, secret=AK_SECRET)
    alb = c.alb_client(endpoint, ak=AK_ID, secret=AK_SECRET)
    insts = ecs.describe_instances(c.ecs_models.DescribeInstancesRequest(region_id=REGION)).body.to_map()
    demo = {i["InstanceName"]: i for i in insts["Instances"]["Instance"]}
    demo1 = demo["demo-1"]
    vsw, sg = demo1["VpcAttributes"]["VSwitchId"], demo1["SecurityGroupIds"]["SecurityGroupId"][0]
    eips = [vpc.allocate_eip_address(c.vpc_models.AllocateEipAddressRequest(
        region_id=REGION, name=name, bandwidth="10")).body.allocation_id for name in ("web", "batch", "spare")]
    vpc.tag_resources(c.vpc_models.TagResourcesRequest(
        region_id=REGION, resource_type="EIP", resource_id=eips[:2],
        tag=[c.vpc_models.TagResourcesRequestTag(key="team", value="web")]))
    c.associate(vpc, eips[0], demo1["InstanceId"])
    c.wait_status(vpc, eips[0], "InUse")
    c.create_eni(ecs, vsw, sg, secondary_private_ip_address_count=1)
    net_vpc = c.create_vpc(vpc, cidr="10.9.0.0/16")
    vsws = [c.create_vswitch(vpc, net_vpc, z, f"10.9.{n + 1}.0/24") for n, z in enumerate(ZONES)]
    lb = c.create_alb(alb, net_vpc, "Intranet", [(z, v, None) for z, v in zip(ZONES, vsws)],
                      load_balancer_name="shop-frontend")
    c.wait_alb(alb, lb, "Active")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=c.CHROMIUM, headless=True, args=c.CHROMIUM_FLAGS)
        pg = b.new_page(viewport={"width": 1400, "height": 800})

        def save(name: str) -> None:
            path = out / f"{name}.png"
            pg.screenshot(path=str(path), full_page=True)
            print(path)

        pg.goto(f"{base}/console/")
        save("signin")
        pg.get_by_label("AccessKey ID").fill(AK_ID)
        pg.get_by_label("AccessKey Secret").fill(AK_SECRET)
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url("**/console/eips")
        expect(pg.locator(f'tr[data-eip="{eips[0]}"] .status')).to_have_text("InUse")
        save("eips")
        pg.goto(f"{base}/console/eips/{eips[1]}/associate")
        save("associate-ecs")
        pg.goto(f"{base}/console/eips/{eips[1]}/associate?type=NetworkInterface")
        save("associate-eni")
        pg.goto(f"{base}/console/eips/{eips[0]}")
        save("detail")
        pg.goto(f"{base}/console/albs/{lb}/network-type")
        save("alb-network-type")
        pg.goto(f"{base}/console/resources/enis")
        save("resources-enis")
        b.close()


if __name__ == "__main__":
    main()
