"""The second-order cost model: what each Hessian mode's counters should read, from layer
kinds and widths alone, for a Hessian (N = n basis directions, c per sweep) or an HVP
(N = k given directions, one sweep).

Per layer k: V_k, T_k, A_k its value, tangent-lane and adjoint-row multiply-adds
(``LayerCost``); R2_k, C_k, P_k its curvature record, one curvature lane and one direction
pair (``SecondCost``). Only layers with curvature (C_k > 0) add to a Hessian: f and t are the
first and last of them; lanes stop at t, and the rows pulled back start there.

forward-over-reverse  one recording sweep and one gradient row (Σ_{k≥1} A_k); per chunk
                      of c lanes a tangent sweep to layer t and a backward sweep of c rows
                      from it, each row picking up ȳ_k·∇²f_k at every layer: N·(Σ_{k≤t} T_k
                      + Σ_{k<t} A_k + Σ_{k≤t} C_k).
reverse-over-forward  per chunk, the values and tangent lanes recorded, then one backward
                      sweep carrying the tangent program's two adjoints, each c rows:
                      ⌈N/c⌉·ΣV + N·(Σ_{k≤t} T_k + Σ_{k≥1} A_k + Σ_{k<t} A_k + Σ_{k≤t} C_k).
reverse-over-reverse  on the operation-level tape (E entries, P partials, E_c curved ones
                      applying C second partials to a lane): one recording sweep keeping
                      the curved entries' second partials, one gradient sweep keeping each
                      entry's output adjoint, then per chunk the gradient's sweep reversed
                      (forward through the tape) and the recording sweep reversed:
                      E + E_c + P + N·(2P + C).
forward-over-forward  hyper-dual numbers: per chunk c left lanes, all n right lanes and
                      c·n second-order lanes: ⌈N/c⌉·(ΣV + n·Σ_{k≤t} T_k) + N·n·(Σ_{f<k} T_k
                      + Σ_{f≤k≤t} P_k + m).
Square chains of width n and depth K: the mixed modes O(K n³), forward-over-forward O(K n⁴).
Sweeps from basis directions write layer 0's Jacobian columns instead of pushing the
identity through it (out_0 entries a lane, counted as accumulation), as first order does.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from ..model.counters import Counts
from ..model.lowering import layout, lowered
from ..model.ops import CURVED_BYTES, ENTRY_BYTES
from .operations import op_default_lanes
from .predictions import F64, default_lanes

HESSIAN_MODES = ("forward-over-reverse", "reverse-over-forward", "reverse-over-reverse",
                 "forward-over-forward")
#: The modes that run on the operation-level tape (every layer needs a lowering).
OPERATION_LEVEL = ("reverse-over-reverse",)


@dataclass(frozen=True)
class SecondCounts(Counts):
    """Counters of a second-order call (fields: ``Counts``), with ``madds_curvature``: the
    layers' second-order terms (recording g'', curvature lanes, direction pairs)."""

    madds_curvature: int = 0
    tape_entries: int = 0

    @property
    def madds(self) -> int:
        return super().madds + self.madds_curvature


def runnable(shape) -> tuple[str, ...]:
    """The modes of ``HESSIAN_MODES`` that can run ``shape``: the operation-level ones only
    where every layer has a lowering."""
    whole = all(lowered(kind) for kind in shape.layers)
    return tuple(m for m in HESSIAN_MODES if whole or m not in OPERATION_LEVEL)


def curved(shape) -> tuple[int, int]:
    """(f, t): the first and last layer with curvature; (-1, -1) for an affine chain."""
    ks = [k for k, c in enumerate(_second(shape)) if c.curvature > 0]
    return (ks[0], ks[-1]) if ks else (-1, -1)


def _first(shape):
    return [cls.cost(shape.widths[k], shape.widths[k + 1]) for k, cls in enumerate(shape.layers)]


def _second(shape):
    return [cls.second_cost(shape.widths[k], shape.widths[k + 1])
            for k, cls in enumerate(shape.layers)]


def tape_floats(shape) -> int:
    return sum(c.saved for c in _first(shape))


#: forward-over-forward's default chunk keeps its two (w × c·n) second-order lane blocks
#: within this many bytes: 1 MiB, the L2 cache of one core on the x86 machines chainbench is
#: profiled on (512 KiB to 2 MiB). Every layer reads and writes both blocks, and its direction
#: pairs are elementwise passes over them that run at the rate of the level they live in.
#: A fixed size, not the profile's L2: a chain's predicted counters stay the same on every
#: machine (committed results carry them); 'auto' weighs other chunks
#: on this machine's own profile.
HYPER_BLOCK_BYTES = 2**20
#: ... but never fewer lanes than this: each sweep pushes all n right lanes again, n·ΣT_k,
#: against c·n·ΣT_k for its second-order lanes, so c ≥ 8 keeps that repeat within 1/8.
HYPER_MIN_CHUNK = 8


def default_chunk(shape, mode: str) -> int:
    """Lanes per sweep by default: as first order (the lane block within 16 MiB); for
    forward-over-forward, its two blocks of c·n second-order lanes within HYPER_BLOCK_BYTES
    (at least HYPER_MIN_CHUNK lanes, and within first order's cap)."""
    w, n = max(shape.widths), shape.n
    if mode in OPERATION_LEVEL:  # its ŷ and v̂ blocks (value slots × c) each within the cap
        return op_default_lanes(layout(shape).slots, n)
    if mode != "forward-over-forward":
        return default_lanes(w, n)
    in_cache = HYPER_BLOCK_BYTES // (2 * F64 * w * n)
    return max(1, min(n, default_lanes(w * n, n), max(in_cache, HYPER_MIN_CHUNK)))


def predict_second(shape, mode: str, chunk: int | None = None, lanes: int | None = None,
                   seeded: bool = True) -> SecondCounts:
    """The counters ``mode`` fills: a Hessian (``lanes`` None: n basis directions, ``seeded``)
    or an HVP of ``lanes`` given directions in one sweep (``seeded`` False)."""
    N = shape.n if lanes is None else lanes
    c = chunk or default_chunk(shape, mode)
    f, t = curved(shape)
    if t < 0:  # affine: H = 0, nothing runs
        return SecondCounts(mode, c, 0, 0, 0, 0, 0, 0, 0)
    first, second = _first(shape), _second(shape)
    V, R2 = sum(k.value for k in first), sum(k.record for k in second)
    sweeps, K = ceil(N / c), shape.depth
    # lanes to layer t: layer 0 seeded (its columns written) or pushed
    lead = 0 if seeded else first[0].tangent
    tangent = N * (lead + sum(k.tangent for k in first[1 : t + 1]))
    seed = N * first[0].explicit // shape.n if seeded else 0
    curv_lanes = N * sum(k.curvature for k in second[: t + 1])
    rows = N * sum(k.adjoint for k in first[:t])  # the Hessian rows, from layer t down
    gradient = sum(k.adjoint for k in first[1:])
    w, tape = max(shape.widths), tape_floats(shape)
    lane_tape = c * sum(shape.widths[: t + 2])
    if mode == "forward-over-reverse":
        return SecondCounts(
            mode, c, 1 + sweeps, 1 + sweeps, madds_value=V, madds_tangent=tangent,
            madds_adjoint=gradient + rows, madds_accumulate=seed,
            madds_curvature=R2 + curv_lanes,
            bytes_tape=F64 * (2 * tape + sum(shape.widths) + lane_tape),
            bytes_work=F64 * (2 * w + 2 * w * c), layer_steps=K, tape_entries=K)
    if mode == "reverse-over-forward":
        return SecondCounts(
            mode, c, sweeps, sweeps, madds_value=sweeps * V, madds_tangent=tangent,
            madds_adjoint=N * gradient + rows, madds_accumulate=seed,
            madds_curvature=sweeps * R2 + curv_lanes,
            bytes_tape=F64 * (2 * tape + lane_tape),
            bytes_work=F64 * (2 * w + 4 * w * c), layer_steps=sweeps * K,
            tape_entries=sweeps * K)
    if mode == "forward-over-forward":
        return _predict_hyper(shape, c, N, seeded, f, t, first, second)
    if mode == "reverse-over-reverse":
        return _predict_ror(shape, c, N)
    raise ValueError(f"unknown Hessian mode {mode!r}; known: {', '.join(HESSIAN_MODES)}")


def _predict_ror(shape, c, N) -> SecondCounts:
    """reverse-over-reverse: the tape's entries, partials and curved entries (``layout``)."""
    lay = layout(shape)
    E, P, Ec, C = lay.total, lay.total_partials, sum(lay.curved), sum(lay.curvature)
    sweeps = ceil(N / c)
    return SecondCounts(
        "reverse-over-reverse", c, 1 + sweeps, 1 + sweeps, madds_value=E,
        madds_tangent=N * P, madds_adjoint=P + N * P, madds_curvature=Ec + N * C,
        bytes_tape=E * (ENTRY_BYTES + F64) + Ec * CURVED_BYTES + 2 * F64 * Ec * c,
        bytes_work=F64 * lay.slots * (2 + 2 * c), layer_steps=shape.depth, tape_entries=E)


def _predict_hyper(shape, c, N, seeded, f, t, first, second) -> SecondCounts:
    """forward-over-forward: per sweep c left lanes (to layer t − 1), n right lanes (to layer
    t, seeded), c·n second-order lanes from layer f to the output, contracted with u."""
    n, m, K, w = shape.n, shape.m, shape.depth, max(shape.widths)
    sweeps = ceil(N / c)
    V, R2 = sum(k.value for k in first), sum(k.record for k in second)
    right = sweeps * n * sum(k.tangent for k in first[1 : t + 1])
    left_from = 1 if seeded else 0
    left = N * sum(k.tangent for k in first[left_from:t])
    second_lanes = N * n * sum(k.tangent for k in first[f + 1 :])
    seeds = sweeps * first[0].explicit + (N * first[0].explicit // n if seeded and t > 0 else 0)
    return SecondCounts(
        "forward-over-forward", c, sweeps, 0, madds_value=sweeps * V,
        madds_tangent=right + left + second_lanes, madds_adjoint=0,
        madds_accumulate=seeds + N * n * m,
        madds_curvature=sweeps * R2 + N * n * sum(k.pair for k in second[f : t + 1]),
        bytes_tape=0, bytes_work=F64 * (4 * w + 2 * w * (c + n + c * n)),
        layer_steps=sweeps * K, tape_entries=0)
