"""Benchmark problems as data: benchdnn-style descriptors, readable and reproducible.

``mb1ic64ih56oc64oh56kh3ph1`` reads: batch 1, 64 input channels, 56x56 input, 64 output
channels, 56x56 output, 3x3 kernel, padding 1.
"""

import re

#: A few layers for the bundled backends; the full problem sets come with the performance report.
LAYERS = [
    "mb1ic16ih32oc16oh32kh3ph1",
    "mb1ic32ih28oc32oh28kh1ph0",
    "mb2ic8ih16oc8oh16kh5ph2",
]


def parse(descriptor: str) -> dict:
    """``{"mb": 1, "ic": 16, "ih": 32, ...}`` from a descriptor; square images and kernels."""
    fields = dict((k, int(v)) for k, v in re.findall(r"([a-z]+)(\d+)", descriptor))
    fields.setdefault("sh", 1)
    fields.setdefault("ph", 0)
    return fields


def conv_arguments(descriptor: str, rng, dtype="float32"):
    p = parse(descriptor)
    x = rng.standard_normal((p["mb"], p["ic"], p["ih"], p["ih"])).astype(dtype)
    w = rng.standard_normal((p["oc"], p["ic"], p["kh"], p["kh"])).astype(dtype)
    kw = dict(stride=(p["sh"],) * 2, padding=((p["ph"], p["ph"]),) * 2, dilation=(1, 1), groups=1)
    return x, w, kw
