"""chainbench's own fixed costs on this machine, for the time model: per Jacobian call and
per layer pass, timed through the public API on chains too small to do any work, and what
the rules of each layer without a parameter matrix cost per multiply-add.

Two reverse-mode chains of 2-wide dense layers, one layer deep and 17 deep: the deep one's
extra time over its extra passes is the per-pass cost, the shallow one's time less its
passes is the per-call cost. A layer's cost per multiply-add of each rule is the extra time
of ENTRY_DEPTH copies of it over one, at ENTRY_WIDTH wide (``measure_madd_costs``). Measured
once per machine and code version (about a second after the kernels are compiled) and
kept in the machine profile (``current.store_overheads``). It times chainbench through its
public API, so it sits above the API in the layering (tests/test_architecture.py), while the
profile it fills sits below everything.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .._cache import fingerprint
from ..api import jacobian, jvp, vjp
from ..cost.sweeps import reverse_plan
from ..model.chain import Chain
from ..model.layers import LAYERS
from .current import current_profile, store_overheads
from .overheads import OPERATIONS, RULES, Overheads
from .pass_kernels import best_of
from .prediction_errors import measure_errors
from .profile import MachineProfile

DEEP = 17
ENTRY_WIDTH = 1024
ENTRY_DEPTH = 5
LANES = 32


def _best_call_s(chain: Chain, calls: int = 400, samples: int = 7) -> float:
    x = np.zeros(chain.n)
    return _best_s(lambda: jacobian(chain, x, "reverse"), calls, samples)


def measure_overheads() -> Overheads:
    """Per-call and per-pass seconds of a reverse-mode Jacobian through ``jacobian``, and
    the parameter-free layers' costs per entry."""
    shallow = Chain.from_spec("dense:2", 2)
    deep = Chain.from_spec(" ".join(["dense:2"] * DEEP), 2)
    t1, t2 = _best_call_s(shallow), _best_call_s(deep)
    p1, p2 = reverse_plan(shallow.shape).runs, reverse_plan(deep.shape).runs
    per_pass = max(0.0, (t2 - t1) / (p2 - p1))
    return Overheads(max(0.0, t1 - p1 * per_pass), per_pass,
                     madd_s=(*measure_madd_costs(), measure_op_costs()), code=fingerprint())


def _best_s(run, calls: int = 20, samples: int = 5) -> float:
    run()  # compiled (or loaded) before timing
    return best_of(run, calls, samples)


def _probe_token(cls, width: int) -> str | None:
    """The spec token a layer is timed by at ``width``: its ``probe`` (arguments filled in),
    its bare name when it takes none, else None (not timed: priced by its bytes)."""
    if cls.probe:
        return cls.probe.format(w=width, g=max(width // 32, 1))
    return None if cls.arguments else cls.name


def measure_madd_costs() -> tuple[tuple[str, float, float, float, float], ...]:
    """(layer name, seconds per multiply-add of its value, record, tangent and adjoint rules)
    for every registered layer without a parameter matrix: the extra time of ENTRY_DEPTH
    copies over one, per multiply-add its rule counts; f(x) times the value rule, a VJP the
    record rule (with the one row back), JVPs and VJPs of LANES lanes the lane rules (less
    the sweep of values or records that carries them)."""
    w, rng = ENTRY_WIDTH, np.random.default_rng(0)
    x = 0.5 * rng.standard_normal(w)
    out = []
    for name, cls in LAYERS.items():
        token = _probe_token(cls, w)
        if cls.matrix_product or token is None:
            continue
        chains = [Chain.from_spec(" ".join([token] * d), w) for d in (1, ENTRY_DEPTH)]
        if chains[0].m != w:
            continue
        V, U = rng.standard_normal((w, LANES)), rng.standard_normal((LANES, w))
        timed = {rule: [_best_s(lambda c=c: run(c)) for c in chains] for rule, run in (
            ("value", lambda c: c(x)), ("record", lambda c: vjp(c, x, U[0])),
            ("tangent", lambda c: jvp(c, x, V)), ("adjoint", lambda c: vjp(c, x, U)))}
        extra = {rule: max(0.0, (t[1] - t[0]) / (ENTRY_DEPTH - 1)) for rule, t in timed.items()}
        cost = chains[0].shape.layers[0].cost(w, w)
        madds = {"value": cost.value, "record": cost.value, "tangent": cost.tangent * LANES,
                 "adjoint": cost.adjoint * LANES}
        # a lane sweep carries its values (JVP) or its records (VJP) along
        extra["tangent"] = max(0.0, extra["tangent"] - extra["value"])
        extra["adjoint"] = max(0.0, extra["adjoint"] - extra["record"])
        out.append((name, *(extra[r] / max(madds[r], 1) for r in RULES)))
    return tuple(out)


#: The chain the operation-level costs are timed on: dense layers' multiply-adds, the
#: operations most of a chain's tape holds, with an activation between them; its tape
#: (about 2 MiB) sits in cache.
OP_SPEC = "dense:128 tanh dense:128"
OP_WIDTH = 128
OP_LANES = 8


def measure_op_costs() -> tuple[str, float, float, float, float]:
    """(OPERATIONS, seconds per tape entry of a value and of a record, per partial and lane
    of a tangent and of an adjoint) at the operation level: op-reverse recording its tape
    and replaying one row or two (their difference: a replay), op-forward pushing one lane
    or OP_LANES (their difference: OP_LANES - 1 lanes), each kernel bound to a plan of just
    those sweeps (``Plan.lane_blocks``), less the per-call cost."""
    from dataclasses import replace as with_

    from ..cost.operations import op_forward_plan, op_reverse_plan
    from ..engines.oplevel import forward as op_forward
    from ..engines.oplevel import reverse as op_reverse
    from ..model.counters import new_counters
    from ..model.lowering import layout

    chain = Chain.from_spec(OP_SPEC, OP_WIDTH)
    lay = layout(chain.shape)
    entries, partials = lay.total, lay.total_partials
    x = 0.5 * np.random.default_rng(0).standard_normal(OP_WIDTH)
    J, counts = np.empty((chain.m, chain.n)), new_counters()

    def timed(run_plan, plan, blocks, **options) -> float:
        run = run_plan(chain.program, with_(plan, lane_blocks=blocks), **options)
        return _best_s(lambda: run(x, J, counts), calls=5)

    # on a tape written once: whether a fresh one faults its pages in depends on what the
    # process allocated before (the allocator's thresholds); the plan prices that apart
    rev = op_reverse_plan(chain.shape, 1)
    one, two = (timed(op_reverse.run_plan, rev, b, reuse_tape=True)
                for b in (((0, 1),), ((0, 1), (1, 1))))
    adjoint = max(0.0, two - one) / partials
    record = max(0.0, one - partials * adjoint) / entries
    fwd = op_forward_plan(chain.shape, OP_LANES)
    one, many = (timed(op_forward.run_plan, fwd, b) for b in (((0, 1),), ((0, OP_LANES),)))
    tangent = max(0.0, many - one) / ((OP_LANES - 1) * partials)
    value = max(0.0, one - partials * tangent) / entries
    return (OPERATIONS, value, record, tangent, adjoint)


def ensure_overheads(announce=None, *, force: bool = False) -> MachineProfile:
    """This machine's profile with chainbench's own costs for this code: as cached, or
    measured now (``announce(message)`` told first; ``force``: measured again) and stored
    in the profile's cache file."""
    profile = current_profile(announce=announce)
    known = profile.overheads is not None and any(
        name == OPERATIONS for name, *_ in profile.overheads.madd_s)  # older: measured again
    if known and not force:
        return profile
    if announce is not None:
        announce("measuring chainbench's per-call and per-pass overheads and the time "
                 "model's error (cached afterwards) …")
    overheads = measure_overheads()
    # the model's error is measured with the own costs it prices with
    profile = store_overheads(overheads)
    return store_overheads(replace(overheads, errors=measure_errors(profile)))
