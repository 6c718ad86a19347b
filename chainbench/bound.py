"""A chain bound to one way of differentiating it. ``bind`` resolves the mode (a strategy
such as 'auto' to its engine and chunk, ``strategies.resolve``), checks the options and
binds the engine's kernels to the chain's program, once; the ``Bound`` it returns is then
called with x as often as wanted, and says what it runs (``mode``, ``chunk``, ``plan``),
what its counters will read (``predict``) and what it should cost (``price``).

``jacobian``, ``jvp`` and ``vjp`` (``api``) are thin wrappers over it; ``bind_value`` is
the same for f alone. A bound call at small n costs about what its kernel does: x is
checked by a few attribute reads, and the kernel is bound with everything but x and J.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ._jit import direct
from .cost.predictions import Prediction
from .cost.time_model import TimePrediction, price_plan
from .cost.work import Plan
from .engines.contract import Engine
from .engines.registry import ENGINES
from .engine_options import engine_options
from .errors import TooLarge
from .machine.current import current_profile
from .model.chain import Chain, check_input, check_not_masked
from .model.counters import EngineStats, new_counters
from .model.sparsity import sparsity
from .planner import check_planner, measured_pick
from .provenance import available_memory
from .strategies import auto_decision, is_strategy, resolve

_F64, _ND, _empty = np.dtype(np.float64), np.ndarray, np.empty

#: The counters of calls that do not ask for stats: kernels add to them and nobody reads
#: them, which spares each call a fresh zeroed array (0.2 µs of a 4 µs Jacobian at n = 32).
_UNREAD = new_counters()

#: Entries of a dense J above which its size is checked against the memory available
#: (reading it costs ~20 µs, more than a small Jacobian): 32 Mi entries, 256 MiB.
CHECK_ABOVE = 2**25


class Bound:
    """The Jacobian of one chain by one engine at one chunk: ``bound(x)`` returns J at x
    (``out=``: fills that (m, n) float64 array instead; ``return_stats``: also the
    engine's counters as an ``EngineStats``).

    mode     the engine that runs (a strategy's pick where one was asked: ``asked``)
    chunk    lanes per sweep (None for an engine without lanes)
    options  the engine's options (snapshots, step, dense=False)
    plan     what it runs: its ``cost.work.Plan``, pass by pass (``print(bound.plan)``)
    """

    __slots__ = ("chain", "engine", "mode", "chunk", "options", "asked", "_run", "_xshape",
                 "_jshape", "_plain", "_pattern", "_plan", "planned", "_fast")

    def __init__(self, chain: Chain, impl: Engine, chunk, options: dict, asked: str):
        self.chain, self.engine, self.mode, self.chunk = chain, impl, impl.name, chunk
        self.options, self.asked = options, asked
        self._run = impl.bind(chain.program, chunk, **options)
        self._xshape, self._jshape = (chain.n,), (chain.m, chain.n)
        self._pattern = sparsity(chain) if options.get("dense") is False else None
        # a dense J small enough to allocate unchecked: the fast path's case
        self._plain = self._pattern is None and chain.m * chain.n <= CHECK_ABOVE
        self._plan = None
        self._fast = self._first  # the kernel's entry point, once compiled (_jit.direct)
        self.planned = None  # what the measuring planner found (planner.Planned), if asked

    def __call__(self, x, out=None, return_stats: bool = False):
        # the fast path: four attribute reads and J's allocation besides the kernel, where
        # a small Jacobian's kernel takes about a µs (see tests/benchmarks/test_bench_floor)
        if type(x) is _ND and x.dtype is _F64 and x.shape == self._xshape and x.flags.carray \
                and out is None and not return_stats and self._plain:
            J = _empty(self._jshape)
            self._fast(x, J, _UNREAD)
            return J
        return self.checked(check_input(x, self._xshape[0]), out, return_stats)

    def _first(self, x, J, counts) -> None:
        """The fast path's first call: through the dispatcher (compiling the kernel if need
        be), then straight to the compiled entry point for these types."""
        self._run(x, J, counts)
        self._fast = direct(self._run, x, J, counts)

    def checked(self, x: np.ndarray, out=None, return_stats: bool = False):
        """``self(x)`` for an x already checked (``model.chain.check_input``)."""
        counts = new_counters() if return_stats else _UNREAD
        if self._pattern is not None:
            J = self._sparse(x, out, counts)
        else:
            J = self._output() if out is None else _checked_out(out, self._jshape)
            self._run(x, J, counts)
        if return_stats:
            return J, EngineStats.from_counters(self.mode, self.chunk, counts)
        return J

    def _output(self) -> np.ndarray:
        m, n = self._jshape
        if m * n > CHECK_ABOVE:
            fits(8 * m * n, f"a dense {m} × {n} Jacobian", "for a sparse one ask mode="
                 "'sparse-forward' or 'sparse-reverse' with dense=False")
        return np.empty(self._jshape)

    def _sparse(self, x, out, counts) -> sp.csr_array:
        """J as a CSR array over its structural pattern, the values filled by the engine."""
        if out is not None:
            raise ValueError("out= takes a dense J; with dense=False leave out=None")
        pattern = self._pattern
        if pattern.nnz > CHECK_ABOVE:
            fits(12 * pattern.nnz, f"a sparse Jacobian of {pattern.nnz} nonzeros",
                 "differentiate a smaller chain")
        data = np.empty(pattern.nnz)
        self._run(x, data, counts)
        return sp.csr_array((data, pattern.indices.copy(), pattern.indptr.copy()),
                            shape=pattern.shape)

    @property
    def plan(self) -> Plan:
        """The passes a call runs (``cost.work.Plan``), built once from the chain's shape,
        the chunk and the options: its counters, memory and price are read from it."""
        if self._plan is None:
            self._plan = plan_of(self.chain.shape, self.engine, self.chunk, self.options)
        return self._plan

    def predict(self) -> Prediction:
        """The counters a call will fill, read from its plan."""
        return self.plan.prediction()

    def price(self, profile=None) -> TimePrediction:
        """Predicted seconds of a call on ``profile``'s machine (default: this one's)."""
        return price_plan(self.plan, profile or current_profile())

    def explain(self, profile=None):
        """Where a call's time goes: its plan run pass by pass, each pass timed alone beside
        its predicted time, and the whole call timed (``explain.Explanation``: a text table,
        ``.frame``, ``_repr_html_``)."""
        from .explain import explain

        return explain(self, profile)

    def describe(self) -> str:
        """What a call runs, in words: the engine, why it runs, and its plan as a table."""
        lines = [repr(self), f"  {self.engine.summary}"]
        if self.planned is not None:
            lines.append(f"  {self.planned.describe()}")
        elif is_strategy(self.asked):
            why = auto_decision(self.chain).why()
            lines.append(f"  mode={self.asked!r} picked it: {why}")
        return "\n".join([*lines, str(self.plan)])

    def _repr_html_(self) -> str:  # Jupyter: the plan as a table, then Prediction's
        from html import escape

        p, t = self.predict(), self.price()
        picked = "" if self.asked == self.mode else f" ({self.asked!r} picked it)"
        rows = [("mode", self.mode + picked), ("chunk", self.chunk), *self.options.items(),
                ("multiply-adds", p.madds),
                ("predicted time", f"{t.seconds:.3g} s, {t.describe()}")]
        head = "".join(f"<tr><th style='text-align:left'>{escape(str(k))}</th>"
                       f"<td>{escape(str(v))}</td></tr>" for k, v in rows)
        return (f"<p><b>{escape(repr(self.chain))}</b></p><table>{head}</table>"
                + p._repr_html_())

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return f"Bound({self.chain!r}, mode={self.mode!r}, chunk={self.chunk!r}{extra})"

    def jvp(self, x, v, return_stats: bool = False):
        """(f(x), J v) in one sweep, for an engine that pushes directions (``Engine.jvp``)."""
        return self._product("jvp", x, v, return_stats)

    def vjp(self, x, u, return_stats: bool = False):
        """(f(x), uᵀ J) in one recording and one backward sweep (``Engine.vjp``)."""
        return self._product("vjp", x, u, return_stats)

    def _product(self, kind: str, x, block, return_stats: bool):
        product = getattr(self.engine, kind)
        if product is None:
            takers = [name for name, e in ENGINES.items() if getattr(e, kind) is not None]
            raise ValueError(f"mode {self.mode!r} has no {kind}; bind mode="
                             f"{' or '.join(map(repr, takers))}")
        x = check_input(x, self.chain.n)
        forward = kind == "jvp"
        rows = self.chain.n if forward else self.chain.m
        B, flat = lane_block(block, rows, "v" if forward else "u", lanes_first=not forward)
        counts = new_counters()
        y, out = product(self.chain.program, x, B, counts)
        out = (y, (out[:, 0] if forward else out[0]) if flat else out)
        if return_stats:
            lanes = B.shape[1] if forward else B.shape[0]
            return (*out, EngineStats.from_counters(self.mode, lanes, counts))
        return out


def bind(chain: Chain, mode: str = "auto", chunk: int | None = None, *,
         snapshots: int | None = None, step: float | None = None, dense: bool = True,
         order: int = 1, planner: str = "estimate") -> Bound:
    """``chain``'s Jacobian bound to ``mode`` (an engine, or a strategy such as 'auto',
    resolved here on this machine) at ``chunk`` lanes per sweep (default: the engine's, or
    the strategy's pick), with the engine's options (see ``api.jacobian``). Bound once per
    chain and arguments (kept in ``chain.bound_calls``): binding again returns the same
    object, so a checkpointed mode's schedule is built once.

    Parameters
    ----------
    chain : Chain
    mode : str, one of ``chainbench.MODES``
    chunk : int, optional
        Lanes per sweep (see ``jacobian``).
    snapshots, step, dense
        The engine's options, as ``jacobian`` takes them.
    order : int
        1: the Jacobian; 2: the Hessian of u·f, a ``second_order.BoundHessian`` (``mode`` one
        of ``HESSIAN_MODES``; see docs/second-order.md).
    planner : {'estimate', 'measure'}
        How a strategy such as 'auto' chooses: 'estimate' by the time model (default);
        'measure' by timing its best-predicted candidates on this chain, remembered per
        machine and chain shape (``planner.py``; ``bound.planned`` says what it timed).

    Returns
    -------
    Bound
        Call it with x for J; ``.mode``, ``.chunk``, ``.plan``, ``.predict()``, ``.price()``.
    """
    check_planner(planner)
    if order != 1 or type(order) is not int:
        return _bind_second(chain, mode, chunk, order, snapshots=snapshots, step=step,
                            dense=dense)
    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a chainbench.Chain, got {type(chain).__name__}")
    if planner != "estimate" and is_strategy(mode) and chunk is None:
        return _bind_measured(chain, mode, planner, snapshots, step, dense)
    bound = cached(chain, mode, chunk, snapshots, step, dense)
    if bound is not None:
        return bound
    impl, lanes = resolve(chain.shape, mode, chunk)
    bound = Bound(chain, impl, lanes, engine_options(impl, snapshots, step, dense),
                  mode if is_strategy(mode) else impl.name)
    chain.bound_calls[_key(mode, chunk, snapshots, step, dense)] = bound
    return bound


def _bind_measured(chain: Chain, mode: str, planner: str, snapshots, step, dense) -> Bound:
    """``bind`` of a strategy by the measuring planner: the candidate that measured fastest
    on this chain (or recalled from this machine's wisdom), bound once per chain."""
    key = ("planner", planner, mode, snapshots, step, dense)
    if key not in chain.bound_calls:
        planned = measured_pick(chain, mode, lambda name, chunk: bind(chain, name, chunk))
        impl = ENGINES[planned.mode]
        bound = Bound(chain, impl, planned.chunk, engine_options(impl, snapshots, step, dense),
                      mode)
        bound.planned = planned
        chain.bound_calls[key] = bound
    return chain.bound_calls[key]


def _bind_second(chain, mode, chunk, order, **options):
    """``bind`` at ``order`` 2 (second_order, loaded on first use), or a clear error."""
    if order != 2 or type(order) is not int:
        raise ValueError(f"order must be 1 (the Jacobian) or 2 (the Hessian), got {order!r}")
    from .second_order import bind_hessian

    return bind_hessian(chain, mode, chunk, **options)


def cached(chain: Chain, mode, chunk=None, snapshots=None, step=None, dense=True) -> Bound | None:
    """The Bound ``bind`` made for these arguments on ``chain``, or None (not yet bound, or
    an argument ``bind`` would refuse)."""
    try:
        return chain.bound_calls[_key(mode, chunk, snapshots, step, dense)]
    except (KeyError, TypeError, AttributeError):  # not bound; unhashable; not a Chain
        return None


def _key(mode, chunk, snapshots, step, dense):
    """The key of ``chain.bound_calls``: the mode alone for a call with no other argument
    (the common call, looked up in a few tens of ns), else every argument with its type:
    3.0 == 3 and True == 1 hash alike, and must stay refused."""
    if chunk is None and snapshots is None and step is None and dense is True:
        return mode
    return (mode, chunk, type(chunk), snapshots, type(snapshots), step, type(step), dense,
            type(dense))


class BoundValue:
    """f alone, bound to ``chain``: ``bound(x)`` returns f(x) (``bind_value``)."""

    __slots__ = ("chain", "_run", "_xshape")

    def __init__(self, chain: Chain):
        self.chain, self._run, self._xshape = chain, self._first, (chain.n,)

    def __call__(self, x) -> np.ndarray:
        if type(x) is not np.ndarray or x.dtype is not _F64 or not x.flags.carray \
                or x.shape != self._xshape:
            x = check_input(x, self._xshape[0])
        return self._run(x)

    def _first(self, x) -> np.ndarray:
        """The first call: the chain's value sweep, then its compiled entry point."""
        y = self.chain(x)
        self._run = self.chain.bound_evaluate
        return y

    def __repr__(self) -> str:
        return f"BoundValue({self.chain!r})"


def bind_value(chain: Chain) -> BoundValue:
    """f of ``chain`` alone, bound once: a callable x -> f(x).

    Parameters
    ----------
    chain : Chain

    Returns
    -------
    BoundValue
    """
    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a chainbench.Chain, got {type(chain).__name__}")
    return BoundValue(chain)


def plan_of(shape, impl: Engine, chunk, options: dict) -> Plan:
    """The plan ``impl`` runs on a chain of ``shape`` at ``chunk`` with ``options``."""
    return impl.plan(shape, chunk, **_cost_options(options))


def predict_of(shape, impl: Engine, chunk, options: dict) -> Prediction:
    """The counters ``impl`` fills on a chain of ``shape`` at ``chunk`` with ``options``."""
    return plan_of(shape, impl, chunk, options).prediction()


def price_of(shape, impl: Engine, chunk, options: dict, profile=None) -> TimePrediction:
    """Predicted seconds of that call on ``profile``'s machine (default: this one's)."""
    return price_plan(plan_of(shape, impl, chunk, options), profile or current_profile())


def _cost_options(options: dict) -> dict:
    """The options that change the work (a numerical step changes only the values)."""
    return {k: v for k, v in options.items() if k != "step"}


def fits(nbytes: int, what: str, instead: str) -> None:
    """TooLarge unless ``nbytes`` fit in the memory this process has."""
    room = available_memory()
    if room is not None and nbytes > room:
        raise TooLarge(f"{what} needs {nbytes / 2**30:.3g} GiB, more than the "
                       f"{room / 2**30:.3g} GiB available; {instead}")


def _checked_out(out, shape: tuple[int, int]) -> np.ndarray:
    """``out`` if the kernels can write J into it, else a clear error."""
    if type(out) is not np.ndarray or out.dtype is not _F64 or not out.flags.carray:
        raise TypeError("out must be a writeable C-contiguous float64 numpy array, got "
                        + (f"dtype {out.dtype}" if isinstance(out, np.ndarray)
                           else type(out).__name__))
    if out.shape != shape:
        raise ValueError(f"out must have shape {shape} for this chain, got {out.shape}")
    return out


def lane_block(a, rows: int, what: str, lanes_first: bool) -> tuple[np.ndarray, bool]:
    """A direction vector or block as a contiguous float64 2-D block, and whether it was 1-D."""
    check_not_masked(a, what)
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1 and arr.shape[0] == rows:
        block = arr.reshape((1, rows)) if lanes_first else arr.reshape((rows, 1))
        return np.ascontiguousarray(block, dtype=np.float64), True
    axis = 1 if lanes_first else 0
    if arr.ndim == 2 and arr.shape[axis] == rows and arr.shape[1 - axis] >= 1:
        return np.ascontiguousarray(arr, dtype=np.float64), False
    want = f"({rows},) or (k, {rows})" if lanes_first else f"({rows},) or ({rows}, k)"
    raise ValueError(f"{what} must have shape {want} for this chain, got {arr.shape}")
