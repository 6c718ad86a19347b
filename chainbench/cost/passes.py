"""What each algorithm moves through each layer: its passes, for the time model to price.

A pass is one layer's rule run once on a block of lanes: its multiply-adds, the bytes it
reads and writes, how many lanes it moves together (the inner dimension of a matrix
product, when it is one) and whether it is a matrix product of the layer's parameters (a
dense layer: GEMM for several lanes, GEMV for one) or a streaming pass over vectors. The
counts here follow the same sweeps as ``predictions``, which the engines' counters match.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.shape import ChainShape
from .checkpoint import ADVANCE, schedule
from .predictions import default_lanes, madds_choice

F64 = 8


@dataclass(frozen=True)
class Pass:
    """One layer's rule on ``lanes`` vectors at once, ``count`` times."""

    madds: int
    bytes: int
    lanes: int
    product: bool  # a matrix product (a dense layer's, or a plan's block product)
    count: int = 1
    dims: tuple[int, int, int] = (1, 1, 1)  # a product's (M, K, N): (M×K) @ (K×N)
    layer: str = ""  # a layer's rule other than a matrix product: the layer's name and the
    rule: str = ""  # rule, which the time model prices per multiply-add where that costs
    # more than its bytes (``Overheads.madd_s``)


def _layer(shape: ChainShape, k: int):
    w_in, w_out = shape.widths[k], shape.widths[k + 1]
    cls = shape.layers[k]
    return cls, cls.cost(w_in, w_out), w_in, w_out, cls.parameters(w_in, w_out)


def value_pass(shape: ChainShape, k: int, count: int = 1, record: bool = False) -> Pass:
    """Layer k evaluated once (and, ``record``, its tape slot written)."""
    cls, c, w_in, w_out, params = _layer(shape, k)
    moved = params + w_in + w_out + (c.saved if record else 0)
    return Pass(c.value, F64 * moved, 1, cls.matrix_product, count, layer=cls.name,
                rule="record" if record else "value")


def lane_pass(shape: ChainShape, k: int, lanes: int, kind: str, count: int = 1) -> Pass:
    """Layer k's JVP ('tangent') or VJP ('adjoint') on ``lanes`` lanes (or rows)."""
    cls, c, w_in, w_out, params = _layer(shape, k)
    per_lane = c.tangent if kind == "tangent" else c.adjoint
    moved = params + (w_in + w_out) * lanes + c.saved
    if not cls.matrix_product:
        return Pass(per_lane * lanes, F64 * moved, lanes, False, count, layer=cls.name,
                    rule=kind)
    # tangents: W (w_out × w_in) @ X (w_in × lanes); adjoints: Y (lanes × w_out) @ W
    dims = (w_out, w_in, lanes) if kind == "tangent" else (lanes, w_out, w_in)
    return Pass(per_lane * lanes, F64 * moved, lanes, True, count, dims)


def write_pass(entries: int, count: int = 1) -> Pass:
    """Entries of an explicit Jacobian block written out (seed columns or rows)."""
    return Pass(entries, F64 * entries, 1, False, count)


def copy_pass(entries: int, count: int = 1) -> Pass:
    """A block of the result copied into J: read and written, no arithmetic."""
    return Pass(0, 2 * F64 * entries, 1, False, count)


def product_pass(hi: int, mid: int, lo: int) -> Pass:
    """(hi × mid) @ (mid × lo), a plan's block product (a GEMM)."""
    moved = hi * mid + mid * lo + hi * lo
    return Pass(hi * mid * lo, F64 * moved, min(hi, mid, lo), True, dims=(hi, mid, lo))


def _blocks(total: int, chunk: int) -> list[tuple[int, int]]:
    """(lanes, how many sweeps) covering ``total`` lanes ``chunk`` at a time."""
    full, rest = divmod(total, chunk)
    return [(chunk, full)] + ([(rest, 1)] if rest else [])


def forward_passes(shape: ChainShape, chunk: int | None = None) -> list[Pass]:
    """⌈n/c⌉ sweeps: layer 1's columns written, then c lanes through layers 2..K."""
    c = chunk or default_lanes(max(shape.widths), shape.n)
    out = []
    for lanes, sweeps in _blocks(shape.n, c):
        out.append(value_pass(shape, 0, sweeps, record=True))
        out.append(write_pass(shape.widths[1] * lanes, sweeps))
        for k in range(1, shape.depth):
            out += [value_pass(shape, k, sweeps), lane_pass(shape, k, lanes, "tangent", sweeps)]
        out.append(copy_pass(shape.m * lanes, sweeps))  # the lanes' columns of J
    return out


def reverse_passes(shape: ChainShape, chunk: int | None = None) -> list[Pass]:
    """One recording sweep, then ⌈m/r⌉ backward sweeps: layer K's rows written, then r rows
    back through layers K-1..1."""
    r = chunk or default_lanes(max(shape.widths), shape.m)
    out = [value_pass(shape, k, record=True) for k in range(shape.depth)]
    for rows, sweeps in _blocks(shape.m, r):
        out.append(write_pass(shape.widths[-2] * rows, sweeps))
        out += [lane_pass(shape, k, rows, "adjoint", sweeps) for k in range(shape.depth - 1)]
        out.append(copy_pass(rows * shape.n, sweeps))  # the rows of J
    return out


def checkpointed_passes(shape: ChainShape, chunk: int | None = None,
                        snapshots: int | None = None, kind: str = "sqrt") -> list[Pass]:
    """Each backward sweep replays the schedule: ADVANCE stretches evaluate values, REVERSE
    stretches record their tape and pull the rows back."""
    r = chunk or default_lanes(max(shape.widths), shape.m)
    sched = schedule(kind, shape.depth, snapshots)
    out = []
    for rows, sweeps in _blocks(shape.m, r):
        out.append(write_pass(shape.widths[-2] * rows, sweeps))
        for op, a, b, _, _ in sched.actions:
            out += [value_pass(shape, k, sweeps, record=op != ADVANCE) for k in range(a, b)]
            if op != ADVANCE:
                out += [lane_pass(shape, k, rows, "adjoint", sweeps)
                        for k in range(a, b) if k < shape.depth - 1]
        out.append(copy_pass(rows * shape.n, sweeps))
    return out


#: Evaluations of f per method, and the work of one complex multiply-add in real ones.
EVALUATIONS = {"fd-forward": lambda n: n + 1, "fd-central": lambda n: 2 * n,
               "complex-step": lambda n: n}
COMPLEX_MADD = 4


def numerical_passes(shape: ChainShape, chunk: int | None = None,
                     method: str = "fd-forward") -> list[Pass]:
    """e evaluations of f alone (n + 1, 2n or n complex ones)."""
    evals = EVALUATIONS[method](shape.n)
    out = [value_pass(shape, k, evals) for k in range(shape.depth)]
    out.append(copy_pass(shape.m * shape.n))  # each column's quotients into J
    if method == "complex-step":  # four real multiply-adds a complex one, twice the bytes
        out = [Pass(p.madds * COMPLEX_MADD, 2 * p.bytes, 1, p.product, p.count, p.dims)
               for p in out]
    return out


def optimal_passes(shape: ChainShape, chunk: int | None = None, choice=None) -> list[Pass]:
    """A plan's steps after one recording sweep, or the pure engine it runs; ``choice``:
    'forward', 'reverse' or the plan's root Step (default: ``madds_choice``)."""
    choice = madds_choice(shape) if choice is None else choice
    if choice == "forward":
        return forward_passes(shape)
    if choice == "reverse":
        return reverse_passes(shape)
    out = [value_pass(shape, k, record=True) for k in range(shape.depth)]
    return out + step_passes(shape, choice)


def step_passes(shape: ChainShape, root) -> list[Pass]:
    """The passes of a plan's steps (``plan.Step``), children first, and J's copy."""
    w, out = shape.widths, []
    for step in root.steps():
        if step.kind == "explicit":
            out.append(write_pass(w[step.hi] * w[step.lo]))
        elif step.kind == "product":
            out.append(product_pass(w[step.hi], w[step.mid], w[step.lo]))
        elif step.kind == "tangents":
            first = step.lo if step.inner is None else step.mid
            out += [lane_pass(shape, k, w[step.lo], "tangent") for k in range(first, step.hi)]
        else:
            last = step.hi if step.inner is None else step.mid
            out += [lane_pass(shape, k, w[step.hi], "adjoint") for k in range(step.lo, last)]
    out.append(copy_pass(shape.m * shape.n))  # the whole block into J
    return out


def mirror_passes(shape: ChainShape, chunk: int | None = None, *, algorithm: str,
                  all_lanes: bool) -> list[Pass]:
    """A peer: the passes of the algorithm it runs, all lanes at once or one per sweep."""
    if algorithm == "forward":
        return forward_passes(shape, shape.n if all_lanes else 1)
    return reverse_passes(shape, shape.m if all_lanes else 1)


def pass_runs(passes: list[Pass]) -> int:
    """How many times a layer pass runs in all (each pass times its count)."""
    return sum(p.count for p in passes)

