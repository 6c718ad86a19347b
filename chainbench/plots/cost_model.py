"""Does the cost model explain the clock? Measured time per Jacobian against the time
model's prediction (log-log, the identity line), and against the multiply-adds the cost
model counts (log-log, each engine's median time per multiply-add)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..harness.analysis.tables import cost_fit, prediction_error
from ._common import (
    CannotPlot,
    figure,
    log_limits,
    look,
    measured,
    mode_order,
    new_figure,
    time_axis,
)


@figure("time_vs_madds", "time vs predicted work",
        caption=("Time follows the multiply-adds the cost model predicts: points on an "
                 "engine's dashed line cost the same per multiply-add; the small ones sit "
                 "above it, held up by per-call overhead."),
        order=3,
        needs=("status", "engine", "madds_predicted", "time_median_s"))
def time_vs_madds(df: pd.DataFrame) -> Figure:
    """Every measured point: median time against predicted multiply-adds, log-log, one
    colour per engine, with time = madds × the engine's median seconds per multiply-add
    (``cost_fit``'s rate), a line of slope 1 where time is proportional to work. Where the
    rows carry the time model's prediction (``time_predicted_s``), a first panel sets
    measured against predicted time. No linear fit: its intercept (often negative) would
    be fitted on a few large points and explain none of the small ones."""
    rows = measured(df, "madds_predicted", "time_median_s")
    counts = rows.groupby("engine")["madds_predicted"].nunique()
    engines = sorted(counts[counts >= 3].index, key=mode_order)
    if not engines:
        raise CannotPlot("needs ≥ 3 measured points of one engine with different predicted "
                         "multiply-adds")
    rows = rows[rows["engine"].isin(engines)]
    fits = cost_fit(rows).set_index("engine")
    if _has_predicted_time(rows):
        fig = new_figure(11.0, 4.8)
        first, loglog = fig.subplots(1, 2)
        _measured_vs_predicted(first, rows, engines)
    else:
        fig = new_figure(6.6, 4.8)
        loglog = fig.subplots()
    logx = np.geomspace(*log_limits(rows["madds_predicted"], pad=1.5), 50)
    for engine in engines:
        g = rows[rows["engine"] == engine]
        style = look(engine)
        rate = fits.loc[engine, "seconds_per_gmadd"] / 1e9
        loglog.scatter(g["madds_predicted"], g["time_median_s"], s=24, alpha=0.85, zorder=3,
                       label=f"{engine}: {len(g)} points, {rate * 1e9:.3g} ns per madd",
                       **style.points())
        loglog.plot(logx, rate * logx, color=style.color, lw=1.1, ls="--", alpha=0.7)
    loglog.set_xscale("log")
    time_axis(loglog)
    loglog.set_ylim(*log_limits(rows["time_median_s"]))
    loglog.set_xlabel("predicted multiply-adds per Jacobian")
    loglog.set_ylabel("time per Jacobian (median)")
    loglog.set_title("dashed: madds × the engine's median time per madd", fontsize="medium")
    loglog.grid(True, which="major", alpha=0.3)
    loglog.legend(fontsize="small", loc="lower right")
    fig.suptitle("Measured time vs the cost model's predicted multiply-adds")
    return fig


@figure("time_vs_predicted", "measured vs predicted time",
        caption=("Points on the diagonal are predicted exactly by the time model; inside the "
                 "grey band the prediction is within ×1.5."),
        order=11,
        needs=("status", "engine", "time_predicted_s", "time_median_s"))
def time_vs_predicted(df: pd.DataFrame) -> Figure:
    """Every measured point: median time against the time model's prediction, log-log, one
    colour per engine, with the identity line and a band of ×1.5 either side; the legend
    gives each engine's median |ln(measured / predicted)| (``analysis.prediction_error``)."""
    rows = measured(df, "time_predicted_s", "time_median_s")
    rows = rows[rows["time_predicted_s"] > 0]
    if rows.empty:
        raise CannotPlot("needs measured points with a predicted time (time_predicted_s)")
    fig = new_figure(6.4, 5.2)
    _measured_vs_predicted(fig.subplots(), rows, sorted(rows["engine"].unique(), key=mode_order))
    fig.suptitle("Measured time vs the time model's prediction")
    return fig


def _has_predicted_time(rows: pd.DataFrame) -> bool:
    return "time_predicted_s" in rows.columns and bool(
        (pd.to_numeric(rows["time_predicted_s"], errors="coerce") > 0).any())


def _measured_vs_predicted(ax, rows: pd.DataFrame, engines) -> None:
    """Measured against the time model's predicted time on ``ax``, log-log, with the
    identity line, a ×1.5 band and each engine's median |ln(measured / predicted)|."""
    rows = rows[pd.to_numeric(rows["time_predicted_s"], errors="coerce") > 0]
    rows = rows.assign(time_predicted_s=rows["time_predicted_s"].astype(float))
    errors = prediction_error(rows).set_index("engine")
    lo, hi = log_limits(pd.concat([rows["time_predicted_s"], rows["time_median_s"]]), pad=1.5)
    line = np.geomspace(lo, hi, 2)
    ax.fill_between(line, line / 1.5, line * 1.5, color="0.9", zorder=1, label="within ×1.5")
    ax.plot(line, line, color="0.4", lw=1.0, zorder=2, label="measured = predicted")
    for engine in [e for e in engines if e in errors.index]:
        g = rows[rows["engine"] == engine]
        err = errors.loc[engine]
        ax.scatter(g["time_predicted_s"], g["time_median_s"], s=24, alpha=0.85, zorder=3,
                   label=f"{engine}: {len(g)} points, median |ln| {err['median_abs_log']:.2f}",
                   **look(engine).points())
    time_axis(ax, "x")
    time_axis(ax)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("predicted time per Jacobian (time model)")
    ax.set_ylabel("measured time per Jacobian (median)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    ax.set_title("measured vs the time model's prediction", fontsize="medium")
