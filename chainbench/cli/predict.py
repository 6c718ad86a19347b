"""``chainbench predict SPEC --n N [--m M] [--order 2]``: every mode's predicted time and
memory for one chain on this machine, and the mode to use; with ``--order 2`` the Hessian
modes ranked by predicted multiply-adds (second order is not priced in seconds yet)."""

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
                   help="1: the Jacobian's modes (default); 2: the Hessian's, by multiply-adds")
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
    """The Hessian modes of u·f ranked by predicted multiply-adds, 'auto''s pick marked."""
    from ..second_order import HESSIAN_MODES, auto_second, predict_hessian

    picked = auto_second(shape)
    rows = sorted(((predict_hessian(shape, mode), mode) for mode in HESSIAN_MODES[:-1]),
                  key=lambda r: (r[0].madds, HESSIAN_MODES.index(r[1])))
    print(f"widths {'→'.join(map(str, shape.widths))}; Hessian of u·f (u all ones), ranked "
          "by predicted multiply-adds (second order is not priced in seconds yet)")
    print(f"{'mode':22s} {'chunk':>6s} {'madds':>10s} {'memory':>10s}")
    for counts, mode in rows:
        chunk = "" if counts.chunk is None or mode == "hessian-optimal" else str(counts.chunk)
        mark = "  ← auto" if mode == picked else ""
        print(f"{mode:22s} {chunk:>6s} {counts.madds:10.3g} {nbytes(counts.bytes_held):>10s}"
              f"{mark}")
    print(f"mode='auto' runs {picked}: the fewest predicted multiply-adds")
    return 0
