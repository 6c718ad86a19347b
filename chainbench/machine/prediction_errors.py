"""How far the time model misses on this machine, by the kind of pass a call's time goes to
(``cost.bands``): a few whole Jacobian calls, each bound mostly by one kind, timed and
compared with their predictions. The band of a kind is the largest |ln(measured /
predicted)| of its calls. Measured with chainbench's own costs (a second or two) and kept
beside them in the profile (``Overheads.errors``), so choices (``cost.choice``) leave a safe
default only for a predicted gain larger than the error measured here.

Like ``own_costs`` it times chainbench through its public API, so it sits above the API.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from ..bound import bind
from ..cost.bands import KINDS, dominant_kind
from ..model.chain import Chain
from .pass_kernels import best_seconds

#: (spec, n, mode, chunk): calls chosen so that each kind of pass dominates one or more
#: (which kind each one is bound by is read from its plan, not assumed): square products
#: of many lanes, skinny products in both orientations (tangents W @ X, adjoints Y @ W,
#: the 250 → 256 → 1024 → 256 chain on which a 10 % predicted gain once lost 1.8×), matrix-
#: vector products in and beyond the caches, elementwise rules, and tiny calls (fixed costs).
CASES = (
    ("dense:256 tanh dense:256 tanh dense:1", 256, "forward", None),
    ("dense:256 tanh dense:1024 tanh dense:256", 250, "reverse", 4),
    ("dense:256 tanh dense:256 tanh dense:1", 256, "forward", 4),
    ("dense:512 tanh dense:512 tanh dense:1", 512, "reverse", None),
    ("dense:1448 tanh dense:1448 tanh dense:1", 1448, "reverse", None),
    ("tanh sigmoid softplus tanh dense:1", 65536, "reverse", None),
    ("dense:64 tanh dense:64 tanh dense:64", 64, "reverse", None),
    ("dense:8 tanh dense:8 tanh dense:1", 8, "reverse", None),
)
#: Each call is timed for about this long (best of SAMPLES), after one untimed call.
SAMPLE_S = 0.02
SAMPLES = 5


def measure_errors(profile) -> tuple[tuple[str, float], ...]:
    """(kind, band) for every kind some case is bound by, on ``profile`` (which holds the
    own costs just measured): the largest |ln(measured / predicted)| of that kind's cases."""
    rng = np.random.default_rng(0)
    worst: dict[str, float] = {}
    for spec, n, mode, chunk in CASES:
        chain = Chain.from_spec(spec, n, seed=0)
        bound = bind(chain, mode, chunk)
        x = 0.5 * rng.standard_normal(n)
        J = np.empty((chain.m, n))
        measured = best_seconds(partial(bound, x, out=J), SAMPLE_S * SAMPLES, SAMPLES)
        predicted = bound.price(profile).seconds
        kind = dominant_kind(bound.plan, profile)
        worst[kind] = max(worst.get(kind, 0.0), abs(math.log(measured / predicted)))
    return tuple((k, worst[k]) for k in KINDS if k in worst)
