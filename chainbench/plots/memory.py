"""What each mode holds in memory as the chain gets deeper: bytes the engine counts, bytes
the cost model predicts, and an independent measurement (tracemalloc peak of one call)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter

from ._common import (
    CannotPlot,
    at_defaults,
    byte_unit,
    describe,
    figure,
    log2_axis,
    log_limits,
    measured,
    mode_color,
    mode_order,
    new_figure,
)

#: column -> (legend text, line style, marker, marker size, hollow)
KINDS = {
    "bytes_counted": ("counted by the engine", "-", "o", 6, False),
    "bytes_predicted": ("predicted by the cost model", "--", "s", 10, True),
    "bytes_measured": ("measured (tracemalloc peak, includes J)", ":", "^", 7, False),
}
GROUP = ("n", "m", "width", "activation", "seed")


@figure("memory_vs_depth", "memory vs depth",
        caption=("Reverse mode's tape grows with depth while forward mode's tangent lanes do "
                 "not; counted and predicted bytes coincide where the cost model is exact."),
        order=4,
        needs=("n", "m", "depth", "width", "activation", "seed", "mode", "chunk_spec",
               "bytes_counted", "bytes_predicted"))
def memory_vs_depth(df: pd.DataFrame) -> Figure:
    """Bytes held per mode against depth for the (n, m, width) with the most depths measured:
    reverse mode's tape grows with depth, forward mode's tangent lanes do not. The measured
    peak is drawn when the results have it (it also holds the Jacobian J itself)."""
    rows = at_defaults(measured(df, "bytes_counted", "bytes_predicted"))
    kinds = [k for k in KINDS if k != "bytes_measured"]
    if "bytes_measured" in rows.columns:
        have = pd.to_numeric(rows["bytes_measured"], errors="coerce")
        if (have > 0).any():
            kinds.append("bytes_measured")
            rows = rows.assign(bytes_measured=have.where(have > 0))
    depths = rows.groupby([*GROUP, "mode"])["depth"].nunique()
    depths = depths[depths >= 2]
    if depths.empty:
        raise CannotPlot("needs ≥ 2 depths of one mode at the same n, m and width "
                         "(default chunk)")
    best = depths.groupby(level=list(GROUP)).sum()
    key = max(best.index, key=lambda k: (best[k], k[0]))  # most points, then the largest n
    sel = rows[(rows[list(GROUP)] == pd.Series(dict(zip(GROUP, key)))).all(axis=1)]
    modes = sorted(sel["mode"].unique(), key=mode_order)
    unit, scale = byte_unit(float(np.nanmax(sel[kinds].to_numpy(float))))

    fig = new_figure()
    ax = fig.subplots()
    for mode in modes:
        g = sel[sel["mode"] == mode].sort_values("depth")
        if g["depth"].nunique() < 2:
            continue
        for kind in kinds:
            _, ls, marker, size, hollow = KINDS[kind]
            ax.plot(g["depth"], g[kind] / scale, color=mode_color(mode), ls=ls, marker=marker,
                    ms=size, mfc="none" if hollow else mode_color(mode), lw=1.3)
    handles = [Line2D([], [], color=mode_color(m), lw=6, label=m) for m in modes]
    handles += [Line2D([], [], color="0.3", ls=ls, marker=mk, ms=ms, mfc="none" if h else "0.3",
                       label=text)
                for text, ls, mk, ms, h in (KINDS[k] for k in kinds)]
    ax.legend(handles=handles, fontsize="small", loc="best")
    log2_axis(ax, "x", sel["depth"])
    ax.set_yscale("log")
    ax.set_ylim(*log_limits(sel[kinds].to_numpy(float).ravel() / scale, pad=1.5))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("depth (hidden dense + activation blocks)")
    ax.set_ylabel(f"memory held per Jacobian ({unit})")
    missing = "" if "bytes_measured" in kinds else " (no measured memory in these results)"
    ax.set_title(f"Memory vs depth, {describe(dict(zip(GROUP, key)), ('n', 'm'))}, "
                 f"{key[2]} width profile{missing}", fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    return fig
