"""Machine-independent guards of the regression gate: figures a benchmark run yields that
should hold on any machine, so they need no baseline.

- fitted exponents of Jacobian time against n (standard chain, m = 1): forward ≈ 3
  (one sweep with n tangent lanes through n×n layers), reverse ≈ 2 (one backward sweep);
- reverse-mode J/F for a gradient stays below a small constant (the cheap-gradient
  principle; the theory sheet says 3–4);
- the forward/reverse time ratio grows with n (theory: ∝ n).

All read the ``jacobian`` and ``evaluate`` benchmarks of the scaling series (``GUARD_N``)
from a pytest-benchmark JSON document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .harness.fits import loglog_slope

#: Sizes the guards fit on: moderate n, where every point does real work (the smallest
#: still takes well over the fixed per-call cost) and, on common CPUs, the four n×n
#: weight matrices (8 MiB at n = 512) stay in the last-level cache. Across a cache edge
#: the memory-bound reverse sweep steepens (2.6 over n = 256..1024 on a 32 MiB-L3 EPYC).
GUARD_N = (192, 256, 384, 512)

#: The whole scaling series the benchmarks run (tests/benchmarks): GUARD_N in the quick
#: gate, with small and large n added in the full run for the record.
SCALING_N = (64, 128, *GUARD_N, 1024)

#: mode -> (expected exponent, tolerance): the fit must land within expected ± tolerance.
#: Over 20 runs on a 2-core EPYC the fits gave 2.92..3.07 (forward) and 1.64..1.95
#: (reverse: its fixed per-call cost weighs most at small n and flattens the fit).
#: A reverse mode gone O(n³) fits ≈ 3; one dominated by a fixed per-call cost, towards 0.
EXPONENTS = {"forward": (3.0, 0.5), "reverse": (2.0, 0.6)}

#: Reverse-mode gradient time over evaluation time must stay below this at every GUARD_N.
JF_BOUND = 4.0

#: The log-log slope of forward time / reverse time against n must reach at least this.
RATIO_SLOPE_MIN = 0.5


@dataclass(frozen=True)
class Guard:
    """The verdict of one guard: ``ok`` is None when the run lacked the data for it."""

    name: str
    ok: bool | None
    message: str


def scaling_series(benchmarks: list[dict], kind: str, mode: str | None = None,
                   stat: str = "min") -> dict[int, float]:
    """n -> seconds (``stat`` of the rounds) of the standard chain (m = 1, depth 4, default
    chunk) at GUARD_N, for ``kind`` 'jacobian' (with ``mode``) or 'evaluate'."""
    out = {}
    for bench in benchmarks:
        info = bench.get("extra_info", {})
        if info.get("kind") != kind or info.get("n") not in GUARD_N:
            continue
        if info.get("m") != 1 or info.get("depth") != 4:
            continue
        if kind == "jacobian" and (info.get("mode") != mode or info.get("chunk") != "auto"):
            continue
        out[int(info["n"])] = float(bench["stats"][stat])
    return out


def _complete(series: dict[int, float]) -> bool:
    return all(n in series for n in GUARD_N)


def _sizes() -> str:
    return f"n={GUARD_N[0]}..{GUARD_N[-1]}"


def exponent_guard(series: dict[int, float], mode: str) -> Guard:
    name = f"{mode} exponent"
    if not _complete(series):
        return Guard(name, None, f"{name}: skipped, the run lacks {mode} Jacobians at {_sizes()}")
    expected, tol = EXPONENTS[mode]
    # every GUARD_N point does real work, so fit them all (scaling_exponent would keep only
    # the largest three here, its compute-range rule being meant for series from tiny n)
    fit = loglog_slope(np.array(GUARD_N, dtype=float), [series[k] for k in GUARD_N])
    ok = abs(fit.slope - expected) <= tol
    return Guard(name, ok, (
        f"{name}: fitted {fit.slope:.2f} (95 % CI {fit.low:.2f}..{fit.high:.2f}) over {_sizes()}, "
        f"{'within' if ok else 'OUTSIDE'} {expected:g} ± {tol:g}"
    ))


def jf_guard(reverse: dict[int, float], evaluate: dict[int, float]) -> Guard:
    name = "reverse J/F"
    if not (_complete(reverse) and _complete(evaluate)):
        return Guard(name, None, f"{name}: skipped, the run lacks reverse Jacobians and F at {_sizes()}")
    ratios = {n: reverse[n] / evaluate[n] for n in GUARD_N}
    worst = max(ratios, key=ratios.get)
    ok = ratios[worst] <= JF_BOUND
    shown = ", ".join(f"{ratios[n]:.2f}" for n in GUARD_N)
    return Guard(name, ok, (
        f"{name} for a gradient: {shown} at {_sizes()}; largest {ratios[worst]:.2f} at n={worst} "
        f"{'≤' if ok else 'ABOVE'} bound {JF_BOUND:g}"
    ))


def ratio_guard(forward: dict[int, float], reverse: dict[int, float]) -> Guard:
    name = "forward/reverse ratio"
    if not (_complete(forward) and _complete(reverse)):
        return Guard(name, None, f"{name}: skipped, the run lacks both modes at {_sizes()}")
    ratio = [forward[n] / reverse[n] for n in GUARD_N]
    fit = loglog_slope(np.array(GUARD_N, dtype=float), ratio)
    ok = fit.slope >= RATIO_SLOPE_MIN
    return Guard(name, ok, (
        f"{name}: {ratio[0]:.1f} at n={GUARD_N[0]} to {ratio[-1]:.1f} at n={GUARD_N[-1]}, "
        f"log-log slope {fit.slope:.2f} {'≥' if ok else 'BELOW'} {RATIO_SLOPE_MIN:g} (theory 1)"
    ))


def run_guards(benchmarks: list[dict], stat: str = "min") -> list[Guard]:
    """Every guard on the ``benchmarks`` list of one pytest-benchmark JSON document, on the
    ``stat`` of each benchmark's rounds."""
    fwd = scaling_series(benchmarks, "jacobian", "forward", stat)
    rev = scaling_series(benchmarks, "jacobian", "reverse", stat)
    ev = scaling_series(benchmarks, "evaluate", stat=stat)
    return [exponent_guard(fwd, "forward"), exponent_guard(rev, "reverse"),
            jf_guard(rev, ev), ratio_guard(fwd, rev)]
