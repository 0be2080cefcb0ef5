#!/usr/bin/env bash
# The main job: check every bundled backend (and the trusted and mutant corpora) against
# every property and write reports/conformance.md.
source "$(dirname "$0")/setup.sh"
exec .venv/bin/convspec report --out reports "$@"
