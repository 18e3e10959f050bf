#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs (Debian
# packages, a Python venv with the official Alibaba Cloud SDKs and one with
# footmark and Ansible's alicloud modules), checks
# formatting and lints, starts throwaway PostgreSQL clusters for the store
# tests (EIPD_TEST_DATABASE_URL; removed on exit), runs the Rust tests, then
# drives a real eipd with the official SDKs: on SQLite and, side by side, as
# two nodes on PostgreSQL.
# Usage: scripts/test.sh   (as root on Debian; CI runs it too)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

# Debian packages the suite needs; installed only when missing.
APT_PACKAGES=(sqlite3 ca-certificates nftables iproute2 conntrack chromium postgresql)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

# PostgreSQL clusters as "VERSION/NAME", one a line (none before postgresql-common).
pg_clusters() { if command -v pg_lsclusters >/dev/null; then pg_lsclusters -h | awk '{print $1 "/" $2}'; fi; }

if [ ${#missing[@]} -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" = 0 ]; then
        # The tests make their own throwaway PostgreSQL cluster: the package
        # must not create (and start) the system's "main" cluster. The drop-in
        # is read through createcluster.conf's include_dir; a cluster that
        # appears anyway is dropped again below.
        installing_pg=""
        if [[ " ${missing[*]} " == *" postgresql "* ]]; then
            installing_pg=1
            mkdir -p /etc/postgresql-common/createcluster.d
            echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/openeip-no-main-cluster.conf
            pg_before="$(pg_clusters)"
        fi
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
        if [ -n "$installing_pg" ]; then
            for c in $(pg_clusters); do
                if ! grep -qxF "$c" <<<"$pg_before"; then
                    echo "dropping the PostgreSQL cluster $c that the install created" >&2
                    pg_dropcluster --stop "${c%%/*}" "${c#*/}"
                fi
            done
        fi
    else
        echo "not root: cannot install ${missing[*]}; continuing" >&2
    fi
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo build"
cargo build --workspace --quiet

target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
rust_log="$(mktemp)"
sdk_logs="$(mktemp -d)"
pg_dir=""
pg2_dir=""
stop_cluster() {
    # Stops a cluster and removes its directory (or the empty directory a
    # failed start left).
    local dir="$1" err
    if [ -n "$dir" ] && ! err="$(scripts/pg-cluster.sh stop "$dir" 2>&1)" && ! rmdir "$dir" 2>/dev/null; then
        echo "could not remove the PostgreSQL cluster in $dir: $err" >&2
    fi
}
sdk_pids=()
cleanup() {
    # An SDK pass still running (the script was interrupted) stops first.
    for pid in "${sdk_pids[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$rust_log" "$sdk_logs"
    stop_cluster "$pg_dir"
    stop_cluster "$pg2_dir"
}
trap cleanup EXIT

# Throwaway PostgreSQL clusters, stopped and removed on exit whatever the
# outcome: one for the PostgreSQL store's tests and the SQLite SDK pass (its
# multi-node and agent tests), one for the SDK pass on two PostgreSQL nodes.
# They are separate because the two SDK passes run side by side and one of
# their tests restarts its server under load.
if [ "$(id -u)" = 0 ] || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    step "throwaway PostgreSQL clusters (scripts/pg-cluster.sh)"
    pg_dir="$(mktemp -d /tmp/eipd-pg.XXXXXX)"
    EIPD_TEST_DATABASE_URL="$(scripts/pg-cluster.sh start "$pg_dir")"
    pg2_dir="$(mktemp -d /tmp/eipd-pg.XXXXXX)"
    pg2_url="$(scripts/pg-cluster.sh start "$pg2_dir")"
    # From here on a PostgreSQL test without a server is a failure, not a skip.
    # EIPD_TEST_PG_DIR lets the SDK suite restart the server under load.
    EIPD_TEST_PG_DIR="$pg_dir"
    export EIPD_TEST_DATABASE_URL EIPD_TEST_PG_DIR EIPD_REQUIRE_POSTGRES=1
    echo "EIPD_TEST_DATABASE_URL: postgres://...@${EIPD_TEST_DATABASE_URL#*@}; second cluster: postgres://...@${pg2_url#*@}"
else
    echo "no PostgreSQL server installed (not root): PostgreSQL store tests run without a database" >&2
fi

step "Rust tests"
cargo test --workspace --quiet 2>&1 | tee "$rust_log"
rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$rust_log" | awk '{s+=$4} END {print s+0}')

step "Python venv with the official SDKs"
venv="$(scripts/sdk-venv.sh)"

step "Python venv with the automation tools (footmark, Ansible's alicloud modules)"
tools_venv="$(SDK_REQUIREMENTS="$PWD/tests/tools/requirements.txt" SDK_VENV="$PWD/.venv-tools" scripts/sdk-venv.sh)"

step "Node.js packages with the official SDKs (tests/node)"
(cd tests/node && npm ci --no-audit --no-fund --silent --omit-lockfile-registry-resolved)

# The SQLite pass and the two-node PostgreSQL pass run side by side (most
# of a test's time is waiting on eipd and the network); the modules that build
# network namespaces take turns through a lock (tests/sdk/conftest.py), run
# first in one pass and last in the other.
sdk_pass() {  # NAME LOG [VAR=VALUE...]: one pytest run of tests/sdk (run in the background: exec)
    local name="$1" log="$2"
    shift 2
    exec env EIPD_BIN="$target_dir/debug/eipd" EIPD_TOOLS_VENV="$tools_venv" EIPD_REQUIRE_TOOLS=1 "$@" \
        "$venv/bin/python" -m pytest tests/sdk -q -p no:cacheprovider --basetemp="$sdk_logs/$name-tmp" \
        >"$log" 2>&1
}
step "SDK integration tests: official SDKs against eipd on SQLite, and again with every server two eipd nodes on PostgreSQL (side by side)"
sdk_pass sqlite "$sdk_logs/sqlite.log" EIPD_SDK_NETNS_ORDER=first &
sqlite_pid=$!
sdk_pids+=("$sqlite_pid")
postgres_pid=""
if [ -n "$pg_dir" ]; then
    # Every server two eipd nodes on one PostgreSQL schema, the clients
    # alternating between them.
    sdk_pass postgres "$sdk_logs/postgres.log" EIPD_SDK_NETNS_ORDER=last EIPD_SDK_STORE=postgres EIPD_SDK_NODES=2 \
        EIPD_TEST_DATABASE_URL="$pg2_url" EIPD_TEST_PG_DIR="$pg2_dir" &
    postgres_pid=$!
    sdk_pids+=("$postgres_pid")
fi
sdk_failed=0
wait "$sqlite_pid" || sdk_failed=1
step "SDK pass on SQLite"
cat "$sdk_logs/sqlite.log"
if [ -n "$postgres_pid" ]; then
    wait "$postgres_pid" || sdk_failed=1
    step "SDK pass on two eipd nodes on PostgreSQL"
    cat "$sdk_logs/postgres.log"
fi

echo
echo "rust: ${rust_passed} passed; sdk suites: see the pytest summaries above"
exit "$sdk_failed"
