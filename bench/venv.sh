#!/usr/bin/env bash
# Create or refresh the Python virtualenv used by the benchmarks (bench/).
# Idempotent: the venv is (re)built only when it is missing or broken, and the
# requirements are (re)installed only when bench/requirements.txt (or the
# interpreter's version) changed since the last successful install.
#
# Usage:   bench/venv.sh                 # prints the venv path on stdout
#          VENV=$(bench/venv.sh) && "$VENV/bin/python" bench/cpu_per_call.py --eipd target/release/eipd
# Env:     PYTHON     interpreter to build the venv from (default: python3)
#          BENCH_VENV venv location (default: <repo>/.venv-bench)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${BENCH_VENV:-$repo_root/.venv-bench}"
req="$repo_root/bench/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

log() { printf '%s\n' "bench-venv: $*" >&2; }

[ -f "$req" ] || { log "missing $req"; exit 1; }
command -v "$python" >/dev/null 2>&1 || { log "interpreter '$python' not found"; exit 1; }

hash_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        "$python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
    fi
}
want="$(hash_of "$req")-$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

venv_ok() {
    [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1 \
        && "$venv/bin/python" -m pip --version >/dev/null 2>&1
}

make_venv() {
    rm -rf "$venv"
    if "$python" -m venv "$venv" >/dev/null 2>&1; then
        return 0
    fi
    rm -rf "$venv"
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        pyver="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
        log "python -m venv failed; installing python3-venv / python${pyver}-venv"
        apt-get install -y -q python3-venv >&2 || apt-get install -y -q "python${pyver}-venv" >&2 || true
        if "$python" -m venv "$venv" >&2; then
            return 0
        fi
    fi
    log "cannot create a venv with '$python -m venv'."
    log "On Debian/Ubuntu install it with: apt-get install python3-venv"
    exit 1
}

if ! venv_ok; then
    log "creating $venv"
    make_venv
    rm -f "$stamp"
fi
# Keep the venv out of git without touching the repository's .gitignore
# (what Python >= 3.13's venv does by itself).
[ -f "$venv/.gitignore" ] || printf '*\n' >"$venv/.gitignore"

have="$(cat "$stamp" 2>/dev/null || true)"
if [ "$have" != "$want" ]; then
    log "installing $req"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2 || true
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$req" >&2
    printf '%s\n' "$want" >"$stamp"
else
    log "up to date"
fi

printf '%s\n' "$venv"
