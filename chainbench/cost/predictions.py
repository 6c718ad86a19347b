"""The cost model: multiply-adds, sweeps and bytes each mode should take, predicted from
layer kinds and widths alone (no parameters, no kernels), for the engines' counters to match.

Forward mode with chunk c: ⌈n/c⌉ sweeps, each evaluating the chain and pushing c lanes,
so n·Σ T_k tangent multiply-adds. Reverse mode with chunk r: one recording sweep and
⌈m/r⌉ backward sweeps, so m·Σ A_k adjoint multiply-adds and a tape of Σ saved_k floats.
Sweeps from basis directions skip the product at their first layer (layer 1 forward,
layer K in reverse) and write that layer's Jacobian columns (rows) out instead: n·out_1
(m·in_K) entries, counted with the accumulation work, in place of n·T_1 (m·A_K).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from math import ceil

import numpy as np

from ..engines.registry import ENGINES
from ..model.chain import Chain, ChainShape
from ..model.counters import Counts

F64 = 8


@dataclass(frozen=True)
class Prediction(Counts):
    """Predicted counters of one Jacobian (fields: see ``stats.Counts``)."""


def _shape(chain: Chain | ChainShape) -> ChainShape:
    return chain.shape if isinstance(chain, Chain) else chain


def _costs(shape: ChainShape):
    return [cls.cost(shape.widths[k], shape.widths[k + 1]) for k, cls in enumerate(shape.layers)]


def default_chunk(chain: Chain | ChainShape, mode: str) -> int | None:
    """Lanes per sweep an engine takes by default; None for modes without a chunk."""
    shape = _shape(chain)
    engine = ENGINES[mode]
    if engine.LANES is None:
        return None
    return engine.default_chunk(max(shape.widths), shape.n if engine.LANES == "n" else shape.m)


def predict_forward(chain: Chain | ChainShape, chunk: int | None = None) -> Prediction:
    """Dual-number forward mode: ⌈n/c⌉ sweeps; J_1's n columns written out, then
    n·Σ_{k>1} T_k tangent multiply-adds."""
    shape = _shape(chain)
    c = chunk or default_chunk(shape, "forward")
    costs, w, n = _costs(shape), max(shape.widths), shape.n
    sweeps = ceil(n / c)
    return Prediction(
        "forward", c, sweeps, 0,
        madds_value=sweeps * sum(k.value for k in costs),
        madds_tangent=n * sum(k.tangent for k in costs[1:]),
        madds_adjoint=0,
        madds_accumulate=costs[0].explicit,  # J_1 written out, its n columns over the sweeps
        bytes_tape=0,
        bytes_work=F64 * (2 * w + 2 * w * c),  # values, ping-pong lanes
        layer_steps=sweeps * shape.depth,
    )


def predict_reverse(chain: Chain | ChainShape, chunk: int | None = None) -> Prediction:
    """Tape reverse mode: one recording sweep, ⌈m/r⌉ backward sweeps; J_K's m rows written
    out, then m·Σ_{k<K} A_k adjoint multiply-adds."""
    shape = _shape(chain)
    r = chunk or default_chunk(shape, "reverse")
    costs, w, m = _costs(shape), max(shape.widths), shape.m
    return Prediction(
        "reverse", r, 1, ceil(m / r),
        madds_value=sum(k.value for k in costs),
        madds_tangent=0,
        madds_adjoint=m * sum(k.adjoint for k in costs[:-1]),
        madds_accumulate=costs[-1].explicit,  # J_K written out, its m rows over the sweeps
        bytes_tape=F64 * sum(k.saved for k in costs),
        bytes_work=F64 * (2 * w + 2 * w * r),  # values, ping-pong rows
        layer_steps=shape.depth,
    )


def predict_optimal(chain: Chain | ChainShape, chunk: int | None = None) -> Prediction:
    """Mixed mode: one recording sweep, then the optimal plan's steps (``plan.plan``); or,
    where a pure engine's sweeps already cost the optimum, that engine's prediction."""
    from .plan import plan, pure_engine

    shape = _shape(chain)
    engine = pure_engine(shape)
    if engine is not None:
        return replace(PREDICTORS[engine](shape), mode="optimal", chunk=0)
    costs, w, maxw = _costs(shape), shape.widths, max(shape.widths)
    madds = {"tangents": 0, "adjoints": 0, "explicit": 0, "product": 0}
    sweeps = {"tangents": 0, "adjoints": 0}
    work = 2 * maxw  # the recording sweep's values
    for step in plan(shape).steps():
        madds[step.kind] += step.cost
        out = w[step.hi] * w[step.lo]  # every step yields its dense block J[lo:hi]
        work += out
        if step.kind in sweeps:
            sweeps[step.kind] += 1
            if step.inner is None:  # identity seed
                work += w[step.lo] ** 2 if step.kind == "tangents" else w[step.hi] ** 2
            if step.kind == "tangents":
                first = step.lo if step.inner is None else step.mid
                work += 2 * max(w[first + 1 : step.hi + 1]) * w[step.lo]  # ping-pong lanes
            else:
                work += 2 * maxw * w[step.hi]  # ping-pong rows
    return Prediction(
        "optimal", 0, 1 + sweeps["tangents"], sweeps["adjoints"],
        madds_value=sum(k.value for k in costs),
        madds_tangent=madds["tangents"],
        madds_adjoint=madds["adjoints"],
        madds_accumulate=madds["explicit"] + madds["product"],
        bytes_tape=F64 * sum(k.saved for k in costs),
        bytes_work=F64 * work,
        layer_steps=shape.depth,
    )


def predict_checkpointed(chain: Chain | ChainShape, chunk: int | None = None,
                         snapshots: int | None = None, kind: str = "sqrt") -> Prediction:
    """Checkpointed reverse mode: each of ⌈m/r⌉ backward sweeps replays the schedule
    (``checkpoint.schedule``): ADVANCE stretches evaluate values, REVERSE stretches record
    then pull r rows. Memory: snapshot slots (+ scratch), the longest stretch's tape."""
    from .checkpoint import ADVANCE, schedule

    shape = _shape(chain)
    r = chunk or default_chunk(shape, "reverse")
    costs, w, m = _costs(shape), max(shape.widths), shape.m
    sched = schedule(kind, shape.depth, snapshots)
    value = steps = tape = 0
    for op, a, b, _, _ in sched.actions:
        value += sum(c.value for c in costs[a:b])
        steps += b - a
        if op != ADVANCE:
            tape = max(tape, sum(c.saved for c in costs[a:b]))
    sweeps = ceil(m / r)
    return Prediction(
        "revolve" if kind == "revolve" else "sqrt-checkpoint", r, sweeps, sweeps,
        madds_value=sweeps * value,
        madds_tangent=0,
        madds_adjoint=m * sum(k.adjoint for k in costs[:-1]),
        madds_accumulate=costs[-1].explicit,  # J_K's rows seed the backward sweeps
        bytes_tape=F64 * tape,
        bytes_work=F64 * (2 * w + 2 * w * r),
        bytes_snapshots=F64 * (sched.slots + 1) * w,
        layer_steps=sweeps * steps,
    )


#: Evaluations of f each numerical method takes for a Jacobian with n inputs.
EVALUATIONS = {"fd-forward": lambda n: n + 1, "fd-central": lambda n: 2 * n,
               "complex-step": lambda n: n}


def predict_numerical(chain: Chain | ChainShape, chunk: int | None = None,
                      method: str = "fd-forward") -> Prediction:
    """Numerical differentiation: e evaluations of f alone (n + 1, 2n or n), so e·Σ V_k
    value multiply-adds (a complex one counted as one); work: two value buffers, the moved
    input and one saved output (complex step: two complex value buffers and the input)."""
    shape = _shape(chain)
    costs, w, n, m = _costs(shape), max(shape.widths), shape.n, shape.m
    evals = EVALUATIONS[method](n)
    work = 2 * F64 * (2 * w + n) if method == "complex-step" else F64 * (2 * w + n + m)
    return Prediction(
        method, 1, evals, 0,
        madds_value=evals * sum(k.value for k in costs),
        madds_tangent=0,
        madds_adjoint=0,
        bytes_tape=0,
        bytes_work=work,
        layer_steps=evals * shape.depth,
        evaluations=evals,
    )


def predict_peer(chain: Chain | ChainShape, chunk: int | None = None,
                 mode: str = "jax-jacrev") -> Prediction:
    """A peer AD tool: the work of the chainbench mode whose algorithm it runs (jacfwd:
    forward with all n lanes; jacrev: reverse with all m rows; autograd: reverse one row
    per sweep). Peers count nothing, so this is what the sweep's guards plan with."""
    shape = _shape(chain)
    peer = ENGINES[mode]
    lanes = shape.n if peer.MIRRORS == "forward" else shape.m
    base = PREDICTORS[peer.MIRRORS](shape, lanes if peer.MIRROR_CHUNK == "all" else 1)
    return replace(base, mode=mode)


PREDICTORS = {
    "forward": predict_forward, "reverse": predict_reverse, "optimal": predict_optimal,
    "sqrt-checkpoint": lambda chain, chunk=None, snapshots=None: predict_checkpointed(
        chain, chunk, snapshots, "sqrt"),
    "revolve": lambda chain, chunk=None, snapshots=None: predict_checkpointed(
        chain, chunk, snapshots, "revolve"),
    **{method: partial(predict_numerical, method=method) for method in EVALUATIONS},
    **{mode: partial(predict_peer, mode=mode)
       for mode, engine in ENGINES.items() if hasattr(engine, "MIRRORS")},
}


def check_chunk(chunk, limit: int, lanes: str | None, mode: str) -> int:
    """``chunk`` as an int in 1..limit, or a clear error (modes without lanes take none)."""
    if lanes is None:
        raise ValueError(f"mode {mode!r} takes no chunk; leave chunk=None")
    if isinstance(chunk, bool) or not isinstance(chunk, int | np.integer):
        raise TypeError(f"chunk must be an integer or None, got {chunk!r}")
    if not 1 <= chunk <= limit:
        what = "inputs n" if lanes == "n" else "outputs m"
        raise ValueError(f"chunk must be between 1 and the number of {what} = {limit}, got {chunk}")
    return int(chunk)


def predict(chain: Chain | ChainShape, mode: str, chunk: int | None = None,
            snapshots: int | None = None) -> Prediction:
    """Prediction for ``mode`` (any of ``chainbench.MODES``; 'auto': the pure mode the cost
    model finds cheaper at default chunks, then predicted at ``chunk``)."""
    if mode == "auto":
        mode = cheapest(chain).mode
    if mode not in PREDICTORS:
        raise ValueError(f"unknown mode {mode!r}; choose one of: {', '.join([*PREDICTORS, 'auto'])}")
    if chunk is not None:
        shape = _shape(chain)
        lanes = ENGINES[mode].LANES
        chunk = check_chunk(chunk, shape.n if lanes == "n" else shape.m, lanes, mode)
    if snapshots is not None:
        return PREDICTORS[mode](chain, chunk, snapshots)
    return PREDICTORS[mode](chain, chunk)


def cheapest(chain: Chain | ChainShape) -> Prediction:
    """The pure mode with the fewest predicted multiply-adds (forward on a tie: no tape)."""
    fwd, rev = predict_forward(chain), predict_reverse(chain)
    return fwd if fwd.madds <= rev.madds else rev


def slides_formula(widths) -> tuple[int, int]:
    """The lecture's dense-matrix count, n·Σ n_k n_{k-1} (forward) and m·Σ n_k n_{k-1}
    (reverse), treating every layer as a full matrix product."""
    products = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return widths[0] * products, widths[-1] * products
