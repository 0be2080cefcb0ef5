"""What CPU a run happened on: the model and the instruction-set extensions that change which
kernels libraries pick (oneDNN, OpenBLAS, XLA choose by them), so that a report says where its
results hold and a deviation that depends on the CPU can say so."""

from __future__ import annotations

import functools
import platform

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
