#!/usr/bin/env bash
# The full conformance report: every bundled backend, trusted implementation and mutant
# against the whole catalogue (default profile, about half an hour on two cores); writes
# reports/conformance.md (and conformance.json beside it, not committed).
source "$(dirname "$0")/setup.sh"
exec .venv/bin/convspec report --out reports "$@"
