"""Figures of sparse Jacobians (the ``sparse_scaling`` experiment): time, memory and lanes per
Jacobian against n for each chain template, dense modes beside the compressed ones, and the
pattern itself, a spy plot of J coloured by the column colors sparse-forward seeds with.

Rows of chain templates (grid ``layers``) carry the template in their ``width`` column; the
lanes and the pattern are recomputed from it (``harness.experiment.templates``), from the shape alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..cost.coloring import coloring
from ..engines.registry import ENGINES
from ..harness.experiment.templates import render, template_shape
from ..model.sparsity import sparsity
from ._common import (
    CannotPlot,
    byte_unit,
    figure,
    log2_axis,
    measured,
    mode_color,
    mode_order,
    new_figure,
    time_axis,
)

#: The n of the spy plot: small enough to see single entries.
SPY_N = 64


def _templated(df: pd.DataFrame, *positive: str) -> pd.DataFrame:
    """Measured rows of chain templates (a width with a layer token in it), at least two
    sizes of n per template."""
    rows = measured(df, *positive)
    rows = rows[rows["width"].astype(str).str.contains(":", regex=False)]
    if rows.empty:
        raise CannotPlot("needs rows of chain templates (an experiment with grid.layers, "
                         "such as sparse_scaling)")
    rows = rows[rows.groupby("width")["n"].transform("nunique") >= 2]
    if rows.empty:
        raise CannotPlot("needs ≥ 2 sizes of n for one chain template")
    return rows


def _slope(g: pd.DataFrame, value: str) -> float:
    """Log-log slope of ``value`` against n over the larger half of the sizes (the smaller
    ones sit on the per-call overhead)."""
    g = g.sort_values("n")
    g = g[g["n"] >= g["n"].median()] if g["n"].nunique() >= 4 else g
    if g["n"].nunique() < 2:
        return float("nan")
    return float(np.polyfit(np.log(g["n"]), np.log(g[value]), 1)[0])


def _panels(rows: pd.DataFrame, title: str) -> tuple[Figure, list]:
    templates = list(dict.fromkeys(rows["width"].astype(str)))
    fig = new_figure(6.2 * len(templates), 4.6)
    axes = fig.subplots(1, len(templates), squeeze=False)[0]
    fig.suptitle(title)
    return fig, list(zip(templates, axes))


def _by_mode(rows: pd.DataFrame):
    for mode in sorted(rows["mode"].unique(), key=mode_order):
        yield mode, rows[rows["mode"] == mode].sort_values("n")


@figure("sparse_time_vs_n", "sparse time vs n", order=17,
        needs=("n", "mode", "width", "time_median_s", "status"))
def sparse_time_vs_n(df: pd.DataFrame) -> Figure:
    """Median time per Jacobian against n, one panel per chain template, the log-log slope
    of each mode (over its larger half of n) in the legend."""
    rows = _templated(df, "time_median_s")
    fig, panels = _panels(rows, "Time per Jacobian: dense modes vs compressed (sparse) modes")
    for template, ax in panels:
        sub = rows[rows["width"].astype(str) == template]
        for mode, g in _by_mode(sub):
            ax.plot(g["n"], g["time_median_s"], "o-", color=mode_color(mode),
                    label=f"{mode}  ∝ n^{_slope(g, 'time_median_s'):.2f}")
        log2_axis(ax, "x", sub["n"])
        time_axis(ax)
        ax.set(title=template, xlabel="n (m = n)", ylabel="median time per Jacobian")
        ax.legend(fontsize="small")
    return fig


@figure("sparse_memory_vs_n", "sparse memory vs n", order=18,
        needs=("n", "mode", "width", "bytes_counted", "bytes_output", "status"))
def sparse_memory_vs_n(df: pd.DataFrame) -> Figure:
    """Bytes an engine holds (counted) plus the Jacobian it returns (dense, or its CSR
    arrays), against n."""
    rows = _templated(df, "bytes_counted", "bytes_output")
    rows = rows.assign(total=rows["bytes_counted"] + rows["bytes_output"])
    unit, scale = byte_unit(rows["total"].max())
    fig, panels = _panels(rows, "Memory: engine buffers + the Jacobian returned")
    for template, ax in panels:
        sub = rows[rows["width"].astype(str) == template]
        for mode, g in _by_mode(sub):
            ax.plot(g["n"], g["total"] / scale, "o-", color=mode_color(mode),
                    label=f"{mode}  ∝ n^{_slope(g, 'total'):.2f}")
        log2_axis(ax, "x", sub["n"])
        ax.set_yscale("log")
        ax.set(title=template, xlabel="n (m = n)", ylabel=f"held + J ({unit})")
        ax.legend(fontsize="small")
    return fig


def lanes_per_jacobian(mode: str, template: str, n: int) -> int:
    """JVPs (forward) or VJPs (reverse) one Jacobian takes: n, m, or the colors."""
    return ENGINES[mode].lane_count(template_shape(template, n))


@figure("sparse_sweeps_vs_n", "sparse lanes vs n", order=19,
        needs=("n", "mode", "width", "status"))
def sparse_sweeps_vs_n(df: pd.DataFrame) -> Figure:
    """Lanes (JVPs or VJPs) per Jacobian against n: n or m for the dense modes, the colors
    (flat in n at a fixed band or block) for the compressed ones."""
    rows = _templated(df)
    rows = rows.assign(lanes=[lanes_per_jacobian(mo, t, n) for mo, t, n in
                              zip(rows["mode"], rows["width"].astype(str), rows["n"])])
    fig, panels = _panels(rows, "Lanes per Jacobian: n (dense) vs colors (sparse)")
    for template, ax in panels:
        sub = rows[rows["width"].astype(str) == template]
        for k, (mode, g) in enumerate(_by_mode(sub)):
            ax.plot(g["n"], g["lanes"], "os^D"[k % 4] + "-", color=mode_color(mode),
                    label=f"{mode} ({int(g['lanes'].iloc[-1])} at n = {int(g['n'].iloc[-1])})",
                    alpha=0.8)
        log2_axis(ax, "x", sub["n"])
        ax.set_yscale("log", base=2)
        ax.set(title=template, xlabel="n (m = n)", ylabel="JVPs or VJPs per Jacobian")
        ax.legend(fontsize="small")
    return fig


@figure("sparsity_pattern", "sparsity pattern", order=20, needs=("mode", "width", "status"))
def sparsity_pattern(df: pd.DataFrame) -> Figure:
    """J's structural pattern at n = SPY_N for each chain template, each nonzero coloured by
    its column's color: columns of one color share no row, so one seed lane recovers them."""
    rows = measured(df)
    templates = [t for t in dict.fromkeys(rows["width"].astype(str)) if ":" in t]
    if not templates:
        raise CannotPlot("needs rows of chain templates (an experiment with grid.layers)")
    fig = new_figure(4.4 * len(templates), 4.6)
    axes = fig.subplots(1, len(templates), squeeze=False)[0]
    fig.suptitle(f"Jacobian pattern at n = {SPY_N}, coloured by column color (sparse-forward)")
    for template, ax in zip(templates, axes):
        shape = template_shape(template, SPY_N)
        P, c = sparsity(shape).tocoo(), coloring(shape, "columns")
        ax.scatter(P.col, P.row, c=c.colors[P.col] % 20, cmap="tab20", s=4, marker="s",
                   vmin=0, vmax=19, label=f"{c.count} colors (lower bound {c.lower_bound})")
        ax.set(xlim=(-0.5, shape.n - 0.5), ylim=(shape.m - 0.5, -0.5), aspect="equal",
               title=render(template, SPY_N), xlabel="column j (input)", ylabel="row i (output)")
        ax.legend(loc="upper right", fontsize="small")
    return fig
