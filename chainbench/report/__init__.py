"""An HTML report of one results folder, or of several side by side: one self-contained
file (figures inline as SVG, a few lines of script to sort the raw table, nothing fetched
when it opens) saying what ran, where, what was found and how the points went.

    >>> from chainbench.report import write_report
    >>> write_report(["results/quick"], "quick.html")
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigError
from .facts import RunFacts, as_table, gather
from .html import page, section
from .sections import comparison, run_sections

__all__ = ["RunFacts", "build_report", "default_out", "gather", "write_report"]


def build_report(folders) -> str:
    """The report's HTML text for the results folders ``folders`` (one or more)."""
    runs = [gather(f) for f in folders]
    if not runs:
        raise ConfigError("give at least one results directory")
    anchors = _anchors(runs)
    if len(runs) == 1:
        (run,) = runs
        nav = [(f"{anchors[0]}-{part}", title) for part, title in _PARTS]
        return page(f"chainbench report: {run.title}", _subtitle(run), nav,
                    run_sections(run, anchors[0]))
    nav = [("compare", "comparison")] + [(a, r.title) for a, r in zip(anchors, runs)]
    body = section("compare", "The runs side by side", comparison(runs))
    body += "".join(section(a, r.title, run_sections(r, a, level=2))
                    for a, r in zip(anchors, runs))
    title = "chainbench report: " + " vs ".join(r.title for r in runs)
    return page(title, f"{len(runs)} runs compared", nav, body)


_PARTS = (("machine", "machine"), ("points", "points"), ("fits", "fitted figures"),
          ("figures", "figures"), ("raw", "raw table"))


def _anchors(runs: list[RunFacts]) -> list[str]:
    out = []
    for k, r in enumerate(runs):
        base = "".join(c if c.isalnum() else "-" for c in r.folder.name) or "run"
        out.append(base if base not in out else f"{base}-{k}")
    return out


def _subtitle(run: RunFacts) -> str:
    machine = as_table(run.latest.get("machine")).get("cpu_model", "an unnamed machine")
    when = run.latest.get("started_at", "")
    return f"{run.folder} · measured on {machine}" + (f" · {when}" if when else "")


def default_out(folders) -> Path:
    """report.html inside the one folder given; report-A-vs-B.html beside several."""
    folders = [Path(f) for f in folders]
    if len(folders) == 1:
        return folders[0] / "report.html"
    return folders[0].parent / ("report-" + "-vs-".join(f.name for f in folders) + ".html")


def write_report(folders, out=None) -> Path:
    """Write the report of ``folders`` to ``out`` (default ``default_out``); its path."""
    text = build_report(folders)
    path = Path(out) if out is not None else default_out(folders)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; give the report's file name with --out")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot write the report ({err.strerror or err})") from None
    return path
