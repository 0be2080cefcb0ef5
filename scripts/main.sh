#!/usr/bin/env bash
# The main job, in minutes: every bundled backend and every trusted implementation against
# the whole catalogue with the quick profile, written to reports/quick/conformance.md (not
# committed); then what the committed full report holds and how to make it again.
source "$(dirname "$0")/setup.sh"
status=0
.venv/bin/convspec report --profile quick --mutants none --out reports/quick "$@" || status=$?
echo
echo "The full report (reports/conformance.md; bash scripts/report.sh makes it again, about half an hour:"
echo "the default profile, and the mutant corpus beside the bundled and trusted backends) holds:"
sed -n '/^## Summary/,/^## /p' reports/conformance.md | sed '1d;$d' | sed '/^$/d'
exit $status
