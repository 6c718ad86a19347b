"""One row of points.csv, typed: a point (where it belongs in the grid), what ran, and what
was measured. The columns of points.csv are ``Row``'s fields, in order; which hold text
and which whole numbers derive from their types. See docs/results.md for each column.

A point's identity is ``config.Point.key``; ``KEY_COLUMNS`` are the columns that hold it
and ``key_of`` reads it back from a row of points.csv, so that ``--resume`` knows which
points already have a row.
"""

from __future__ import annotations

import time
import typing
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from ...provenance import now
from ..experiment.config import POINT_KEY, Point

if TYPE_CHECKING:
    from ...cost.predictions import Prediction


@dataclass(kw_only=True)
class Row:
    """One point differentiated one way. Empty (``None``, or ``""`` for text) is "not
    applicable" or "not measured": a skipped point has no times. ``""`` given for a number
    means empty too, as in the file."""

    # the point, as the grid gave it (``identify``); ``point`` is the row's id in its folder
    experiment: str = ""
    point: int = 0
    series: str = ""
    n: int = 0
    m: int = 0
    depth: int = 0
    width: str = ""
    widths: str = ""
    activation: str = ""
    seed: int = 0
    mode: str = ""
    chunk_spec: str = ""
    snapshots_spec: str = ""
    quantity: str = ""  # jacobian, or at order 2 hessian or hvp
    # what ran
    engine: str = ""
    chunk: int | None = None
    snapshots: int | None = None
    threads: int | None = None
    # how it went
    status: str = ""
    reason: str = ""
    check_error: float | None = None
    # times of one Jacobian (and of F), the first call apart
    compile_s: float | None = None
    time_min_s: float | None = None
    time_median_s: float | None = None
    time_iqr_s: float | None = None
    samples: int | None = None
    inner_loops: int | None = None
    time_numpy_s: float | None = None  # peers: the median with numpy in and out, apart
    f_time_s: float | None = None
    j_over_f: float | None = None  # the call's time over F's (a Hessian's too)
    g_time_s: float | None = None  # HVP points: the median time of a gradient of u·f
    hvp_over_g: float | None = None  # HVP points: the HVP's median time over the gradient's
    time_predicted_s: float | None = None  # the time model's (cost.time_model)
    # counters: the cost model's and the engine's
    madds_predicted: int | None = None
    madds_counted: int | None = None
    madds_value: int | None = None
    madds_tangent: int | None = None
    madds_adjoint: int | None = None
    madds_accumulate: int | None = None
    madds_curvature: int | None = None  # second order: g'' records, curvature lanes, pairs
    madds_slides: int | None = None
    sweeps_forward: int | None = None
    sweeps_backward: int | None = None
    layer_steps: int | None = None
    bytes_predicted: int | None = None
    bytes_counted: int | None = None
    bytes_tape: int | None = None
    bytes_work: int | None = None
    bytes_snapshots: int | None = None
    bytes_output: int | None = None
    bytes_measured: int | None = None
    working_set_bytes: int | None = None
    memory_level: str = ""
    # where and when
    wall_s: float | None = None
    worker: str = ""
    cpu_model: str = ""
    finished_at: str = ""

    def __post_init__(self) -> None:
        for name in COLUMNS:
            if _empty_number(name, getattr(self, name)):
                setattr(self, name, None)

    def update(self, **values) -> Row:
        """Set these columns (a TypeError names one that is not a column); returns the row."""
        for name, value in values.items():
            if name not in _TYPES:
                raise TypeError(f"points.csv has no column {name!r}; columns: "
                                f"{', '.join(COLUMNS)}")
            setattr(self, name, None if _empty_number(name, value) else value)
        return self

    def identify(self, point: Point, experiment: str, threads: int) -> Row:
        """Place the row: ``point``'s identity (its key, series and widths), the experiment
        and the threads it ran with; returns the row."""
        return self.update(experiment=experiment, series=point.series,
                           widths="-".join(map(str, point.widths)), threads=threads,
                           **{column_of(name): getattr(point, name) for name in POINT_KEY})

    def finish(self, start: float) -> Row:
        """Close a measured row: its wall time since ``start`` (``time.perf_counter``) and
        when it finished; returns the row."""
        return self.update(wall_s=time.perf_counter() - start, finished_at=now())

    @classmethod
    def unmeasured(cls, status: str, reason: str, predicted: Prediction, **values) -> Row:
        """The row of a point that was not measured (skipped by a guard, or lost with its
        worker): the reason and what the cost model predicted."""
        return cls(status=status, reason=reason, madds_predicted=predicted.madds,
                   bytes_predicted=predicted.bytes_held, engine=predicted.mode,
                   chunk=predicted.chunk or None, wall_s=0.0, finished_at=now(), **values)

    def record(self) -> dict[str, object]:
        """The row as points.csv holds it: column -> value, empty as ``""``."""
        return {name: "" if (v := getattr(self, name)) is None else v for name in COLUMNS}


#: The columns of points.csv, in order.
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Row))
_HINTS = typing.get_type_hints(Row)
#: Each column's type without its None: str, int or float.
_TYPES: dict[str, type] = {name: next(t for t in (str, int, float)
                                      if t in (hint, *typing.get_args(hint)))
                           for name, hint in _HINTS.items()}
#: Columns holding text; every other column holds a number or nothing.
TEXT_COLUMNS = frozenset(name for name in COLUMNS if _TYPES[name] is str)
#: Columns every row fills with a whole number: its id and the integers of its key.
INT_COLUMNS = tuple(name for name in COLUMNS if _HINTS[name] is int)


def _empty_number(name: str, value) -> bool:
    return isinstance(value, str) and value == "" and _TYPES[name] is not str


def column_of(name: str) -> str:
    """The column of a Point field: its own name, except chunk and snapshots as the grid gave
    them, which go to chunk_spec and snapshots_spec (chunk and snapshots hold what ran)."""
    return {"chunk": "chunk_spec", "snapshots": "snapshots_spec"}.get(name, name)


#: The columns holding a point's key (``Point.key``), in its order.
KEY_COLUMNS = tuple(column_of(name) for name in POINT_KEY)


def key_of(record: dict) -> tuple:
    """``Point.key`` of the point a row measured, from the row as points.csv holds it
    (text, as read back, or values, as written)."""
    return tuple(_TYPES[col](record[col]) for col in KEY_COLUMNS)
