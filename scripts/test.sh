#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs (Debian
# packages, a Python venv with the official Alibaba Cloud SDKs and one with
# footmark and Ansible's alicloud modules), checks
# formatting and lints, runs the Rust tests, then drives a real eipd with the
# official SDKs. Usage: scripts/test.sh   (as root on Debian; CI runs it too)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

# Debian packages the suite needs; installed only when missing.
APT_PACKAGES=(sqlite3 ca-certificates nftables iproute2 conntrack chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
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
trap 'rm -f "$rust_log"' EXIT

step "Rust tests"
cargo test --workspace --quiet 2>&1 | tee "$rust_log"
rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$rust_log" | awk '{s+=$4} END {print s+0}')

step "Python venv with the official SDKs"
venv="$(scripts/sdk-venv.sh)"

step "Python venv with the automation tools (footmark, Ansible's alicloud modules)"
tools_venv="$(SDK_REQUIREMENTS="$PWD/tests/tools/requirements.txt" SDK_VENV="$PWD/.venv-tools" scripts/sdk-venv.sh)"

step "Node.js packages with the official SDKs (tests/node)"
(cd tests/node && npm ci --no-audit --no-fund --silent --omit-lockfile-registry-resolved)

step "SDK integration tests (official SDKs against eipd)"
EIPD_BIN="$target_dir/debug/eipd" EIPD_TOOLS_VENV="$tools_venv" EIPD_REQUIRE_TOOLS=1 \
    "$venv/bin/python" -m pytest tests/sdk -q -p no:cacheprovider

echo
echo "rust: ${rust_passed} passed; sdk suite: see pytest summary above"
