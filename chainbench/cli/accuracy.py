"""``chainbench accuracy [SPEC]``: error of numerical differentiation against the step h."""

from __future__ import annotations

import math
from pathlib import Path

from ._format import chain_shape, nonnegative_int, out_path, positive_seconds


def register(sub):
    from ..harness.tools.budgets import ACCURACY_S as BUDGET_S

    p = sub.add_parser("accuracy", help="error of numerical differentiation vs the step h",
                       description="Sweep the step h of forward and central differences "
                       "(1e-1 … 1e-16) and the complex step (… 1e-200) on one chain; save the "
                       "error against the reverse-mode Jacobian (accuracy.csv) and its figure.")
    p.add_argument("spec", nargs="?", default=None,
                   help='chain spec (default "dense:32 tanh dense:32 tanh dense:1")')
    p.add_argument("--n", type=int, default=32, help="input width (default 32)")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="parameter and x seed, an integer ≥ 0 (default 0)")
    p.add_argument("--out", type=out_path, default=Path("results") / "accuracy",
                   help="results directory (default results/accuracy); a folder holding "
                   "another command's results is refused")
    p.add_argument("--format", default="png", choices=("png", "svg", "pdf"),
                   help="figure format (default png)")
    p.add_argument("--budget", type=positive_seconds, default=BUDGET_S, metavar="SECONDS",
                   help="refuse a sweep the time model predicts longer than this "
                   f"(default {BUDGET_S:g})")
    return p


def run(args) -> int:
    import sys

    from ..harness.tools import accuracy
    from ..machine.current import current_profile
    from ..plots.accuracy import error_vs_step  # matplotlib only where figures are drawn

    spec = args.spec or accuracy.DEFAULT_SPEC
    chain_shape(spec, args.n)  # widths in range before anything is built

    def say(message: str) -> None:  # progress on stderr: the table stays clean on stdout
        print(f"accuracy: {message}", file=sys.stderr, flush=True)

    current_profile(announce=say)  # the time model's guard prices with it: said if measured
    result = accuracy.run(spec, args.n, args.seed, args.out, args.format, draw=error_vs_step,
                          budget_s=args.budget, announce=say)
    print(f"{'method':14s} {'best h':>9s} {'error there':>12s} {'theory h':>9s}")
    for _, r in result.minima.iterrows():
        theory = f"{'-':>9s}" if math.isnan(r["h_theory"]) else f"{r['h_theory']:9.1e}"
        print(f"{r['method']:14s} {r['h_best']:9.0e} {r['error_best']:12.2e} {theory}")
    for method, reason in result.skipped.items():
        print(f"{method}: skipped: {reason}")
    print(f"results: {result.folder / accuracy.CSV}")
    print(f"saved: {result.figure}")
    return 0
