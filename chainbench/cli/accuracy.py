"""``chainbench accuracy [SPEC]``: error of numerical differentiation against the step h."""

from __future__ import annotations

import math
from pathlib import Path

from ..errors import ConfigError


def register(sub):
    p = sub.add_parser("accuracy", help="error of numerical differentiation vs the step h",
                       description="Sweep the step h of forward and central differences "
                       "(1e-1 … 1e-16) and the complex step (… 1e-200) on one chain; save the "
                       "error against the reverse-mode Jacobian (accuracy.csv) and its figure.")
    p.add_argument("spec", nargs="?", default=None,
                   help='chain spec (default "dense:32 tanh dense:32 tanh dense:1")')
    p.add_argument("--n", type=int, default=32, help="input width (default 32)")
    p.add_argument("--seed", type=int, default=0, help="parameter and x seed (default 0)")
    p.add_argument("--out", type=Path, default=Path("results") / "accuracy",
                   help="results directory (default results/accuracy)")
    p.add_argument("--format", default="png", choices=("png", "svg", "pdf"),
                   help="figure format (default png)")
    return p


def run(args) -> int:
    from ..harness import accuracy
    from ..plots.accuracy import error_vs_step  # matplotlib only where figures are drawn

    if args.n < 1:
        raise ConfigError(f"--n must be ≥ 1, got {args.n}")
    result = accuracy.run(args.spec or accuracy.DEFAULT_SPEC, args.n, args.seed, args.out,
                          args.format, draw=error_vs_step)
    print(f"{'method':14s} {'best h':>9s} {'error there':>12s} {'theory h':>9s}")
    for _, r in result.minima.iterrows():
        theory = f"{'-':>9s}" if math.isnan(r["h_theory"]) else f"{r['h_theory']:9.1e}"
        print(f"{r['method']:14s} {r['h_best']:9.0e} {r['error_best']:12.2e} {theory}")
    for method, reason in result.skipped.items():
        print(f"{method}: skipped: {reason}")
    print(f"results: {result.folder / accuracy.CSV}")
    print(f"saved: {result.figure}")
    return 0
