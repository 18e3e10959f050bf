"""VIS-03 with real traffic, in the namespace lab: the EIP's own address is
the primary private IP of a secondary ENI in a public secondary CIDR block of
the VPC; associated in NAT mode and attached, the address sits on the
instance's eth1, a server bound to it answers a client on the internet, the
client's address is kept, and the instance's outbound traffic from it leaves
as the EIP. Runs as root with `ip`, `nft` and `conntrack`; skipped otherwise."""

from __future__ import annotations

import ipaddress

from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    REGION,
    allocate,
    associate,
    attach_eni,
    create_eni,
    create_vswitch,
    detach_eni,
    guest_configuration,
    raw_eni,
    release,
    unassociate,
    wait_eni,
    wait_status,
)
from test_dataplane import (
    CLIENT_IP,
    SERVER,
    Procs,
    demo_1,
    netns,
    pytestmark,  # noqa: F401  (same skip conditions)
    read_line,
)
from test_dataplane_eni import BOUND_SERVER, connect_from, instance_info, lab_down

PORT = 8080


def test_vis_03_the_os_holds_the_eip_on_a_secondary_eni(eipd_factory):
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc, ecs = srv.vpc(), srv.ecs()
        iid = demo_1(srv)
        inst = instance_info(srv, "demo-1")
        vpc_id = inst["VpcAttributes"]["VpcId"]
        sg = inst["SecurityGroupIds"]["SecurityGroupId"][0]
        zone = inst["ZoneId"]

        eip = allocate(vpc)
        a, ip = eip["AllocationId"], eip["EipAddress"]
        block = str(ipaddress.ip_network(f"{ip}/24", strict=False))
        vpc.associate_vpc_cidr_block(vpc_models.AssociateVpcCidrBlockRequest(
            region_id=REGION, vpc_id=vpc_id, secondary_cidr_block=block))
        vsw = create_vswitch(vpc, vpc_id, zone, block)
        eni = create_eni(ecs, vsw, sg, primary_ip_address=ip)["NetworkInterfaceId"]
        associate(vpc, a, eni, instance_type="NetworkInterface", private_ip_address=ip)
        wait_status(vpc, a, "InUse")
        attach_eni(ecs, eni, iid)
        wait_eni(ecs, eni, "InUse")

        # The operating system has the public address on the ENI's NIC.
        gc = guest_configuration(raw_eni(ecs, eni))
        assert [x["Address"] for x in gc["Addresses"]] == [f"{ip}/24"], gc
        assert f"inet {ip}/" in netns(iid, "ip", "-4", "-o", "addr", "show", "dev", "eth1").stdout

        # A server bound to it answers the internet, the client's address kept.
        assert read_line(procs.start(iid, BOUND_SERVER, ip, str(PORT))) == "ready"
        got = connect_from("openeip-internet", ip, PORT)
        if got is None:
            gw = f"openeip-gw-{REGION}"
            diag = [netns(gw, "ip", "route").stdout, netns(gw, "ip", "addr").stdout,
                    netns(gw, "nft", "list", "table", "ip", "openeip").stdout[:6000],
                    netns(iid, "ip", "addr").stdout, netns(iid, "ip", "rule").stdout,
                    netns(iid, "ip", "route", "show", "table", "all").stdout]
            print("\n-----\n".join(diag))
        assert got == f"local={ip} peer={CLIENT_IP}", got
        # Outbound from the address leaves as the EIP (it is the EIP).
        outside = procs.start("openeip-internet", SERVER, "9090")
        assert read_line(outside) == "ready"
        out = connect_from(iid, CLIENT_IP, 9090, source=ip, timeout=3)
        assert out is not None and out.startswith(f"peer={ip}:"), out

        # Unassociated, the address stops answering from the internet.
        unassociate(vpc, a, eni, instance_type="NetworkInterface")
        wait_status(vpc, a, "Available")
        assert connect_from("openeip-internet", ip, PORT, timeout=0.3) is None
        detach_eni(ecs, eni, iid)
        wait_eni(ecs, eni, "Available")
        release(vpc, a)
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)
