"""How much ``mode="auto"`` loses by trusting the time model: at every chain measured in both
pure modes, the measured time of auto's pick (mode and chunk) over the fastest pure mode
measured (``analysis.regrets``), on a ratio axis where 1× is a right choice."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..harness.analysis.tables import REGRET_OK, regrets
from ._common import CannotPlot, figure, look, new_figure, ratio_axis


@figure("auto_regret", "auto's regret",
        caption=("At 1× auto picked the faster pure mode; a point above the grey band is a "
                 "chain where trusting the time model cost more than 10 %."),
        order=12,
        needs=("status", "engine", "chunk_spec", "n", "m", "time_median_s",
               "time_predicted_s"))
def auto_regret(df: pd.DataFrame) -> Figure:
    """One point per chain against m / n (the shape that decides between the pure modes),
    in the look of the mode auto picks; the band up to 1 + REGRET_OK counts as a good pick."""
    table = regrets(df)
    if table.empty:
        raise CannotPlot("needs forward and reverse times with predicted times "
                         "(time_predicted_s) on the same chains")
    fig = new_figure(6.8, 4.4)
    ax = fig.subplots()
    shape = table["m"] / table["n"]
    for pick, g in table.groupby("pick", sort=False):
        ax.scatter(shape[g.index], g["ratio"], s=36, zorder=3, label=f"auto picks {pick}",
                   **look(pick).points())
    wrong = (table["pick"] != table["fastest"]) | (table["pick_chunk"] != table["fastest_chunk"])
    ax.axhspan(1.0, 1.0 + REGRET_OK, color="0.88", lw=0, zorder=1,
               label=f"within {REGRET_OK:.0%} of the fastest")
    ax.axvline(1.0, color="0.3", ls="--", lw=1, label="m = n")
    ax.set_xscale("log")
    ax.set_ylim(0.95, max(1.5, float(table["ratio"].max()) * 1.2))
    ratio_axis(ax)
    ax.set_xlabel("m / n (outputs per input)")
    ax.set_ylabel("time of auto's pick / fastest pure mode")
    good = float(np.mean(table["ratio"] <= 1 + REGRET_OK))
    ax.set_title(f"auto within {REGRET_OK:.0%} at {good:.0%} of {len(table)} chains; "
                 f"{int(wrong.sum())} picks not the fastest", fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return fig
