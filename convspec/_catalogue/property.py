"""What a property is, and the context it runs in.

A property is a function ``fn(ctx)`` registered with :func:`prop`.  Its docstring states
the identity and its preconditions; the registration gives its stable name, the contract
function it is about (``op``), its concept tags and a one-line statement.  It draws what it
needs through ``ctx`` (labelled, so counterexamples read well), calls the backend through
``ctx.call`` (checked and recorded, so failures come with a reproduction) and states its
expectations with ``ctx.expect_equal`` / ``ctx.expect_within``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from convspec._contract import accuracy
from convspec._engine.backend import CallCrashed, CallTimeout, Outcome
from convspec._contract.restrictions import RESTRICTIONS, excluded
from convspec._contract.functions import DTYPES, MODES, NDIMS, arg_names, dtype_named, expected_shape  # noqa: F401
from convspec._engine.wire import Described

#: Discrete axes a property may range over; drawn by hypothesis, or fixed by pytest.
AXES = {"dtype": DTYPES, "ndim": NDIMS, "mode": MODES}


class PropertyFailure(AssertionError):
    """The backend broke the property (status ``failed``)."""


class BackendError(Exception):
    """The backend raised (status ``error``); ``raised`` describes the exception."""

    def __init__(self, message, raised=None):
        super().__init__(message)
        self.raised = raised


class BackendTimeout(BaseException):
    """A call exceeded the limit: ends the property at once (no shrinking through more hangs)."""


class Declined(BaseException):
    """The backend raised :class:`convspec.Unsupported` for this example: not evidence either way."""


class Rejected(BaseException):
    """The example does not meet the property's precondition (:meth:`Context.assume`): draw another."""


class BackendCrash(BaseException):
    """The process running the backend died or garbled its answer: ends the property at once."""


@dataclass(frozen=True)
class Property:
    name: str
    op: str
    concepts: tuple[str, ...]
    statement: str
    fn: object = field(repr=False, compare=False)
    axes: tuple[str, ...] = ("dtype",)
    requires: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()  # second functions it relates op to: the backend's, else the reference's
    only_if: str | None = None  # a capability flag the backend must declare, e.g. validates_arguments
    lifts_ndim: bool = False  # also calls the function with ndim + 1 (so ndim + 1 must be supported)
    large: bool = False  # the large-size stage: the profile's large_examples examples, not its examples
    features: tuple[str, ...] = ()  # optional contract features op must declare (convspec._contract.restrictions.FEATURES)
    added: str = "0.1.0"  # the catalogue version that added it
    changed: tuple = ()  # ((version, what changed in its meaning), ...): a catalogue pinned earlier leaves it out
    widened: tuple = ()  # (version, dtypes): more dtypes its dtype axis takes from that catalogue version on
    single: bool = False  # one example per run (it makes its many calls itself)

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip()

    @property
    def axis_values(self) -> dict[str, tuple]:
        """Each axis with the values this property ranges over: ``"ndim"`` means every value
        of :data:`AXES`, ``("ndim", (2, 3))`` only those; the dtype axis includes the dtypes it
        was widened to."""
        values = dict((a, AXES[a]) if isinstance(a, str) else (a[0], tuple(a[1])) for a in self.axes)
        if self.widened and "dtype" in values:
            values["dtype"] += tuple(d for d in self.widened[1] if d not in values["dtype"])
        return values

    def dtypes_in(self, catalogue=None) -> tuple:
        """The dtypes this property draws in catalogue version ``catalogue`` (``None``: this
        convspec's): those it was widened to join in the version that widened it."""
        dtypes = self.axis_values.get("dtype", ())
        if self.widened and catalogue is not None and _key(catalogue) < _key(self.widened[0]):
            dtypes = tuple(d for d in dtypes if d not in self.widened[1])
        return dtypes

    def allowed(self, backend, catalogue=None) -> dict[str, tuple]:
        """The axis values that apply to ``backend`` (its declaration narrows dtype and ndim), in
        catalogue version ``catalogue`` (``None``: this convspec's)."""
        caps = backend.capabilities
        declared = caps.ndims_for(self.op)
        ndims = tuple(n for n in declared if not self.lifts_ndim or n + 1 in declared)
        narrowed = {"dtype": tuple(d for d in caps.dtypes_for(self.op) if known_dtype(d)), "ndim": ndims, "mode": MODES}
        values = {**self.axis_values, **({"dtype": self.dtypes_in(catalogue)} if "dtype" in self.axis_values else {})}
        return {a: tuple(v for v in vs if v in narrowed[a]) for a, vs in values.items()}

    def _declares(self, caps) -> bool:
        if self.only_if == "narrowed":
            return caps.narrowed_for(self.op)
        if self.only_if == "restricted":
            return bool(caps.restrictions_for(self.op))
        return bool(getattr(caps, self.only_if))

    def skip_reason(self, backend, catalogue=None) -> str | None:
        missing = [op for op in (self.op,) + self.requires if op not in backend.ops]
        if missing:
            why = "; ".join(dict.fromkeys(backend.capabilities.reasons[op] for op in missing if op in backend.capabilities.reasons))
            return f"backend has no {', '.join(missing)}" + (f" ({why})" if why else "")
        caps = backend.capabilities
        if self.only_if and not self._declares(caps):
            return ONLY_IF_REASONS.get(self.only_if, f"backend does not declare {self.only_if}")
        if not all(caps.has_feature(f, self.op) for f in self.features):
            return f"backend does not declare the feature{'s' if len(self.features) > 1 else ''} {' and '.join(self.features)}"
        for axis, values in self.allowed(backend, catalogue).items():
            if not values:
                unknown = [d for d in caps.dtypes_for(self.op) if axis == "dtype" and not known_dtype(d)]
                if unknown and set(unknown) & set(self.axis_values[axis]):
                    return f"{', '.join(unknown)} needs the package ml_dtypes (pip install ml_dtypes)"
                if axis == "dtype":
                    return dtype_skip_reason(self, caps.dtypes_for(self.op), catalogue)
                return f"backend declares no supported {axis} among {self.axis_values[axis]}"
        return None


#: What each kind of data is, for skip reasons (docs/reference/catalogue.md).
DTYPE_KINDS = {"float32": "float", "float64": "float", "float16": "low-precision", "bfloat16": "low-precision",
               "int8": "integer", "uint8": "integer", "complex64": "complex", "complex128": "complex"}


def _kinds(dtypes) -> str:
    return " and ".join(dict.fromkeys(DTYPE_KINDS.get(d, d) for d in dtypes))


def dtype_skip_reason(prop, declared, catalogue=None) -> str:
    """Why ``prop`` does not apply to a function declared for ``declared`` dtypes: one of the
    documented dtype reasons (the property is about other data; or it draws them only from a
    later catalogue version than the pinned one)."""
    later = [d for d in declared if d in prop.axis_values.get("dtype", ()) and d not in prop.dtypes_in(catalogue)]
    if later:
        return (f"{prop.name} draws {', '.join(later)} data from catalogue {prop.widened[0]} on, not in the pinned "
                f"catalogue {catalogue}")
    return (f"{prop.name} is about {_kinds(prop.dtypes_in(catalogue))} data ({', '.join(prop.dtypes_in(catalogue))}); "
            f"{prop.op} declares {_kinds(declared)} data ({', '.join(declared)})")


def _key(version: str) -> tuple:
    return tuple(int(part) for part in version.split("."))


def known_dtype(name) -> bool:
    """Whether NumPy knows the dtype here (bfloat16 needs ml_dtypes, an optional package)."""
    try:
        dtype_named(name)
        return True
    except TypeError:
        return False


REGISTRY: dict[str, Property] = {}

ONLY_IF_REASONS = {
    "biases": "backend does not declare biases (the bias keyword)",
    "narrowed": "backend declares every dtype and dimension supported",
    "restricted": "backend declares no restriction for this function",
    "validates_arguments": "backend does not declare validates_arguments",
}


def prop(name, *, op, concepts, statement, axes=("dtype",), requires=(), uses=(), only_if=None, lifts_ndim=False,
         large=False, features=(), added="0.1.0", changed=(), widened=None, single=False):
    """Register ``fn`` as the property ``name`` (names are stable: tools depend on them).

    ``requires``: other contract functions the backend must have (else the property is
    skipped); ``uses``: other functions the property relates ``op`` to, taken from the backend
    when it has them and from the reference otherwise (so a backend exposing one function is
    checked as deeply as one exposing all); ``features``: optional contract features ``op``
    must declare (else skipped); ``added``: the catalogue version that added it; ``changed``:
    ``((version, what), ...)`` for each later change of its meaning (convspec._catalogue.VERSIONS);
    ``widened``: ``(version, dtypes)``, more dtypes its dtype axis takes from that version on
    (the meaning unchanged, so a run pinned earlier keeps the property and draws as before);
    only those ``op`` may declare are kept."""

    def register(fn):
        if name in REGISTRY:
            raise ValueError(f"property {name!r} registered twice")
        REGISTRY[name] = Property(name, op, tuple(concepts), statement, fn, tuple(axes), tuple(requires), tuple(uses),
                                  only_if, lifts_ndim, large, tuple(features), added, tuple(tuple(c) for c in changed),
                                  _widened(op, widened), single)
        return fn

    return register


def _widened(op, widened) -> tuple:
    if not widened:
        return ()
    from convspec._contract.functions import dtypes_of

    version, dtypes = widened
    kept = tuple(d for d in dtypes if d in dtypes_of(op))
    return (version, kept) if kept else ()


@dataclass
class Call:
    """One recorded backend call: inputs as they were before the call, and the result."""

    op: str
    args: tuple
    kwargs: dict
    layouts: tuple = ()
    result: object = None
    outcome: Outcome | None = None
    may_raise: bool = False  # made by attempt(): raising is an answer, not an error
    threaded: bool = False  # made on a worker thread, beside others (call_threaded)


def invoke_in_threads(backend, op, calls, threads, timeout=None) -> list:
    """``backend.invoke`` of each call at once, on ``threads`` worker threads of this process (the
    pytest route; the command line's executor does the same in its own process)."""
    import concurrent.futures
    import threading

    start = threading.Barrier(min(threads, len(calls)))

    def one(call):
        args, kwargs = call
        try:
            start.wait(timeout=30)
        except threading.BrokenBarrierError:
            pass
        return backend.invoke(op, args, kwargs)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, calls))


def fmt(v) -> str:
    """Numbers as plain Python floats, so messages never read ``np.float64(1.0)``."""
    if isinstance(v, (np.complexfloating, complex)):
        return repr(complex(v))
    if isinstance(v, (np.floating, float)):
        return repr(float(v))
    if isinstance(v, (np.integer, int)):
        return repr(int(v))
    return repr(v)


def _describe_kwargs(kwargs) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def describe_call(op, args, kwargs) -> str:
    """``conv(x=float32[1, 2, 5], w=float32[3, 2, 2], stride=(1,), ...)``: the call's arrays by
    dtype and shape, its keywords by value."""
    names = arg_names(op)
    parts = []
    for i, a in enumerate(args):
        label = names[i] if i < len(names) else f"arg{i}"
        if isinstance(a, np.ndarray):
            parts.append(f"{label}={a.dtype}[{', '.join(map(str, a.shape))}]")
        else:
            parts.append(f"{label}={a!r}")
    return f"{op}({', '.join(parts + ([_describe_kwargs(kwargs)] if kwargs else []))})"


#: Labels of the draws that set shapes (the profile "jit" takes them from a few fixed shapes).
SHAPE_LABELS = ("problem", "shapes")


class Context:
    """What a property sees: labelled draws, checked backend calls, and expectations."""

    def __init__(self, prop: Property, backend, data, fixed=None, call_timeout=None, deadline=None, *, shapes=0,
                 first_call_timeout=None, catalogue=None, profile=None):
        self.prop = prop
        self.shapes = shapes  # > 0: problems come from that many fixed shapes (profile "jit")
        self.first_call_timeout = first_call_timeout
        self.deadline = deadline  # time.monotonic() after which the property stops calling
        self.backend = backend
        self.data = data
        self.fixed = dict(fixed or {})
        self.call_timeout = call_timeout
        self.calls: list[Call] = []
        self._allowed = prop.allowed(backend, catalogue)
        self._axes: dict[str, object] = {}
        self._rng = None
        self.degenerate = False
        self.drawn: list[tuple[str, object]] = []  # (label, value) of every draw, in order: the example
        self.catalogue = catalogue  # the pinned catalogue version (None: this convspec's)
        self.profile = profile  # the run's profile (its sustained-call counts), or None
        self.notes: list[str] = []  # what the property did in the backend's stead (a reference function)
        self.worst: float | None = None  # the largest error / bound ratio of an accuracy check in this example


    def since(self, version: str) -> bool:
        """Whether the run's catalogue includes what version ``version`` added to this property's
        drawing (a wider drawing that keeps its meaning: a run pinned earlier draws as then)."""
        if self.catalogue is None:
            return True
        key = lambda v: tuple(int(p) for p in v.split("."))  # noqa: E731
        return key(self.catalogue) >= key(version)

    # ------------------------------------------------------------ drawing

    def draw(self, strategy, label):
        if self.shapes and label in SHAPE_LABELS:
            from convspec._catalogue.strategies import stable

            strategy = stable(strategy, self.shapes, compute=False)
        value = self.data.draw(strategy, label=label)
        self.drawn.append((label, value))
        return value

    def assume(self, condition):
        """The property's precondition: an example where ``condition`` is false is discarded
        (not evidence either way) and another is drawn."""
        if not condition:
            raise Rejected()

    def axis(self, name):
        """A discrete axis (dtype, ndim, mode): fixed by pytest, else drawn once per example."""
        if name not in self._axes:
            if name in self.fixed:
                self._axes[name] = self.fixed[name]
            else:
                self._axes[name] = self.draw(st.sampled_from(self._allowed[name]), label=name)
        return self._axes[name]

    def fix_axes(self, **values):
        """Set axes for the rest of the example (for properties that leave the declared ones)."""
        self._axes.update(values)

    @property
    def dtype(self) -> np.dtype:
        return dtype_named(self.axis("dtype"))

    @property
    def rng(self) -> np.random.Generator:
        """The example's random generator; its seed is one labelled draw, so it shrinks to 0."""
        if self._rng is None:
            self._rng = np.random.default_rng(self.draw(st.integers(0, 2**32 - 1), label="seed"))
            self._exponent = int(self._rng.integers(-3, 4))
        return self._rng

    def exact(self, shape, dtype=None) -> np.ndarray:
        """Exact-mode data (docs/explanation/accuracy.md): small integers times the example's power of two,
        sometimes sparse.  Every array of an example shares the power, so sums of them stay exact."""
        rng = self.rng
        density = 1.0 if rng.random() < 0.7 else 0.3
        return accuracy.exact_array(rng, shape, dtype or self.dtype, exponent=self._exponent, density=density)

    def integers(self, shape, dtype, *, kind=None) -> np.ndarray:
        """Integer data over ``dtype``'s range, in one of four kinds drawn per array (labelled):
        ``full`` (uniform), ``extremes`` (only the least and the greatest value: products and
        sums at their largest), ``low`` (the ten least values: a window of them is beaten by
        any padding that is not the least value) and ``sparse`` (mostly zeros)."""
        info = np.iinfo(dtype)
        kind = kind or self.draw(st.sampled_from(("full", "extremes", "low", "sparse")), label="integers")
        rng = self.rng
        if kind == "extremes":
            a = np.where(rng.random(shape) < 0.5, info.min, info.max)
        elif kind == "low":
            a = rng.integers(info.min, info.min + 10, size=shape)
        else:
            a = rng.integers(info.min, int(info.max) + 1, size=shape)
            if kind == "sparse":
                a[rng.random(shape) < 0.8] = 0
        return np.asarray(a).astype(dtype)

    def real(self, shape, dtype=None) -> np.ndarray:
        """Real-valued data spanning several magnitudes."""
        rng = self.rng
        return accuracy.real_array(rng, shape, dtype or self.dtype, scale=10.0 ** int(rng.integers(-3, 4)))

    # ------------------------------------------------------------ calling

    def _invoke(self, op, args, kwargs) -> tuple[Call, Outcome]:
        """Run one call through the backend (in this process or its executor), recorded."""
        from convspec._contract.memory_layouts import layout_of

        if self.deadline is not None and time.monotonic() > self.deadline:
            raise BackendTimeout(f"the property did not finish within its limit (stopped before {describe_call(op, args, kwargs)})")
        record = Call(op, tuple(np.array(a, copy=True) for a in args), dict(kwargs), tuple(layout_of(a) for a in args))
        self.calls.append(record)
        timeout = self.call_timeout
        if self.first_call_timeout is not None:  # a shape not seen yet may be compiling first
            signature = (op, tuple((np.shape(a), np.asarray(a).dtype.str) for a in args), describe_call(op, (), kwargs))
            seen = self.backend.__dict__.setdefault("_convspec_signatures", set())
            if signature not in seen:
                seen.add(signature)
                timeout = self.first_call_timeout
        try:
            outcome = self.backend.invoke(op, args, kwargs, timeout=timeout)
        except CallTimeout:
            first = " (its first call with these shapes, compilation included)" if timeout != self.call_timeout else ""
            raise BackendTimeout(f"{describe_call(op, args, kwargs)} took longer than the per-call limit of "
                                 f"{timeout} s{first}") from None
        except CallCrashed as e:
            raise BackendCrash(f"{describe_call(op, args, kwargs)}: {e}") from None
        record.outcome = outcome
        return record, outcome

    def has(self, op) -> bool:
        """Whether the backend provides the contract function ``op`` (and does not exclude it)."""
        return op in self.backend.ops

    def undeclared(self, op, args, kwargs) -> str | None:
        """Why the backend does not declare this call of ``op`` (its dtype, its number of spatial
        axes, a declared restriction excluding it); ``None`` if it does."""
        caps = self.backend.capabilities
        first = args[0]
        nd = first.ndim if op in ("correlate", "convolve") else first.ndim - 2
        if first.dtype.name not in caps.dtypes_for(op):
            return f"{first.dtype.name} data ({op} declares {', '.join(caps.dtypes_for(op))})"
        if nd not in caps.ndims_for(op):
            return f"{nd}-D data ({op} declares {', '.join(map(str, caps.ndims_for(op)))}-D)"
        restricted = excluded(caps.restrictions_for(op), op, args, kwargs)
        return f"a case {restricted} excludes" if restricted else None

    def other(self, op, *args, **kwargs):
        """The result of a second function the property relates its own to: the backend's
        (checked and recorded like :meth:`call`) when it has ``op`` and declares this call of
        it (:meth:`undeclared`), else the reference's in the inputs' dtype (exact on exact-mode
        data), noted in :attr:`notes`."""
        why = self.undeclared(op, args, kwargs) if self.has(op) else "absent"
        if why is None:
            return self.call(op, *args, **kwargs)
        from convspec._contract import reference

        if why != "absent":
            note = f"{op} taken from the reference for {why}"
            if note not in self.notes:
                self.notes.append(note)
        return np.asarray(getattr(reference, op)(*args, **kwargs)).astype(args[0].dtype)

    def call_threaded(self, op, calls, threads):
        """Make ``calls`` (``(args, kwargs)`` each) at once from ``threads`` worker threads, as a
        program's thread pool does; the results in order, each checked like :meth:`call`'s."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise BackendTimeout(f"the property did not finish within its limit (stopped before {threads} threaded "
                                 f"calls of {op})")
        records = [Call(op, tuple(np.array(a, copy=True) for a in args), dict(kw), threaded=True) for args, kw in calls]
        self.calls.extend(records)
        invoke = getattr(self.backend, "invoke_threaded", None) or (lambda *a, **k: invoke_in_threads(self.backend, *a, **k))
        try:
            outcomes = invoke(op, calls, threads, timeout=self.call_timeout)
        except CallTimeout:
            raise BackendTimeout(f"{threads} threaded calls of {op} took longer than the per-call limit of "
                                 f"{self.call_timeout} s") from None
        except CallCrashed as e:
            raise BackendCrash(f"{threads} threaded calls of {op}: {e}") from None
        out = []
        for record, outcome, (args, kwargs) in zip(records, outcomes, calls):
            record.outcome = outcome
            if outcome.raised is not None:
                r = outcome.raised
                raise BackendError(f"{describe_call(op, args, kwargs)} on a worker thread raised {r.type}: "
                                   f"{r.message}", raised=r)
            y = outcome.value
            if not isinstance(y, np.ndarray):
                what = y.type_name if isinstance(y, Described) else type(y).__name__
                raise PropertyFailure(f"{op}(...) on a worker thread returned {what}, but should return a numpy.ndarray")
            record.result = y
            out.append(y)
        return out

    def attempt(self, op, *args, **kwargs) -> Outcome:
        """Call ``op`` and return what happened (a value or the exception raised), unchecked:
        for properties about how a backend fails."""
        record, outcome = self._invoke(op, args, kwargs)
        record.may_raise = True
        return outcome

    def call(self, op, *args, check_shape=True, **kwargs):
        """Call ``backend.op(*args, **kwargs)``, recorded for the reproduction and checked.

        Raises :class:`BackendError` if it raises, :class:`BackendTimeout` if it exceeds the
        per-call limit, :class:`BackendCrash` if its process dies, :class:`PropertyFailure`
        if it returns something other than an ndarray of the contract's output shape.
        """
        restricted = excluded(self.backend.capabilities.restrictions_for(op), op, args, kwargs)
        if restricted:  # declared unsupported: not called, not evidence (its raising is checked apart)
            raise Declined(f"declared {restricted}: {RESTRICTIONS[restricted].statement}")
        record, outcome = self._invoke(op, args, kwargs)
        if outcome.raised is not None and outcome.raised.is_a("Unsupported"):
            raise PropertyFailure(
                f"{describe_call(op, args, kwargs)} raised convspec.Unsupported({outcome.raised.message!r}), but no "
                f"restriction declared for {op} excludes this example, so it should be supported (declare the "
                f"restriction in convspec_capabilities['restrictions']: {', '.join(RESTRICTIONS)})")
        if outcome.raised is not None:
            r = outcome.raised
            raise BackendError(f"{describe_call(op, args, kwargs)} raised {r.type}: {r.message}"
                               + (f" [at {r.where}]" if r.where else ""), raised=r)
        y = outcome.value
        want_dtype = args[0].dtype if args and isinstance(args[0], np.ndarray) else None
        if isinstance(y, Described) and y.type_name == "ndarray":
            raise PropertyFailure(f"{op}(...) returned an array of dtype {y.dtype}, but should be a numeric array"
                                  f" of dtype {want_dtype}")
        if not isinstance(y, np.ndarray):
            what = y.type_name if isinstance(y, Described) else type(y).__name__
            raise PropertyFailure(f"{op}(...) returned {what}, but should return a numpy.ndarray")
        record.result = y  # kept before the checks below, so a failure's root cause can name this call
        want = expected_shape(op, args, kwargs)
        if check_shape and y.shape != want:
            raise PropertyFailure(f"{op}(...).shape={y.shape}, but should be {want} (the contract's output size)")
        earlier = [i for i, c in enumerate(self.calls[:-1], 1)
                   if c.outcome is not None and c.outcome.handle is not None and c.result is not None
                   and (c.outcome.handle in outcome.shares_previous
                        or (not getattr(self.backend, "isolated", False) and np.shares_memory(c.result, y)))]
        if earlier:
            raise PropertyFailure(f"{op}(...) returned memory shared with the result of call {earlier[-1]} of this "
                                  f"example, but every result should be the caller's own array (a reused output buffer)")
        return y

    def shares_input(self, y) -> bool:
        """Whether the result ``y`` of an earlier call shares memory with that call's inputs."""
        record = self._record_of(y)
        return bool(record.outcome.shares_input)

    def current(self, y):
        """The contents of the earlier result ``y`` as they are now in the backend's memory
        (a later call may have written into it); ``None`` if the backend no longer holds it."""
        record = self._record_of(y)
        try:
            return self.backend.current(record.outcome.handle)
        except CallCrashed as e:
            raise BackendCrash(f"reading back the result of {describe_call(record.op, record.args, record.kwargs)}: {e}") from None

    def _record_of(self, y) -> Call:
        for record in reversed(self.calls):
            if record.result is y:
                return record
        raise ValueError("not the result of a call of this example")

    # ------------------------------------------------------------ expecting

    def tolerance(self):
        """Slack for comparing backend outputs: four times the sum of the calls' slacks so far
        (zero for a direct backend's sums on exact data, see :func:`accuracy.comparison_slack`)."""
        caps = self.backend.capabilities
        return 4.0 * sum(accuracy.comparison_slack(caps.accuracy_for(c.op, c.args, c.kwargs), c.op, c.args, c.kwargs,
                                                   c.args[0].dtype, caps.arithmetic_for(c.op)) for c in self.calls)

    def expect_equal(self, actual, expected, what, why, *, equal_nan=False):
        """``actual`` must equal ``expected`` (exactly, or within :meth:`tolerance`)."""
        self.expect_within(actual, expected, self.tolerance(), what, why, equal_nan=equal_nan)

    def expect_within(self, actual, expected, bound, what, why, *, bound_name="tolerance", equal_nan=False,
                      alternatives=(), flushed=False):
        """Every entry of ``actual`` within ``bound`` of ``expected`` (the same infinity agrees);
        a NaN is a difference, unless ``equal_nan`` (a backend compared with itself, or with a
        definition that gives NaN there: an average over no input element).  ``alternatives``:
        other answers an entry may be within ``bound`` of instead (a flushed definition);
        ``flushed``: an entry may be zero where ``expected`` is below the normal range."""
        actual = np.asarray(actual)
        expected = np.asarray(expected)
        if actual.shape != expected.shape:
            raise PropertyFailure(f"{what}.shape={actual.shape}, but should be {expected.shape} ({why})")
        wide = np.clongdouble if np.iscomplexobj(actual) or np.iscomplexobj(expected) else np.longdouble
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, judged below
            diff = np.abs(actual.astype(wide) - expected.astype(wide))
            for other in alternatives:
                diff = np.fmin(diff, np.abs(actual.astype(wide) - np.asarray(other).astype(wide)))
            if flushed and actual.dtype.kind in "fc":
                tiny = float(accuracy.finfo(actual.dtype).tiny)
                diff = np.where((actual == 0) & (np.abs(expected.astype(wide)) < tiny), 0, diff)
        bad = ~(diff <= bound)  # NaN counts as bad
        bad &= ~(np.isinf(actual) & (actual == expected))  # the same infinity is no difference
        if equal_nan:
            bad &= ~(np.isnan(actual) & np.isnan(expected))
        if np.any(bad):
            idx = np.unravel_index(int(np.argmax(np.where(bad, np.nan_to_num(diff, nan=np.inf), -1))), bad.shape)
            where = "" if actual.ndim == 0 else "[" + ", ".join(str(int(i)) for i in idx) + "]"
            b = np.broadcast_to(bound, actual.shape)[idx] if np.ndim(bound) else bound
            slack = "" if not np.any(np.asarray(bound) > 0) else f", {bound_name} {float(b):.3g}"
            raise PropertyFailure(
                f"{what}{where}={fmt(actual[idx])}, but should be {fmt(expected[idx])} ({why}); "
                f"{int(bad.sum())} of {bad.size} entries differ, max |difference|={float(np.nanmax(np.where(np.isfinite(diff), diff, np.inf))):.3g}{slack}"
            )

    def expect_accurate(self, y, exact, bound, op, args, kwargs, what, why, *, equal_nan=False):
        """The accuracy properties' check: ``y`` within ``bound`` of ``exact`` (the definition in
        long double), or, for a backend that declares ``subnormals: "flush"`` for ``op``, of the
        definition on inputs whose subnormals read as zero, or zero where ``exact`` is below the
        normal range.  The ratio of the error to the bound is reported to hypothesis
        (``target``, by the runner), so the search climbs toward the backend's worst inputs,
        and the largest ratio seen is kept (:attr:`worst`)."""
        flush = self.backend.capabilities.subnormals_for(op) == "flush"
        alternatives = []
        if flush:
            from convspec._contract import reference
            from convspec._contract.functions import flush_subnormals

            flushed = tuple(flush_subnormals(a) if isinstance(a, np.ndarray) and a.dtype.kind in "fc" else a
                            for a in args)
            if any(not np.array_equal(a, b) for a, b in zip(args, flushed) if isinstance(a, np.ndarray)):
                alternatives.append(np.asarray(getattr(reference, op)(*flushed, acc=np.longdouble, **kwargs)))
        self.measure(y, exact, bound, alternatives)
        self.expect_within(y, exact, bound, what, why, bound_name="bound", equal_nan=equal_nan,
                           alternatives=alternatives, flushed=flush)

    def measure(self, y, exact, bound, alternatives=()):
        """Keep the largest error / bound ratio of this example (the runner reports it to
        hypothesis's ``target`` once the example ends, so the search climbs toward it)."""
        y = np.asarray(y)
        exact = np.asarray(exact)
        if y.shape != exact.shape or y.size == 0:
            return
        wide = np.clongdouble if np.iscomplexobj(y) or np.iscomplexobj(exact) else np.longdouble
        with np.errstate(all="ignore"):
            diff = np.abs(y.astype(wide) - exact.astype(wide))
            for other in alternatives:
                diff = np.fmin(diff, np.abs(y.astype(wide) - np.asarray(other).astype(wide)))
            b = np.broadcast_to(np.asarray(bound, dtype=np.longdouble), diff.shape)
            ok = np.isfinite(diff) & np.isfinite(exact.astype(wide)) & (b > 0)
            if not np.any(ok):
                return
            ratio = float(np.max(diff[ok] / b[ok]))
        if not np.isfinite(ratio):
            return
        self.worst = max(self.worst or 0.0, ratio)

    def expect(self, condition, message):
        if not condition:
            raise PropertyFailure(message)

    def nondegenerate(self, *ys):
        """Examples whose outputs are all zero prove little (docs/explanation/accuracy.md): the backend is still
        called and compared -- a stale buffer returned where the answer is zero is a bug --
        but an example that passes does not count as evidence (the runner discards it after
        its checks, so hypothesis looks for more)."""
        if not all(np.any(np.asarray(y) != 0) for y in ys):
            self.degenerate = True
