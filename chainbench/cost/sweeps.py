"""The plans of the layer-level dense engines: forward, reverse, checkpointed reverse, mixed
(a bracketing's steps), numerical differentiation, and the peers that run one of them.

Forward mode with chunk c: ⌈n/c⌉ sweeps, each evaluating the chain and pushing c lanes, so
n·Σ T_k tangent multiply-adds. Reverse mode with chunk r: one recording sweep and ⌈m/r⌉
backward sweeps, so m·Σ A_k adjoint multiply-adds and a tape of Σ saved_k floats. Sweeps
from basis directions skip the product at their first layer (layer 1 forward, layer K in
reverse) and write that layer's Jacobian columns (rows) out instead: n·out_1 (m·in_K)
entries, counted with the accumulation work, in place of n·T_1 (m·A_K).
"""

from __future__ import annotations

from functools import lru_cache

from ..model.chain import Chain, ChainShape, shape_of
from .checkpoint import ADVANCE, schedule
from .plan import Step
from .plan import plan as bracketing
from .predictions import F64, default_lanes
from .work import (
    Plan,
    alloc_pass,
    check_lane_blocks,
    copy_pass,
    explicit_pass,
    fill_pass,
    grouped,
    lane_blocks,
    widest_block,
    lane_pass,
    product_pass,
    value_pass,
)


def saved_floats(shape: ChainShape, lo: int = 0, hi: int | None = None) -> int:
    """Floats layers lo..hi-1 save for their VJPs: the tape of that stretch."""
    return sum(cls.cost(shape.widths[k], shape.widths[k + 1]).saved
               for k, cls in enumerate(shape.layers) if lo <= k < (shape.depth if hi is None else hi))


def forward_plan(chain: Chain | ChainShape, chunk: int | None = None,
                 starts: tuple[tuple[int, int], ...] | None = None) -> Plan:
    """Dual-number forward mode: per sweep, layer 1 recorded and its c columns written, then
    values and c lanes through layers 2..K and the lanes copied into J. ``starts``: the
    sweeps' column blocks (first column, columns), default ``chunk`` at a time."""
    shape = shape_of(chain)
    w = max(shape.widths)
    starts = _starts(shape.n, chunk or default_lanes(w, shape.n), starts)
    c = widest_block(starts)
    out = [alloc_pass(F64 * (2 * w + 2 * w * c))]  # values, ping-pong lanes
    first = shape.layers[0].name
    for lanes, sweeps in grouped(starts):
        out.append(value_pass(shape, 0, sweeps, record=True))
        out.append(explicit_pass(shape.widths[1] * lanes, sweeps, first))
        for k in range(1, shape.depth):
            out += [value_pass(shape, k, sweeps), lane_pass(shape, k, lanes, "tangent", sweeps)]
        out.append(copy_pass(shape.m * lanes, sweeps))  # the lanes' columns of J
    return Plan("forward", c, tuple(out), len(starts), shape=shape, lane_blocks=starts)


def reverse_plan(chain: Chain | ChainShape, chunk: int | None = None,
                 starts: tuple[tuple[int, int], ...] | None = None) -> Plan:
    """Tape reverse mode: one recording sweep, then per backward sweep layer K's r rows
    written, pulled back through layers K-1..1 and copied into J. ``starts``: the sweeps'
    row blocks (first row, rows), default ``chunk`` at a time."""
    shape = shape_of(chain)
    w = max(shape.widths)
    starts = _starts(shape.m, chunk or default_lanes(w, shape.m), starts)
    r = widest_block(starts)
    out = [alloc_pass(F64 * saved_floats(shape), "tape"),
           alloc_pass(F64 * (2 * w + 2 * w * r))]  # values, ping-pong rows
    out += [value_pass(shape, k, record=True) for k in range(shape.depth)]
    last = shape.layers[-1].name
    for rows, sweeps in grouped(starts):
        out.append(explicit_pass(shape.widths[-2] * rows, sweeps, last))
        out += [lane_pass(shape, k, rows, "adjoint", sweeps) for k in range(shape.depth - 1)]
        out.append(copy_pass(rows * shape.n, sweeps))  # the rows of J
    return Plan("reverse", r, tuple(out), 1, len(starts), shape=shape, lane_blocks=starts)


def _starts(total: int, chunk: int, starts) -> tuple[tuple[int, int], ...]:
    return lane_blocks(total, chunk) if starts is None else check_lane_blocks(starts, total)


def checkpointed_plan(chain: Chain | ChainShape, chunk: int | None = None,
                      snapshots: int | None = None, kind: str = "sqrt",
                      starts: tuple[tuple[int, int], ...] | None = None) -> Plan:
    """Each backward sweep replays the schedule (``checkpoint.schedule``): ADVANCE stretches
    evaluate values, REVERSE stretches record their tape and pull the rows back. Held: the
    snapshot slots (+ scratch), the longest stretch's tape, values and rows."""
    shape = shape_of(chain)
    w = max(shape.widths)
    starts = _starts(shape.m, chunk or default_lanes(w, shape.m), starts)
    r = widest_block(starts)
    sched = schedule(kind, shape.depth, snapshots)
    tape = max((saved_floats(shape, a, b) for op, a, b, _, _ in sched.actions if op != ADVANCE),
               default=0)
    out = [alloc_pass(F64 * (sched.slots + 1) * w, "snapshots"), alloc_pass(F64 * tape, "tape"),
           alloc_pass(F64 * (2 * w + 2 * w * r))]
    last = shape.layers[-1].name
    for rows, sweeps in grouped(starts):
        out.append(explicit_pass(shape.widths[-2] * rows, sweeps, last))
        for op, a, b, _, _ in sched.actions:
            out += [value_pass(shape, k, sweeps, record=op != ADVANCE) for k in range(a, b)]
            if op != ADVANCE:
                out += [lane_pass(shape, k, rows, "adjoint", sweeps)
                        for k in range(a, b) if k < shape.depth - 1]
        out.append(copy_pass(rows * shape.n, sweeps))
    sweeps = len(starts)
    return Plan("revolve" if kind == "revolve" else "sqrt-checkpoint", r, tuple(out), sweeps,
                sweeps, shape=shape, lane_blocks=starts)


#: Evaluations of f each numerical method takes for a Jacobian with n inputs.
EVALUATIONS = {"fd-forward": lambda n: n + 1, "fd-central": lambda n: 2 * n,
               "complex-step": lambda n: n}


def numerical_plan(chain: Chain | ChainShape, chunk: int | None = None,
                   method: str = "fd-forward") -> Plan:
    """e evaluations of f alone (n + 1, 2n or n complex ones, a complex multiply-add counted
    as one and moving twice the bytes), each column's quotients copied into J. Held: two
    value buffers, the moved input and one saved output (complex step: two complex value
    buffers and the input)."""
    shape = shape_of(chain)
    w, n, m = max(shape.widths), shape.n, shape.m
    evals = EVALUATIONS[method](n)
    complex_ = method == "complex-step"
    held = 2 * F64 * (2 * w + n) if complex_ else F64 * (2 * w + n + m)
    values = [value_pass(shape, k, evals) for k in range(shape.depth)]
    if complex_:  # the layers' complex rules: twice the bytes, not priced as the real ones
        values = [p.__class__(p.madds, 2 * p.bytes, 1, p.product, p.count, layer=p.layer,
                              rule=p.rule) for p in values]
    out = (alloc_pass(held), *values, copy_pass(m * n))
    return Plan(method, 1, out, evals, evaluations=evals, shape=shape)


def mirror_plan(chain: Chain | ChainShape, chunk: int | None = None, *, mode: str,
                algorithm: str, all_lanes: bool) -> Plan:
    """A peer AD tool: the plan of the chainbench ``algorithm`` it runs, with all its lanes
    at once or one per sweep (jacfwd: forward, all n; jacrev: reverse, all m; autograd:
    reverse, one row per sweep). Peers count nothing: this is what the guards plan with."""
    shape = shape_of(chain)
    if algorithm == "forward":
        return forward_plan(shape, shape.n if all_lanes else 1).renamed(mode)
    return reverse_plan(shape, shape.m if all_lanes else 1).renamed(mode)


# --- mixed mode: a bracketing's steps after one recording sweep -------------------------------


def optimal_plan(chain: Chain | ChainShape, chunk: int | None = None, choice=None,
                 mode: str = "optimal") -> Plan:
    """One recording sweep, then the bracketing's steps; or, for a bracketing that is a pure
    mode's sweeps (``Step.whole``), that engine's plan. ``choice``: the bracketing's root
    Step (default: the multiply-add optimum, ``madds_choice``)."""
    shape = shape_of(chain)
    choice = madds_choice(shape) if choice is None else choice
    if choice.pure is not None:
        return PURE_PLANS[choice.pure](shape).renamed(mode, 0)
    maxw = max(shape.widths)
    out = [alloc_pass(F64 * saved_floats(shape), "tape"), alloc_pass(F64 * 2 * maxw)]
    out += [value_pass(shape, k, record=True) for k in range(shape.depth)]
    out += step_passes(shape, choice)
    out.append(copy_pass(shape.m * shape.n))  # the whole block into J
    steps = list(choice.steps())
    tangents = sum(s.kind == "tangents" for s in steps)
    adjoints = sum(s.kind == "adjoints" for s in steps)
    return Plan(mode, 0, tuple(out), 1 + tangents, adjoints, shape=shape)


def step_passes(shape: ChainShape, root) -> list:
    """The passes of a bracketing's steps (``plan.Step``), children first, as
    ``engines.mixed`` runs them: every step returns its block J[lo:hi] in a fresh buffer."""
    w, maxw, out = shape.widths, max(shape.widths), []
    for step in root.steps():
        block = w[step.hi] * w[step.lo]
        if step.kind == "explicit":
            out += [alloc_pass(F64 * block), explicit_pass(block, layer=shape.layers[step.lo].name)]
        elif step.kind == "product":
            out += [alloc_pass(F64 * block), product_pass(w[step.hi], w[step.mid], w[step.lo])]
        elif step.kind == "tangents":
            if step.inner is None:  # an identity seed
                out += [alloc_pass(F64 * w[step.lo] ** 2), fill_pass(w[step.lo] ** 2)]
            first = step.lo if step.inner is None else step.mid
            lanes = w[step.lo]
            out.append(alloc_pass(F64 * 2 * max(w[first + 1 : step.hi + 1]) * lanes))
            out += [lane_pass(shape, k, lanes, "tangent") for k in range(first, step.hi)]
            out += [alloc_pass(F64 * block), copy_pass(block)]  # the lanes out of the buffer
        else:
            if step.inner is None:
                out += [alloc_pass(F64 * w[step.hi] ** 2), fill_pass(w[step.hi] ** 2)]
            last = step.hi if step.inner is None else step.mid
            rows = w[step.hi]
            out.append(alloc_pass(F64 * 2 * maxw * rows))
            out += [lane_pass(shape, k, rows, "adjoint") for k in range(step.lo, last)]
            out += [alloc_pass(F64 * block), copy_pass(block)]
    return out


def engine_costs(chain: Chain | ChainShape) -> tuple[int, int]:
    """Derivative multiply-adds of chainbench's own pure modes, which start from J_1's
    columns (forward) or J_K's rows (reverse): the bracketings fwd[2..K](J1) and
    rev[1..K-1](JK), read from their plans."""
    shape = shape_of(chain)
    fwd, rev = forward_plan(shape).prediction(), reverse_plan(shape).prediction()
    return fwd.madds - fwd.madds_value, rev.madds - rev.madds_value


@lru_cache(maxsize=256)
def _pure_engine(shape: ChainShape) -> str | None:
    fwd, rev = engine_costs(shape)
    if min(fwd, rev) > bracketing(shape).total:
        return None
    return "forward" if fwd <= rev else "reverse"


def pure_engine(chain: Chain | ChainShape) -> str | None:
    """'forward' or 'reverse' when that engine's own sweeps already cost the optimum (square
    chains, gradients), so that mode='optimal' runs the engine instead of the bracketing,
    sparing its block copies; None when the bracketing beats both."""
    return _pure_engine(shape_of(chain))


def madds_choice(shape: ChainShape) -> Step:
    """What mode='optimal-madds' runs: the pure mode whose sweeps cost the optimum in
    multiply-adds (``Step.whole``), else the multiply-add optimal bracketing."""
    pure = pure_engine(shape)
    return bracketing(shape) if pure is None else Step.whole(shape, SWEEPS_OF[pure])


#: The step kind a pure mode's sweeps are, and the plan of the engine that runs them.
SWEEPS_OF = {"forward": "tangents", "reverse": "adjoints"}
PURE_PLANS = {"tangents": forward_plan, "adjoints": reverse_plan}
PURE_MODE = {kind: mode for mode, kind in SWEEPS_OF.items()}
