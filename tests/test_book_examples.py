"""Worked examples of chapter 9, reproduced with every bundled backend that has the function."""

import numpy as np
import pytest

from convspec import load_backend
from convspec._engine.backend import bundled_names

POOLING = [b for b in bundled_names() if "max_pool" in load_backend(b).ops]


@pytest.mark.parametrize("target", POOLING)
def test_figure_9_8_shift_changes_every_detector_but_half_the_pooled_values(target):
    """Max pooling, width 3, stride 1: shifting the detector stage right by one changes every
    detector value but only half of the pooled ones (figure 9.8)."""
    b = load_backend(target)
    detector = np.array([[[0.1, 1.0, 0.2, 0.1]]])
    shifted = np.array([[[0.3, 0.1, 1.0, 0.2]]])
    kw = dict(window=(3,), stride=(1,), padding=((1, 1),), ceil_mode=False)
    pooled, pooled_shifted = b.max_pool(detector, **kw), b.max_pool(shifted, **kw)
    np.testing.assert_array_equal(pooled[0, 0], [1.0, 1.0, 1.0, 0.2])
    np.testing.assert_array_equal(pooled_shifted[0, 0], [0.3, 1.0, 1.0, 1.0])
    assert np.all(detector != shifted)
    assert np.mean(pooled == pooled_shifted) == 0.5


@pytest.mark.parametrize("target", POOLING)
def test_quadrant_summary_is_fixed_size(target):
    """Adaptive pooling to 2x2: four summary statistics, one per quadrant, for any image size."""
    b = load_backend(target)
    for side in (4, 7, 10):
        x = np.arange(side * side, dtype=np.float64).reshape(1, 1, side, side)
        y = b.adaptive_max_pool(x, output_size=(2, 2))
        assert y.shape == (1, 1, 2, 2)
        half = -(-side // 2)
        assert y[0, 0, 0, 0] == x[0, 0, :half, :half].max() and y[0, 0, 1, 1] == x.max()
