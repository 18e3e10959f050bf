#!/usr/bin/env bash
# AssociateEipAddress throughput and latency on SQLite alone and on 1, 2 and 4
# eipd nodes sharing one PostgreSQL schema, driven by the Rust load generator
# (crates/eipd/examples/assoc_load.rs) so the clients are not the bound.
# Starts a throwaway PostgreSQL cluster (scripts/pg-cluster.sh) and stops it,
# and every eipd it starts, on exit.
# Usage: bench/store_nodes.sh [CLIENTS] [SECONDS]   (as root; about 2 min)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
clients="${1:-32}"
seconds="${2:-20}"
cargo build --release -p eipd --example assoc_load --quiet
cargo build --release -p eipd --quiet
bin=target/release/eipd
load=target/release/examples/assoc_load
work="$(mktemp -d /tmp/eipd-bench.XXXXXX)"
# The cluster's directory of its own, directly in /tmp: its server user must reach it.
pg="$(mktemp -d /tmp/eipd-bench-pg.XXXXXX)"
cleanup() {
    stop_nodes
    scripts/pg-cluster.sh stop "$pg" >/dev/null 2>&1 || rmdir "$pg" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
export EIPD_ROOT_ACCESS_KEY_ID=benchid EIPD_ROOT_ACCESS_KEY_SECRET=benchsecret
# Nodes sharing a schema share the key their AccessKey secrets are sealed with.
export EIPD_SECRETS_KEY_FILE="$work/secrets.key"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_node NAME [--database-url URL]: starts one eipd, prints its endpoint.
start_node() {
    local name="$1"; shift
    local port; port="$(free_port)"
    "$bin" serve --listen "127.0.0.1:$port" --data-dir "$work/$name" --task-delay-ms 1 "$@" \
        >"$work/$name.log" 2>&1 &
    # start_node runs in a command substitution (a subshell): the pid goes
    # through a file, or the parent could not stop the node.
    echo $! >"$work/$name.pid"
    for _ in $(seq 200); do
        if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
            # 32 clients hold 32 EIPs: past the cloud's default quota of 20.
            "$bin" quota set root eip_count 1000000 --data-dir "$work/$name" "$@" >/dev/null
            echo "127.0.0.1:$port"
            return
        fi
        sleep 0.05
    done
    echo "eipd $name did not come up: $(tail -5 "$work/$name.log")" >&2
    exit 1
}

# retries ENDPOINT...: each node's write transactions run again after a conflict.
retries() {
    local total=0 n
    for ep in "$@"; do
        n="$(curl -fs "http://$ep/metrics" | sed -n 's/^eipd_store_write_retries_total{[^}]*} \([0-9]*\)$/\1/p')"
        total=$((total + ${n:-0}))
    done
    echo "write transactions retried after a conflict (all nodes): $total"
}

stop_nodes() {
    local f p
    for f in "$work"/*.pid; do
        [ -e "$f" ] || continue
        p="$(cat "$f")"
        kill "$p" 2>/dev/null || true
        # Not our child (started in a subshell): wait until it has gone.
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        rm -f "$f"
    done
}

echo "== SQLite, one node"
ep="$(start_node sqlite)"
"$load" --endpoints "$ep" --clients "$clients" --seconds "$seconds"
retries "$ep"
stop_nodes

url="$(scripts/pg-cluster.sh start "$pg")"
for nodes in 1 2 4; do
    schema="bench_$nodes"
    psql "$url" -qc "CREATE SCHEMA $schema"
    db="$url?options=-csearch_path%3D$schema"
    eps=()
    for n in $(seq "$nodes"); do
        eps+=("$(start_node "pg$nodes-$n" --database-url "$db")")
    done
    echo "== PostgreSQL, $nodes node(s)"
    psql "$url" -qAtc "SELECT 'commits ' || xact_commit || ', rollbacks ' || xact_rollback FROM pg_stat_database WHERE datname = current_database()" >"$work/before"
    "$load" --endpoints "$(IFS=,; echo "${eps[*]}")" --clients "$clients" --seconds "$seconds"
    retries "${eps[@]}"
    echo "database before: $(cat "$work/before"); after: $(psql "$url" -qAtc "SELECT 'commits ' || xact_commit || ', rollbacks ' || xact_rollback FROM pg_stat_database WHERE datname = current_database()")"
    stop_nodes
done

echo "== one round trip to PostgreSQL (pgbench, SELECT 1, prepared, one client, 5 s)"
echo "SELECT 1;" >"$work/select1.sql"
pgbench="$(ls /usr/lib/postgresql/*/bin/pgbench | tail -1)"
"$pgbench" -n -M prepared -f "$work/select1.sql" -T 5 -c 1 "$url" 2>&1 | grep -E 'latency average|tps'
