#!/usr/bin/env bash
# Performance report: the benchmark suites (pytest benchmarks: every problem of
# convspec._bench.suites, each bundled backend and installed peer checked, then timed by the
# engine of convspec bench) at one thread, then ResNet-50 with auto and PyTorch at two threads;
# writes bench.md, bench.json and plots for each run and performance.md, the targets of auto
# against its peers.  The OpenBLAS kernel overrides (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) are
# unset for these commands only.
# Default: the quick suites (about two minutes) into reports/quick/, so a quick run never
# overwrites the committed report; --full: the full suites into reports/ (about half an hour).
# Other arguments go to pytest (e.g. --suite pooling, --bench-targets auto).
source "$(dirname "$0")/setup.sh"
out=reports/quick
for arg in "$@"; do
    [ "$arg" = --full ] && out=reports
done
mkdir -p "$out"
run() {
    local threads=$1
    shift
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" \
        MKL_NUM_THREADS="$threads" NUMBA_NUM_THREADS="$threads" \
        .venv/bin/python -m pytest benchmarks -q -p no:cacheprovider -p no:xdist --threads "$threads" "$@"
}
run 1 --bench-out "$out/bench" --benchmark-json "$out/bench/pytest-benchmark.json" "$@"
run 2 --bench-out "$out/bench-2threads" --suite resnet50 --bench-targets auto --bench-peers torch onnxruntime openvino jax "$@"
exec .venv/bin/python benchmarks/performance.py "$out/bench/bench.json" --two-threads "$out/bench-2threads/bench.json" \
    --out "$out/performance.md"
