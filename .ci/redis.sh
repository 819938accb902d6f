# shellcheck shell=bash
# A throw-away Redis server on 127.0.0.1 for the tests marked `celery` (broker and result
# backend of a real Celery worker). Sourced by .ci/run: `redis_start` installs Debian's
# redis-server when it is missing, starts one with no persistence in a temporary folder
# and exports EXACTBRIDGE_TEST_REDIS; `redis_stop` shuts it down and removes the folder.

redis_bin() {
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        echo "installing Redis (Debian's redis-server package)" >&2
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            redis-server redis-tools >&2
    fi
    # The Debian package starts a system-wide server on port 6379 where an init system
    # runs; that one is left alone, ours listens on its own port.
    command -v redis-server
}

redis_start() {
    local server port tries
    server="$(redis_bin)"
    port="${EXACTBRIDGE_REDIS_PORT:-63799}"
    REDIS_DIR="$(mktemp -d /tmp/exactbridge-redis.XXXXXX)"
    REDIS_PORT="$port"
    # --save '' and --appendonly no: nothing is written to disk; the data dies with the server.
    "$server" --bind 127.0.0.1 --port "$port" --dir "$REDIS_DIR" \
        --save '' --appendonly no --protected-mode yes \
        --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log"
    tries=0
    until [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; do
        tries=$((tries + 1))
        if [ "$tries" -ge 100 ]; then
            echo "Redis did not answer on 127.0.0.1:$port; its log:" >&2
            cat "$REDIS_DIR/redis.log" >&2 || true
            return 1
        fi
        sleep 0.1
    done
    export EXACTBRIDGE_TEST_REDIS="redis://127.0.0.1:$port/0"
    echo "Redis $("$server" --version | awk '{print $3}' | sed 's/^v=//') on 127.0.0.1:$port"
}

redis_stop() {
    if [ -n "${REDIS_DIR:-}" ] && [ -d "$REDIS_DIR" ]; then
        redis-cli -h 127.0.0.1 -p "${REDIS_PORT:-63799}" shutdown nosave >/dev/null 2>&1 || true
        # Wait for the process to go (shutdown returns before the port is free).
        if [ -f "$REDIS_DIR/redis.pid" ]; then
            local pid tries=0
            pid="$(cat "$REDIS_DIR/redis.pid")"
            while kill -0 "$pid" 2>/dev/null && [ "$tries" -lt 50 ]; do
                tries=$((tries + 1))
                sleep 0.1
            done
        fi
        rm -rf "$REDIS_DIR"
    fi
    unset EXACTBRIDGE_TEST_REDIS
}
