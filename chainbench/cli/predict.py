"""``chainbench predict SPEC --n N [--m M] [--order 2]``: every mode's predicted time and
memory for one chain on this machine, and the mode to use; with ``--order 2`` the Hessian
modes, priced the same way (multiply-adds beside the seconds)."""

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
    p.add_argument("--order", type=int, default=1,
                   help="1: the Jacobian's modes (default); 2: the Hessian's")
    return p


def run(args) -> int:
    from .. import api
    from ..engines.registry import ENGINES
    from ..machine.own_costs import ensure_overheads

    spec = args.spec if args.m is None else f"{args.spec} dense:{args.m}"
    shape = chain_shape(spec, args.n)
    if args.order not in (1, 2):
        raise ConfigError(f"--order must be 1 (the Jacobian's modes) or 2 (the Hessian's), "
                          f"got {args.order}")
    if args.order == 2:
        return _second_order(shape)

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
    print(f"{'mode':16s} {'chunk':>6s} {'time':>10s} {'madds':>10s} {'memory':>10s}  bound")
    for name, _, counts, t in sorted(rows, key=lambda r: r[3].seconds):
        chunk = "" if ENGINES[name].lanes is None else str(counts.chunk)
        print(f"{name:16s} {chunk:>6s} {seconds(t.seconds):>10s} {counts.madds:10.3g} "
              f"{nbytes(counts.bytes_held):>10s}  {t.describe()}")
    picked, chunk = api.auto_choice(shape, profile)
    auto = api.predict_time(shape, picked, chunk, profile=profile)
    print(f"mode='auto' runs {picked} at chunk {chunk} (of {ENGINES[picked].chunk_for(shape)} "
          f"by default): {seconds(auto.seconds)} predicted, {auto.describe()}")
    exact = [(r[0], None, r[3]) for r in rows if r[1].family == "ad"]
    name, chunk, t = min([*exact, (picked, chunk, auto)], key=lambda r: r[2].seconds)
    at = "" if chunk is None else f", chunk={chunk}"
    print(f"recommended: mode={name!r}{at}, {seconds(t.seconds)} predicted, {t.describe()} "
          f"(working set {nbytes(t.working_set_bytes)})")
    return 0


def _second_order(shape) -> int:
    """The Hessian modes of u·f ranked by predicted seconds (multiply-adds beside them),
    'auto''s pick marked; a Hessian that does not fit in memory is refused (exit 2)."""
    from ..machine.own_costs import ensure_overheads
    from ..provenance import available_memory, require_memory
    from ..second_order import HESSIAN_MODES, predict_hessian, predict_hessian_time
    from ..strategies import second_choice

    require_memory(8 * shape.n**2, f"the {shape.n} × {shape.n} Hessian",
                   "predict a smaller chain, or use Hessian-vector products (cb.hvp)")
    profile = ensure_overheads(lambda message: print(message, file=sys.stderr))
    picked, picked_chunk = second_choice(shape, profile)
    rows = sorted(((predict_hessian_time(shape, mode, profile=profile),
                    predict_hessian(shape, mode), mode) for mode in HESSIAN_MODES[:-1]),
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
