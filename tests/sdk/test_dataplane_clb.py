"""CLB TCP listeners with backend servers: the control-plane actions and real
traffic spread over the backends, with real TCP health checks.

Control plane (session server, no lab): CreateLoadBalancerTCPListener (with
Alibaba's health-check parameters and their defaults: on, the backend port,
thresholds 3 and 3, timeout 5 s, interval 2 s), SetLoadBalancerTCPListenerAttribute,
Start/Stop/DeleteLoadBalancerListener, Add/Set/RemoveBackendServers,
DescribeHealthStatus (no data plane checks anything: `unavailable`) and
DescribeLoadBalancerTCPListenerAttribute through the official SLB SDK, with
their errors (unknown CLB: InvalidLoadBalancerId.NotFound; no listener on the
port, a server that is not a backend, a health-check value out of Alibaba's
range: InvalidParameter, and nothing changes).

Data plane (`eipd serve --lab --demo`, root with `ip`, `nft` and `conntrack`;
skipped otherwise): an intranet CLB in the demo vSwitch with an EIP and a TCP
listener 80 -> 8080 on demo-1 and demo-2, each running a server that answers
its own name; 40 new connections from the lab's internet host to EIP:80 reach
both backends; with health checks every second and thresholds 2, stopping
demo-2's server makes it `abnormal` and every new connection goes to demo-1,
restarting it makes it `normal` and both get connections again; weight 0 and
RemoveBackendServers take a backend out, and stopping or deleting the listener
stops the traffic.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from alibabacloud_slb20140515 import models as slb_models

from conftest import REGION, allocate, associate, body, create_clb, delete_clb, expect_error, release, \
    unassociate, wait_status
from test_dataplane import Procs, netns, read_line, wait_until
from test_dataplane_eni import GW_NS, connect_from, instance_info, lab_down

lab = pytest.mark.skipif(
    os.geteuid() != 0 or not all(shutil.which(t) for t in ("ip", "nft", "conntrack")),
    reason="the namespace lab needs root and the ip, nft and conntrack tools",
)

# A server that answers every client with its own name, then closes.
NAME_SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(64)
print("ready", flush=True)
while True:
    c, a = s.accept()
    try:
        c.sendall((sys.argv[2] + "\n").encode())
    except OSError:
        pass
    c.close()
"""


def listener(slb, lb: str, port: int = 80, backend: int = 8080, **health) -> dict:
    return body(slb.create_load_balancer_tcplistener(slb_models.CreateLoadBalancerTCPListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=port, backend_server_port=backend, bandwidth=-1,
        **health)))


def set_listener(slb, lb: str, port: int = 80, **attrs) -> dict:
    return body(slb.set_load_balancer_tcplistener_attribute(
        slb_models.SetLoadBalancerTCPListenerAttributeRequest(
            region_id=REGION, load_balancer_id=lb, listener_port=port, **attrs)))


def health_settings(got: dict) -> tuple:
    return tuple(got[k] for k in ("HealthCheck", "HealthCheckConnectPort", "HealthyThreshold", "UnhealthyThreshold",
                                  "HealthCheckConnectTimeout", "HealthCheckInterval"))


# Values out of Alibaba's ranges (each alone): InvalidParameter.
BAD_HEALTH = ({"health_check_switch": "maybe"}, {"healthy_threshold": 1}, {"healthy_threshold": 11},
              {"unhealthy_threshold": 1}, {"unhealthy_threshold": 11}, {"health_check_connect_timeout": 0},
              {"health_check_connect_timeout": 301}, {"health_check_interval": 0}, {"health_check_interval": 51},
              {"health_check_connect_port": 0}, {"health_check_connect_port": 65536},
              {"health_check_type": "http"})


def start(slb, lb: str, port: int = 80) -> dict:
    return body(slb.start_load_balancer_listener(slb_models.StartLoadBalancerListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=port)))


def add_backends(slb, lb: str, servers: list[dict]) -> dict:
    return body(slb.add_backend_servers(slb_models.AddBackendServersRequest(
        region_id=REGION, load_balancer_id=lb, backend_servers=json.dumps(servers))))


def stop(slb, lb: str, port: int = 80) -> dict:
    return body(slb.stop_load_balancer_listener(slb_models.StopLoadBalancerListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=port)))


def delete_listener(slb, lb: str, port: int = 80) -> dict:
    return body(slb.delete_load_balancer_listener(slb_models.DeleteLoadBalancerListenerRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=port)))


def set_backends(slb, lb: str, servers: list[dict]) -> dict:
    return body(slb.set_backend_servers(slb_models.SetBackendServersRequest(
        region_id=REGION, load_balancer_id=lb, backend_servers=json.dumps(servers))))


def remove_backends(slb, lb: str, servers: list[dict]) -> dict:
    return body(slb.remove_backend_servers(slb_models.RemoveBackendServersRequest(
        region_id=REGION, load_balancer_id=lb, backend_servers=json.dumps(servers))))


def health_status(slb, lb: str, port: int | None = None) -> list[dict]:
    b = body(slb.describe_health_status(slb_models.DescribeHealthStatusRequest(
        region_id=REGION, load_balancer_id=lb, listener_port=port)))
    return b["BackendServers"]["BackendServer"]


def weights(b: dict) -> dict[str, int]:
    return {s["ServerId"]: int(s["Weight"]) for s in b["BackendServers"]["BackendServer"]}


def describe_listener(slb, lb: str, port: int = 80) -> dict:
    return body(slb.describe_load_balancer_tcplistener_attribute(
        slb_models.DescribeLoadBalancerTCPListenerAttributeRequest(
            region_id=REGION, load_balancer_id=lb, listener_port=port)))


def test_clb_listener_actions(server, slb_v3):
    d1 = instance_info(server, "demo-1")
    vsw, iid = d1["VpcAttributes"]["VSwitchId"], d1["InstanceId"]
    lb = create_clb(slb_v3, v_switch_id=vsw)["LoadBalancerId"]
    try:
        listener(slb_v3, lb)
        got = describe_listener(slb_v3, lb)
        assert (got["ListenerPort"], got["BackendServerPort"], got["Status"]) == (80, 8080, "stopped"), got
        expect_error(listener, 400, "InvalidParameter", slb_v3, lb)  # the port is taken
        # Health checks: on by default, with Alibaba's defaults, on the backend port.
        assert got["HealthCheck"] == "on" and got["HealthCheckType"] == "tcp", got
        assert health_settings(got) == ("on", 8080, 3, 3, 5, 2), got
        for bad in BAD_HEALTH:
            expect_error(listener, 400, "InvalidParameter", slb_v3, lb, 81, 8081, **bad)
            expect_error(set_listener, 400, "InvalidParameter", slb_v3, lb, 80, **bad)
        expect_error(describe_listener, 400, "InvalidParameter", slb_v3, lb, 81)  # none was created
        assert health_settings(describe_listener(slb_v3, lb)) == ("on", 8080, 3, 3, 5, 2), "nothing changed"
        listener(slb_v3, lb, 82, 8082, health_check_switch="off", health_check_connect_port=9000, healthy_threshold=10,
                 unhealthy_threshold=2, health_check_connect_timeout=300, health_check_interval=50)
        assert health_settings(describe_listener(slb_v3, lb, 82)) == ("off", 9000, 10, 2, 300, 50)
        delete_listener(slb_v3, lb, 82)
        set_listener(slb_v3, lb, 80, health_check_interval=1, healthy_threshold=2, health_check_connect_port=8081)
        assert health_settings(describe_listener(slb_v3, lb)) == ("on", 8081, 2, 3, 5, 1), "what is not sent is kept"
        set_listener(slb_v3, lb, 80, health_check_switch="off")
        assert health_settings(describe_listener(slb_v3, lb)) == ("off", 8081, 2, 3, 5, 1)
        set_listener(slb_v3, lb, 80, health_check_switch="on", health_check_connect_port=8080)
        expect_error(set_listener, 400, "InvalidParameter", slb_v3, lb, 81, health_check_interval=1)  # no listener
        start(slb_v3, lb)
        assert describe_listener(slb_v3, lb)["Status"] == "running"
        expect_error(start, 400, "InvalidParameter", slb_v3, lb, 81)  # no listener on 81
        b = add_backends(slb_v3, lb, [{"ServerId": iid, "Weight": 100}])
        assert b["LoadBalancerId"] == lb, b
        assert [(s["ServerId"], int(s["Weight"])) for s in b["BackendServers"]["BackendServer"]] == [(iid, 100)], b
        b = add_backends(slb_v3, lb, [{"ServerId": iid, "Weight": "50", "Type": "ecs"}])
        assert [int(s["Weight"]) for s in b["BackendServers"]["BackendServer"]] == [50], b
        expect_error(add_backends, 404, "InvalidInstanceId.NotFound", slb_v3, lb, [{"ServerId": "i-nope", "Weight": 1}])
        expect_error(add_backends, 400, "InvalidParameter", slb_v3, lb, [{"ServerId": iid, "Weight": 101}])

        # Health: no data plane checks anything here, so every backend of a running listener is `unavailable`.
        [h] = health_status(slb_v3, lb)
        assert (h["ServerId"], h["ListenerPort"], h["Port"], h["ServerHealthStatus"]) == (iid, 80, 8080, "unavailable"), h
        assert h["ServerIp"] == d1["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0], h
        assert health_status(slb_v3, lb, 80) == [h]
        expect_error(health_status, 400, "InvalidParameter", slb_v3, lb, 81)

        # Re-weight and remove act only on existing backends, all or nothing.
        d2 = instance_info(server, "demo-2")
        add_backends(slb_v3, lb, [{"ServerId": d2["InstanceId"], "Weight": 100}])
        assert weights(set_backends(slb_v3, lb, [{"ServerId": iid, "Weight": 0}])) == {iid: 0, d2["InstanceId"]: 100}
        expect_error(set_backends, 400, "InvalidParameter", slb_v3, lb,
                     [{"ServerId": d2["InstanceId"], "Weight": 5}, {"ServerId": "i-notabackend", "Weight": 5}])
        assert weights(describe_backends := add_backends(slb_v3, lb, [{"ServerId": iid, "Weight": 0}]))[
            d2["InstanceId"]] == 100, describe_backends  # the refused Set changed nothing
        assert weights(remove_backends(slb_v3, lb, [{"ServerId": d2["InstanceId"]}])) == {iid: 0}
        expect_error(remove_backends, 400, "InvalidParameter", slb_v3, lb, [{"ServerId": d2["InstanceId"]}])

        # Stop, then delete the listener.
        stop(slb_v3, lb)
        assert describe_listener(slb_v3, lb)["Status"] == "stopped"
        assert health_status(slb_v3, lb) == [], "a stopped listener has no backend health"
        delete_listener(slb_v3, lb)
        expect_error(describe_listener, 400, "InvalidParameter", slb_v3, lb)
        expect_error(delete_listener, 400, "InvalidParameter", slb_v3, lb)
        expect_error(stop, 400, "InvalidParameter", slb_v3, lb)
        for fn, args in ((listener, ()), (start, ()), (stop, ()), (delete_listener, ()), (describe_listener, ()),
                         (set_listener, ()),
                         (health_status, ()), (add_backends, ([{"ServerId": iid, "Weight": 1}],)),
                         (set_backends, ([{"ServerId": iid, "Weight": 1}],)),
                         (remove_backends, ([{"ServerId": iid}],))):
            expect_error(fn, 404, "InvalidLoadBalancerId.NotFound", slb_v3, "lb-doesnotexist", *args)
    finally:
        delete_clb(slb_v3, lb)


@lab
def test_clb_listener_spreads_new_connections(eipd_factory):
    procs = Procs()
    srv = None
    try:
        srv = eipd_factory(args=["--lab"])
        vpc, slb = srv.vpc(), srv.slb()
        d1, d2 = instance_info(srv, "demo-1"), instance_info(srv, "demo-2")
        vsw = d1["VpcAttributes"]["VSwitchId"]
        servers = {}
        for d in (d1, d2):
            wait_until(lambda d=d: "inet " in netns(d["InstanceId"], "ip", "-4", "-o", "addr", "show",
                                                     "dev", "eth0").stdout, f"{d['InstanceId']} wired")
            servers[d["InstanceName"]] = p = procs.start(d["InstanceId"], NAME_SERVER, "8080", d["InstanceName"])
            assert read_line(p) == "ready"
        lb = create_clb(slb, v_switch_id=vsw)["LoadBalancerId"]
        eip = allocate(vpc)
        aid, ip = eip["AllocationId"], eip["EipAddress"]
        associate(vpc, aid, lb, instance_type="SlbInstance")
        wait_status(vpc, aid, "InUse")
        listener(slb, lb)
        add_backends(slb, lb, [{"ServerId": d1["InstanceId"], "Weight": 100},
                               {"ServerId": d2["InstanceId"], "Weight": 100}])
        assert connect_from("openeip-internet", ip, 80, timeout=0.3) is None, "a stopped listener carries nothing"
        start(slb, lb)
        wait_until(lambda: connect_from("openeip-internet", ip, 80, timeout=0.3) is not None,
                   "the listener to carry connections")
        seen: dict[str, int] = {}
        for _ in range(40):
            got = connect_from("openeip-internet", ip, 80, timeout=2)
            assert got in ("demo-1", "demo-2"), got
            seen[got] = seen.get(got, 0) + 1
        assert seen.get("demo-1", 0) >= 3 and seen.get("demo-2", 0) >= 3, seen
        be = netns(GW_NS, "nft", "list", "map", "ip", "openeip", "clb_be").stdout
        assert f"{ip} . 80 . 15 :" in be, be  # every slot of the listener is filled

        def spread(n: int = 12) -> set[str | None]:
            return {connect_from("openeip-internet", ip, 80, timeout=0.5) for _ in range(n)}

        names = {d1["InstanceId"]: "demo-1", d2["InstanceId"]: "demo-2"}

        def health() -> dict[str, str]:
            return {names[h["ServerId"]]: h["ServerHealthStatus"] for h in health_status(slb, lb, 80)}

        # Real TCP health checks from the gateway: both servers accept, so both are normal.
        set_listener(slb, lb, 80, health_check_interval=1, healthy_threshold=2, unhealthy_threshold=2,
                     health_check_connect_timeout=1)
        assert health() == {"demo-1": "normal", "demo-2": "normal"}, health()
        # demo-2's server stops: abnormal within a few seconds, and new connections all go to demo-1.
        servers["demo-2"].kill()
        servers["demo-2"].wait(timeout=5)
        wait_until(lambda: health() == {"demo-1": "normal", "demo-2": "abnormal"}, "demo-2 to turn abnormal",
                   timeout=8)
        wait_until(lambda: spread(3) == {"demo-1"}, "the gateway to leave demo-2 out", timeout=5)
        assert spread(12) == {"demo-1"}
        # demo-2's server is back: normal again, and both get new connections.
        p = procs.start(d2["InstanceId"], NAME_SERVER, "8080", "demo-2")
        assert read_line(p) == "ready"
        wait_until(lambda: health() == {"demo-1": "normal", "demo-2": "normal"}, "demo-2 to turn normal again",
                   timeout=8)
        wait_until(lambda: spread(12) == {"demo-1", "demo-2"}, "both backends to get connections again", timeout=8)

        # Weight 0 takes demo-2 out of the rotation; removing demo-1 leaves no backend.
        set_backends(slb, lb, [{"ServerId": d2["InstanceId"], "Weight": 0}])
        wait_until(lambda: spread() == {"demo-1"}, "every connection to go to demo-1")
        set_backends(slb, lb, [{"ServerId": d2["InstanceId"], "Weight": 100}])
        remove_backends(slb, lb, [{"ServerId": d1["InstanceId"]}])
        wait_until(lambda: spread() == {"demo-2"}, "every connection to go to demo-2")
        # Stop carries nothing, start again carries, delete carries nothing.
        stop(slb, lb)
        wait_until(lambda: spread(3) == {None}, "a stopped listener to carry nothing")
        start(slb, lb)
        wait_until(lambda: spread(3) == {"demo-2"}, "the restarted listener to carry")
        delete_listener(slb, lb)
        wait_until(lambda: spread(3) == {None}, "a deleted listener to carry nothing")
        listener(slb, lb)
        start(slb, lb)
        wait_until(lambda: spread(3) == {"demo-2"}, "a new listener on the port to carry")

        unassociate(vpc, aid, lb, instance_type="SlbInstance")
        wait_status(vpc, aid, "Available")
        wait_until(lambda: connect_from("openeip-internet", ip, 80, timeout=0.3) is None,
                   "the listener to stop carrying once the EIP is gone")
        release(vpc, aid)
        delete_clb(slb, lb)
    finally:
        procs.stop_all()
        if srv is not None:
            lab_down(srv)
