#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, in a directory of its own.
#
#   scripts/pg-cluster.sh start DIR    create (or start again) the cluster in
#                                      DIR; prints its URL, also in DIR/url
#   scripts/pg-cluster.sh restart DIR [SECONDS]
#                                      restart it on the same port (tests use
#                                      it to prove reconnection), down for
#                                      SECONDS in between if given; prints the URL
#   scripts/pg-cluster.sh stop DIR     stop it (fast shutdown) and remove DIR
#   scripts/pg-cluster.sh url DIR      print the URL of a running cluster
#
# The URL is postgres://eipd:PASSWORD@127.0.0.1:PORT/eipd_test: role `eipd`
# (password login, CREATEDB, owner of the database), random password, a free
# TCP port on 127.0.0.1 only. The Unix socket is in DIR/sock (peer auth, for
# the cluster's superuser only); the server log is DIR/log. fsync,
# synchronous_commit and full_page_writes are on: tests check durability.
#
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` system user that Debian's package creates (or, if there is none,
# a system user `eipd-pg` made here); DIR is handed to that user, and every
# directory above DIR must let it through. As any other user the cluster is
# the caller's. The server binaries are the newest under
# /usr/lib/postgresql/*/bin (Debian does not put them on PATH), or PG_BINDIR.
# PG_CLUSTER_LOCALE sets the cluster's locale (default C.UTF-8; the schema
# gives its text columns COLLATE "C", so any locale sorts alike).
#
# Output: the URL on stdout, everything else on stderr.
set -euo pipefail

ROLE=eipd
DATABASE=eipd_test

die() {
    echo "pg-cluster: $*" >&2
    exit 1
}
say() { echo "pg-cluster: $*" >&2; }

usage() {
    echo "usage: $0 start|restart|stop|url DIR" >&2
    exit 2
}

[ $# -eq 2 ] || { [ $# -eq 3 ] && [ "$1" = restart ] && [[ $3 =~ ^[0-9]+(\.[0-9]+)?$ ]]; } || usage
down=${3:-}
cmd=$1
[ -n "$2" ] || usage
dir=$(realpath -m -- "$2")
[ "$dir" != / ] || die "refusing to use / as the cluster directory"
data="$dir/data"
sock="$dir/sock"
log="$dir/log"
marker="$dir/.pg-cluster"
# Commands run from / so the cluster user never trips over an unreadable cwd.
cd /

bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        [ -x "$PG_BINDIR/initdb" ] || die "PG_BINDIR=$PG_BINDIR has no initdb"
        echo "$PG_BINDIR"
        return
    fi
    local d
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/initdb" ] && { echo "$d"; return; }
    die "no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql, or set PG_BINDIR)"
}

# The user that owns and runs the cluster.
cluster_user() {
    if [ "$(id -u)" != 0 ]; then
        id -un
    elif [ -f "$marker" ]; then
        # An existing cluster keeps its owner.
        stat -c %U "$dir"
    elif id -u postgres >/dev/null 2>&1; then
        echo postgres
    else
        if ! id -u eipd-pg >/dev/null 2>&1; then
            say "creating system user eipd-pg to run the cluster"
            useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin eipd-pg >&2
        fi
        echo eipd-pg
    fi
}

# Runs a command as the cluster user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$owner" -- "$@"
    else
        "$@"
    fi
}

pg_ctl_() { as_owner "$bin/pg_ctl" -D "$data" "$@"; }

running() { [ -f "$data/postmaster.pid" ] && pg_ctl_ status >/dev/null 2>&1; }

port_of() { sed -n 's/^port = \([0-9][0-9]*\).*/\1/p' "$data/postgresql.conf" | tail -n 1; }

url_of() { echo "postgres://$ROLE:$(cat "$dir/password")@127.0.0.1:$(port_of)/$DATABASE"; }

# Whether something listens on TCP port $1 (IPv4 or IPv6, any address).
port_in_use() {
    local hex
    hex=$(printf '%04X' "$1")
    # Local address is field 2 (ADDR:PORT in hex), state 0A is LISTEN.
    awk -v p="$hex" 'NR > 1 { split($2, a, ":"); if (a[2] == p && $4 == "0A") f = 1 } END { exit !f }' \
        /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

pick_port() {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        port_in_use "$p" || {
            echo "$p"
            return
        }
    done
    die "no free TCP port found"
}

show_log() {
    if [ -f "$log" ]; then
        say "last lines of $log:"
        tail -n 20 "$log" >&2
    fi
}

# Stops a server whose start went wrong, so no postmaster is left behind.
abort_server() {
    pg_ctl_ stop -m immediate -w -t 30 >/dev/null 2>&1 || :
}

# Starts the server and waits until it takes connections.
start_server() {
    if ! pg_ctl_ start -w -t 60 -s -l "$log" >/dev/null; then
        show_log
        abort_server
        return 1
    fi
    as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$(port_of)" -t 30 ||
        die "server started but does not answer on 127.0.0.1:$(port_of)"
}

write_url() {
    local u
    u=$(url_of)
    # Written as the caller; the password is in it, so owner-only.
    (umask 077 && printf '%s\n' "$u" >"$dir/url.tmp" && mv -f "$dir/url.tmp" "$dir/url")
    printf '%s\n' "$u"
}

create() {
    [ ! -e "$dir" ] || [ -z "$(ls -A "$dir")" ] || die "$dir exists and is not empty (and holds no cluster of ours)"
    local parent
    parent=$(dirname "$dir")
    [ -d "$parent" ] || die "$parent does not exist"
    # Unix socket paths are at most 107 bytes.
    [ ${#sock} -le 80 ] || die "$dir is too long a path for the Unix socket (keep DIR/sock under 80 bytes)"
    mkdir -p "$dir"
    chmod 700 "$dir"
    : >"$marker"
    mkdir -p "$sock"
    if [ "$(id -u)" = 0 ]; then
        chown -R "$owner:" "$dir"
        as_owner test -w "$dir" || die "user $owner cannot reach $dir (a directory above it is closed to it)"
    fi
    od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$dir/password"
    chmod 600 "$dir/password"

    local locale=${PG_CLUSTER_LOCALE:-C.UTF-8}
    say "initdb in $data (user $owner, $("$bin/postgres" --version))"
    if ! as_owner "$bin/initdb" -D "$data" --encoding=UTF8 --locale="$locale" \
        --auth-local=peer --auth-host=scram-sha-256 --no-instructions >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        die "initdb failed"
    fi

    local port attempt
    for attempt in 1 2 3 4 5; do
        port=$(pick_port)
        # Appended settings win over initdb's: last one in the file counts.
        as_owner tee -a "$data/postgresql.conf" >/dev/null <<EOF

# scripts/pg-cluster.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 100
shared_buffers = 32MB
logging_collector = off
log_min_messages = warning
EOF
        start_server && break
        # Another process took the port between the check and the bind.
        if grep -q 'could not bind\|Address already in use' "$log" 2>/dev/null && [ "$attempt" -lt 5 ]; then
            say "port $port was taken; trying another"
            continue
        fi
        die "server did not start"
    done

    # The role and database; stop the server again if this fails.
    if ! as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -d postgres \
        -v role="$ROLE" -v pw="$(cat "$dir/password")" -v db="$DATABASE" >&2 <<'EOF'; then
CREATE ROLE :"role" LOGIN CREATEDB PASSWORD :'pw';
CREATE DATABASE :"db" OWNER :"role" ENCODING 'UTF8' TEMPLATE template0;
EOF
        abort_server
        die "could not create role $ROLE and database $DATABASE"
    fi
    say "cluster running on 127.0.0.1:$port (log $log)"
}

cmd_start() {
    if [ -f "$marker" ] && [ -f "$data/PG_VERSION" ]; then
        if running; then
            say "already running in $dir"
        else
            say "starting the existing cluster in $dir"
            if port_in_use "$(port_of)"; then
                die "port $(port_of) of the cluster in $dir is taken by another process"
            fi
            start_server || die "server did not start"
        fi
    else
        create
    fi
    write_url
}

ours() {
    [ -f "$marker" ] || die "$dir holds no cluster made by $0"
}

cmd_stop() {
    if [ ! -e "$dir" ]; then
        say "$dir does not exist: nothing to stop"
        return
    fi
    ours
    if [ -f "$data/postmaster.pid" ]; then
        if ! pg_ctl_ stop -m fast -w -t 60 -s >/dev/null 2>&1 && running; then
            say "fast shutdown did not finish; shutting down immediately"
            pg_ctl_ stop -m immediate -w -t 30 -s >/dev/null || die "could not stop the server in $dir"
        fi
    fi
    rm -rf -- "$dir"
    say "stopped and removed $dir"
}

cmd_restart() {
    ours
    [ -f "$data/PG_VERSION" ] || die "$dir holds no initialised cluster (start failed?)"
    if running && [ -n "$down" ]; then
        pg_ctl_ stop -m fast -w -t 60 -s >/dev/null || die "could not stop the server in $dir"
        sleep "$down"
        start_server || die "server did not start again"
    elif running; then
        # Same postgresql.conf, so the same port.
        if ! pg_ctl_ restart -m fast -w -t 60 -s -l "$log" >/dev/null; then
            show_log
            die "restart failed"
        fi
        as_owner "$bin/pg_isready" -q -h 127.0.0.1 -p "$(port_of)" -t 30 ||
            die "server restarted but does not answer on 127.0.0.1:$(port_of)"
    else
        say "not running; starting it"
        start_server || die "server did not start"
    fi
    write_url
}

cmd_url() {
    ours
    running || die "the cluster in $dir is not running"
    url_of
}

case $cmd in
start | restart | stop | url) ;;
*) usage ;;
esac
bin=$(bindir)
owner=$(cluster_user)
"cmd_$cmd"
