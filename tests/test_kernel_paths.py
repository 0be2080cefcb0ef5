"""Every path of the bundled fast kernels against the plain sums, whichever the dispatch
would pick for a drawn property: numba's five depthwise kernels (masked runs along the plane,
channels last, output rows, a channel's plane split over threads, flat stride phases), Winograd a block of images
at a time, layers in register blocks, and ``auto``'s stride-1 input gradient as a forward layer.  Properties draw small shapes, which reach only some of
these paths; here each path is forced."""

import math
import os

import numpy as np
import pytest

from convspec._contract import reference
from convspec.impls import (_algebra, _blocked, _blocked_channels, _blocked_columns, _calibration, _scratch,
                            _threads, auto, im2col, numba_direct, winograd)

#: (x shape, kernel, stride, padding, dilation, channel multiplier)
DEPTHWISE = [
    ((2, 4, 9, 10), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ((1, 3, 11, 12), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 2),
    ((1, 3, 11, 12), (3, 2), (2, 3), ((1, 0), (2, 1)), (2, 1), 1),
    ((1, 2, 40), (5,), (3,), ((2, 2),), (2,), 1),
    ((1, 2, 5, 6, 7), (3, 3, 3), (1, 2, 2), ((1, 1), (1, 1), (1, 1)), (1, 1, 1), 1),
    ((1, 2, 300), (5,), (1,), ((0, 3),), (70,), 1),
    ((1, 2, 9, 9), (9, 9), (4, 4), ((4, 4), (4, 4)), (1, 1), 1),
    ((1, 2, 4, 4), (2, 2), (3, 3), ((5, 5), (5, 5)), (1, 1), 1),
    ((2, 3, 20, 21), (3, 3), (1, 1), ((0, 2), (1, 0)), (2, 1), 3),
    ((1, 2, 6, 20, 20), (2, 3, 3), (2, 2, 2), ((1, 0), (1, 1), (1, 1)), (1, 1, 1), 1),
    ((2, 2, 5, 6, 7), (3, 3, 3), (1, 1, 1), ((1, 1), (0, 2), (1, 1)), (1, 1, 1), 2),
    ((1, 2, 3, 30), (1, 7), (1, 1), ((0, 0), (9, 0)), (1, 3), 1),
    ((1, 2, 9), (9,), (1,), ((0, 0),), (1,), 1),
    ((1, 2, 12, 12), (9, 1), (1, 1), ((4, 4), (0, 0)), (1, 1), 2),
    ((1, 3, 17), (4,), (1,), ((1, 2),), (1,), 1),
    ((1, 3, 8, 10), (3, 3), (1, 1), ((0, 0), (1, 1)), (1, 1), 1),
    ((2, 4, 10, 9), (3, 3), (1, 1), ((2, 2), (2, 2)), (2, 2), 1),
]


def _masked_applies(case):
    """Whether a depthwise case can run masked: stride 1, and every output size but the first
    that of the input (a signal's length may differ)."""
    shape, kernel, stride, padding, dilation, _ = case
    out = [n + a + b - (k - 1) * d for n, k, (a, b), d in zip(shape[2:], kernel, padding, dilation)]
    return all(s == 1 for s in stride) and out[1:] == list(shape[3:])


@pytest.fixture
def fresh_depthwise_plans(request):
    """Depthwise plans made while a path is forced are dropped before and after the test."""
    numba_direct.depthwise_plan.cache_clear()
    request.addfinalizer(numba_direct.depthwise_plan.cache_clear)


@pytest.mark.parametrize("path", ["masked", "channels_last", "rows_plane_or_flat"])
@pytest.mark.parametrize("case", DEPTHWISE, ids=lambda c: f"x{c[0]}k{c[1]}s{c[2]}")
def test_each_depthwise_kernel_is_the_sum(monkeypatch, fresh_depthwise_plans, path, case):
    shape, kernel, stride, padding, dilation, per = case
    monkeypatch.setattr(numba_direct, "MASKED_TAP_POSITIONS", 10**9 if path == "masked" else -1)
    monkeypatch.setattr(numba_direct, "CHANNELS_LAST_PLANE", 10**9 if path == "channels_last" else 0)
    monkeypatch.setattr(_threads, "THREADED_ELEMENTS", 1)  # the channels split wherever there are threads
    monkeypatch.setattr(_threads, "_trials", {})  # split on the trials' split runs (calls 2, 4 and 5) at least
    monkeypatch.setattr(_threads, "_split", {})
    rng = np.random.default_rng(len(shape) + per)
    x = rng.standard_normal(shape)
    w = rng.standard_normal((shape[1] * per, 1) + kernel)
    b = rng.standard_normal(shape[1] * per)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=shape[1])
    want = reference.conv(x, w, bias=b, **kw)
    for call in range(6):
        got = numba_direct.conv(x, w, bias=b, **kw)
        assert got.shape == want.shape and np.allclose(got, want, rtol=1e-12, atol=1e-12), \
            f"call {call + 1}: max error {np.abs(got - want).max()}, but should be within 1e-12 ({path})"
    plan = numba_direct.depthwise_plan(x.shape, w.shape, x.dtype, want.shape, stride, padding, dilation)
    assert (plan.__name__ == "masked") == (path == "masked" and _masked_applies(case)), plan.__name__


@pytest.mark.parametrize("case", [c for c in DEPTHWISE if _masked_applies(c)], ids=lambda c: f"x{c[0]}k{c[1]}")
def test_masked_depthwise_reads_only_inside_its_arrays(case):
    """The masked kernel run as Python, whose indexing raises past an array's ends (the compiled
    one would read whatever lies there, and its masks would hide it): the channels at either
    end of x, whose runs would leave it, must go through the zeroed copy."""
    shape, kernel, stride, padding, dilation, per = case
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal(shape), rng.standard_normal((shape[1] * per, 1) + kernel)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=shape[1])
    want = reference.conv(x, w, **kw)
    d = len(shape) - 2
    up = lambda t, fill: (fill,) * (3 - d) + tuple(t)  # noqa: E731
    n_in, n_out, kernel3 = up(shape[2:], 1), up(want.shape[2:], 1), up(kernel, 1)
    lowest, offsets, masks = numba_direct._masked_geometry(n_in, n_out, kernel3, up(dilation, 1),
                                                           up((a for a, _ in padding), 0))
    got = np.empty(want.shape)
    numba_direct._depthwise_masked.py_func(x.reshape(-1), w.reshape(w.shape[0], -1), per, shape[1], math.prod(n_in),
                                           lowest, offsets, masks, got.reshape(-1), 0, want.shape[0] * want.shape[1])
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", [c for c in DEPTHWISE if _masked_applies(c) and c[0][-1] > c[1][-1]],
                         ids=lambda c: f"x{c[0]}k{c[1]}")
def test_masked_depthwise_keeps_what_it_masks_out_of_the_sums(fresh_depthwise_plans, case):
    """Infinities at the ends of lines and planes, where a run along the flattened plane reads
    them for outputs of the line before or after (or of the next channel), reach only the
    outputs whose windows hold them: the masks select, and never multiply (0 * inf is NaN)."""
    shape, kernel, stride, padding, dilation, per = case
    rng = np.random.default_rng(7)
    x = rng.standard_normal(shape)
    x[..., 0] = np.inf  # the first of every line
    x[:, 1::2, ..., -1] = -np.inf  # the last of every line of every other channel
    x.reshape(shape[:2] + (-1,))[:, :, -1] = np.nan  # the last of every plane
    w = rng.standard_normal((shape[1] * per, 1) + kernel)
    kw = dict(stride=stride, padding=padding, dilation=dilation, groups=shape[1])
    want = reference.conv(x, w, **kw)
    got = numba_direct.depthwise_plan(x.shape, w.shape, x.dtype, want.shape, stride, padding, dilation)(x, w)
    assert np.isfinite(want).any(), "some outputs should see none of the infinities"
    assert np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(np.isinf(got), np.isinf(want))
    assert np.allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("split_seconds, split", [(3.0, False), (0.5, True)])
def test_a_pass_is_split_only_when_splitting_was_faster(monkeypatch, split_seconds, split):
    """A pass of a new size runs both ways in ORDER (the first UNCOUNTED runs not counted),
    timed; the faster way is kept.  The clock is a stand-in: a whole pass takes 1 s, a split
    one ``split_seconds`` (and its uncounted first run 100 s, which must not decide)."""
    import numba

    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    monkeypatch.setattr(_threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(_threads, "THREADED_ELEMENTS", 0)
    monkeypatch.setattr(_threads, "_trials", {})
    monkeypatch.setattr(_threads, "_split", {})
    monkeypatch.setattr(_threads, "PIECES_PER_THREAD", 1)  # a split run is two halves
    seen, clock = [], [0.0]

    def kernel(first, last):
        seen.append((first, last))
        cold = len(seen) <= 3
        clock[0] += 1.0 if (first, last) == (0, 4) else (100.0 if cold else split_seconds / 2)

    monkeypatch.setattr(_threads.time, "perf_counter", lambda: clock[0])
    for _ in range(len(_threads.ORDER) + 2):
        _threads.in_threads(kernel, 4, 10**6)
    whole, halves = [(0, 4)], [(0, 2), (2, 4)]
    want = [run for parts in _threads.ORDER for run in (halves if parts else whole)]
    assert [sorted(seen[:len(want)])] == [sorted(want)] and seen[0] == (0, 4), "first both ways, in ORDER"
    assert sorted(seen[len(want):]) == sorted((halves if split else whole) * 2), \
        f"a split pass took {split_seconds} s against 1 s whole: it should {'' if split else 'not '}be kept split"


#: (x shape, output channels, kernel, stride, padding, dilation): every count of output channels
#: a last panel can hold (1 to 5 beyond whole panels of 6), last blocks of one vector and of a
#: part of one, lines longer than a chunk (with halos), stride phases, 1-D to 3-D.
BLOCKED = [
    ((1, 3, 20, 20), 7, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((2, 3, 23, 21), 13, (7, 7), (2, 2), ((3, 3), (3, 3)), (1, 1)),
    ((1, 4, 40), 5, (3,), (1,), ((64, 64),), (8,)),
    ((1, 1, 700), 9, (80,), (4,), ((38, 38),), (1,)),
    ((2, 5, 6, 9, 10), 8, (3, 3, 3), (1, 2, 3), ((1, 0), (2, 1), (0, 2)), (1, 2, 1)),
    ((1, 6, 9, 7), 12, (3, 2), (2, 3), ((0, 1), (2, 0)), (2, 1)),
    ((1, 2, 5, 5), 1, (5, 5), (1, 1), ((0, 0), (0, 0)), (1, 1)),
    ((1, 3, 700), 10, (3,), (1,), ((64, 64),), (64,)),
    ((1, 2, 2000), 5, (3,), (1,), ((300, 300),), (300,)),  # chunks of twice the halo (1200)
    ((2, 3, 1001), 11, (5,), (2,), ((3, 1),), (3,)),
    ((1, 2, 600), 6, (4,), (3,), ((0, 2),), (1,)),
    ((1, 2, 3, 300), 4, (2, 3), (1, 1), ((1, 1), (1, 1)), (1, 2)),
    ((3, 4, 8, 24), 3, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((1, 2, 4, 5), 2, (3, 3), (1, 1), ((5, 5), (4, 4)), (1, 1)),  # more padding than input
    ((1, 3, 9, 6, 9), 5, (3, 2, 2), (2, 1, 2), ((2, 1), (0, 1), (1, 1)), (2, 1, 2)),
    # on planes with slices of the reduction (1152 and 1080 k) and groups of panels
    ((1, 128, 7, 7), 27, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((2, 120, 14, 13), 31, (3, 3), (2, 2), ((1, 1), (1, 0)), (1, 1)),
    ((1, 4, 7, 8, 9), 7, (3, 3, 2), (2, 3, 2), ((1, 1), (1, 2), (0, 1)), (1, 1, 2)),  # phases on three axes
    ((2, 1, 12, 40), 5, (3, 40), (1, 1), ((0, 0), (0, 0)), (1, 1)),  # rows of one output, on lines
    # with channels in the lanes: full panels and a part, slices of the reduction (1080 k)
    ((1, 120, 9, 9), 100, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
]


@pytest.mark.parametrize("lanes", _blocked.VECTOR_LANES)
@pytest.mark.parametrize("packed, stream, channels", [(True, False, False), (False, False, False),
                                                      (True, True, False), (True, False, True)],
                         ids=["packed", "in-place", "packed-streamed", "channels"])
@pytest.mark.parametrize("case", BLOCKED, ids=lambda c: f"x{c[0]}o{c[1]}k{c[2]}s{c[3]}")
def test_layers_in_register_blocks_are_the_sum(monkeypatch, request, case, packed, stream, channels, lanes):
    """The blocks over every line, whole and split over threads (the trials' split runs, calls
    2, 4 and 5), from inputs in any memory layout, the weights packed or read in place, in
    vectors of 8 and 16 floats whatever the host's (where its registers are narrower, LLVM
    splits the vectors), their outputs streamed past the caches into aligned pooled results or
    stored, or with output channels in the lanes (every layer, 1-D ones included, though the
    plans take that layout only for 2-D and 3-D ones); float32 sums within a few roundings of
    the float64 ones."""
    shape, c_out, kernel, stride, padding, dilation = case
    monkeypatch.setattr(_blocked, "_on_channels", lambda x_shape, w_shape, lanes: channels)
    monkeypatch.setattr(_blocked, "LANES", lanes)
    monkeypatch.setattr(_blocked, "PACK_ABOVE", 0 if packed else float("inf"))
    monkeypatch.setattr(_blocked, "streams", lambda output_bytes: stream)
    monkeypatch.setattr(_scratch, "RECYCLE_BYTES", 0 if stream else _scratch.RECYCLE_BYTES)
    _blocks_are_the_sum(monkeypatch, request, case)


def _blocks_are_the_sum(monkeypatch, request, case):
    """``_blocked.conv`` on ``case`` (the plans made for the test's choices dropped after it
    too), five calls (a pass split over the threads in calls 2, 4 and 5, as the trials run it)
    and one from a Fortran-ordered input and reversed weights: float32 sums within a few
    roundings of the float64 ones."""
    shape, c_out, kernel, stride, padding, dilation = case
    _blocked.conv_plan.cache_clear()
    request.addfinalizer(_blocked.conv_plan.cache_clear)
    monkeypatch.setattr(_threads, "THREADED_ELEMENTS", 1)
    monkeypatch.setattr(_threads, "_trials", {})
    monkeypatch.setattr(_threads, "_split", {})
    rng = np.random.default_rng(c_out)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((c_out, shape[1]) + kernel).astype(np.float32)
    kw = dict(stride=stride, padding=padding, dilation=dilation)
    want = reference.conv(x.astype(np.float64), w.astype(np.float64), groups=1, **kw)
    scale = reference.conv(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), groups=1, **kw)
    assert _blocked.applies(x.shape, w.shape, x.dtype, 1, want.shape)
    for call, (xs, ws) in enumerate([(x, w)] * 5 + [(np.asfortranarray(x), w[..., ::-1].copy()[..., ::-1])]):
        got = _blocked.conv(xs, ws, groups=1, **kw)
        assert got.shape == want.shape and got.dtype == np.float32 and got.flags.c_contiguous
        assert np.all(np.abs(got - want) <= 1e-5 * scale + 1e-30), \
            f"call {call + 1}: max error {np.abs(got - want).max()}, but should be within 1e-5 of the sum of |products|"


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_the_blocks_input_rewrite_is_the_padded_input_in_phases(stride):
    """Every element of the rewritten input (chunks, rows, channels, stride phases) is the
    zero-padded input at its position, whatever the padding, chunk and halo."""
    import itertools

    rng = np.random.default_rng(stride)
    for _ in range(60):
        n, c, d, h, w = (int(v) for v in rng.integers(1, [3, 4, 3, 4, 40]))
        before = rng.integers(0, [2, 2, 6]).astype(np.int64)
        chunk, chunks = int(rng.integers(1, 20)), int(rng.integers(1, 4))
        q_ = chunk + int(rng.integers(0, 6))
        dp, hp = d + before[0] + int(rng.integers(0, 2)), h + before[1] + int(rng.integers(0, 2))
        x = rng.standard_normal((n, c, d, h, w)).astype(np.float32)
        xb = np.full((n, chunks, dp, hp, c, stride, q_), np.nan, np.float32)
        _blocked._fill(x, before, stride, chunk, xb)
        want = np.zeros_like(xb)
        for a, j, dd, hh, cc, p, q in itertools.product(*(range(v) for v in want.shape[:4]), range(c), range(stride),
                                                        range(q_)):
            di, hi, wi = dd - before[0], hh - before[1], (j * chunk + q) * stride + p - before[2]
            if 0 <= di < d and 0 <= hi < h and 0 <= wi < w:
                want[a, j, dd, hh, cc, p, q] = x[a, cc, di, hi, wi]
        assert np.array_equal(xb, want), f"x {x.shape}, padding before {before}, chunk {chunk}, q {q_}"


@pytest.mark.parametrize("first, last", [(0, None), (1, -1)])
def test_the_blocks_plane_rewrite_is_the_padded_input_in_phases(first, last):
    """Every element of the plane layout's rewrite (each channel's padded volume in its stride
    phases along every axis, strides 1 to 3) is the zero-padded input at its position, over
    stale values left in the buffer; channels outside the range asked for are not touched."""
    rng = np.random.default_rng(5)
    for _ in range(80):
        n, c, d, h, w = (int(v) for v in rng.integers(1, [3, 4, 4, 9, 12]))
        stride = tuple(int(v) for v in rng.integers(1, 4, 3))
        before = tuple(int(v) for v in rng.integers(0, 3, 3))
        after = rng.integers(0, 3, 3)
        grid = tuple(-(-(size + b + a) // s) for size, b, a, s in zip((d, h, w), before, after, stride))
        x = rng.standard_normal((n, c, d, h, w)).astype(np.float32)
        phases = (n * c,) + stride + grid
        xb = np.full(math.prod(phases), np.nan, np.float32)
        items = n * c
        lo, hi = first, items + last if last is not None else items
        _blocked._fill_planes(x, stride, grid, before, xb, lo, hi)
        padded = np.zeros((n * c,) + tuple(g * s for g, s in zip(grid, stride)), np.float32)
        padded[:, before[0]:before[0] + d, before[1]:before[1] + h, before[2]:before[2] + w] = x.reshape(n * c, d, h, w)
        want = np.full(phases, np.nan, np.float32)
        for ph in np.ndindex(*stride):
            want[(slice(lo, hi),) + ph] = padded[lo:hi, ph[0]::stride[0], ph[1]::stride[1], ph[2]::stride[2]]
        assert np.array_equal(xb.reshape(phases), want, equal_nan=True), \
            f"x {x.shape}, stride {stride}, before {before}, grid {grid}, channels {lo} to {hi}"


def test_a_plane_pass_is_cut_into_lines_for_the_threads():
    """An image's plane pass is cut into lines of whole blocks, at most CHUNK outputs long, and
    into at least half of PLANE_LINES of them where it has blocks enough: a 7x7 layer's pass
    (61 outputs on the grid, two blocks of 32) in two lines, not one that two threads cannot
    split."""
    for width in (16, 32):
        for depth in (1, 2, 5):
            for flat in range(1, 3000, 7):
                chunk = _blocked._plane_chunk(flat, depth, width)
                lines, blocks = depth * -(-flat // chunk), depth * -(-flat // width)
                assert chunk % width == 0 and chunk <= max(_blocked.CHUNK, width)
                assert lines >= min(_blocked.PLANE_LINES // 2, blocks), (flat, depth, width, chunk)
    assert -(-61 // _blocked._plane_chunk(61, 1, 32)) == 2


def test_blocks_take_planes_where_their_grid_computes_less():
    """7x7 outputs run on planes; a kernel as wide as its input (rows of one output, on a grid
    40 wide) stays on lines, where the estimate counts 8 outputs a row, not 40; rows that end
    part way into a vector run on planes where the grid computes fewer outputs, and 1-D layers
    and the stem (whose grid computes more) on lines."""
    for lanes in _blocked.VECTOR_LANES:
        assert _blocked._on_planes((1, 512, 7, 7), (512, 512, 3, 3), (1, 512, 7, 7), (1, 1), ((1, 1), (1, 1)), (1, 1),
                                   lanes)
        assert _blocked._on_planes((1, 512, 14, 14), (512, 512, 3, 3), (1, 512, 7, 7), (2, 2), ((1, 1), (1, 1)),
                                   (1, 1), lanes)
        wide = ((2, 1, 12, 40), (5, 1, 3, 40), (2, 5, 10, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), lanes)
        assert not _blocked._on_planes(*wide)
        assert _blocked.work(*wide)[1] == 2 * 5 * 10 * lanes
    # 14x14 rows fill most of a vector of 16 (planes there), not one of 8 (lines)
    fourteen = ((1, 256, 14, 14), (256, 256, 3, 3), (1, 256, 14, 14), (1, 1), ((1, 1), (1, 1)), (1, 1))
    assert _blocked._on_planes(*fourteen, 16) and not _blocked._on_planes(*fourteen, 8)
    # rows of 56: 64 outputs in vectors of 16, 58 on the grid (planes); 56 in vectors of 8 (lines)
    fifty_six = ((1, 64, 56, 56), (64, 64, 3, 3), (1, 64, 56, 56), (1, 1), ((1, 1), (1, 1)), (1, 1))
    assert _blocked._on_planes(*fifty_six, 16) and not _blocked._on_planes(*fifty_six, 8)
    assert _blocked.work(*fifty_six, 16)[1] == 64 * -(-(55 * 58 + 56) // 16) * 16
    assert _blocked.work(*fifty_six, 8)[1] == 64 * 56 * 56
    stem = ((1, 3, 224, 224), (64, 3, 7, 7), (1, 64, 112, 112), (2, 2), ((3, 3), (3, 3)), (1, 1))
    one_d = ((1, 64, 1000), (64, 64, 3), (1, 64, 1000), (1,), ((1, 1),), (1,))
    for lanes in _blocked.VECTOR_LANES:
        assert not _blocked._on_planes(*stem, lanes) and not _blocked._on_planes(*one_d, lanes)


COLUMNS = [  # one image, outputs whole vectors and one more, the reduction whole vectors
    ((1, 32, 7, 7), 13, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),  # 49 outputs, blocks and a part
    ((1, 64, 7, 7), 20, (1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1)),  # 1x1: the input is the columns
    ((1, 48, 14, 14), 7, (1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1)),  # 1x1 at stride 2: picked
    ((1, 32, 13, 13), 6, (1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1)),  # picked up to the last position
    ((1, 16, 9, 9), 5, (1, 1), (2, 2), ((0, 0), (0, 0)), (1, 1)),  # picked: 25 = 3 x 8 + 1
    ((1, 16, 2, 13, 19), 5, (1, 1, 1), (2, 2, 3), ((0, 0), (0, 0), (0, 0)), (1, 1, 1)),  # picked in depth
    ((1, 1040, 7, 7), 9, (1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1)),  # slices of the reduction
    ((1, 16, 3, 7, 7), 5, (3, 3, 3), (1, 1, 1), ((0, 0), (1, 1), (1, 1)), (1, 1, 1)),  # depth slices
    ((1, 16, 1, 19), 6, (1, 3), (1, 1), ((0, 0), (0, 0)), (1, 1)),  # 17 outputs
    ((1, 16, 5, 5), 7, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),  # 25 = 3 x 8 + 1
    ((1, 8, 7, 7), 4, (3, 3), (2, 2), ((1, 1), (1, 1)), (2, 2)),  # 9 = 8 + 1, dilated, strided
]


@pytest.mark.parametrize("lanes", _blocked.VECTOR_LANES)
@pytest.mark.parametrize("case", COLUMNS, ids=lambda c: f"x{c[0]}o{c[1]}k{c[2]}s{c[3]}")
def test_layers_on_columns_are_the_sum(monkeypatch, request, case, lanes):
    """Layers on columns (every case the layout takes at that vector length), whole and split
    over threads, from inputs in any memory layout: the outputs in vectors and the last one
    along the reduction, each within a few roundings of the float64 sums."""
    shape, c_out, kernel, stride, padding, dilation = case
    out = (1, c_out) + tuple((n + a + b - d * (k - 1) - 1) // s + 1
                             for n, (a, b), d, k, s in zip(shape[2:], padding, dilation, kernel, stride))
    if not _blocked_columns.applies(shape, (c_out, shape[1]) + kernel, out, lanes):
        pytest.skip(f"not on columns in vectors of {lanes}")
    monkeypatch.setattr(_blocked, "_on_columns", lambda x_shape, w_shape, out, lanes: True)
    monkeypatch.setattr(_blocked, "LANES", lanes)
    _blocks_are_the_sum(monkeypatch, request, case)


def _shares_are_the_sum(monkeypatch, request, case, threads, shares):
    """:func:`_blocks_are_the_sum` in vectors of 16 with ``threads`` threads, every pass split at
    once: ``(parts, unit)``, the share counts of the passes of the kernel ``shares`` (one entry
    a split pass) and the channels of whole vectors of k of the case."""
    monkeypatch.setattr(_threads, "threads_here", lambda: threads)
    monkeypatch.setattr(_blocked, "threads_here", lambda: threads)
    monkeypatch.setattr(_threads, "_handoffs", {threads: 0.0})
    monkeypatch.setattr(_blocked, "LANES", 16)
    parts = []
    run = _threads._run
    monkeypatch.setattr(_threads, "_run", lambda kernel, args, count, n: (
        kernel is shares and parts.append(count), run(kernel, args, count, n)))
    _blocks_are_the_sum(monkeypatch, request, case)
    return parts, 16 // math.gcd(math.prod(case[2]), 16)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("case", [
    COLUMNS[0],  # 32 channels: two shares, or one pass whole for three threads
    ((1, 64, 7, 7), 13, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),  # shares of 16 and 32 channels
    ((1, 48, 14, 14), 7, (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1)),  # stride 2: the planes in phases
    ((1, 32, 3, 7, 7), 5, (3, 3, 3), (1, 1, 1), ((0, 0), (1, 1), (1, 1)), (1, 1, 1)),  # 27 taps a channel
    COLUMNS[1], COLUMNS[3]], ids=lambda c: f"x{c[0]}k{c[2]}s{c[3]}")  # 1x1: blocks of output channels
def test_layers_on_columns_split_by_input_channels_are_the_sum(monkeypatch, request, case, threads):
    """On several threads a layer whose columns are built is cut into shares of its input
    channels (whole vectors of k each), each rewritten, built and summed by one thread, the
    shares' sums added: every share's part is in the result, whichever thread ran it; a layer
    of fewer channels than shares runs whole, and a 1x1 layer by blocks of output channels."""
    monkeypatch.setattr(_blocked, "_on_columns", lambda x_shape, w_shape, out, lanes: True)
    parts, unit = _shares_are_the_sum(monkeypatch, request, case, threads, _blocked_columns._channel_parts)
    if _blocked_columns.picked((case[1], case[0][1]) + case[2], case[4]):
        assert not parts, "a 1x1 layer's input is its columns: blocks of output channels, no sums to add"
    elif case[0][1] >= threads * unit:
        assert parts and set(parts) == {threads}, "the input channels in a share per thread"
    else:
        assert not parts, "fewer channels than shares: one pass, whole"


def test_one_image_of_7x7_outputs_runs_on_columns():
    """One image of 7x7 outputs (1x1 layers too) runs on columns in vectors of 16, computing
    49 outputs a channel; not in vectors of 8 (49 is 6 x 8 + 1), not a batch, not 14x14, not a
    reduction that is not whole vectors; and ``auto`` estimates a GEMM of 49 columns at the
    calibration's narrow rate."""
    seven = ((1, 512, 7, 7), (512, 512, 3, 3), (1, 512, 7, 7), (1, 1), ((1, 1), (1, 1)), (1, 1))
    assert _blocked._on_columns(seven[0], seven[1], seven[2], 16)
    assert _blocked.work(*seven, 16) == (4608 * 4 * 49, 512 * 49)
    assert not _blocked._on_columns(seven[0], seven[1], seven[2], 8)
    assert not _blocked._on_columns((2, 512, 7, 7), (512, 512, 3, 3), (2, 512, 7, 7), 16)
    assert not _blocked._on_columns((1, 256, 14, 14), (256, 256, 3, 3), (1, 256, 14, 14), 16)
    assert not _blocked._on_columns((1, 3, 7, 7), (64, 3, 3, 3), (1, 64, 7, 7), 16)  # 27 k
    one = ((1, 2048, 7, 7), (512, 2048, 1, 1), (1, 512, 7, 7), (1, 1), ((0, 0), (0, 0)), (1, 1))
    assert _blocked.work(*one, 16) == (0, 512 * 49)  # the input is its columns
    assert _blocked.applies(one[0], one[1], np.float32, 1, one[2]) == (_blocked.LANES == 16)
    assert not _blocked.applies((2, 2048, 7, 7), (512, 2048, 1, 1), np.float32, 1, (2, 512, 7, 7))
    import unittest.mock

    def estimates(x_shape, narrow_rate):
        rates = {**_calibration.DEFAULTS, "gemm_narrow_macs_per_s": narrow_rate}
        with unittest.mock.patch.object(auto, "rates", lambda: rates):
            return auto._layer_estimates(x_shape, one[1], (x_shape[0],) + one[2][1:], (1, 1), ((0, 0), (0, 0)),
                                         (1, 1), 1, 4)["im2col"]

    assert estimates(one[0], 1.0) > 1e6 > estimates(one[0], 1e10)  # 49 columns: the narrow rate
    assert estimates((2,) + one[0][1:], 1.0) == estimates((2,) + one[0][1:], 1e10) < 1  # 98: the other


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("case", [
    ((1, 120, 9, 9), 100, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),  # full panels and a part, 1080 k
    ((1, 64, 14, 13), 50, (3, 3), (2, 2), ((1, 1), (1, 0)), (1, 1)),  # stride 2: lines on the grid
    ((1, 32, 4, 6, 6), 20, (3, 3, 3), (1, 1, 1), ((1, 1), (1, 1), (1, 1)), (1, 1, 1)),  # 27 taps a channel
    ((2, 64, 7, 7), 30, (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1))], ids=lambda c: f"x{c[0]}k{c[2]}s{c[3]}")
def test_channel_lanes_split_by_input_channels_are_the_sum(monkeypatch, request, case, threads):
    """With output channels in the lanes, one image on several threads is cut into shares of its
    input channels (whole vectors of k each), each rewritten and summed by one thread, the
    shares' sums added before the copy out; fewer channels than shares, or a batch, run as
    before (items of output channels by lines)."""
    monkeypatch.setattr(_blocked, "_on_channels", lambda x_shape, w_shape, lanes: True)
    monkeypatch.setattr(_blocked, "_on_columns", lambda x_shape, w_shape, out, lanes: False)
    parts, unit = _shares_are_the_sum(monkeypatch, request, case, threads, _blocked_channels._channel_parts)
    if case[0][0] == 1 and case[0][1] >= threads * unit:
        assert parts and set(parts) == {threads}, "the input channels in a share per thread"
    else:
        assert not parts, "a batch, or fewer channels than shares: items of output channels"


def test_blocks_put_many_output_channels_in_the_lanes():
    """ResNet-50's 3x3 layers of 128 output channels and more, and video's 3x3x3 ones, run with
    output channels in the lanes of vectors of 16, where that computes no output it drops (49
    of 49 on 7x7); 64 output channels (one full panel and a vector), 1-D layers and vectors of
    8 keep the other layouts."""
    seven = ((1, 512, 7, 7), (512, 512, 3, 3), (1, 512, 7, 7), (1, 1), ((1, 1), (1, 1)), (1, 1))
    assert _blocked._on_channels(seven[0], seven[1], 16) and not _blocked._on_channels(seven[0], seven[1], 8)
    assert _blocked.work(*seven, 16)[1] == 512 * 49
    assert _blocked.work(*seven, 8)[1] == 512 * -(-(6 * 9 + 7) // 8) * 8  # on the planes' grid
    assert _blocked._on_channels((1, 128, 56, 56), (128, 128, 3, 3), 16)
    assert _blocked._on_channels((1, 256, 4, 14, 14), (256, 256, 3, 3, 3), 16)
    assert not _blocked._on_channels((1, 64, 56, 56), (64, 64, 3, 3), 16)
    assert not _blocked._on_channels((1, 3, 16, 112, 112), (64, 3, 3, 3, 3), 16)
    assert not _blocked._on_channels((1, 256, 1000), (256, 256, 3), 16)
    assert _blocked_channels.computed((2, 8, 5, 5), (100, 8, 3, 3), (2, 100, 3, 3), 16) == 2 * 112 * 9


@pytest.mark.parametrize("lanes", _blocked.VECTOR_LANES)
def test_channel_lanes_transposes_are_numpys(lanes):
    """The weights packed by panels and slices of the reduction, and the sums copied into the
    output, are NumPy's transposes: tiles in registers, the rest (channels past the last whole
    tile, zeros past the last channel, a reduction not a whole number of tiles) element by
    element."""
    rng = np.random.default_rng(lanes)
    for o, k in ((100, 1080), (7, 9), (16, 16), (48, 33), (33, 1)):
        flat = rng.standard_normal((o, k)).astype(np.float32)
        panel, panels = _blocked_channels._panels(o, lanes)
        for p in range(panels):
            width = min(panel, -(-(o - p * panel) // lanes) * lanes)
            for k0, n in ((0, k), (k // 3, k - k // 3)):
                packed = np.full(n * width + 5, np.nan, np.float32)
                _blocked_channels._pack(flat, p, k0, n, panel, lanes, packed)
                want = np.zeros((n, width), np.float32)
                rows = flat[p * panel:p * panel + width, k0:k0 + n]
                want[:, :rows.shape[0]] = rows.T
                assert np.array_equal(packed[:n * width].reshape(n, width), want), (o, k, p, k0)
                assert np.isnan(packed[n * width:]).all(), "written past the panel's slice"
        for positions in (49, 16, 5):
            yb = rng.standard_normal((2, panels, positions, panel)).astype(np.float32)
            y = np.full((2, o, positions), np.nan, np.float32)
            _blocked_channels._copy_out(yb, y, lanes, 0, 2 * panels)
            want = yb.transpose(0, 1, 3, 2).reshape(2, panels * panel, positions)[:, :o]
            assert np.array_equal(y, want), (o, positions)


def test_channel_lanes_kernel_keeps_its_sums_in_registers():
    """The widest kernel with channels in the lanes (3 vectors of 16 by 8 positions: 24 sums),
    as Numba compiles it, runs one multiply-add per sum a step (its loop is marked not to be
    unrolled; LLVM unrolled it twice) and spills no vector register."""
    import numba

    if _blocked.LANES != 16:
        pytest.skip("vectors of 16 fill 512-bit registers only on an AVX-512 host")
    line = numba.njit(nogil=True)(_blocked_channels._line.py_func)  # compiled afresh: its assembly is readable
    x, w, y = np.ones(200, np.float32), np.ones(48 * 10, np.float32), np.zeros(48 * 8, np.float32)
    line(16, 3, 8, w, x, 0, np.arange(10, dtype=np.int64), 0, y, 0, 48, 10, 8, 0)
    assert np.all(y == 10.0)
    code = line.inspect_asm(line.signatures[0])
    start = code.index("convspec_channel_block_8x3x16:")
    body = code[start:code.index(".Lfunc_end", start)].splitlines()
    assert len([text for text in body if "vfmadd" in text and "zmm" in text]) == 24, "the loop unrolled"
    assert not [text for text in body if "zmm" in text and "rsp" in text], "a vector register spilled"


def test_blocks_take_the_hosts_vector_length(monkeypatch):
    """16 floats a vector where the CPU has AVX-512, 8 elsewhere (and where Numba is told to
    compile for another CPU without its features); and a kernel of 16 lanes is compiled, for an
    AVX-512 CPU, to 512-bit instructions (zmm registers), not halves of them, and to none for an
    AVX2 one; the widest kernels spill no vector register, and read packed weights at constant
    offsets."""
    import numba

    assert _blocked.host_lanes("+avx,+avx2,+fma,-avx512f") == 8
    assert _blocked.host_lanes("+avx2,+avx512f,+avx512vl") == 16
    monkeypatch.setattr(numba.config, "CPU_NAME", "generic")
    monkeypatch.setattr(numba.config, "CPU_FEATURES", None)
    assert _blocked.host_lanes() == 8
    monkeypatch.setattr(numba.config, "CPU_NAME", "skylake-avx512")
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+avx2,+avx512f")
    assert _blocked.host_lanes() == 16
    assert _blocked.LANES in _blocked.VECTOR_LANES
    from llvmlite import binding, ir

    binding.initialize_native_target()
    binding.initialize_native_asmprinter()
    if not binding.get_process_triple().startswith("x86_64"):
        pytest.skip("x86 code generation")

    def assembly(lanes, cpu):
        module = ir.Module(name="kernel")
        _blocked._kernel_ir(module, _blocked.ROWS[lanes], 2, lanes, True)
        parsed = binding.parse_assembly(str(module))
        target = binding.Target.from_triple(binding.get_process_triple())
        return target.create_target_machine(cpu=cpu, opt=3).emit_assembly(parsed)

    wide = assembly(16, "skylake-avx512")
    assert "vfmadd" in wide and "zmm" in wide and "ymm" not in wide
    assert "vmovntps\t%zmm" in wide and "vmovntps\t%ymm" in assembly(8, "haswell"), "no streaming stores"
    assert "zmm" not in assembly(16, "haswell") and "ymm" in assembly(8, "haswell")
    # the widest kernels (ROWS[lanes] output channels) keep every vector in a register
    for lanes, cpu, register in ((16, "skylake-avx512", "zmm"), (8, "haswell", "ymm")):
        code = assembly(lanes, cpu).splitlines()
        assert not [line for line in code if register in line and "rsp" in line], "a vector register spilled"
        assert [line for line in code if "vbroadcastss\t4(%" in line], "weights not read at constant offsets"


@pytest.mark.parametrize("shape, kernel, stride", [
    ((1, 3, 5, 8), (1, 2), (1, 2)),  # on planes, the output's rows fill the phases' grid
    ((2, 3, 4, 6, 6), (1, 1, 3), (1, 1, 3)),
    ((1, 2, 9, 40), (3, 3), (1, 1)),  # lines
])
def test_blocks_results_are_the_callers(shape, kernel, stride):
    """A result is never a view of the blocks' work arrays: a later call on new data of the
    same shapes leaves it as it was (where a plane's output rows filled its grid exactly, the
    copy out of the work array was skipped and the next call overwrote the first result)."""
    rng = np.random.default_rng(3)
    x1, x2 = (rng.standard_normal(shape).astype(np.float32) for _ in range(2))
    w = rng.standard_normal((4, shape[1]) + kernel).astype(np.float32)
    kw = dict(stride=stride, padding=((0, 0),) * len(kernel), dilation=(1,) * len(kernel))
    y1 = _blocked.conv(x1, w, **kw)
    kept = y1.copy()
    y2 = _blocked.conv(x2, w, **kw)
    assert np.array_equal(y1, kept), "a later call changed an earlier result"
    assert not np.shares_memory(y1, y2)


def _aligned(shape, fill):
    """A float32 array of ``shape`` full of ``fill``, its data aligned to 64 bytes."""
    raw = np.empty(math.prod(shape) + 16, dtype=np.float32)
    skip = (-raw.ctypes.data % 64) // 4
    a = raw[skip:skip + math.prod(shape)].reshape(shape)
    a[...] = fill
    return a


@pytest.mark.parametrize("lanes", _blocked.VECTOR_LANES)
@pytest.mark.parametrize("packed, stream", [(False, False), (True, False), (True, True)])
@pytest.mark.parametrize("slices", [False, True])
@pytest.mark.parametrize("width", [1, 7, 8, 9, 16, 19, 23, 32, 33, 47, 64])
def test_blocks_store_no_output_beyond_a_line(width, slices, packed, stream, lanes):
    """The last vector of a line is stored masked: the outputs after the line's end (the next
    line's, or past the array: here sentinels) are never written, whatever its length; in
    slices of the reduction (the second adds to the first's sums, read back masked) too; and
    streamed past the caches (where the rows are a multiple of the vector long, every store is
    aligned and streamed; elsewhere the kernel falls back to cached stores)."""
    rng = np.random.default_rng(width)
    x = np.zeros(width + 4 * lanes, dtype=np.float32)
    x[:width + 1] = rng.standard_normal(width + 1)
    w = rng.standard_normal((3, 1, 2)).astype(np.float32)  # 3 output channels, 2 taps
    one = np.zeros(1, dtype=np.int64)
    cut = 1 if slices else _blocked.WHOLE
    want = w[:, 0, 0, None] * x[None, :width] + w[:, 0, 1, None] * x[None, 1:width + 1]
    for panel in (2, _blocked.ROWS[lanes]):  # a full panel and the rest, or the rest alone
        y = _aligned((3, width + 2 * lanes), 7.0)
        weights = _blocked.pack(w, panel) if packed else w.reshape(-1)
        _blocked._blocks(weights, packed, x, np.arange(2, dtype=np.int64), y.reshape(-1), one, one,
                         np.array([width], dtype=np.int64), 3, y.shape[1], cut, cut, lanes, panel, stream, 0, 1)
        assert np.allclose(y[:, :width], want, rtol=1e-6, atol=1e-6)
        assert np.all(y[:, width:] == 7.0), "outputs past the line's end were written"


def test_auto_runs_a_layer_in_blocks_where_that_is_cheapest(monkeypatch):
    """With rates that make the blocks the cheapest estimate, ``auto`` picks them, runs them
    again ready, and the result is the layer's (bias included)."""
    monkeypatch.setattr(auto, "_plans", {})
    monkeypatch.setattr(auto, "_ready", {})
    measured = auto.rates()
    monkeypatch.setattr(auto, "rates", lambda: {**measured, "blocked_macs_per_s": 1e15, "gemm_macs_per_s": 1e6})
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((1, 3, 12, 30), (5, 3, 3, 3), (5,)))
    kw = dict(stride=(1, 2), padding=((1, 1), (0, 2)), dilation=(1, 1), groups=1)
    want = reference.conv(x.astype(np.float64), w.astype(np.float64), bias=b.astype(np.float64), **kw)
    for call in range(2):
        got = auto.conv(x, w, bias=b, **kw)
        assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max(), f"call {call + 1}"
    assert list(auto._plans.values()) == ["blocked"]
    # the same layer in another form (an ndarray subclass: never ready) goes to the planned
    # algorithm, which validates it itself
    sub = x.view(type("Subclass", (np.ndarray,), {}))
    got = auto.conv(sub, w, bias=b, **kw)
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    with pytest.raises((TypeError, ValueError), match="stride"):
        auto.conv(sub, w, bias=b, **{**kw, "stride": (1.0, 2)})  # equal to the planned key


def test_auto_times_the_blocks_against_the_others_with_a_bias(monkeypatch):
    """Every layer timed (as layers estimated above MEASURE_ABOVE are): each candidate runs with
    the call's bias, and the winner's result is the layer's."""
    monkeypatch.setattr(auto, "_plans", {})
    monkeypatch.setattr(auto, "_ready", {})
    monkeypatch.setattr(auto, "MEASURE_ABOVE", 0.0)
    monkeypatch.setattr(auto, "SHORTLIST", float("inf"))
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 9, 11), (7, 4, 3, 3), (7,)))
    kw = dict(stride=(1, 1), padding=((1, 1), (1, 1)), dilation=(1, 1), groups=1)
    want = reference.conv(x.astype(np.float64), w.astype(np.float64), bias=b.astype(np.float64), **kw)
    got = auto.conv(x, w, bias=b, **kw)
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    assert "blocked" in auto._layer_estimates(x.shape, w.shape, want.shape, (1, 1), kw["padding"], (1, 1), 1, 4)


def test_a_pass_estimated_long_is_split_without_trials(monkeypatch):
    """A pass its caller estimates at SPLIT_ALWAYS_HANDOFFS hand-offs or more (as measured on
    this machine) is split from its first run, and no trial is kept for it; a shorter one still
    starts whole (ORDER's first run).  The hand-off is measured once per thread count, by 24
    split runs of an empty kernel (no bound on its value: no test asserts a time)."""
    import math

    import numba

    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)
    monkeypatch.setattr(_threads, "usable_cpus", lambda: 2)
    monkeypatch.setattr(_threads, "THREADED_ELEMENTS", 0)
    monkeypatch.setattr(_threads, "_trials", {})
    monkeypatch.setattr(_threads, "_split", {})
    monkeypatch.setattr(_threads, "_handoffs", {})
    runs, run = [], _threads._run
    monkeypatch.setattr(_threads, "_run", lambda kernel, args, count, threads: (runs.append(threads),
                                                                                run(kernel, args, count, threads)))
    handoff = _threads.handoff_seconds(2)
    assert math.isfinite(handoff) and handoff >= 0 and runs == [2] * 24
    assert _threads.handoff_seconds(2) == handoff and len(runs) == 24  # kept, not measured again
    monkeypatch.setattr(_threads, "_handoffs", {2: 1e-4})  # the rest does not hang on the machine's noise
    long = _threads.SPLIT_ALWAYS_HANDOFFS * 1e-4
    seen = []
    kernel = lambda first, last: seen.append((first, last))  # noqa: E731
    for _ in range(3):
        _threads.in_threads(kernel, 4, 10**6, seconds=long)
    assert sorted(seen) == sorted([(0, 1), (1, 2), (2, 3), (3, 4)] * 3) and not _threads._trials and not _threads._split
    seen.clear()
    _threads.in_threads(kernel, 4, 10**6, seconds=long / 2)
    assert seen == [(0, 4)], "a short pass starts its trials whole"


def test_a_split_pass_leaves_a_late_threads_pieces_to_the_others():
    """A split pass's pieces go to whichever thread is free: with the pool's thread held up
    (its core busy elsewhere) until every piece has run, the calling thread runs them all, each
    once, and the late thread finds none left (cut in two halves, the pass waited for it)."""
    import threading

    pool = _threads._pool(1, 1)
    release = threading.Event()
    held = pool.submit(release.wait, 5.0)
    seen = []
    pieces = 2 * _threads.PIECES_PER_THREAD

    def kernel(first, last):
        seen.append((threading.get_ident(), first, last))
        if len(seen) == pieces:
            release.set()

    _threads._run(kernel, (), 100, 2)
    assert held.result(), "the held thread was released by the last piece, not by its timeout"
    assert {thread for thread, _, _ in seen} == {threading.get_ident()}, "a piece waited for the late thread"
    assert sorted((first, last) for _, first, last in seen) == [(100 * i // pieces, 100 * (i + 1) // pieces)
                                                                for i in range(pieces)]


@pytest.mark.skipif(_threads._getcpu is None or len(os.sched_getaffinity(0)) < 2,
                    reason="thread affinity is set on Linux, with two CPUs or more")
def test_a_split_pass_keeps_the_pool_threads_off_the_callers_cpu(monkeypatch):
    """After a split pass, the pool's threads may run on every CPU of the process but the one the
    calling thread ran on when it handed the pieces out (woken there, they took turns with it);
    with a single CPU to run on, nothing is set."""
    monkeypatch.setattr(_threads, "_apart", {})
    _threads._run(lambda first, last: None, (), 8, 2)
    _threads._run(lambda first, last: None, (), 8, 2)  # the first started the thread; this one sets it
    ids = _threads._workers[1]
    cpu, threads = _threads._apart[1]
    assert threads == len(ids) >= 1
    for tid in ids:
        assert os.sched_getaffinity(tid) == os.sched_getaffinity(0) - {cpu}
    monkeypatch.setattr(_threads, "_apart", {})
    set_to = []
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {_threads._getcpu()})
    monkeypatch.setattr(_threads.os, "sched_setaffinity", lambda pid, cpus: set_to.append(cpus))
    _threads._keep_apart(1)
    assert not set_to, "one CPU: the threads were left where they may run"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("window", [2, 4])
@pytest.mark.parametrize("width", [4, 5, 7, 33, 400])
def test_rows_max_pool_is_the_windows_max(dtype, window, width):
    """``auto``'s 1-D max pool of windows that tile the row (stride = window, 2 or 4 taps) is
    each window's max, NaN wherever a window holds one (at any tap), inputs past the last
    window dropped, from any memory layout; in ceil mode its last partial window too."""
    rng = np.random.default_rng(width * window)
    x = rng.standard_normal((2, 3, width)).astype(dtype)
    x[0, 1, rng.integers(0, width, 3)] = np.nan
    x[1, 2, rng.integers(0, width, 2)] = np.inf
    x[1, 0, rng.integers(0, width, 2)] = -np.inf
    for xs in (x, np.asfortranarray(x), x[:, ::-1, :]):
        for ceil in (False, True):
            kw = dict(window=(window,), stride=(window,), padding=((0, 0),), ceil_mode=ceil, dilation=(1,))
            want = reference.max_pool(xs, **kw)
            got = auto.max_pool(xs, **kw)
            assert got.shape == want.shape and got.dtype == dtype
            assert np.array_equal(got, want.astype(dtype), equal_nan=True), f"ceil_mode={ceil}"


@pytest.mark.parametrize("stride", [1, 2])
def test_winograd_by_image_blocks_is_the_whole_batch(monkeypatch, stride):
    monkeypatch.setattr(winograd, "F43_MIN_TILES", 1)  # F(4x4, 3x3) on a whole batch and on each image
    monkeypatch.setattr(winograd, "BATCH_BLOCK_ELEMENTS", 1)
    monkeypatch.setattr(winograd, "BATCH_BLOCK_TILES", 1)  # one image per block
    rng = np.random.default_rng(stride)
    x, w = rng.standard_normal((5, 6, 13, 12)).astype(np.float32), rng.standard_normal((7, 6, 3, 3)).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    kw = dict(stride=(stride,) * 2, padding=((1, 0), (1, 1)), dilation=(1, 1), groups=1)
    blocks = winograd.conv_by_image_blocks(x, w, bias=b, **kw)
    assert np.array_equal(blocks, winograd.conv(x, w, bias=b, **kw)), "each image's tiles are the whole batch's"
    exact = reference.conv(x.astype(np.float64), w.astype(np.float64), bias=b.astype(np.float64), **kw)
    assert np.abs(blocks - exact).max() <= 1e-5 * np.abs(exact).max()


@pytest.mark.parametrize("algorithm", ["f23", "f43"])
@pytest.mark.parametrize(("shape", "c_out", "padding"), [
    ((1, 3, 9, 9), 4, ((1, 1), (1, 1))), ((2, 5, 14, 14), 6, ((1, 1), (1, 1))), ((1, 2, 7, 11), 3, ((1, 1), (1, 1))),
    ((1, 4, 10, 13), 2, ((0, 0), (0, 0))), ((1, 1, 4, 4), 1, ((1, 1), (1, 1))), ((1, 2, 5, 6), 2, ((0, 2), (1, 0))),
    ((2, 3, 3, 3), 2, ((2, 2), (2, 2)))])
def test_each_stride_one_winograd_algorithm_is_the_sum(monkeypatch, algorithm, shape, c_out, padding):
    """F(2x2, 3x3) and F(4x4, 3x3), each forced, with outputs that fill the last tile or not."""
    monkeypatch.setattr(winograd, "algorithm", lambda stride, out, n, c: algorithm if stride[0] == 1 else "s2")
    rng = np.random.default_rng(c_out)
    x, w, b = rng.standard_normal(shape), rng.standard_normal((c_out, shape[1], 3, 3)), rng.standard_normal(c_out)
    kw = dict(stride=(1, 1), padding=padding, dilation=(1, 1), groups=1)
    got, want = winograd.conv(x, w, bias=b, **kw), reference.conv(x, w, bias=b, **kw)
    assert got.shape == want.shape and np.allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("algorithm", ["f23", "f43"])
@pytest.mark.parametrize(("shape", "c_out", "k", "padding"), [
    ((1, 3, 5, 9, 9), 4, 3, ((1, 1), (1, 1), (1, 1))), ((2, 2, 4, 7, 11), 3, 3, ((0, 2), (1, 0), (1, 1))),
    ((1, 2, 3, 6, 6), 2, 1, ((0, 0), (1, 1), (1, 1))), ((1, 2, 6, 5, 5), 3, 2, ((1, 0), (0, 0), (2, 2)))])
def test_volumes_by_winograd_slices_are_the_sum(monkeypatch, algorithm, shape, c_out, k, padding):
    """A k x 3 x 3 layer on volumes: each depth slice transformed once, the depth taps summed by
    the GEMMs; batches, asymmetric padding in every axis, depth kernels of 1, 2 and 3."""
    monkeypatch.setattr(winograd, "algorithm", lambda stride, out, n, c: algorithm)
    rng = np.random.default_rng(k * c_out)
    x, w, b = rng.standard_normal(shape), rng.standard_normal((c_out, shape[1], k, 3, 3)), rng.standard_normal(c_out)
    kw = dict(stride=(1, 1, 1), padding=padding, dilation=(1, 1, 1), groups=1)
    got, want = winograd.conv(x, w, bias=b, **kw), reference.conv(x, w, bias=b, **kw)
    assert got.shape == want.shape and np.allclose(got, want, rtol=1e-12, atol=1e-12)
    assert winograd.applies(shape, w.shape, (1, 1, 1), (1, 1, 1), 1)
    assert not winograd.applies(shape, w.shape, (1, 2, 2), (1, 1, 1), 1)  # strided volumes: im2col


@pytest.mark.parametrize(("lanes", "shape", "c_out", "k"), [
    (16, (1, 16, 14, 14), 13, None), (16, (1, 32, 13, 14), 7, None), (8, (1, 8, 10, 10), 5, None),
    (8, (1, 16, 9, 10), 4, None), (16, (1, 16, 3, 14, 14), 9, 3), (8, (1, 8, 3, 10, 9), 3, 2)])
def test_winograd_products_on_columns_are_the_sum(monkeypatch, lanes, shape, c_out, k):
    """One image of F(2x2, 3x3) tiles whose count is whole vectors and one more (49 in vectors
    of 16, 25 in vectors of 8; rows of output channels in blocks and a part), in 2-D and on
    volumes (``k x 3 x 3``, the depth taps in the reduction), runs its products on columns:
    within a few roundings of the float64 sums, and of NumPy's matmul of the same planes."""
    monkeypatch.setattr(_blocked, "LANES", lanes)
    monkeypatch.setattr(winograd, "algorithm", lambda stride, out, n, c: "f23")
    rng = np.random.default_rng(c_out)
    x = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal((c_out, shape[1]) + ((k,) if k else ()) + (3, 3)).astype(np.float32)
    depth = ((0, 0),) if k else ()
    kw = dict(stride=(1,) * (x.ndim - 2), padding=depth + ((1, 1), (1, 1)), dilation=(1,) * (x.ndim - 2), groups=1)
    tiles = -(-shape[-2] // 2) * -(-shape[-1] // 2)
    assert _blocked_columns.fits(shape[1] * (k or 1), tiles, lanes)
    calls = []
    products = _blocked_columns.products
    monkeypatch.setattr(_blocked_columns, "products", lambda *a: (calls.append(a[3]), products(*a)))
    got = winograd.conv(x, w, **kw)
    assert calls == [lanes] * (shape[2] - k + 1 if k else 1)  # a pass per output depth slice
    exact = reference.conv(x.astype(np.float64), w.astype(np.float64), **kw)
    assert np.abs(got - exact).max() <= 1e-5 * np.abs(exact).max()
    monkeypatch.setattr(_blocked_columns, "fits", lambda *a: False)
    assert np.allclose(got, winograd.conv(x, w, **kw), rtol=1e-5, atol=1e-5 * np.abs(exact).max())


#: Each algorithm's G (one axis), by planes: F(2x2, 3x3), F(4x4, 3x3) and the stride-2 variant.
WINOGRAD_G = {
    16: [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
    36: [[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6], [1 / 24, 1 / 12, 1 / 6],
         [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]],
    25: [[1, 0, 0], [1, 0, 1], [0, 0, 1], [0, 1, 0], [0, 1, 0]],
}


@pytest.mark.parametrize("lanes", _blocked.VECTOR_LANES)
@pytest.mark.parametrize("planes", [16, 36, 25])
@pytest.mark.parametrize("kernels", [(1, 1), (3, 5), (4, 4), (17, 3), (5, 40)])
def test_winograd_kernels_in_tiles_are_the_kernels_one_at_a_time(planes, lanes, kernels):
    """float32 kernels transformed ``lanes`` at a time (a tile of their taps transposed in
    registers, the ninth gathered apart in vectors of 8, the last kernels one at a time) give
    the kernel-at-a-time planes bit for bit, infinities and NaN included, and write nothing past
    the last kernel; both are ``G g G^T`` of float64 arithmetic within a few roundings."""
    o, c = kernels
    rng = np.random.default_rng(planes * lanes + o * c)
    w = rng.standard_normal((o, c, 3, 3)).astype(np.float32)
    finite = w.copy()
    w.reshape(-1)[rng.permutation(w.size)[:3]] = [np.inf, -np.inf, np.nan]
    one, tiles = np.full((planes, o * c + 16), 7.0, np.float32), np.full((planes, o * c + 16), 7.0, np.float32)
    winograd._kernel_transform(w, one)
    winograd._kernel_tiles(w, tiles, lanes)
    assert np.array_equal(one, tiles, equal_nan=True)
    assert (tiles[:, o * c:] == 7.0).all(), "written past the last kernel"
    winograd._kernel_tiles(finite, tiles, lanes)
    g = np.array(WINOGRAD_G[planes])
    want = np.einsum("ai,ocij,bj->aboc", g, finite.astype(np.float64), g).reshape(planes, o * c)
    assert np.allclose(tiles[:, :o * c], want, rtol=1e-6, atol=1e-6)


def test_f43_runs_where_there_are_tiles_enough():
    assert winograd.algorithm((1, 1), (56, 56), 1, 64) == "f43"  # 196 tiles of 4x4
    assert winograd.algorithm((1, 1), (14, 14), 1, 256) == "f23"  # 16 tiles: the kernel transform would dominate
    assert winograd.algorithm((1, 1), (14, 14), 8, 256) == "f23"  # 128 tiles, fewer than the output channels
    assert winograd.algorithm((2, 2), (28, 28), 8, 128) == "s2"


@pytest.mark.parametrize("groups, padding, dilation", [(1, ((1, 1), (1, 1)), (1, 1)), (2, ((0, 2), (2, 0)), (2, 1)),
                                                        (3, ((3, 3), (0, 0)), (1, 1))])
def test_stride_one_input_gradient_is_a_forward_layer(groups, padding, dilation):
    rng = np.random.default_rng(groups)
    w = rng.standard_normal((6, 6 // groups, 3, 3))
    x_shape = (2, 6, 9, 10)
    kw = dict(stride=(1, 1), padding=padding, dilation=dilation, groups=groups)
    gy = rng.standard_normal(reference.conv(np.zeros(x_shape), w, **kw).shape)
    want = reference.conv_grad_input(gy, w, input_shape=x_shape, **kw)
    got = _algebra.grad_input_as_conv(im2col.conv, gy, w, x_shape, (1, 1), padding, dilation, groups, None)
    if any(max(a, b) > d * (3 - 1) for (a, b), d in zip(padding, dilation)):  # padded past the kernel's span
        assert got is None, "would need a negative padding, so it should decline"
    else:
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12)
    assert np.allclose(auto.conv_grad_input(gy, w, input_shape=x_shape, **kw), want, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("path", ["one task, unpadded", "padded, parallel"])
@pytest.mark.parametrize(("n", "k", "mode"), [(50, 8, "same"), (5, 8, "full"), (9, 3, "valid"), (7, 7, "same"),
                                              (30, 6, "full"), (1, 1, "same"), (40, 13, "same"), (60, 40, "same")])
def test_each_signal_kernel_is_the_sum(monkeypatch, path, n, k, mode):
    """numba's 1-D correlation, by the one-task kernel that leaves the padding out (the ends term
    by term) and by the parallel kernel on the padded copy, on both ends of every mode."""
    monkeypatch.setattr(numba_direct, "SMALL_SIGNAL_MACS", 10**9 if path.startswith("one") else 0)
    monkeypatch.setattr(numba_direct, "SMALL_SIGNAL_TAPS", 10**9)
    rng = np.random.default_rng(n * k)
    x, w = rng.standard_normal(n), rng.standard_normal(k)
    for op in ("correlate", "convolve"):
        got, want = getattr(numba_direct, op)(x, w, mode=mode), getattr(reference, op)(x, w, mode=mode)
        assert got.shape == want.shape and np.allclose(got, want, rtol=1e-12, atol=1e-12), f"{op}: {got} != {want}"


@pytest.mark.parametrize("name", ["im2col", "winograd", "winograd-blocks"])
def test_a_batch_split_over_threads_is_the_whole_batch(name):
    """auto's candidates "<algorithm> by images": three blocks of images on three threads with
    the BLAS at one thread, joined; the same numbers as the algorithm on the whole batch."""
    rng = np.random.default_rng(7)
    x, w, b = rng.standard_normal((7, 4, 10, 9)), rng.standard_normal((5, 4, 3, 3)), rng.standard_normal(5)
    kw = dict(stride=(1, 1), padding=((1, 1), (0, 2)), dilation=(1, 1), groups=1, bias=b)
    whole = auto._layer(name)(x, w, **kw)
    split = _threads.over_images(auto._layer(name), 3, x, w, **kw)
    assert np.allclose(split, whole, rtol=1e-12, atol=1e-12)
    assert np.allclose(whole, reference.conv(x, w, **kw), rtol=1e-12, atol=1e-12)
    assert auto._layer(name + auto.SPLIT)(x, w, **kw).shape == whole.shape


def test_passes_inside_a_split_are_not_split_again(monkeypatch):
    monkeypatch.setattr(_threads, "THREADED_ELEMENTS", 0)
    seen = []

    def kernel(first, last):
        seen.append((first, last))

    def fn(x):
        _threads.in_threads(kernel, 4, 10**9)
        return x

    _threads.over_images(fn, 2, np.zeros((2, 1)))
    if _threads._controller() is not None:  # split: each share runs its pass whole
        assert sorted(seen) == [(0, 4), (0, 4)]


#: (x shape, window, stride, padding, dilation, ceil mode)
POOLS = [
    ((2, 3, 11, 12), (3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), False),
    ((1, 2, 9, 10), (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1), True),
    ((1, 2, 13, 9), (3, 2), (1, 3), ((2, 0), (1, 1)), (2, 1), True),
    ((1, 3, 40), (4,), (4,), ((0, 0),), (1,), False),
    ((1, 2, 30), (3,), (2,), ((1, 2),), (3,), True),
    ((1, 2, 7, 8), (3, 3), (3, 3), ((2, 2), (1, 0)), (1, 1), True),
    ((1, 3, 8, 10, 9), (2, 2, 2), (2, 2, 2), ((0, 0),) * 3, (1, 1, 1), False),
    ((2, 2, 7, 9, 8), (3, 2, 3), (2, 3, 1), ((1, 1), (1, 0), (0, 1)), (2, 1, 1), True),
    ((1, 2, 5, 6, 6), (3, 3, 3), (3, 2, 2), ((2, 2), (1, 1), (1, 1)), (1, 1, 1), True),  # depth windows of padding only
]


@pytest.mark.parametrize("case", POOLS, ids=lambda c: f"x{c[0]}k{c[1]}s{c[2]}c{int(c[5])}")
def test_pools_by_stride_phases_are_the_definition(monkeypatch, case):
    """auto's 1-D/2-D float pools (a channel at a time in stride phases, its channels split on
    the trials' split runs, calls 2, 4 and 5) and 3-D max pools (those per depth slice): the
    max exactly (NaN in a window wins, padding never does), the mean within a few roundings,
    with and without the padding counted."""
    shape, window, stride, padding, dilation, ceil = case
    monkeypatch.setattr(_threads, "THREADED_ELEMENTS", 1)
    monkeypatch.setattr(_threads, "_trials", {})
    monkeypatch.setattr(_threads, "_split", {})
    rng = np.random.default_rng(len(shape))
    x = rng.standard_normal(shape)
    x.flat[rng.choice(x.size, 3, replace=False)] = [np.nan, np.inf, -np.inf]
    kw = dict(window=window, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil)
    want_max = reference.max_pool(x, **kw)
    for call in range(6):
        got = auto.max_pool(x, **kw)
        assert got.dtype == x.dtype and np.array_equal(got, want_max, equal_nan=True), f"call {call + 1}: max"
    for count_padding in (False, True):
        want = reference.avg_pool(x, count_padding=count_padding, **kw)
        got = auto.avg_pool(x, count_padding=count_padding, **kw)
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12, equal_nan=True), f"mean, count_padding={count_padding}"


def test_large_results_reuse_memory_only_once_nothing_refers_to_them(monkeypatch):
    """A result of at least RECYCLE_BYTES comes from the pool, aligned to 64 bytes; its memory
    goes back only when its last view is gone, and a later result of that size then reuses it;
    the pool keeps at most POOL_BYTES waiting; smaller results are fresh arrays."""
    monkeypatch.setattr(_scratch, "_pool", {})
    monkeypatch.setattr(_scratch, "RECYCLE_BYTES", 1 << 12)
    monkeypatch.setattr(_scratch, "POOL_BYTES", 3 << 14)
    small = _scratch.result((4, 8), np.float32)
    assert small.flags.owndata and small.shape == (4, 8)
    first = _scratch.result((4, 1024), np.float32)
    at = first.__array_interface__["data"][0]
    assert at % 64 == 0 and first.flags.c_contiguous and first.flags.writeable and first.dtype == np.float32
    first[...] = 1.0
    view = first[2:]
    del first
    held = _scratch.result((4, 1024), np.float32)  # the first's memory is still viewed: not given out
    assert held.__array_interface__["data"][0] != at and np.all(view == 1.0)
    held[...] = 2.0
    assert np.all(view == 1.0)
    del view
    again = _scratch.result((4, 1024), np.float32)
    assert again.__array_interface__["data"][0] == at
    other = _scratch.result((2, 1024), np.float64)  # same bytes, other dtype: the held block
    assert other.__array_interface__["data"][0] != at and other.dtype == np.float64
    blocks = [_scratch.result((1 << 12,), np.float32) for _ in range(4)]  # 16 KB each
    del blocks, again, held, other
    assert sum(b.nbytes for pooled in _scratch._pool.values() for b in pooled) <= 3 << 14
