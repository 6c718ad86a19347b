"""``chainbench plot RESULTS_DIR``: every figure the results support, and why not the rest."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from ._format import out_path


def register(sub):
    p = sub.add_parser("plot", help="draw the cost-scaling figures of a results directory",
                       description="Draw every figure the results support (time vs n, "
                       "J/F vs n, time vs predicted multiply-adds, memory vs depth, "
                       "forward/reverse heat map, time vs chunk); say why for the others.")
    p.add_argument("results", type=Path, metavar="RESULTS_DIR")
    p.add_argument("--format", default="png", choices=("png", "svg", "pdf"),
                   help="file format (default png)")
    p.add_argument("--out", type=out_path, help="where to save (default RESULTS_DIR/figures)")
    p.add_argument("--why", action="store_true",
                   help="say, for each figure not drawn, what the results lack")
    return p


def run(args) -> int:
    draw(args.results, args.out or Path(args.results) / "figures", args.format, why=args.why)
    return 0


def draw(results_dir: Path, out: Path, fmt: str, why: bool = False) -> None:
    """Draw the figures of ``results_dir`` into ``out``: one line per figure saved, then one
    line naming those the results cannot support (``why``: one line each, with the reason)."""
    from ..harness.analysis.tables import load  # load_points, plus the profile the fits read
    from ..harness.storage.points_csv import damaged_warning
    from ..plots import FIGURES
    from ..session.results import save_figures

    df = load(results_dir)
    if warning := damaged_warning(df, results_dir):
        print(f"chainbench: warning: {warning}", file=sys.stderr)
    report = save_figures(df, out, fmt)
    for _name, path, message in report:
        if path is not None or why:
            print(message)
    if not why and (skipped := [FIGURES[name].label for name, path, _ in report if path is None]):
        print(textwrap.fill(f"not drawn, for want of the points they need (--why says "
                            f"which): {', '.join(skipped)}", 100, subsequent_indent="  ",
                            break_on_hyphens=False))
