#!/usr/bin/env bash
# The base images of the compose stack, from the public registry or, when it cannot be reached,
# built here from Debian's packages with mmdebstrap. Usage:
#
#   scripts/stack_images.sh ENV_FILE   make sure the bases exist and write to ENV_FILE the
#                                      STACK_*_IMAGE variables docker-compose.yml reads
#
# The public images (python:3.11-slim, redis:7-alpine, rabbitmq:3.13-alpine) are used when
# `docker pull` gets them. Otherwise three local images (Debian bookworm, minbase variant):
#   foot-care-base-python:bookworm     Python 3.11 in a venv first on PATH, as python:3.11-slim
#                                      has python and pip first on PATH
#   foot-care-base-redis:bookworm      redis-server and redis-cli (also run as sentinel), in /data
#   foot-care-base-rabbitmq:bookworm   rabbitmq-server; its user from RABBITMQ_DEFAULT_USER/_PASS
# Each is built once and reused (delete it with `docker rmi` to build it again).
#
# The python base trusts the CA bundle the host's pip trusts (`pip config get global.cert`,
# PIP_CERT, else the system bundle), so pip inside the image build, which uses the host network,
# gets through an intercepting egress proxy exactly as the host's pip does.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
# shellcheck source=scripts/apt_install.sh
source "$ROOT/scripts/apt_install.sh"
ENV_FILE=${1:?usage: scripts/stack_images.sh ENV_FILE}
SUITE=bookworm
WORK=$ROOT/var/stack/bases

say() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: error: %s\n' "$*" >&2; exit 1; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# pulled PUBLIC: true when the public image is here or `docker pull` gets it (quickly: a
# registry that does not resolve fails at once, one that hangs is given 60 s).
pulled() {
    have_image "$1" && return 0
    timeout 60 docker pull -q "$1" >/dev/null 2>&1
}

host_ca_bundle() {
    local cert
    cert=${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}
    [ -n "$cert" ] && [ -f "$cert" ] || cert=/etc/ssl/certs/ca-certificates.crt
    echo "$cert"
}

# debootstrap NAME PACKAGES HOOK CHANGE...: build image NAME from a minbase bookworm with
# PACKAGES, after running HOOK (shell, $1 = the root directory) in it; CHANGEs are Dockerfile
# instructions for `docker import` (ENV, WORKDIR, USER, CMD...).
debootstrap() {
    local name=$1 packages=$2 hook=$3 started tar changes=()
    shift 3
    for change in "$@"; do changes+=(--change "$change"); done
    command -v mmdebstrap >/dev/null 2>&1 || {
        [ "$(id -u)" = 0 ] || die "mmdebstrap is missing (sudo apt-get install mmdebstrap)"
        apt_install images --no-install-recommends mmdebstrap || die "apt-get failed"
    }
    mkdir -p "$WORK"
    tar=$WORK/${name%%:*}.tar
    started=$(date +%s)
    say "building $name from Debian $SUITE packages ($packages)"
    # --aptopt: no recommends, as an image wants; the apt lists are removed (as Docker's own
    # Debian images do) by the cleanup mmdebstrap does by default.
    mmdebstrap --quiet --variant=minbase --include="$packages" \
        --aptopt='APT::Install-Recommends "false"' \
        --customize-hook="$hook" \
        --customize-hook='rm -rf "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/var/cache/apt/*' \
        "$SUITE" "$tar" >&2 || die "mmdebstrap failed for $name"
    docker import "${changes[@]}" "$tar" "$name" >/dev/null
    rm -f "$tar"
    say "$name built in $(($(date +%s) - started)) s"
}

python_base() {
    local public=python:3.11-slim local=foot-care-base-python:$SUITE
    if pulled "$public"; then echo "$public"; return; fi
    have_image "$local" || {
        mkdir -p "$WORK"
        cp "$(host_ca_bundle)" "$WORK.ca.crt"
        debootstrap "$local" python3,python3-venv,ca-certificates,netbase,tzdata,passwd \
            "cp '$WORK.ca.crt' \"\$1\"/etc/ssl/certs/pip-ca-bundle.crt && chroot \"\$1\" python3 -m venv /opt/python && chroot \"\$1\" /opt/python/bin/pip --version" \
            'ENV PATH=/opt/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            'ENV PIP_CERT=/etc/ssl/certs/pip-ca-bundle.crt' \
            'ENV LANG=C.UTF-8' \
            'CMD ["python3"]'
        rm -f "$WORK.ca.crt"
    }
    echo "$local"
}

redis_base() {
    local public=redis:7-alpine local=foot-care-base-redis:$SUITE
    if pulled "$public"; then echo "$public"; return; fi
    # /data belongs to redis, as in the public image: the AOF is written there (the volume).
    have_image "$local" || debootstrap "$local" redis-server,redis-tools \
        'mkdir -p "$1"/data && chroot "$1" chown redis:redis /data' \
        'WORKDIR /data' 'USER redis' 'CMD ["redis-server"]'
    echo "$local"
}

rabbitmq_base() {
    local public=rabbitmq:3.13-alpine local=foot-care-base-rabbitmq:$SUITE
    if pulled "$public"; then echo "$public"; return; fi
    have_image "$local" || debootstrap "$local" rabbitmq-server \
        "install -m 0755 '$ROOT/scripts/stack_rabbitmq_start.sh' \"\$1\"/usr/local/bin/rabbitmq-start" \
        'ENV LANG=C.UTF-8' 'CMD ["/usr/local/bin/rabbitmq-start"]'
    echo "$local"
}

command -v docker >/dev/null 2>&1 || die "docker is missing (scripts/ensure_docker.sh --start)"
python=$(python_base)
redis=$(redis_base)
rabbitmq=$(rabbitmq_base)
mkdir -p "$(dirname "$ENV_FILE")"
{
    echo "STACK_BASE_IMAGE=$python"
    echo "STACK_REDIS_IMAGE=$redis"
    echo "STACK_RABBITMQ_IMAGE=$rabbitmq"
} >"$ENV_FILE"
say "bases: $python, $redis, $rabbitmq (written to $ENV_FILE)"
