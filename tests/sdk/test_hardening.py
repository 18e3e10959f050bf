"""Issue 9: no request, signed or not, may take eipd down or make it hoard
memory. Each defect of the issue has a test here that reproduced it on the
code before the fix; the last tests hold the class down (connection limits,
and thousands of hostile requests under a memory cap)."""

from __future__ import annotations

import json
import os
import resource
import socket
import urllib.error
import urllib.request
import stat
import subprocess
import time
import uuid
import xml.dom.minidom

import pytest
from alibabacloud_vpc20160428 import models as vpc_models

from conftest import (
    AK_ID,
    AK_SECRET,
    REGION,
    Raw,
    check_error_body,
    describe_eips,
    eip_list,
    eipd_bin,
    expect_error,
    free_port,
    modify,
    raw_once,
    sqlite_only,
    v1_pairs,
)
from conftest import encode_pairs as encode

VPC_VERSION = "2016-04-28"


def xml_code(body: bytes) -> tuple[str, str]:
    doc = xml.dom.minidom.parseString(body)  # raises on malformed XML

    def text(tag):
        n = doc.getElementsByTagName(tag)[0].firstChild
        return n.data if n is not None else ""
    return text("Code"), text("Message")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def raw_socket(server, data: bytes, timeout: float = 10) -> bytes:
    """Sends raw bytes and returns everything the server answers until it closes."""
    host, port = server.endpoint.split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            out += chunk
        return out


def split_response(resp: bytes) -> tuple[int, dict, bytes]:
    head, _, body = resp.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    return status, headers, body


# ------------------------------------------------------------ defect 1

def test_monitor_data_over_an_absurd_span_is_refused_and_the_server_stays_up(server, vpc_v3, res):
    """Defect 1 (critical): StartTime year 0 and EndTime year 292278000 wrapped
    the period count and the series loop allocated until SIGABRT."""
    a = res.eip()["AllocationId"]

    def monitor(start, end):
        return vpc_v3.describe_eip_monitor_data(vpc_models.DescribeEipMonitorDataRequest(
            region_id=REGION, allocation_id=a, start_time=start, end_time=end, period=60))

    for start, end in [("0000-01-01T00:00:00Z", "292278000-01-01T00:00:00Z"),
                       ("1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
                       ("2026-01-01T00:00:00Z", "2026-01-02T00:01:00Z")]:
        err = expect_error(monitor, 400, "InvalidParameter", start, end)
        check_error_body(err)
    assert server.alive()
    # A day of minutes is still the documented maximum.
    points = monitor("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z").body.eip_monitor_datas.eip_monitor_data
    assert len(points) == 1440


# ------------------------------------------------------------ defects 2 and 3

def test_unknown_access_key_ids_are_not_kept(eipd_factory):
    """Defect 2 (unauthenticated): every distinct ~1 MiB AccessKeyId was cached,
    ~1.1 MB of RSS per request until the allocator aborted."""
    srv = eipd_factory(demo=False)
    raw = Raw(srv)
    base = rss_kib(srv.pid)
    for i in range(150):
        ak = f"K{i}" + "A" * (512 << 10)
        pairs = v1_pairs({"Action": "DescribeRegions"}, ak=ak, secret="x")
        status, _, body = raw.send(body=encode(pairs).encode())
        assert status == 404 and json.loads(body)["Code"] == "InvalidAccessKeyId.NotFound", body[:300]
    # An id of a plausible shape that does not exist: same answer, not cached either.
    for i in range(200):
        status, _, body = raw.send(body=encode(v1_pairs({"Action": "DescribeRegions"}, ak=f"LTAI{i:020d}")).encode())
        assert status == 404, body
    raw.close()
    grown = rss_kib(srv.pid) - base
    assert grown < 40 * 1024, f"RSS grew {grown} KiB over 150 half-MiB unknown keys (was ~75 MB before the fix)"
    assert "TotalCount" in describe_eips(srv.vpc())


def test_long_signature_nonces_are_refused_before_anything_keeps_them(eipd_factory):
    """Defect 3: signed reads with 1 MiB nonces kept ~1.1 MB each for the
    replay window; writes stored them in the database."""
    srv = eipd_factory(demo=False)
    raw = Raw(srv)
    base = rss_kib(srv.pid)
    db_before = srv.store_bytes()
    for i in range(100):
        nonce = f"{i}-" + "n" * (512 << 10)
        action = "AllocateEipAddress" if i % 10 == 0 else "DescribeEipAddresses"
        pairs = v1_pairs({"Action": action, "RegionId": REGION}, nonce=nonce)
        status, _, body = raw.send(body=encode(pairs).encode())
        err = json.loads(body)
        assert status == 400 and err["Code"] == "IncompleteSignature", body[:300]
        assert "nonce" in err["Message"] and len(err["Message"]) < 300, err
    raw.close()
    grown = rss_kib(srv.pid) - base
    assert grown < 40 * 1024, f"RSS grew {grown} KiB"
    assert srv.store_bytes() - db_before < 1 << 20
    vpc = srv.vpc()
    assert eip_list(describe_eips(vpc)) == []  # no refused write ran
    # Ordinary nonces (32 and 64 hex, UUIDs) still work, and still only once.
    for nonce in [uuid.uuid4().hex, uuid.uuid4().hex * 2, str(uuid.uuid4())]:
        pairs = v1_pairs({"Action": "DescribeRegions"}, nonce=nonce)
        assert raw_once(srv, body=encode(pairs).encode())[0] == 200
        status, _, body = raw_once(srv, body=encode(pairs).encode())
        assert status == 400 and json.loads(body)["Code"] == "SignatureNonceUsed", body


# ------------------------------------------------------------ defects 4 and 5

@pytest.mark.parametrize("bad", ["\uffff", "\ufffe", "a\x1b[2Jb", "\x85", "\x9b31m"])
def test_characters_xml_cannot_carry_are_refused_in_every_parameter(server, vpc_v3, res, bad):
    """Defect 4: Name=U+FFFF was accepted and every later Format=XML listing of
    that EIP was malformed. Also C1 controls (terminal escapes)."""
    a = res.eip()["AllocationId"]
    err = expect_error(modify, 400, "InvalidParameter", vpc_v3, a, name=f"n{bad}")
    assert "Name" in err.message and bad not in err.message, err
    pairs = v1_pairs({"Action": "DescribeEipAddresses", "RegionId": REGION, "AllocationId": a,
                      "Format": "XML", "Tag.1.Key": f"k{bad}"})
    status, ctype, body = raw_once(server, body=encode(pairs).encode())
    assert status == 400 and ctype.startswith("text/xml")
    assert xml_code(body)[0] == "InvalidParameter"
    # The EIP's listing stays well-formed XML.
    pairs = v1_pairs({"Action": "DescribeEipAddresses", "RegionId": REGION, "AllocationId": a, "Format": "XML"})
    status, _, body = raw_once(server, body=encode(pairs).encode())
    assert status == 200
    doc = xml.dom.minidom.parseString(body)
    assert doc.getElementsByTagName("AllocationId")[0].firstChild.data == a


@pytest.mark.parametrize("name,value", [
    ("Version", "\x01"), ("Action", "\x1b[2J"), ("Action", "\x00"), ("Version", "\uffff"),
    ("Action", "Describe<Eip>&" + "x" * 500), ("Version", "2016-04-29\x7f"),
])
def test_values_quoted_in_errors_are_never_raw(server, name, value):
    """Defect 5 (unauthenticated): Version=%01, Action=%1B[2J, %00, %EF%BF%BF
    were echoed raw into InvalidVersion / InvalidAction.NotFound: malformed
    XML, and a terminal escape passed on."""
    params = {"Action": "DescribeRegions", "Version": VPC_VERSION, "Format": "XML", name: value}
    pairs = v1_pairs(params, secret="not-the-secret")
    for query, body in [(encode(pairs), b""), ("", encode(pairs).encode())]:
        status, ctype, resp = raw_once(server, query=query, body=body)
        assert 400 <= status < 500 and ctype.startswith("text/xml"), (status, resp[:300])
        code, message = xml_code(resp)
        assert code in ("InvalidParameter", "InvalidAction.NotFound", "InvalidVersion"), (code, message)
        assert all(c == "\n" or " " <= c <= "~" or c == "…" for c in message), repr(message)
        assert len(message) < 300, message


# ------------------------------------------------------------ defect 6

def _serve_fresh(data_dir, port, extra_env=None, args=()):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIPD_ROOT_ACCESS_KEY")}
    env.update(extra_env or {})
    return subprocess.Popen(
        [str(eipd_bin()), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)


def _wait_listening(proc, port, timeout=20):
    """Until the server answers HTTP. A TCP handshake alone proves nothing:
    eipd binds its port before it opens the store and writes credentials, and
    the kernel completes handshakes into the listen backlog meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=0.5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("eipd did not answer HTTP")


def test_existing_secret_files_are_made_private(tmp_path):
    """Defect 6: a data dir that already existed 0755 with a 0644 credentials
    file got the new root secret written into it, still 0644."""
    d = tmp_path / "data"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    cred = d / "credentials"
    cred.write_text("# left by somebody\n")
    os.chmod(cred, 0o644)
    port = free_port()
    proc = _serve_fresh(d, port)
    try:
        _wait_listening(proc, port)
        assert stat.S_IMODE(cred.stat().st_mode) == 0o600
        assert "access_key_secret = " in cred.read_text()
        for f in d.iterdir():
            if f.name.startswith("eipd.db"):
                assert stat.S_IMODE(f.stat().st_mode) == 0o600, f
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "open to other users" in err, err


@sqlite_only
def test_a_loose_database_file_is_tightened_on_start(eipd_factory):
    srv = eipd_factory(demo=False)
    srv.stop()
    db = srv.data_dir / "eipd.db"
    os.chmod(db, 0o644)
    srv.start()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    srv.stop()
    assert "now 0600" in srv.log_path.read_text()


# ------------------------------------------------------------ defect 7

def test_protocol_refusals_carry_the_envelope(server):
    """Defect 7: 414, 431 and 400 came back with empty bodies."""
    cases = [
        # eipd's own limits (a 63 KiB query; 20 KiB of headers) ...
        b"GET /?" + b"A=" + b"x" * (63 << 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /?Action=DescribeRegions HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * (20 << 10) + b"\r\n\r\n",
        # ... and what hyper refuses before eipd sees it.
        b"GET /?" + b"A=" + b"x" * (100 << 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * (300 << 10) + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: 1\r\n" % i for i in range(200)) + b"\r\n",
        b"THIS IS NOT HTTP\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
    ]
    want = [414, 431, 414, 431, 431, 400, 400]
    for data, status_wanted in zip(cases, want):
        status, headers, body = split_response(raw_socket(server, data))
        assert status == status_wanted, (data[:60], status, body[:200])
        assert headers.get("content-type", "").startswith("application/json"), headers
        err = json.loads(body)
        assert err["Code"] and len(err["RequestId"]) == 36 and err["Message"], err
    assert server.alive()


def test_a_parameter_given_twice_is_refused(server):
    """Defect 7: a repeated scalar parameter kept its first value silently,
    though V1 signs sorted pairs and does not protect their order."""
    for where in ("query", "body", "both"):
        pairs = [("Action", "DescribeEipAddresses"), ("RegionId", REGION), ("Status", "Available")]
        if where == "both":
            signed = v1_pairs(pairs + [("Status", "InUse")])
            q = encode([p for p in signed if p != ("Status", "InUse")])
            status, _, body = raw_once(server, query=q, body=encode([("Status", "InUse")]).encode())
        else:
            signed = v1_pairs(pairs + [("Status", "InUse")])
            if where == "query":
                status, _, body = raw_once(server, query=encode(signed))
            else:
                status, _, body = raw_once(server, body=encode(signed).encode())
        err = json.loads(body)
        assert status == 400 and err["Code"] == "InvalidParameter" and "Status" in err["Message"], (where, err)


# ------------------------------------------------------------ defect 8

def test_a_taken_port_fails_before_anything_is_seeded_or_announced(tmp_path):
    """Defect 8: with the port taken, `serve --demo` printed "listening on",
    seeded the demo into the data directory, then failed."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        d = tmp_path / "data"
        proc = _serve_fresh(d, port, args=("--demo",))
        out, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "listening" not in out, out
    assert "cannot listen" in err and str(port) in err, err
    assert not d.exists(), list(d.iterdir())


# ------------------------------------------------------------ the class: connections

def test_slow_and_idle_clients_are_cut_and_cannot_starve_others(eipd_factory):
    """A few sockets must not hold the server: heads have a deadline (which
    also closes idle keep-alive connections), and the connection cap frees up."""
    srv = eipd_factory(demo=False, args=["--max-connections", "4", "--client-timeout-secs", "2"])
    host, port = srv.endpoint.split(":")
    hogs = []
    for _ in range(4):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # a head that never ends
        hogs.append(s)
    t0 = time.monotonic()
    assert "TotalCount" in describe_eips(srv.vpc())  # waits for a slot, then served
    waited = time.monotonic() - t0
    assert waited < 8, waited
    for s in hogs:
        # hyper closes a connection whose head is late without an answer.
        assert s.recv(65536) == b""
        s.close()
    # An idle keep-alive connection is closed after the same deadline.
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.3)
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        t0 = time.monotonic()
        rest = s.recv(65536)
        assert time.monotonic() - t0 < 6
        assert rest == b"" or b" 408 " in rest.split(b"\r\n")[0], rest[:100]


def test_a_slow_body_is_cut_with_an_envelope(eipd_factory):
    srv = eipd_factory(demo=False, args=["--client-timeout-secs", "2"])
    host, port = srv.endpoint.split(":")
    with socket.create_connection((host, int(port)), timeout=60) as s:
        s.sendall(b"POST /?Format=JSON HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 1000\r\n\r\nAction=")
        t0 = time.monotonic()
        status, _, body = split_response(s.recv(65536))
        assert status == 408 and json.loads(body)["Code"] == "RequestTimeout", body
        assert 1.5 < time.monotonic() - t0 < 8
    assert "TotalCount" in describe_eips(srv.vpc())


# ------------------------------------------------------------ the class: memory

MEMORY_CAP = 1 << 30  # address space eipd may use in this test


def test_thousands_of_hostile_requests_under_a_memory_cap(eipd_factory):
    """3,000 hostile requests (long AccessKeyIds, nonces, names, ids, lists,
    repeated parameters, bad times), unauthenticated and signed, against an
    eipd whose address space is capped: RSS grows less than 48 MiB and the
    server answers correctly afterwards."""
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    srv = eipd_factory(demo=True)
    srv.stop()
    # Restart the same data dir under the cap.
    # One node alone, on the same store (its PostgreSQL schema, if any).
    srv.peers = []
    srv_proc_env = dict(os.environ, **srv.extra_env, EIPD_ROOT_ACCESS_KEY_ID=AK_ID, EIPD_ROOT_ACCESS_KEY_SECRET=AK_SECRET)
    port = free_port()
    proc = subprocess.Popen(
        [str(eipd_bin()), "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", str(srv.data_dir),
         "--task-delay-ms", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=srv_proc_env, preexec_fn=cap)
    try:
        _wait_listening(proc, port)
        srv.port = port
        srv.proc = proc
        eip = srv.vpc().allocate_eip_address(vpc_models.AllocateEipAddressRequest(region_id=REGION)).body
        raw = Raw(srv)
        base = rss_kib(proc.pid)
        big = "B" * (200 << 10)
        kinds = [
            lambda i: ([("Action", "DescribeRegions")], dict(ak=f"{i}{big}", secret="x")),
            lambda i: ([("Action", "DescribeEipAddresses"), ("RegionId", REGION)], dict(nonce=f"{i}{big}")),
            lambda i: ([("Action", "ModifyEipAddressAttribute"), ("RegionId", REGION),
                        ("AllocationId", eip.allocation_id), ("Name", f"n{i}" + "x" * (30 << 10))], {}),
            lambda i: ([("Action", "DescribeEipAddresses"), ("RegionId", REGION),
                        ("AllocationId", ",".join(f"eip-{i}-{j}" + "z" * 60 for j in range(60)))], {}),
            lambda i: ([("Action", "AssociateEipAddress"), ("RegionId", REGION),
                        ("AllocationId", eip.allocation_id), ("InstanceId", "i-" + "q" * 5000)], {}),
            lambda i: ([("Action", "DescribeEipAddresses"), ("RegionId", REGION)]
                       + [(f"Tag.{j}.Key", f"k{i}.{j}") for j in range(1, 1001)], {}),
            lambda i: ([("Action", "DescribeEipMonitorData"), ("RegionId", REGION),
                        ("AllocationId", eip.allocation_id), ("StartTime", "0000-01-01T00:00:00Z"),
                        ("EndTime", "292278000-01-01T00:00:00Z")], {}),
            lambda i: ([("Action", "DescribeEipAddresses"), ("RegionId", REGION), ("Status", "InUse"),
                        ("Status", "Available")], {}),
            lambda i: ([("Action", f"Nope{i}" + "\x1b" * 100), ("RegionId", REGION)], {}),
            lambda i: ([("Action", "DescribeEipAddresses"), ("RegionId", REGION),
                        (f"Unknown{i}" + "u" * 100, "v" * 20000)], {}),
        ]
        statuses = {}
        for i in range(3000):
            params, kw = kinds[i % len(kinds)](i)
            status, _, body = raw.send(body=encode(v1_pairs(params, **kw)).encode())
            assert status < 500, (i % len(kinds), status, body[:300])
            assert json.loads(body).get("RequestId"), body[:300]
            statuses[status] = statuses.get(status, 0) + 1
        raw.close()
        grown = rss_kib(proc.pid) - base
        print(f"hostile requests: RSS {base} KiB -> {base + grown} KiB over 3,000 ({statuses})")
        assert proc.poll() is None
        assert grown < 48 * 1024, f"RSS grew {grown} KiB over 3,000 hostile requests ({statuses})"
        # Still correct afterwards.
        vpc = srv.vpc()
        got = eip_list(describe_eips(vpc, allocation_id=eip.allocation_id))
        assert [e["AllocationId"] for e in got] == [eip.allocation_id]
        assert not got[0]["Name"].startswith("n")  # no refused modify landed
    finally:
        proc.terminate()
        proc.wait(timeout=20)
