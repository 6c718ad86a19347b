"""chainbench's own fixed costs on this machine, for the time model: per Jacobian call and
per layer pass, timed through the public API on chains too small to do any work, and what
each parameter-free layer's rules cost per entry.

Two reverse-mode chains of 2-wide dense layers, one layer deep and 17 deep: the deep one's
extra time over its extra passes is the per-pass cost, the shallow one's time less its
passes is the per-call cost. A layer's cost per entry is the extra time of ENTRY_DEPTH
copies of it over one, at ENTRY_WIDTH wide, per entry: f(x) for its value rule, a VJP (its
record rule and the multiply back) for its record rule. Measured once per machine and code
version (about a second after the kernels are compiled) and cached beside the profile.
"""

from __future__ import annotations

import time

import numpy as np

from ..api import jacobian, vjp
from ..cost.passes import pass_runs, reverse_passes
from ..cost.time_model import Overheads, cached_overheads, save_overheads
from ..model.chain import Chain
from ..model.layers import LAYERS

DEEP = 17
ENTRY_WIDTH = 1024
ENTRY_DEPTH = 5


def _best_call_s(chain: Chain, calls: int = 400, samples: int = 7) -> float:
    x = np.zeros(chain.n)
    jacobian(chain, x, "reverse")  # compiled (or loaded) before timing
    best = float("inf")
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(calls):
            jacobian(chain, x, "reverse")
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def measure_overheads() -> Overheads:
    """Per-call and per-pass seconds of a reverse-mode Jacobian through ``jacobian``, and
    the parameter-free layers' costs per entry."""
    shallow = Chain.from_spec("dense:2", 2)
    deep = Chain.from_spec(" ".join(["dense:2"] * DEEP), 2)
    t1, t2 = _best_call_s(shallow), _best_call_s(deep)
    p1, p2 = pass_runs(reverse_passes(shallow.shape)), pass_runs(reverse_passes(deep.shape))
    per_pass = max(0.0, (t2 - t1) / (p2 - p1))
    return Overheads(max(0.0, t1 - p1 * per_pass), per_pass, entry_s=measure_entry_costs())


def _best_s(run, calls: int = 40, samples: int = 5) -> float:
    run()  # compiled (or loaded) before timing
    best = float("inf")
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def measure_entry_costs() -> tuple[tuple[str, float, float], ...]:
    """(layer name, seconds per entry of its value rule, of its record rule) for every
    registered layer whose spec token is its bare name and that has no parameters."""
    w, rng = ENTRY_WIDTH, np.random.default_rng(0)
    x, u = 0.5 * rng.standard_normal(w), np.ones(w)
    out = []
    for name, cls in LAYERS.items():
        if cls.takes_width or cls.matrix_product or cls.parameters(w, w):
            continue
        try:
            chains = [Chain.from_spec(" ".join([name] * d), w) for d in (1, ENTRY_DEPTH)]
        except (ValueError, TypeError):  # a token that needs arguments: priced by its bytes
            continue
        value = [_best_s(lambda c=c: c(x)) for c in chains]
        record = [_best_s(lambda c=c: vjp(c, x, u)) for c in chains]

        def per_entry(t):
            return max(0.0, (t[1] - t[0]) / (ENTRY_DEPTH - 1) / w)

        out.append((name, per_entry(value), per_entry(record)))
    return tuple(out)


def ensure_overheads(profile, announce=None) -> Overheads:
    """The cached overheads of this machine and code, measured now if there are none."""
    known = cached_overheads(profile)
    if known.measured:
        return known
    if announce is not None:
        announce("measuring chainbench's per-call and per-pass overheads (cached afterwards) …")
    measured = measure_overheads()
    try:
        save_overheads(profile, measured)
    except OSError:  # a read-only cache: measured again next time
        pass
    return measured
