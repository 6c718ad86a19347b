"""Beyond pure modes: checkpointed reverse mode's memory-for-time trade-off, and the speed-up
of the optimal bracketing over pure forward and reverse mode."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..engines.registry import ENGINES
from ._common import (
    CannotPlot,
    byte_unit,
    figure,
    measured,
    mode_color,
    new_figure,
    time_axis,
)

#: The modes that keep snapshots: checkpointed reverse mode.
CHECKPOINTED = tuple(name for name, e in ENGINES.items() if "snapshots" in e.options)
CHAIN = ("n", "m", "depth", "width", "activation", "seed")


@figure("checkpoint_tradeoff", "checkpoint trade-off", order=7,
        needs=("mode", "snapshots_spec", "snapshots", *CHAIN, "time_median_s",
               "bytes_counted"))
def checkpoint_tradeoff(df: pd.DataFrame) -> Figure:
    """Memory held against time per Jacobian, one panel per chain: plain reverse mode, √K
    and binomial (revolve) checkpointing at each snapshot count (a curve), and forward mode."""
    rows = measured(df, "time_median_s", "bytes_counted")
    chains = [key for key, g in rows.groupby(list(CHAIN)) if g["mode"].isin(CHECKPOINTED).any()]
    if not chains:
        raise CannotPlot("needs checkpointed reverse-mode times (sqrt-checkpoint or revolve)")
    fig = new_figure(width=min(6.0 * len(chains), 13), height=4.8)
    axes = np.atleast_1d(fig.subplots(1, len(chains), squeeze=False)[0])
    unit, scale = byte_unit(rows["bytes_counted"].max())
    for ax, key in zip(axes, chains):
        g = rows[(rows[list(CHAIN)] == pd.Series(key, index=list(CHAIN))).all(axis=1)]
        for mode, h in g.groupby("mode"):
            y = h["bytes_counted"] / scale
            if mode in CHECKPOINTED:  # a curve over the snapshot count, each point labelled
                h = h.assign(s=pd.to_numeric(h["snapshots"], errors="coerce")).sort_values("s")
                y = h["bytes_counted"] / scale
                ax.plot(h["time_median_s"], y, "-o" if mode == "revolve" else "-s",
                        color=mode_color(mode), label=f"{mode} (s = snapshots)")
                for t, b, s in zip(h["time_median_s"], y, h["s"]):
                    if np.isfinite(s):
                        ax.annotate(f"s={int(s)}", (t, b), textcoords="offset points",
                                    xytext=(4, 4), fontsize="x-small", color=mode_color(mode))
            else:
                ax.plot(h["time_median_s"], y, "D", ms=8, ls="none", color=mode_color(mode),
                        label=mode)
        if "bytes_measured" in g.columns:
            meas = pd.to_numeric(g["bytes_measured"], errors="coerce") - pd.to_numeric(
                g.get("bytes_output", 0), errors="coerce")
            ok = np.isfinite(meas)
            ax.plot(g["time_median_s"][ok], meas[ok] / scale, "x", color="0.3", ms=6,
                    label="measured (tracemalloc, less J)")
        time_axis(ax, "x")
        ax.set_yscale("log")
        n, m, depth = key[0], key[1], key[2]
        ax.set_title(f"n = {n}, m = {m}, depth {depth}", fontsize="medium")
        ax.set_xlabel("time per Jacobian (median)")
        ax.set_ylabel(f"memory held by the engine ({unit})")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="x-small", loc="best")
    fig.suptitle("Checkpointed reverse mode: memory against time")
    return fig


@figure("bracketing_speedup", "bracketing speed-up", order=8,
        needs=("mode", "widths", "activation", "time_median_s", "madds_predicted"))
def bracketing_speedup(df: pd.DataFrame) -> Figure:
    """Time per Jacobian of pure forward, pure reverse and the optimal bracketing on each
    chain, with the measured and the predicted (multiply-add) speed-up of the optimum over
    the better pure mode."""
    rows = measured(df, "time_median_s", "madds_predicted")
    if "chunk_spec" in rows.columns:
        rows = rows[rows["chunk_spec"] == "default"]
    rows = rows[rows["mode"].isin(["forward", "reverse", "optimal"])]
    chains = [k for k, g in rows.groupby(["widths", "activation"], sort=False)
              if "optimal" in set(g["mode"]) and len(set(g["mode"])) > 1]
    if not chains:
        raise CannotPlot("needs optimal-mode and pure-mode times on the same chain")
    fig = new_figure(width=max(6.5, 1.6 * len(chains) + 2), height=4.8)
    ax = fig.subplots()
    modes = ["forward", "reverse", "optimal"]
    width = 0.8 / len(modes)
    for i, (widths, act) in enumerate(chains):
        g = rows[(rows["widths"] == widths) & (rows["activation"] == act)].set_index("mode")
        for j, mode in enumerate(modes):
            if mode in g.index:
                ax.bar(i + (j - 1) * width, g.loc[mode, "time_median_s"], width,
                       color=mode_color(mode), label=mode if i == 0 else None)
        pure = [p for p in ("forward", "reverse") if p in g.index]
        best = min(pure, key=lambda p: g.loc[p, "time_median_s"])
        measured_gain = g.loc[best, "time_median_s"] / g.loc["optimal", "time_median_s"]
        predicted_gain = min(g.loc[p, "madds_predicted"] for p in pure) / g.loc[
            "optimal", "madds_predicted"]
        ax.annotate(f"{measured_gain:.3g}× measured\n{predicted_gain:.3g}× predicted",
                    (i + width, g.loc["optimal", "time_median_s"]),
                    textcoords="offset points", xytext=(0, 6), ha="center",
                    fontsize="x-small")
    ax.set_xticks(range(len(chains)))
    ax.set_xticklabels([f"{w.replace('-', '→')}\n{a}" for w, a in chains], fontsize="x-small")
    time_axis(ax)
    ax.set_ylabel("time per Jacobian (median)")
    ax.set_xlabel("chain widths n → … → m, activation")
    ax.set_title("Optimal bracketing against pure modes")
    ax.grid(True, axis="y", which="major", alpha=0.3)
    ax.legend(fontsize="small")
    return fig
