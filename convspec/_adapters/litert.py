"""LiteRT (``ai-edge-litert``, the TensorFlow Lite interpreter, XNNPACK on CPU) as a convspec
backend: each call runs a model converted by TensorFlow's TFLite converter from the same
``tf.nn`` graph the ``tensorflow`` adapter runs (``CONV_2D``, ``MAX_POOL_2D``,
with ``PAD``/``PADV2`` and ``TRANSPOSE`` around them), one interpreter per function, shapes
and arguments, kept.  The weights are a model input, so one conversion serves every weight.

Conventions translated, never results: as for ``tensorflow`` (channels last and back,
``(before, after)`` padding as a pad op, -inf for the max, the ceil-mode overhang as extra
end padding).  Declared as the converted graph has it: float32 only, no stride above 1 with a
dilation above 1 (``no_stride_with_dilation``), no pooling stride longer than the window
(``stride_within_window``), 1-D and 2-D only (a dilated 3-D layer converts through
``SpaceToBatchND``, which is no TFLite op; a 3-D pool is no builtin).  An interpreter serves
one thread, as LiteRT's documentation asks: each thread gets its own.
"""
import os
import threading

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no start-up banner on stderr

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from ai_edge_litert.interpreter import Interpreter  # noqa: E402

from convspec._adapters._pooling import crop, overhang  # noqa: E402
from convspec._adapters.tensorflow import _conv, _first, _last, _pad  # noqa: E402

convspec_capabilities = {"ops": ["conv", "max_pool"], "dtypes": ["float32"], "biases": True,
                         # 3-D: a dilated Conv3D converts through SpaceToBatchND, which is no TFLite op
                         "ndims": [1, 2],
                         "restrictions": {"conv": ["no_stride_with_dilation", "shared_bias_only"],
                                          "max_pool": ["stride_within_window"]},
                         "features": {"max_pool": ["pool_padding_to_window"]}}

_interpreters: dict = {}


def _run(key, graph, *arrays):
    """``graph`` (a function of tensors) converted to a LiteRT model for ``arrays``' shapes and
    run on them; the interpreter is kept under ``key`` for this thread."""
    key = (threading.get_ident(), key)
    if key not in _interpreters:
        signature = [tf.TensorSpec(a.shape, tf.as_dtype(a.dtype)) for a in arrays]
        function = tf.function(graph, input_signature=signature, autograph=False)
        converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()], function)
        interpreter = Interpreter(model_content=converter.convert())
        interpreter.allocate_tensors()
        _interpreters[key] = interpreter
    interpreter = _interpreters[key]
    for detail, a in zip(interpreter.get_input_details(), arrays):
        interpreter.set_tensor(detail["index"], np.ascontiguousarray(a))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def conv(x, w, *, stride, padding, dilation, groups, bias=None):
    if np.ndim(x) > 4:  # declared: 1-D and 2-D layers
        raise ValueError(f"x.ndim={np.ndim(x)}: 3-D layers are not offered (a dilated one converts through "
                         "SpaceToBatchND, which is no TFLite op)")
    if bias is not None and np.ndim(bias) != 1:
        from convspec import Unsupported

        raise Unsupported("a shared bias only (one value per output channel), declared shared_bias_only")
    stride, dilation, padding = list(stride), list(dilation), tuple(tuple(p) for p in padding)

    def graph(a, k, *b):
        y = _first(_conv(_last(a), k, stride, padding, dilation, groups))
        return y + tf.reshape(b[0], [-1] + [1] * (len(y.shape) - 2)) if b else y

    arrays = (x, w) if bias is None else (x, w, bias)
    key = ("conv", tuple((a.shape, a.dtype.str) for a in arrays), tuple(stride), padding, tuple(dilation), groups)
    return _run(key, graph, *arrays)


def max_pool(x, *, window, stride, padding, ceil_mode=False):
    out, _, widths = overhang(x.shape, window=window, stride=stride, padding=padding, ceil_mode=ceil_mode)
    window, stride, widths = list(window), list(stride), tuple(tuple(p) for p in widths)

    def graph(a):
        return _first(tf.nn.pool(_pad(_last(a), widths, -np.inf), window, "MAX", strides=stride, padding="VALID"))

    key = ("max_pool", x.shape, x.dtype.str, tuple(window), tuple(stride), widths)
    return crop(_run(key, graph, x), out)
