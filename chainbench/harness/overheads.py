"""chainbench's own fixed costs on this machine, for the time model: per Jacobian call and
per layer pass, timed through the public API on chains too small to do any work.

Two reverse-mode chains of 2-wide dense layers, one layer deep and 17 deep: the deep one's
extra time over its extra passes is the per-pass cost, the shallow one's time less its
passes is the per-call cost. Measured once per machine and code version (about 0.1 s after
the kernels are compiled) and cached beside the machine profile.
"""

from __future__ import annotations

import time

import numpy as np

from ..api import jacobian
from ..cost.passes import pass_runs, reverse_passes
from ..cost.time_model import Overheads, cached_overheads, save_overheads
from ..model.chain import Chain

DEEP = 17


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
    """Per-call and per-pass seconds of a reverse-mode Jacobian through ``jacobian``."""
    shallow = Chain.from_spec("dense:2", 2)
    deep = Chain.from_spec(" ".join(["dense:2"] * DEEP), 2)
    t1, t2 = _best_call_s(shallow), _best_call_s(deep)
    p1, p2 = pass_runs(reverse_passes(shallow.shape)), pass_runs(reverse_passes(deep.shape))
    per_pass = max(0.0, (t2 - t1) / (p2 - p1))
    return Overheads(max(0.0, t1 - p1 * per_pass), per_pass)


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
