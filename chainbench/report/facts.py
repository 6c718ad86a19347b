"""What a report says about one results folder, gathered as plain data before any HTML is
written: the experiment, the machine and versions of its latest run, the tally of its points,
the fitted figures (exponents, crossovers, J/F, the time model's error, auto's regret), and
every figure the points support, drawn as SVG with its caption."""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..errors import ConfigError
from ..harness.analysis import tables as analysis
from ..harness.storage.results import META


@dataclass
class Drawn:
    name: str
    label: str
    caption: str
    svg: str  # inline <svg> element, its ids made unique to this figure


@dataclass
class RunFacts:
    folder: Path
    experiment: str
    description: str
    meta: dict  # meta.json
    latest: dict  # its latest run's entry
    points: pd.DataFrame
    tally: dict
    tables: dict[str, pd.DataFrame]  # analysis.summary, plus "j_over_f"
    figures: list[Drawn] = field(default_factory=list)
    not_drawn: list[tuple[str, str]] = field(default_factory=list)  # (label, why)

    @property
    def title(self) -> str:
        return f"{self.experiment} ({self.folder.name})" if self.folder.name != \
            self.experiment else self.experiment


def gather(folder, with_figures: bool = True) -> RunFacts:
    """The facts of the results folder ``folder``; ConfigError if it is not one."""
    folder = Path(folder)
    points = analysis.load(folder)  # ConfigError with the reason when it is no results folder
    try:
        meta = json.loads((folder / META).read_text())
    except (OSError, ValueError):
        meta = {}
    if not isinstance(meta, dict):
        raise ConfigError(f"{folder / META}: not a JSON object")
    runs = [r for r in as_rows(meta.get("runs")) if isinstance(r, dict)]
    tables = analysis.summary(points)
    tables["j_over_f"] = j_over_f_table(points)
    tables.update(second_order_tables(points))
    facts = RunFacts(folder, str(meta.get("experiment") or folder.name),
                     str(meta.get("description") or ""), meta, runs[-1] if runs else {},
                     points, analysis.tally(points), tables)
    if with_figures:
        facts.figures, facts.not_drawn = draw_figures(points)
    return facts


def j_over_f_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per mode and depth, for gradients (m = 1, default chunk): J/F at the smallest and
    the largest n measured."""
    if "j_over_f" not in df.columns or "status" not in df.columns:
        return pd.DataFrame()
    ok = df[(df["status"] == "ok") & (df["m"] == 1)]
    if "quantity" in ok.columns:  # a Hessian's time over F is no J/F
        ok = ok[ok["quantity"].astype(str) == "jacobian"]
    if "chunk_spec" in ok.columns:
        ok = ok[ok["chunk_spec"].astype(str) == "default"]
    rows = []
    for (mode, depth), g in ok.groupby(["mode", "depth"], sort=False):
        g = g.sort_values("n")
        rows.append({"mode": mode, "depth": int(depth), "n from": int(g["n"].iloc[0]),
                     "J/F there": float(g["j_over_f"].iloc[0]), "n to": int(g["n"].iloc[-1]),
                     "J/F at n to": float(g["j_over_f"].iloc[-1])})
    return pd.DataFrame(rows)


def second_order_tables(df: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The second-order tables, where the rows hold Hessians or HVPs: HVP ÷ gradient per
    mode and n ('hvp_over_g'), the bracketing's speed-up measured and predicted
    ('hessian_bracketing') and chainbench's best against the best peer ('hessian_vs_peers')."""
    if "quantity" not in df.columns or not df["quantity"].isin(["hessian", "hvp"]).any():
        return {}
    from ..plots.second_order import best_vs_peer_table, bracketing_table

    ok = df[(df["status"] == "ok") & (df["quantity"] == "hvp")]
    ratio = ok[["mode", "n", "depth", "time_median_s", "g_time_s", "hvp_over_g"]] \
        .sort_values(["mode", "n"]) if "hvp_over_g" in ok.columns else pd.DataFrame()
    return {"hvp_over_g": ratio.reset_index(drop=True),
            "hessian_bracketing": bracketing_table(df), "hessian_vs_peers": best_vs_peer_table(df)}


def draw_figures(df: pd.DataFrame) -> tuple[list[Drawn], list[tuple[str, str]]]:
    """Every figure the points support as inline SVG, and (label, why) for the others."""
    from matplotlib import rc_context

    from .. import plots

    drawn, skipped = [], []
    # text stays text (small files, selectable), ids are stable so a report redraws the same
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "chainbench"}):
        for spec in plots.FIGURES.values():
            try:
                fig = spec.draw(df)
            except plots.CannotPlot as err:
                skipped.append((spec.label, str(err).removeprefix(f"{spec.label}: ")))
                continue
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None})
            drawn.append(Drawn(spec.name, spec.label, spec.caption,
                               inline_svg(buffer.getvalue(), spec.name)))
    return drawn, skipped


_ID = re.compile(r'\bid="([^"]+)"')


def inline_svg(text: str, prefix: str) -> str:
    """An SVG file's <svg> element fit to sit in an HTML page beside others: the XML prolog
    and doctype dropped, every id (clip paths, glyphs) and each reference to it prefixed,
    so two figures' ids cannot collide, and the fixed size made responsive."""
    start = text.index("<svg")
    svg = text[start:]
    for name in set(_ID.findall(svg)):
        new = f"{prefix}-{name}"
        svg = svg.replace(f'id="{name}"', f'id="{new}"').replace(f"#{name})", f"#{new})")
        svg = svg.replace(f'href="#{name}"', f'href="#{new}"')
    svg = re.sub(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"',
                 lambda m: f'<svg{m.group(1)} width="100%" style="max-width:{m.group(2)}pt"'
                           f' role="img" aria-label="{prefix}"',
                 svg, count=1)
    return svg


def machine_lines(latest: dict) -> list[tuple[str, str]]:
    """(what, value) pairs describing the machine and software of a run's entry; a value of
    another JSON type than chainbench writes (an edited or damaged meta.json) shows as
    unknown rather than failing the report."""
    machine, profile = as_table(latest.get("machine")), as_table(latest.get("profile"))
    versions, caches = as_table(latest.get("versions")), as_table(machine.get("caches"))
    out = [("CPU", f"{machine.get('cpu_model', '?')}, {machine.get('cores', '?')} cores"),
           ("host", f"{machine.get('hostname', '?')} · {machine.get('platform', '?')}")]
    if caches:
        out.append(("caches", ", ".join(f"{k} {_bytes(v)}" for k, v in caches.items())))
    if profile:
        rates = [pair[1] for pair in as_rows(profile.get("gemm"))
                 if isinstance(pair, list | tuple) and len(pair) == 2 and _number(pair[1])]
        gemm = max(rates, default=float("nan"))
        out.append(("profile", f"call overhead {_seconds(profile.get('call_overhead_s'))}, "
                    f"peak GEMM {gemm / 1e9:.3g} Gmadd/s (one thread), calibrated "
                    f"{profile.get('created', '?')}"))
    threads = as_table(latest.get("threads"))
    if threads:
        out.append(("threads", f"Numba {threads.get('numba_threads', '?')}; BLAS " + ", ".join(
            f"{b.get('library')} {b.get('threads')}" if isinstance(b, dict) else str(b)
            for b in as_rows(threads.get("blas")))))
    if versions:
        out.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    peers = {k: v for k, v in as_table(latest.get("peer_versions")).items() if v}
    if peers:
        out.append(("peers", ", ".join(f"{k} {v}" for k, v in peers.items())))
    out.append(("commit", str(latest.get("git_commit") or "unknown")))
    out.append(("ran", f"{latest.get('started_at', '?')} → {latest.get('ended_at', '?')}"))
    return out


def as_table(value) -> dict:
    """A JSON object of meta.json as read, or {} where it holds another type."""
    return value if isinstance(value, dict) else {}


def as_rows(value) -> list:
    """A JSON array of meta.json as read, or [] where it holds another type."""
    return value if isinstance(value, list) else []


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _seconds(s) -> str:
    if not _number(s) or not math.isfinite(s):
        return "?"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if s >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def _bytes(b) -> str:
    if not _number(b) or not math.isfinite(b):
        return str(b)
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if b >= scale:
            return f"{b / scale:.3g} {unit}"
    return f"{b:.0f} B"
