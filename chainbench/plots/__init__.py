"""Cost-scaling figures of a results table (points.csv as a DataFrame).

Each figure is a pure function ``DataFrame -> matplotlib.figure.Figure`` that raises
``CannotPlot`` (naming what is missing) when the results cannot support it; ``render_all``
draws every one that can and saves it. No pyplot, no global state: import this module only
where figures are wanted (it imports matplotlib).

    >>> from chainbench.harness.storage.points_csv import load_points
    >>> from chainbench import plots
    >>> fig = plots.time_vs_n(load_points("results/quick"))
    >>> plots.render_all(load_points("results/quick"), "results/quick/figures")
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..harness.experiment.config import ConfigError
from ._common import PNG_DPI, REGISTRY, CannotPlot, FigureSpec
from .accuracy import error_vs_step
from .chunk import time_vs_chunk
from .cost_model import time_vs_madds, time_vs_predicted
from .crossover import crossover_heatmap
from .memory import memory_vs_depth
from .operations import op_memory_vs_n, op_tape_entries, op_time_vs_n
from .peers import peers_vs_n
from .regret import auto_regret
from .scaling import j_over_f_vs_n, time_vs_n
from .second_order import (
    hessian_bracketing,
    hessian_memory,
    hessian_time_vs_n,
    hessian_vs_peers,
    hvp_over_gradient,
)
from .sparse import sparse_memory_vs_n, sparse_sweeps_vs_n, sparse_time_vs_n, sparsity_pattern
from .tradeoffs import bracketing_speedup, checkpoint_tradeoff

#: name -> FigureSpec(name, label, draw, needs, order), in drawing order.
FIGURES: dict[str, FigureSpec] = dict(sorted(REGISTRY.items(), key=lambda kv: kv[1].order))
FORMATS = ("png", "svg", "pdf")

__all__ = [
    "FIGURES",
    "FORMATS",
    "CannotPlot",
    "FigureSpec",
    "auto_regret",
    "bracketing_speedup",
    "checkpoint_tradeoff",
    "crossover_heatmap",
    "error_vs_step",
    "hessian_bracketing",
    "hessian_memory",
    "hessian_time_vs_n",
    "hessian_vs_peers",
    "hvp_over_gradient",
    "j_over_f_vs_n",
    "memory_vs_depth",
    "op_memory_vs_n",
    "op_tape_entries",
    "op_time_vs_n",
    "peers_vs_n",
    "render_all",
    "sparse_memory_vs_n",
    "sparse_sweeps_vs_n",
    "sparse_time_vs_n",
    "sparsity_pattern",
    "time_vs_chunk",
    "time_vs_madds",
    "time_vs_n",
    "time_vs_predicted",
]


def render_all(df: pd.DataFrame, out_dir, fmt: str = "png") -> list[tuple[str, Path | None, str]]:
    """Draw every registered figure the results support and save it as ``out_dir/NAME.fmt``.

    Returns
    -------
    list of (figure name, saved path or None, message)
        One entry per figure, in drawing order; the path is None and the message says
        why when the figure was skipped.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"figure format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a directory")
    report = []
    for spec in FIGURES.values():
        try:
            fig = spec.draw(df)
        except CannotPlot as err:
            report.append((spec.name, None, f"skipped: {err}"))
            continue
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{spec.name}.{fmt}"
        fig.savefig(path, format=fmt, dpi=PNG_DPI, metadata=_metadata(fmt))
        report.append((spec.name, path, f"saved: {path}"))
    return report


def _metadata(fmt: str) -> dict:
    """No creation date in SVG and PDF, so redrawing the same results gives the same file."""
    return {"Date": None} if fmt in ("svg", "pdf") else {}
