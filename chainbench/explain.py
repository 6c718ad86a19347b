"""Where a bound call's time goes: its plan run pass by pass, each pass timed alone at its
sizes (``machine.pass_timing``) beside the time model's price for it, and the whole call
timed beside the sum of its passes and the plan's predicted total.

    ex = cb.bind(chain, "reverse").explain()
    print(ex)          # a table, one row per pass of the plan
    ex.frame           # the same rows as a pandas DataFrame
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial

import numpy as np

from .cost.time_model import pass_prices, price_plan, working_set
from .cost.pass_timing import PassTimer
from .machine.pass_kernels import median_seconds, one_thread
from .machine.current import current_profile
from .provenance import require_memory

#: The columns of ``Explanation.frame``, one row per pass of the plan.
COLUMNS = ("rule", "layer", "lanes", "count", "madds", "bytes", "measured_s", "predicted_s",
           "rate", "rate_unit", "bound", "level")


@dataclass(frozen=True)
class Explanation:
    """One bound call explained: ``rows`` (dicts of ``COLUMNS``, one per pass: its time
    alone per run, measured and predicted, the rate it reached, what bounds it and the
    memory level its own bytes live in), the whole call measured (``call_s``), the plan's
    predicted total (``predicted_s``) and the level of the call's working set."""

    title: str
    rows: tuple[dict, ...]
    call_s: float
    predicted_s: float
    level: str
    working_set_bytes: int
    #: the roofs the profile measured: the fastest GEMM rate (multiply-adds/s) and each
    #: memory level's (name, bytes/s), for the roofline panel
    peak_madds_per_s: float = 0.0
    bandwidths: tuple[tuple[str, float], ...] = ()

    @property
    def passes_s(self) -> float:
        """The sum of the passes measured alone, each times its count (those not timed
        alone, operation-level ones, aside)."""
        return sum(r["measured_s"] * r["count"] for r in self.rows
                   if math.isfinite(r["measured_s"]))

    @property
    def untimed(self) -> int:
        """How many passes were not timed alone (an operation-level engine's)."""
        return sum(not math.isfinite(r["measured_s"]) for r in self.rows)

    @property
    def frame(self):
        import pandas as pd

        return pd.DataFrame(list(self.rows), columns=list(COLUMNS))

    def summary(self) -> list[str]:
        aside = (f" ({self.untimed} operation-level passes aside: an operation-level "
                 "kernel sweeps the whole tape, no layer's share of it alone)"
                 if self.untimed else "")
        return [f"whole call measured {seconds(self.call_s)}; passes measured alone sum to "
                f"{seconds(self.passes_s)} ({self.passes_s / self.call_s:.2f}× the call)"
                f"{aside}; predicted {seconds(self.predicted_s)} "
                f"({self.predicted_s / self.call_s:.2f}×)",
                f"working set {self.working_set_bytes / 2**20:.3g} MiB, in {self.level}"]

    def _cells(self) -> list[tuple[str, ...]]:
        out = []
        for r in self.rows:
            out.append((r["rule"], r["layer"] or "-", str(r["lanes"]), str(r["count"]),
                        seconds(r["measured_s"]), seconds(r["predicted_s"]),
                        f"{r['rate']:.3g} {r['rate_unit']}" if math.isfinite(r["rate"]) else "-",
                        r["bound"], r["level"]))
        return out

    HEAD = ("pass", "layer", "lanes", "count", "measured", "predicted", "rate", "bound",
            "level")

    def __str__(self) -> str:
        rows = [self.HEAD, *self._cells()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.HEAD))]
        lines = ["  ".join(c.ljust(w) if i in (0, 1, 7, 8) else c.rjust(w)
                           for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
        return "\n".join([self.title, *lines, *self.summary()])

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th>{escape(h)}</th>" for h in self.HEAD)
        body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"
                       for cells in self._cells())
        notes = "".join(f"<p>{escape(line)}</p>" for line in self.summary())
        return (f"<p><b>{escape(self.title)}</b></p><table><tr>{head}</tr>{body}</table>"
                f"{notes}")


def seconds(s: float) -> str:
    """'3.4 µs', '12.1 ms', '2.05 s' ('-' for a time not measured)."""
    if not math.isfinite(s):
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def _rate(p, seconds: float) -> tuple[float, str]:
    """What a pass reached: Gmadd/s for a product, else GB/s of the bytes it moves."""
    if p.product and p.madds and min(p.dims) > 1:
        return p.madds / seconds / 1e9, "Gmadd/s"
    return p.bytes / seconds / 1e9, "GB/s"


def explain(bound, profile=None, x=None) -> Explanation:
    """Run ``bound``'s plan pass by pass and the whole call (at ``x``, default a fixed
    random point), timed on this machine, beside the prices of ``profile`` (default: this
    machine's; ``machine.own_costs.ensure_overheads()`` gives it chainbench's own costs)."""
    profile = current_profile() if profile is None else profile
    plan, chain = bound.plan, bound.chain
    require_memory(memory_needed(plan, profile), f"explaining mode={bound.mode!r}",
                   "explain a smaller chain or a smaller --chunk")
    with one_thread():  # as the profile was measured
        caches = [lv.capacity_bytes for lv in profile.levels if lv.capacity_bytes]
        # a working set beyond the last cache reads each matrix from memory: so do the passes
        cold = max(caches) if caches and working_set(plan) > max(caches) else 0.0
        rows = _rows(plan, PassTimer(chain.program, cold), profile)
        if x is None:
            x = 0.5 * np.random.default_rng(0).standard_normal(chain.n)
        call_s = median_seconds(partial(_calls, bound, x))
    t = price_plan(plan, profile)
    title = f"{bound!r}: {len(rows)} passes, one thread"
    return Explanation(title, tuple(rows), call_s, t.seconds, t.level, t.working_set_bytes,
                       profile.peak_madds_per_s,
                       tuple((lv.name, lv.bandwidth_Bps) for lv in profile.levels))


def _calls(bound, x, reps: int) -> None:
    """``reps`` calls, each J dropped before the next: a list keeping them all would hand
    every call fresh memory to fault in, which a caller's loop does not."""
    for _ in range(reps):
        bound(x)


def memory_needed(plan, profile) -> float:
    """Bytes explaining ``plan`` allocates at most: the call's working set, and beside it
    a pass's own buffers (its operands, stacked in copies that fill twice the last cache
    where the call outgrows it)."""
    largest = max((p.bytes for p in plan.passes), default=0)
    caches = [lv.capacity_bytes or 0 for lv in profile.levels]
    return working_set(plan) + 4 * largest + 2 * max(caches, default=0)


def _rows(plan, timer: PassTimer, profile) -> list[dict]:
    """One row per pass of ``plan``: timed alone by ``timer``, priced on ``profile``."""
    rows = []
    for p, (predicted, bound_by) in zip(plan.passes, pass_prices(plan, profile)):
        measured = timer.seconds(p)
        rate, unit = _rate(p, measured)
        rows.append({"rule": p.rule + (f" ({p.holds})" if p.holds else ""), "layer": p.layer,
                     "lanes": p.lanes, "count": p.count, "madds": p.madds, "bytes": p.bytes,
                     "measured_s": measured, "predicted_s": predicted, "rate": rate,
                     "rate_unit": unit, "bound": bound_by, "level": profile.regime(p.bytes)})
    return rows
