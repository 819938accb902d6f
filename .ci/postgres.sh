# shellcheck shell=bash
# A throw-away PostgreSQL server on 127.0.0.1 for the tests marked `postgres`.
# Sourced by .ci/run: `pg_start` installs Debian's postgresql when its binaries are missing,
# makes a cluster in a temporary folder, starts it and exports EXACTBRIDGE_TEST_POSTGRES;
# `pg_stop` stops it and removes the folder.

pg_bin() {
    local found
    found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$found" ] || [ ! -x "$found/initdb" ]; then
        echo "installing PostgreSQL (Debian's postgresql package)" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        found="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    echo "$found"
}

pg_start() {
    local bin port owner
    bin="$(pg_bin)"
    port="${EXACTBRIDGE_PG_PORT:-54329}"
    PG_DIR="$(mktemp -d /tmp/exactbridge-pg.XXXXXX)"
    owner="$(id -un)"
    if [ "$(id -u)" = "0" ]; then
        # PostgreSQL refuses to run as root.
        id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
        owner=postgres
        chown "$owner" "$PG_DIR"
    fi
    as_owner() { if [ "$owner" = "$(id -un)" ]; then "$@"; else runuser -u "$owner" -- "$@"; fi; }
    as_owner "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >/dev/null
    as_owner "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    "$bin/psql" -q -h 127.0.0.1 -p "$port" -U postgres -c "CREATE DATABASE exactbridge_test" postgres
    export EXACTBRIDGE_TEST_POSTGRES="host=127.0.0.1 port=$port user=postgres dbname=exactbridge_test"
    PG_OWNER="$owner"
    PG_BIN="$bin"
    echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

pg_stop() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
        if [ "${PG_OWNER:-}" = "$(id -un)" ]; then
            "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        else
            runuser -u "$PG_OWNER" -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop \
                >/dev/null 2>&1 || true
        fi
        rm -rf "$PG_DIR"
    fi
}
