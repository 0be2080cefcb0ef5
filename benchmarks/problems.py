"""Benchmark problem sets as data: readable, reproducible descriptors.

Layers use benchdnn-style descriptors: ``mb1ic64ih56oc64oh56kh3ph1`` reads batch 1, 64
input channels, 56x56 input, 64 output channels, 56x56 output, 3x3 kernel, padding 1
(``sh`` stride, default 1).  Signals are ``(n, k)`` pairs, images ``(side, k)``.
"""

import re

import numpy as np

#: The distinct convolution layers of ResNet-50 (v1.5: stride on the 3x3 of each first block).
RESNET50 = [
    "ic3ih224oc64oh112kh7sh2ph3",
    "ic64ih56oc64oh56kh1ph0", "ic64ih56oc64oh56kh3ph1", "ic64ih56oc256oh56kh1ph0", "ic256ih56oc64oh56kh1ph0",
    "ic256ih56oc128oh56kh1ph0", "ic128ih56oc128oh28kh3sh2ph1", "ic128ih28oc512oh28kh1ph0", "ic256ih56oc512oh28kh1sh2ph0",
    "ic512ih28oc128oh28kh1ph0", "ic128ih28oc128oh28kh3ph1",
    "ic512ih28oc256oh28kh1ph0", "ic256ih28oc256oh14kh3sh2ph1", "ic256ih14oc1024oh14kh1ph0", "ic512ih28oc1024oh14kh1sh2ph0",
    "ic1024ih14oc256oh14kh1ph0", "ic256ih14oc256oh14kh3ph1",
    "ic1024ih14oc512oh14kh1ph0", "ic512ih14oc512oh7kh3sh2ph1", "ic512ih7oc2048oh7kh1ph0", "ic1024ih14oc2048oh7kh1sh2ph0",
    "ic2048ih7oc512oh7kh1ph0", "ic512ih7oc512oh7kh3ph1",
]
#: Small layers for a quick run (CI, smoke tests).
LAYERS_QUICK = ["mb1ic16ih32oc16oh32kh3ph1", "mb1ic32ih28oc32oh28kh1ph0", "mb2ic8ih16oc8oh16kh5ph2"]
#: 1-D signals, ``same`` mode: (n, k).
SIGNALS_1D = [(n, k) for n in (10_000, 100_000, 1_000_000) for k in (8, 64, 512, 4096)]
#: 2-D single-channel images, ``same`` mode: (side, k), odd and even kernels.
IMAGES_2D = [(512, k) for k in (3, 4, 7, 15, 16, 31, 63)] + [(2048, k) for k in (3, 15, 63)]
#: 3-D volumes, ``same`` mode: (side, k).
VOLUMES_3D = [(64, 3), (64, 5), (64, 9), (128, 3)]
#: Separable kernels: (side, k) Gaussians; k = 7...63 on one side gives the exponent in k.
SEPARABLE = [(1024, k) for k in (7, 15, 31, 63)] + [(2048, 31)]

#: The quick sets (CI smoke runs, a first look): small versions of each family.
QUICK_1D = [(100_000, 8), (100_000, 64), (100_000, 512)]
QUICK_2D = [(256, 3), (256, 7), (256, 15), (256, 31)]
QUICK_3D = [(32, 3), (32, 5)]
QUICK_SEPARABLE = [(512, 7), (512, 15), (512, 31)]

#: The cells of the acceptance comparison (auto against the fastest SciPy/NumPy method).
ACCEPTANCE_2D = [(512, k) for k in (3, 7, 15, 31, 63)] + [(2048, k) for k in (3, 15, 63)]
ACCEPTANCE_1D = [(1_000_000, k) for k in (8, 64, 512, 4096)]


def parse(descriptor: str) -> dict:
    """``{"mb": 1, "ic": 64, "ih": 56, ...}`` from a descriptor (square images and kernels)."""
    fields = {k: int(v) for k, v in re.findall(r"([a-z]+)(\d+)", descriptor)}
    fields.setdefault("mb", 1)
    fields.setdefault("sh", 1)
    fields.setdefault("ph", 0)
    return fields


def conv_arguments(descriptor: str, rng, dtype="float32", batch=None):
    """``(x, w, kwargs)`` for a layer descriptor (``batch`` overrides ``mb``)."""
    p = parse(descriptor)
    n = batch or p["mb"]
    x = rng.standard_normal((n, p["ic"], p["ih"], p["ih"])).astype(dtype)
    w = rng.standard_normal((p["oc"], p["ic"], p["kh"], p["kh"])).astype(dtype)
    kw = dict(stride=(p["sh"],) * 2, padding=((p["ph"], p["ph"]),) * 2, dilation=(1, 1), groups=1)
    return x, w, kw


def conv_flops(descriptor: str, batch=None) -> float:
    """Multiply-adds x 2 of the layer."""
    p = parse(descriptor)
    return 2.0 * (batch or p["mb"]) * p["oc"] * p["oh"] ** 2 * p["ic"] * p["kh"] ** 2


def gaussian(k: int, dtype="float32"):
    """A normalised 1-D Gaussian of length k (sigma = k / 6) and its 2-D outer product."""
    t = np.arange(k) - (k - 1) / 2
    g = np.exp(-0.5 * (t / (k / 6)) ** 2)
    g = (g / g.sum()).astype(dtype)
    return g, np.outer(g, g).astype(dtype)
