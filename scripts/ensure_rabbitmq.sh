#!/usr/bin/env bash
# Make sure rabbitmq-server is installed for the tests that run with RabbitMQ as the broker
# (tests/rabbit.py starts a private one on free ports). Usage: scripts/ensure_rabbitmq.sh --installed
#
# When it is missing: installed with apt-get when we are root (as scripts/ensure_redis.sh does
# for redis-server); else the tests use a RabbitMQ answering on 127.0.0.1:5672, or are skipped
# with the reason.
set -euo pipefail

say() { printf 'rabbitmq: %s\n' "$*" >&2; }
# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

[ "${1:-}" = "--installed" ] || { say "error: unknown option ${1:-} (use --installed)"; exit 1; }
command -v rabbitmq-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "rabbitmq-server is not installed"
    if apt_install rabbitmq rabbitmq-server; then
        command -v rabbitmq-server >/dev/null 2>&1 && exit 0
    fi
    say "apt-get could not install rabbitmq-server"
fi
say "rabbitmq-server is not installed (Debian/Ubuntu: sudo apt-get install rabbitmq-server);" \
    "the RabbitMQ tests use one on 127.0.0.1:5672 if it answers, else they are skipped"
