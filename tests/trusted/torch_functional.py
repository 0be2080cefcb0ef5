"""PyTorch's torch.nn.functional.conv1d/2d/3d as a convspec backend: a trusted implementation.

Asymmetric padding goes through F.pad (conv's own padding is symmetric).  Skipped where
PyTorch is not installed.
"""
import numpy as np
import torch
import torch.nn.functional as F

convspec_capabilities = {"ops": ["conv"]}


def conv(x, w, *, stride, padding, dilation, groups):
    xt = torch.from_numpy(np.ascontiguousarray(x))
    pads = [p for pair in reversed(padding) for p in pair]  # F.pad wants the last axis first
    xt = F.pad(xt, pads)
    fn = {3: F.conv1d, 4: F.conv2d, 5: F.conv3d}[x.ndim]
    with torch.no_grad():
        y = fn(xt, torch.from_numpy(np.ascontiguousarray(w)), stride=stride, dilation=dilation, groups=groups)
    return y.numpy()
