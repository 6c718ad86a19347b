"""What every command keeps, whatever its input (issue 23): an exit status of 0, 2 (bad
input, with its one line) or 130; no traceback; no hang; nothing written outside its named
outputs; no results folder's data altered by a command that only reads it, and no history
lost by one that resumes it; a broken pipe that changes neither the status nor what is
written. Each broken rule is a ``Finding``: its kind and one line."""

from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from .execute import Outcome
from .sandbox import Sandbox, changes

EXIT_OK = (0, 2, 130)  # docs/experiments.md; 1 is the gate's alone, and the gate is not drawn
DATA_FILES = ("points.csv", "meta.json", "accuracy.csv", "points.damaged.csv")
#: Files a run leaves behind only while it runs, or that only cache what was measured.
TRANSIENT = re.compile(r"(^|/)run\.lock$|^home/|^tmp(/|$)")
NUMBERS_SHOWN = ("predict", "plan", "compare", "sparsity")


@dataclass(frozen=True)
class Finding:
    kind: str  # traceback, bad exit, no message, hang, data changed, history lost,
    #            wrote outside, nan shown, pipe
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def parse(argv) -> object | None:
    """The command line as chainbench parses it, or None where it refuses it."""
    from chainbench.cli import make_parser

    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return make_parser().parse_args(list(argv))
    except SystemExit:
        return None


def outcome_findings(argv, out: Outcome, limit_s: float) -> list[Finding]:
    if out.hung:
        return [Finding("hang", f"still running after {limit_s:.0f} s (killed)")]
    found = []
    text = out.stdout + out.stderr
    if "Traceback (most recent call last)" in text or "Exception ignored" in text:
        lines = [x for x in out.stderr.splitlines() if x.strip() and not x.startswith(" ")]
        found.append(Finding("traceback", lines[-1] if lines else "(no message)"))
    elif out.rc not in EXIT_OK:
        last = (out.stderr.strip().splitlines() or ["(nothing on stderr)"])[-1]
        found.append(Finding("bad exit", f"exit {out.rc}: {last}"))
    elif out.rc == 2 and not out.stderr.strip():
        found.append(Finding("no message", "exit 2 with nothing on stderr"))
    if out.rc == 0 and argv and argv[0] in NUMBERS_SHOWN:
        shown = re.search(r"(?<![\w.])(nan|-?inf)(?![\w])", out.stdout, re.IGNORECASE)
        if shown:
            line = next(x for x in out.stdout.splitlines() if shown.group(0) in x)
            found.append(Finding("nan shown", line.strip()[:120]))
    return found


def _raw_out(argv) -> str | None:
    """The --out value as typed (Path('') and Path('.') are the same path, not the same
    input: '' names no folder)."""
    for i in range(len(argv) - 1, 0, -1):
        if argv[i - 1] == "--out":
            return argv[i]
    return None


def allowed(argv, work: Path):
    """A predicate on absolute paths: may this command write there?"""
    args = parse(argv)
    if args is None:
        return lambda p: False
    command, raw = argv[0], _raw_out(argv)
    roots, siblings = [], None
    if command == "run":
        out = work / "results" if raw is None else work / raw
        roots.append(out)
        siblings = re.compile(re.escape(out.name) + r"-\d+") if raw is not None else None
    elif command == "accuracy":  # into the folder, or a free sibling out-2, … as run does
        out = work / (raw if raw is not None else "results/accuracy")
        roots.append(out)
        siblings = re.compile(re.escape(out.name) + r"-\d+")
    elif command == "fit":
        folder = work / args.results
        roots.append((folder.parent if _is_file(folder) else folder) / "fits.json")
    elif command == "plot":
        roots.append(work / raw if raw is not None else work / args.results / "figures")
    elif command == "report":
        if raw is not None:
            roots.append(work / raw)
        elif len(args.results) == 1:
            roots.append(work / args.results[0] / "report.html")
        else:
            first = work / args.results[0]
            siblings, roots = re.compile(r"report-.*\.html"), [first.parent / "x"]
    if raw == "":  # names no folder: writing into the current one is a bug
        roots = []
    resolved = [_resolve(r) for r in roots]

    def ok(path: Path) -> bool:
        path = _resolve(path)
        for r in resolved:
            if path == r or r in path.parents or (path in r.parents and _is_dir(path)):
                return True
            if siblings is not None:
                inside = [path, *path.parents]
                if any(q.parent == r.parent and siblings.fullmatch(q.name) for q in inside):
                    return True
        return False
    return ok


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long
        return False


def _resolve(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def data_folders(before: dict[str, str]) -> set[str]:
    return {str(Path(p).parent) for p in before if Path(p).name in DATA_FILES}


def resume_targets(argv, work: Path) -> list[Path]:
    """The folders ``run --resume`` may continue: its --out, or without one every results
    folder under results/ (the experiment's name, results/NAME, is in a file)."""
    args, raw = parse(argv), _raw_out(argv)
    if args is None or argv[0] != "run" or not getattr(args, "resume", False) or raw == "":
        return []
    if raw is not None:
        return [_resolve(work / raw)]
    return sorted(_resolve(p.parent) for p in (work / "results").glob("*/*")
                  if p.name in ("points.csv", "meta.json"))


def write_findings(argv, box: Sandbox, before: dict, after: dict, blobs: dict) -> list[Finding]:
    """Data changed, history lost, or written outside the named outputs; ``blobs`` holds the
    data files of each folder a resume may continue (resume_targets), as they were."""
    folders = data_folders(before)
    may_write = allowed(argv, box.work)
    found, hurt = [], set()
    # a data file that was there and changed says more than one created beside it
    for rel in sorted(changes(before, after), key=lambda r: r not in before):
        path = box.root / rel
        if TRANSIENT.search(rel):
            continue
        folder = str(Path(rel).parent)
        if Path(rel).name in DATA_FILES and folder in folders:
            where = _resolve(box.root / folder)
            if where in blobs:
                continue  # its rows may grow: history_findings checks none was lost
            if folder not in hurt:
                hurt.add(folder)
                found.append(Finding("data changed", f"{rel} {_how(before, after, rel)}"))
        elif not may_write(path):
            found.append(Finding("wrote outside", f"{rel} {_how(before, after, rel)}"))
    for folder, old in blobs.items():
        found += history_findings(folder, old)
    outside = [f for f in found if f.kind == "wrote outside"]
    return [f for f in found if f.kind != "wrote outside"] + outside[:3]


def _how(before, after, rel) -> str:
    return "created" if rel not in before else "removed" if rel not in after else "changed"


def history_findings(folder: Path, blobs: dict) -> list[Finding]:
    """A resumed folder keeps every line of its points.csv (in it or set aside in
    points.damaged.csv) and every run of its meta.json."""
    old_points, old_meta = blobs.get("points.csv"), blobs.get("meta.json")
    found = []
    if old_points and folder.exists():
        now = b"".join((folder / f).read_bytes() for f in ("points.csv", "points.damaged.csv")
                       if (folder / f).exists())
        lost = [x for x in old_points.splitlines()[1:] if x.strip(b"\r") and x.strip(b"\r")
                not in now]
        if lost:
            found.append(Finding("history lost", f"{len(lost)} line(s) of points.csv gone, "
                                 f"e.g. {lost[0][:60]!r}"))
    runs = _runs(old_meta)
    if runs and folder.exists():
        kept = _runs((folder / "meta.json").read_bytes() if (folder / "meta.json").exists()
                     else None) or []
        starts = {r.get("started_at") for r in kept}
        gone = [r.get("started_at") for r in runs if r.get("started_at") not in starts]
        if gone:
            found.append(Finding("history lost", f"meta.json lost the run(s) started {gone}"))
    return found


def _runs(data: bytes | None) -> list[dict] | None:
    try:
        runs = json.loads(data)["runs"]
    except (TypeError, ValueError, KeyError):
        return None
    return [r for r in runs if isinstance(r, dict)] if isinstance(runs, list) else None


def pipe_findings(plain: Outcome, piped: Outcome, plain_files: dict, piped_files: dict,
                  before: dict) -> list[Finding]:
    """``… | head -1`` must end as the command does without the pipe and write the same."""
    if piped.hung or plain.hung:
        return [Finding("hang", "piped run still running at the limit")] if piped.hung else []
    found = []
    if piped.rc != plain.rc:
        found.append(Finding("pipe", f"exit {piped.rc} with stdout closed after one line, "
                             f"{plain.rc} without"))
    if "Traceback (most recent call last)" in piped.stderr:
        found.append(Finding("traceback", "piped: " + piped.stderr.strip().splitlines()[-1]))
    made = {p for p in changes(before, plain_files) if not TRANSIENT.search(p)}
    made_piped = {p for p in changes(before, piped_files) if not TRANSIENT.search(p)}
    if made != made_piped:
        diff = sorted(made ^ made_piped)[:3]
        found.append(Finding("pipe", f"piped run wrote other files: {diff}"))
    for rel in sorted(made & made_piped):
        rows, rows_piped = _rows(plain_files.get(rel)), _rows(piped_files.get(rel))
        if rows != rows_piped:
            found.append(Finding("pipe", f"{rel}: {rows_piped} lines piped, {rows} without"))
    return found


def _rows(value: str | None) -> int | None:
    """The line count a snapshot keeps for a points.csv ('HASH:LINES')."""
    return int(value.split(":")[1]) if value and value.count(":") == 1 and \
        value.split(":")[1].isdigit() else None
