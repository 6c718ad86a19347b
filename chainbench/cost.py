"""The cost model: multiply-adds, sweeps and bytes each mode should take, predicted from
layer kinds and widths alone (no parameters, no kernels), for the engines' counters to match.

Forward mode with chunk c: ⌈n/c⌉ sweeps, each evaluating the chain and pushing c lanes,
so n·Σ T_k tangent multiply-adds. Reverse mode with chunk r: one recording sweep and
⌈m/r⌉ backward sweeps, so m·Σ A_k adjoint multiply-adds and a tape of Σ saved_k floats.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from math import ceil

from . import forward, reverse
from .chain import Chain, ChainShape

F64 = 8


@dataclass(frozen=True)
class Prediction:
    """Predicted counters of one Jacobian; fields mirror ``EngineStats``."""

    mode: str
    chunk: int
    sweeps_forward: int
    sweeps_backward: int
    madds_value: int
    madds_tangent: int
    madds_adjoint: int
    bytes_tape: int
    bytes_work: int

    @property
    def madds(self) -> int:
        return self.madds_value + self.madds_tangent + self.madds_adjoint

    @property
    def bytes_held(self) -> int:
        return self.bytes_tape + self.bytes_work

    def as_dict(self) -> dict:
        d = asdict(self)
        d["madds"], d["bytes_held"] = self.madds, self.bytes_held
        return d


def _shape(chain: Chain | ChainShape) -> ChainShape:
    return chain.shape if isinstance(chain, Chain) else chain


def _costs(shape: ChainShape):
    return [cls.cost(shape.widths[k], shape.widths[k + 1]) for k, cls in enumerate(shape.layers)]


def default_chunk(chain: Chain | ChainShape, mode: str) -> int:
    shape = _shape(chain)
    if mode == "forward":
        return forward.default_chunk(max(shape.widths), shape.n)
    return reverse.default_chunk(max(shape.widths), shape.m)


def predict_forward(chain: Chain | ChainShape, chunk: int | None = None) -> Prediction:
    """Dual-number forward mode: ⌈n/c⌉ sweeps, n·Σ T_k tangent multiply-adds."""
    shape = _shape(chain)
    c = chunk or default_chunk(shape, "forward")
    costs, w, n = _costs(shape), max(shape.widths), shape.n
    sweeps = ceil(n / c)
    return Prediction(
        "forward", c, sweeps, 0,
        madds_value=sweeps * sum(k.value for k in costs),
        madds_tangent=n * sum(k.tangent for k in costs),
        madds_adjoint=0,
        bytes_tape=0,
        bytes_work=F64 * (2 * w + 2 * w * c + n * c),  # values, ping-pong lanes, seed block
    )


def predict_reverse(chain: Chain | ChainShape, chunk: int | None = None) -> Prediction:
    """Tape reverse mode: one recording sweep, ⌈m/r⌉ backward sweeps, m·Σ A_k multiply-adds."""
    shape = _shape(chain)
    r = chunk or default_chunk(shape, "reverse")
    costs, w, m = _costs(shape), max(shape.widths), shape.m
    return Prediction(
        "reverse", r, 1, ceil(m / r),
        madds_value=sum(k.value for k in costs),
        madds_tangent=0,
        madds_adjoint=m * sum(k.adjoint for k in costs),
        bytes_tape=F64 * sum(k.saved for k in costs),
        bytes_work=F64 * (2 * w + 2 * w * r + r * m),  # values, ping-pong rows, seed block
    )


PREDICTORS = {"forward": predict_forward, "reverse": predict_reverse}


def predict(chain: Chain | ChainShape, mode: str, chunk: int | None = None) -> Prediction:
    """Prediction for ``mode`` ('forward', 'reverse' or 'auto': the cheaper of the two)."""
    if mode == "auto":
        return cheapest(chain)
    if mode not in PREDICTORS:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join([*PREDICTORS, 'auto'])}")
    return PREDICTORS[mode](chain, chunk)


def cheapest(chain: Chain | ChainShape) -> Prediction:
    """The pure mode with the fewest predicted multiply-adds (forward on a tie: no tape)."""
    fwd, rev = predict_forward(chain), predict_reverse(chain)
    return fwd if fwd.madds <= rev.madds else rev


def slides_formula(widths) -> tuple[int, int]:
    """The lecture's dense-matrix count, n·Σ n_k n_{k-1} (forward) and m·Σ n_k n_{k-1}
    (reverse), treating every layer as a full matrix product."""
    products = sum(a * b for a, b in zip(widths[:-1], widths[1:]))
    return widths[0] * products, widths[-1] * products
