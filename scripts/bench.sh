#!/usr/bin/env bash
# Performance report: run the pytest-benchmark suites at one thread, with the OpenBLAS kernel
# overrides unset for this command only, and write reports/performance.md, plots and JSON.
# Pass --full and --resnet for the whole problem sets (slow); the default is the quick set.
source "$(dirname "$0")/setup.sh"
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m pytest benchmarks -q -p no:cacheprovider \
    --benchmark-min-rounds=5 --benchmark-warmup=on --benchmark-json=reports/benchmarks.json "$@"
exec .venv/bin/python benchmarks/report.py reports/benchmarks.json --out reports
