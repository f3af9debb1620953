#!/usr/bin/env bash
# Mutation spot-checks (scripts/mutants.toml): each mutant on a scratch copy, its tests only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec .venv/bin/python scripts/mutants.py "$@"
