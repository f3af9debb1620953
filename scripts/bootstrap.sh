#!/usr/bin/env bash
# Create .venv/ (Python 3.11+) and install the project into it, editable, with the dev extra.
#
# Idempotent and fast when nothing changed: pip runs only when pyproject.toml is newer than
# the stamp file .venv/.installed (or the venv is new or broken), and then nothing is printed.
# While pip works, one progress line per package (on a terminal: one line, rewritten); pip's
# whole output is shown only when it fails.
#
# Environment: PYTHON=/path/to/python3.x picks the interpreter used to create the venv.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv
STAMP=$VENV/.installed
MIN_MAJOR=3
MIN_MINOR=11

say() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

# True when $1 is a Python interpreter that is at least MIN_MAJOR.MIN_MINOR.
new_enough() {
    "$1" -c "import sys; sys.exit(0 if sys.version_info >= ($MIN_MAJOR, $MIN_MINOR) else 1)" \
        >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if new_enough "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

create_venv() {
    local python
    if ! python=$(find_python); then
        local found="none"
        command -v python3 >/dev/null 2>&1 && found=$(python3 --version 2>&1)
        die "Python $MIN_MAJOR.$MIN_MINOR or newer is required (python3 found: $found). Install it (e.g. 'sudo apt-get install python3.11 python3.11-venv', 'brew install python@3.11') or set PYTHON=/path/to/python3.11."
    fi
    say "creating $VENV with $python ($("$python" --version 2>&1))"
    rm -rf "$VENV"
    if ! "$python" -m venv "$VENV" >/dev/null 2>&1; then
        rm -rf "$VENV"
        die "'$python -m venv' failed; on Debian/Ubuntu install the venv module: sudo apt-get install python3-venv"
    fi
}

# A venv whose interpreter is gone, broken or too old is rebuilt rather than patched.
if [ ! -x "$VENV/bin/python" ] || ! new_enough "$VENV/bin/python"; then
    create_venv
fi

if [ -f "$STAMP" ] && [ ! pyproject.toml -nt "$STAMP" ] && [ -x "$VENV/bin/reminders" ]; then
    exit 0  # up to date
fi

say "installing the project and its pinned dependencies into $VENV (pip install -e '.[dev]'; about 1-2 minutes the first time)"
log=$(mktemp "${TMPDIR:-/tmp}/reminders-pip.XXXXXX")
trap 'rm -f "$log"' EXIT
started=$SECONDS

# progress TEXT: on a terminal, rewrite one line; elsewhere (a log, CI), one line each.
progress() {
    if [ -t 2 ]; then
        printf '\r\033[Kbootstrap: %s' "$1" >&2
    else
        printf 'bootstrap: %s\n' "$1" >&2
    fi
}

# pip's lines, read as they come: one "Collecting NAME==VERSION" per package, then one
# "Installing collected packages: a, b, ..." before the longest silent step.
show_progress() {
    local line count=0 name
    while IFS= read -r line; do
        case $line in
            "Collecting "*)
                count=$((count + 1))
                name=${line#Collecting }
                progress "collecting package $count: ${name%% (*}"
                ;;
            "Installing collected packages:"*)
                progress "installing $(($(tr -cd , <<<"$line" | wc -c) + 1)) packages..."
                ;;
        esac
    done
    [ -t 2 ] && printf '\n' >&2
    return 0
}

if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input \
        --progress-bar off -e '.[dev]' 2>&1 | tee "$log" | show_progress; then
    cat "$log" >&2
    rm -f "$STAMP"
    die "pip install failed (output above)"
fi
touch "$STAMP"
say "done in $((SECONDS - started)) s"
