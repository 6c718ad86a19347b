"""``chainbench fit RESULTS_DIR``: exponents, R² against the cost model, crossovers.

The terminal gets a narrow view (at most ``WIDTH`` columns): an exponent with its interval,
or, where the points cannot support one, the reason instead of a number. fits.json keeps
every column."""

from __future__ import annotations

import math
import sys
import textwrap
from pathlib import Path

#: Widest line printed.
WIDTH = 100


def register(sub):
    p = sub.add_parser("fit", help="fit scaling exponents of a results directory",
                       description="Print and save (fits.json) the fitted figures: "
                       "exponents with 95%% intervals, R² against the cost model, crossovers.")
    p.add_argument("results", type=Path, metavar="RESULTS_DIR")
    return p


def run(args) -> int:
    fit_and_print(args.results)
    return 0


def fit_and_print(folder) -> None:
    """Print the fitted figures of a results folder and save them as fits.json."""
    from ..errors import ConfigError
    from ..harness.analysis.tables import load, summary
    from ..harness.storage.points_csv import damaged_warning
    from ..session.fit import Fit

    df = load(folder)
    if warning := damaged_warning(df, folder):
        print(f"chainbench: warning: {warning}", file=sys.stderr)
    tables = summary(df)
    for title, table in tables.items():
        print(f"\n== {title} ==")
        if not len(table):
            print("(not enough points for this figure)")
        elif title == "exponents":
            print("\n".join(exponent_lines(table)))
        else:
            print(narrow(table))
    try:
        out = Fit(tables).save(folder)
    except ConfigError as err:
        raise ConfigError(f"{err} (the fits are printed above)") from None
    print(f"\nsaved: {out}")


def series_label(row) -> str:
    """'forward m=1 depth 2', plus whatever is not at its default (chunk, width, …); a
    second-order series starts with its quantity ('hessian forward-over-reverse …')."""
    quantity = str(row.get("quantity", "jacobian"))
    parts = [*([quantity] if quantity not in ("jacobian", "nan") else []), str(row["mode"]),
             str(row["m_rule"]).replace(" ", ""), f"depth {row['depth']}"]
    for key, default in (("chunk_spec", "default"), ("snapshots_spec", "default"),
                         ("width", "square"), ("activation", "tanh"), ("seed", 0)):
        value = row.get(key, default)
        if str(value) != str(default):
            parts.append(f"{key.removesuffix('_spec')} {value}")
    if "cpu_model" in row:
        parts.append(f"[{row['cpu_model']}]")
    return " ".join(parts)


def exponent_lines(table) -> list[str]:
    """One line per series: exponent, 95 % interval, points, n range and regime; the note
    instead of the figures where the fit is not to be trusted."""
    rows = [(series_label(r), r) for _, r in table.iterrows()]
    w = min(max(len("series"), *(len(label) for label, _ in rows)), 34)
    lines = [f"{'series':<{w}}  exponent  95% interval  work  machine  pts  n range      regime"]
    for label, r in rows:
        label = label if len(label) <= w else label[: w - 1] + "…"
        if not math.isfinite(r["exponent"]):
            lines += _wrapped(f"{label:<{w}}  not fitted: {r['note']}", w + 2)
            continue
        span = f"{int(r['n_from'])}–{int(r['n_to'])}"
        line = (f"{label:<{w}}  {r['exponent']:8.2f}  {r['ci_low']:5.2f} … {r['ci_high']:<5.2f}"
                f"  {decomposition(r)}  {int(r['points']):3d}  {span:<11}  "
                f"{r.get('regime') or '-'}")
        lines.append(line[:WIDTH])
        if r.get("why"):
            lines += _wrapped(f"{'':<{w}}  {r['why']}", w + 2)
        if not r.get("trusted", True):
            lines += _wrapped(f"{'':<{w}}  not trusted: {r['note']}", w + 2)
    return lines


def decomposition(r) -> str:
    """The exponent's two shares, 'work  machine' in 13 columns: the counted work's
    exponent (the algorithm's, exact) and the time per multiply-add's (the machine's)."""
    work, share = r.get("work_exponent", math.nan), r.get("per_madd_exponent", math.nan)
    if not (isinstance(work, float | int) and math.isfinite(work)):
        return f"{'-':>4}  {'-':>7}"
    return f"{work:4.2f}  {round(share, 2) + 0.0:+7.2f}"

def _wrapped(text: str, indent: int) -> list[str]:
    return textwrap.wrap(text, WIDTH, subsequent_indent=" " * (indent + 2)) or [text]


def narrow(table) -> str:
    """``table`` as text no wider than WIDTH, dropping columns from the right if need be
    (and saying so: fits.json has them all)."""
    shown = table
    while True:
        text = shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")
        if max(map(len, text.splitlines())) <= WIDTH or shown.shape[1] <= 2:
            break
        shown = shown.iloc[:, :-1]
    dropped = [c for c in table.columns if c not in shown.columns]
    return text + (f"\n(also in fits.json: {', '.join(dropped)})" if dropped else "")
