"""Forward mode's chunk: how many tangent lanes one sweep carries. Chunk 1 is the textbook
one JVP per input; chunk n is one sweep carrying them all."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._common import (
    LINESTYLES,
    MARKERS,
    CannotPlot,
    describe,
    figure,
    log2_axis,
    log_limits,
    measured,
    mode_color,
    new_figure,
    time_axis,
    varying,
)

GROUP = ("n", "m", "depth", "width", "activation", "seed")


@figure("time_vs_chunk", "time vs chunk",
        caption=("Time of forward mode against how many tangent lanes it carries per sweep: "
                 "the lowest point is the best chunk on this machine."),
        order=6,
        needs=("mode", "chunk", "chunk_spec", *GROUP, "time_median_s"))
def time_vs_chunk(df: pd.DataFrame) -> Figure:
    """Forward-mode time per Jacobian against the chunk it ran with (resolved lanes per
    sweep), one line per chain with ≥ 2 chunks measured; the default chunk is marked, and
    where the results have predicted multiply-adds, the cost model's time is drawn scaled
    to the chain's median seconds per multiply-add."""
    rows = measured(df, "time_median_s", "chunk")
    rows = rows[rows["mode"] == "forward"]
    default_of = rows[rows["chunk_spec"] == "default"].groupby(list(GROUP))["chunk"].first()
    # A default chunk that resolves to the same lanes as an explicit one is the same point.
    rows = rows.sort_values("chunk_spec", key=lambda s: s == "default")
    rows = rows.drop_duplicates([*GROUP, "chunk"])
    sizes = rows.groupby(list(GROUP))["chunk"].transform("nunique")
    rows = rows[sizes >= 2]
    if rows.empty:
        raise CannotPlot("needs forward-mode times at ≥ 2 chunk sizes of one chain")
    fig = new_figure()
    ax = fig.subplots()
    vary = varying(rows, GROUP)
    defaults = set()
    for k, (key, g) in enumerate(rows.groupby(list(GROUP))):
        g = g.sort_values("chunk")
        key = dict(zip(GROUP, key))
        label = describe(key, vary) if vary else describe(key, ("n", "m", "depth"))
        color = mode_color("forward") if len(vary) == 0 else f"C{k % 10}"
        ax.plot(g["chunk"], g["time_median_s"], color=color, ls=LINESTYLES[k % 4],
                marker=MARKERS[k % len(MARKERS)], label=f"measured ({label})")
        if "madds_predicted" in g.columns:
            madds = pd.to_numeric(g["madds_predicted"], errors="coerce").to_numpy(float)
            rate = np.nanmedian(g["time_median_s"].to_numpy(float) / madds)
            if np.isfinite(rate):
                ax.plot(g["chunk"], madds * rate, color=color, ls=":", lw=1.2, alpha=0.8,
                        label="cost model: madds × median time per madd")
        if tuple(key.values()) in default_of.index:
            defaults.add(default_of[tuple(key.values())])
    ax.set_ylim(*log_limits(rows["time_median_s"], pad=1.5))
    for c in sorted(defaults):
        ax.axvline(c, color="0.5", ls="--", lw=1,
                   label="default chunk" if c == min(defaults) else None)
    log2_axis(ax, "x", rows["chunk"])
    ax.set_xlim(*log_limits(rows["chunk"], pad=1.3))
    time_axis(ax)
    ax.set_xlabel("chunk c (tangent lanes per forward sweep)")
    ax.set_ylabel("time per Jacobian (median)")
    ax.set_title("Forward mode: time vs chunk size")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    return fig
