"""The public differentiation API: jvp, vjp, jacobian (with a mode), record_tape and
record_op_tape, and predict (what a mode's counters should read).

Validates at the edge, allocates outputs, and hands flat arrays to an engine.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .cost.predictions import Prediction
from .cost.time_model import TimePrediction, cached_overheads, price_call
from .engines import forward, reverse
from .engines.contract import Engine
from .engines.numerical import check_step
from .engines.oplevel.tape import OpTape, record_tape as _record_op_tape
from .engines.registry import ENGINES, engine
from .errors import TooLarge
from .machine.current import current_profile
from .model.chain import Chain, check_input, check_not_masked
from .model.counters import EngineStats, new_counters
from .model.sparsity import sparsity
from .provenance import available_memory

MODES = (*ENGINES, "auto")


#: The modes 'auto' chooses between (never the operation-level ones: on the same chain they
#: do the layer-level modes' work in scalar operations, and are never predicted faster).
AUTO_CHOICES = ("forward", "reverse", "sparse-forward", "sparse-reverse")


def resolve_mode(chain, mode: str) -> str:
    """The engine name for ``mode`` on ``chain`` (a Chain or ChainShape); 'auto': the mode
    of ``auto_choice``."""
    if isinstance(mode, str) and mode == "auto":
        return auto_choice(chain)[0]
    return engine(mode).name


def auto_chunks(lanes: int, default: int) -> list[int]:
    """The chunks 'auto' weighs for a mode with ``lanes`` lanes: every power of two below its
    ``default`` (the most the lane-block cap allows), and the default."""
    powers = [2**i for i in range(max(default - 1, 1).bit_length()) if 2**i < default]
    return [*powers, default]


def auto_choice(chain, profile=None) -> tuple[str, int]:
    """(mode, chunk) that 'auto' runs on ``chain``: of AUTO_CHOICES at each of its
    ``auto_chunks``, the one the time model predicts fastest on ``profile``'s machine
    (default: this machine's); on a tie, forward (no tape) and the larger chunk."""
    shape = chain.shape if isinstance(chain, Chain) else chain
    profile = profile or current_profile()
    key = (shape, profile.created, cached_overheads(profile))
    if key not in _AUTO:
        options = []
        for order, name in enumerate(AUTO_CHOICES):
            impl = ENGINES[name]
            for chunk in auto_chunks(impl.lane_count(shape), impl.chunk_for(shape)):
                seconds = predict_time(shape, name, chunk, profile=profile).seconds
                options.append((seconds, order, -chunk, name, chunk))
        _AUTO[key] = min(options)[3:]
    return _AUTO[key]


#: (shape, profile, overheads) -> auto's choice: every 'auto' call and prediction asks.
_AUTO: dict[tuple, tuple[str, int]] = {}


def check_chunk(chunk, limit: int, impl: Engine) -> int:
    """``chunk`` as an int in 1..limit, or a clear error (modes without lanes take none)."""
    if impl.lanes is None:
        raise ValueError(f"mode {impl.name!r} takes no chunk; leave chunk=None")
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer):
        raise TypeError(f"chunk must be an integer or None, got {chunk!r}")
    if not 1 <= chunk <= limit:
        what = "inputs n" if impl.lanes == "n" else "outputs m"
        raise ValueError(f"chunk must be between 1 and the number of {what} = {limit}, got {chunk}")
    return int(chunk)


def _options(impl: Engine, snapshots, step, dense: bool = True) -> dict:
    """The options given, checked against those ``impl`` takes (``dense``: only False is
    an option, that of the sparse modes; True is every mode's default)."""
    if not isinstance(dense, bool):
        raise TypeError(f"dense must be True or False, got {dense!r}")
    given = (("snapshots", snapshots), ("step", step), ("dense", None if dense else False))
    options = {k: v for k, v in given if v is not None}
    for key in options:  # each engine names the options it takes
        if key not in impl.options:
            takers = [k for k, e in ENGINES.items() if key in e.options]
            raise ValueError(f"mode {impl.name!r} takes no {key}; leave {key}=None ({key} is "
                             f"for {', '.join(takers)})")
    if isinstance(options.get("snapshots"), np.integer):  # as chunk takes np.int64(2)
        options["snapshots"] = int(options["snapshots"])
    if "step" in options:
        options["step"] = _check_step(options["step"])
    return options


def predict(chain, mode: str, chunk: int | None = None,
            snapshots: int | None = None) -> Prediction:
    """The counters ``mode`` should fill on ``chain`` (a Chain or ChainShape), from layer
    kinds and widths alone ('auto': the mode of ``auto_choice``, at its chunk unless
    ``chunk`` is given)."""
    shape, impl, chunk, options = _resolved(chain, mode, chunk, snapshots)
    return impl.predict(shape, chunk, **options)


def _resolved(chain, mode: str, chunk, snapshots, dense: bool = True, profile=None) -> tuple:
    """(shape, engine, checked chunk, options) of a prediction for ``mode`` on ``chain``
    ('auto' chosen on ``profile``'s machine, default this one's)."""
    shape = chain.shape if isinstance(chain, Chain) else chain
    if isinstance(mode, str) and mode == "auto":
        name, picked = auto_choice(shape, profile)
        impl, chunk = ENGINES[name], picked if chunk is None else chunk
    else:
        impl = ENGINES[resolve_mode(shape, mode)]
    if chunk is not None:
        chunk = check_chunk(chunk, impl.lane_count(shape), impl)
    return shape, impl, chunk, _options(impl, snapshots, None, dense)


def predict_time(chain, mode: str, chunk: int | None = None, snapshots: int | None = None,
                 profile=None, dense: bool = True) -> TimePrediction:
    """Predicted seconds of ``mode``'s Jacobian of ``chain`` on this machine (``profile``:
    the machine profile to price with; default this machine's, measured on first use and
    cached), each pass priced by its compute or its memory traffic, whichever bounds it."""
    profile = profile or current_profile()
    shape, impl, chunk, options = _resolved(chain, mode, chunk, snapshots, dense, profile)
    held = impl.predict(shape, chunk, **options).bytes_held
    return price_call(shape, impl.passes(shape, chunk, **options), held, profile)


def default_chunk(chain, mode: str) -> int | None:
    """Lanes per sweep ``mode`` takes by default on ``chain``; None for modes without."""
    shape = chain.shape if isinstance(chain, Chain) else chain
    if isinstance(mode, str) and mode == "auto":
        return auto_choice(shape)[1]
    return ENGINES[resolve_mode(shape, mode)].chunk_for(shape)


def jacobian(chain: Chain, x, mode: str = "auto", chunk: int | None = None,
             snapshots: int | None = None, return_stats: bool = False,
             step: float | None = None, dense: bool = True):
    """The Jacobian of ``chain`` at ``x``.

    Parameters
    ----------
    chain : Chain
    x : array_like, shape (n,)
    mode : str, one of ``chainbench.MODES``
        'forward' pushes ``chunk`` tangent lanes per sweep (⌈n/chunk⌉ sweeps), 'reverse'
        records a tape once and pulls ``chunk`` cotangent rows per backward sweep (⌈m/chunk⌉
        sweeps); 'optimal' executes the cheapest bracketing of the Jacobian chain (see
        ``chainbench.cost.plan``); 'auto' takes the pure mode and chunk the time model predicts
        fastest here (``auto_choice``).
        'fd-forward', 'fd-central' and 'complex-step' approximate J numerically (n + 1, 2n
        and n evaluations of f; see ``chainbench.engines.numerical``); 'jax-jacfwd', 'jax-jacrev',
        'torch-jacfwd', 'torch-jacrev' and 'autograd' hand the chain to an optional peer AD
        tool (see ``chainbench.peers``). 'sparse-forward' and 'sparse-reverse' move one lane
        per color of J's columns or rows (``chainbench.coloring``) and decompress J from the
        compressed product (see ``chainbench.engines.sparse``).
    chunk : int, optional
        Lanes per sweep, 1 ≤ chunk ≤ n (forward) or m (reverse). Default: all of them while
        the lane block stays within 16 MiB (see ``cost.predictions.default_lanes``); 'auto':
        the chunk it chose.
    snapshots : int, optional
        Checkpointed reverse modes only: 'sqrt-checkpoint' keeps this many segment starts
        (default ⌈√K⌉), 'revolve' this many snapshot slots, the input's included (default
        ⌈√K⌉); see ``chainbench.cost.checkpoint``.
    return_stats : bool
        Also return an ``EngineStats`` with the engine's counters.
    step : float, optional
        Numerical modes only: the relative step, h_j = step·max(1, |x_j|), with
        0 < step ≤ 1 (``MAX_STEP``; a larger one is a secant, not a derivative). Default √ε
        ('fd-forward'), ε^(1/3) ('fd-central'), 1e-20 ('complex-step').
    dense : bool
        False (sparse modes only): J as a ``scipy.sparse.csr_array`` holding the structural
        nonzeros (``chainbench.sparsity``), for n whose dense J would not fit. A J that
        does not fit in the memory available raises ``TooLarge`` either way.

    Returns
    -------
    J : ndarray, shape (m, n), or scipy.sparse.csr_array with ``dense=False``
    stats : EngineStats, only if ``return_stats``
    """
    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a chainbench.Chain, got {type(chain).__name__}")
    x = check_input(x, chain.widths[0])
    key = (mode, chunk, type(chunk), snapshots, type(snapshots), step, type(step))
    try:  # the engine call for these arguments, resolved on first use (see _bind)
        name, chunk, run, shape = chain.bound_calls[key]
    except (KeyError, TypeError):  # first use, or an unhashable argument _bind refuses
        name, chunk, run, shape = _bind(chain, mode, chunk, snapshots, step)
    counts = new_counters() if return_stats else _UNREAD
    if dense is not True:
        J = _sparse_output(chain, ENGINES[name], chunk, x, counts, snapshots, step, dense)
    else:
        J = np.empty(shape) if shape[0] * shape[1] <= _CHECK_ABOVE else _dense_output(shape)
        run(x, J, counts)
    if return_stats:
        return J, EngineStats.from_counters(name, chunk, counts)
    return J


#: Entries of a dense J above which its size is checked against the memory available
#: (reading it costs ~20 µs, more than a small Jacobian): 32 Mi entries, 256 MiB.
_CHECK_ABOVE = 2**25


def _fits(nbytes: int, what: str, instead: str) -> None:
    """TooLarge unless ``nbytes`` fit in the memory this process has."""
    room = available_memory()
    if room is not None and nbytes > room:
        raise TooLarge(f"{what} needs {nbytes / 2**30:.3g} GiB, more than the "
                       f"{room / 2**30:.3g} GiB available; {instead}")


def _dense_output(shape: tuple[int, int]) -> np.ndarray:
    m, n = shape
    _fits(8 * m * n, f"a dense {m} × {n} Jacobian", "for a sparse one ask mode="
          "'sparse-forward' or 'sparse-reverse' with dense=False")
    return np.empty(shape)


def _sparse_output(chain: Chain, impl: Engine, chunk, x, counts, snapshots, step, dense):
    """J as a CSR array over its structural pattern, the values filled by ``impl``; the
    binding (its pattern and coloring) cached on the chain beside the dense calls."""
    options = _options(impl, snapshots, step, dense)  # refuses dense=False but sparse modes
    key = (impl.name, chunk, "csr", tuple(sorted(options.items())))
    if key not in chain.bound_calls:
        pattern = sparsity(chain)
        chain.bound_calls[key] = (impl.bind(chain.program, chunk, **options), pattern)
    run, pattern = chain.bound_calls[key]
    if pattern.nnz > _CHECK_ABOVE:
        _fits(12 * pattern.nnz, f"a sparse Jacobian of {pattern.nnz} nonzeros",
              "differentiate a smaller chain")
    data = np.empty(pattern.nnz)
    run(x, data, counts)
    return sp.csr_array((data, pattern.indices.copy(), pattern.indptr.copy()),
                        shape=pattern.shape)


#: The largest relative step the numerical modes take: beyond it the quotient is a secant
#: across the function, not a derivative (and x + h may overflow).
MAX_STEP = 1.0


def _check_step(step) -> float:
    step = check_step(step)  # a positive finite number, or the engines' own error
    if step > MAX_STEP:
        raise ValueError(f"step must be in (0, {MAX_STEP:g}] (relative: h_j = step·max(1, "
                         f"|x_j|)), got {step!r}")
    return step


#: The counters of calls that do not ask for stats: kernels add to them and nobody reads
#: them, which spares each call a fresh zeroed array (0.2 µs of a 4 µs Jacobian at n = 32).
_UNREAD = new_counters()


def _bind(chain: Chain, mode, chunk, snapshots=None, step=None) -> tuple:
    """(engine name, chunk, run, J's shape) for these arguments on ``chain``, where
    run(x, J, counts) fills J; validated, then cached in ``chain.bound_calls``: a small
    Jacobian takes a few µs, so resolving the mode and chunk anew on every call would show,
    and a checkpointed mode's schedule (built when bound) would be rebuilt every call."""
    impl = ENGINES[resolve_mode(chain, mode)]
    if chunk is None:  # what the counters report, also for an engine without lanes
        lanes = default_chunk(chain, mode)
    else:
        lanes = check_chunk(chunk, impl.lane_count(chain.shape), impl)
    run = impl.bind(chain.program, lanes, **_options(impl, snapshots, step))
    # keyed by each argument's type too: 3.0 == 3 and True == 1 hash alike, and must stay
    # refused
    key = (mode, chunk, type(chunk), snapshots, type(snapshots), step, type(step))
    bound = chain.bound_calls[key] = (impl.name, lanes, run, (chain.m, chain.n))
    return bound


def _lane_block(a, rows: int, what: str, lanes_first: bool) -> tuple[np.ndarray, bool]:
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


def jvp(chain: Chain, x, v, return_stats: bool = False):
    """Forward mode: (f(x), J v) in one dual-number sweep.

    ``v`` has shape (n,), or (n, k) for k directions at once (then J v is (m, k)).
    """
    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a chainbench.Chain, got {type(chain).__name__}")
    x = check_input(x, chain.n)
    V, flat = _lane_block(v, chain.n, "v", lanes_first=False)
    counts = new_counters()
    y, Y_dot = forward.jvp(chain.program, x, V, counts)
    out = (y, Y_dot[:, 0] if flat else Y_dot)
    if return_stats:
        return (*out, EngineStats.from_counters("forward", V.shape[1], counts))
    return out


def vjp(chain: Chain, x, u, return_stats: bool = False):
    """Reverse mode: (f(x), uᵀ J) from one recorded sweep and one backward sweep.

    ``u`` has shape (m,), or (k, m) for k rows at once (then uᵀ J is (k, n)).
    """
    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a chainbench.Chain, got {type(chain).__name__}")
    x = check_input(x, chain.n)
    U, flat = _lane_block(u, chain.m, "u", lanes_first=True)
    counts = new_counters()
    y, X_bar = reverse.vjp(chain.program, x, U, counts)
    out = (y, X_bar[0] if flat else X_bar)
    if return_stats:
        return (*out, EngineStats.from_counters("reverse", U.shape[0], counts))
    return out


def record_tape(chain: Chain, x) -> reverse.Tape:
    """The tape reverse mode records at ``x``: per layer, what its VJP needs."""
    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a chainbench.Chain, got {type(chain).__name__}")
    return reverse.record(chain, check_input(x, chain.n), new_counters())


def record_op_tape(chain: Chain, x) -> OpTape:
    """The Wengert list ``op-reverse`` records at ``x``: one entry per primitive operation
    of every layer's lowering (``len``, ``nbytes``, ``dump()``)."""
    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a chainbench.Chain, got {type(chain).__name__}")
    return _record_op_tape(chain, check_input(x, chain.n), new_counters())
