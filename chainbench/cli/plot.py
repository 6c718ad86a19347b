"""``chainbench plot RESULTS_DIR``: every figure the results support, and why not the rest."""

from __future__ import annotations

from pathlib import Path


def register(sub):
    p = sub.add_parser("plot", help="draw the cost-scaling figures of a results directory",
                       description="Draw every figure the results support (time vs n, "
                       "J/F vs n, time vs predicted multiply-adds, memory vs depth, "
                       "forward/reverse heat map, time vs chunk); say why for the others.")
    p.add_argument("results", type=Path, metavar="RESULTS_DIR")
    p.add_argument("--format", default="png", choices=("png", "svg", "pdf"),
                   help="file format (default png)")
    p.add_argument("--out", type=Path, help="where to save (default RESULTS_DIR/figures)")
    return p


def run(args) -> int:
    draw(args.results, args.out or Path(args.results) / "figures", args.format)
    return 0


def draw(results_dir: Path, out: Path, fmt: str) -> None:
    """Draw the figures of ``results_dir`` into ``out``: one line per figure, saved or why not."""
    from ..harness.results import load_points
    from ..plots import render_all

    for _name, _path, message in render_all(load_points(results_dir), out, fmt):
        print(message)
