#!/usr/bin/env bash
# Performance report: the pytest-benchmark suites at one thread (every backend and peer), then
# at all threads (auto, PyTorch and the SciPy/NumPy peers) as a second view; writes
# reports/performance.md, PNG plots and the raw JSON.  The OpenBLAS kernel overrides
# (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) are unset for these commands only.
# glibc's allocator is left at its defaults (the report records MALLOC_MMAP_THRESHOLD_ and
# MALLOC_TRIM_THRESHOLD_): raising them removes page faults from PyTorch's 7x7 stem (6 ms in
# a fresh process, 2.3 ms with them) but slows its 1x1 layers by 15-40 %.
# Default: the quick problem sets (a few minutes).  --resnet adds every ResNet-50 layer at
# batch 1 and 8, --full the whole signal/image/volume/separable sets (together about an hour).
# A quick run writes to reports/quick/, so it never overwrites the committed full report.
source "$(dirname "$0")/setup.sh"
out=reports/quick
for arg in "$@"; do
    case "$arg" in --resnet|--full) out=reports ;; esac
done
mkdir -p "$out"
run() {
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m pytest benchmarks -q -p no:cacheprovider \
        --benchmark-min-rounds=5 --benchmark-max-time=0.25 --benchmark-warmup=on "$@"
}
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 \
    run --benchmark-json="$out/benchmarks.json" "$@"
run --benchmark-json="$out/benchmarks-threads.json" -k "(auto or torch or scipy or numpy or gemm or bandwidth) and not compile" "$@"
exec .venv/bin/python benchmarks/report.py "$out/benchmarks.json" --threads "$out/benchmarks-threads.json" --out "$out"
