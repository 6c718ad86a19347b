"""``chainbench run [EXPERIMENT]``: run an experiment sweep, rows written as points finish;
says what takes time besides the points (calibration, the one-time compile) as it starts,
and ends with the tally of ok, timeout, skipped and failed points and their reasons."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from . import fit, plot, report, summary
from ._format import out_path
from .progress import Progress


def register(sub):
    p = sub.add_parser("run", help="run an experiment sweep",
                       description="Run an experiment sweep and append results to "
                       "results/<experiment>/points.csv as each point finishes.")
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT.toml",
                   help="experiment file, or the name of a shipped one (default: quick)")
    p.add_argument("--out", type=out_path, help="results directory (default: results/<name>)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in --out, skipping finished points")
    p.add_argument("--threads", type=int, default=1,
                   help="Numba and BLAS threads, recorded in meta.json (default 1)")
    p.add_argument("--quiet", action="store_true", help="plain lines instead of a progress bar")
    p.add_argument("--plot", action="store_true",
                   help="draw the figures into the results directory's figures/ afterwards")
    p.add_argument("--fit", action="store_true",
                   help="print and save the fitted figures (fits.json) afterwards")
    p.add_argument("--report", action="store_true",
                   help="write the HTML report (RESULTS_DIR/report.html) afterwards")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="send the points to the Dask cluster at ADDRESS, e.g. "
                       "tcp://host:8786 (needs the cluster extra)")
    where.add_argument("--local-cluster", type=int, metavar="N",
                       help="start a local Dask cluster of N single-threaded workers "
                       "(needs the cluster extra)")
    return p


def run(args) -> int:
    from ..harness.experiment import config
    from ..harness.run.runs import Interrupted
    from ..session.run import check_options, sweep

    check_options(args.threads, args.scheduler)
    exp = config.resolve(args.experiment)
    out = args.out or Path("results") / exp.name
    progress = Progress(quiet=args.quiet or not sys.stderr.isatty(), points=exp.points(),
                        policy=exp.measure)
    try:
        results = sweep(exp, out, resume=args.resume, threads=args.threads, progress=progress,
                        scheduler=args.scheduler, local_cluster=args.local_cluster,
                        argv=sys.argv if argv_is_cli() else None, announce=progress.announce)
    except Interrupted as err:  # after the run's folder was opened: it says which
        progress.close()
        print(f"chainbench: interrupted; finished points are kept in {err.folder}; continue "
              f"with `{resume_command(args, err.folder)}`", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        progress.close()
        print("chainbench: interrupted before any point was written", file=sys.stderr)
        return 130
    progress.close()
    if args.fit:
        fit.fit_and_print(results.path)
    if args.plot:
        plot.draw(results.path, results.path / "figures", "png")
    written = report.write([results.path]) if args.report else None
    summary.print_summary(results, written)
    return 0


def resume_command(args, folder: Path) -> str:
    """The command that resumes this run in ``folder``: its experiment, --out, the
    cluster and thread options it had."""
    words = ["chainbench", "run"] + ([args.experiment] if args.experiment else [])
    words += ["--out", str(folder), "--resume"]
    if args.threads != 1:
        words += ["--threads", str(args.threads)]
    if args.scheduler is not None:
        words += ["--scheduler", args.scheduler]
    if args.local_cluster is not None:
        words += ["--local-cluster", str(args.local_cluster)]
    return " ".join(shlex.quote(w) for w in words)


def argv_is_cli() -> bool:
    return Path(sys.argv[0]).name in ("chainbench", "__main__.py")
