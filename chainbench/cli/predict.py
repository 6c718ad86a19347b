"""``chainbench predict SPEC --n N [--m M]``: every mode's predicted time and memory for one
chain on this machine, and the mode to use."""

from __future__ import annotations

import sys

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
    return p


def run(args) -> int:
    from .. import api
    from ..engines.registry import ENGINES
    from ..machine.own_costs import ensure_overheads

    spec = args.spec if args.m is None else f"{args.spec} dense:{args.m}"
    shape = chain_shape(spec, args.n)
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
