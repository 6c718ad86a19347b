"""Results on disk: results/<experiment>/points.csv (one row per point and mode, appended
as each finishes) and meta.json (provenance of every run). Nothing is overwritten: a
second run goes to a new folder unless it resumes. See docs/results.md.

A folder has one owner at a time (``run.lock``, see ``lock``) and knows its experiment
(meta.json's name): ``ResultsDir.open_for_run`` claims a fresh folder atomically, or
resumes one after checking whose it is and repairing its points.csv — rows cut mid-write
or garbled are moved to points.damaged.csv, never dropped, and measured again.
"""

from __future__ import annotations

import csv
import errno
import io
import itertools
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import ConfigError
from .lock import FolderLock, Held
from .provenance import now

COLUMNS = (
    "experiment", "point", "series", "n", "m", "depth", "width", "widths", "activation", "seed",
    "mode", "chunk_spec", "snapshots_spec", "engine", "chunk", "snapshots", "threads", "status", "reason", "check_error",
    "compile_s", "time_min_s", "time_median_s", "time_iqr_s", "samples", "inner_loops",
    "f_time_s", "j_over_f", "madds_predicted", "madds_counted", "madds_value", "madds_tangent",
    "madds_adjoint", "madds_accumulate", "madds_slides", "sweeps_forward", "sweeps_backward",
    "layer_steps", "bytes_predicted", "bytes_counted", "bytes_tape", "bytes_work",
    "bytes_snapshots", "bytes_output", "bytes_measured", "working_set_bytes", "memory_level",
    "wall_s",
    "worker", "cpu_model", "finished_at",
)
KEY_COLUMNS = ("n", "m", "depth", "width", "activation", "seed", "mode", "chunk_spec",
               "snapshots_spec")
#: Columns holding text; every other column holds a number or nothing.
TEXT_COLUMNS = frozenset((
    "experiment", "series", "width", "widths", "activation", "mode", "chunk_spec",
    "snapshots_spec", "engine", "status", "reason", "memory_level", "worker", "cpu_model",
    "finished_at"))
INT_COLUMNS = ("point", "n", "m", "depth", "seed")
POINTS, META, DAMAGED = "points.csv", "meta.json", "points.damaged.csv"
#: Every folder of a fresh run is ``out`` or ``out-K`` for K up to this.
MAX_SIBLINGS = 10_000

_HEADER = ",".join(COLUMNS) + "\r\n"  # as csv.DictWriter writes it
_BAD_CHARS = re.compile("[\x00\udc80-\udcff]")  # NUL, or a byte that is not UTF-8


def row_key(row: dict) -> tuple:
    return (int(row["n"]), int(row["m"]), int(row["depth"]), str(row["width"]),
            row["activation"], int(row["seed"]), row["mode"], str(row["chunk_spec"]),
            str(row["snapshots_spec"]))


# --- reading points.csv, damaged or not ----------------------------------------------------


@dataclass(frozen=True)
class SetAside:
    """Lines of points.csv that are not a row: where they were, why, and their text."""

    line: int  # first line, counting from 1 (the header is line 1)
    lines: int  # how many lines
    why: str
    text: str  # as in the file (bytes that are not UTF-8 kept as surrogate escapes)

    def where(self) -> str:
        return f"line {self.line}" if self.lines == 1 else \
            f"lines {self.line}-{self.line + self.lines - 1}"


@dataclass
class Scan:
    """points.csv split into its header, its rows (text as written) and what is not a row."""

    header: list[str] | None = None  # None: empty file or a header cut mid-write
    rows: list[str] = field(default_factory=list)
    damaged: list[SetAside] = field(default_factory=list)
    empty: bool = False

    @property
    def foreign(self) -> bool:
        """A complete header that is not this version's columns."""
        return self.header is not None and tuple(self.header) != COLUMNS


def _row_problem(fields: list[str]) -> str | None:
    """Why parsed fields are not a row of this version's points.csv, or None."""
    if not fields or fields == [""]:
        return "blank line"
    if len(fields) != len(COLUMNS):
        return f"{len(fields)} fields, not {len(COLUMNS)}"
    row = dict(zip(COLUMNS, fields))
    for col in INT_COLUMNS:
        try:
            int(row[col])
        except ValueError:
            return f"{col} = {row[col][:20]!r} is not an integer"
    for col, value in row.items():
        if col in TEXT_COLUMNS or value == "":
            continue
        try:
            float(value)
        except ValueError:
            return f"{col} = {value[:20]!r} is not a number"
    if not row["mode"] or not row["status"]:
        return "no mode or status"
    return None


def scan(file: Path) -> Scan:
    """Read points.csv record by record; a record that is cut (no line end), holds NUL or
    bytes that are not UTF-8, or does not parse into this version's typed columns is
    damaged. Raises OSError if the file cannot be read."""
    raw = Path(file).read_bytes()
    out = Scan(empty=not raw)
    if not raw:
        return out
    text = raw.decode("utf-8", errors="surrogateescape")
    lines = list(io.StringIO(text, newline=""))  # split at \r\n, \n or \r, ends kept
    bad: list[tuple[int, str]] = []  # (line index, why), merged into SetAside below

    def record(i: int) -> tuple[list[str] | None, int, str | None]:
        reader = csv.reader(itertools.islice(lines, i, None), strict=True)
        try:
            fields = next(reader)
        except (csv.Error, StopIteration) as err:
            return None, max(reader.line_num, 1), f"not CSV ({err})"
        used = max(reader.line_num, 1)
        chunk = "".join(lines[i:i + used])
        if _BAD_CHARS.search(chunk):
            return fields, used, "holds NUL or bytes that are not UTF-8"
        if not chunk.endswith(("\n", "\r")):
            return fields, used, "cut mid-write (no line end)"
        return fields, used, None

    fields, used, why = record(0)
    i = used
    if why is None and fields:
        out.header = fields
        if out.foreign:
            return out  # a file of another version: not ours to judge
    else:
        bad.extend((k, why or "blank header") for k in range(used))
    while i < len(lines):
        fields, used, why = record(i)
        why = why or _row_problem(fields)
        if why is None:
            out.rows.append("".join(lines[i:i + used]))
            i += used
        else:  # only the first line is condemned: a stray quote must not swallow good rows
            bad.append((i, why))
            i += 1
    for k, why in bad:
        last = out.damaged[-1] if out.damaged else None
        if last is not None and last.line + last.lines - 1 == k and last.why == why:
            out.damaged[-1] = SetAside(last.line, last.lines + 1, why, last.text + lines[k])
        else:
            out.damaged.append(SetAside(k + 1, 1, why, lines[k]))
    return out


def _os_error(what: str, path: Path, err: OSError) -> ConfigError:
    """An OSError met while writing results as one line: the path, the cause, what to do."""
    hint = {
        errno.EACCES: "make it writable (chmod u+w) or choose another folder with --out",
        errno.EPERM: "choose another folder with --out",
        errno.EROFS: "the file system is read-only: choose another folder with --out",
        errno.ENOSPC: "the disk is full: free some space, then continue with --resume",
        errno.ENOTDIR: "a part of the path is a file, not a folder: choose another --out",
        errno.EEXIST: "a part of the path is a file, not a folder: choose another --out",
        errno.ENOENT: "a part of the path does not exist and cannot be created there: "
                      "choose another --out",
    }.get(err.errno, "choose another folder with --out")
    return ConfigError(f"{path}: cannot {what} ({err.strerror or err}); {hint}")


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
            raise _os_error("create or write the results folder", Path(err.filename or out),
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
        if not out.is_dir() or not folder._has_results():
            raise ConfigError(f"{out}: nothing to resume (no {POINTS}); run without --resume")
        try:
            folder._own()
        except Held as held:
            raise ConfigError(
                f"{out}: another run is writing here ({held.holder.describe()}); let it "
                f"finish, or if it is gone delete {held.path} and resume again") from None
        try:
            if experiment is not None:
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
        when = now()
        if found.damaged:
            new = not self.damaged_file.exists()
            with self.damaged_file.open("a", encoding="utf-8", errors="surrogateescape",
                                        newline="") as fh:
                if new:
                    fh.write("# rows set aside from points.csv by `chainbench run --resume`; "
                             "their points were measured again\n")
                for part in found.damaged:
                    fh.write(f"# {when} {POINTS} {part.where()}: {part.why}\n")
                    fh.write(part.text if part.text.endswith(("\n", "\r")) else part.text + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        tmp = self.points_file.with_name(f"{POINTS}.{os.getpid()}.tmp")
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            fh.write(_HEADER)
            fh.writelines(found.rows)
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.points_file)
        if found.damaged:
            where = ", ".join(f"{p.where()} ({p.why})" for p in found.damaged)
            self.notes.append(f"{POINTS}: set aside {where} in {DAMAGED}; "
                              "their points are measured again")
        elif found.empty:
            self.notes.append(f"{POINTS} was empty: header written")
        return found.damaged

    def _foreign_error(self) -> ConfigError:
        return ConfigError(f"{self.points_file}: columns differ from this version's; "
                           "resume with the version that wrote it or use --out")

    # --- rows ----------------------------------------------------------------------------------

    def _rows(self) -> list[dict]:
        if not self.points_file.exists():
            return []
        found = scan(self.points_file)
        if found.foreign:
            raise self._foreign_error()
        return [dict(zip(COLUMNS, fields)) for fields in csv.reader(found.rows)]

    def done_keys(self) -> set[tuple]:
        return {row_key(row) for row in self._rows()}

    def next_point_id(self) -> int:
        """One more than the largest point id (rows set aside may leave gaps)."""
        return max((int(row["point"]) + 1 for row in self._rows()), default=0)

    def append(self, row: dict) -> None:
        """Append one row and flush it to disk, so a crash loses at most the point in flight."""
        text = io.StringIO(newline="")
        csv.DictWriter(text, fieldnames=COLUMNS, extrasaction="raise").writerow(
            {k: row.get(k, "") for k in COLUMNS})
        try:
            with self.points_file.open("a+b") as fh:
                size = fh.seek(0, os.SEEK_END)
                head = b""
                if size == 0:
                    head = _HEADER.encode()
                else:  # never glue a row onto a line cut mid-write
                    fh.seek(size - 1)
                    if fh.read(1) not in (b"\n", b"\r"):
                        head = b"\r\n"
                fh.write(head + text.getvalue().encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as err:
            raise _os_error("append a row", self.points_file, err) from None

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
            raise _os_error("read", self.meta_file, err) from None
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
            raise _os_error("write", self.meta_file, err) from None


def load_points(path) -> pd.DataFrame:
    """points.csv of a results folder as a DataFrame; ConfigError if it is not one.

    Damaged rows (cut mid-write, garbled) are left out, never guessed at; ``df.attrs
    ["damaged"]`` lists them (``SetAside``) so that callers can say so. The file itself is
    not changed: ``chainbench run --resume`` repairs it.
    """
    path = Path(path)
    file = path / POINTS if path.is_dir() else path
    if not path.exists():
        raise ConfigError(f"{path}: no such results directory")
    if not file.exists() or file.name != POINTS:
        raise ConfigError(f"{path}: not a results directory (no {POINTS}); "
                          "run `chainbench run` first")
    try:
        found = scan(file)
    except OSError as err:
        raise _os_error("read", file, err) from None
    if found.empty:
        raise ConfigError(f"{file}: empty, no row written yet; continue the run with "
                          f"`chainbench run EXPERIMENT --out {path} --resume`")
    damaged: list[SetAside] = []
    if found.foreign:
        source = file  # a file of another version: pandas reads what it can
    else:
        source = io.StringIO(_HEADER + "".join(found.rows), newline="")
        damaged = found.damaged
    try:
        df = pd.read_csv(source)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ConfigError(f"{file}: unreadable: {err}") from None
    missing = [c for c in KEY_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"{file}: not a chainbench points file (missing {', '.join(missing)})")
    df.attrs["damaged"] = damaged
    return df


def damaged_warning(df: pd.DataFrame, path) -> str | None:
    """One line saying which rows ``load_points`` left out, or None."""
    damaged = df.attrs.get("damaged") or []
    if not damaged:
        return None
    where = ", ".join(f"{p.where()} ({p.why})" for p in damaged[:3])
    more = f" and {len(damaged) - 3} more" if len(damaged) > 3 else ""
    return (f"{path}: left out damaged {POINTS} {where}{more}; `chainbench run EXPERIMENT "
            f"--out {path} --resume` sets them aside and measures them again")
