"""Second order: ``hessian`` and ``hvp`` of a chain's weighted output u·f (u all ones by
default; for m = 1 the Hessian of f itself), by the modes of ``HESSIAN_MODES``;
``predict_hessian`` and ``predict_hessian_time``, the counters a mode fills and its seconds,
read from its plan (``cost.second_plans``); and ``BoundHessian``, what ``bind(chain, mode,
order=2)`` returns: the mode resolved once (see docs/second-order.md).

Validates at the edge ('auto' and the chunk through ``strategies``), refuses a call that
would not fit in memory, and hands flat arrays to the engines in ``engines.second_order``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .cost.second_order import HESSIAN_MODES as _ENGINE_MODES
from .cost.second_order import SecondCounts
from .cost.second_plans import SecondPlan, optimal_plan, second_plan
from .cost.time_model import TimePrediction, price_plan
from .engines.second_order import compute, hessian_optimal, new_counters
from .machine.current import current_profile
from .model.chain import Chain, check_input, check_not_masked, shape_of
from .model.counters import EngineStats
from .provenance import require_memory
from .strategies import is_strategy, resolve_second, second_choice

OPTIMAL = "hessian-optimal"
#: Every mode ``hessian`` takes; 'auto' picks the one predicted fastest on this machine.
HESSIAN_MODES = (*_ENGINE_MODES, OPTIMAL, "auto")
#: The modes ``hvp`` takes ('auto' among the three with lanes).
HVP_MODES = (*_ENGINE_MODES, "auto")


def _check_chain(chain) -> Chain:
    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a chainbench.Chain, got {type(chain).__name__}")
    return chain


def _check_mode(mode, allowed=HESSIAN_MODES) -> str:
    if not isinstance(mode, str) or mode not in allowed:
        raise ValueError(f"unknown second-order mode {mode!r}; known: {', '.join(allowed)}")
    return mode


def _weights(weights, m: int) -> np.ndarray:
    """u as a contiguous float64 vector of length m (default all ones)."""
    if weights is None:
        return np.ones(m)
    check_not_masked(weights, "weights")
    u = np.asarray(weights)
    if u.dtype.kind not in "biuf":
        raise TypeError(f"weights must hold real numbers, got dtype {u.dtype}")
    if u.shape != (m,):
        raise ValueError(f"weights must have shape ({m},), one per output of this chain "
                         f"(the Hessian is that of weights·f), got {u.shape}")
    return np.ascontiguousarray(u, dtype=np.float64)


def auto_second(chain, profile=None) -> str:
    """The mode 'auto' runs for a Hessian: the one the time model predicts fastest on
    ``profile``'s machine (default this one's), ``strategies.second_choice``."""
    return second_choice(shape_of(chain), profile)[0]


@lru_cache(maxsize=256)
def _plan(shape, mode: str, chunk, lanes: int | None = None) -> SecondPlan:
    """The plan of a concrete mode at a checked chunk (a Hessian, or ``lanes`` directions);
    built once per shape (a call asks for it every time)."""
    if mode == OPTIMAL:
        return optimal_plan(shape)
    if lanes is not None:
        return second_plan(shape, mode, lanes, lanes, seeded=False)
    return second_plan(shape, mode, chunk)


@lru_cache(maxsize=256)
def _held(shape, mode: str, chunk, lanes: int | None = None) -> int:
    return _plan(shape, mode, chunk, lanes).bytes_held


#: Bytes a call holds above which they are checked against the memory available (reading
#: it costs ~20 µs, more than a small Hessian): 256 MiB, as first order's dense J.
CHECK_ABOVE = 2**28


def _guard(shape, mode: str, chunk, lanes: int | None, what: str) -> None:
    """TooLarge (a ConfigError: exit 2 from the command line) before a call whose buffers
    and result (its plan's bytes held) would not fit in the memory this process has."""
    held = _held(shape, mode, chunk, lanes)
    if held > CHECK_ABOVE:
        require_memory(held, f"{what} of a chain with n = {shape.n} by mode {mode!r} (its "
                       "buffers and the result)", "ask for a smaller chunk, Hessian-vector "
                       "products (hvp), or a smaller chain")


def predict_hessian(chain, mode: str = "auto", chunk: int | None = None) -> SecondCounts:
    """The counters ``hessian(chain, x, mode, chunk=chunk)`` fills, from the chain's layer
    kinds and widths alone.

    Parameters
    ----------
    chain : Chain or ChainShape
    mode : str, one of ``HESSIAN_MODES``
    chunk : int, optional
        Directions per sweep (default: the mode's).

    Returns
    -------
    SecondCounts
    """
    shape = shape_of(chain)
    return _plan(shape, *resolve_second(shape, _check_mode(mode), chunk)).prediction()


def predict_hessian_time(chain, mode: str = "auto", chunk: int | None = None,
                         profile=None) -> TimePrediction:
    """Predicted seconds of ``hessian(chain, x, mode, chunk=chunk)`` on a machine: its plan
    (``cost.second_plans``) priced by ``cost.time_model.price_plan``.

    Parameters
    ----------
    chain : Chain or ChainShape
    mode : str, one of ``HESSIAN_MODES``
        'auto': the mode and chunk ``strategies.second_choice`` picks there.
    chunk : int, optional
        Directions per sweep (default: the mode's, or 'auto''s pick).
    profile : MachineProfile, optional
        The machine to price on; default this machine's.

    Returns
    -------
    TimePrediction
    """
    shape = shape_of(chain)
    mode, chunk = resolve_second(shape, _check_mode(mode), chunk, profile)
    return price_plan(_plan(shape, mode, chunk), profile or current_profile())


def hessian(chain: Chain, x, mode: str = "auto", weights=None, chunk: int | None = None,
            return_stats: bool = False):
    """The Hessian of weights·f at x.

    Parameters
    ----------
    chain : Chain or BoundHessian
        A bound Hessian (``bind(chain, mode, order=2)``) runs its own mode and chunk.
    x : array_like, shape (n,)
    mode : str, one of ``HESSIAN_MODES``
        'forward-over-reverse' (tangent lanes through the recorded sweep's derivative: n
        Hessian-vector products, ``chunk`` per sweep), 'reverse-over-forward' (the
        backward sweep of a tangent sweep), 'reverse-over-reverse' (the gradient's own
        sweep reversed, on the operation-level tape), 'forward-over-forward' (hyper-dual numbers:
        chunk × n direction pairs per sweep, O(n⁴) on a square chain), 'hessian-optimal'
        (the second-order chain rule bracketed by a dynamic programme over sub-chains,
        ``cost.hessian_plan``), 'auto' (the fastest predicted on this machine,
        ``strategies.second_choice``).
    weights : array_like, shape (m,), optional
        u in u·f; default all ones (for m = 1, the Hessian of f itself).
    chunk : int, optional
        Directions per sweep, 1 ≤ chunk ≤ n; default ``cost.second_order.default_chunk``.
    return_stats : bool
        Also return a ``SecondCounts`` of the kernels' counters.

    Returns
    -------
    H : ndarray, shape (n, n)
    stats : SecondCounts, only if ``return_stats``
    """
    if isinstance(chain, BoundHessian):
        chain, mode, chunk = chain.chain, *chain.own(mode, chunk, strategy_ok=True)
    chain = _check_chain(chain)
    x = check_input(x, chain.n)
    u = _weights(weights, chain.m)
    mode, chunk = resolve_second(chain.shape, _check_mode(mode), chunk)
    _guard(chain.shape, mode, chunk, None, "the Hessian")
    counts = new_counters()
    if mode == OPTIMAL:
        chunk = _plan(chain.shape, mode, chunk).chunk
        H = hessian_optimal(chain, x, u, counts)
    else:
        H = compute(chain.program, mode, chunk, x, u, None, counts)
    return (H, _stats(mode, chunk, counts)) if return_stats else H


def hvp(chain: Chain, x, v, mode: str | None = None, weights=None,
        return_stats: bool = False):
    """The Hessian of weights·f at x times v (a Hessian-vector product).

    Parameters
    ----------
    chain : Chain or BoundHessian
        A bound Hessian (``bind(chain, mode, order=2)``) runs its own mode.
    x : array_like, shape (n,)
    v : array_like, shape (n,) or (n, k)
        The direction, or k directions pushed in one sweep.
    mode : str, optional
        'forward-over-reverse', 'reverse-over-forward', 'reverse-over-reverse',
        'forward-over-forward' (see ``hessian``) or 'auto' (the default: the fastest predicted for k directions).
    weights : array_like, shape (m,), optional
        u in u·f; default all ones.
    return_stats : bool
        Also return a ``SecondCounts`` of the kernels' counters.

    Returns
    -------
    Hv : ndarray, shape (n,) or (n, k), as v
    stats : SecondCounts, only if ``return_stats``
    """
    if isinstance(chain, BoundHessian):
        chain, mode = chain.chain, chain.own(mode, None, product=True)[0]
    chain = _check_chain(chain)
    x = check_input(x, chain.n)
    u = _weights(weights, chain.m)
    mode = _check_mode("auto" if mode is None else mode, HVP_MODES)
    V, flat = _directions(v, chain.n)
    mode = resolve_second(chain.shape, mode, lanes=V.shape[1])[0]
    _guard(chain.shape, mode, None, V.shape[1], "a Hessian-vector product")
    counts = new_counters()
    rows = compute(chain.program, mode, V.shape[1], x, u, V, counts)
    out = rows[0] if flat else np.ascontiguousarray(rows.T)
    return (out, _stats(mode, V.shape[1], counts)) if return_stats else out


def predict_hvp(chain, mode: str = "forward-over-reverse", k: int = 1) -> SecondCounts:
    """The counters ``hvp`` fills for k directions ('auto': of the mode it picks)."""
    shape = shape_of(chain)
    mode = resolve_second(shape, _check_mode(mode, HVP_MODES), lanes=k)[0]
    return _plan(shape, mode, None, k).prediction()


def _directions(v, n: int) -> tuple[np.ndarray, bool]:
    """v as a contiguous (n, k) float64 block, and whether it was one vector."""
    check_not_masked(v, "v")
    arr = np.asarray(v)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"v must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim == 1 and arr.shape[0] == n:
        return np.ascontiguousarray(arr.reshape((n, 1)), dtype=np.float64), True
    if arr.ndim == 2 and arr.shape[0] == n and arr.shape[1] >= 1:
        return np.ascontiguousarray(arr, dtype=np.float64), False
    raise ValueError(f"v must have shape ({n},) or ({n}, k) for this chain, got {arr.shape}")


def _stats(mode: str, chunk: int, counts) -> SecondCounts:
    """The kernels' counters: the first-order slots, then the curvature's."""
    first = EngineStats.from_counters(mode, chunk, counts[:-1])
    return SecondCounts(**first.__dict__, madds_curvature=int(counts[-1]))


class BoundHessian:
    """The Hessian of one chain by one mode at one chunk (``bind(chain, mode, order=2)``):
    ``bound(x)`` returns H at x, ``bound.hvp(x, v)`` H v (``weights=``, ``return_stats=``
    as ``hessian`` and ``hvp`` take them).

    mode     the mode that runs ('auto''s pick where it was asked: ``asked``)
    chunk    directions per sweep (None for 'hessian-optimal', which has no lanes)
    """

    __slots__ = ("chain", "mode", "chunk", "asked")

    def __init__(self, chain: Chain, mode: str = "auto", chunk: int | None = None):
        self.chain, self.asked = _check_chain(chain), _check_mode(mode)
        self.mode, self.chunk = resolve_second(chain.shape, mode, chunk)
        _guard(chain.shape, self.mode, self.chunk, None, "the Hessian")

    def __call__(self, x, weights=None, return_stats: bool = False):
        return hessian(self, x, weights=weights, return_stats=return_stats)

    def hvp(self, x, v, weights=None, return_stats: bool = False):
        """H v at x by this mode (one sweep for k directions: the chunk is v's)."""
        return hvp(self, x, v, weights=weights, return_stats=return_stats)

    def predict(self) -> SecondCounts:
        """The counters a call will fill, from the layers' kinds and widths alone."""
        return self.plan.prediction()

    @property
    def plan(self) -> SecondPlan:
        """The passes a Hessian call runs (``cost.second_plans``), pass by pass."""
        return _plan(self.chain.shape, self.mode, self.chunk)

    def price(self, profile=None) -> TimePrediction:
        """Predicted seconds of a Hessian call on ``profile``'s machine (default: this
        one's), its plan priced by ``cost.time_model.price_plan``."""
        return price_plan(self.plan, profile or current_profile())

    def own(self, mode, chunk, strategy_ok=False, product=False) -> tuple[str, int | None]:
        """(mode, chunk) this bound runs; a different mode or chunk asked is a ValueError
        (``strategy_ok``: 'auto', ``hessian``'s default, asks for what was bound)."""
        if mode not in (None, self.mode, self.asked) and not (strategy_ok and is_strategy(mode)) \
                or chunk not in (None, self.chunk):
            raise ValueError(f"this bound Hessian runs mode={self.mode!r}, chunk={self.chunk!r}; "
                             "leave mode and chunk unset, or bind another")
        if product and self.mode == OPTIMAL:
            raise ValueError(f"mode {OPTIMAL!r} has no hvp; bind one of "
                             f"{', '.join(_ENGINE_MODES)} for Hessian-vector products")
        return self.mode, self.chunk

    def __repr__(self) -> str:
        return f"BoundHessian({self.chain!r}, mode={self.mode!r}, chunk={self.chunk!r})"


def bind_hessian(chain: Chain, mode: str = "auto", chunk: int | None = None, **options):
    """``bind(chain, mode, chunk, order=2)``: a ``BoundHessian`` (first order's options,
    snapshots, step and dense, do not apply)."""
    given = [k for k, v in options.items() if v is not (True if k == "dense" else None)]
    if given:
        raise ValueError(f"order=2 takes no {', '.join(given)}; leave it unset")
    return BoundHessian(chain, mode, chunk)
