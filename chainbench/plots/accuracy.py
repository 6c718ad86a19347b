"""Numerical differentiation's accuracy against the step h (``chainbench accuracy``): the
truncation/rounding U-curve of finite differences and the flat complex step."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, LogFormatterSciNotation, NullLocator

from ..engines.numerical import BEST_STEP, EPS
from ._common import CannotPlot, figure, new_figure

STYLE = {  # method -> (colour, marker, label)
    "fd-forward": ("C0", "o", "forward difference (n + 1 evaluations)"),
    "fd-central": ("C1", "s", "central difference (2n evaluations)"),
    "complex-step": ("C2", "^", "complex step (n complex evaluations)"),
}
#: Errors below this are drawn at it, so an exact zero still shows on the log axis.
FLOOR = 1e-18


@figure("accuracy_vs_step", "error vs step",
        caption=("Finite differences trade truncation error against round-off: the error falls"
                 " with the step until round-off takes over, while the complex step stays "
                 "exact."),
        order=9, needs=("method", "h", "error"))
def error_vs_step(df: pd.DataFrame) -> Figure:
    """Max relative error against the AD Jacobian vs the relative step h, log-log, one line
    per method, √ε and ε^(1/3) marked and each method's least error starred. Steps below
    1e-16 (complex step only) get a panel of their own, so the U-curves keep their room."""
    rows = df.assign(h=pd.to_numeric(df["h"], errors="coerce"),
                     error=pd.to_numeric(df["error"], errors="coerce"))
    rows = rows[np.isfinite(rows["h"]) & (rows["h"] > 0) & np.isfinite(rows["error"])]
    if rows.empty:
        raise CannotPlot("needs finite errors at positive steps (run `chainbench accuracy`)")
    tiny = rows["h"] < 0.5e-16
    fig = new_figure(8.4 if tiny.any() else 6.8, 5.4)
    if tiny.any():
        main, deep = fig.subplots(1, 2, sharey=True, width_ratios=[3, 1])
    else:
        main, deep = fig.subplots(), None
    for method, g in rows.groupby("method", sort=False):
        color, marker, label = STYLE.get(method, ("C7", "x", method))
        g = g.sort_values("h")
        err = np.maximum(g["error"].to_numpy(float), FLOOR)
        near = ~tiny[g.index].to_numpy()
        main.plot(g["h"][near], err[near], color=color, marker=marker, ms=4, label=label)
        if method in BEST_STEP:  # the bottom of the U (the complex step has none)
            best = int(np.argmin(np.where(near, err, np.inf)))
            main.plot(g["h"].iloc[best], err[best], marker="*", ms=14, color=color, mec="k",
                      ls="none", zorder=5)
        if deep is not None and (~near).any():
            deep.plot(g["h"][~near], err[~near], color=color, marker=marker, ms=4)
    for h, text, ls in ((math.sqrt(EPS), "√ε", "--"), (EPS ** (1 / 3), "ε^(1/3)", ":")):
        main.axvline(h, color="0.4", ls=ls, lw=1, label=f"h = {text} ≈ {h:.1e}")
    for ax in filter(None, (main, deep)):
        ax.axhline(EPS, color="0.6", lw=0.8, label=f"ε ≈ {EPS:.1e}" if ax is main else None)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="major", alpha=0.3)
    main.invert_xaxis()
    main.set_xlabel("relative step h (h_j = h·max(1, |x_j|)), smaller to the right")
    main.set_ylabel("max |J_h − J| / max |J|   (J: reverse mode)")
    fig.legend(*main.get_legend_handles_labels(), fontsize="small", loc="outside lower center",
               ncols=3)
    if deep is not None:
        ticks = [h for h in (1e-20, 1e-100, 1e-200, 1e-300)
                 if rows["h"].min() / 10 <= h <= 1e-17]
        deep.xaxis.set_major_locator(FixedLocator(ticks))
        deep.xaxis.set_major_formatter(LogFormatterSciNotation())
        deep.xaxis.set_minor_locator(NullLocator())
        deep.invert_xaxis()
        deep.set_xlabel("h < 1e-16")
        deep.set_title("complex step", fontsize="medium")
    title = "Numerical differentiation: error vs step"
    if {"spec", "n"} <= set(rows.columns):
        title += f"\n{rows['spec'].iloc[0]} (n = {rows['n'].iloc[0]})"
    fig.suptitle(title)
    return fig
