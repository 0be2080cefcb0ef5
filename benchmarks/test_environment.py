"""The machine's reference points, measured in the same run as everything else: the float32
GEMM rate (the roofline the layers are compared with), the BLAS library and the kernel it
selected, and the Numba compile time of each bundled compiled kernel (kept apart from run
times: the suites warm up before timing, so compiling never shows in them)."""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from convspec.bench.engine import machine_environment

#: Compiled entry points: a name -> the statement that runs it once on a small problem.
COMPILED = {
    "numba.correlate (signal kernel)": "b = load_backend('numba'); b.correlate(x2, x2[:5, :5], mode='same')",
    "numba.conv (layer loops)": "b = load_backend('numba'); b.conv(x4, x4[:2, :, :3, :3])",
    "numba.max_pool": "b = load_backend('numba'); b.max_pool(x4, window=(2, 2))",
    "winograd.conv (transforms)": "b = load_backend('winograd'); b.conv(x4, x4[:2, :, :3, :3], padding=1)",
}

_PROBE = """
import json, sys, time
import numpy as np
from convspec import load_backend
x2 = np.ones((64, 64), np.float32)
x4 = np.ones((2, 3, 16, 16), np.float32)
times = []
for _ in range(2):
    start = time.perf_counter()
    exec(sys.argv[1])
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def environment() -> dict:
    """CPU, versions, thread and allocator settings and the BLAS libraries, as ``convspec
    bench`` records them (one definition for both engines)."""
    return machine_environment()


def test_gemm_peak(benchmark):
    """The float32 GEMM rate in this run, with the environment it was measured in."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2))
    assert np.allclose(np.matmul(a, b)[:4, :4], a[:4].astype(np.float64) @ b[:, :4], rtol=1e-3, atol=1e-3)
    benchmark.group = "GEMM"
    benchmark.extra_info["flops"] = 2.0 * 1024**3
    benchmark.extra_info["environment"] = environment()
    benchmark(np.matmul, a, b)


def test_memory_bandwidth(benchmark):
    """The copy rate of a 64 MiB float32 array (each byte read once and written once): the
    memory line of the roofline."""
    a = np.arange(16 * 2**20, dtype=np.float32)
    b = np.empty_like(a)
    np.copyto(b, a)
    assert b[12345] == a[12345] and b[-1] == a[-1]
    benchmark.group = "memory bandwidth"
    benchmark.extra_info["bytes"] = 2 * a.nbytes
    benchmark(np.copyto, b, a)


@pytest.mark.parametrize("kernel", list(COMPILED))
def test_numba_compile(benchmark, kernel):
    """First call in a fresh process with an empty Numba cache (compile + run) against the
    second call (run only); the difference is the compile time."""
    benchmark.group = "numba compile"
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}

        def probe():
            out = subprocess.run([sys.executable, "-c", _PROBE, COMPILED[kernel]], env=env,
                                 capture_output=True, text=True, check=True)
            return json.loads(out.stdout)

        first, second = benchmark.pedantic(probe, rounds=1, iterations=1)
    benchmark.extra_info["first_call_s"] = first
    benchmark.extra_info["second_call_s"] = second
    benchmark.extra_info["compile_s"] = first - second
