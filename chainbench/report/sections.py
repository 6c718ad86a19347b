"""One run's part of the report, section by section, and the comparison that opens a report
of several runs (two machines, two commits): what each section shows is read from
``facts.RunFacts``, never measured here."""

from __future__ import annotations

import math

import pandas as pd

from ..harness.analysis.tables import STATUSES
from ..harness.storage.row import KEY_COLUMNS
from .facts import RunFacts, as_table, machine_lines
from .html import definitions, esc, frame_table, number, section, table

#: Columns of points.csv the raw table shows (points.csv itself holds them all).
RAW_COLUMNS = ("point", "quantity", "mode", "n", "m", "depth", "width", "activation", "chunk",
               "snapshots", "status", "time_median_s", "time_predicted_s", "j_over_f",
               "hvp_over_g", "madds_predicted", "bytes_counted", "compile_s", "reason")


def run_sections(facts: RunFacts, anchor: str, level: int = 2) -> str:
    """Every section of one run, anchors prefixed with ``anchor``."""
    sub = level + 1
    parts = [
        f"<p>{esc(facts.description)}</p>" if facts.description else "",
        glance(facts),
        section(f"{anchor}-machine", "Machine and software", definitions(
            machine_lines(facts.latest)), sub),
        section(f"{anchor}-points", "Points", tally_html(facts.tally), sub),
        section(f"{anchor}-fits", "Fitted figures", fits_html(facts.tables), sub),
        section(f"{anchor}-second", "Second order", second_html(facts.tables), sub)
        if "hvp_over_g" in facts.tables else "",
        section(f"{anchor}-figures", "Figures", figures_html(facts), sub),
        section(f"{anchor}-raw", "Raw table", raw_html(facts), sub),
    ]
    return "".join(parts)


def glance(facts: RunFacts) -> str:
    """Cards: points measured, and each gradient exponent that was fitted and trusted."""
    t = facts.tally
    total = sum(t.get(s, 0) for s in t if s != "problems")
    cards = [(f"{t.get('ok', 0)} / {total}", "points measured")]
    exps = facts.tables.get("exponents", pd.DataFrame())
    for _, r in exps.iterrows() if len(exps) else []:
        if math.isfinite(r["exponent"]) and r.get("trusted", True):
            cards.append((f"{r['exponent']:.2f}", f"exponent of {series_label(r)}"))
    regret = facts.tables.get("auto_regret", pd.DataFrame())
    if len(regret):
        cards.append((f"{regret['within_10pct'].iloc[0]:.0%}",
                      f"of {int(regret['chains'].iloc[0])} chains: auto within 10 %"))
    body = "".join(f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>'
                   for v, k in cards[:8])
    return f'<div class="cards">{body}</div>'


def series_label(r) -> str:
    """'reverse m=1 depth 2', plus what is not at its default; a second-order series
    starts with its quantity ('hessian forward-over-reverse …')."""
    quantity = str(r.get("quantity", "jacobian"))
    parts = ["" if quantity in ("jacobian", "nan") else quantity, str(r["mode"]),
             str(r.get("m_rule", "")).replace(" ", ""), f"depth {r['depth']}"]
    for key, default in (("chunk_spec", "default"), ("snapshots_spec", "default"),
                         ("width", "square"), ("activation", "tanh")):
        if str(r.get(key, default)) != default:
            parts.append(f"{key.removesuffix('_spec')} {r[key]}")
    return " ".join(p for p in parts if p)


def tally_html(t: dict) -> str:
    counts = [(s, t.get(s, 0)) for s in STATUSES] + \
        [(s, v) for s, v in t.items() if s not in (*STATUSES, "problems")]
    line = " · ".join(f"{v} {s}" for s, v in counts)
    problems = t.get("problems") or []
    if not problems:
        return f"<p>{esc(line)}; every planned point was measured.</p>"
    rows = [(p["status"], p["count"], p["points"], p["reason"]) for p in problems]
    return (f"<p>{esc(line)}. The points not measured, by cause:</p>"
            + table(["status", "points", "which", "reason (the first of its kind)"], rows))


def fits_html(tables: dict[str, pd.DataFrame]) -> str:
    """The exponents with their intervals, crossovers, J/F, the time model's error and
    auto's regret; a line saying so where the points support none."""
    parts = ["<h4>Scaling exponents (log-log slope of time against n, 95 % interval)</h4>"]
    exps = tables.get("exponents", pd.DataFrame())
    if len(exps):
        rows = []
        for _, r in exps.iterrows():
            fitted = math.isfinite(r["exponent"])
            work, share = r.get("work_exponent", math.nan), r.get("per_madd_exponent", math.nan)
            note = "" if r.get("trusted", True) and fitted else str(r.get("note", ""))
            rows.append((series_label(r), r["exponent"] if fitted else "not fitted",
                         f"{r['ci_low']:.2f} … {r['ci_high']:.2f}" if fitted else "",
                         f"{work:.2f}" if fitted and _finite(work) else "",
                         f"{share:+.2f}" if fitted and _finite(share) else "",
                         int(r["points"]), _span(r), r.get("regime") or "",
                         "; ".join(t for t in (note, str(r.get("why") or "")) if t)))
        parts.append(table(["series", "time exponent", "95 % interval", "work exponent",
                            "machine's share", "points", "n range", "regime", "note"], rows))
        parts.append('<p class="quiet">The time\'s exponent is the counted work\'s (the '
                     "algorithm's, exact) plus the time per multiply-add's (the machine's "
                     "share: caches, bandwidth that changes with the working set).</p>")
    else:
        parts.append('<p class="quiet">No series with three sizes of n or more.</p>')
    named = (("crossovers", "Forward/reverse crossovers (m where forward becomes faster)"),
             ("j_over_f", "J/F: time of the gradient in evaluations of F"),
             ("prediction_error", "The time model's error per engine (|ln measured/predicted|)"),
             ("auto_regret", "auto's regret (time of its pick over the fastest pure mode − 1)"))
    for key, title in named:
        frame = tables.get(key, pd.DataFrame())
        parts.append(f"<h4>{esc(title)}</h4>")
        parts.append(frame_table(frame) if len(frame) else
                     '<p class="quiet">Not enough points for this figure.</p>')
    return "".join(parts)


#: The second-order tables (``facts.second_order_tables``) and what each shows.
SECOND_TABLES = (
    ("hvp_over_g", "HVP ÷ gradient: one Hessian-vector product's time in gradients of the "
                   "same chain, timed in the same point (a small constant expected)"),
    ("hessian_bracketing", "Hessian chain bracketing: the better mixed mode's time over "
                           "hessian-optimal's, measured and predicted (multiply-adds)"),
    ("hessian_vs_peers", "chainbench's fastest Hessian or HVP over the fastest peer's "
                         "(below 1: chainbench faster)"),
)


def second_html(tables: dict[str, pd.DataFrame]) -> str:
    """The second-order tables; the Hessian exponents are in the fitted figures above."""
    parts = ['<p class="quiet">Hessian and HVP series (their exponents per mode) are in the '
             "fitted figures above; see docs/second-order.md for what to expect.</p>"]
    for key, title in SECOND_TABLES:
        frame = tables.get(key, pd.DataFrame())
        parts.append(f"<h4>{esc(title)}</h4>")
        parts.append(frame_table(frame) if len(frame) else
                     '<p class="quiet">Not enough points for this table.</p>')
    return "".join(parts)


def _span(r) -> str:
    try:
        return f"{int(r['n_from'])}–{int(r['n_to'])}"
    except (TypeError, ValueError):
        return ""


def figures_html(facts: RunFacts) -> str:
    parts = []
    for d in facts.figures:
        parts.append(f'<figure id="fig-{esc(d.name)}-{esc(facts.folder.name)}">{d.svg}'
                     f"<figcaption><b>{esc(d.label)}.</b>{esc(d.caption)}</figcaption></figure>")
    if not facts.figures:
        parts.append('<p class="bad">No figure: the points support none.</p>')
    if facts.not_drawn:  # listed once, quietly: most experiments cannot make every figure
        names = ", ".join(label for label, _ in facts.not_drawn)
        why = "; ".join(f"{label}: {reason}" for label, reason in facts.not_drawn)
        parts.append(f'<p class="quiet" title="{esc(why)}">Not drawn, for want of the points '
                     f"they need: {esc(names)}.</p>")
    return "".join(parts)


def raw_html(facts: RunFacts) -> str:
    df = facts.points
    cols = [c for c in RAW_COLUMNS if c in df.columns]
    rows = df[cols].astype(object).where(df[cols].notna(), "").itertuples(index=False)
    return (f'<p class="quiet">{len(df)} rows; click a header to sort. '
            f"{esc(facts.folder / 'points.csv')} has every column.</p>"
            f'<div class="scroll">{table(cols, rows, sortable=True)}</div>')


def comparison(runs: list[RunFacts]) -> str:
    """Several runs side by side: what ran where, the exponents of each series, and each
    mode's median time against the first run's on the points both measured."""
    head = ["", *[r.title for r in runs]]
    what = [("CPU", *[as_table(r.latest.get("machine")).get("cpu_model", "?") for r in runs]),
            ("commit", *[str(r.latest.get("git_commit") or "?")[:10] for r in runs]),
            ("started", *[str(r.latest.get("started_at", "?")) for r in runs]),
            ("points ok", *[f"{r.tally.get('ok', 0)}" for r in runs])]
    exps = {}
    for k, r in enumerate(runs):
        frame = r.tables.get("exponents", pd.DataFrame())
        for _, row in frame.iterrows() if len(frame) else []:
            value = f"{row['exponent']:.2f}" if math.isfinite(row["exponent"]) else "not fitted"
            exps.setdefault(series_label(row), [""] * len(runs))[k] = value
    rows = what + [(f"exponent: {s}", *v) for s, v in exps.items()]
    return table(head, rows) + time_ratios(runs)


def time_ratios(runs: list[RunFacts]) -> str:
    """Median, per mode, of each run's time over the first run's at the same point."""
    key = [c for c in KEY_COLUMNS if all(c in r.points.columns for r in runs)]
    ok = [r.points[r.points["status"] == "ok"][[*key, "time_median_s"]] for r in runs]
    rows = []
    for k, (r, other) in enumerate(zip(runs[1:], ok[1:]), start=1):
        both = ok[0].merge(other, on=key, suffixes=("_a", "_b"))
        for mode, g in both.groupby("mode", sort=False):
            ratio = (g["time_median_s_b"] / g["time_median_s_a"]).median()
            rows.append((r.title, mode, len(g), f"{ratio:.3g}×"))
        if both.empty:
            rows.append((runs[k].title, "–", 0, "no point in common"))
    if not rows:
        return ""
    return (f"<h3>Time against {esc(runs[0].title)} on the same points (median of the "
            f"ratios; < 1× faster)</h3>" + table(["run", "mode", "points", "time ratio"], rows))


__all__ = ["comparison", "number", "run_sections"]


def _finite(v) -> bool:
    return isinstance(v, float | int) and math.isfinite(v)
