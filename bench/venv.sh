#!/usr/bin/env bash
# Create or refresh the Python virtualenv used by the benchmarks (bench/):
# the official Alibaba SDKs plus moto_server and boto3. Same mechanics as the
# test suite's venv (scripts/sdk-venv.sh), with bench/requirements.txt.
#
# Usage:   bench/venv.sh                 # prints the venv path on stdout
#          VENV=$(bench/venv.sh) && "$VENV/bin/python" bench/cpu_per_call.py --eipd target/release/eipd
# Env:     PYTHON     interpreter to build the venv from (default: python3)
#          BENCH_VENV venv location (default: <repo>/.venv-bench)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SDK_VENV="${BENCH_VENV:-$root/.venv-bench}" SDK_REQUIREMENTS="$root/bench/requirements.txt" \
    exec "$root/scripts/sdk-venv.sh"
