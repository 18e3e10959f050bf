#!/usr/bin/env bash
# New-connection latency through an EIP gateway at 1 and 100k EIPs: our real
# nftables table (render::full, maps) against one iptables rule per EIP, side
# by side in one run. A benchmark for docs/benchmarks.md, not a test.
#
#   oeipbn-c (the internet)          oeipbn-gw (the gateway)              oeipbn-s (the instance)
#   up0 203.0.113.10/24 ---------- pub0 203.0.113.1/24
#   198.18.0.0/15 via .1                                priv0 10.255.255.1/24 ---- eth0 10.255.255.2/24
#                                                                                  connlat serve :8080
#
# For every configuration (rules x N) a fresh topology is built, the rules are
# loaded into the gateway (nft -f / iptables-*-restore, timed, with the kernel
# memory delta), conntrack is flushed, then `connlat client` makes 200 warm-up
# and --count timed sequential connects to the LAST EIP (the one at the end of
# every rule chain; EIP i = 198.18.0.0 + i, 1..N), and the topology is removed.
# Each connect is timed from socket() to connect() returning (SYN through the
# gateway's nat chains, SYN-ACK back); the client then waits for the server's
# close and closes, one connection at a time. A baseline with no rules in the
# gateway (client straight to the server's private address, no conntrack)
# comes first. Configurations are interleaved round by round so machine drift
# hits all of them alike; "ours at 100k vs 1" is the median of the per-round
# ratios. Raw lines and the summary go to bench/results/conn_latency-STAMP.json.
# Namespaces are oeipbn-*; they and the server are removed on exit, also on
# failure or SIGINT/SIGTERM (after the command then running finishes).
#
# Usage (as root):
#   bench/conn_latency.sh [--sizes "1 100000"] [--rounds 3] [--count 2000]
#                         [--iptables "nft legacy"] [--out FILE]
# Env: CARGO_TARGET_DIR (where connlat is built; default <repo>/target),
#      CONNLAT (a prebuilt connlat binary: skips the build).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

sizes="1 100000"
rounds=3
count=2000
warmup=200
ipt_backends="nft legacy"
out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --sizes) sizes="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --count) count="$2"; shift 2 ;;
        --iptables) ipt_backends="$2"; shift 2 ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

[ "$(id -u)" = 0 ] || { echo "run as root (network namespaces, nft, iptables)" >&2; exit 1; }

# Debian packages this bench needs (iptables only for the comparison).
need=()
for p in nftables iproute2 conntrack iptables; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing ${need[*]}" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

if [ -z "${CONNLAT:-}" ]; then
    (cd "$root" && cargo build --release -q -p eip-dataplane --example connlat)
    CONNLAT="${CARGO_TARGET_DIR:-$root/target}/release/examples/connlat"
fi
[ -x "$CONNLAT" ] || { echo "no connlat binary at $CONNLAT" >&2; exit 1; }

C=oeipbn-c GW=oeipbn-gw S=oeipbn-s
SERVER=10.255.255.2 PORT=8080
work="$(mktemp -d /tmp/oeipbn-connlat.XXXXXX)"
server_pid=""

topo_down() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
    for ns in $C $GW $S; do ip netns del "$ns" 2>/dev/null || true; done
}
cleanup() {
    topo_down
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

topo_up() {
    ip netns add $C; ip netns add $GW; ip netns add $S
    ip link add up0 netns $C type veth peer name pub0 netns $GW
    ip link add priv0 netns $GW type veth peer name eth0 netns $S
    ip -n $C addr add 203.0.113.10/24 dev up0
    ip -n $GW addr add 203.0.113.1/24 dev pub0
    ip -n $GW addr add 10.255.255.1/24 dev priv0
    ip -n $S addr add $SERVER/24 dev eth0
    for ns in $C $GW $S; do ip -n "$ns" link set lo up; done
    ip -n $C link set up0 up; ip -n $GW link set pub0 up; ip -n $GW link set priv0 up; ip -n $S link set eth0 up
    ip -n $C route add 198.18.0.0/15 via 203.0.113.1
    ip -n $C route add 10.255.255.0/24 via 203.0.113.1   # only the no-rules baseline uses it
    ip -n $S route add default via 10.255.255.1
    ip netns exec $GW sysctl -qw net.ipv4.ip_forward=1
    ip netns exec $C sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
    ip netns exec $S "$CONNLAT" serve "$SERVER:$PORT" >"$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 100); do grep -q listening "$work/server.log" 2>/dev/null && return 0; sleep 0.02; done
    echo "server did not start: $(cat "$work/server.log")" >&2; return 1
}

meminfo() { awk '/^(Slab|VmallocUsed|Percpu):/ {printf "%s=%s ", $1, $2}' /proc/meminfo; }
kb() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2:=//p"; }

# Rule files, generated once.
for n in $sizes; do
    "$CONNLAT" emit-table "$n" >"$work/table-$n.nft"
    "$CONNLAT" emit-iptables "$n" >"$work/ipt-$n.rules"
done

# Baseline: no rules at all in the gateway (no netfilter hook, so no conntrack
# either), the client connecting to the server's private address: the floor
# of this topology and client.
configs=("none:0")
for n in $sizes; do configs+=("nft-map:$n"); done
for b in $ipt_backends; do
    command -v "iptables-$b-restore" >/dev/null || { echo "no iptables-$b-restore; skipping" >&2; continue; }
    for n in $sizes; do configs+=("iptables-$b:$n"); done
done

raw="$work/raw.jsonl"
: >"$raw"
echo "configs: ${configs[*]}; rounds $rounds x $count connects (+$warmup warm-up)" >&2
for r in $(seq "$rounds"); do
    for cfg in "${configs[@]}"; do
        kind="${cfg%%:*}" n="${cfg##*:}"
        if [ "$kind" = none ]; then target=$SERVER; else target="$("$CONNLAT" target "$n")"; fi
        topo_up
        sync; sleep 0.5
        m0="$(meminfo)"
        t0=$(date +%s%N)
        case "$kind" in
            none) ;;
            nft-map) ip netns exec $GW nft -f "$work/table-$n.nft" ;;
            iptables-*) ip netns exec $GW "$kind-restore" <"$work/ipt-$n.rules" ;;
        esac
        t1=$(date +%s%N)
        sleep 0.5
        m1="$(meminfo)"
        ip netns exec $GW conntrack -F >/dev/null 2>&1 || true
        ip netns exec $C "$CONNLAT" client "$target:$PORT" --count "$warmup" >/dev/null
        ip netns exec $GW conntrack -F >/dev/null 2>&1 || true
        line="$(ip netns exec $C "$CONNLAT" client "$target:$PORT" --count "$count")"
        ct="$(ip netns exec $GW conntrack -C 2>/dev/null || echo null)"
        d() { echo $(( $(kb "$m1" "$1") - $(kb "$m0" "$1") )); }
        echo "$line" | python3 -c '
import json, sys
d = json.loads(sys.stdin.read())
d.update(config=sys.argv[1], n=int(sys.argv[2]), round=int(sys.argv[3]), load_ms=round(int(sys.argv[4]) / 1e6, 1),
         slab_delta_kb=int(sys.argv[5]), vmalloc_delta_kb=int(sys.argv[6]), percpu_delta_kb=int(sys.argv[7]),
         conntrack_after=None if sys.argv[8] == "null" else int(sys.argv[8]))
print(json.dumps(d))' "$kind" "$n" "$r" "$((t1 - t0))" "$(d Slab)" "$(d VmallocUsed)" "$(d Percpu)" "$ct" >>"$raw"
        tail -n1 "$raw" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("round %(round)s %(config)16s N=%(n)-6s %(connects_per_s)7s conn/s  p50 %(p50_us)s us  p99 %(p99_us)s us"
      "  errors %(errors)s  load %(load_ms)s ms  slab %(slab_delta_kb)+d kB  conntrack %(conntrack_after)s" % d, file=sys.stderr)'
        topo_down
    done
done

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="${out:-$root/bench/results/conn_latency-$stamp.json}"
mkdir -p "$(dirname "$out")"
python3 - "$raw" "$out" "$rounds" "$count" "$warmup" <<'EOF'
import json, os, platform, statistics, subprocess, sys
raw, out, rounds, count, warmup = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
runs = [json.loads(l) for l in open(raw)]
def sh(*a):
    try:
        return subprocess.run(a, capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        return ""
summary = {}
for r in runs:
    summary.setdefault(f"{r['config']}:{r['n']}", []).append(r)
table = []
for key, rs in summary.items():
    med = lambda k: statistics.median(x[k] for x in rs)
    table.append({"config": rs[0]["config"], "n": rs[0]["n"], "runs": len(rs),
                  "connects_per_s": med("connects_per_s"), "p50_us": med("p50_us"), "p99_us": med("p99_us"),
                  "mean_us": med("mean_us"), "errors": sum(x["errors"] for x in rs), "load_ms": med("load_ms"),
                  "slab_delta_kb": med("slab_delta_kb"), "vmalloc_delta_kb": med("vmalloc_delta_kb"),
                  "percpu_delta_kb": med("percpu_delta_kb")})
by = {(t["config"], t["n"]): t for t in table}
ns = sorted({t["n"] for t in table if t["config"] == "nft-map"})
target = None
if len(ns) >= 2:
    # Paired per round (the two ran back to back), median over rounds: cancels the machine's drift.
    small = {x["round"]: x for x in summary.get(f"nft-map:{ns[0]}", [])}
    large = {x["round"]: x for x in summary.get(f"nft-map:{ns[-1]}", [])}
    pairs = [(small[r], large[r]) for r in sorted(small) if r in large]
    ratio = lambda k: round(statistics.median(b[k] / a[k] for a, b in pairs), 3)
    target = {"small_n": ns[0], "large_n": ns[-1], "paired_rounds": len(pairs),
              "p50_ratio": ratio("p50_us"), "p99_ratio": ratio("p99_us"), "mean_ratio": ratio("mean_us"),
              "connects_per_s_ratio": ratio("connects_per_s")}
    target["within_10_percent"] = target["p50_ratio"] <= 1.1 and target["connects_per_s_ratio"] >= 1 / 1.1
mi = {}
for l in open("/proc/cpuinfo"):
    if l.startswith("model name"):
        mi["cpu_model"] = l.split(":", 1)[1].strip(); break
res = {"bench": "conn_latency", "rounds": rounds, "count": count, "warmup": warmup,
       "machine": {"nproc": os.cpu_count(), **mi, "kernel": platform.release(),
                   "nft": sh("nft", "--version"), "iptables": sh("iptables", "--version"),
                   "git_commit": sh("git", "-C", os.path.dirname(os.path.dirname(os.path.abspath(out))), "rev-parse", "--short", "HEAD")},
       "summary": table, "ours_large_vs_small": target, "runs": runs}
open(out, "w").write(json.dumps(res, indent=2) + "\n")
print(f"\n{'config':>16} {'N':>7} {'conn/s':>8} {'p50 us':>8} {'p99 us':>8} {'load ms':>8} {'slab MiB':>9} {'vmalloc MiB':>11}")
for t in table:
    print(f"{t['config']:>16} {t['n']:>7} {t['connects_per_s']:>8.0f} {t['p50_us']:>8.1f} {t['p99_us']:>8.1f} "
          f"{t['load_ms']:>8.0f} {t['slab_delta_kb']/1024:>9.1f} {t['vmalloc_delta_kb']/1024:>11.1f}")
if target:
    print(f"\nours at N={target['large_n']} vs N={target['small_n']} (median of per-round ratios): "
          f"p50 x{target['p50_ratio']}, p99 x{target['p99_ratio']}, conn/s x{target['connects_per_s_ratio']}"
          f" -> within 10 %: {target['within_10_percent']}")
print(f"results: {out}")
EOF
