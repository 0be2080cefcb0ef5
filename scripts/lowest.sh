#!/usr/bin/env bash
# A quick check under the lowest versions pyproject.toml allows (numpy 1.24, scipy 1.10,
# hypothesis 6.80, pytest 7.0, numba 0.58, threadpoolctl 3.0), so that a declared lower
# bound is a tested one: a virtual environment of its own (.venv-lowest), convspec installed
# into it without upgrading them, then the command line on three bundled backends over the
# whole catalogue (a few examples each) and the pytest route on one section.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
venv=.venv-lowest
lowest=$(sed -n '/^dependencies = \[/,/^\]/p' pyproject.toml | grep -o '"[a-z_-]*>=[0-9.]*"' | tr -d '"' | sed 's/>=/==/')
if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -m venv "$venv"
fi
stamp=$venv/.convspec-installed
digest=$(cat pyproject.toml $(find convspec impls -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    # shellcheck disable=SC2086
    "$venv/bin/python" -m pip install --quiet $lowest
    rm -rf build ./*.egg-info
    "$venv/bin/python" -m pip install --quiet --no-deps .
    echo "$digest" > "$stamp"
fi
echo "lowest versions: $(echo $lowest | tr '\n' ' ')"
"$venv/bin/python" -c "import numpy, scipy, hypothesis, pytest, numba, threadpoolctl; print('installed:', *(f'{m.__name__} {m.__version__}' for m in (numpy, scipy, hypothesis, pytest, numba)), f'threadpoolctl {threadpoolctl.__version__}')"
(cd "${TMPDIR:-/tmp}" && "$OLDPWD/$venv/bin/convspec" check naive im2col numba --profile quick --max-examples 3 --seed 1 -q)
"$venv/bin/python" -m pytest -q -p no:xdist properties/test_layer.py --backend naive --backend im2col
