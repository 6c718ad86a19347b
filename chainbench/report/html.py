"""The HTML pieces a report is made of: escaping, tables (sortable ones carry each cell's
value to sort by), definition lists, and the page around them with its style sheet and the
few lines of script that sort a table. Nothing is fetched when the page opens: no font,
no style sheet, no script from elsewhere."""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

import pandas as pd


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def number(value, digits: int = 3) -> str:
    """A float as a few significant digits; whole numbers as they are; blanks for NaN."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return ""
        return f"{value:.{digits}g}"
    return str(value)


def table(header: Sequence[str], rows: Iterable[Sequence], *, sortable: bool = False,
          numeric: Sequence[bool] | None = None, cls: str = "") -> str:
    """A <table>, numbers right-aligned (``numeric`` columns, else the cells holding an int
    or a float); with ``sortable`` each header sorts by its column on a click, cells that
    parse as numbers by value."""
    classes = " ".join(c for c in (cls, "sortable" if sortable else "") if c)
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in header)
    body = []
    for row in rows:
        cells = []
        for k, value in enumerate(row):
            text = number(value) if not isinstance(value, str) else value
            sort_key = _sort_key(value) if sortable else None
            num = numeric[k] if numeric else isinstance(value, (int, float)) and \
                not isinstance(value, bool)
            attrs = f' data-v="{sort_key!r}"' if sort_key is not None else ""
            cells.append(f'<td{attrs}{" class=num" if num else ""}>{esc(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="{classes}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _sort_key(value) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def frame_table(df: pd.DataFrame, *, sortable: bool = False) -> str:
    return table([str(c) for c in df.columns], df.itertuples(index=False), sortable=sortable)


def definitions(pairs: Iterable[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in pairs) + "</dl>"


def section(anchor: str, title: str, body: str, level: int = 2) -> str:
    return f'<section id="{esc(anchor)}"><h{level}>{esc(title)}</h{level}>{body}</section>'


STYLE = """
:root { --ink: #1b1b1b; --muted: #5a5a5a; --line: #d8d8d8; --bg: #fbfbfa; --accent: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: var(--ink); background: var(--bg); }
header { padding: 1.2rem 2rem 0.8rem; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 0.2rem; font-size: 1.6rem; }
header p { margin: 0.2rem 0; color: var(--muted); }
nav { font-size: 0.9rem; margin-top: 0.5rem; }
nav a { margin-right: 0.9rem; color: var(--accent); text-decoration: none; }
main { padding: 0.5rem 2rem 3rem; max-width: 1280px; }
section { margin: 1.4rem 0; }
h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.1rem 0 0.4rem; }
.cards { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 0.8rem 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px;
        padding: 0.55rem 0.9rem; min-width: 9rem; }
.card b { display: block; font-size: 1.35rem; }
.card span { color: var(--muted); font-size: 0.85rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem; margin: 0; }
dt { color: var(--muted); }
dd { margin: 0; }
table { border-collapse: collapse; font-size: 0.88rem; background: #fff; margin: 0.4rem 0; }
th, td { border: 1px solid var(--line); padding: 0.2rem 0.5rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0ee; }
table.sortable th { cursor: pointer; user-select: none; }
table.sortable th[aria-sort=ascending]::after { content: " ▲"; }
table.sortable th[aria-sort=descending]::after { content: " ▼"; }
.scroll { max-height: 32rem; overflow: auto; border: 1px solid var(--line); }
figure { margin: 1.2rem 0; background: #fff; border: 1px solid var(--line);
         border-radius: 6px; padding: 0.6rem; }
figure svg { display: block; height: auto; }
figcaption { color: var(--ink); margin-top: 0.3rem; }
figcaption b { margin-right: 0.4rem; }
.quiet { color: var(--muted); font-size: 0.9rem; }
.bad { color: #a3320b; }
"""

#: Sorts a table on a click of its header: by each cell's data-v where every compared cell
#: has one (numbers), else by text; a second click reverses.
SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (tbl) {
  tbl.querySelectorAll("th").forEach(function (th, col) {
    th.addEventListener("click", function () {
      var up = th.getAttribute("aria-sort") !== "ascending";
      tbl.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", up ? "ascending" : "descending");
      var body = tbl.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col], y = b.cells[col];
        var vx = x.getAttribute("data-v"), vy = y.getAttribute("data-v");
        var d = (vx !== null && vy !== null) ? parseFloat(vx) - parseFloat(vy)
          : x.textContent.localeCompare(y.textContent);
        return up ? d : -d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def page(title: str, subtitle: str, nav: list[tuple[str, str]], body: str) -> str:
    """The whole self-contained page."""
    links = "".join(f'<a href="#{esc(a)}">{esc(t)}</a>' for a, t in nav)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p><nav>{links}</nav></header>"
            f"<main>{body}</main><script>{SCRIPT}</script></body></html>\n")
