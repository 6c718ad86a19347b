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


#: Longest default file name: file systems refuse names past 255 bytes.
MAX_NAME = 120


def default_out(folders) -> Path:
    """report.html inside the one folder given; report-A-vs-B.html beside several (with
    long folder names, shortened and told apart by a hash of the full ones)."""
    import hashlib

    folders = [Path(f) for f in folders]
    if len(folders) == 1:
        return folders[0] / "report.html"
    names = [f.name for f in folders]
    name = "report-" + "-vs-".join(names) + ".html"
    if len(name.encode()) > MAX_NAME:
        digest = hashlib.sha256("\0".join(map(str, folders)).encode()).hexdigest()[:10]
        short = "-vs-".join(n[:16] for n in names[:3]) + ("-vs-more" if len(names) > 3 else "")
        name = f"report-{short}-{digest}.html"
    return folders[0].parent / name


def write_report(folders, out=None) -> Path:
    """Write the report of ``folders`` to ``out`` (default ``default_out``); its path.
    Refused (ConfigError) before anything is written: a folder, or an existing file that
    is not a chainbench report (a results folder's points.csv, meta.json, …), as ``out``."""
    text = build_report(folders)
    path = Path(out) if out is not None else default_out(folders)
    try:
        if path.is_dir():
            raise ConfigError(f"{path}: is a directory; give the report's file name with --out")
        if path.exists() and not _is_report(path):
            raise ConfigError(f"{path}: exists and is not a chainbench report, which writing "
                              "the report would overwrite; choose another --out")
    except OSError as err:
        raise ConfigError(f"{path}: cannot write the report ({err.strerror or err})") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot write the report ({err.strerror or err})") from None
    return path


def _is_report(path: Path) -> bool:
    """Whether ``path`` holds a report this package wrote (its page's opening)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return head.startswith(b"<!DOCTYPE html>") and b"<title>chainbench report" in head
