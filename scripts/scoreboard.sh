#!/usr/bin/env bash
# The scoreboard: every shipped adapter's library installed into .venv where it installs here
# (none is a dependency of convspec), clang for tinygrad's CPU device where it is missing and
# this user can install it, then `convspec scoreboard` (reports/scoreboard.md). Arguments go
# to convspec scoreboard (e.g. --profile quick, --adapters torch openvino).
source "$(dirname "$0")/setup.sh"
LIBRARIES="jax tensorflow-cpu keras ai-edge-litert onnx onnxruntime openvino apache-tvm mlx[cpu] paddlepaddle opencv-python-headless astropy tinygrad scipy"
for lib in $LIBRARIES; do
    .venv/bin/python -m pip install --quiet "$lib" 2>/dev/null || echo "scoreboard: $lib does not install here; its adapter is listed as not checked"
done
if ! command -v clang >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get install -y -qq clang >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 &&
        apt-get install -y -qq clang >/dev/null 2>&1)) || echo "scoreboard: clang not installed: tinygrad's CPU device is not checked"
fi
exec .venv/bin/convspec scoreboard "$@"
