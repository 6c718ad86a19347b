"""``chainbench report RESULTS_DIR [RESULTS_DIR …]``: one self-contained HTML file of a run,
or of several runs side by side (two machines, two commits)."""

from __future__ import annotations

from pathlib import Path

from ._format import out_path


def register(sub):
    p = sub.add_parser("report", help="write an HTML report of one or more results directories",
                       description="Write one self-contained HTML file (figures inline, no "
                       "network needed to open it): the experiment, the machine, the fitted "
                       "figures, the tally of points, every figure with a caption and the "
                       "raw table. Several directories are compared side by side.")
    p.add_argument("results", type=Path, nargs="+", metavar="RESULTS_DIR")
    p.add_argument("--out", type=out_path, metavar="FILE.html",
                   help="where to write it (default RESULTS_DIR/report.html; for several, "
                   "report-A-vs-B.html beside the first); an existing file that is not a "
                   "chainbench report is refused")
    return p


def run(args) -> int:
    print(f"report: {write(args.results, args.out)}")
    return 0


def write(folders, out=None) -> Path:
    """Write the report (imports matplotlib only when asked for)."""
    from ..report import write_report

    return write_report(folders, out)
