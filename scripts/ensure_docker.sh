#!/usr/bin/env bash
# A container engine and docker compose for `make stack-test`. Usage:
#
#   scripts/ensure_docker.sh --start   install docker.io and compose when missing (apt-get, as
#                                      root), start dockerd when none answers, print the compose
#                                      command to use (stdout: "docker compose" or "docker-compose")
#   scripts/ensure_docker.sh --stop    stop the dockerd that --start started (and only that one)
#
# Which dockerd we started is kept in var/stack/dockerd.pid: a daemon that was already running
# (a developer's own) is used and left alone.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
# shellcheck source=scripts/apt_install.sh
source "$ROOT/scripts/apt_install.sh"
STATE=$ROOT/var/stack
PIDFILE=$STATE/dockerd.pid
LOGFILE=$STATE/dockerd.log

say() { printf 'docker: %s\n' "$*" >&2; }
die() { printf 'docker: error: %s\n' "$*" >&2; exit 1; }

answers() { docker info >/dev/null 2>&1; }

compose_command() {
    if docker compose version >/dev/null 2>&1; then
        echo "docker compose"
    elif command -v docker-compose >/dev/null 2>&1; then
        echo "docker-compose"
    else
        return 1
    fi
}

install_missing() {
    local wanted=()
    command -v dockerd >/dev/null 2>&1 || wanted+=(docker.io)
    command -v docker >/dev/null 2>&1 || wanted+=(docker.io)
    compose_command >/dev/null || wanted+=(docker-compose)
    [ ${#wanted[@]} -eq 0 ] && return 0
    # A developer's machine with a remote or rootless engine needs no dockerd of its own.
    if answers && compose_command >/dev/null; then
        return 0
    fi
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
        || die "missing ${wanted[*]} (Debian/Ubuntu: sudo apt-get install docker.io docker-compose)"
    # docker.io brings dockerd, containerd, runc and iptables; its service is not started here
    # (no init system in a container): dockerd is started below, by hand.
    mapfile -t wanted < <(printf '%s\n' "${wanted[@]}" | sort -u)
    apt_install docker "${wanted[@]}" || die "apt-get failed"
}

start() {
    mkdir -p "$STATE"
    install_missing
    if ! answers; then
        command -v dockerd >/dev/null 2>&1 || die "no dockerd to start"
        say "starting dockerd (log: $LOGFILE)"
        # setsid: the daemon outlives this script and is not hit by the caller's Ctrl-C.
        setsid dockerd >"$LOGFILE" 2>&1 </dev/null &
        echo $! >"$PIDFILE"
        for _ in $(seq 1 60); do
            answers && break
            kill -0 "$(cat "$PIDFILE")" 2>/dev/null || { tail -n 20 "$LOGFILE" >&2; die "dockerd exited"; }
            sleep 0.5
        done
        answers || { tail -n 20 "$LOGFILE" >&2; die "dockerd did not answer within 30 s"; }
    fi
    compose_command || die "no docker compose (plugin) nor docker-compose"
}

stop() {
    [ -f "$PIDFILE" ] || exit 0
    local pid
    pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
        say "stopping the dockerd we started (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && die "dockerd (pid $pid) did not stop within 30 s"
    fi
    rm -f "$PIDFILE"
}

case "${1:-}" in
    --start) start ;;
    --stop) stop ;;
    *) die "unknown option ${1:-} (use --start or --stop)" ;;
esac
