"""chainbench against the peer AD tools (JAX, PyTorch, autograd) on the same chains: time
per Jacobian across n for gradients (m = 1) and square Jacobians (m = n), and each tool's
time over chainbench's best, so where chainbench is faster (ratio > 1) reads off directly."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from ..engines.registry import ENGINES
from ._common import (
    SERIES_KEYS,
    CannotPlot,
    at_defaults,
    describe,
    figure,
    log2_axis,
    log_limits,
    look,
    m_rule,
    measured,
    mode_order,
    new_figure,
    time_axis,
    varying,
)

#: The peer modes, in registry order.
PEERS = [name for name, e in ENGINES.items() if e.family == "peer"]
def _style(mode: str) -> dict:
    """The mode's look (``palette``): chainbench's modes solid and filled, peers hollow and
    dashed or dotted; chainbench's lines a little heavier."""
    return look(mode).line(lw=2.0 if mode not in PEERS else 1.4)


def _order(mode: str) -> tuple:
    return (mode in PEERS, PEERS.index(mode) if mode in PEERS else mode_order(mode))


@figure("peers_vs_n", "chainbench vs peers",
        caption=("Lower is faster; the bottom panels give each tool's time over chainbench's "
                 "fastest mode at the same chain, so above 1× chainbench is the faster."),
        order=10,
        needs=("mode", "n", "m", "chunk_spec", *SERIES_KEYS, "time_median_s"))
def peers_vs_n(df: pd.DataFrame) -> Figure:
    """Top: median time per Jacobian against n (log-log), one panel per m rule (m = 1,
    m = n), chainbench's modes solid, each peer dashed (jacfwd) or dotted (jacrev, autograd).
    Bottom: each mode's time over the fastest chainbench mode at the same chain. Peers that
    were skipped (not installed) are named with the reason under the figure."""
    rows = at_defaults(measured(df, "time_median_s"))
    rows = rows.assign(m_rule=[m_rule(n, m) for n, m in zip(rows["n"], rows["m"])])
    if not rows["mode"].isin(PEERS).any():
        raise CannotPlot("needs times of peer modes (jax-jacfwd, torch-jacrev, autograd, …); "
                         "run experiments/peers.toml with the peers installed")
    ours = rows[~rows["mode"].isin(PEERS)]
    if ours.empty:
        raise CannotPlot("needs chainbench's own modes beside the peers")
    chain_keys = ["n", "m", *SERIES_KEYS]
    best = ours.groupby(chain_keys)["time_median_s"].min().rename("best")
    rows = rows.join(best, on=chain_keys)
    rows = rows.assign(ratio=rows["time_median_s"] / rows["best"])
    rules = sorted(rows["m_rule"].unique(), key=lambda r: (r == "m = n", r))
    fig = new_figure(5.2 * len(rules) + 1.0, 7.2)
    axes = fig.subplots(2, len(rules), squeeze=False, sharex="col", height_ratios=[3, 2])
    vary = varying(rows)
    for col, rule in enumerate(rules):
        top, bottom = axes[0, col], axes[1, col]
        panel = rows[rows["m_rule"] == rule]
        modes = sorted(panel["mode"].unique(), key=_order)
        for mode in modes:
            for key, g in panel[panel["mode"] == mode].groupby(list(SERIES_KEYS)):
                g = g.sort_values("n")
                label = mode + (f" ({describe(dict(zip(SERIES_KEYS, key)), vary)})" if vary
                                else "")
                style = _style(mode)
                top.plot(g["n"], g["time_median_s"], label=label, ms=5, **style)
                bottom.plot(g["n"], g["ratio"], ms=5, **style)
        top.set_ylim(*log_limits(panel["time_median_s"]))
        time_axis(top)
        top.set_title({"m = 1": "m = 1 (gradient)", "m = n": "m = n (square Jacobian)"}.get(
            rule, rule), fontsize="medium")
        bottom.axhline(1.0, color="0.3", lw=1)
        bottom.set_yscale("log")
        bottom.set_ylim(*log_limits([*panel["ratio"], 1.0], pad=1.4))
        log2_axis(bottom, "x", panel["n"])
        bottom.set_xlabel("n (inputs)")
        for ax in (top, bottom):
            ax.grid(True, which="major", alpha=0.3)
    axes[0, 0].set_ylabel("time per Jacobian (median)")
    axes[1, 0].set_ylabel("time / chainbench's fastest\n(> 1: chainbench is faster)")
    handles, labels = {}, []
    for ax in axes[0]:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    labels = sorted(handles, key=lambda label: _order(label.split(" ")[0]))
    fig.legend([handles[k] for k in labels], labels, loc="outside right upper",
               fontsize="small")
    notes = _skipped(df)
    title = "chainbench vs peer AD tools on the same chains (compile time excluded)"
    fig.suptitle(title + (f"\nnot measured: {notes}" if notes else ""), fontsize="medium")
    return fig


def _skipped(df: pd.DataFrame) -> str:
    """Peer modes that have rows but no measured time, with the first reason given."""
    if "status" not in df.columns:
        return ""
    peer_rows = df[df["mode"].isin(PEERS)]
    ok = set(peer_rows.loc[peer_rows["status"].astype(str) == "ok", "mode"])
    out = []
    for mode, g in peer_rows.groupby("mode", sort=False):
        if mode not in ok:
            reason = str(g["reason"].iloc[0]) if "reason" in g.columns else ""
            short = reason.split(";")[0].removeprefix(f"{mode}: ")
            out.append(f"{mode} ({short})" if short and short != "nan" else mode)
    return ", ".join(out)
