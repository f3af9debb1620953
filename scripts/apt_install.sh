# shellcheck shell=bash
# apt_install WHAT [--no-install-recommends] PACKAGE...: install Debian packages with one
# progress line on stderr; apt-get's own output (hundreds of lines for chromium) is shown only
# when it fails.
# Sourced by the scripts/ensure_*.sh scripts; they call it only when we are root.
apt_install() {
    local what=$1 log started options=()
    shift
    if [ "${1:-}" = --no-install-recommends ]; then
        options=(--no-install-recommends)
        shift
    fi
    log=$(mktemp "${TMPDIR:-/tmp}/reminders-apt.XXXXXX")
    started=$(date +%s)
    printf '%s: installing %s with apt-get (output in %s if it fails)...\n' \
        "$what" "$*" "$log" >&2
    export DEBIAN_FRONTEND=noninteractive
    if apt-get update -qq >"$log" 2>&1 \
            && apt-get install -y -qq "${options[@]}" "$@" >>"$log" 2>&1 </dev/null; then
        printf '%s: installed in %d s\n' "$what" "$(($(date +%s) - started))" >&2
        rm -f "$log"
        return 0
    fi
    tail -n 40 "$log" >&2
    printf '%s: apt-get failed (the last 40 lines are above; all of it: %s)\n' "$what" "$log" >&2
    return 1
}
