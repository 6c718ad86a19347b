"""Test helpers: seeded random chains over every registered layer, and finite differences."""

from __future__ import annotations

import numpy as np

import chainbench as cb
from chainbench import LAYERS

#: Layer names, in registry order; tests that iterate over these cover a new layer for free.
KINDS = tuple(LAYERS)
#: Layers whose spec token sets the output width (``dense:WIDTH``); the others keep it.
WIDTH_KINDS = tuple(name for name, cls in LAYERS.items() if cls.takes_width)
#: Output/input width relations a random chain can be drawn with.
SHAPES = ("m=1", "m=n", "m>n")
#: Layers with a kink at 0, where central differences are wrong if a step crosses it.
KINKED = (cb.ReLU,)

MAX_WIDTH = 64
MAX_DEPTH = 6

# Central-difference step, relative to max(1, |x_j|). The error of a central difference is
# about eps·|f|/h (rounding) + h²·|f'''|/6 (truncation). With h = 6e-6 ≈ eps^(1/3) both terms
# are ~1e-10 for the O(1..10) values and derivatives these chains produce (LeCun-normal
# weights keep pre-activations O(1)), so FD_RTOL = 1e-6 leaves a margin of ~10⁴ while a wrong
# rule (a dropped factor, a sign, a transposed W) is off by O(1e-2) or more. (Measured: the
# worst relative difference over 300 random chains was 8e-11.)
H = 6e-6
FD_RTOL = 1e-6
# Forward and reverse mode compute the same sums in a different order: they agree to roundoff.
AD_RTOL = 1e-11


#: Layers whose Jacobian does not depend on x (affine maps): dense, conv, grouped.
AFFINE = ("dense", "conv", "grouped")


def token(name: str, in_width: int, out_width: int | None = None,
          rng: np.random.Generator | None = None) -> str:
    """A valid spec token for layer ``name`` after a layer of ``in_width``: WIDTH is
    ``out_width``; a conv's K an odd size no wider than the layer (random with ``rng``, else
    the largest up to 5); a grouped layer's G a common divisor of both widths."""
    args = []
    for what in LAYERS[name].arguments:
        if what == "WIDTH":
            args.append(out_width)
        elif what == "K":
            sizes = list(range(1, min(in_width, 7) + 1, 2))
            args.append(int(rng.choice(sizes)) if rng is not None else sizes[min(2, len(sizes) - 1)])
        elif what == "G":
            both = [g for g in range(1, in_width + 1) if in_width % g == 0 and out_width % g == 0]
            args.append(int(rng.choice(both)) if rng is not None else both[-1])
        else:
            raise AssertionError(f"tests/chain_helpers.token: say how to pick {what} of {name}")
    return ":".join([name, *map(str, args)])


def spec_for(kinds, widths, n: int, rng: np.random.Generator | None = None) -> str:
    """Spec string for layer names ``kinds`` on n inputs; width-taking layers take the next
    of ``widths``, other arguments as ``token`` picks them."""
    widths, tokens, w = iter(widths), [], n
    for k in kinds:
        out = next(widths) if LAYERS[k].takes_width else w
        tokens.append(token(k, w, out, rng))
        w = out
    return " ".join(tokens)


def random_chain(rng: np.random.Generator, shape: str | None = None, depth: int | None = None,
                 include: str | None = None, max_width: int = MAX_WIDTH) -> cb.Chain:
    """A seeded random chain: depth 1..MAX_DEPTH, widths 1..max_width, layers drawn from
    the whole registry (``include`` forces one kind in), and n, m related as ``shape`` says."""
    shape = shape or str(rng.choice(SHAPES))
    if shape == "m=1":
        n, m = int(rng.integers(2, max_width + 1)), 1
    elif shape == "m=n":
        n = m = int(rng.integers(1, max_width + 1))
    elif shape == "m>n":
        n = int(rng.integers(1, max_width // 2 + 1))
        m = int(rng.integers(n + 1, max_width + 1))
    else:
        raise ValueError(f"shape must be one of {SHAPES}, got {shape!r}")
    depth = depth or int(rng.integers(1, MAX_DEPTH + 1))
    kinds = [str(k) for k in rng.choice(KINDS, size=depth)]
    if include is not None:
        kinds[int(rng.integers(depth))] = include
    sizers = [k for k, name in enumerate(kinds) if LAYERS[name].takes_width]
    if m != n and not sizers:  # only a width-taking layer can change n into m
        kept = kinds.index(include) if include else -1  # keep one forced layer in place
        free = [k for k in range(depth) if k != kept]
        k = int(rng.choice(free)) if free else depth  # depth 1 and forced: append instead
        kinds[k:k + 1] = [str(rng.choice(WIDTH_KINDS))]
        sizers = [k]
    widths = [int(rng.integers(1, max_width + 1)) for _ in sizers[:-1]] + [m] * bool(sizers)
    chain = cb.Chain.from_spec(spec_for(kinds, widths, n, rng), n=n, seed=int(rng.integers(2**31)))
    assert (chain.n, chain.m) == (n, m)
    return chain


def seeded_chains(count: int) -> list[cb.Chain]:
    """``count`` random chains from seeds 0.., cycling through shapes and forced kinds, so
    every registered layer and every shape appears."""
    return [
        random_chain(np.random.default_rng(seed), shape=SHAPES[seed % len(SHAPES)],
                     include=KINDS[seed % len(KINDS)])
        for seed in range(count)
    ]


def fd_jacobian(f, x: np.ndarray, h: float = H) -> np.ndarray:
    """Central-difference Jacobian of f at x, column by column."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for j in range(x.size):
        xp, xm = x.copy(), x.copy()
        xp[j] += h * max(1.0, abs(x[j]))
        xm[j] -= h * max(1.0, abs(x[j]))
        cols.append((np.asarray(f(xp)) - np.asarray(f(xm))) / (xp[j] - xm[j]))  # exact step
    return np.stack(cols, axis=1)


def kink_crossed(chain: cb.Chain, x: np.ndarray, h: float = H) -> bool:
    """Whether some central-difference step at x moves an input of a kinked layer (ReLU)
    across 0, which is the only way the differences can disagree with the one-sided rule."""
    for k, layer in enumerate(chain.layers):
        if not isinstance(layer, KINKED):
            continue
        before = cb.Chain(chain.layers[:k], n=chain.n) if k else (lambda v: v)
        side = before(x) > 0
        for j in range(x.size):
            for sign in (1.0, -1.0):
                xs = x.copy()
                xs[j] += sign * h * max(1.0, abs(x[j]))
                if not np.array_equal(before(xs) > 0, side):
                    return True
    return False


def fd_point(chain: cb.Chain, rng: np.random.Generator, scale: float = 1.0) -> np.ndarray:
    """A standard-normal (times ``scale``) point where no difference step crosses a kink:
    redraws (deterministically, from rng) instead of skipping any comparison."""
    for _ in range(20):
        x = scale * rng.standard_normal(chain.n)
        if not kink_crossed(chain, x):
            return x
    raise AssertionError(f"no kink-free point found for {chain!r}")


def assert_matches_fd(J: np.ndarray, J_fd: np.ndarray, what: str = "") -> None:
    """J agrees with central differences to FD_RTOL, relative to the largest entry (tiny
    entries carry the same absolute difference error as large ones)."""
    scale = max(1.0, float(np.abs(J_fd).max(initial=0.0)))
    np.testing.assert_allclose(J, J_fd, rtol=FD_RTOL, atol=FD_RTOL * scale, err_msg=what)


def assert_same_jacobian(A: np.ndarray, B: np.ndarray, what: str = "") -> None:
    """Two AD results agree to roundoff (AD_RTOL, relative to the largest entry)."""
    scale = max(1.0, float(np.abs(A).max(initial=0.0)))
    np.testing.assert_allclose(A, B, rtol=AD_RTOL, atol=AD_RTOL * scale, err_msg=what)
