"""PyTorch (torch.nn.functional and autograd) as a convspec backend: a trusted implementation.

The shipped ``torch`` adapter (convspec/adapters/torch.py), except ``lp_pool``: the adapter
calls PyTorch's own ``lp_poolNd``, whose ceil mode scales an overhanging window (a real
deviation, on the scoreboard); here the p-norm is built from PyTorch's average-pooling sums of
|x|^p on the padded input, so the corpus holds only what PyTorch computes right.  Skipped
where PyTorch is not installed.
"""
import numpy as np

from convspec._adapters._pooling import crop
from convspec._adapters.torch import (  # noqa: F401
    _padded, _sums, adaptive_avg_pool, adaptive_max_pool, avg_pool, conv, conv_grad_input, conv_grad_weight,
    convspec_capabilities, max_pool)


def lp_pool(x, *, p, window, stride, padding, ceil_mode=False):
    xt, out = _padded(np.abs(x), window, stride, padding, ceil_mode, 0.0)
    return crop(_sums(xt ** p, window, stride) ** (1.0 / p), out).astype(x.dtype)
