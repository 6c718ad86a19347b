"""Where forward mode overtakes reverse mode: the ratio of their times over (n, m) as a heat
map, with the cost model's crossover m = n and the measured crossovers of
``analysis.crossovers`` on top."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import CenteredNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ..harness.analysis.tables import crossovers
from ._common import (
    SERIES_KEYS,
    CannotPlot,
    at_defaults,
    figure,
    measured,
    new_figure,
    ratio_axis,
)

#: Cells are annotated with their ratio up to this many cells.
ANNOTATE_CELLS = 80


def ratio_table(df: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """(series key, n × m table of forward / reverse median time) for the depth, width, …
    with the longest sweep over m (then the most cells) measured in both modes; NaN where
    a mode is missing."""
    rows = at_defaults(measured(df, "time_median_s"))
    rows = rows[rows["mode"].isin(["forward", "reverse"])]
    t = rows.pivot_table(index=[*SERIES_KEYS, "n", "m"], columns="mode",
                         values="time_median_s", aggfunc="median")
    if not {"forward", "reverse"} <= set(t.columns):
        raise CannotPlot("needs forward and reverse times (default chunk)")
    ratio = (t["forward"] / t["reverse"]).dropna()
    per_n = ratio.groupby(level=[*SERIES_KEYS, "n"]).size()
    if per_n.empty or per_n.max() < 2:
        raise CannotPlot("needs forward and reverse times at ≥ 2 values of m for one n "
                         "(default chunk, same depth and width)")
    # The chain whose sweep over m at one n is longest, then the one with most cells.
    longest = per_n.groupby(level=list(SERIES_KEYS)).max()
    cells = ratio.groupby(level=list(SERIES_KEYS)).size()
    best = max(longest.index, key=lambda k: (longest[k], cells[k]))
    best = best if isinstance(best, tuple) else (best,)
    table = ratio.xs(best, level=list(SERIES_KEYS)).unstack("m")
    return dict(zip(SERIES_KEYS, best)), table


def _ratio_text(r: float) -> str:
    return f"{r:.0f}" if r >= 10 else f"{r:.2g}"


#: Below this share of (n, m) cells measured, the ratio is drawn as lines, not a heat map.
DENSE = 0.6


@figure("crossover_heatmap", "forward/reverse heat map",
        caption=("Above 1 reverse mode is faster, below 1 forward mode is; the crossover sits "
                 "near m = n, as the cost model predicts."),
        order=5,
        needs=("status", "n", "m", "mode", "chunk_spec", *SERIES_KEYS, "time_median_s"))
def crossover_heatmap(df: pd.DataFrame) -> Figure:
    """Forward time / reverse time for every (n, m) measured in both modes: a heat map of
    equal cells (blue: forward is faster, red: reverse is) with the predicted crossover
    m = n and the measured crossover of each n (where the ratio, interpolated in log-log,
    passes 1) as diamonds; when the grid has one row of n or is mostly empty, the same
    ratio as lines against m / n on a ratio axis, where the predicted crossover is m / n = 1."""
    key, table = ratio_table(df)
    filled = float(np.isfinite(table.to_numpy(float)).mean())
    found = crossovers(df)
    if not found.empty:
        found = found[(found[["depth", "width", "activation"]]
                       == pd.Series({k: key[k] for k in ("depth", "width", "activation")})
                       ).all(axis=1)].dropna(subset=["crossover_m"])
    if len(table) >= 2 and filled >= DENSE:
        fig = _heatmap(table, found)
    else:
        fig = _ratio_lines(table, found)
    fig.suptitle(f"Forward / reverse time over (n, m), depth {key['depth']}, "
                 f"{key['width']} width profile", fontsize="medium")
    return fig


def _heatmap(table: pd.DataFrame, found: pd.DataFrame) -> Figure:
    """Equal cells indexed by the measured n and m (labelled with their values)."""
    ns, ms = table.index.to_numpy(float), table.columns.to_numpy(float)
    log_ratio = np.log10(table.to_numpy(float))
    fig = new_figure(7.2, 2.6 + 0.32 * len(ns))
    ax = fig.subplots()
    ax.set_facecolor("0.92")
    half = max(float(np.nanmax(np.abs(log_ratio))), 0.3)
    mesh = ax.pcolormesh(np.arange(len(ms) + 1) - 0.5, np.arange(len(ns) + 1) - 0.5,
                         np.ma.masked_invalid(log_ratio), cmap="RdBu_r",
                         norm=CenteredNorm(0.0, half), edgecolors="white", lw=1)
    bar = fig.colorbar(mesh, ax=ax, pad=0.02)
    bar.set_label("forward time / reverse time")
    nice = np.array([0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100])
    bar.set_ticks(np.log10(nice[np.abs(np.log10(nice)) <= half]))
    bar.formatter = FuncFormatter(lambda v, _: f"{10 ** v:.3g}×")
    bar.update_ticks()
    if log_ratio.size <= ANNOTATE_CELLS:
        for i in range(len(ns)):
            for j in range(len(ms)):
                if np.isfinite(log_ratio[i, j]):  # above the centre, clear of the diamonds
                    ax.text(j, i + 0.22, _ratio_text(10 ** log_ratio[i, j]), ha="center",
                            va="center", fontsize="small",
                            color="white" if abs(log_ratio[i, j]) > 0.6 * half else "black")
    def at_m(m):  # a value of m as a position on the cell axis (log-interpolated)
        return np.interp(np.log(m), np.log(ms), np.arange(len(ms)), left=np.nan, right=np.nan)

    rows = np.arange(len(ns))
    ax.plot(at_m(ns), rows, color="black", ls="--", lw=1.2, marker="|",
            label="predicted crossover m = n")
    if len(found):
        where = [np.flatnonzero(ns == n)[0] for n in found["n"] if n in ns]
        ax.plot(at_m(found["crossover_m"].to_numpy(float))[:len(where)], where, ls="none",
                marker="D", ms=7, mfc="gold", mec="black", label="measured crossover (ratio = 1)")
    ax.set_xticks(range(len(ms)), [f"{m:g}" for m in ms])
    ax.set_yticks(rows, [f"{n:g}" for n in ns])
    ax.set_xlim(-0.5, len(ms) - 0.5)
    ax.set_ylim(-0.5, len(ns) - 0.5)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Patch(color="0.92", label="not measured in both modes"))
    fig.legend(handles=handles, fontsize="small", loc="outside lower center",
               ncols=len(handles), frameon=False)
    ax.set_xlabel("m (outputs)")
    ax.set_ylabel("n (inputs)")
    return fig


def _ratio_lines(table: pd.DataFrame, found: pd.DataFrame) -> Figure:
    """One line per n: forward / reverse time against m / n, log-log, 1 marked both ways."""
    fig = new_figure(8.2, 4.6)
    ax = fig.subplots()
    colors = colormaps["viridis"](np.linspace(0.0, 0.9, len(table)))
    for color, (n, row) in zip(colors, table.iterrows()):
        row = row.dropna()
        ax.plot(row.index / n, row.to_numpy(float), color=color, marker="o",
                label=f"n = {n:g}" if len(table) <= 12 else None)
    ratios = table.to_numpy(float)[np.isfinite(table.to_numpy(float))]
    ax.axhline(1.0, color="0.3", lw=1)
    ax.axvline(1.0, color="black", ls="--", lw=1.2, label="predicted crossover m = n")
    if len(found):
        ax.plot(found["crossover_m_over_n"], np.ones(len(found)), ls="none", marker="D", ms=7,
                mfc="gold", mec="black", label="measured crossover (ratio = 1)", zorder=4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    low, high = float(ratios.min()), float(ratios.max())
    ax.set_ylim(min(low, 1.0) / 1.5, max(high, 1.0) * 1.5)
    ratio_axis(ax)
    ax.set_xlabel("m / n (outputs per input)")
    ax.set_ylabel("forward time / reverse time\n(> 1: reverse is faster)")
    ax.grid(True, which="major", alpha=0.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    fig.legend(fontsize="small", loc="outside lower center", ncols=4, frameon=False)
    return fig
