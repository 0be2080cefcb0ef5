"""Benchmark problem sets as data: readable, reproducible descriptors.

Layers use the benchdnn-style descriptors of ``convspec bench`` (convspec/bench/problems.py,
one parser and one ResNet-50 list for both): ``mb1ic64ih56oc64kh3ph1`` reads batch 1, 64
input channels, 56x56 input, 64 output channels, 3x3 kernel, padding 1 (``sh`` stride,
default 1).  Signals are ``(n, k)`` pairs, images ``(side, k)``.
"""

import re

import numpy as np

from convspec.bench.problems import parse as parse_problem
from convspec.bench.suites import RESNET50  # noqa: F401  (one list of layers for both engines)
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


def layer_problem(descriptor: str, batch=None):
    """The :class:`convspec.bench.problems.Problem` of a layer descriptor (``batch`` overrides ``mb``)."""
    if batch is not None:
        descriptor = re.sub(r"^mb\d+", "", descriptor)
        descriptor = f"mb{batch}{descriptor}"
    return parse_problem(f"conv {descriptor}")


def conv_arguments(descriptor: str, rng, dtype="float32", batch=None):
    """``(x, w, kwargs)`` for a layer descriptor (``batch`` overrides ``mb``): the same problems
    as ``convspec bench``."""
    p = layer_problem(descriptor, batch)
    x, w = p.arrays(rng, dtype)
    return x, w, dict(p.kwargs)


def conv_flops(descriptor: str, batch=None) -> float:
    """Multiply-adds x 2 of the layer."""
    return layer_problem(descriptor, batch).flops()


def gaussian(k: int, dtype="float32"):
    """A normalised 1-D Gaussian of length k (sigma = k / 6) and its 2-D outer product."""
    t = np.arange(k) - (k - 1) / 2
    g = np.exp(-0.5 * (t / (k / 6)) ** 2)
    g = (g / g.sum()).astype(dtype)
    return g, np.outer(g, g).astype(dtype)
