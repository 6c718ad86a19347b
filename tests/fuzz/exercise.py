"""One input, end to end: a fresh sandbox copied from the template, the case's setup, the
command run (and, for a piped case, run again in a second sandbox as ``… | head -1``), every
invariant checked, the sandbox removed."""

from __future__ import annotations

from pathlib import Path

from . import sandbox
from .cases import Case
from .execute import run_forked, run_piped
from .invariants import (Finding, outcome_findings, pipe_findings, resume_targets,
                         write_findings)

#: Files of a resumed folder whose history is checked afterwards.
HISTORY = ("points.csv", "meta.json")


def _prepared(case: Case, template: sandbox.Sandbox, base: Path):
    box = sandbox.copy(template, base)
    case.prepare(box.work, box.home)
    return box, sandbox.snapshot(box)


def exercise(case: Case, template: sandbox.Sandbox, base: Path, *, piped: bool = False
             ) -> list[Finding]:
    """The findings of ``case``: empty where every invariant holds."""
    box, before = _prepared(case, template, base)
    try:
        blobs = _resume_blobs(case, box)
        out = run_forked(case.argv, box, case.limit_s)
        after = sandbox.snapshot(box)
        found = outcome_findings(case.argv, out, case.limit_s)
        found += write_findings(case.argv, box, before, after, blobs)
        if piped and not out.hung:
            other, _ = _prepared(case, template, base)
            try:
                piped_out = run_piped(case.argv, other, case.limit_s)
                found += pipe_findings(out, piped_out, after, sandbox.snapshot(other), before)
            finally:
                other.remove()
        return found
    finally:
        box.remove()


def _resume_blobs(case: Case, box: sandbox.Sandbox) -> dict[Path, dict[str, bytes]]:
    """points.csv and meta.json of each folder ``run --resume`` may continue, as they were."""
    blobs = {}
    for folder in resume_targets(case.argv, box.work):
        blobs[folder] = {}
        for name in HISTORY:
            try:
                blobs[folder][name] = (folder / name).read_bytes()
            except OSError:
                pass
    return blobs


def describe(case: Case, found: list[Finding]) -> str:
    """The input and what it broke, in lines a reader can replay by hand."""
    lines = [f"input: {case.shell()}"]
    lines += [f"  setup: {step!r}" for step in case.setup]
    lines += [f"  found {f}" for f in found]
    return "\n".join(lines)
