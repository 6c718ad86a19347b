"""What the counters of one Jacobian should read (``Prediction``), and the shared rules of the
cost model: the default lane block and the parameters' size. Each engine's prediction is
derived from its plan (``work.Plan.prediction``): the plan builders (``sweeps``, ``sparse``,
``operations``) are the one description of a mode's work.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.counters import Counts
from ..model.shape import ChainShape

F64 = 8


@dataclass(frozen=True)
class Prediction(Counts):
    """Predicted counters of one Jacobian (fields: see ``model.counters.Counts``)."""

    def _repr_html_(self) -> str:  # Jupyter: the counters as a table
        from html import escape

        rows = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(str(v))}"
                       "</td></tr>" for k, v in vars(self).items())
        return f"<table>{rows}</table>"


def parameter_floats(shape: ChainShape) -> int:
    """float64 entries of every layer's parameters (alignment padding aside)."""
    return sum(cls.parameters(shape.widths[k], shape.widths[k + 1])
               for k, cls in enumerate(shape.layers))


#: The lanes of a sweep (tangent lanes forward, cotangent rows in reverse) are capped so
#: that the (widest layer × lanes) block stays within this many bytes.
LANE_BYTES_CAP = 16 * 2**20


def default_lanes(max_width: int, limit: int) -> int:
    """All ``limit`` lanes in one sweep while the lane block fits in LANE_BYTES_CAP, else the
    most that do (matrix-matrix products beat many matrix-vector ones)."""
    return max(1, min(limit, LANE_BYTES_CAP // (8 * max_width)))


def slides_formula(widths) -> tuple[int, int]:
    """The lecture's dense-matrix count, n·Σ n_k n_{k-1} (forward) and m·Σ n_k n_{k-1}
    (reverse), treating every layer as a full matrix product."""
    products = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return widths[0] * products, widths[-1] * products

