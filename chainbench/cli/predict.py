"""``chainbench predict SPEC --n N [--m M] [--planner measure] [--order 2]``: every mode's
predicted time, with the band the time model's measured error gives it, and memory for one
chain on this machine, and the mode to use ('auto''s pick and why; ``--planner measure``:
what measured fastest); with ``--order 2`` the Hessian modes, priced the same way
(multiply-adds beside the seconds)."""

from __future__ import annotations

import sys

from ..errors import ConfigError
from ._format import chain_shape, nbytes, seconds


def register(sub):
    p = sub.add_parser("predict", help="predicted time and memory of every mode on this machine",
                       description="Price one chain's Jacobian in every chainbench mode with "
                       "the time model (the machine profile: GEMM rates, bandwidth by working "
                       "set, call overhead) and recommend the fastest exact mode.")
    p.add_argument("spec", help='chain spec, e.g. "dense:1000 dense:10 dense:1000 dense:1000"')
    p.add_argument("--n", type=int, required=True, help="input width")
    p.add_argument("--m", type=int, default=None,
                   help="output width: appends a dense:M output layer to the spec")
    p.add_argument("--planner", default="estimate", choices=None,
                   help="how 'auto' chooses: 'estimate' by the time model (default) or "
                   "'measure' by timing its best candidates on this chain (remembered per "
                   "machine and shape)")
    p.add_argument("--order", type=int, default=1,
                   help="1: the Jacobian's modes (default); 2: the Hessian's")
    return p


def run(args) -> int:
    from .. import api
    from ..engines.registry import ENGINES
    from ..bound import plan_of
    from ..cost.bands import banded
    from ..machine.own_costs import ensure_overheads
    from ..planner import PLANNERS
    from ..strategies import auto_decision

    spec = args.spec if args.m is None else f"{args.spec} dense:{args.m}"
    shape = chain_shape(spec, args.n)
    if args.order not in (1, 2):
        raise ConfigError(f"--order must be 1 (the Jacobian's modes) or 2 (the Hessian's), "
                          f"got {args.order}")
    if args.order == 2:
        return _second_order(shape)
    if args.planner not in PLANNERS:
        raise ConfigError(f"--planner must be one of {', '.join(PLANNERS)}, got "
                          f"{args.planner!r}")

    def say(message: str) -> None:
        print(message, file=sys.stderr)

    profile = ensure_overheads(say)
    rows = []
    for name, engine in ENGINES.items():
        if engine.family == "peer":
            continue
        counts = api.predict(shape, name)
        rows.append((name, engine, counts, api.predict_time(shape, name, profile=profile)))
    print(f"widths {'→'.join(map(str, shape.widths))}; profile of {profile.key['cpu_model']}")
    print(f"{'mode':16s} {'chunk':>6s} {'time':>10s} {'likely between':>21s} {'madds':>10s} "
          f"{'memory':>10s}  bound")
    for name, _, counts, t in sorted(rows, key=lambda r: r[3].seconds):
        chunk = "" if ENGINES[name].lanes is None else str(counts.chunk)
        band = banded(plan_of(shape, ENGINES[name], counts.chunk, {}), profile)
        likely = f"{seconds(band.low)} – {seconds(band.high)}"
        print(f"{name:16s} {chunk:>6s} {seconds(t.seconds):>10s} {likely:>21s} "
              f"{counts.madds:10.3g} {nbytes(counts.bytes_held):>10s}  {t.describe()}")
    decision = auto_decision(shape, profile)
    picked, chunk = decision.picked.value
    auto = api.predict_time(shape, picked, chunk, profile=profile)
    print(f"mode='auto' runs {picked} at chunk {chunk} (of {ENGINES[picked].chunk_for(shape)} "
          f"by default): {seconds(auto.seconds)} predicted, {auto.describe()}; "
          f"{decision.why()}")
    if args.planner == "measure":  # what measured fastest is the recommendation
        picked, chunk, measured_s = _measured(spec, args.n, say)
        print(f"recommended: mode={picked!r}, chunk={chunk}, measured fastest of 'auto''s "
              f"best candidates: {seconds(measured_s)} (planner 'measure')")
        return 0
    exact = [(r[0], None, r[3]) for r in rows if r[1].family == "ad"]
    name, chunk, t = min([*exact, (picked, chunk, auto)], key=lambda r: r[2].seconds)
    at = "" if chunk is None else f", chunk={chunk}"
    print(f"recommended: mode={name!r}{at}, {seconds(t.seconds)} predicted, {t.describe()} "
          f"(working set {nbytes(t.working_set_bytes)})")
    return 0


def _measured(spec: str, n: int, say) -> tuple[str, int, float]:
    """What the measuring planner runs for 'auto' on this chain (timed now, or recalled)."""
    from ..bound import bind, fits
    from ..cost.predictions import F64, parameter_floats
    from ..model.chain import Chain
    from ..strategies import auto_ranked

    shape = chain_shape(spec, n)
    held = max(c.plan.bytes_held for c in auto_ranked(shape))
    fits(F64 * (parameter_floats(shape) + shape.m * shape.n) + held,
         "the chain, J and the candidates' buffers", "predict without --planner measure")
    chain = Chain.from_spec(spec, n, seed=0)
    bound = bind(chain, "auto", planner="measure")
    say(bound.planned.describe())
    return bound.mode, bound.chunk, bound.planned.seconds


def _second_order(shape) -> int:
    """The Hessian modes of u·f ranked by predicted seconds (multiply-adds beside them),
    'auto''s pick marked; a Hessian that does not fit in memory is refused (exit 2)."""
    from ..machine.own_costs import ensure_overheads
    from ..provenance import available_memory, require_memory
    from ..cost.second_order import runnable
    from ..second_order import HESSIAN_MODES, OPTIMAL, predict_hessian, predict_hessian_time
    from ..strategies import second_choice

    require_memory(8 * shape.n**2, f"the {shape.n} × {shape.n} Hessian",
                   "predict a smaller chain, or use Hessian-vector products (cb.hvp)")
    profile = ensure_overheads(lambda message: print(message, file=sys.stderr))
    picked, picked_chunk = second_choice(shape, profile)
    rows = sorted(((predict_hessian_time(shape, mode, profile=profile),
                    predict_hessian(shape, mode), mode) for mode in (*runnable(shape), OPTIMAL)),
                  key=lambda r: (r[0].seconds, HESSIAN_MODES.index(r[2])))
    room = available_memory()
    print(f"widths {'→'.join(map(str, shape.widths))}; Hessian of u·f (u all ones), ranked "
          f"by predicted time on {profile.key['cpu_model']}")
    print(f"{'mode':22s} {'chunk':>6s} {'time':>10s} {'madds':>10s} {'memory':>10s}  bound")
    for t, counts, mode in rows:
        chunk = "" if not counts.chunk or mode == "hessian-optimal" else str(counts.chunk)
        held = counts.bytes_held + 8 * shape.n**2
        mark = ("  ← auto" if mode == picked else "") + \
            ("  (does not fit in memory)" if room is not None and held > room else "")
        print(f"{mode:22s} {chunk:>6s} {seconds(t.seconds):>10s} {counts.madds:10.3g} "
              f"{nbytes(held):>10s}  {t.describe()}{mark}")
    auto = predict_hessian_time(shape, picked, picked_chunk, profile=profile)
    at = "" if picked_chunk is None else f" at chunk {picked_chunk}"
    print(f"mode='auto' runs {picked}{at}: the fewest predicted seconds "
          f"({seconds(auto.seconds)}, {auto.describe()})")
    return 0
