"""The plans of the second-order modes: each a ``SecondPlan``, the passes its kernels run on
a chain of a given shape and chunk, for a Hessian (n basis directions, ``seeded``) or an HVP
(k given directions, one sweep), so that the time model prices them as first order's.

Besides first order's passes (``cost.work``) a second-order plan has 'curvature' passes: a
layer's g'' record, its curvature lanes (ū·∇²f along c lanes) and its direction pairs
(hyper-dual lanes), counted in ``madds_curvature``; they are elementwise work, priced by the
bytes they move. The result H (or H V) is an allocation held as 'result', so the memory
guard and the working set see it. ``prediction()`` gives ``SecondCounts``; the property
tests prove them equal to the closed forms (``cost.second_order``) and the kernels' counters.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from math import ceil

from ..model.lowering import layout
from ..model.ops import CURVED_BYTES, ENTRY_BYTES
from ..model.shape import ChainShape
from .operations import op_pass, record_pass
from .predictions import F64
from .second_order import SecondCounts, curved, default_chunk, tape_floats
from .work import (
    Pass,
    Plan,
    alloc_pass,
    blocks,
    copy_pass,
    explicit_pass,
    fill_pass,
    lane_pass,
    product_pass,
    value_pass,
)


@dataclass(frozen=True)
class SecondPlan(Plan):
    """A second-order mode's passes; ``layer_steps`` and ``tape_entries`` as its kernels
    count them (the local Hessians of 'hessian-optimal' evaluate a layer without counting a
    step, so they are not read from the passes)."""

    layer_steps: int = 0
    tape_entries: int = 0

    def prediction(self) -> SecondCounts:
        first = Plan(self.mode, self.chunk, tuple(p for p in self.passes if p.rule != "curvature"),
                     self.sweeps_forward, self.sweeps_backward).prediction()
        kept = {f.name: getattr(first, f.name) for f in fields(first)}
        kept.update(layer_steps=self.layer_steps, tape_entries=self.tape_entries)
        curvature = sum(p.madds * p.count for p in self.passes if p.rule == "curvature")
        return SecondCounts(**kept, madds_curvature=curvature)


def curvature_pass(shape: ChainShape, k: int, lanes: int, kind: str, count: int = 1) -> Pass:
    """Layer k's second-order rule: 'record' (g'' once), 'lane' (ū·∇²f along ``lanes``
    lanes: reads a lane in and out, writes a row) or 'pair' (``lanes`` direction pairs)."""
    cls, w_in, w_out = shape.layers[k], shape.widths[k], shape.widths[k + 1]
    cost = cls.second_cost(w_in, w_out)
    madds = {"record": cost.record, "lane": cost.curvature * lanes, "pair": cost.pair * lanes}
    moved = {"record": w_in + 2 * w_out, "lane": (2 * w_in + w_out) * lanes + 2 * w_out,
             "pair": (w_in + 2 * w_out) * lanes + 2 * w_out}
    return Pass(madds[kind], F64 * moved[kind], lanes if kind != "record" else 1, False, count,
                layer=cls.name, rule="curvature")


def _curved(shape: ChainShape, k: int) -> bool:
    return shape.layers[k].second_cost(shape.widths[k], shape.widths[k + 1]).curvature > 0


def _record(shape: ChainShape, count: int = 1) -> list[Pass]:
    """The recording sweep: every layer's value, tape slot and curvature slot."""
    out = []
    for k in range(shape.depth):
        out.append(value_pass(shape, k, count, record=True))
        if _curved(shape, k):
            out.append(curvature_pass(shape, k, 1, "record", count))
    return out


def _lanes_to(shape: ChainShape, top: int, lanes: int, sweeps: int, seeded: bool) -> list[Pass]:
    """Tangent lanes to layer ``top``'s output: layer 0's columns written (``seeded``: basis
    directions, the block zeroed first) or the given lanes copied in and pushed."""
    n = shape.n
    if seeded:
        out = [fill_pass(n * lanes, sweeps),
               explicit_pass(shape.widths[1] * lanes, sweeps, shape.layers[0].name)]
    else:
        out = [copy_pass(n * lanes, sweeps), lane_pass(shape, 0, lanes, "tangent", sweeps)]
    return out + [lane_pass(shape, k, lanes, "tangent", sweeps) for k in range(1, top + 1)]


def _rows_step(shape: ChainShape, k: int, top: int, lanes: int, sweeps: int) -> list[Pass]:
    """One step of the Hessian rows' backward sweep (``_sweeps.hessian_step``)."""
    head = [fill_pass(lanes * shape.widths[k], sweeps)] if k == top else \
        [lane_pass(shape, k, lanes, "adjoint", sweeps)]
    tail = [curvature_pass(shape, k, lanes, "lane", sweeps)] if _curved(shape, k) else []
    return head + tail


def _taped(shape: ChainShape, mode: str, c: int, N: int, seeded: bool) -> SecondPlan:
    """forward-over-reverse and reverse-over-forward (their kernels share the sweeps)."""
    _, t = curved(shape)
    K, w, tape = shape.depth, max(shape.widths), tape_floats(shape)
    lane_tape = c * sum(shape.widths[: t + 2])
    sweeps = ceil(N / c)
    twice = mode == "forward-over-reverse"  # the gradient rows kept once, else per lane
    out = [alloc_pass(F64 * (2 * tape + (sum(shape.widths) if twice else 0) + lane_tape), "tape"),
           alloc_pass(F64 * (2 * w + (2 if twice else 4) * w * c)),
           alloc_pass(F64 * N * shape.n, "result")]
    if twice:
        out += _record(shape)
        out += [lane_pass(shape, k, 1, "adjoint") for k in range(K - 1, 0, -1)]
    for lanes, count in blocks(N, c):
        if not twice:
            out += _record(shape, count)
        out += _lanes_to(shape, t, lanes, count, seeded)
        if not twice:
            out.append(fill_pass(lanes * shape.m, count))  # ẋ̄ = u for every lane
        for k in range(K - 1 if not twice else t, -1, -1):
            if k <= t:
                out += _rows_step(shape, k, t, lanes, count)
            if not twice and k >= 1:
                out.append(lane_pass(shape, k, lanes, "adjoint", count))
        out.append(copy_pass(lanes * shape.n, count))  # the rows into H
    steps = K if twice else sweeps * K
    return SecondPlan(mode, c, tuple(out), sweeps + twice, sweeps + twice, shape=shape,
                      layer_steps=steps, tape_entries=steps)


def _hyper(shape: ChainShape, c: int, N: int, seeded: bool) -> SecondPlan:
    """forward-over-forward: per sweep c left lanes, n right lanes, c·n second-order lanes."""
    f, t = curved(shape)
    n, m, K, w = shape.n, shape.m, shape.depth, max(shape.widths)
    out = [alloc_pass(F64 * (4 * w + 2 * w * (c + n + c * n))),
           alloc_pass(F64 * N * n, "result")]
    for lanes, count in blocks(N, c):
        out += [fill_pass(n * lanes, count), fill_pass(n * n, count)]
        if not seeded:
            out.append(copy_pass(n * lanes, count))
        for k in range(K):
            out.append(value_pass(shape, k, count, record=True))
            if _curved(shape, k):
                out.append(curvature_pass(shape, k, 1, "record", count))
            if k <= t:
                out.append(explicit_pass(shape.widths[1] * n, count, shape.layers[0].name)
                           if k == 0 else lane_pass(shape, k, n, "tangent", count))
            if k == f:
                out.append(fill_pass(shape.widths[k + 1] * lanes * n, count))
            elif k > f:
                out.append(lane_pass(shape, k, lanes * n, "tangent", count))
            if f <= k <= t and _curved(shape, k):
                out.append(curvature_pass(shape, k, lanes * n, "pair", count))
            if k < t:
                out.append(explicit_pass(shape.widths[1] * lanes, count, shape.layers[0].name)
                           if seeded and k == 0 else lane_pass(shape, k, lanes, "tangent", count))
        out.append(replace(product_pass(1, m, lanes * n), count=count))  # H[a, b] = u·S[:, a·n + b]
    sweeps = ceil(N / c)
    return SecondPlan("forward-over-forward", c, tuple(out), sweeps, 0, shape=shape,
                      layer_steps=sweeps * K)


def _ror(shape: ChainShape, c: int, N: int, seeded: bool) -> SecondPlan:
    """reverse-over-reverse on the operation-level tape (``engines.second_order
    .reverse_over_reverse``): its passes are operation-level ones (``operations.op_pass``),
    the tape streamed, slots and lane rows touched in their block."""
    lay = layout(shape)
    K, n, Ec = shape.depth, shape.n, sum(lay.curved)
    E, slots = lay.entries, F64 * lay.slots
    out = [alloc_pass(lay.total * (ENTRY_BYTES + F64) + Ec * CURVED_BYTES + 2 * F64 * Ec * c,
                      "tape"),
           alloc_pass(slots * (2 + 2 * c)),
           alloc_pass(F64 * N * n, "result")]

    def kept(k: int, lanes: int, count: int) -> Pass:
        # a curved entry's second partials applied to c lanes: its pair written per lane
        # (and read back by the reversed recording sweep), its operands' lane rows touched
        return Pass(madds=lanes * lay.curvature[k], bytes=(CURVED_BYTES + 4 * F64 * lanes)
                    * lay.curved[k], lanes=lanes, product=False, count=count,
                    layer=shape.layers[k].name, rule="curvature",
                    touched=2 * F64 * lanes * lay.curved[k], block=slots * lanes)

    for k in range(K):
        out.append(record_pass(shape, lay, k))
        if lay.curved[k]:
            out.append(Pass(madds=lay.curved[k], bytes=CURVED_BYTES * lay.curved[k], lanes=1,
                            product=False, layer=shape.layers[k].name, rule="curvature"))
    for k in reversed(range(K)):  # the gradient's sweep, each entry's output adjoint kept
        out.append(op_pass(shape, k, "adjoint", lay.partials[k], (ENTRY_BYTES + F64) * E[k],
                           2 * F64 * (E[k] + lay.partials[k]), slots))
    for lanes, count in blocks(N, c):
        out.append(fill_pass(lay.slots * lanes, count))
        if not seeded:
            out.append(copy_pass(n * lanes, count))
        for k in range(K):
            out.append(op_pass(shape, k, "tangent", lanes * lay.partials[k],
                               ENTRY_BYTES * E[k] + F64 * lay.curved[k],
                               F64 * lanes * (E[k] + lay.partials[k]), slots * lanes,
                               lanes, count))
            if lay.curved[k]:
                out.append(kept(k, lanes, count))
        out.append(fill_pass(lay.slots * lanes, count))
        for k in reversed(range(K)):
            out.append(op_pass(shape, k, "adjoint", lanes * lay.partials[k],
                               ENTRY_BYTES * E[k],
                               2 * F64 * lanes * (E[k] + lay.partials[k]), slots * lanes,
                               lanes, count))
        out.append(copy_pass(lanes * n, count))  # the rows into H
    sweeps = ceil(N / c)
    return SecondPlan("reverse-over-reverse", c, tuple(out), 1 + sweeps, 1 + sweeps,
                      shape=shape, layer_steps=K, tape_entries=lay.total)


def _affine(shape: ChainShape, mode: str, c: int, N: int) -> SecondPlan:
    """No curvature: H = 0 is allocated zeroed and nothing runs."""
    return SecondPlan(mode, c, (alloc_pass(F64 * N * shape.n, "result"),
                                fill_pass(N * shape.n)), 0, 0, shape=shape)


def second_plan(shape: ChainShape, mode: str, chunk: int | None = None,
                lanes: int | None = None, seeded: bool = True) -> SecondPlan:
    """The plan of ``mode`` (one of ``cost.second_order.HESSIAN_MODES``): a Hessian
    (``lanes`` None: n basis directions, ``chunk`` per sweep) or an HVP of ``lanes`` given
    directions in one sweep (``seeded`` False)."""
    N = shape.n if lanes is None else lanes
    c = chunk or default_chunk(shape, mode)
    if curved(shape)[1] < 0:
        return _affine(shape, mode, c, N)
    if mode == "forward-over-forward":
        return _hyper(shape, c, N, seeded)
    if mode == "reverse-over-reverse":
        return _ror(shape, c, N, seeded)
    return _taped(shape, mode, c, N, seeded)


# --- hessian-optimal: the bracketing's parts, as ``engines.second_order.optimal`` runs them --


def optimal_plan(shape: ChainShape) -> SecondPlan:
    """The bracketing ``hessian_plan.plan_hessian`` chose: forward-over-reverse whole, or
    the value and adjoint sweeps keeping every point, then each node's passes."""
    from .hessian_plan import plan_hessian, sub
    from .sweeps import forward_plan, reverse_plan

    plan, _ = plan_hessian(shape)
    if plan[0] == "whole":
        whole = second_plan(shape, "forward-over-reverse")
        return SecondPlan("hessian-optimal", whole.chunk, whole.passes, whole.sweeps_forward,
                          whole.sweeps_backward, shape=shape, layer_steps=whole.layer_steps,
                          tape_entries=whole.tape_entries)
    K, w = shape.depth, shape.widths
    parts = [alloc_pass(F64 * (tape_floats(shape) + 2 * sum(w)), "tape"),
             alloc_pass(F64 * w[0] ** 2, "result")]
    parts += [value_pass(shape, k, record=True) for k in range(K)]
    parts += [lane_pass(shape, k, 1, "adjoint") for k in range(K - 1, 0, -1)]
    tally = {"forward": 1, "backward": 1, "steps": K, "tape": K}

    def add(p: Plan, steps: int, tape: int) -> None:
        parts.extend(q for q in p.passes if not (q.rule == "alloc" and q.holds == "result"))
        tally["forward"] += p.sweeps_forward
        tally["backward"] += p.sweeps_backward
        tally["steps"] += steps
        tally["tape"] += tape

    def node(nd) -> None:
        kind = nd[0]
        if kind == "leaf":
            k = nd[1]
            parts.append(value_pass(shape, k, record=True))
            parts.append(curvature_pass(shape, k, 1, "record"))
            parts.append(explicit_pass(w[k] * w[k + 1], layer=shape.layers[k].name))
            parts.append(curvature_pass(shape, k, w[k], "lane"))  # no layer step counted
        elif kind == "pure":
            p = second_plan(sub(shape, nd[1], nd[2]), "forward-over-reverse")
            add(p, p.layer_steps, p.tape_entries)
        elif kind == "split":
            _, i, s, _, jac, left, right = nd
            node(left)
            node(right)
            if right[0] == "zero":
                return
            part = sub(shape, i, s)
            first = forward_plan(part) if jac == "forward" else reverse_plan(part)
            add(first, first.prediction().layer_steps, s + 1 - i if jac == "reverse" else 0)
            parts.extend(_congruence(w[i], w[s + 1]))

    node(plan[1])
    return SecondPlan("hessian-optimal", 0, tuple(parts), tally["forward"], tally["backward"],
                      shape=shape, layer_steps=tally["steps"], tape_entries=tally["tape"])


def _congruence(w_i: int, w_s: int) -> list[Pass]:
    """J ᵀ (H J) by two GEMMs and the sum into H (``hessian_plan.congruence_madds``)."""
    return [product_pass(w_s, w_s, w_i), product_pass(w_i, w_s, w_i),
            Pass(w_i * w_i, 3 * F64 * w_i * w_i, 1, False, rule="product")]
