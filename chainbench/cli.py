"""The command line: `chainbench run | list | fit | plot | compare`. Each subcommand calls one
library function; bad input prints one line and exits with code 2."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from .harness.config import ConfigError


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chainbench",
        description="Measure what automatic differentiation costs on chains of layers.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run an experiment sweep",
                         description="Run an experiment sweep and append results to "
                         "results/<experiment>/points.csv as each point finishes.")
    run.add_argument("experiment", nargs="?", metavar="EXPERIMENT.toml",
                     help="experiment file, or the name of a shipped one (default: quick)")
    run.add_argument("--out", type=Path, help="results directory (default: results/<name>)")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run in --out, skipping finished points")
    run.add_argument("--threads", type=int, default=1,
                     help="Numba and BLAS threads, recorded in meta.json (default 1)")
    run.add_argument("--quiet", action="store_true", help="plain lines instead of a progress bar")
    run.add_argument("--plot", action="store_true",
                     help="draw the figures into the results directory's figures/ afterwards")
    run.add_argument("--fit", action="store_true",
                     help="print and save the fitted figures (fits.json) afterwards")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="send the points to the Dask cluster at ADDRESS, e.g. "
                       "tcp://host:8786 (needs the cluster extra)")
    where.add_argument("--local-cluster", type=int, metavar="N",
                       help="start a local Dask cluster of N single-threaded workers "
                       "(needs the cluster extra)")

    sub.add_parser("list", help="list the shipped experiments",
                   description="List the experiments shipped with chainbench.")

    fit = sub.add_parser("fit", help="fit scaling exponents of a results directory",
                         description="Print and save (fits.json) the fitted figures: "
                         "exponents with 95%% intervals, R² against the cost model, crossovers.")
    fit.add_argument("results", type=Path, metavar="RESULTS_DIR")

    plot = sub.add_parser("plot", help="draw the cost-scaling figures of a results directory",
                          description="Draw every figure the results support (time vs n, "
                          "J/F vs n, time vs predicted multiply-adds, memory vs depth, "
                          "forward/reverse heat map, time vs chunk); say why for the others.")
    plot.add_argument("results", type=Path, metavar="RESULTS_DIR")
    plot.add_argument("--format", default="png", choices=("png", "svg", "pdf"),
                      help="file format (default png)")
    plot.add_argument("--out", type=Path, help="where to save (default RESULTS_DIR/figures)")

    cmp_ = sub.add_parser("compare", help="one chain, every mode, side by side",
                          description="Time one chain in every mode and mark the fastest.")
    cmp_.add_argument("spec", help='chain spec, e.g. "dense:256 tanh dense:1"')
    cmp_.add_argument("--n", type=int, required=True, help="input width")
    cmp_.add_argument("--seed", type=int, default=0, help="parameter seed (default 0)")
    cmp_.add_argument("--threads", type=int, default=1, help="Numba and BLAS threads (default 1)")

    pln = sub.add_parser("plan", help="the optimal bracketing of a chain's Jacobian",
                         description="Print the cheapest way to accumulate the Jacobian "
                         "(tangents, adjoints, explicit Jacobians, block products) with its "
                         "multiply-adds beside pure forward and pure reverse mode.")
    pln.add_argument("spec", help='chain spec, e.g. "dense:1000 dense:10 dense:1000 dense:1000"')
    pln.add_argument("--n", type=int, required=True, help="input width")

    acc = sub.add_parser("accuracy", help="error of numerical differentiation vs the step h",
                         description="Sweep the step h of forward and central differences "
                         "(1e-1 … 1e-16) and the complex step (… 1e-200) on one chain; save the "
                         "error against the reverse-mode Jacobian (accuracy.csv) and its figure.")
    acc.add_argument("spec", nargs="?", default=None,
                     help='chain spec (default "dense:32 tanh dense:32 tanh dense:1")')
    acc.add_argument("--n", type=int, default=32, help="input width (default 32)")
    acc.add_argument("--seed", type=int, default=0, help="parameter and x seed (default 0)")
    acc.add_argument("--out", type=Path, default=Path("results") / "accuracy",
                     help="results directory (default results/accuracy)")
    acc.add_argument("--format", default="png", choices=("png", "svg", "pdf"),
                     help="figure format (default png)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as err:
        print(f"chainbench: error: {err}", file=sys.stderr)
        return 2


# --- subcommands ----------------------------------------------------------------------------


def _cmd_run(args) -> int:
    from .harness import config, sweep

    if args.threads < 1:
        raise ConfigError(f"--threads must be ≥ 1, got {args.threads}")
    exp = config.resolve(args.experiment)
    out = args.out or Path("results") / exp.name
    progress = _Progress(quiet=args.quiet or not sys.stderr.isatty())
    runner = sweep.run
    if args.scheduler is not None or args.local_cluster is not None:
        from functools import partial

        from .harness import distributed

        distributed.require()
        runner = partial(distributed.run, scheduler=args.scheduler,
                         local_workers=args.local_cluster)
    try:
        results = runner(exp, out, resume=args.resume, threads=args.threads,
                         progress=progress, argv=sys.argv if argv_is_cli() else None)
    except KeyboardInterrupt:
        progress.close()
        print(f"chainbench: interrupted; finished points are kept in {out}; "
              f"continue with `chainbench run {args.experiment or ''} --out {out} --resume`",
              file=sys.stderr)
        return 130
    progress.close()
    print(f"results: {results.points_file}")
    if args.fit:
        _fit(results.path)
    if args.plot:
        _draw(results.path, results.path / "figures", "png")
    return 0


def argv_is_cli() -> bool:
    return Path(sys.argv[0]).name in ("chainbench", "__main__.py")


class _Progress:
    """A tqdm bar with ETA on a terminal; one plain line per point otherwise."""

    def __init__(self, quiet: bool):
        self.quiet, self.bar = quiet, None

    def __call__(self, done, total, point, row):
        from .harness.sweep import describe

        line = describe(point) + ": " + _row_summary(row)
        if self.quiet:
            print(f"[{done}/{total}] {line}", flush=True)
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="point", dynamic_ncols=True)
        self.bar.set_postfix_str(line[:60])
        self.bar.update(1)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _row_summary(row) -> str:
    if row is None:
        return "done in an earlier run"
    if row["status"] != "ok":
        return f"{row['status']}: {row['reason']}"
    return f"{_seconds(row['time_median_s'])} (J/F {row['j_over_f']:.3g})"


def _seconds(s: float) -> str:
    if not isinstance(s, float) or math.isnan(s):
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def _cmd_list(args) -> int:
    from .harness import config

    for name, path in config.shipped().items():
        exp = config.load(path)
        print(f"{name:18s} {len(exp.points()):4d} points  {exp.description}")
    return 0


def _cmd_fit(args) -> int:
    _fit(args.results)
    return 0


def _fit(folder) -> None:
    """Print the fitted figures of a results folder and save them as fits.json."""
    from .harness.analysis import summary
    from .harness.results import load_points

    tables = summary(load_points(folder))
    for title, table in tables.items():
        print(f"\n== {title} ==")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}")
              if len(table) else "(not enough points for this figure)")
    out = Path(folder) / "fits.json"
    out.write_text(json.dumps({k: v.to_dict(orient="records") for k, v in tables.items()},
                              indent=2, default=float) + "\n")
    print(f"\nsaved: {out}")


def _cmd_plot(args) -> int:
    _draw(args.results, args.out or Path(args.results) / "figures", args.format)
    return 0


def _draw(results_dir: Path, out: Path, fmt: str) -> None:
    """Draw the figures of ``results_dir`` into ``out``: one line per figure, saved or why not."""
    from .harness.results import load_points
    from .plots import render_all

    for _name, _path, message in render_all(load_points(results_dir), out, fmt):
        print(message)


def _cmd_compare(args) -> int:
    from .harness.compare import build, compare
    from .harness.threads import set_threads

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
        print(f"{r['mode']:16s} {str(r['chunk']):>6s} {_seconds(r['time_median_s']):>10s} "
              f"{r['j_over_f']:8.3g} {r['madds_predicted']:12.4g} {r['madds_counted']:12.4g} "
              f"{r['bytes_counted']:10.0f}{mark}{auto}")
    return 0


def _cmd_plan(args) -> int:
    from .chain import ChainShape
    from .plan import engine_costs, plan, pure_costs, pure_engine

    try:
        shape = ChainShape.from_spec(args.spec, args.n)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err)) from None
    best = plan(shape)
    forward, reverse = pure_costs(shape)
    engine_fwd, engine_rev = engine_costs(shape)
    K = shape.depth
    print(f"widths   {'→'.join(map(str, shape.widths))}")
    print(f"optimal  {best.total:12.4g} multiply-adds  {best.expression()}")
    print(f"forward  {forward:12.4g} multiply-adds  ({forward / best.total:.3g}× the optimum; "
          "textbook, from the identity)")
    print(f"reverse  {reverse:12.4g} multiply-adds  ({reverse / best.total:.3g}× the optimum; "
          "textbook, from the identity)")
    how = (f"fwd[2..{K}](J1) and rev[1..{K - 1}](J{K})" if K > 1 else "J1 written out")
    print(f"mode=forward {engine_fwd:.4g} ({engine_fwd / best.total:.3g}×), mode=reverse "
          f"{engine_rev:.4g} ({engine_rev / best.total:.3g}×): chainbench's pure modes start "
          f"from J1's columns or J{K}'s rows, {how}")
    engine = pure_engine(shape)
    if engine is not None:
        print(f"mode=optimal runs mode={engine} here: its sweeps already cost the optimum")
    print("layers are numbered 1..K from the input; fwd[i..j](X) pushes X's columns through "
          "layers i..j, rev[i..j](X) pulls X's rows back through them, Jk is layer k's "
          "Jacobian written out, (A × B) a block product")
    return 0


def _cmd_accuracy(args) -> int:
    from .harness import accuracy

    if args.n < 1:
        raise ConfigError(f"--n must be ≥ 1, got {args.n}")
    result = accuracy.run(args.spec or accuracy.DEFAULT_SPEC, args.n, args.seed, args.out,
                          args.format)
    print(f"{'method':14s} {'best h':>9s} {'error there':>12s} {'theory h':>9s}")
    for _, r in result.minima.iterrows():
        theory = f"{'-':>9s}" if math.isnan(r["h_theory"]) else f"{r['h_theory']:9.1e}"
        print(f"{r['method']:14s} {r['h_best']:9.0e} {r['error_best']:12.2e} {theory}")
    for method, reason in result.skipped.items():
        print(f"{method}: skipped: {reason}")
    print(f"results: {result.folder / accuracy.CSV}")
    print(f"saved: {result.figure}")
    return 0


COMMANDS = {"run": _cmd_run, "list": _cmd_list, "fit": _cmd_fit, "plot": _cmd_plot,
            "compare": _cmd_compare, "plan": _cmd_plan, "accuracy": _cmd_accuracy}
