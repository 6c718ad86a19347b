"""Small HTML pieces for Jupyter's rich display (``_repr_html_``): a heading, a table of
key/value pairs, a DataFrame as a table. Everything shown is escaped."""

from __future__ import annotations

from html import escape


def heading(text: str, note: str = "") -> str:
    """A bold title, and a muted note after it."""
    extra = f" <span style='color:#666'>{escape(note)}</span>" if note else ""
    return f"<p><b>{escape(text)}</b>{extra}</p>"


def pairs(items) -> str:
    """A two-column table of (name, value) pairs."""
    rows = "".join(f"<tr><th style='text-align:left'>{escape(str(k))}</th>"
                   f"<td style='text-align:left'>{escape(str(v))}</td></tr>" for k, v in items)
    return f"<table>{rows}</table>"


def frame(df, max_rows: int = 30) -> str:
    """``df`` as an HTML table (pandas escapes the cells), at most ``max_rows`` rows."""
    if df is None or not len(df):
        return "<p><i>(no rows)</i></p>"
    return df.to_html(index=False, max_rows=max_rows, float_format=lambda v: f"{v:.4g}",
                      na_rep="", border=0)
