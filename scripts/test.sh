#!/usr/bin/env bash
# The whole test suite: the harness's own tests (tests/) and every property against every
# bundled backend (properties/).
source "$(dirname "$0")/setup.sh"
exec .venv/bin/python -m pytest -q "$@"
