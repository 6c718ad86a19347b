"""One fuzzing input: the command line, the steps that prepare the sandbox before it runs
(files written, folders copied and damaged) and its time limit. Its repr is the whole input,
so a failure printed is a failure replayable by hand."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from . import damage

#: Seconds a command may take before it counts as hung; generous, so a loaded machine never
#: turns a slow correct command into a finding (the valid inputs all take seconds).
LIMIT_S = 60.0
#: A damaged profile is measured again (a calibration: tens of seconds on a loaded machine).
CALIBRATION_LIMIT_S = 240.0


@dataclass(frozen=True)
class Write:
    """Write ``text`` to ``path`` (relative to the work folder)."""

    path: str
    text: str

    def apply(self, work: Path, home: Path) -> None:
        (work / self.path).parent.mkdir(parents=True, exist_ok=True)
        (work / self.path).write_text(self.text)


@dataclass(frozen=True)
class Copy:
    """Copy the folder ``src`` to ``dst`` (both in the work folder)."""

    src: str
    dst: str

    def apply(self, work: Path, home: Path) -> None:
        shutil.copytree(work / self.src, work / self.dst)


@dataclass(frozen=True)
class Damage:
    """Damage a file of the work folder: ``what`` is 'points' or 'meta' (damage.points,
    damage.meta), ``how``, ``arg`` and ``k`` their arguments."""

    path: str
    what: str
    how: str
    arg: str = ""
    k: int = 0

    def apply(self, work: Path, home: Path) -> None:
        _rewrite(work / self.path, self.what, self.how, self.arg, self.k)


@dataclass(frozen=True)
class DamageProfile:
    """Damage the machine profile in the sandbox's profile cache (damage.profile)."""

    how: str
    k: int = 0

    def apply(self, work: Path, home: Path) -> None:
        for file in sorted((home / ".cache" / "chainbench").glob("profile-*.json")):
            _rewrite(file, "profile", self.how, "", self.k)


def _rewrite(file: Path, what: str, how: str, arg: str, k: int) -> None:
    if not file.exists():
        return
    data = file.read_bytes()
    if what == "points":
        new = damage.points(data, how, arg, k)
    elif what == "meta":
        new = damage.meta(data, how)
    else:
        new = damage.profile(data, how, k)
    if new is None:
        file.unlink()
    else:
        file.write_bytes(new)


@dataclass(frozen=True)
class Case:
    """``chainbench ARGV`` run in a sandbox prepared by ``setup``."""

    argv: tuple[str, ...]
    setup: tuple = field(default=())
    limit_s: float = LIMIT_S

    def prepare(self, work: Path, home: Path) -> None:
        for step in self.setup:
            step.apply(work, home)

    def shell(self) -> str:
        """The command as one would type it."""
        import shlex

        return "chainbench " + " ".join(shlex.quote(a) for a in self.argv)
