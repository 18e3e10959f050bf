#!/usr/bin/env python3
"""The console's Elastic IP Addresses list at 10,000 EIPs (issue 11's targets).

A benchmark for docs/benchmarks.md (not a test). Needs a release `eipd`, the
`seed_scale` example and the bench venv (which has Playwright; the browser is
Debian's chromium, never a downloaded one).

1. Seeds a data directory with N (default 10,000) ECS instances, each with an
   InUse EIP (`seed_scale`, through the controller's own dispatch), or reuses
   one (--reuse).
2. Starts `eipd serve` on it and signs in to the console over HTTP.
3. Server time of a page of 50: --requests (default 300) sequential GETs over
   one keep-alive connection per page kind (the first page, a middle page,
   the last page, and the first page filtered by status, by associated type,
   and by both; every filter matches all N EIPs). The server time is what eipd logs
   for the request (`console request ... micros`, handler start to response
   head); the client's round trip is recorded beside it. Also each page's HTML
   size.
4. Click to InUse in a browser (--clicks, default 10): one seeded EIP is
   unassociated through the SDK to free its instance, a new EIP is allocated
   (newest, so first on the list), and Playwright drives chromium: the list,
   "Associate with resource", the instance, then the time from the click on OK
   until the row shows InUse (the row polls itself every 500 ms while
   Associating). Between clicks the EIP is unassociated through the SDK.

Usage:
  cargo build --release -p eipd --bin eipd --example seed_scale
  VENV=$(bench/venv.sh)
  "$VENV/bin/python" bench/console_list.py --eipd target/release/eipd \\
      --seed-bin target/release/examples/seed_scale [--n 10000] [--reuse]
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import benchlib as bl  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def seed(a, data_dir: Path) -> dict:
    marker = data_dir / "seed.json"
    if a.reuse and marker.exists():
        rep = json.loads(marker.read_text())
        if rep.get("n") == a.n:
            print(f"reusing {data_dir} ({a.n} EIPs)", file=sys.stderr)
            return {**rep, "reused": True}
    bl.rm_tree(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    env = {"EIPD_ROOT_ACCESS_KEY_ID": bl.AK_ID, "EIPD_ROOT_ACCESS_KEY_SECRET": bl.AK_SECRET,
           "PATH": "/usr/bin:/bin"}
    print(f"seeding {data_dir} with {a.n} InUse EIPs ...", file=sys.stderr)
    t = time.monotonic()
    out = subprocess.run([str(a.seed_bin), "--data-dir", str(data_dir), "--n", str(a.n)], capture_output=True,
                         text=True, env=env, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"seed_scale failed: {out.stderr}")
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    rep["wall_s"] = round(time.monotonic() - t, 1)
    print(f"seeded in {rep['wall_s']} s", file=sys.stderr)
    return {**rep, "reused": False}


class Console:
    """A signed-in console session over one keep-alive connection."""

    def __init__(self, endpoint: str):
        host, port = endpoint.split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, list, bytes]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        r = self.conn.getresponse()
        body = r.read()
        return r.status, r.getheaders(), body

    @staticmethod
    def cookie_of(headers: list, name: str) -> str:
        return next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie" and v.startswith(f"{name}="))

    def sign_in(self) -> None:
        _, h, page = self.request("GET", "/console/signin")
        self.cookie = self.cookie_of(h, "eipd_signin")
        csrf = re.search(rb'name="csrf" value="([0-9a-f]+)"', page).group(1).decode()
        status, h, _ = self.request("POST", "/console/signin",
                                    {"csrf": csrf, "access_key_id": bl.AK_ID, "access_key_secret": bl.AK_SECRET})
        assert status == 303, status
        self.cookie = self.cookie_of(h, "eipd_session")


def server_micros(log: Path, since: int) -> list[int]:
    """The `console request` lines' micros for GET /eips after byte `since` of the log."""
    text = log.read_bytes()[since:].decode(errors="replace")
    return [int(m.group(1)) for m in re.finditer(r'console request method=GET path=/eips status=200 micros=(\d+)', text)]


def pages(a, e: bl.Eipd) -> dict:
    c = Console(e.endpoint)
    c.sign_in()
    last = (a.n + 49) // 50
    kinds = {
        "first page": "/console/eips",
        "middle page": f"/console/eips?page={last // 2}",
        "last page": f"/console/eips?page={last}",
        "status=InUse": "/console/eips?status=InUse",
        "kind=EcsInstance": "/console/eips?kind=EcsInstance",
        "status=InUse&kind=EcsInstance": "/console/eips?status=InUse&kind=EcsInstance",
    }
    out = {}
    for name, path in kinds.items():
        for _ in range(10):  # warm-up
            c.request("GET", path)
        since = e.log_path.stat().st_size
        client, sizes = [], set()
        for _ in range(a.requests):
            t = time.perf_counter()
            status, _, body = c.request("GET", path)
            client.append((time.perf_counter() - t) * 1000)
            assert status == 200 and body.count(b'<tr id="row-') == min(50, a.n), (name, status, body[:300])
            sizes.add(len(body))
        time.sleep(0.3)  # the log line is written as the response goes out
        server = [m / 1000 for m in server_micros(e.log_path, since)]
        out[name] = {"path": path, "server_ms": bl.latency_stats(server), "client_ms": bl.latency_stats(client),
                     "html_bytes": max(sizes), "samples": len(server)}
        s = out[name]["server_ms"]
        print(f"{name:28} server p50 {s['p50']:.2f} ms p99 {s['p99']:.2f} ms  "
              f"client p99 {out[name]['client_ms']['p99']:.2f} ms  html {max(sizes) / 1024:.1f} KiB", file=sys.stderr)
    return out


def clicks(a, e: bl.Eipd) -> dict:
    from alibabacloud_ecs20140526 import models as ecs_models
    from alibabacloud_vpc20160428 import models as vpc_models
    from playwright.sync_api import expect, sync_playwright

    vpc, ecs = bl.alibaba_clients(e.endpoint)
    # The first instance the dialog lists, freed of its seeded EIP.
    inst = ecs.describe_instances(ecs_models.DescribeInstancesRequest(region_id=bl.REGION, page_size=100)).body
    iid = inst.instances.instance[0].instance_id
    seeded = vpc.describe_eip_addresses(vpc_models.DescribeEipAddressesRequest(
        region_id=bl.REGION, associated_instance_id=iid, associated_instance_type="EcsInstance")).body
    for old in seeded.eip_addresses.eip_address:  # none when a --reuse run freed it already
        vpc.unassociate_eip_address(vpc_models.UnassociateEipAddressRequest(region_id=bl.REGION,
                                                                            allocation_id=old.allocation_id))
        bl.wait_eip_status(vpc, old.allocation_id, "Available", 0.01, 30)
    new = vpc.allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=bl.REGION)).body.allocation_id
    times = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        pg = b.new_page()
        pg.goto(f"http://{e.endpoint}/console/signin")
        pg.get_by_label("AccessKey ID").fill(bl.AK_ID)
        pg.get_by_label("AccessKey Secret").fill(bl.AK_SECRET)
        pg.get_by_role("button", name="Sign in").click()
        pg.wait_for_url("**/console/eips")
        for _ in range(a.clicks):
            pg.goto(f"http://{e.endpoint}/console/eips")
            row = pg.locator(f'tr[data-eip="{new}"]')
            row.get_by_role("link", name="Associate with resource").click()
            pg.locator("label.pick", has_text=iid).locator("input").check()
            t = time.perf_counter()
            pg.get_by_role("button", name="OK").click()
            pg.wait_for_url("**/console/eips?notice=*")
            expect(pg.locator(f'tr[data-eip="{new}"] .status')).to_have_text("InUse", timeout=30_000)
            times.append((time.perf_counter() - t) * 1000)
            vpc.unassociate_eip_address(vpc_models.UnassociateEipAddressRequest(region_id=bl.REGION,
                                                                                allocation_id=new))
            bl.wait_eip_status(vpc, new, "Available", 0.01, 30)
        b.close()
    vpc.release_eip_address(vpc_models.ReleaseEipAddressRequest(region_id=bl.REGION, allocation_id=new))
    s = bl.latency_stats(times)
    print(f"click OK -> row InUse: p50 {s['p50']:.0f} ms, max {s['max']:.0f} ms ({len(times)} clicks)", file=sys.stderr)
    return {"ms": s, "raw_ms": [round(x, 1) for x in times]}


def main() -> None:
    target = bl.REPO_ROOT / "target"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eipd", type=Path, default=target / "release" / "eipd")
    ap.add_argument("--seed-bin", type=Path, default=target / "release" / "examples" / "seed_scale")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--data-dir", type=Path, help="default /var/tmp/oeipcon-N")
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--clicks", type=int, default=10)
    ap.add_argument("--task-delay-ms", type=int, default=500, help="eipd serve's default")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    data_dir = a.data_dir or Path(f"/var/tmp/oeipcon-{a.n}")
    rep = seed(a, data_dir)
    log = data_dir.parent / f"{data_dir.name}-console.log"
    with bl.Eipd(a.eipd, data_dir, a.task_delay_ms, demo=False, log_path=log) as e:
        result = {"n": a.n, "seed": rep, "pages": pages(a, e), "click_to_in_use": clicks(a, e),
                  "args": {k: str(v) for k, v in vars(a).items()}, "note": a.note,
                  "machine": bl.machine_facts(data_dir, a.eipd)}
    path = bl.write_result("console_list", result, a.out)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
