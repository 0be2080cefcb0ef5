"""What CPU a run happened on: the model and the instruction-set extensions that change which
kernels libraries pick (oneDNN, OpenBLAS, XLA choose by them), so that a report says where its
results hold and a deviation that depends on the CPU can say so; and whether the process's
other threads have gone quiet, so that a timing starts on idle cores."""

from __future__ import annotations

import functools
import platform
import time

#: The extensions worth naming: vector width, fused multiply-add, and the low-precision units.
ISA = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "avx512_fp16",
       "avx_vnni", "amx_tile", "amx_bf16", "amx_int8", "amx_fp16", "asimd", "sve", "sve2", "bf16", "i8mm")


@functools.lru_cache(maxsize=1)
def cpu() -> dict:
    """``{"model": ..., "isa": [extensions of ISA this CPU has], "flags": set of every flag}``
    from /proc/cpuinfo (Linux); elsewhere the model from :mod:`platform` and no flags."""
    model, flags = "", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip().lower()
                if key in ("model name", "hardware", "cpu model") and not model:
                    model = value.strip()
                elif key in ("flags", "features") and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    model = model or platform.processor() or platform.machine()
    return {"model": model, "isa": [f for f in ISA if f in flags], "flags": flags}


def has(*extensions: str) -> bool:
    """Whether this CPU has every one of ``extensions`` (names as in /proc/cpuinfo)."""
    return all(e in cpu()["flags"] for e in extensions)


def describe() -> str:
    """``'Intel(R) Xeon(R) ... (avx2, fma, avx512f, ...)'``: one line for a report."""
    c = cpu()
    return f"{c['model']} ({', '.join(c['isa']) or 'no extension recorded'})"


#: :func:`wait_until_idle` waits at most IDLE_LIMIT seconds, in windows of IDLE_WINDOW, until the
#: process used less than IDLE_SHARE of one core over a window while this thread slept.
IDLE_LIMIT, IDLE_WINDOW, IDLE_SHARE = 1.0, 0.01, 0.1


def wait_until_idle(limit: float = IDLE_LIMIT) -> float:
    """Sleep until the process's other threads stop using the CPU (or ``limit`` seconds have
    passed), and return the seconds waited.

    A library's worker threads keep spinning after a call returns, waiting for the next one
    (OpenBLAS's for about 0.1 s, ONNX Runtime's pool, OpenMP's), and on a machine with few
    cores they slow whichever method's block comes next.  On 2 vCPUs at two threads, a 3x3
    stride-2 layer by ``auto`` took 13-15 ms right after ONNX Runtime's block and 5.7-7.1 ms
    after a pause of 0.1 s or more; ONNX Runtime took 5.0 ms right after ``auto`` and 2.7-3.6
    after the pause.  The benchmark engine waits before each timed block, ``auto`` before
    timing its candidates that run no GEMM."""
    start = time.perf_counter()
    while True:
        spent, wall = time.process_time(), time.perf_counter()
        time.sleep(IDLE_WINDOW)
        used, now = time.process_time() - spent, time.perf_counter()
        if used < IDLE_SHARE * (now - wall) or now - start >= limit:
            return now - start
