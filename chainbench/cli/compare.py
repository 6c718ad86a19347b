"""``chainbench compare SPEC --n N``: one chain, every mode, side by side."""

from __future__ import annotations

import textwrap

from ._format import chain_shape, nbytes, nonnegative_int, positive_seconds, seconds


def register(sub):
    from ..harness.tools.budgets import COMPARE_S as BUDGET_S

    p = sub.add_parser("compare", help="one chain, every mode, side by side",
                       description="Time one chain in every mode and mark the fastest; a "
                       "mode predicted slower than --budget per call is skipped, with why.")
    p.add_argument("spec", help='chain spec, e.g. "dense:256 tanh dense:1"')
    p.add_argument("--n", type=int, required=True, help="input width")
    p.add_argument("--seed", type=nonnegative_int, default=0,
                   help="parameter seed, an integer ≥ 0 (default 0)")
    p.add_argument("--threads", type=int, default=1, help="Numba and BLAS threads (default 1)")
    p.add_argument("--budget", type=positive_seconds, default=BUDGET_S, metavar="SECONDS",
                   help="skip a mode the time model predicts slower than this per Jacobian "
                   f"call (default {BUDGET_S:g})")
    return p


def run(args) -> int:
    import sys

    from ..harness.run.threads import check_threads, set_threads
    from ..harness.tools.compare import build, compare
    from ..machine.current import current_profile

    chain_shape(args.spec, args.n)  # widths in range before anything is built
    set_threads(check_threads(args.threads))  # as `run` checks them

    def say(message: str) -> None:  # progress on stderr: the table stays clean on stdout
        print(f"compare: {message}", file=sys.stderr, flush=True)

    current_profile(announce=say)  # the time model's guard prices with it: said if measured
    chain = build(args.spec, args.n, args.seed)
    df = compare(chain, seed=args.seed, budget_s=args.budget, announce=say)
    print(f"{chain!r}: widths {'→'.join(map(str, chain.widths))}")
    print(f"{'mode':15s} {'chunk':>6s} {'time':>10s} {'J/F':>8s} {'madds pred':>11s} "
          f"{'madds count':>11s} {'memory':>10s}")
    for _, r in df[df["status"] == "ok"].iterrows():
        print(ok_line(r))
    for line in not_run_lines(df[df["status"] != "ok"]):
        print(line)
    return 0


def ok_line(r) -> str:
    """One measured mode; '-' for the counters a peer tool does not fill."""
    import pandas as pd

    marks = [m for m, on in (("fastest", r["fastest"]), ("auto's pick", r["auto_pick"])) if on]
    chunk = "" if pd.isna(r["chunk"]) else str(int(r["chunk"]))
    counted = not (r["madds_counted"] == 0 and r["bytes_counted"] == 0)
    madds = f"{r['madds_counted']:11.4g}" if counted else f"{'-':>11s}"
    held = nbytes(float(r["bytes_counted"])) if counted else "-"
    return (f"{r['mode']:15s} {chunk:>6s} {seconds(r['time_median_s']):>10s} "
            f"{r['j_over_f']:8.3g} {r['madds_predicted']:11.4g} {madds} {held:>10s}"
            + (f" ← {', '.join(marks)}" if marks else ""))


#: Widest line printed.
WIDTH = 100


def not_run_lines(rows) -> list[str]:
    """The modes not measured, one line per cause: 'skipped (jax-jacfwd, jax-jacrev): …'."""
    groups: dict[tuple[str, str], list[str]] = {}
    for _, r in rows.iterrows():
        reason = str(r["reason"]).removeprefix(f"{r['mode']}: ")
        groups.setdefault((str(r["status"]), reason), []).append(str(r["mode"]))
    lines = []
    for (status, reason), modes in groups.items():  # wrapped: tables fit 100 columns
        lines += textwrap.wrap(f"{status} ({', '.join(modes)}): {reason}", WIDTH,
                               subsequent_indent="    ")
    return lines
