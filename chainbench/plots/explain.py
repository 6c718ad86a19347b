"""The figure of ``chainbench explain --out``: each pass's measured time (all its runs)
beside its predicted time, and a roofline of the rates the passes reached under the
profile's roofs (the fastest GEMM rate, each memory level's bandwidth)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ._common import new_figure, seconds, time_axis


def explain_figure(ex) -> Figure:
    """Two panels of an ``explain.Explanation``: bars per pass (measured × count against
    predicted × count, log time), and multiply-adds per second against multiply-adds per
    byte, each pass a point, under the roofs."""
    fig = new_figure(12.0, 4.8)
    bars, roof = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    rows = ex.rows
    idx = np.arange(len(rows))
    measured = [r["measured_s"] * r["count"] for r in rows]
    predicted = [r["predicted_s"] * r["count"] for r in rows]
    bars.bar(idx - 0.2, measured, 0.4, label="measured alone × count", color="#33658a")
    bars.bar(idx + 0.2, predicted, 0.4, label="predicted × count", color="#f6ae2d")
    bars.set_yscale("log")
    time_axis(bars)
    bars.set_xticks(idx, [f"{r['rule']} {r['layer']}".strip() for r in rows], rotation=70,
                      fontsize=7, ha="right")
    bars.set_title(f"call {seconds(ex.call_s)} measured, passes sum {seconds(ex.passes_s)}, "
                   f"predicted {seconds(ex.predicted_s)}", fontsize=9)
    bars.legend(fontsize=8)
    _roofline(roof, ex)
    fig.suptitle(ex.title, fontsize=9)
    return fig


def _roofline(ax, ex) -> None:
    """Multiply-adds per second against multiply-adds per byte (passes with work only)."""
    pts = [(r["madds"] / r["bytes"], r["madds"] / r["measured_s"], r["rule"])
           for r in ex.rows if r["madds"] > 0 and r["bytes"] > 0 and r["measured_s"] > 0]
    lo = min([p[0] for p in pts], default=0.01) / 4
    hi = max([p[0] for p in pts], default=10.0) * 4
    x = np.geomspace(lo, hi, 50)
    for name, bandwidth in ex.bandwidths:
        ax.plot(x, np.minimum(bandwidth * x, ex.peak_madds_per_s) / 1e9, lw=1,
                label=f"{name} {bandwidth / 1e9:.3g} GB/s")
    for rule in sorted({p[2] for p in pts}):
        mine = [p for p in pts if p[2] == rule]
        ax.scatter([p[0] for p in mine], [p[1] / 1e9 for p in mine], s=22, label=rule,
                   zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("multiply-adds per byte moved")
    ax.set_ylabel("Gmadd/s reached")
    ax.set_title("roofline (one thread)", fontsize=9)
    ax.legend(fontsize=7)
