"""Data plane: a NAT gateway's SNAT and forward (DNAT) entries carry real TCP (NAT-01).

Through the official SDK, against `eipd serve --lab --demo`: a NAT gateway in
the demo VPC with an EIP and a SNAT entry for the demo vSwitch lets demo-2
(no EIP of its own) reach the internet as the SNAT EIP, while demo-1, which
has its own EIP, keeps leaving as that one; unsolicited inbound to the SNAT
EIP is dropped; a forward entry publishes demo-2's port on the EIP with the
client's source kept, and deleting it unpublishes the port; deleting the SNAT
entry drops demo-2's outbound traffic again (never leaked unmapped).

Runs as root with `ip`, `nft` and `conntrack`; skipped otherwise.
"""

from __future__ import annotations

from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    REGION,
    allocate,
    associate,
    body,
    create_nat,
    nat_forward_table,
    nat_snat_table,
    release,
    unassociate,
    wait_nat,
    wait_status,
)
from test_dataplane import CLIENT_IP, SERVER, Procs, netns, pytestmark, read_line, wait_until  # noqa: F401
from test_dataplane_eni import GW_NS, connect_from, counter, instance_info, lab_down

PORT = 8080


def test_nat_gateway_snat_and_forward_entries(eipd_factory):
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc = srv.vpc()
        d1, d2 = instance_info(srv, "demo-1"), instance_info(srv, "demo-2")
        vpc_id, vsw = d2["VpcAttributes"]["VpcId"], d2["VpcAttributes"]["VSwitchId"]
        d2_id = d2["InstanceId"]
        d2_ip = d2["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
        wait_until(lambda: "inet " in netns(d2_id, "ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout,
                   f"{d2_id} wired")
        assert read_line(procs.start(d2_id, SERVER, str(PORT))) == "ready"
        outside = procs.start("openeip-internet", SERVER, "9090")
        assert read_line(outside) == "ready"

        # demo-1 has its own EIP.
        own = allocate(vpc)
        associate(vpc, own["AllocationId"], d1["InstanceId"])
        wait_status(vpc, own["AllocationId"], "InUse")

        ngw = create_nat(vpc, vpc_id, vsw)
        ngw_id, stb, ftb = ngw["NatGatewayId"], nat_snat_table(ngw), nat_forward_table(ngw)
        wait_nat(vpc, ngw_id, "Available")
        eip = allocate(vpc)
        aid, ip = eip["AllocationId"], eip["EipAddress"]
        associate(vpc, aid, ngw_id, instance_type="Nat")
        wait_status(vpc, aid, "InUse")
        assert connect_from(d2_id, CLIENT_IP, 9090, timeout=0.5) is None, "no SNAT entry yet: no way out"

        snat = body(vpc.create_snat_entry(vpc_models.CreateSnatEntryRequest(
            region_id=REGION, snat_table_id=stb, snat_ip=ip, source_vswitch_id=vsw)))
        # The entry is in the gateway's table within a round.
        wait_until(lambda: connect_from(d2_id, CLIENT_IP, 9090, timeout=0.3) is not None,
                   "demo-2 to get out through the SNAT entry")
        out = connect_from(d2_id, CLIENT_IP, 9090, timeout=3)
        assert out is not None and out.startswith(f"peer={ip}:"), f"demo-2 should leave as the SNAT EIP {ip}: {out}"
        out = connect_from(d1["InstanceId"], CLIENT_IP, 9090, timeout=3)
        assert out is not None and out.startswith(f"peer={own['EipAddress']}:"), \
            f"demo-1 keeps leaving as its own EIP: {out}"

        # Unsolicited inbound to the SNAT EIP is dropped (demo-2 listens on PORT).
        before = counter("pool_guard")
        assert connect_from("openeip-internet", ip, PORT, timeout=0.5) is None
        assert counter("pool_guard") > before

        # A forward entry publishes demo-2's port on the EIP; the client's source is kept.
        fwd = body(vpc.create_forward_entry(vpc_models.CreateForwardEntryRequest(
            region_id=REGION, forward_table_id=ftb, external_ip=ip, external_port="8081",
            internal_ip=d2_ip, internal_port=str(PORT), ip_protocol="TCP")))
        wait_until(lambda: connect_from("openeip-internet", ip, 8081, timeout=0.3) is not None,
                   "the forward entry to publish the port")
        got = connect_from("openeip-internet", ip, 8081)
        assert got is not None and got.startswith(f"peer={CLIENT_IP}:"), got
        assert connect_from("openeip-internet", ip, PORT, timeout=0.3) is None, "only the published port"
        vpc.delete_forward_entry(vpc_models.DeleteForwardEntryRequest(
            region_id=REGION, forward_table_id=ftb, forward_entry_id=fwd["ForwardEntryId"]))
        wait_until(lambda: connect_from("openeip-internet", ip, 8081, timeout=0.3) is None,
                   "the port to be unpublished")

        # Without the SNAT entry demo-2's private source is dropped, not leaked.
        vpc.delete_snat_entry(vpc_models.DeleteSnatEntryRequest(
            region_id=REGION, snat_table_id=stb, snat_entry_id=snat["SnatEntryId"]))
        wait_until(lambda: connect_from(d2_id, CLIENT_IP, 9090, timeout=0.3) is None,
                   "demo-2's way out to close")
        before = counter("egress_guard")
        assert connect_from(d2_id, CLIENT_IP, 9090, timeout=0.3) is None
        assert counter("egress_guard") > before
        assert "ip openeip" in netns(GW_NS, "nft", "list", "tables").stdout

        unassociate(vpc, aid, ngw_id, instance_type="Nat")
        wait_status(vpc, aid, "Available")
        release(vpc, aid)
        unassociate(vpc, own["AllocationId"], d1["InstanceId"])
        wait_status(vpc, own["AllocationId"], "Available")
        release(vpc, own["AllocationId"])
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)
