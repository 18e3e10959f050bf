#!/usr/bin/env bash
# Create or refresh the Python virtualenv used by the SDK integration suite
# (tests/sdk). Idempotent: the venv is (re)built only when it is missing or
# broken, and the requirements are (re)installed only when
# tests/sdk/requirements.txt changed since the last successful install.
#
# Usage:   scripts/sdk-venv.sh            # prints the venv path on stdout
#          VENV=$(scripts/sdk-venv.sh) && "$VENV/bin/python" -m pytest tests/sdk
# Env:     PYTHON   interpreter to build the venv from (default: python3)
#          SDK_REQUIREMENTS requirements file (default: tests/sdk/requirements.txt)
#          SDK_VENV venv location (default: <repo>/.venv-sdk)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${SDK_VENV:-$repo_root/.venv-sdk}"
req="${SDK_REQUIREMENTS:-$repo_root/tests/sdk/requirements.txt}"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

log() { printf '%s\n' "sdk-venv: $*" >&2; }

[ -f "$req" ] || { log "missing $req"; exit 1; }
command -v "$python" >/dev/null 2>&1 || { log "interpreter '$python' not found"; exit 1; }

hash_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d' ' -f1
    else
        "$python" -c 'import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
    fi
}
# The stamp covers the requirements and the interpreter version, so a new
# Python also triggers a reinstall.
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
    # Debian/Ubuntu system pythons ship venv/ensurepip separately.
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
