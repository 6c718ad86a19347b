"""Hessian chain bracketing (after Naumann and Burela, "Hessian chain bracketing", 2023):
the Hessian of u·f by the second-order chain rule, its products ordered by a dynamic
programme over sub-chains, from layer kinds and widths alone.

For the sub-chain of layers i..j (point i to point j+1) with the adjoint ū_j at its output,
H[i, j] = ū_j·∇²(f_j ∘ … ∘ f_i) is, for any split i ≤ s < j,

    H[i, j] = J[i, s]ᵀ H[s+1, j] J[i, s] + H[i, s]        (ū_s = ū_j J[s+1, j])

so the whole Hessian H[0, K−1] = Σ_k J_{<k}ᵀ (ū_k·∇²f_k) J_{<k} can be bracketed like a
matrix chain. Each sub-chain takes the cheapest of: its one layer's local Hessian (a leaf;
zero for an affine layer), forward-over-reverse on it alone (``pure``), or a split, which
adds its Jacobian J[i, s] (forward or reverse mode, whichever has fewer multiply-adds) and
the congruence J ᵀ H J (w_{s+1}² w_i + w_i² w_{s+1}, plus w_i² for the sum). One value
sweep keeps every point's value and one backward sweep every ū_k (``globals``). Chains
whose bracketing saves nothing run forward-over-reverse whole.
"""

from __future__ import annotations

from dataclasses import fields, replace
from functools import lru_cache

from ..model.shape import ChainShape
from .predictions import F64
from .second_order import SecondCounts, predict_second
from .sweeps import forward_plan, reverse_plan

MODE = "hessian-optimal"
ZERO = SecondCounts(MODE, 0, 0, 0, 0, 0, 0, 0, 0)


def total(*parts: SecondCounts) -> SecondCounts:
    """The counters of parts run one after the other (bytes summed: an upper bound)."""
    sums = {f.name: sum(getattr(p, f.name) for p in parts) for f in fields(SecondCounts)
            if f.name not in ("mode", "chunk")}
    return SecondCounts(MODE, 0, **sums)


def sub(shape: ChainShape, i: int, j: int) -> ChainShape:
    """Layers i..j of ``shape`` as a chain of their own."""
    return ChainShape(shape.layers[i : j + 1], shape.widths[i : j + 2])


def as_second(counts, mode: str = MODE) -> SecondCounts:
    """A first-order prediction as second-order counters (no curvature)."""
    kept = {f.name: getattr(counts, f.name) for f in fields(counts)
            if f.name in SecondCounts.__dataclass_fields__ and f.name not in ("mode", "chunk")}
    return SecondCounts(mode, 0, **kept)


def jacobian_mode(shape: ChainShape) -> str:
    """'forward' or 'reverse', whichever predicts fewer multiply-adds (forward on a tie)."""
    return min(("forward", "reverse"), key=lambda m: _first_order(shape, m).madds)


def _first_order(shape, mode):
    return (forward_plan if mode == "forward" else reverse_plan)(shape).prediction()


def globals_counts(shape: ChainShape) -> SecondCounts:
    """The value sweep keeping every point (and the tape) and the sweep keeping every ū."""
    first = [cls.cost(shape.widths[k], shape.widths[k + 1]) for k, cls in enumerate(shape.layers)]
    tape = sum(c.saved for c in first)
    return SecondCounts(MODE, 0, 1, 1, madds_value=sum(c.value for c in first),
                        madds_tangent=0, madds_adjoint=sum(c.adjoint for c in first[1:]),
                        bytes_tape=F64 * (tape + 2 * sum(shape.widths)), bytes_work=0,
                        layer_steps=shape.depth, tape_entries=shape.depth)


def leaf_counts(shape: ChainShape, k: int) -> SecondCounts:
    """Layer k's local Hessian ū_k·∇²f_k: its record, Jacobian and curvature over the
    identity's w_k lanes."""
    w_in, w_out = shape.widths[k], shape.widths[k + 1]
    first, second = shape.layers[k].cost(w_in, w_out), shape.layers[k].second_cost(w_in, w_out)
    return SecondCounts(MODE, 0, 0, 0, madds_value=first.value, madds_tangent=0,
                        madds_adjoint=0, madds_accumulate=first.explicit,
                        madds_curvature=second.record + w_in * second.curvature,
                        bytes_tape=0, bytes_work=0)  # a few (w, w) blocks, not counted


def congruence_madds(w_i: int, w_s: int) -> int:
    """J ᵀ H J for J (w_s, w_i) and H (w_s, w_s), added to a (w_i, w_i) Hessian."""
    return w_s * w_s * w_i + w_i * w_i * w_s + w_i * w_i


@lru_cache(maxsize=64)
def plan_hessian(shape: ChainShape) -> tuple[tuple, SecondCounts]:
    """(plan, predicted counters) of the bracketing with the fewest multiply-adds. A plan:
    ("whole",) forward-over-reverse on the whole chain, or ("dp", node) with nodes
    ("zero", i, j), ("leaf", k), ("pure", i, j), ("split", i, s, j, jacobian mode, left,
    right)."""
    K, w = shape.depth, shape.widths
    curved = [cls.second_cost(w[k], w[k + 1]).curvature > 0 for k, cls in enumerate(shape.layers)]
    best: dict[tuple[int, int], tuple[tuple, SecondCounts]] = {}
    for length in range(1, K + 1):
        for i in range(K - length + 1):
            j = i + length - 1
            if not any(curved[i : j + 1]):
                best[i, j] = (("zero", i, j), ZERO)
                continue
            options = [(("leaf", i), leaf_counts(shape, i))] if i == j else [
                (("pure", i, j), as_second(predict_second(sub(shape, i, j),
                                                          "forward-over-reverse")))]
            for s in range(i, j):
                (left, lc), (right, rc) = best[i, s], best[s + 1, j]
                if right[0] == "zero":
                    options.append((("split", i, s, j, None, left, right), lc))
                    continue
                jac = jacobian_mode(sub(shape, i, s))
                product = as_second(_first_order(sub(shape, i, s), jac))
                if jac == "reverse":  # its recording sweep's tape entries, one a layer
                    product = replace(product, tape_entries=s + 1 - i)
                congruence = replace_accumulate(congruence_madds(w[i], w[s + 1]))
                options.append((("split", i, s, j, jac, left, right),
                                total(lc, rc, product, congruence)))
            best[i, j] = min(options, key=lambda option: option[1].madds)
    node, counts = best[0, K - 1]
    bracketed = total(globals_counts(shape), counts)
    whole = predict_second(shape, "forward-over-reverse")
    if whole.madds <= bracketed.madds:
        return ("whole",), SecondCounts(**{**whole.__dict__, "mode": MODE})
    return ("dp", node), bracketed


def replace_accumulate(madds: int) -> SecondCounts:
    return SecondCounts(MODE, 0, 0, 0, 0, 0, 0, 0, 0, madds_accumulate=madds)
