#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the console's browser tests (`make test`).
#
# The tests drive /usr/bin/chromium with Playwright's Python package; Playwright never
# downloads a browser of its own. When chromium is missing: installed with apt-get when we are
# root (as scripts/ensure_redis.sh installs redis-server), else we say how. Without it the
# browser tests are skipped (and fail under CI=true).
set -euo pipefail

CHROMIUM=/usr/bin/chromium
# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

say() { printf 'chromium: %s\n' "$*" >&2; }

[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "chromium is not installed (the console's browser tests need it)"
    if apt_install chromium --no-install-recommends chromium && [ -x "$CHROMIUM" ]; then
        exit 0
    fi
    say "apt-get could not install chromium"
fi
cat >&2 <<MSG
chromium: $CHROMIUM is not installed, so the console's browser tests will be skipped.
    Debian/Ubuntu:  sudo apt-get install chromium
MSG
exit 0
