#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs (Debian
# packages, a Python venv with the official Alibaba Cloud SDKs and one with
# footmark and Ansible's alicloud modules), checks
# formatting and lints, starts a throwaway PostgreSQL cluster for the store
# tests (EIPD_TEST_DATABASE_URL; removed on exit), runs the Rust tests, then
# drives a real eipd with the official SDKs: once on SQLite, once as two
# nodes on the PostgreSQL cluster.
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
pg_dir=""
cleanup() {
    rm -f "$rust_log"
    if [ -n "$pg_dir" ]; then
        # Stops the cluster and removes its directory (or the empty directory
        # a failed start left).
        local err
        if ! err="$(scripts/pg-cluster.sh stop "$pg_dir" 2>&1)" && ! rmdir "$pg_dir" 2>/dev/null; then
            echo "could not remove the PostgreSQL cluster in $pg_dir: $err" >&2
        fi
    fi
}
trap cleanup EXIT

# A throwaway PostgreSQL cluster for the PostgreSQL store's tests, kept for
# the SDK suite too; stopped and removed on exit, whatever the outcome.
if [ "$(id -u)" = 0 ] || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
    step "throwaway PostgreSQL cluster (scripts/pg-cluster.sh)"
    pg_dir="$(mktemp -d /tmp/eipd-pg.XXXXXX)"
    EIPD_TEST_DATABASE_URL="$(scripts/pg-cluster.sh start "$pg_dir")"
    # From here on a PostgreSQL test without a server is a failure, not a skip.
    # EIPD_TEST_PG_DIR lets the SDK suite restart the server under load.
    EIPD_TEST_PG_DIR="$pg_dir"
    export EIPD_TEST_DATABASE_URL EIPD_TEST_PG_DIR EIPD_REQUIRE_POSTGRES=1
    echo "EIPD_TEST_DATABASE_URL: postgres://...@${EIPD_TEST_DATABASE_URL#*@}"
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

sdk_failed=0
step "SDK integration tests (official SDKs against eipd on SQLite)"
EIPD_BIN="$target_dir/debug/eipd" EIPD_TOOLS_VENV="$tools_venv" EIPD_REQUIRE_TOOLS=1 \
    "$venv/bin/python" -m pytest tests/sdk -q -p no:cacheprovider || sdk_failed=1

if [ -n "$pg_dir" ]; then
    # The same suite again with every server two eipd nodes on one
    # PostgreSQL schema, the clients alternating between them.
    step "SDK integration tests again: two eipd nodes on PostgreSQL"
    EIPD_BIN="$target_dir/debug/eipd" EIPD_TOOLS_VENV="$tools_venv" EIPD_REQUIRE_TOOLS=1 \
        EIPD_SDK_STORE=postgres EIPD_SDK_NODES=2 \
        "$venv/bin/python" -m pytest tests/sdk -q -p no:cacheprovider || sdk_failed=1
fi

echo
echo "rust: ${rust_passed} passed; sdk suites: see the pytest summaries above"
exit "$sdk_failed"
