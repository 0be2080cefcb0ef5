#!/usr/bin/env bash
# The tests.  Quick by default (the README's test command, a few minutes): every mutant is
# caught, every trusted implementation and hostile backend judged at least once, every
# property run on one bundled backend (round robin), the harness's own tests.  --full: the
# full suite (every property x every bundled backend, every mutant and trusted implementation
# through the whole catalogue with the default profile, every reproduction run).
# Other arguments go to pytest.
source "$(dirname "$0")/setup.sh"
suite=quick
args=()
for arg in "$@"; do
    if [ "$arg" = --full ]; then suite=full; else args+=("$arg"); fi
done
export CONVSPEC_TESTS=$suite
exec .venv/bin/python -m pytest -q -n 2 --dist worksteal "${args[@]}"
