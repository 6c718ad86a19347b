"""points.csv, the file: read record by record into good rows and damaged lines
(``scan``), a row appended and flushed as it is produced (``append``), damaged lines set
aside in points.damaged.csv and the file rewritten whole (``set_aside``), and the file read
as a DataFrame without its damaged rows (``load_points``). The folder around it, its owner
and its experiment are ``results.ResultsDir``'s."""

from __future__ import annotations

import csv
import errno
import io
import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...errors import ConfigError
from ..experiment.second import FIRST
from .row import COLUMNS, INT_COLUMNS, KEY_COLUMNS, TEXT_COLUMNS, Row, key_of

POINTS, DAMAGED = "points.csv", "points.damaged.csv"

HEADER = ",".join(COLUMNS) + "\r\n"
#: Columns a points file must have to be read (one of another version may lack others):
#: a point's key and how it went; a table or figure that reads more is left out without.
NEEDED = (*KEY_COLUMNS, "status", "reason")  # as csv.DictWriter writes it
_BAD_CHARS = re.compile("[\x00\udc80-\udcff]")  # NUL, or a byte that is not UTF-8


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

    @property
    def repeated(self) -> bool:
        """A good row repeating an earlier one's point: the earlier row stands."""
        return self.why.startswith(REPEATS)


#: The start of the reason a row repeating an earlier row's point id or key is set aside.
REPEATS = "repeats"


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
    ids: dict[int, int] = {}  # point id -> line of its first row (from 1)
    keys: dict[tuple, int] = {}  # Point.key -> line of its first row
    while i < len(lines):
        fields, used, why = record(i)
        why = why or _row_problem(fields)
        if why is None:  # a good row, unless it repeats a point: counted once, never twice
            row = dict(zip(COLUMNS, fields))
            point, key = int(row["point"]), key_of(row)
            if point in ids or key in keys:
                why = (f"{REPEATS} point {point} of line {ids[point]}" if point in ids else
                       f"{REPEATS} the point (same n, m, mode, …) of line {keys[key]}")
                bad.extend((k, why) for k in range(i, i + used))
                i += used
                continue
            ids[point], keys[key] = i + 1, i + 1
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


def os_error(what: str, path: Path, err: OSError, resumable: bool = True) -> ConfigError:
    """An OSError met while writing results as one line: the path, the cause, what to do.
    A full disk says to continue with --resume only where a resume would find a run to
    continue (``resumable``: the writer is a run); else to run the command again."""
    again = ("continue with --resume" if resumable and _has_run(path)
             else "run the command again")
    hint = {
        errno.EACCES: "make it writable (chmod u+w) or choose another folder with --out",
        errno.EPERM: "choose another folder with --out",
        errno.EROFS: "the file system is read-only: choose another folder with --out",
        errno.ENOSPC: f"the disk is full: free some space, then {again}",
        errno.ENOTDIR: "a part of the path is a file, not a folder: choose another --out",
        errno.EEXIST: "a part of the path is a file, not a folder: choose another --out",
        errno.ENOENT: "a part of the path does not exist and cannot be created there: "
                      "choose another --out",
    }.get(err.errno, "choose another folder with --out")
    return ConfigError(f"{path}: cannot {what} ({err.strerror or err}); {hint}")


def _has_run(path: Path) -> bool:
    """Whether ``path`` (a results folder, or a file in one) holds what --resume continues:
    a points.csv or a meta.json (``results.META``; a run writes it before any row)."""
    try:
        return any((folder / name).is_file() for folder in (path, path.parent)
                   for name in (POINTS, "meta.json"))
    except OSError:
        return False


def records(found: Scan) -> list[dict]:
    """The good rows of a scanned points.csv, each as column -> text."""
    return [dict(zip(COLUMNS, fields)) for fields in csv.reader(found.rows)]


def append(file: Path, row: Row) -> None:
    """Append one row to ``file`` (its header first if it is empty) and flush it to disk,
    so a crash loses at most the point in flight."""
    text = io.StringIO(newline="")
    csv.DictWriter(text, fieldnames=COLUMNS, extrasaction="raise").writerow(row.record())
    try:
        with file.open("a+b") as fh:
            size = fh.seek(0, os.SEEK_END)
            head = b""
            if size == 0:
                head = HEADER.encode()
            else:  # never glue a row onto a line cut mid-write
                fh.seek(size - 1)
                if fh.read(1) not in (b"\n", b"\r"):
                    head = b"\r\n"
            fh.write(head + text.getvalue().encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as err:
        raise os_error("append a row", file, err) from None


def set_aside(file: Path, found: Scan, when: str) -> None:
    """Append ``found``'s damaged lines to points.damaged.csv beside ``file``, each after a
    ``#`` line saying where it was and why, then rewrite ``file`` atomically with the
    header and every good row as it was."""
    damaged_file = file.with_name(DAMAGED)
    if found.damaged:
        new = not damaged_file.exists()
        with damaged_file.open("a", encoding="utf-8", errors="surrogateescape",
                               newline="") as fh:
            if new:
                fh.write("# rows set aside from points.csv by `chainbench run --resume`: "
                         "damaged rows, whose points were measured again, and rows "
                         "repeating an earlier row's point, whose first row was kept\n")
            for part in found.damaged:
                fh.write(f"# {when} {POINTS} {part.where()}: {part.why}\n")
                fh.write(part.text if part.text.endswith(("\n", "\r")) else part.text + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    tmp = file.with_name(f"{POINTS}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(HEADER)
        fh.writelines(found.rows)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(file)


def load_points(path) -> pd.DataFrame:
    """points.csv of a results folder as a DataFrame; ConfigError if it is not one.

    Damaged rows (cut mid-write, garbled) are left out, never guessed at; ``df.attrs
    ["damaged"]`` lists them (``SetAside``) so that callers can say so. The file itself is
    not changed: ``chainbench run --resume`` repairs it.
    """
    path = Path(path)
    try:  # a name the OS refuses to look up (too long, …) is no results folder either
        file = path / POINTS if path.is_dir() else path
        found_path, found_file = path.exists(), file.exists()
    except OSError as err:
        raise ConfigError(f"{path}: cannot be read as a results directory "
                          f"({err.strerror or err}); name an existing one") from None
    if not found_path:
        raise ConfigError(f"{path}: no such results directory")
    if not found_file or file.name != POINTS:
        raise ConfigError(f"{path}: not a results directory (no {POINTS}); "
                          "run `chainbench run` first")
    try:
        found = scan(file)
    except OSError as err:
        raise os_error("read", file, err) from None
    if found.empty:
        raise ConfigError(f"{file}: empty, no row written yet; continue the run with "
                          f"`chainbench run EXPERIMENT --out {path} --resume`")
    damaged: list[SetAside] = []
    if found.foreign:
        source = file  # a file of another version: pandas reads what it can
    else:
        source = io.StringIO(HEADER + "".join(found.rows), newline="")
        damaged = found.damaged
    try:
        df = pd.read_csv(source)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ConfigError(f"{file}: unreadable: {err}") from None
    if "quantity" not in df.columns:  # a file from before second order: Jacobians only
        df["quantity"] = FIRST
    missing = [c for c in NEEDED if c not in df.columns]
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
    then = ("keeps each point's first row" if all(p.repeated for p in damaged) else
            "measures their points again" if not any(p.repeated for p in damaged) else
            "measures the damaged ones' points again")
    return (f"{path}: left out damaged {POINTS} {where}{more}; `chainbench run EXPERIMENT "
            f"--out {path} --resume` sets them aside and {then}")
