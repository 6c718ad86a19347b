"""Ways to damage the files a command reads: points.csv, meta.json and a machine profile.
Each is a pure function of the file's bytes and small arguments, so a drawn damage is
replayed exactly from its description."""

from __future__ import annotations

import csv
import io
import json
import random

POINTS_COLUMNS = ["time_median_s", "time_min_s", "n", "m", "depth", "status", "mode", "chunk",
                  "threads", "point", "series", "bytes_measured", "memory_level", "experiment",
                  "madds_predicted", "compile_s", "finished_at"]
CELL_VALUES = ["-1", "nan", "inf", "-inf", "", "abc", "1e400", "-0", "0", "1e-320", "[1]"]


def _table(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape"), newline="")))


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8", "surrogateescape")


def points(data: bytes, how: str, arg: str = "", k: int = 0) -> bytes | None:
    """points.csv after damage ``how`` (None: the file is deleted)."""
    if how == "delete":
        return None
    if how == "empty":
        return b""
    if how == "truncate":  # cut at k per mille of its size
        return data[:len(data) * k // 1000]
    if how == "garbage":  # k seeds the bytes and where they go
        rng = random.Random(k)
        at = rng.randrange(len(data) + 1)
        return data[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 64))) + data[at:]
    if how == "bom":
        return b"\xef\xbb\xbf" + data
    if how == "lf":
        return data.replace(b"\r\n", b"\n")
    rows = _table(data)
    if not rows:
        return data
    head, body = rows[0], rows[1:]
    if how == "header_only":
        body = []
    elif how == "duplicate":  # every row twice: the same point ids again
        body = body + body
    elif how == "duplicate_some":
        body = body + body[k % max(len(body), 1):][:3]
    elif how == "keep_rows":  # the first k rows: an interrupted run
        body = body[:k]
    elif how == "shuffle":
        random.Random(k).shuffle(body)
    elif how == "drop_column" and arg in head:
        i = head.index(arg)
        head, body = head[:i] + head[i + 1:], [r[:i] + r[i + 1:] for r in body]
    elif how == "set_column" and arg in head:  # every row's cell of arg set to CELL_VALUES[k]
        i = head.index(arg)
        body = [r[:i] + [CELL_VALUES[k % len(CELL_VALUES)]] + r[i + 1:] for r in body]
    return _csv([head] + body)


META_DAMAGE = {
    "blas_strings": lambda d: _each_run(d, lambda r: r.setdefault("threads", {}).__setitem__(
        "blas", ["openblas", "x"])),
    "threads_string": lambda d: _each_run(d, lambda r: r.__setitem__("threads", "x")),
    "machine_list": lambda d: _each_run(d, lambda r: r.__setitem__("machine", [])),
    "versions_none": lambda d: _each_run(d, lambda r: r.__setitem__("versions", None)),
    "started_int": lambda d: _each_run(d, lambda r: r.__setitem__("started_at", 5)),
    "run_not_object": lambda d: d.__setitem__("runs", [1, "x", None]),
    "runs_object": lambda d: d.__setitem__("runs", {}),
    "runs_string": lambda d: d.__setitem__("runs", "x"),
    "runs_missing": lambda d: d.pop("runs", None),
    "experiment_int": lambda d: d.__setitem__("experiment", 5),
    "experiment_missing": lambda d: d.pop("experiment", None),
    "experiment_other": lambda d: d.__setitem__("experiment", "other"),
    "experiment_file_missing": lambda d: d.pop("experiment_file", None),
    "description_list": lambda d: d.__setitem__("description", ["a"]),
    "tally_string": lambda d: _each_run(d, lambda r: r.__setitem__("tally", "x")),
}


def _each_run(doc: dict, change) -> None:
    for run in doc.get("runs", []) if isinstance(doc.get("runs"), list) else []:
        if isinstance(run, dict):
            change(run)


def meta(data: bytes, how: str) -> bytes | None:
    """meta.json after damage ``how`` (None: deleted)."""
    if how == "delete":
        return None
    if how == "empty":
        return b""
    if how == "truncate":
        return data[:len(data) // 2]
    if how == "not_object":
        return b"[]"
    if how == "nan":
        return b'{"experiment": NaN, "runs": [NaN]}'
    doc = _json(data)
    if not isinstance(doc, dict):  # damaged already: left as it is
        return data
    META_DAMAGE[how](doc)
    return json.dumps(doc, indent=2).encode()


def _json(data: bytes):
    try:
        return json.loads(data)
    except ValueError:
        return None


#: What a damaged profile's fields become.
BAD_NUMBERS = [-1.0, 0.0, float("nan"), float("inf"), "fast", None, -1e300]


def profile(data: bytes, how: str, k: int = 0) -> bytes | None:
    """A machine profile (JSON) after damage ``how``; k picks the bad value (BAD_NUMBERS)."""
    if how == "delete":
        return None
    if how == "truncate":
        return data[:len(data) // 2]
    doc = _json(data)
    if not isinstance(doc, dict):
        return data
    bad = BAD_NUMBERS[k % len(BAD_NUMBERS)]
    if how == "levels_empty":
        doc["levels"] = []
    elif how == "levels_bandwidth":
        for level in doc["levels"]:
            level["bandwidth_Bps"] = bad
    elif how == "levels_capacity":
        doc["levels"][0]["capacity_bytes"] = bad
    elif how in ("gemm", "stream", "lanes"):
        doc[how] = [row[:-1] + [bad] for row in doc[how]]
    elif how in ("gemm_empty", "stream_empty", "lanes_empty"):
        doc[how.removesuffix("_empty")] = []
    elif how == "overhead":
        doc["call_overhead_s"] = bad
    elif how == "fixed_costs":
        doc["overheads"] = {**(doc.get("overheads") or {}), "call_s": bad, "pass_s": bad}
    elif how == "schema":
        doc["schema"] = 99
    return json.dumps(doc, indent=1).encode()


PROFILE_DAMAGE = ["levels_empty", "levels_bandwidth", "levels_capacity", "gemm", "stream",
                  "lanes", "gemm_empty", "stream_empty", "lanes_empty", "overhead",
                  "fixed_costs", "schema", "truncate", "delete"]
