"""Results on disk: results/<experiment>/points.csv (one row per point and mode, appended
as each finishes) and meta.json (provenance of every run). Nothing is overwritten: a
second run goes to a new folder unless it resumes."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd

from .config import ConfigError

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
POINTS, META = "points.csv", "meta.json"


def row_key(row: dict) -> tuple:
    return (int(row["n"]), int(row["m"]), int(row["depth"]), str(row["width"]),
            row["activation"], int(row["seed"]), row["mode"], str(row["chunk_spec"]),
            str(row["snapshots_spec"]))


class ResultsDir:
    """A folder holding one experiment's points.csv and meta.json."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def points_file(self) -> Path:
        return self.path / POINTS

    @property
    def meta_file(self) -> Path:
        return self.path / META

    @classmethod
    def open_for_run(cls, out: Path, resume: bool) -> ResultsDir:
        """The folder to write into: ``out`` itself when new, empty or resumed; otherwise
        the first free ``out-2``, ``out-3``, … so earlier results are never overwritten."""
        out = Path(out)
        if out.exists() and not out.is_dir():
            raise ConfigError(f"{out}: exists and is not a directory")
        if resume:
            if not (out / POINTS).exists():
                raise ConfigError(f"{out}: nothing to resume (no {POINTS}); run without --resume")
            return cls(out)
        candidate, k = out, 1
        while (candidate / POINTS).exists() or (candidate / META).exists():
            k += 1
            candidate = out.with_name(f"{out.name}-{k}")
        candidate.mkdir(parents=True, exist_ok=True)
        return cls(candidate)

    def done_keys(self) -> set[tuple]:
        if not self.points_file.exists():
            return set()
        with self.points_file.open(newline="") as fh:
            reader = csv.DictReader(fh)
            if reader.fieldnames and tuple(reader.fieldnames) != COLUMNS:
                raise ConfigError(f"{self.points_file}: columns differ from this version's; "
                                  "resume with the version that wrote it or use --out")
            return {row_key(row) for row in reader}

    def next_point_id(self) -> int:
        if not self.points_file.exists():
            return 0
        with self.points_file.open(newline="") as fh:
            return sum(1 for _ in csv.DictReader(fh))

    def append(self, row: dict) -> None:
        """Append one row and flush it to disk, so a crash loses at most the point in flight."""
        new = not self.points_file.exists()
        with self.points_file.open("a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="raise")
            if new:
                writer.writeheader()
            writer.writerow({k: row.get(k, "") for k in COLUMNS})
            fh.flush()
            os.fsync(fh.fileno())

    def read_meta(self) -> dict:
        if not self.meta_file.exists():
            return {}
        return json.loads(self.meta_file.read_text())

    def write_meta(self, meta: dict) -> None:
        tmp = self.meta_file.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n")
        tmp.replace(self.meta_file)


def load_points(path) -> pd.DataFrame:
    """points.csv of a results folder as a DataFrame; ConfigError if it is not one."""
    path = Path(path)
    file = path / POINTS if path.is_dir() else path
    if not path.exists():
        raise ConfigError(f"{path}: no such results directory")
    if not file.exists() or file.name != POINTS:
        raise ConfigError(f"{path}: not a results directory (no {POINTS}); "
                          "run `chainbench run` first")
    try:
        df = pd.read_csv(file)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ConfigError(f"{file}: unreadable: {err}") from None
    missing = [c for c in KEY_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"{file}: not a chainbench points file (missing {', '.join(missing)})")
    return df
