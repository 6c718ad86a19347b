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
from functools import lru_cache
from math import ceil

from ..model.chain import Chain, ChainShape, shape_of
from ..model.counters import Counts
from .checkpoint import ADVANCE, schedule
from .plan import plan

F64 = 8


@dataclass(frozen=True)
class Prediction(Counts):
    """Predicted counters of one Jacobian (fields: see ``model.counters.Counts``)."""

    def _repr_html_(self) -> str:  # Jupyter: the counters as a table
        from html import escape

        rows = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(str(v))}"
                       "</td></tr>" for k, v in vars(self).items())
        return f"<table>{rows}</table>"


def _shape(chain: Chain | ChainShape) -> ChainShape:
    return shape_of(chain)


def parameter_floats(shape: ChainShape) -> int:
    """float64 entries of every layer's parameters (alignment padding aside)."""
    return sum(cls.parameters(shape.widths[k], shape.widths[k + 1])
               for k, cls in enumerate(shape.layers))


def _costs(shape: ChainShape):
    return [cls.cost(shape.widths[k], shape.widths[k + 1]) for k, cls in enumerate(shape.layers)]


#: The lanes of a sweep (tangent lanes forward, cotangent rows in reverse) are capped so
#: that the (widest layer × lanes) block stays within this many bytes.
LANE_BYTES_CAP = 16 * 2**20


def default_lanes(max_width: int, limit: int) -> int:
    """All ``limit`` lanes in one sweep while the lane block fits in LANE_BYTES_CAP, else the
    most that do (matrix-matrix products beat many matrix-vector ones)."""
    return max(1, min(limit, LANE_BYTES_CAP // (8 * max_width)))


def predict_forward(chain: Chain | ChainShape, chunk: int | None = None) -> Prediction:
    """Dual-number forward mode: ⌈n/c⌉ sweeps; J_1's n columns written out, then
    n·Σ_{k>1} T_k tangent multiply-adds."""
    shape = _shape(chain)
    c = chunk or default_lanes(max(shape.widths), shape.n)
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
    r = chunk or default_lanes(max(shape.widths), shape.m)
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


def predict_optimal(chain: Chain | ChainShape, chunk: int | None = None,
                    choice=None, mode: str = "optimal") -> Prediction:
    """Mixed mode: one recording sweep, then the plan's steps; or, where a pure engine's
    sweeps already cost the optimum, that engine's prediction. ``choice``: 'forward',
    'reverse' or the plan's root Step (default: the multiply-add optimum, ``madds_choice``)."""
    shape = _shape(chain)
    choice = madds_choice(shape) if choice is None else choice
    engine = choice if isinstance(choice, str) else None
    if engine is not None:
        pure = predict_forward if engine == "forward" else predict_reverse
        return replace(pure(shape), mode=mode, chunk=0)
    costs, w, maxw = _costs(shape), shape.widths, max(shape.widths)
    madds = {"tangents": 0, "adjoints": 0, "explicit": 0, "product": 0}
    sweeps = {"tangents": 0, "adjoints": 0}
    work = 2 * maxw  # the recording sweep's values
    for step in choice.steps():
        madds[step.kind] += step.madds
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
        mode, 0, 1 + sweeps["tangents"], sweeps["adjoints"],
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
    shape = _shape(chain)
    r = chunk or default_lanes(max(shape.widths), shape.m)
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


def predict_mirror(chain: Chain | ChainShape, chunk: int | None = None, *, mode: str,
                   algorithm: str, all_lanes: bool) -> Prediction:
    """A peer AD tool: the work of the chainbench ``algorithm`` it runs, with all its lanes
    at once or one per sweep (jacfwd: forward, all n; jacrev: reverse, all m; autograd:
    reverse, one row per sweep). Peers count nothing, so this is what the sweep's guards
    plan with."""
    shape = _shape(chain)
    pure = predict_forward if algorithm == "forward" else predict_reverse
    lanes = shape.n if algorithm == "forward" else shape.m
    return replace(pure(shape, lanes if all_lanes else 1), mode=mode)


def cheapest(chain: Chain | ChainShape) -> Prediction:
    """The pure mode with the fewest predicted multiply-adds (forward on a tie: no tape)."""
    fwd, rev = predict_forward(chain), predict_reverse(chain)
    return fwd if fwd.madds <= rev.madds else rev


def slides_formula(widths) -> tuple[int, int]:
    """The lecture's dense-matrix count, n·Σ n_k n_{k-1} (forward) and m·Σ n_k n_{k-1}
    (reverse), treating every layer as a full matrix product."""
    products = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return widths[0] * products, widths[-1] * products


# --- chainbench's own pure modes against the optimal plan ----------------------------------


def engine_costs(chain: Chain | ChainShape) -> tuple[int, int]:
    """Derivative multiply-adds of chainbench's own pure modes, which start from J_1's
    columns (forward) or J_K's rows (reverse): the plans fwd[2..K](J1) and rev[1..K-1](JK),
    as the cost model predicts them."""
    shape = _shape(chain)
    fwd, rev = predict_forward(shape), predict_reverse(shape)
    return fwd.madds - fwd.madds_value, rev.madds - rev.madds_value


@lru_cache(maxsize=256)
def _pure_engine(shape: ChainShape) -> str | None:
    fwd, rev = engine_costs(shape)
    if min(fwd, rev) > plan(shape).total:
        return None
    return "forward" if fwd <= rev else "reverse"


def madds_choice(shape: ChainShape):
    """What mode='optimal-madds' runs: the pure engine whose sweeps cost the optimum in
    multiply-adds, else the multiply-add optimal plan."""
    return pure_engine(shape) or plan(shape)


def pure_engine(chain: Chain | ChainShape) -> str | None:
    """'forward' or 'reverse' when that engine's own sweeps already cost the optimum (square
    chains, gradients), so that mode='optimal' runs the engine instead of the plan, sparing
    its block copies; None when the plan beats both."""
    return _pure_engine(_shape(chain))
