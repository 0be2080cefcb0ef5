# Sourced by main.sh and test.sh: a virtual environment in .venv with convspec installed
# from this checkout (a regular, non-editable install) and the test and report extras.
# The install is skipped when nothing it installs has changed since the last one (a digest
# of pyproject.toml and the package sources is kept in .venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.convspec-installed
digest=$(cat pyproject.toml README.md $(find convspec impls -name '*.py' -not -path '*/__pycache__/*' | LC_ALL=C sort) | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    rm -rf build ./*.egg-info  # a stale build/lib would put modules that no longer exist into the wheel
    .venv/bin/python -m pip install --quiet ".[report,test]"
    echo "$digest" > "$stamp"
fi
if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    # bubblewrap: the sandbox a target's executor runs in (without it, the weaker process mode)
    (apt-get install -y -qq bubblewrap >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 &&
        apt-get install -y -qq bubblewrap >/dev/null 2>&1)) || echo "bubblewrap not installed: executors run in process mode"
fi
if [ "${CONVSPEC_WITH_TORCH:-1}" = 1 ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
    # optional peer: PyTorch is a trusted implementation when present, never a requirement
    .venv/bin/python -m pip install --quiet torch==2.13.0 || echo "PyTorch not installed: its trusted adapter is skipped"
fi
