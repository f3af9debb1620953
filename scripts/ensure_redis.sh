#!/usr/bin/env bash
# Make sure a Redis is reachable and print the REDIS_URL to use (stdout: the URL, nothing else;
# messages go to stderr). Usage:
#
#   scripts/ensure_redis.sh              print a working REDIS_URL, starting Redis if needed
#   scripts/ensure_redis.sh --installed  only make sure redis-server is installed (for tests)
#   scripts/ensure_redis.sh --stop       stop the private redis-server under ./var/redis/
#   scripts/ensure_redis.sh --remember URL  write URL to var/redis.url (STATE_DIR/redis.url),
#                                        where every `reminders` command looks when REDIS_URL
#                                        is set neither in the environment nor in .env
#
# Which Redis, in order:
#   1. REDIS_URL from the environment, else from ./.env, if it answers (a sentinel:// list with
#      REDIS_SENTINEL_MASTER: if the sentinels name a master that answers);
#   2. the default redis://127.0.0.1:6379/0 if it answers and uses maxmemory-policy noeviction;
#   3. a private redis-server under ./var/redis/ (AOF on, noeviction, 127.0.0.1, port 6390 or the
#      next free one), started here and left running for the next run (`make redis-stop`).
# When redis-server is not installed: installed with apt-get when we are root, else we say how.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
# shellcheck source=scripts/apt_install.sh
source "$ROOT/scripts/apt_install.sh"
PRIVATE_DIR=$ROOT/var/redis
PIDFILE=$PRIVATE_DIR/redis.pid
PORTFILE=$PRIVATE_DIR/port
LOGFILE=$PRIVATE_DIR/redis.log
URLFILE=${STATE_DIR:-$ROOT/var}/redis.url
DEFAULT_URL=redis://127.0.0.1:6379/0
FIRST_PRIVATE_PORT=6390
LAST_PRIVATE_PORT=6399

say() { printf 'redis: %s\n' "$*" >&2; }
die() { printf 'redis: error: %s\n' "$*" >&2; exit 1; }

# --- asking a Redis something ------------------------------------------------------------------

# redis_cmd URL ARGS...: run one command against URL and print the reply (one item a line).
redis_cmd() {
    local url=$1; shift
    if command -v redis-cli >/dev/null 2>&1 && [[ $url == redis://* ]]; then
        timeout 5 redis-cli --no-auth-warning -u "$url" "$@" 2>/dev/null
    elif [ -x "$ROOT/.venv/bin/python" ]; then
        # sentinel:// URLs: the service's own client asks the sentinels for the master.
        REDIS_SENTINEL_MASTER=$(configured REDIS_SENTINEL_MASTER) \
        timeout 10 "$ROOT/.venv/bin/python" - "$url" "$@" 2>/dev/null <<'PY'
import os
import sys

from reminders.storage.client import connect

client = connect(sys.argv[1], os.environ.get("REDIS_SENTINEL_MASTER", ""))
reply = client.execute_command(*sys.argv[2:])
items = reply if isinstance(reply, list) else [reply]
for item in items:
    if isinstance(item, bytes):
        item = item.decode()
    print("PONG" if item is True else item)
PY
    else
        return 1
    fi
}

answers() { [ "$(redis_cmd "$1" PING | head -n 1)" = "PONG" ]; }

# Prints the maxmemory-policy, or nothing when CONFIG is not allowed (managed Redis).
eviction_policy() { redis_cmd "$1" CONFIG GET maxmemory-policy | sed -n 2p; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# --- redis-server installed? -------------------------------------------------------------------

# how_to_install WHY EXAMPLE: say why redis-server is needed and how to get one.
how_to_install() {
    cat >&2 <<MSG
redis: redis-server is not installed, and $1. Either install it:
    Debian/Ubuntu:  sudo apt-get install redis-server
    macOS:          brew install redis
or point REDIS_URL at a Redis you have (environment or .env), e.g.
    REDIS_URL=redis://127.0.0.1:6379/0 $2
MSG
}

ensure_installed() {
    command -v redis-server >/dev/null 2>&1 && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "redis-server is not installed"
        if apt_install redis redis-server; then
            command -v redis-server >/dev/null 2>&1 && return 0
        fi
        say "apt-get could not install redis-server"
    fi
    return 1
}

# --- the private server ------------------------------------------------------------------------

private_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    # Only a live redis-server is ours; a stale file may name a reused pid.
    [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "redis-server" ] || return 1
    echo "$pid"
}

running_private_url() {
    local port
    private_pid >/dev/null || return 1
    port=$(cat "$PORTFILE" 2>/dev/null) || return 1
    answers "redis://127.0.0.1:$port/0" || return 1
    echo "redis://127.0.0.1:$port/0"
}

start_private() {
    local port=$FIRST_PRIVATE_PORT url
    while port_in_use "$port"; do
        port=$((port + 1))
        [ "$port" -le "$LAST_PRIVATE_PORT" ] \
            || die "ports $FIRST_PRIVATE_PORT-$LAST_PRIVATE_PORT are all taken; set REDIS_URL"
    done
    mkdir -p "$PRIVATE_DIR"
    rm -f "$PIDFILE"
    say "starting a private redis-server on 127.0.0.1:$port (data and log in var/redis/)"
    redis-server --port "$port" --bind 127.0.0.1 \
        --appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
        --dir "$PRIVATE_DIR" --daemonize yes --pidfile "$PIDFILE" --logfile "$LOGFILE" >&2 \
        || die "redis-server did not start; see $LOGFILE"
    echo "$port" >"$PORTFILE"
    url="redis://127.0.0.1:$port/0"
    for _ in $(seq 50); do
        answers "$url" && { echo "$url"; return 0; }
        sleep 0.2
    done
    tail -n 20 "$LOGFILE" >&2 2>/dev/null || true
    die "the private redis-server on port $port does not answer; see $LOGFILE"
}

stop_private() {
    local pid
    if ! pid=$(private_pid); then
        say "no private redis-server is running (nothing in var/redis/redis.pid)"
        rm -f "$PIDFILE"
        return 0
    fi
    say "stopping the private redis-server (pid $pid); its data stays in var/redis/"
    forget_private_url
    kill -TERM "$pid"  # redis-server flushes the AOF and exits cleanly on SIGTERM
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { rm -f "$PIDFILE"; return 0; }
        sleep 0.1
    done
    die "redis-server (pid $pid) did not stop within 10 s"
}

# The URL file names a server that is about to stop: the commands would fail on it with a
# connection error, so they go back to REDIS_URL or the default instead.
forget_private_url() {
    local port
    port=$(cat "$PORTFILE" 2>/dev/null) || return 0
    if [ "$(cat "$URLFILE" 2>/dev/null)" = "redis://127.0.0.1:$port/0" ]; then
        rm -f "$URLFILE"
    fi
}

remember() {
    [ -n "${1:-}" ] || die "--remember needs the URL"
    mkdir -p "$(dirname "$URLFILE")"
    # A URL may carry a password: readable by this user only.
    (umask 077 && printf '%s\n' "$1" >"$URLFILE.tmp" && mv -f "$URLFILE.tmp" "$URLFILE")
}

# --- choosing ----------------------------------------------------------------------------------

# A variable from the environment, else the last NAME=... line of .env (the app does the same:
# real environment variables win over the file).
configured() {
    if [ -n "${!1:-}" ]; then
        echo "${!1}"
    elif [ -f .env ]; then
        sed -nE "s/^[[:space:]]*(export[[:space:]]+)?$1[[:space:]]*=[[:space:]]*['\"]?([^'\"#[:space:]]*)['\"]?.*$/\2/p" .env \
            | tail -n 1
    fi
}

configured_url() { configured REDIS_URL; }

choose() {
    local url policy
    url=$(configured_url)
    if [ -n "$url" ]; then
        if answers "$url"; then
            echo "$url"
            return 0
        fi
        say "REDIS_URL=$url does not answer; falling back to a local Redis"
    fi
    if [ "$url" != "$DEFAULT_URL" ] && answers "$DEFAULT_URL"; then
        policy=$(eviction_policy "$DEFAULT_URL" || true)
        if [ -z "$policy" ] || [ "$policy" = "noeviction" ]; then
            echo "$DEFAULT_URL"
            return 0
        fi
        say "the Redis on 127.0.0.1:6379 uses maxmemory-policy $policy (must be noeviction); using a private one instead"
    fi
    running_private_url && return 0
    if ! ensure_installed; then
        how_to_install "no Redis answered" "make run"
        exit 1
    fi
    start_private
}

case "${1:-}" in
    "") choose ;;
    --installed)
        if ! ensure_installed; then
            if [ -n "${REDIS_URL:-}" ]; then
                say "redis-server is not installed; the tests will use REDIS_URL=$REDIS_URL"
            else
                how_to_install "the tests need it (they start a private one)" "make test"
                exit 1
            fi
        fi
        ;;
    --stop) stop_private ;;
    --remember) remember "${2:-}" ;;
    *) die "unknown option $1 (use no option, --installed, --stop or --remember URL)" ;;
esac
