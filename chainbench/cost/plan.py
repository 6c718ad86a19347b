"""Optimal Jacobian-chain bracketing: dynamic programming over sub-chains that chooses, for
each, to push tangents, pull adjoints, or multiply two accumulated Jacobians (O(K³)).

Layers are numbered 1..K in printed plans; internally a step covers layers lo..hi-1
(0-based, half-open) and yields their Jacobian J[lo:hi], a dense (n_hi, n_lo) block.
Costs are multiply-adds from each layer's LayerCost:
  tangents  n_lo · Σ T_l  over the layers pushed through (one lane per input column)
  adjoints  n_hi · Σ A_l  over the layers pulled through (one row per output row)
  product   n_hi · n_mid · n_lo
  explicit  the layer's Jacobian written out, n_hi · n_lo entries
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..model.chain import Chain, ChainShape, shape_of

KINDS = ("explicit", "tangents", "adjoints", "product")


@dataclass(frozen=True)
class Step:
    """J[lo:hi] by ``kind``; ``inner`` is the step whose block it extends (None: identity
    seed), ``left``/``right`` the factors of a product, ``mid`` where the range splits."""

    kind: str
    lo: int
    hi: int
    mid: int
    cost: float  # this step alone, as the plan was priced (multiply-adds, or seconds)
    total: float  # this step and everything below it
    inner: Step | None = None
    left: Step | None = None
    right: Step | None = None
    madds: int = 0  # multiply-adds of this step alone, however the plan was priced
    #: 'tangents' or 'adjoints' when the whole step is a pure mode's sweeps (``whole``),
    #: which that engine's own kernel runs, sparing the bracketing's block copies
    pure: str | None = None

    def expression(self) -> str:
        """Bracketed expression: fwd[i..j](X) pushes X's columns through layers i..j,
        rev[i..j](X) pulls X's rows back through them, (A × B) multiplies, Jk is explicit."""
        if self.kind == "explicit":
            return f"J{self.lo + 1}"
        if self.kind == "product":
            return f"({self.left.expression()} × {self.right.expression()})"
        # consecutive steps of one kind print as one range: fwd[2..3](fwd[1..1]) is fwd[1..3]
        step, inner = self, self.inner
        while inner is not None and inner.kind == self.kind:
            step, inner = inner, inner.inner
        args = "" if inner is None else f"({inner.expression()})"
        if self.kind == "tangents":
            first = step.lo if inner is None else step.mid
            return f"fwd[{first + 1}..{self.hi}]{args}"
        last = step.hi if inner is None else step.mid
        return f"rev[{self.lo + 1}..{last}]{args}"

    @classmethod
    def whole(cls, shape: ChainShape, kind: str) -> Step:
        """A pure mode as a bracketing: forward mode's fwd[2..K](J1) ('tangents') or reverse
        mode's rev[1..K-1](JK) ('adjoints'), marked as run by that engine's own kernel."""
        madds = MaddCosts(shape)
        k = shape.depth
        if kind == "tangents":
            seed = Step("explicit", 0, 1, 0, 0, 0, madds=madds.explicit(0))
            args = (0, 1, k)
        else:
            seed = Step("explicit", k - 1, k, k - 1, 0, 0, madds=madds.explicit(k - 1))
            args = (0, k - 1, k)
        if k == 1:  # one layer: the seed is the whole Jacobian
            return Step("explicit", 0, 1, 0, 0, 0, madds=seed.madds, pure=kind)
        cost = getattr(madds, kind)(*args)
        return Step(kind, 0, k, args[1], cost, cost + seed.madds, inner=seed,
                    madds=cost, pure=kind)

    def steps(self):
        """This step and all below it, children first (execution order)."""
        for child in (self.inner, self.right, self.left):
            if child is not None:
                yield from child.steps()
        yield self


def _shape(chain) -> ChainShape:
    return shape_of(chain)


class MaddCosts:
    """What each kind of step costs in multiply-adds (the default pricing of ``plan``).
    A pricing is any object with these four methods; ``optimal.TimeCosts`` prices in seconds."""

    def __init__(self, shape: ChainShape):
        self.w = shape.widths
        self.costs = [cls.cost(self.w[k], self.w[k + 1]) for k, cls in enumerate(shape.layers)]
        self.T, self.A = [0], [0]
        for c in self.costs:  # prefix sums: Σ over layers lo..hi-1 is T[hi] - T[lo]
            self.T.append(self.T[-1] + c.tangent)
            self.A.append(self.A[-1] + c.adjoint)

    def tangents(self, lo: int, first: int, hi: int):
        """n_lo lanes pushed through layers first..hi-1."""
        return self.w[lo] * (self.T[hi] - self.T[first])

    def adjoints(self, lo: int, last: int, hi: int):
        """n_hi rows pulled back through layers lo..last-1."""
        return self.w[hi] * (self.A[last] - self.A[lo])

    def explicit(self, k: int):
        return self.costs[k].explicit

    def product(self, lo: int, mid: int, hi: int):
        return self.w[hi] * self.w[mid] * self.w[lo]


def plan(chain: Chain | ChainShape, allow: tuple[str, ...] = KINDS, costs=None) -> Step:
    """The cheapest way to accumulate the whole Jacobian (ties go to the simpler step:
    tangents, then adjoints, then products), priced by ``costs`` (default ``MaddCosts``:
    multiply-adds). ``allow`` restricts the kinds of step, e.g. ("explicit", "product")
    gives the classic matrix-chain order."""
    shape = _shape(chain)
    if costs is None:
        return _plan_madds(shape, tuple(allow))
    return _plan(shape, tuple(allow), costs)


@lru_cache(maxsize=256)
def _plan_madds(shape: ChainShape, allow: tuple[str, ...]) -> Step:
    return _plan(shape, allow, MaddCosts(shape))


def _options(lo: int, hi: int, allow, price, madds: MaddCosts, best: dict) -> list[Step]:
    """Every way to form J[lo:hi] from the best plans of its sub-ranges."""
    options = []

    def step(kind, mid, args, below=0.0, **links):
        cost = getattr(price, kind)(*args)
        options.append(Step(kind, lo, hi, mid, cost, below + cost, **links,
                            madds=getattr(madds, kind)(*args)))

    if "tangents" in allow:  # the pure modes over the whole range, from an identity seed
        step("tangents", lo, (lo, lo, hi))
    if "adjoints" in allow:
        step("adjoints", hi, (lo, hi, hi))
    if hi - lo == 1 and "explicit" in allow:
        step("explicit", lo, (lo,))
    for mid in range(lo + 1, hi):
        below, above = best.get((lo, mid)), best.get((mid, hi))
        if below is None or above is None:
            continue
        if "tangents" in allow:
            step("tangents", mid, (lo, mid, hi), below.total, inner=below)
        if "adjoints" in allow:
            step("adjoints", mid, (lo, mid, hi), above.total, inner=above)
        if "product" in allow:
            step("product", mid, (lo, mid, hi), below.total + above.total, left=above,
                 right=below)
    return options


def _plan(shape: ChainShape, allow: tuple[str, ...], price) -> Step:
    K, madds = shape.depth, MaddCosts(shape)
    best: dict[tuple[int, int], Step] = {}
    for length in range(1, K + 1):
        for lo in range(0, K - length + 1):
            options = _options(lo, lo + length, allow, price, madds, best)
            if options:
                best[(lo, lo + length)] = min(
                    options, key=lambda s: (s.total, KINDS.index(s.kind) % 3))
    if (0, K) not in best:
        raise ValueError(f"no plan with steps {allow}: allow 'tangents' or 'adjoints', or "
                         "'explicit' with 'product'")
    return best[(0, K)]


def pure_costs(chain: Chain | ChainShape) -> tuple[int, int]:
    """Derivative multiply-adds of textbook pure forward (n·Σ T) and pure reverse (m·Σ A),
    from the identity seed (the theory sheet's figures)."""
    shape = _shape(chain)
    w = shape.widths
    costs = [cls.cost(w[k], w[k + 1]) for k, cls in enumerate(shape.layers)]
    return shape.n * sum(c.tangent for c in costs), shape.m * sum(c.adjoint for c in costs)
