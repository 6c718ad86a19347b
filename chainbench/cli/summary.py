"""The end of ``chainbench run``: how the points went (by status, the others' reasons
grouped), the exponents fitted on them in a narrow table, and where the results, figures
and report went. At most ``fit.WIDTH`` columns."""

from __future__ import annotations

import math
import textwrap
from datetime import datetime

from .fit import WIDTH, decomposition, series_label


def print_summary(results, report=None) -> None:
    """Print the summary of the run that just ended in ``results`` (a ResultsDir)."""
    for line in summary_lines(results, report):
        print(line)


def summary_lines(results, report=None) -> list[str]:
    from ..harness.analysis.tables import exponents, load, tally_lines

    runs = results.read_meta().get("runs") or [{}]
    last = runs[-1]
    took = _duration(last.get("started_at"), last.get("ended_at"))
    lines = [f"== summary{f' (the run took {took})' if took else ''} =="]
    if last.get("tally"):
        for line in tally_lines(last["tally"]):
            lines += textwrap.wrap(line, WIDTH, subsequent_indent="    ") or [line]
    try:
        table = exponents(load(results.path))
    except (ValueError, OSError):  # nothing readable yet: the tally said why
        table = None
    if table is not None and len(table):
        lines += exponent_table(table)
    lines.append(f"results: {results.points_file}")
    figures = results.path / "figures"
    if figures.is_dir():
        lines.append(f"figures: {figures}")
    if report is not None:
        lines.append(f"report:  {report}")
    return lines


def exponent_table(table) -> list[str]:
    """Series, exponent and its 95 % interval, and the n range of the fit; 'not fitted'
    where the points could not support a number (``chainbench fit`` says why)."""
    labels = [series_label(r) for _, r in table.iterrows()]
    w = min(max(len("series"), *map(len, labels)), 44)
    out = [f"{'series':<{w}}  exponent  95% interval  work  machine  n range"]
    for label, (_, r) in zip(labels, table.iterrows()):
        label = label if len(label) <= w else label[: w - 1] + "…"
        if not math.isfinite(r["exponent"]):
            out.append(f"{label:<{w}}  not fitted (`chainbench fit` says why)")
            continue
        flag = "" if r.get("trusted", True) else "  (not trusted)"
        out.append(f"{label:<{w}}  {r['exponent']:8.2f}  {r['ci_low']:5.2f} … {r['ci_high']:<5.2f}"
                   f"  {decomposition(r)}  {int(r['n_from'])}–{int(r['n_to'])}{flag}")
        if r.get("why"):
            out += textwrap.wrap(f"{r['why']}", WIDTH, initial_indent=" " * (w + 2),
                                 subsequent_indent=" " * (w + 4))
    return [line[:WIDTH] for line in out]



def _duration(start, end) -> str:
    try:
        s = (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    except (TypeError, ValueError):
        return ""
    return f"{s:.0f} s" if s < 120 else f"{s // 60:.0f} min {s % 60:.0f} s"
