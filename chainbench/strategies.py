"""Strategies: modes that are not an engine but a rule for picking one. 'auto' takes the
engine and chunk the time model predicts fastest on this machine. This module is the one
place that tells a strategy's name from an engine's: everything else asks ``resolve``,
once, when it binds (``bound.bind``), and runs the concrete engine it returns."""

from __future__ import annotations

import numpy as np

from .cost.choice import Candidate, Choice, choose, fastest
from .cost.hessian_plan import MODE as OPTIMAL
from .cost.second_order import HESSIAN_MODES as SECOND_MODES
from .cost.second_order import default_chunk as second_default
from .cost.second_order import runnable as runnable_second
from .cost.second_plans import optimal_plan, second_plan
from .cost.time_model import price_plan
from .engines.contract import Engine
from .engines.registry import ENGINES
from .machine.current import current_profile
from .model.chain import shape_of

#: The modes 'auto' chooses between (never the operation-level ones: on the same chain they
#: do the layer-level modes' work in scalar operations, and are never predicted faster).
AUTO_CHOICES = ("forward", "reverse", "sparse-forward", "sparse-reverse")


def auto_chunks(lanes: int, default: int) -> list[int]:
    """The chunks 'auto' weighs for a mode with ``lanes`` lanes: every power of two below its
    ``default`` (the most the lane-block cap allows), and the default."""
    powers = [2**i for i in range(max(default - 1, 1).bit_length()) if 2**i < default]
    return [*powers, default]


def auto_choice(chain, profile=None) -> tuple[str, int]:
    """(mode, chunk) that 'auto' runs on ``chain``: of AUTO_CHOICES at each of its
    ``auto_chunks``, the one the time model predicts fastest on ``profile``'s machine
    (default: this machine's); on a tie, forward (no tape) and the larger chunk — but the
    faster pure mode at its default chunk unless the fastest is predicted faster by more
    than the model's measured error for those passes (``auto_decision`` says which).

    Parameters
    ----------
    chain : Chain or ChainShape
    profile : MachineProfile, optional
        The machine to price on; default this machine's, measured on first use and cached.

    Returns
    -------
    (mode, chunk) : tuple of str and int
    """
    shape = shape_of(chain)
    return fastest("auto", shape, profile or current_profile(), _auto_candidates)


def auto_decision(chain, profile=None) -> Choice:
    """The ``cost.choice.Choice`` behind ``auto_choice``: what was picked, the safe default
    (the faster pure mode at its default chunk), the predicted gain and the band it had to
    exceed.

    Parameters
    ----------
    chain : Chain or ChainShape
    profile : MachineProfile, optional
        The machine to price on; default this machine's.

    Returns
    -------
    Choice
        ``.picked.value`` is (mode, chunk); ``.why()`` says why in one line.
    """
    shape = shape_of(chain)
    return choose("auto", shape, profile or current_profile(), _auto_candidates)


def auto_ranked(chain, profile=None) -> list[Candidate]:
    """Every candidate 'auto' weighs, fastest predicted first (the measuring planner times
    the first few)."""
    shape = shape_of(chain)
    return sorted(_auto_candidates(shape, profile or current_profile()),
                  key=lambda c: (c.seconds, c.tie))


def _auto_candidates(shape, profile):
    for order, name in enumerate(AUTO_CHOICES):
        impl = ENGINES[name]
        default = impl.chunk_for(shape)
        for chunk in auto_chunks(impl.lane_count(shape), default):
            plan = impl.plan(shape, chunk)
            # the pure modes at their default chunks are the safe choice: anything else must
            # beat them by more than the model's measured error (cost.choice)
            safe = impl.algorithm is not None and chunk == default
            yield Candidate(price_plan(plan, profile).seconds, (order, -chunk), (name, chunk),
                            plan, safe)


#: strategy name -> (shape, profile) -> (engine name, chunk) it runs there
STRATEGIES = {"auto": auto_choice}

#: Every name a mode may take: the engines' and the strategies'.
MODES = (*ENGINES, *STRATEGIES)


def is_strategy(mode) -> bool:
    """Whether ``mode`` names a strategy (a rule that picks an engine), not an engine."""
    return isinstance(mode, str) and mode in STRATEGIES


def resolve(shape, mode, chunk=None, profile=None) -> tuple[Engine, int | None]:
    """(engine, chunk) that ``mode`` runs on a chain of ``shape``: a strategy's pick (on
    ``profile``'s machine, default this one's), at its chunk unless ``chunk`` is given; an
    engine's default chunk unless given. A given chunk is checked against the lanes
    there are; an unknown mode is a ValueError listing the modes there are."""
    if is_strategy(mode):
        name, picked = STRATEGIES[mode](shape, profile)
        impl, chunk = ENGINES[name], picked if chunk is None else chunk
    elif isinstance(mode, str) and mode in ENGINES:
        impl = ENGINES[mode]
    else:
        raise ValueError(f"unknown mode {mode!r}; choose one of: {', '.join(MODES)}")
    if chunk is None:
        return impl, impl.chunk_for(shape)
    return impl, check_chunk(chunk, impl, shape)


def check_chunk(chunk, impl: Engine, shape) -> int:
    """``chunk`` as an int in 1..lanes, or a clear error (modes without lanes take none)."""
    limit = impl.lane_count(shape) if impl.lanes is not None else None
    return chunk_within(chunk, impl.name, limit, lambda: _lanes_named(impl, shape, limit))


def chunk_within(chunk, mode: str, limit: int | None, named=None) -> int:
    """The one chunk rule, first and second order alike: ``chunk`` as an int in 1..limit,
    or a clear error; ``limit`` None: mode takes no chunk. ``named()`` says what the lanes
    are (default: the number of inputs n)."""
    if limit is None:
        raise ValueError(f"mode {mode!r} takes no chunk; leave chunk=None")
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer):
        raise TypeError(f"chunk must be an integer or None, got {chunk!r}")
    if not 1 <= chunk <= limit:
        what = named() if named else f"the number of inputs n = {limit}"
        raise ValueError(f"chunk must be between 1 and {what}, got {chunk}")
    return int(chunk)


def _lanes_named(impl: Engine, shape, limit: int) -> str:
    """The lanes a mode moves, in words: the inputs n or outputs m, or, for a mode that
    moves one lane per color (``lane_total``), the colors of J's columns or rows."""
    if impl.lane_total is not None:
        side, size = ("columns", f"n = {shape.n}") if impl.lanes == "n" else \
            ("rows", f"m = {shape.m}")
        return (f"the {limit} colors of J's {side} (mode {impl.name!r} moves one lane per "
                f"color; the chain has {size})")
    return f"the number of inputs n = {limit}" if impl.lanes == "n" else \
        f"the number of outputs m = {limit}"


# --- second order: 'auto' for a Hessian or an HVP, by the same rule ---------------------------


def second_choice(shape, profile=None, chunk: int | None = None,
                  lanes: int | None = None) -> tuple[str, int | None]:
    """(mode, chunk) that 'auto' runs for the Hessian of u·f (``lanes`` None) or an HVP of
    ``lanes`` directions: of the second-order modes, each at its ``auto_chunks`` (or at
    ``chunk`` where one is given; 'hessian-optimal' takes none), the one the time model
    predicts fastest on ``profile``'s machine (on a tie the first of
    ``second_order.HESSIAN_MODES`` and the larger chunk), unless that is within the model's
    error of the faster mixed mode at its default chunk (``SAFE_SECOND``, ``cost.choice``)."""
    shape = shape_of(shape)
    kind = ("auto", 2, chunk, lanes)
    return fastest(kind, shape, profile or current_profile(),
                   lambda s, p: _second_candidates(s, p, chunk, lanes))


def _second_candidates(shape, profile, chunk, lanes):
    for order, mode in enumerate(SECOND_MODES):
        if mode not in runnable_second(shape):
            continue
        if lanes is not None:
            plans = [(lanes, second_plan(shape, mode, lanes, lanes, seeded=False))]
        else:
            chunks = [chunk] if chunk else auto_chunks(shape.n, second_default(shape, mode))
            plans = [(c, second_plan(shape, mode, c)) for c in chunks]
        default = lanes if lanes is not None else chunk or second_default(shape, mode)
        for c, plan in plans:
            # the mixed modes (dual numbers over the tape, either way round) at their default
            # chunk are the safe choice; hyper-dual numbers and the bracketing, whose
            # prices miss most, must beat them by more than the model's error (cost.choice)
            safe = mode in SAFE_SECOND and c == default
            yield Candidate(price_plan(plan, profile).seconds, (order, -c), (mode, c), plan,
                            safe)
    if lanes is None and chunk is None:
        plan = optimal_plan(shape)
        yield Candidate(price_plan(plan, profile).seconds, (len(SECOND_MODES), 0),
                        (OPTIMAL, None), plan, False)


#: The second-order modes 'auto' leaves only for a gain beyond the model's error.
SAFE_SECOND = ("forward-over-reverse", "reverse-over-forward")


def resolve_second(shape, mode: str, chunk=None, profile=None,
                   lanes: int | None = None) -> tuple[str, int | None]:
    """(mode, chunk) a second-order call runs: 'auto''s pick (``second_choice``), or
    ``mode`` (already known to be a second-order mode) at ``chunk``, checked by the one
    chunk rule (``chunk_within``); None: the mode's default. An HVP (``lanes``) runs its
    directions in one sweep and takes no chunk."""
    shape = shape_of(shape)
    if lanes is not None:
        return (second_choice(shape, profile, lanes=lanes)[0] if is_strategy(mode) else mode,
                lanes)
    if chunk is not None and is_strategy(mode):
        chunk = chunk_within(chunk, mode, shape.n)
    if is_strategy(mode):
        return second_choice(shape, profile, chunk)
    if mode == OPTIMAL:
        if chunk is not None:
            chunk_within(chunk, mode, None)
        return mode, None
    return mode, second_default(shape, mode) if chunk is None else \
        chunk_within(chunk, mode, shape.n)
