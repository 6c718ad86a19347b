"""``chainbench compare SPEC --n N``: one chain, every mode, side by side."""

from __future__ import annotations

from ..errors import ConfigError
from ._format import seconds


def register(sub):
    p = sub.add_parser("compare", help="one chain, every mode, side by side",
                       description="Time one chain in every mode and mark the fastest.")
    p.add_argument("spec", help='chain spec, e.g. "dense:256 tanh dense:1"')
    p.add_argument("--n", type=int, required=True, help="input width")
    p.add_argument("--seed", type=int, default=0, help="parameter seed (default 0)")
    p.add_argument("--threads", type=int, default=1, help="Numba and BLAS threads (default 1)")
    return p


def run(args) -> int:
    import pandas as pd

    from ..harness.compare import build, compare
    from ..harness.threads import set_threads

    if args.n < 1:
        raise ConfigError(f"--n must be ≥ 1, got {args.n}")
    if args.threads < 1:
        raise ConfigError(f"--threads must be ≥ 1, got {args.threads}")
    set_threads(args.threads)
    chain = build(args.spec, args.n, args.seed)
    df = compare(chain, seed=args.seed)
    print(f"{chain!r}: widths {'→'.join(map(str, chain.widths))}")
    print(f"{'mode':16s} {'chunk':>6s} {'time':>10s} {'J/F':>8s} {'madds pred':>12s} "
          f"{'madds count':>12s} {'bytes':>10s}")
    for _, r in df.iterrows():
        mark = " ← fastest" if r["fastest"] else ""
        auto = " (auto's pick)" if r["auto_pick"] else ""
        if r["status"] != "ok":
            print(f"{r['mode']:16s} {r['status']}: {r['reason']}")
            continue
        chunk = "" if pd.isna(r["chunk"]) else str(int(r["chunk"]))
        print(f"{r['mode']:16s} {chunk:>6s} {seconds(r['time_median_s']):>10s} "
              f"{r['j_over_f']:8.3g} {r['madds_predicted']:12.4g} {r['madds_counted']:12.4g} "
              f"{r['bytes_counted']:10.0f}{mark}{auto}")
    return 0
