"""A results folder, results/<experiment>/: its points.csv (one row per point and mode,
appended as each finishes; the file itself is ``points_csv``'s) and meta.json (provenance of
every run). Nothing is overwritten: a second run goes to a new folder unless it resumes.
See docs/results.md.

A folder has one owner at a time (``run.lock``, see ``lock``) and knows its experiment
(meta.json's name): ``ResultsDir.open_for_run`` claims a fresh folder atomically, or
resumes one after checking whose it is and repairing its points.csv — rows cut mid-write
or garbled are moved to points.damaged.csv, never dropped, and measured again.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

from ...errors import ConfigError
from ...provenance import now
from . import points_csv
from .lock import FolderLock, Held
from .points_csv import DAMAGED, POINTS, SetAside, os_error, scan
from .row import Row, key_of

META = "meta.json"
#: Every folder of a fresh run is ``out`` or ``out-K`` for K up to this.
MAX_SIBLINGS = 10_000


# --- the folder ------------------------------------------------------------------------------


class ResultsDir:
    """A folder holding one experiment's points.csv and meta.json.

    ``ResultsDir(path)`` only reads and writes; ``open_for_run`` returns one that owns its
    folder (holds ``run.lock``) until ``release()``, the end of a ``with`` block, garbage
    collection or exit. ``notes`` lists what opening it did that the run should record
    (rows set aside, a stale lock taken over).
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self.notes: list[str] = []
        self._lock: FolderLock | None = None

    def __repr__(self) -> str:
        return f"ResultsDir({str(self.path)!r}{', owned' if self.owned else ''})"

    @property
    def points_file(self) -> Path:
        return self.path / POINTS

    @property
    def meta_file(self) -> Path:
        return self.path / META

    @property
    def damaged_file(self) -> Path:
        return self.path / DAMAGED

    @property
    def owned(self) -> bool:
        return self._lock is not None and self._lock.held

    # --- owning ---------------------------------------------------------------------------

    @classmethod
    def open_for_run(cls, out: Path, resume: bool, experiment: str | None = None
                     ) -> ResultsDir:
        """The folder to write into, owned (locked) by the caller until ``release()``:
        ``out`` itself when new or empty; otherwise the first free ``out-2``, ``out-3``, …,
        claimed atomically so that two runs never share one and earlier results are never
        overwritten. With ``resume``, ``out`` itself: refused if another run owns it or it
        holds another ``experiment`` (its name in meta.json, else in its rows), then
        repaired (see ``repair``). Every refusal is a ConfigError saying what to do."""
        out = Path(out)
        if not out.name:  # ".", "/": name its siblings after the real folder
            out = out.resolve()
        try:
            if out.exists() and not out.is_dir():
                raise ConfigError(f"{out}: exists and is not a directory; choose another --out")
            if resume:
                return cls._resume(out, experiment)
            return cls._claim_fresh(out)
        except OSError as err:
            raise os_error("create or write the results folder", Path(err.filename or out),
                            err) from None

    @classmethod
    def _claim_fresh(cls, out: Path) -> ResultsDir:
        out.parent.mkdir(parents=True, exist_ok=True)
        for k in range(1, MAX_SIBLINGS + 1):
            candidate = out if k == 1 else out.with_name(f"{out.name}-{k}")
            try:
                candidate.mkdir()
            except FileExistsError:
                if not candidate.is_dir():
                    continue  # a file of that name
            folder = cls(candidate)
            if folder._has_results():
                continue
            try:
                folder._own()
            except Held:
                continue  # another run's, just claimed
            if folder._has_results():  # filled between the look and the lock
                folder.release()
                continue
            folder._record_notes()
            return folder
        raise ConfigError(f"{out}: {MAX_SIBLINGS} results folders of this name already; "
                          "choose another --out")

    @classmethod
    def _resume(cls, out: Path, experiment: str | None) -> ResultsDir:
        folder = cls(out)
        if not out.is_dir():
            raise ConfigError(f"{out}: nothing to resume (no such folder); run without "
                              "--resume")
        # a folder without results (a run stopped, e.g. by a full disk, before it wrote
        # meta.json) resumes with no row: the run starts there
        try:
            folder._own()
        except Held as held:
            raise ConfigError(
                f"{out}: another run is writing here ({held.holder.describe()}); let it "
                f"finish, or if it is gone delete {held.path} and resume again") from None
        try:
            if experiment is not None and folder._has_results():
                folder.check_experiment(experiment)
            folder.repair()
            folder._record_notes()
        except BaseException:
            folder.release()
            raise
        return folder

    def _record_notes(self) -> None:
        """Say what opening did: on stderr, and in meta.json's warnings if there is one."""
        if not self.notes:
            return
        for note in self.notes:
            print(f"chainbench: warning: {self.path}: {note}", file=sys.stderr)
        if self.meta_file.exists():
            meta = self.read_meta()
            meta.setdefault("warnings", []).extend(f"{now()}: {note}" for note in self.notes)
            self.write_meta(meta)

    def _has_results(self) -> bool:
        return self.points_file.exists() or self.meta_file.exists()

    def _own(self) -> None:
        lock = FolderLock(self.path)
        lock.acquire()
        self._lock = lock
        if lock.note:
            self.notes.append(lock.note)

    def release(self) -> None:
        """Give up the folder (remove its lock); safe to call twice."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ResultsDir:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    # --- identity and repair ----------------------------------------------------------------

    def experiment_names(self) -> set[str]:
        """The experiment this folder holds: meta.json's name, else the names in its rows."""
        meta = self.read_meta()
        if meta.get("experiment"):
            return {str(meta["experiment"])}
        if not self.points_file.exists():
            return set()
        found = scan(self.points_file)
        if found.foreign:
            return set()
        return {next(csv.reader([row]))[0] for row in found.rows}

    def check_experiment(self, experiment: str) -> None:
        """ConfigError if this folder holds another experiment than ``experiment``."""
        others = sorted(self.experiment_names() - {experiment})
        if others:
            raise ConfigError(
                f"{self.path}: holds results of experiment {others[0]!r}, not {experiment!r}; "
                f"resume it with {others[0]!r}'s experiment file, or run {experiment!r} into "
                f"its own folder with --out (e.g. --out results/{experiment})")

    def repair(self) -> list[SetAside]:
        """Make points.csv whole again, returning what was set aside: rows cut mid-write,
        garbled rows (NUL, bytes that are not UTF-8, fields that do not parse) and a cut
        header are appended to points.damaged.csv (each after a ``#`` line saying where it
        was and why) and removed from points.csv, which is rewritten atomically with its
        header and every good row as it was; their points are then measured again. An
        empty points.csv gets its header. A header of other columns is a ConfigError."""
        if not self.points_file.exists():
            return []
        found = scan(self.points_file)
        if found.foreign:
            raise self._foreign_error()
        if found.header is not None and not found.damaged:
            return []
        points_csv.set_aside(self.points_file, found, now())
        damaged = [p for p in found.damaged if not p.repeated]
        repeated = [p for p in found.damaged if p.repeated]
        if damaged:
            where = ", ".join(f"{p.where()} ({p.why})" for p in damaged)
            self.notes.append(f"{POINTS}: set aside {where} in {DAMAGED}; "
                              "their points are measured again")
        if repeated:
            where = ", ".join(f"{p.where()} ({p.why})" for p in repeated)
            self.notes.append(f"{POINTS}: set aside {where} in {DAMAGED}; each point keeps "
                              "its first row")
        elif found.empty:
            self.notes.append(f"{POINTS} was empty: header written")
        return found.damaged

    def _foreign_error(self) -> ConfigError:
        return ConfigError(f"{self.points_file}: columns differ from this version's; "
                           "resume with the version that wrote it or use --out")

    # --- rows ----------------------------------------------------------------------------------

    def _rows(self) -> list[dict]:
        """The good rows of points.csv, each as column -> text."""
        if not self.points_file.exists():
            return []
        found = scan(self.points_file)
        if found.foreign:
            raise self._foreign_error()
        return points_csv.records(found)

    def done_keys(self) -> set[tuple]:
        """``Point.key`` of every point that has a row."""
        return {key_of(record) for record in self._rows()}

    def next_point_id(self) -> int:
        """One more than the largest point id (rows set aside may leave gaps)."""
        return max((int(record["point"]) + 1 for record in self._rows()), default=0)

    def append(self, row: Row) -> None:
        """Append one row and flush it to disk, so a crash loses at most the point in flight."""
        points_csv.append(self.points_file, row)

    # --- meta.json ------------------------------------------------------------------------------

    def read_meta(self) -> dict:
        """meta.json ({} if there is none); a ConfigError saying what to do if it is damaged."""
        try:
            text = self.meta_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except UnicodeDecodeError:
            text = None
        except OSError as err:
            raise os_error("read", self.meta_file, err) from None
        try:
            meta = json.loads(text) if text is not None else None
        except ValueError:
            meta = None
        if not isinstance(meta, dict) or not isinstance(meta.get("runs", []), list):
            raise ConfigError(
                f"{self.meta_file}: damaged (not the JSON chainbench writes), so this folder's "
                f"experiment and runs are unknown; move it aside (mv {self.meta_file} "
                f"{self.meta_file}.damaged) and resume to start a new one, or use --out "
                "elsewhere")
        meta.setdefault("runs", [])
        return meta

    def write_meta(self, meta: dict) -> None:
        """Replace meta.json atomically (a crash leaves the old one or the new one)."""
        tmp = self.meta_file.with_name(f"{META}.{os.getpid()}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                fh.write(json.dumps(meta, indent=2, sort_keys=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            tmp.replace(self.meta_file)
        except OSError as err:
            raise os_error("write", self.meta_file, err) from None
