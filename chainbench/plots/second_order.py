"""Second-order figures (docs/second-order.md): Hessian time against n per mode with fitted
exponents, an HVP's time over a gradient's, memory per mode, the bracketing's speed-up
measured beside predicted, and chainbench's best against the best peer per n. Drawn from
the rows whose ``quantity`` is 'hessian' or 'hvp' (experiment ``hessian_scaling``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..harness.analysis.tables import profile_of
from ..peers.second import SECOND_PEERS
from ._common import (
    SERIES_KEYS,
    CannotPlot,
    byte_unit,
    describe,
    figure,
    log2_axis,
    look,
    measured,
    mode_order,
    new_figure,
    ratio_axis,
    time_axis,
    varying,
)
from .scaling import _draw_series

HESSIAN, HVP = "hessian", "hvp"
#: The chain a row measured, beside n: rows of one chain and n differ only in mode.
CHAIN = ("n", "m", "depth", "width", "activation", "seed")


def _rows(df: pd.DataFrame, quantity: str, *positive: str) -> pd.DataFrame:
    rows = measured(df, "time_median_s", *positive)
    rows = rows[rows["quantity"].astype(str) == quantity]
    if rows.empty:
        raise CannotPlot(f"needs measured second-order points ({quantity}); run "
                         "experiments/hessian_scaling.toml")
    return rows


def _square(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of the grid's own chains (width profiles), not of explicit chain templates."""
    square = rows[rows["width"].astype(str) == "square"]
    if square.empty:
        raise CannotPlot("needs points on square chains (width = 'square')")
    return square


def _modes(rows: pd.DataFrame) -> list[str]:
    return sorted(rows["mode"].unique(), key=lambda m: (m in SECOND_PEERS, mode_order(m)))


def _by_mode(rows: pd.DataFrame):
    """(mode, series key, its rows sorted by n) for each series, chainbench's modes first."""
    vary = varying(rows)
    for mode in _modes(rows):
        for key, g in rows[rows["mode"] == mode].groupby(list(SERIES_KEYS)):
            yield mode, dict(zip(SERIES_KEYS, key)), g.sort_values("n"), vary


@figure("hessian_time_vs_n", "Hessian time vs n", order=40, second=True,
        caption=("The slope of each line is its fitted exponent: 3 expected for the mixed "
                 "modes and bracketing on a square chain, 4 for forward-over-forward."),
        needs=("quantity", "mode", "n", *SERIES_KEYS, "time_median_s"))
def hessian_time_vs_n(df: pd.DataFrame) -> Figure:
    """Median time per Hessian against n (log-log) per mode on the square chains, each
    series' exponent fitted as `chainbench fit` does (``analysis.series_fit``) in the legend."""
    rows = _square(_rows(df, HESSIAN))
    profile = profile_of(df)
    fig = new_figure(7.6, 5.4)
    ax = fig.subplots()
    for mode, key, g, vary in _by_mode(rows):
        ls = look(mode).ls
        _draw_series(ax, {"mode": mode, **key}, g, vary, ls, profile)
    log2_axis(ax, "x", rows["n"])
    time_axis(ax)
    ax.set_xlabel("n (inputs; square chain)")
    ax.set_ylabel("time per Hessian (median)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="x-small", loc="upper left")
    fig.suptitle("Hessian time vs n (log-log): fitted slope = scaling exponent")
    return fig


@figure("hvp_over_gradient", "HVP ÷ gradient", order=41, second=True,
        caption=("One Hessian-vector product in gradients of the same chain, timed in the "
                 "same point: the second-order analogue of J/F, a small constant expected."),
        needs=("quantity", "mode", "n", *SERIES_KEYS, "time_median_s", "hvp_over_g"))
def hvp_over_gradient(df: pd.DataFrame) -> Figure:
    """hvp_over_g against n per mode (a peer's over its own gradient), with the 4× line."""
    rows = _rows(df, HVP, "hvp_over_g")
    fig = new_figure(7.2, 4.6)
    ax = fig.subplots()
    for mode, key, g, vary in _by_mode(rows):
        label = mode + (f" ({describe(key, vary)})" if vary else "")
        ax.plot(g["n"], g["hvp_over_g"], label=label, **look(mode).line())
    ax.axhline(4.0, color="0.5", lw=1, ls="--", label="4× (the issue's bound)")
    log2_axis(ax, "x", rows["n"])
    low, high = rows["hvp_over_g"].min(), rows["hvp_over_g"].max()
    ax.set_ylim(min(low, 4.0) / 1.5, max(high, 4.0) * 1.5)
    ratio_axis(ax)
    ax.set_xlabel("n (inputs)")
    ax.set_ylabel("HVP time ÷ gradient time")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="x-small", loc="best")
    fig.suptitle("Hessian-vector product in gradients")
    return fig


@figure("hessian_memory", "Hessian memory", order=42, second=True,
        caption=("Bytes each mode holds (its counters; lines) and the tracemalloc peak of one "
                 "call less H (crosses; chainbench's modes only: the peers' buffers are not "
                 "traced)."),
        needs=("quantity", "mode", "n", *SERIES_KEYS, "time_median_s", "bytes_counted"))
def hessian_memory(df: pd.DataFrame) -> Figure:
    """Counted bytes held against n per mode (Hessians, square chains), measured peaks beside."""
    rows = _square(_rows(df, HESSIAN, "bytes_counted"))
    unit, scale = byte_unit(rows["bytes_counted"].max())
    fig = new_figure(7.2, 4.8)
    ax = fig.subplots()
    for mode, key, g, vary in _by_mode(rows):
        style = look(mode)
        label = mode + (f" ({describe(key, vary)})" if vary else "")
        ax.plot(g["n"], g["bytes_counted"] / scale, label=label, **style.line())
        if "bytes_measured" in g.columns:
            peak = pd.to_numeric(g["bytes_measured"], errors="coerce") - pd.to_numeric(
                g.get("bytes_output", 0), errors="coerce")
            ok = np.isfinite(peak) & (peak > 0)
            ax.plot(g["n"][ok], peak[ok] / scale, "x", color=style.color, ms=6)
    log2_axis(ax, "x", rows["n"])
    ax.set_yscale("log")
    ax.set_xlabel("n (inputs; square chain)")
    ax.set_ylabel(f"bytes held ({unit})")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="x-small", loc="best")
    fig.suptitle("Memory per Hessian mode")
    return fig


def bracketing_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per chain measured by 'hessian-optimal' and both mixed modes: the better mixed mode's
    time over the bracketing's (``measured``) and the same in predicted multiply-adds
    (``predicted``), with the chain's widths."""
    rows = measured(df, "time_median_s", "madds_predicted")
    rows = rows[rows["quantity"].astype(str) == HESSIAN]
    shaped = rows[rows["width"].astype(str) != "square"]
    rows = shaped if len(shaped) else rows  # the chains chosen for it, where there are some
    out = []
    for key, g in rows.groupby(list(CHAIN)):
        by = g.groupby("mode")[["time_median_s", "madds_predicted"]].min()
        mixed = by.index.intersection(["forward-over-reverse", "reverse-over-forward"])
        if "hessian-optimal" not in by.index or len(mixed) < 2:
            continue
        best = by.loc[mixed]
        opt = by.loc["hessian-optimal"]
        out.append({**dict(zip(CHAIN, key)), "widths": str(g["widths"].iloc[0]),
                    "measured": best["time_median_s"].min() / opt["time_median_s"],
                    "predicted": best["madds_predicted"].min() / opt["madds_predicted"]})
    return pd.DataFrame(out)


@figure("hessian_bracketing", "Hessian bracketing speed-up", order=43, second=True,
        caption=("The bracketing's time against the better of forward-over-reverse and "
                 "reverse-over-forward on each chain, measured (bars) beside the cost model's "
                 "multiply-adds (outlined): above 1× the bracketing is faster."),
        needs=("quantity", "mode", *CHAIN, "widths", "time_median_s", "madds_predicted"))
def hessian_bracketing(df: pd.DataFrame) -> Figure:
    table = bracketing_table(df)
    if table.empty:
        raise CannotPlot("needs Hessians of one chain by hessian-optimal, forward-over-reverse "
                         "and reverse-over-forward")
    table = table.sort_values(["widths", "n"])
    fig = new_figure(max(6.0, 1.3 * len(table) + 2.5), 4.8)
    ax = fig.subplots()
    x = np.arange(len(table))
    color = look("hessian-optimal").color
    ax.bar(x - 0.2, table["measured"], 0.4, color=color, label="measured (time)")
    ax.bar(x + 0.2, table["predicted"], 0.4, facecolor="white", edgecolor=color, hatch="//",
           label="predicted (multiply-adds)")
    ax.axhline(1.0, color="0.4", lw=1)
    ax.set_xticks(x, [w.replace("-", "→") for w in table["widths"]], fontsize="x-small",
                  rotation=20, ha="right")
    values = np.concatenate([table["measured"], table["predicted"]])
    ax.set_ylim(min(values.min(), 1.0) / 1.5, max(values.max(), 1.0) * 1.5)
    ratio_axis(ax)
    ax.set_ylabel("speed-up over the better mixed mode")
    ax.set_xlabel("chain (layer widths)")
    ax.grid(True, axis="y", which="major", alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    fig.suptitle("Hessian chain bracketing: measured vs predicted speed-up")
    return fig


def best_vs_peer_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per quantity and chain measured by chainbench and by a peer: chainbench's best time,
    the best peer's, their ratio (``ratio`` < 1: chainbench faster) and who each was."""
    rows = measured(df, "time_median_s")
    rows = rows[rows["quantity"].astype(str).isin([HESSIAN, HVP])]
    out = []
    for key, g in rows.groupby(["quantity", *CHAIN]):
        peer = g[g["mode"].isin(list(SECOND_PEERS))]
        ours = g[~g["mode"].isin(list(SECOND_PEERS))]
        if peer.empty or ours.empty:
            continue
        a, b = ours.loc[ours["time_median_s"].idxmin()], peer.loc[peer["time_median_s"].idxmin()]
        out.append({**dict(zip(["quantity", *CHAIN], key)), "chainbench": a["mode"],
                    "chainbench_s": a["time_median_s"], "peer": b["mode"],
                    "peer_s": b["time_median_s"],
                    "ratio": a["time_median_s"] / b["time_median_s"]})
    return pd.DataFrame(out)


@figure("hessian_vs_peers", "best chainbench vs best peer (second order)", order=44,
        second=True,
        caption=("chainbench's fastest mode over the fastest peer at each n: below 1× "
                 "chainbench is the faster."),
        needs=("quantity", "mode", *CHAIN, "time_median_s"))
def hessian_vs_peers(df: pd.DataFrame) -> Figure:
    table = best_vs_peer_table(df)
    if table.empty:
        raise CannotPlot("needs second-order points by chainbench and by a peer (jax-hessian, "
                         "torch-hvp, …) on the same chains")
    fig = new_figure(7.2, 4.6)
    ax = fig.subplots()
    for (quantity, width, depth), g in table.groupby(["quantity", "width", "depth"]):
        g = g.sort_values("n")
        ax.plot(g["n"], g["ratio"], label=f"{quantity} ({width}, depth {depth})",
                **look("forward-over-reverse" if quantity == HESSIAN else "reverse-over-forward")
                .line())
    ax.axhline(1.0, color="0.4", lw=1)
    log2_axis(ax, "x", table["n"])
    ax.set_ylim(min(table["ratio"].min(), 1.0) / 1.5, max(table["ratio"].max(), 1.0) * 1.5)
    ratio_axis(ax)
    ax.set_xlabel("n (inputs)")
    ax.set_ylabel("best chainbench time ÷ best peer time")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="x-small", loc="best")
    fig.suptitle("Second order: chainbench's best against the best peer")
    return fig
