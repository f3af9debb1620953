#!/usr/bin/env bash
# Make sure the visit report's tests can read a PDF: pdftotext, pdftoppm and pdfinfo (Debian's
# poppler-utils) turn the report into text and a PNG, and WeasyPrint (a Python package of the
# project) finds pango to lay it out. Installed with apt-get when we are root (as
# scripts/ensure_chromium.sh does), else we say how. Without them those tests are skipped (and
# fail under CI=true).
set -euo pipefail

# shellcheck source=scripts/apt_install.sh
source "$(dirname "${BASH_SOURCE[0]}")/apt_install.sh"

say() { printf 'pdf tools: %s\n' "$*" >&2; }

have_pango() { ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so.0'; }

missing=()
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
have_pango || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    if apt_install "pdf tools" --no-install-recommends "${missing[@]}"; then
        exit 0
    fi
    say "apt-get could not install ${missing[*]}"
fi
cat >&2 <<MSG
pdf tools: ${missing[*]} missing, so the visit report's PDF tests will be skipped.
    Debian/Ubuntu:  sudo apt-get install ${missing[*]}
MSG
exit 0
