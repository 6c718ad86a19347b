"""How cost grows with the input size n: time per Jacobian on log-log axes with the fitted
exponent of every series (the O(n³) forward vs O(n²) reverse story of the slides), and J/F,
the Jacobian's time in units of one evaluation of F (the cheap-gradient principle). A series
the experiment planned but could not measure (timeouts, skips) is named on the figure, with
the reasons, rather than left out silently."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ..harness.analysis.tables import losses, profile_of, series_fit
from ._common import (
    LINESTYLES,
    SERIES_KEYS,
    SPEC_COLUMNS,
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

#: How far below the series it explains a guide line runs (a factor).
GUIDE_OFFSET = 1.8
#: A guide ∝ n^p is drawn only beside a series whose slope is this close to p.
GUIDE_NEAR = 0.6
#: Opacity of the points a fit leaves out.
FADED = 0.35
#: Cheap-gradient principle (Griewank & Walther 2008): one gradient costs 3–4 evaluations.
CHEAP_GRADIENT = (3.0, 4.0)


def size_series(df: pd.DataFrame, value: str, min_sizes: int) -> pd.DataFrame:
    """Rows of the series that sweep n at a default chunk and fixed m (or m = n), keeping
    those with at least ``min_sizes`` sizes of n; adds an ``m_rule`` column."""
    rows = at_defaults(measured(df, value))
    rows = rows.assign(m_rule=[m_rule(n, m) for n, m in zip(rows["n"], rows["m"])])
    sizes = rows.groupby(["mode", *SERIES_KEYS, "m_rule"])["n"].transform("nunique")
    return rows[sizes >= min_sizes]


def missing_notes(df: pd.DataFrame, drawn: pd.DataFrame, min_sizes: int,
                  rule: str | None = None) -> list[str]:
    """One line per series of ``df`` (any status, default chunk, m rule ``rule`` when
    given) that sweeps at least ``min_sizes`` sizes of n but is not among the ``drawn``
    rows: 'forward: no points measured (1 timeout: …; 8 skipped: …)'."""
    if "status" not in df.columns or "reason" not in df.columns:
        return []
    rows = df.copy()
    for col in SPEC_COLUMNS:
        if col in rows.columns:
            rows[col] = rows[col].astype(str)
    rows = at_defaults(rows)
    rows = rows.assign(m_rule=[m_rule(n, m) for n, m in zip(rows["n"], rows["m"])])
    if rule is not None:
        rows = rows[rows["m_rule"] == rule]
    keys = ["mode", *SERIES_KEYS]
    shown = {tuple(k) for k in drawn[keys].drop_duplicates().itertuples(index=False)}
    vary = varying(rows) if len(rows) else []
    notes = []
    for key, g in rows.groupby(keys, sort=False):
        if key in shown or g["n"].nunique() < min_sizes:
            continue
        ok = g[g["status"].astype(str) == "ok"]["n"].nunique()
        what = "no points measured" if ok == 0 else \
            f"only {ok} of {g['n'].nunique()} sizes measured"
        label = key[0] + (f" ({describe(dict(zip(keys, key)), vary)})" if vary else "")
        why = losses(g)
        notes.append(f"{label}: {what}" + (f" ({why})" if why else ""))
    return notes


def _note(ax, notes: list[str], x: float = 0.98, y: float = 0.03) -> None:
    """The missing series' lines in a box at the lower right of ``ax``."""
    if not notes:
        return
    text = "\n".join(textwrap.fill(line, 70) for line in notes)
    ax.text(x, y, text, transform=ax.transAxes, ha="right", va="bottom", ma="left",
            fontsize="small", color="0.15", zorder=5,
            bbox={"boxstyle": "round", "facecolor": "#fff4f0", "edgecolor": "C3", "alpha": 0.95})


def _groups(rows: pd.DataFrame):
    """(key dict, rows sorted by n, line style) per series, modes in a fixed order; the
    colour tells the mode, the line style the rest of the key (depth, width, …)."""
    keys = ["mode", *SERIES_KEYS]
    groups = [(dict(zip(keys, key)), g.sort_values("n")) for key, g in rows.groupby(keys)]
    groups.sort(key=lambda kg: (mode_order(kg[0]["mode"]), [str(kg[0][k]) for k in SERIES_KEYS]))
    others = sorted({tuple(key[k] for k in SERIES_KEYS) for key, _ in groups}, key=str)
    if len(others) == 1:  # the mode's own look (peers dashed) when nothing else varies
        return [(key, g, look(key["mode"]).ls) for key, g in groups]
    return [(key, g, LINESTYLES[others.index(tuple(key[k] for k in SERIES_KEYS)) % 4])
            for key, g in groups]


def jf_claims(modes: set) -> str:
    """What the J/F figure shows of the two pure modes, and which of them it lacks: a
    figure without forward mode must not claim 'forward ∝ n'."""
    claims = [claim if mode in modes else f"{mode} not measured (see the note)"
              for mode, claim in (("forward", "forward ∝ n"), ("reverse", "reverse ≈ constant"))]
    return ", ".join(claims)


def _panel_order(rule: str) -> tuple:
    return (rule == "m = n", int(rule[4:]) if rule != "m = n" else 0)


def _panel_title(rule: str) -> str:
    return {"m = 1": "m = 1 (gradient)", "m = n": "m = n (square Jacobian)"}.get(rule, rule)


@figure("time_vs_n", "time vs n",
        caption=("The slope of each line is its scaling exponent: reverse mode's gradient "
                 "grows about as n², forward mode's as n³; the grey guides show those slopes "
                 "beside the series they explain."),
        order=1,
        needs=("n", "m", "mode", "chunk_spec", *SERIES_KEYS, "time_median_s"))
def time_vs_n(df: pd.DataFrame) -> Figure:
    """Median time per Jacobian against n, log-log, one panel per m rule (m = 1, m = n, …)
    and one line per mode (and depth, width… where those vary), with the exponent fitted
    by ``analysis.series_fit`` (as `chainbench fit` does) in the legend, n², n³ guide lines,
    and a note naming any series planned but not measured, with the reasons."""
    profile = profile_of(df)
    rows = size_series(df, "time_median_s", min_sizes=3)
    if rows.empty:
        lost = missing_notes(df, rows, min_sizes=3)
        raise CannotPlot("needs ≥ 3 sizes of n in one series (one mode at its default chunk, "
                         "same depth and width, m fixed or m = n)" +
                         (f"; {'; '.join(lost)}" if lost else ""))
    rules = sorted(rows["m_rule"].unique(), key=_panel_order)
    fig = new_figure(6.4 + 3.2 * (len(rules) - 1), 4.6)
    axes = fig.subplots(1, len(rules), squeeze=False, sharey=True)[0]
    vary = varying(rows)
    for ax, rule in zip(axes, rules):
        panel = rows[rows["m_rule"] == rule]
        for key, g, style in _groups(panel):
            _draw_series(ax, key, g, vary, style, profile)
        ax.set_ylim(*log_limits(panel["time_median_s"]))
        ours = panel[[look(mode).family == "ad" for mode in panel["mode"]]]
        _guides(ax, panel, powers=(2, 3), among=ours, fitted=True, profile=profile)
        log2_axis(ax, "x", panel["n"])
        time_axis(ax)
        ax.set_xlabel("n (inputs)")
        ax.set_title(_panel_title(rule), fontsize="medium")
        ax.grid(True, which="major", alpha=0.3)
        handles, _ = ax.get_legend_handles_labels()
        handles.append(Line2D([], [], color="0.4", marker="o", ls="none", alpha=FADED,
                              label="faded: not in the fit (overhead, or another regime)"))
        _legend(ax, handles)
        _note(ax, missing_notes(df, panel, min_sizes=3, rule=rule))
    axes[0].set_ylabel("time per Jacobian (median)")
    fig.suptitle("Time per Jacobian vs n (log-log): fitted slope = scaling exponent")
    return fig


def _legend(ax, handles) -> None:
    """Inside the axes when short; below them, the figure made taller, when it would hide
    the data."""
    if len(handles) <= 6:
        ax.legend(handles=handles, fontsize="small", loc="upper left")
        return
    fig = ax.get_figure()
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, max(height, 4.6 + 0.2 * len(handles)))
    ax.legend(handles=handles, fontsize="small", loc="upper center", frameon=False,
              bbox_to_anchor=(0.5, -0.12), borderaxespad=0)


def _draw_series(ax, key: dict, g: pd.DataFrame, vary: list[str], ls: str,
                 profile=None) -> None:
    n, t = g["n"].to_numpy(float), g["time_median_s"].to_numpy(float)
    result = series_fit(g, profile)  # the rule `chainbench fit` uses
    fit = result.slope
    used = result.range.mask if np.isfinite(fit.slope) else np.zeros(len(g), dtype=bool)
    style = look(key["mode"])
    color = style.color
    label = key["mode"] + (f" ({describe(key, vary)})" if vary else "")
    half = (fit.high - fit.low) / 2
    if np.isfinite(fit.slope):
        label += f": slope {fit.slope:.2f}" + (f" (95% CI ± {half:.2g})" if np.isfinite(half)
                                               else "")
        label += "" if result.trusted else ", not trusted"
    else:
        k = int(result.range.mask.sum())
        label += f": not fitted (only {k} point{'' if k == 1 else 's'} in one regime)"
    ax.plot(n, t, lw=1.2, label=label, **style.line(ls=ls, markevery=list(np.flatnonzero(used))))
    ax.plot(n[~used], t[~used], ls="none", alpha=FADED,
            **{k: v for k, v in style.line().items() if k != "ls"})
    if np.isfinite(fit.slope):  # an OLS line in log-log passes through the mean point
        ln, lt = np.log(n[used]), np.log(t[used])
        xs = np.array([n[used].min(), n[used].max()])
        ax.plot(xs, np.exp(lt.mean() + fit.slope * (np.log(xs) - ln.mean())), color=color,
                lw=3, alpha=0.25, solid_capstyle="round")


def _guides(ax, rows: pd.DataFrame, powers, value: str = "time_median_s",
            among: pd.DataFrame | None = None, fitted: bool = False, profile=None) -> None:
    """Grey lines ∝ n^p, each drawn beside the series it explains: the series of ``among``
    (default: all rows) whose log-log slope is nearest p, over the points of its fit
    (``fitted`` and fitted; else the upper half of its n range), a factor
    ``GUIDE_OFFSET`` below it so the guide stays visible where the series follows it. A
    series explains the power nearest its slope only, and a power no series comes within
    ``GUIDE_NEAR`` of is left out; the y-limits stay."""
    among = rows if among is None or among.empty else among
    slopes = []
    for key, g in among.groupby(["mode", *SERIES_KEYS], sort=False):
        g = g[g[value] > 0].sort_values("n")
        if fitted:  # the points the exponent was fitted on, where there is one
            result = series_fit(g, profile)
            if np.isfinite(result.slope.slope):
                slopes.append((result.slope.slope, key[0], g[result.range.mask]))
                continue
        g = g[g["n"] >= np.sqrt(g["n"].min() * g["n"].max())]  # the upper half: where the
        if g["n"].nunique() >= 2:  # asymptotic power shows, above the per-call overhead
            slope = np.polyfit(np.log(g["n"].astype(float)), np.log(g[value]), 1)[0]
            slopes.append((float(slope), key[0], g))
    ylim = ax.get_ylim()
    nearest = {id(item): min(powers, key=lambda p: abs(item[0] - p)) for item in slopes}
    for p, ls in zip(powers, (":", "-.", "--")):  # a series explains one power at most
        near = [item for item in slopes if abs(item[0] - p) <= GUIDE_NEAR
                and nearest[id(item)] == p]
        if not near:
            continue
        _, mode, g = min(near, key=lambda item: abs(item[0] - p))
        n, y = g["n"].to_numpy(float), g[value].to_numpy(float)
        y0 = float(np.exp(np.mean(np.log(y) - p * np.log(n / n[0]))))  # least squares, slope p
        xs = np.geomspace(n[0], n[-1], 50)
        label = ("∝ n" if p == 1 else f"∝ n{'⁰¹²³⁴'[p]}") + f" (guide, under {mode})"
        ax.plot(xs, y0 / GUIDE_OFFSET * (xs / n[0]) ** p, color="0.3", ls=ls, lw=1.3,
                label=label, zorder=1)
    ax.set_ylim(*ylim)


@figure("j_over_f_vs_n", "J/F vs n",
        caption=("A gradient costs reverse mode a few evaluations of F whatever n (inside the "
                 "green band); forward mode's cost grows with n."),
        order=2,
        needs=("n", "m", "mode", "chunk_spec", *SERIES_KEYS, "j_over_f"))
def j_over_f_vs_n(df: pd.DataFrame) -> Figure:
    """J/F (time of the Jacobian over time of F) against n for gradients (m = 1): forward
    mode needs n tangent sweeps so grows ∝ n; reverse needs one adjoint sweep and stays a
    small constant, the cheap-gradient principle (3–4 by the theory sheet), drawn as a band."""
    rows = size_series(df, "j_over_f", min_sizes=2)
    rows = rows[rows["m"] == 1]
    lost = missing_notes(df[df["m"] == 1], rows, min_sizes=2)
    if rows.empty:
        raise CannotPlot("needs ≥ 2 sizes of n with m = 1 in one series (one mode at its "
                         "default chunk, same depth and width)" +
                         (f"; {'; '.join(lost)}" if lost else ""))
    fig = new_figure()
    ax = fig.subplots()
    vary = varying(rows)
    for key, g, style in _groups(rows):
        label = key["mode"] + (f" ({describe(key, vary)})" if vary else "")
        ax.plot(g["n"], g["j_over_f"], label=label, **look(key["mode"]).line(ls=style))
    low, high = log_limits([*rows["j_over_f"], 0.8, CHEAP_GRADIENT[1]], pad=1.4)
    ax.set_ylim(min(low, 0.7), high)
    ax.axhspan(*CHEAP_GRADIENT, color="C2", alpha=0.18, lw=0,
               label="cheap gradient: reverse ≤ 3–4 × F (Griewank & Walther)")
    ax.axhline(1, color="0.5", lw=0.8)
    _guides(ax, rows, powers=(1,), value="j_over_f", among=rows[rows["mode"] == "forward"])
    log2_axis(ax, "x", rows["n"])
    ax.set_yscale("log")
    ax.set_xlabel("n (inputs), m = 1 output")
    ax.set_ylabel("J/F = time of Jacobian / time of F")
    ax.set_title("Gradient cost in evaluations of F: " + jf_claims(set(rows["mode"])),
                 fontsize="medium")
    ax.grid(True, which="major", alpha=0.3)
    _legend(ax, ax.get_legend_handles_labels()[0])
    _note(ax, lost)
    return fig
