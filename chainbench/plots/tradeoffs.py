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
    look,
    measured,
    new_figure,
    ratio_axis,
    time_axis,
)

#: The modes that keep snapshots: checkpointed reverse mode.
CHECKPOINTED = tuple(name for name, e in ENGINES.items() if "snapshots" in e.options)
CHAIN = ("n", "m", "depth", "width", "activation", "seed")


@figure("checkpoint_tradeoff", "checkpoint trade-off",
        caption=("Fewer snapshots hold less memory and cost more recomputation: each curve "
                 "runs from little memory and much time to the reverse-mode point."),
        order=7,
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
        spans = (np.log(g["time_median_s"].max() / g["time_median_s"].min()) or 1.0,
                 np.log(g["bytes_counted"].max() / g["bytes_counted"].min()) or 1.0)
        for mode, h in g.groupby("mode"):
            style = look(mode)
            if mode in CHECKPOINTED:  # a curve over the snapshot count, points labelled
                h = h.assign(s=pd.to_numeric(h["snapshots"], errors="coerce")).sort_values("s")
                y = h["bytes_counted"] / scale
                ax.plot(h["time_median_s"], y, label=f"{mode} (s = snapshots)", **style.line())
                _label_snapshots(ax, h["time_median_s"].to_numpy(float), y.to_numpy(float),
                                 h["s"].to_numpy(float), style.color, spans)
            else:
                ax.plot(h["time_median_s"], h["bytes_counted"] / scale, ms=8, label=mode,
                        **{**style.line(), "ls": "none"})
        if "bytes_measured" in g.columns:
            meas = pd.to_numeric(g["bytes_measured"], errors="coerce") - pd.to_numeric(
                g.get("bytes_output", 0), errors="coerce")
            ok = np.isfinite(meas) & (meas > 0)
            ax.plot(g["time_median_s"][ok], meas[ok] / scale, "x", color="0.3", ms=6,
                    label="measured: tracemalloc peak less J\n(adds the call's temporaries,"
                          " so it sits above)")
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


#: Labels closer than this share of a panel's log span (in x and y) to one already written
#: are left out, so the snapshot counts never overprint each other.
LABEL_GAP = 0.06


def _label_snapshots(ax, t, y, s, color: str, spans: tuple[float, float]) -> None:
    """'s=4' beside each point of a checkpointed curve, the first and the last always,
    the ones between only where they clear the labels already written."""
    placed: list[tuple[float, float]] = []
    order = [0, len(t) - 1, *range(1, len(t) - 1)] if len(t) > 1 else [0]
    for k in order:
        if not np.isfinite(s[k]):
            continue
        here = (np.log(t[k]) / spans[0], np.log(y[k]) / spans[1])
        if any(abs(here[0] - p[0]) < LABEL_GAP and abs(here[1] - p[1]) < LABEL_GAP
               for p in placed):
            continue
        placed.append(here)
        ax.annotate(f"s={int(s[k])}", (t[k], y[k]), textcoords="offset points", xytext=(5, 3),
                    fontsize="x-small", color=color)


#: The modes the bracketing figure sets side by side, and the pure ones they are measured against.
BRACKETING = ("forward", "reverse", "optimal-madds", "optimal")
PURE = ("forward", "reverse")


@figure("bracketing_speedup", "bracketing speed-up",
        caption=("Where a narrow layer sits inside the chain, mixing modes beats both pure "
                 "ones; filled markers are measured, hollow ones the time model's prediction."),
        order=8,
        needs=("mode", "widths", "activation", "time_median_s", "madds_predicted"))
def bracketing_speedup(df: pd.DataFrame) -> Figure:
    """Left: time per Jacobian of the pure modes, the madds-optimal bracketing
    (``optimal-madds``) and the time-optimal one (``optimal``) on each chain, measured
    (filled) beside the time model's prediction (hollow). Right: the speed-up of each
    optimal bracketing over the better pure mode on a ratio axis, measured and predicted
    (from predicted times, or from multiply-adds in results older than the time model)."""
    rows = measured(df, "time_median_s", "madds_predicted")
    if "chunk_spec" in rows.columns:
        rows = rows[rows["chunk_spec"] == "default"]
    rows = rows[rows["mode"].isin(BRACKETING)]
    chains = [k for k, g in rows.groupby(["widths", "activation"], sort=False)
              if set(g["mode"]) & {"optimal", "optimal-madds"} and set(g["mode"]) & set(PURE)]
    if not chains:
        raise CannotPlot("needs optimal-mode and pure-mode times on the same chain")
    predicted = "time_predicted_s" if "time_predicted_s" in rows.columns and (pd.to_numeric(
        rows["time_predicted_s"], errors="coerce") > 0).all() else "madds_predicted"
    fig = new_figure(width=max(9.0, 1.3 * len(chains) + 4), height=5.2)
    times, gains = fig.subplots(1, 2, width_ratios=[3, 2])
    modes = [m for m in BRACKETING if m in set(rows["mode"])]
    step = 0.8 / len(modes)
    for i, (widths, act) in enumerate(chains):
        g = rows[(rows["widths"] == widths) & (rows["activation"] == act)]
        g = g.drop_duplicates("mode").set_index("mode")
        for j, mode in enumerate(modes):
            if mode not in g.index:
                continue
            style, x = look(mode), i + (j - (len(modes) - 1) / 2) * step
            times.plot([x], [g.loc[mode, "time_median_s"]], ms=7,
                       label=mode + " (measured)" if i == 0 else None,
                       **{**style.line(), "ls": "none"})
            if predicted == "time_predicted_s":
                times.plot([x], [float(g.loc[mode, predicted])], ls="none", ms=7,
                           mfc="white", mec=style.color, marker=style.marker,
                           alpha=0.9, label=mode + " (predicted)" if i == 0 else None)
        _gains(gains, i, g, predicted)
    labels = [f"{w.replace('-', '→')}\n{a}" for w, a in chains]
    for ax in (times, gains):
        ax.set_xticks(range(len(chains)), labels, fontsize="x-small", rotation=30, ha="right")
        ax.grid(True, axis="y", which="major", alpha=0.3)
    time_axis(times)
    times.set_ylabel("time per Jacobian (filled: measured, hollow: predicted)")
    times.legend(fontsize="x-small", ncols=2, loc="upper right")
    gains.axhline(1.0, color="0.3", lw=1)
    ratio_axis(gains)
    gains.set_ylabel("speed-up over the better pure mode")
    gains.legend(fontsize="x-small", loc="upper right")
    fig.supxlabel("chain widths n → … → m, activation", fontsize="small")
    fig.suptitle("Optimal bracketing against pure modes")
    return fig


def _gains(ax, i: int, g: pd.DataFrame, predicted: str) -> None:
    """The speed-ups of chain ``i`` (rows ``g`` by mode) over its better pure mode."""
    pure = [p for p in PURE if p in g.index]
    best = g.loc[pure, "time_median_s"].min()
    best_predicted = g.loc[pure, predicted].astype(float).min()
    for j, mode in enumerate(m for m in ("optimal-madds", "optimal") if m in g.index):
        style, x = look(mode), i + (j - 0.5) * 0.3
        ax.plot([x], [best / g.loc[mode, "time_median_s"]], ms=7,
                label=f"{mode} (measured)" if i == 0 else None, **{**style.line(), "ls": "none"})
        ax.plot([x], [best_predicted / float(g.loc[mode, predicted])], ls="none", ms=7,
                marker=style.marker, mfc="white", mec=style.color,
                label=f"{mode} (predicted)" if i == 0 else None)
