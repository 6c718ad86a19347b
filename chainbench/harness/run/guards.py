"""The guards of a sweep: skip a point predicted to take longer than its budget or to need
more memory than there is, mark a point that took longer ``timeout``, and after a timeout
skip the larger sizes of its series. They learn the machine's speed as points finish."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...cost.predictions import Prediction
from ...engines.registry import ENGINES
from ...machine.current import current_profile
from ...model.sparsity import nonzeros
from ...peers.second import HESSIAN
from ...provenance import available_memory
from ..experiment.config import Point
from ..storage.row import Row
from . import memory

#: Fraction of available memory a point may plan to use.
MEMORY_SHARE = 0.8


def initial_rate() -> float:
    """Multiply-adds per second assumed before any point of a run has been measured: the
    machine profile's fastest GEMM rate, so the first guess skips only what is hopeless."""
    return current_profile().peak_madds_per_s


@dataclass
class Guards:
    """Decides which points to skip, learning the machine's speed as points finish."""

    budget_s: float
    rate: float = field(default_factory=initial_rate)  # fastest multiply-adds per second seen
    timed_out: dict = field(default_factory=dict)  # series -> smallest madds that overran
    memory: int | None = field(default_factory=available_memory)
    sparse_output: bool = False  # the sparse modes return J as scipy.sparse (Measure's)

    def skip_reason(self, point: Point, predicted: Prediction) -> str | None:
        limit = self.timed_out.get(point.series)
        if limit is not None and predicted.madds >= limit:
            return "a smaller point of this series exceeded the time budget"
        seconds = predicted.madds / self.rate
        if seconds > self.budget_s:
            return (f"predicted {seconds:.3g} s per call ({predicted.madds:.3g} multiply-adds) "
                    f"> budget {self.budget_s:g} s")
        need = planned_bytes(point, predicted, self.sparse_output)
        if self.memory is not None and need > MEMORY_SHARE * self.memory:
            # a tape that grows with the operations (op-reverse) is named: it is why
            tape = (f" (its tape alone {predicted.bytes_tape / 2**30:.3g} GiB)"
                    if predicted.bytes_tape > need / 4 else "")
            return (f"needs about {need / 2**30:.3g} GiB{tape}, more than {MEMORY_SHARE:.0%} "
                    f"of the {self.memory / 2**30:.3g} GiB available")
        return None

    def plan_reason(self, point: Point) -> str | None:
        """Why ``point`` is too large even to be predicted (``plan_reason``), or None."""
        return plan_reason(point, self.memory, self.sparse_output)

    def learn(self, point: Point, row: Row) -> None:
        """Take the speed of a measured point in; mark it 'timeout' when measuring it took
        longer than the budget, its compile time (``compile_s``) not counted."""
        if row.status == "ok" and row.time_median_s > 0 and row.madds_counted:  # peers: none
            self.rate = max(self.rate, row.madds_counted / row.time_median_s)
        charged = row.wall_s - (row.compile_s or 0.0)
        if charged > self.budget_s:
            row.status = "timeout"
            row.reason = (f"measuring took {charged:.3g} s > budget {self.budget_s:g} s "
                          f"(compile not counted)")
            prev = self.timed_out.get(point.series, float("inf"))
            self.timed_out[point.series] = min(prev, row.madds_predicted or 0)


def planned_bytes(point: Point, predicted: Prediction, sparse_output: bool = False) -> int:
    """What measuring ``point`` holds at its peak (``memory.planned_bytes``); with
    ``sparse_output``, a mode that can return J as scipy.sparse holds only its nonzeros."""
    shape = point.shape
    output = None
    if sparse_output and "dense" in getattr(ENGINES.get(predicted.mode), "options", ()):
        output = 12 * nonzeros(shape) + 8 * (shape.m + 1)  # values, indices, row pointers
    if point.quantity == HESSIAN:  # the output is H, n × n
        output = 8 * shape.n * shape.n
    return memory.planned_bytes(shape, predicted.bytes_held, point.m, output)


def floor_bytes(point: Point, sparse_output: bool = False) -> int:
    """Bytes measuring ``point`` holds at least, from its widths alone, before any pattern,
    coloring or prediction is made (those allocate in proportion to n and m too): its
    parameters twice, two vectors of its inputs and outputs (x, a color per column or row)
    and J, dense, or where the mode may return it sparse at least one entry per row and
    column."""
    shape = point.shape
    params, _ = memory.parameter_bytes(shape)
    engine = ENGINES.get(point.mode)
    sparse = sparse_output and (engine is None or "dense" in engine.options)
    output = 12 * max(shape.n, shape.m) if sparse else 8 * shape.m * shape.n
    return 2 * params + 16 * (shape.n + shape.m) + output


def plan_reason(point: Point, room: int | None = None, sparse_output: bool = False
                ) -> str | None:
    """Why ``point`` must be skipped before it is predicted — its ``floor_bytes`` exceed
    MEMORY_SHARE of ``room`` (default: the memory available here) — or None. Predicting a
    sparse or 'auto' point colors J's pattern, which takes memory in proportion to n: a
    point too large for that is skipped with this reason, never allowed to end the run."""
    room = available_memory() if room is None else room
    need = floor_bytes(point, sparse_output)
    if room is None or need <= MEMORY_SHARE * room:
        return None
    return (f"needs at least {need / 2**30:.3g} GiB (parameters, J and vectors of n = "
            f"{point.n}), more than {MEMORY_SHARE:.0%} of the {room / 2**30:.3g} GiB available")
