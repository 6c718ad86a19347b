"""What the figures share: the registry with its column checks, row selection, colours per
mode, and axis helpers. Every figure is a pure function DataFrame -> matplotlib Figure built
with ``matplotlib.figure.Figure`` (never pyplot), so nothing touches global state."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
)

from .palette import look, mode_color, mode_order  # noqa: F401 (shared by the figures)


class CannotPlot(ValueError):
    """The results lack what a figure needs; the message names the figure and what is missing."""


@dataclass(frozen=True)
class FigureSpec:
    name: str  # file stem of the saved figure
    label: str  # short name that starts every message about it
    draw: Callable[[pd.DataFrame], Figure]
    needs: tuple[str, ...]  # columns it cannot be drawn without
    order: int  # place in the list of figures (the numbering of the issue that asked for them)
    caption: str = ""  # one line saying what to see in it (the HTML report prints it)
    second: bool = False  # drawn from second-order rows (Hessians, HVPs); else from Jacobians'


#: name -> FigureSpec of every figure defined; ``plots.FIGURES`` is it in drawing order.
REGISTRY: dict[str, FigureSpec] = {}


def figure(name: str, label: str, order: int, needs: Iterable[str], caption: str = "",
           second: bool = False):
    """Register a figure; the wrapped function checks ``needs`` first and prefixes every
    CannotPlot it raises with ``label``, so a direct call says the same as ``render_all``.
    A first-order figure sees the Jacobian rows alone; a ``second`` one every row."""
    needs = tuple(needs)

    def register(draw):
        @functools.wraps(draw)
        def checked(df: pd.DataFrame) -> Figure:
            missing = [c for c in needs if c not in df.columns]
            if missing:
                s = "s" if len(missing) > 1 else ""
                raise CannotPlot(f"{label}: results lack column{s} {', '.join(missing)}")
            if not second:
                df = first_order(df)
            try:
                return draw(df)
            except CannotPlot as err:
                raise CannotPlot(f"{label}: {err}") from None

        if name in REGISTRY:
            raise ValueError(f"figure {name!r} registered twice")
        REGISTRY[name] = FigureSpec(name, label, checked, needs, order, caption, second)
        return checked

    return register


# --- rows ------------------------------------------------------------------------------------

#: ``quantity`` of a Jacobian's row; results written before second order have no column.
JACOBIAN = "jacobian"


def first_order(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of Jacobians (all rows of results without a ``quantity`` column)."""
    if "quantity" not in df.columns:
        return df
    rows = df[df["quantity"].astype(str) == JACOBIAN]
    if rows.empty and len(df):
        raise CannotPlot("the results hold second-order points only (Hessians, HVPs)")
    return rows

#: What, beside mode and sizes, tells two series apart.
SERIES_KEYS = ("depth", "width", "activation", "seed")
#: Per-mode options given as text ("default" or a number); results without a column
#: (written before that option existed) ran at its default.
SPEC_COLUMNS = ("chunk_spec", "snapshots_spec")


def measured(df: pd.DataFrame, *positive: str) -> pd.DataFrame:
    """Rows with status ok whose ``positive`` columns are finite and > 0 (for log axes),
    with those columns as floats and the spec columns (chunk_spec, …) as text."""
    rows = df[df["status"].astype(str) == "ok"] if "status" in df.columns else df
    rows = rows.copy()
    for col in positive:
        rows[col] = pd.to_numeric(rows[col], errors="coerce").astype(float)
        rows = rows[np.isfinite(rows[col]) & (rows[col] > 0)]
    for col in SPEC_COLUMNS:
        if col in rows.columns:
            rows[col] = rows[col].astype(str)
    return rows


def at_defaults(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows that ran each mode at its default chunk (and default snapshots)."""
    keep = np.ones(len(rows), dtype=bool)
    for col in SPEC_COLUMNS:
        if col in rows.columns:
            keep &= (rows[col] == "default").to_numpy()
    return rows[keep]


def m_rule(n: int, m: int) -> str:
    """How m relates to n in a series: 'm = n' when it follows n, else 'm = <m>'."""
    return "m = n" if m == n else f"m = {m}"


def varying(rows: pd.DataFrame, keys: Iterable[str] = SERIES_KEYS) -> list[str]:
    """The keys that take more than one value among ``rows``: the ones labels must name."""
    return [k for k in keys if rows[k].nunique() > 1]


def describe(values: dict, keys: Iterable[str]) -> str:
    words = {"depth": "depth {}", "width": "width {}", "activation": "{}", "seed": "seed {}",
             "n": "n = {}", "m": "m = {}"}
    return ", ".join(words.get(k, k + " {}").format(values[k]) for k in keys)


# --- looks -----------------------------------------------------------------------------------

LINESTYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P")
PNG_DPI = 110


def new_figure(width: float = 7.2, height: float = 4.6) -> Figure:
    return Figure(figsize=(width, height), layout="constrained")


def log2_axis(ax, which: str, values) -> None:
    """Axis ``which`` ('x' or 'y') of ``ax`` on a base-2 log scale, ticked at the measured
    ``values`` (printed as plain numbers, not powers)."""
    values = sorted({float(v) for v in values})
    getattr(ax, f"set_{which}scale")("log", base=2)
    axis = ax.xaxis if which == "x" else ax.yaxis
    powers = [v for v in values if v > 0 and math.log2(v).is_integer()]
    if len(powers) >= 3 and len(powers) < len(values):  # e.g. √2 steps: label powers of 2
        axis.set_major_locator(FixedLocator(powers))
        axis.set_minor_locator(FixedLocator(values))
    elif len(values) <= 12:
        axis.set_major_locator(FixedLocator(values))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


class _Seconds(LogFormatter):
    """Log-axis labels as times with units (300 µs, 2 ms), where matplotlib would label."""

    def _num_to_string(self, x, vmin, vmax):
        return seconds(x)


def time_axis(ax, which: str = "y") -> None:
    """Axis ``which`` of ``ax`` as a log time axis labelled in s, ms, µs, ns."""
    getattr(ax, f"set_{which}scale")("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(_Seconds())
    # a short y axis labels some minor ticks too, so it reads off more than two times; an
    # x axis has less room between its labels
    wide = (2.5, 0.8) if which == "y" else (1.2, 0.4)
    axis.set_minor_formatter(_Seconds(labelOnlyBase=False, minor_thresholds=wide))


def ratio_axis(ax, which: str = "y") -> None:
    """A log axis of ratios labelled as factors (0.5×, 1×, 3×), ticked at 1, 2 and 5 times a
    power of ten where it spans under three decades (1 and 3 under five), evenly where it
    spans under a factor of five; call it after the limits are set."""
    getattr(ax, f"set_{which}scale")("log")
    axis = ax.xaxis if which == "x" else ax.yaxis
    low, high = getattr(ax, f"get_{which}lim")()
    decades = math.log10(high / low)
    if decades < 0.7:  # within a factor of 5 a log axis is nearly linear: evenly spaced ticks
        axis.set_major_locator(MaxNLocator(6))
    else:
        subs = (1.0, 2.0, 5.0) if decades < 3 else (1.0, 3.0) if decades < 5 else (1.0,)
        axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}×"))
    axis.set_minor_formatter(NullFormatter())


def log_limits(values, pad: float = 1.6) -> tuple[float, float]:
    v = np.asarray(list(values), dtype=float)
    return float(np.nanmin(v) / pad), float(np.nanmax(v) * pad)


def seconds(s: float) -> str:
    if not math.isfinite(s):
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if abs(s) >= scale * 0.9995:  # so 1e-3 reads 1 ms, not 1e+03 µs
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def byte_unit(largest: float) -> tuple[str, float]:
    """The unit (B, KiB, MiB, GiB) that keeps the largest value of an axis readable."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if largest >= scale:
            return unit, scale
    return "B", 1
