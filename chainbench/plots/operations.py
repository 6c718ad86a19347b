"""What not knowing a layer's structure costs: the operation-level engines (``level`` =
'operation' in their contract) beside the layer-level engine running the same algorithm.
Memory against n (the scalar tape ∝ n², the layer tape ∝ n), time and time per
multiply-add against n, and the tape's entries per layer against n_k · n_{k−1}."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..engines.registry import ENGINES
from ..model.lowering import layout
from ..model.ops import ENTRY_BYTES
from ..model.shape import ChainShape
from ._common import (
    CannotPlot,
    at_defaults,
    byte_unit,
    figure,
    log2_axis,
    measured,
    mode_color,
    new_figure,
    time_axis,
)

#: operation-level mode -> the layer-level mode running the same algorithm
TWINS = {name: next(other for other, o in ENGINES.items()
                    if o.level == "layer" and o.family == "ad" and o.name == e.algorithm)
         for name, e in ENGINES.items() if e.level == "operation"}
MEMORY = {"bytes_counted": ("counted", "-", "o"), "bytes_predicted": ("predicted", "--", "s"),
          "bytes_measured": ("measured (tracemalloc peak)", ":", "^")}


def _series(df: pd.DataFrame, modes, *cols) -> tuple[pd.DataFrame, int]:
    """Default-chunk rows of ``modes`` at the depth with the most n measured, m = 1 first."""
    rows = at_defaults(measured(df, "time_median_s", *cols))
    rows = rows[rows["mode"].isin(modes)]
    if not rows["mode"].isin(TWINS).any():
        raise CannotPlot(f"needs ok rows of {', '.join(sorted(m for m in modes if m in TWINS))}")
    counts = rows.groupby("depth")["n"].nunique()
    depth = int(counts.idxmax())
    rows = rows[rows["depth"] == depth]
    if rows["n"].nunique() < 2:
        raise CannotPlot("needs ≥ 2 values of n at one depth")
    return rows, depth


def slope(n, y, lo: float) -> float:
    """Least-squares slope of log y against log n over n ≥ lo (NaN with < 3 points)."""
    n, y = np.asarray(n, float), np.asarray(y, float)
    keep = (n >= lo) & (y > 0)
    if keep.sum() < 3:
        return float("nan")
    return float(np.polyfit(np.log(n[keep]), np.log(y[keep]), 1)[0])


@figure("op_memory_vs_n", "operation-level memory vs n", order=18,
        needs=("n", "depth", "mode", "status", "bytes_counted", "bytes_predicted", "time_median_s"))
def op_memory_vs_n(df: pd.DataFrame) -> Figure:
    """Bytes each reverse-mode engine holds against n: the Wengert list's ∝ n² (an entry per
    operation), the layer tape's ∝ n. Exponents fitted to the measured bytes over n ≥ 128;
    points the memory guard skipped are listed with the reason."""
    pairs = [(op, twin) for op, twin in TWINS.items() if ENGINES[op].algorithm == "reverse"]
    rows, depth = _series(df, {m for pair in pairs for m in pair}, "bytes_counted")
    kinds = [k for k in MEMORY if k in rows.columns and
             (pd.to_numeric(rows[k], errors="coerce") > 0).any()]
    unit, scale = byte_unit(float(pd.to_numeric(rows[kinds[0]]).max()))
    fig = new_figure()
    ax = fig.subplots()
    for mode in sorted(rows["mode"].unique()):
        g = rows[rows["mode"] == mode].sort_values("n")
        for kind in kinds:
            text, ls, marker = MEMORY[kind]
            y = pd.to_numeric(g[kind], errors="coerce")
            label = f"{mode}: {text}"
            if kind == kinds[-1]:
                label += f", ∝ n^{slope(g['n'], y, 128):.2f}"
            ax.plot(g["n"], y / scale, color=mode_color(mode), ls=ls, marker=marker,
                    mfc="none" if kind == "bytes_predicted" else mode_color(mode), ms=6,
                    label=label)
    skipped = df[(df["status"].astype(str) == "skipped") & df["mode"].isin(TWINS)]
    for _, row in skipped.iterrows():
        ax.annotate(f"{row['mode']} n = {row['n']} skipped:\n{row['reason']}",
                    xy=(0.02, 0.98), xycoords="axes fraction", va="top", fontsize="x-small")
    log2_axis(ax, "x", rows["n"])
    ax.set_yscale("log")
    ax.set_xlabel("n (m = 1)")
    ax.set_ylabel(f"memory held per Jacobian ({unit})")
    ax.set_title(f"Reverse mode's memory: a scalar tape against a layer tape (depth {depth})",
                 fontsize="medium")
    ax.legend(fontsize="x-small", loc="lower right")
    ax.grid(True, alpha=0.3)
    return fig


@figure("op_time_vs_n", "operation-level time vs n", order=18,
        needs=("n", "depth", "mode", "status", "time_median_s", "madds_counted"))
def op_time_vs_n(df: pd.DataFrame) -> Figure:
    """Left: seconds per Jacobian of each operation-level engine and its layer-level twin.
    Right: their ratio, and the ratio of seconds per counted multiply-add (what each
    multiply-add costs when the tool does not know the structure)."""
    rows, depth = _series(df, set(TWINS) | set(TWINS.values()), "madds_counted")
    fig = new_figure(10.5, 4.4)
    left, right = fig.subplots(1, 2)
    for op, twin in TWINS.items():
        g = {m: rows[rows["mode"] == m].set_index("n").sort_index() for m in (op, twin)}
        for mode, data in g.items():
            if not data.empty:
                left.plot(data.index, data["time_median_s"], color=mode_color(mode),
                          marker="o", ls="-" if mode == op else "--", label=mode)
        both = g[op].index.intersection(g[twin].index)
        if both.empty:
            continue
        t = g[op].loc[both, "time_median_s"] / g[twin].loc[both, "time_median_s"]
        per_madd = t * g[twin].loc[both, "madds_counted"] / g[op].loc[both, "madds_counted"]
        color = mode_color(op)
        right.plot(both, t, color=color, marker="o", label=f"{op} / {twin}: time")
        right.plot(both, per_madd, color=color, marker="s", ls=":", mfc="none",
                   label=f"{op} / {twin}: time per multiply-add")
    for ax in (left, right):
        log2_axis(ax, "x", rows["n"])
        ax.set_xlabel("n (m = 1)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="x-small")
    time_axis(left)
    left.set_ylabel("seconds per Jacobian (median)")
    right.set_yscale("log")
    right.set_ylabel("operation level / layer level")
    fig.suptitle(f"What not knowing the layers costs (depth {depth})", fontsize="medium")
    return fig


def _entries_per_layer(row) -> list[tuple[int, int, str]]:
    """(n_k · n_{k−1}, tape entries, layer name) per layer of a row's chain."""
    widths = [int(w) for w in str(row["widths"]).split("-")]
    act = "" if row["activation"] == "none" else f" {row['activation']}"
    spec = " ".join(f"dense:{w}{act}" for w in widths[1:-1]) + f" dense:{widths[-1]}"
    shape = ChainShape.from_spec(spec.strip(), widths[0])
    lay = layout(shape)
    return [(shape.widths[k] * shape.widths[k + 1], lay.entries[k], cls.name)
            for k, cls in enumerate(shape.layers)]


@figure("op_tape_entries", "tape entries per layer", order=18,
        needs=("n", "mode", "status", "widths", "activation", "bytes_tape"))
def op_tape_entries(df: pd.DataFrame) -> Figure:
    """Entries each layer puts on the Wengert list against n_k · n_{k−1}: a dense layer's
    2·n_k·n_{k−1} (a multiply and an add per weight, less an add per output, plus the
    bias), an activation's few per entry. The chains' totals, as the cost model counts
    them, checked against the engine's counted tape bytes."""
    reverse_ops = [m for m in TWINS if ENGINES[m].algorithm == "reverse"]
    rows = measured(df, "bytes_tape")
    rows = rows[rows["mode"].isin(reverse_ops)]
    if rows.empty:
        raise CannotPlot(f"needs ok rows of {', '.join(reverse_ops)} with a tape")
    fig = new_figure()
    ax = fig.subplots()
    points: dict[str, list] = {}
    mismatched = 0
    for _, row in rows.iterrows():
        per_layer = _entries_per_layer(row)
        mismatched += sum(e for _, e, _ in per_layer) != int(row["bytes_tape"]) // ENTRY_BYTES
        for size, entries, name in per_layer:
            points.setdefault(name, []).append((size, entries))
    for k, (name, xy) in enumerate(sorted(points.items())):
        xs, ys = np.array(xy, dtype=float).T
        ax.scatter(xs, ys, s=26, color=f"C{k}", label=name, zorder=3)
    sizes = np.array([s for xy in points.values() for s, _ in xy], dtype=float)
    line = np.geomspace(sizes.min(), sizes.max(), 20)
    ax.plot(line, 2 * line, color="0.4", lw=1, label="2 · n_k · n_{k−1}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("n_k · n_{k−1} of the layer")
    ax.set_ylabel("tape entries of the layer")
    check = ("every chain's total equals the engine's counted tape" if not mismatched
             else f"{mismatched} chains' totals differ from the counted tape")
    ax.set_title(f"Wengert-list entries per layer ({check})", fontsize="medium")
    ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    return fig
