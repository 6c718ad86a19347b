"""Where forward mode overtakes reverse mode: the ratio of their times over (n, m) as a heat
map, with the cost model's crossover m = n and the measured crossovers of
``analysis.crossovers`` on top."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import CenteredNorm
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from ..harness.analysis import crossovers
from ._common import (
    SERIES_KEYS,
    CannotPlot,
    at_defaults,
    figure,
    log2_axis,
    measured,
    new_figure,
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


def _edges(values) -> np.ndarray:
    """Cell edges of a log axis: geometric midpoints, half a step beyond each end."""
    v = np.log(np.asarray(values, dtype=float))
    if v.size == 1:
        return np.exp([v[0] - 0.35, v[0] + 0.35])
    mid = (v[1:] + v[:-1]) / 2
    return np.exp(np.concatenate([[v[0] - (mid[0] - v[0])], mid,
                                  [v[-1] + (v[-1] - mid[-1])]]))


@figure("crossover_heatmap", "forward/reverse heat map", order=5,
        needs=("status", "n", "m", "mode", "chunk_spec", *SERIES_KEYS, "time_median_s"))
def crossover_heatmap(df: pd.DataFrame) -> Figure:
    """Forward time / reverse time for every (n, m) measured in both modes (blue: forward
    is faster, red: reverse is), the predicted crossover m = n as a line, and the measured
    crossover of each n (where the ratio, interpolated in log-log, passes 1) as diamonds."""
    key, table = ratio_table(df)
    ns, ms = table.index.to_numpy(float), table.columns.to_numpy(float)
    log_ratio = np.log10(table.to_numpy(float))
    fig = new_figure(7.2, 2.6 + 0.32 * len(ns) if len(ns) > 1 else 3.4)
    ax = fig.subplots()
    ax.set_facecolor("0.92")
    half = max(float(np.nanmax(np.abs(log_ratio))), 0.3)
    mesh = ax.pcolormesh(_edges(ms), _edges(ns), np.ma.masked_invalid(log_ratio),
                         cmap="RdBu_r", norm=CenteredNorm(0.0, half), edgecolors="white", lw=1)
    bar = fig.colorbar(mesh, ax=ax, pad=0.02)
    bar.set_label("forward time / reverse time")
    nice = np.array([0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100])
    bar.set_ticks(np.log10(nice[np.abs(np.log10(nice)) <= half]))
    bar.formatter = FuncFormatter(lambda v, _: f"{10 ** v:.3g}×")
    bar.update_ticks()
    if log_ratio.size <= ANNOTATE_CELLS:
        tops = _edges(ns)[1:]
        for i, n in enumerate(ns):
            for j, m in enumerate(ms):
                if np.isfinite(log_ratio[i, j]):  # above the centre, clear of the diamonds
                    ax.text(m, n * (tops[i] / n) ** 0.42, _ratio_text(10 ** log_ratio[i, j]),
                            ha="center", va="center",
                            fontsize="small",
                            color="white" if abs(log_ratio[i, j]) > 0.6 * half else "black")
    lo, hi = min(ms.min(), ns.min()) / 2, max(ms.max(), ns.max()) * 2
    ax.plot([lo, hi], [lo, hi], color="black", ls="--", lw=1.2,
            label="predicted crossover m = n")
    found = crossovers(df)
    if not found.empty:
        mine = found[(found[["depth", "width", "activation"]]
                      == pd.Series({k: key[k] for k in ("depth", "width", "activation")})
                      ).all(axis=1)].dropna(subset=["crossover_m"])
        if len(mine):
            ax.plot(mine["crossover_m"], mine["n"], ls="none", marker="D", ms=7, mfc="gold",
                    mec="black", label="measured crossover (ratio = 1)")
    ax.set_xlim(_edges(ms)[[0, -1]])
    ax.set_ylim(_edges(ns)[[0, -1]])
    log2_axis(ax, "x", ms)
    log2_axis(ax, "y", ns)
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Patch(color="0.92", label="not measured in both modes"))
    fig.legend(handles=handles, fontsize="small", loc="outside lower center",
               ncols=len(handles), frameon=False)
    ax.set_xlabel("m (outputs)")
    ax.set_ylabel("n (inputs)")
    ax.set_title(f"Forward / reverse time over (n, m), depth {key['depth']}, "
                 f"{key['width']} width profile", fontsize="medium")
    return fig
