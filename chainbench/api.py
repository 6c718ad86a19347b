"""The public differentiation API: jacobian (with a mode), jvp, vjp, record_tape and
record_op_tape, and predict / predict_time (what a mode's counters should read, and how long
it should take).

Each is a thin wrapper: ``bound.bind`` resolves the mode and binds the engine once per chain
and arguments; ``strategies`` says what 'auto' runs.
"""

from __future__ import annotations

from .bound import bind, cached, engine_options, predict_of, price_of
from .cost.predictions import Prediction
from .cost.time_model import TimePrediction
from .engines import reverse
from .engines.oplevel.tape import OpTape, record_tape as _record_op_tape
from .machine.current import current_profile
from .model.chain import Chain, check_input, shape_of
from .model.counters import new_counters
from .strategies import AUTO_CHOICES, MODES, auto_choice, auto_chunks, resolve  # noqa: F401

__all__ = ["MODES", "AUTO_CHOICES", "auto_choice", "auto_chunks", "resolve_mode",
           "default_chunk", "predict", "predict_time", "jacobian", "jvp", "vjp",
           "record_tape", "record_op_tape"]


def _chain(chain) -> Chain:
    if not isinstance(chain, Chain):
        raise TypeError(f"chain must be a chainbench.Chain, got {type(chain).__name__}")
    return chain


def resolve_mode(chain, mode: str) -> str:
    """The engine name ``mode`` runs on ``chain`` (a Chain or ChainShape).

    Parameters
    ----------
    chain : Chain or ChainShape
    mode : str, one of ``chainbench.MODES``
    """
    return resolve(shape_of(chain), mode)[0].name


def default_chunk(chain, mode: str) -> int | None:
    """Lanes per sweep ``mode`` takes by default on ``chain``; None for modes without.

    Parameters
    ----------
    chain : Chain or ChainShape
    mode : str, one of ``chainbench.MODES``
    """
    return resolve(shape_of(chain), mode)[1]


def predict(chain, mode: str, chunk: int | None = None,
            snapshots: int | None = None) -> Prediction:
    """The counters ``mode`` should fill on ``chain``, from layer kinds and widths alone.

    Parameters
    ----------
    chain : Chain or ChainShape
    mode : str, one of ``chainbench.MODES``
        A strategy such as 'auto' is resolved first: its pick, at its chunk.
    chunk : int, optional
        Lanes per sweep (default: the mode's, or the strategy's pick).
    snapshots : int, optional
        Checkpointed reverse modes only (see ``jacobian``).

    Returns
    -------
    Prediction
        Sweeps, multiply-adds and bytes held besides J.
    """
    shape = shape_of(chain)
    impl, chunk = resolve(shape, mode, chunk)
    return predict_of(shape, impl, chunk, engine_options(impl, snapshots))


def predict_time(chain, mode: str, chunk: int | None = None, snapshots: int | None = None,
                 profile=None, dense: bool = True) -> TimePrediction:
    """Predicted seconds of ``mode``'s Jacobian of ``chain`` on this machine, each pass
    priced by its compute or its memory traffic, whichever bounds it.

    Parameters
    ----------
    chain : Chain or ChainShape
    mode : str, one of ``chainbench.MODES``
    chunk : int, optional
        Lanes per sweep (default: the mode's, or the strategy's pick).
    snapshots : int, optional
        Checkpointed reverse modes only (see ``jacobian``).
    profile : MachineProfile, optional
        The machine to price on, and to resolve a strategy on; default this machine's,
        measured on first use and cached.
    dense : bool
        False: price the sparse modes' compressed J (see ``jacobian``).

    Returns
    -------
    TimePrediction
    """
    shape = shape_of(chain)
    profile = profile or current_profile()
    impl, chunk = resolve(shape, mode, chunk, profile)
    return price_of(shape, impl, chunk, engine_options(impl, snapshots, None, dense), profile)


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
    bound = cached(chain, mode, chunk, snapshots, step, dense)
    if bound is None:  # bind, x checked first: binding 'auto' may measure this machine
        x = check_input(x, _chain(chain).n)
        bound = bind(chain, mode, chunk, snapshots=snapshots, step=step, dense=dense)
    return bound(x, None, return_stats)


def jvp(chain: Chain, x, v, return_stats: bool = False):
    """Forward mode: (f(x), J v) in one dual-number sweep.

    Parameters
    ----------
    chain : Chain
    x : array_like, shape (n,)
    v : array_like, shape (n,) or (n, k)
        The direction, or k directions at once (then J v is (m, k)).
    return_stats : bool
        Also return an ``EngineStats`` with the engine's counters.

    Returns
    -------
    y : ndarray, shape (m,)
    Jv : ndarray, shape (m,) or (m, k)
    stats : EngineStats, only if ``return_stats``
    """
    return bind(chain, "forward").jvp(x, v, return_stats)


def vjp(chain: Chain, x, u, return_stats: bool = False):
    """Reverse mode: (f(x), uᵀ J) from one recorded sweep and one backward sweep.

    Parameters
    ----------
    chain : Chain
    x : array_like, shape (n,)
    u : array_like, shape (m,) or (k, m)
        The cotangent, or k of them at once (then uᵀ J is (k, n)).
    return_stats : bool
        Also return an ``EngineStats`` with the engine's counters.

    Returns
    -------
    y : ndarray, shape (m,)
    uJ : ndarray, shape (n,) or (k, n)
    stats : EngineStats, only if ``return_stats``
    """
    return bind(chain, "reverse").vjp(x, u, return_stats)


def record_tape(chain: Chain, x) -> reverse.Tape:
    """The tape reverse mode records at ``x``: per layer, what its VJP needs.

    Parameters
    ----------
    chain : Chain
    x : array_like, shape (n,)

    Returns
    -------
    Tape
    """
    return reverse.record(_chain(chain), check_input(x, chain.n), new_counters())


def record_op_tape(chain: Chain, x) -> OpTape:
    """The Wengert list ``op-reverse`` records at ``x``: one entry per primitive operation
    of every layer's lowering (``len``, ``nbytes``, ``dump()``).

    Parameters
    ----------
    chain : Chain
    x : array_like, shape (n,)

    Returns
    -------
    OpTape
    """
    return _record_op_tape(_chain(chain), check_input(x, chain.n), new_counters())
