#!/usr/bin/env bash
# The documentation site, built strictly (a warning fails the build) into docs/_build/html.
source "$(dirname "$0")/setup.sh"
exec .venv/bin/python -m sphinx -W --keep-going -q -b html docs docs/_build/html "$@"
