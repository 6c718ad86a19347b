"""Guards that physics keeps on any CPU, measured on the code under test alone: scaling
exponents, the cheap-gradient bound and the growth of forward over reverse, each fitted only
over sizes where the algorithm, not the machine's memory hierarchy, sets the slope.

- forward exponent ≈ 3: one sweep of n tangent lanes through n×n layers is n³ multiply-adds
  per layer; fitted where the machine profile's GEMM rate is flat (compute-bound);
- reverse exponent ≈ 2 for a gradient (m = 1): one backward sweep of matrix-vector products,
  memory-bound, so fitted only over sizes whose weights (depth·n²·8 bytes) lie inside ONE
  measured memory level, well above the per-call overhead;
- reverse J/F ≤ 4 at those sizes (the cheap-gradient principle);
- forward/reverse time grows with n (theory ∝ n): log-log slope ≥ 0.5 over forward's
  sizes whose gradient weights lie inside one level.

Sizes come from the quarter-octave grid ``cases.GRID``: for reverse the highest memory level
with 3 candidates, for the ratio compute-bound sizes whose gradients share one level (fewer than 3
anywhere: the guard is skipped, with the reason, rather than fitted across a cache edge).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cases import GRID, scaling_cases

DEPTH = 4
#: mode -> (expected exponent, tolerance). A reverse mode gone O(n³) fits ≈ 3, one lost in
#: per-call overhead ≈ 0; forward fitted across GEMM's ramp-up steepens towards 3.5.
EXPONENTS = {"forward": (3.0, 0.5), "reverse": (2.0, 0.5)}
JF_BOUND = 4.0
RATIO_SLOPE_MIN = 0.5
MIN_SIZES, MAX_SIZES = 3, 5
#: A guard size's predicted time must be this many profile call overheads (a trivial jitted
#: call): a Jacobian's own Python path costs ~20 of those (5 µs against 0.27 µs on a 2-core
#: EPYC), and it should weigh < 10 % at the smallest size, or it flattens the fitted slope
#: (reverse fitted 1.67 over n = 181..512 there, where n = 181 took 49 µs).
OVERHEAD_FACTOR = 200.0
#: Forward is measured at every guard size; its predicted call must stay below this.
CALL_MAX_S = 0.1
#: Compute-bound: the profile's GEMM rate at k = n is at least this fraction of its peak.
COMPUTE_BOUND = 0.6
#: A guard point's time is the least of REPEATS repeats in each of PASSES passes.
REPEATS, PASSES = 3, 3


def weights_bytes(n: int, depth: int = DEPTH) -> float:
    """Bytes of the depth n×n weight matrices: the working set of a gradient sweep."""
    return depth * n * n * 8.0


def gemm_rate(profile, k: float) -> float:
    """Multiply-adds per second of a k×k product, interpolated log-log in the profile and
    held constant beyond the measured ks."""
    ks, rates = zip(*sorted(profile.gemm))
    return float(np.exp(np.interp(np.log(k), np.log(ks), np.log(rates))))


def predicted_reverse_s(profile, n: int) -> float:
    """A gradient reads its weights twice (record, then pull) at the level's bandwidth."""
    nbytes = weights_bytes(n)
    return 2.0 * nbytes / profile.bandwidth_at(nbytes)


def predicted_forward_s(profile, n: int) -> float:
    return DEPTH * float(n) ** 3 / gemm_rate(profile, n)


@dataclass(frozen=True)
class SizeChoice:
    """The sizes a guard fits over, the regime they share, and why (or why none)."""

    sizes: tuple[int, ...]
    regime: str | None
    reason: str


def reverse_sizes(profile, grid=GRID) -> SizeChoice:
    """Grid sizes for the reverse exponent and J/F: in the highest memory level that holds
    ≥ MIN_SIZES of them safely inside it, whose gradient takes ≥ OVERHEAD_FACTOR per-call
    overheads and ≤ CALL_MAX_S; at most MAX_SIZES, the largest. The highest level, because
    there the n² sweep outweighs most the O(n) activations and the fixed per-call cost."""
    floor = OVERHEAD_FACTOR * profile.call_overhead_s
    counted, best = [], None
    for level, low, high in profile.bands():
        fits = [n for n in grid if low <= weights_bytes(n) <= high
                and floor <= predicted_reverse_s(profile, n) <= CALL_MAX_S]
        counted.append(f"{level} {len(fits)}")
        if len(fits) >= MIN_SIZES:
            best = (level, fits)
    if best is None:
        return SizeChoice((), None, f"no memory level holds {MIN_SIZES} grid sizes above "
                          f"{OVERHEAD_FACTOR:g}× the call overhead ({', '.join(counted)})")
    level, fits = best
    sizes = tuple(fits[-MAX_SIZES:])
    return SizeChoice(sizes, level, f"weights {_mib(sizes[0])}..{_mib(sizes[-1])} inside {level}")


def ratio_sizes(profile, grid=GRID) -> SizeChoice:
    """Compute-bound, affordable forward sizes (``_forward_candidates``) whose gradient
    weights share one memory level — the level holding most of them, at least MIN_SIZES,
    the largest MAX_SIZES of them: reverse time stepping up at a cache edge would flatten
    forward/reverse for a reason that is the machine's, not the algorithm's."""
    candidates = _forward_candidates(profile, grid)
    by_level = {level: [n for n in candidates if low <= weights_bytes(n) <= high]
                for level, low, high in profile.bands()}
    level, sizes = max(by_level.items(), key=lambda item: len(item[1]),
                       default=(None, []))
    if len(sizes) < MIN_SIZES:
        return SizeChoice((), None, f"no memory level holds {MIN_SIZES} of the compute-bound "
                          f"sizes {', '.join(map(str, candidates)) or '(none)'} safely inside it")
    sizes = tuple(sizes[-MAX_SIZES:])
    return SizeChoice(sizes, level, f"compute-bound forward, gradient weights "
                      f"{_mib(sizes[0])}..{_mib(sizes[-1])} inside {level}")


def _forward_candidates(profile, grid=GRID) -> list[int]:
    """Grid sizes where GEMM runs at ≥ COMPUTE_BOUND of its peak and the forward call is
    well above the per-call overhead and at most CALL_MAX_S."""
    peak = profile.peak_madds_per_s
    floor = OVERHEAD_FACTOR * profile.call_overhead_s
    return [n for n in grid if gemm_rate(profile, n) >= COMPUTE_BOUND * peak
            and floor <= predicted_forward_s(profile, n) <= CALL_MAX_S]


def forward_sizes(profile, grid=GRID) -> SizeChoice:
    """The MAX_SIZES largest of ``_forward_candidates``: compute-bound and affordable."""
    fits = _forward_candidates(profile, grid)
    if len(fits) < MIN_SIZES:
        return SizeChoice((), None, f"only {len(fits)} grid size(s) are compute-bound and "
                          f"affordable (GEMM ≥ {COMPUTE_BOUND:.0%} of peak, call ≤ {CALL_MAX_S} s)")
    sizes = tuple(fits[-MAX_SIZES:])
    return SizeChoice(sizes, "compute", f"GEMM ≥ {COMPUTE_BOUND:.0%} of its peak")


def _mib(n: int) -> str:
    return f"{weights_bytes(n) / 2**20:.2g} MiB"


@dataclass(frozen=True)
class GuardPlan:
    """What to measure for the guards: forward sizes, reverse sizes (also those of J/F and
    the ratio) and the cases that cover them; ``skipped`` says why there is no plan."""

    forward: SizeChoice
    reverse: SizeChoice
    cases: tuple = ()
    skipped: str = ""
    ratio: SizeChoice | None = None  # None: the reverse sizes (plans made by hand)


def plan_guards(profile) -> GuardPlan:
    """The guards' sizes and cases from the machine profile (or why they are skipped)."""
    fwd, rev, ratio = forward_sizes(profile), reverse_sizes(profile), ratio_sizes(profile)
    cases = {c.name: c for c in scaling_cases(fwd.sizes, ("forward",))}
    cases.update({c.name: c for c in scaling_cases(ratio.sizes, ("forward", "reverse"))})
    cases.update({c.name: c for c in scaling_cases(rev.sizes, ("reverse", "F"))})
    return GuardPlan(fwd, rev, tuple(cases.values()), ratio=ratio)


@dataclass(frozen=True)
class Guard:
    """One guard's verdict: ``ok`` None when it was skipped; ``figures`` for the JSON."""

    name: str
    ok: bool | None
    message: str
    figures: dict = field(default_factory=dict)


def _range(sizes) -> str:
    return f"n={sizes[0]}..{sizes[-1]}"


def exponent_guard(mode: str, choice: SizeChoice, seconds: dict[int, float]) -> Guard:
    """The fitted exponent of ``mode``'s time over ``choice.sizes`` against EXPONENTS."""
    from ..harness.analysis.fits import loglog_slope

    name = f"{mode} exponent"
    if not choice.sizes:
        return Guard(name, None, f"{name}: skipped, {choice.reason}")
    expected, tol = EXPONENTS[mode]
    fit = loglog_slope(np.array(choice.sizes, float), [seconds[n] for n in choice.sizes])
    ok = bool(abs(fit.slope - expected) <= tol)
    return Guard(name, ok, (
        f"{name}: {fit.slope:.2f} (95% CI {fit.low:.2f}..{fit.high:.2f}) over "
        f"{_range(choice.sizes)} [{choice.regime}: {choice.reason}], "
        f"{'within' if ok else 'OUTSIDE'} {expected:g} ± {tol:g}"),
        {"slope": fit.slope, "low": fit.low, "high": fit.high, "sizes": list(choice.sizes),
         "regime": choice.regime, "expected": expected, "tolerance": tol})


def jf_guard(choice: SizeChoice, reverse: dict[int, float], f: dict[int, float]) -> Guard:
    """Reverse-mode gradient time over F's time at every size of ``choice``."""
    name = "reverse J/F"
    if not choice.sizes:
        return Guard(name, None, f"{name}: skipped, {choice.reason}")
    ratios = {n: reverse[n] / f[n] for n in choice.sizes}
    worst = max(ratios, key=ratios.get)
    ok = bool(ratios[worst] <= JF_BOUND)
    shown = ", ".join(f"{ratios[n]:.2f}" for n in choice.sizes)
    return Guard(name, ok, (
        f"{name}: {shown} at {_range(choice.sizes)} [{choice.regime}]; largest "
        f"{ratios[worst]:.2f} {'≤' if ok else 'ABOVE'} {JF_BOUND:g}"),
        {"ratios": {str(n): v for n, v in ratios.items()}, "bound": JF_BOUND})


def ratio_guard(choice: SizeChoice, forward: dict[int, float],
                reverse: dict[int, float]) -> Guard:
    """The log-log slope of forward / reverse time against n over ``choice.sizes``."""
    from ..harness.analysis.fits import loglog_slope

    name = "forward/reverse"
    if not choice.sizes:
        return Guard(name, None, f"{name}: skipped, {choice.reason}")
    ratio = [forward[n] / reverse[n] for n in choice.sizes]
    fit = loglog_slope(np.array(choice.sizes, float), ratio)
    ok = bool(fit.slope >= RATIO_SLOPE_MIN)
    return Guard(name, ok, (
        f"{name}: {ratio[0]:.1f} to {ratio[-1]:.1f} over {_range(choice.sizes)} "
        f"[{choice.regime}], log-log slope {fit.slope:.2f} "
        f"{'≥' if ok else 'BELOW'} {RATIO_SLOPE_MIN:g} (theory 1)"),
        {"slope": fit.slope, "ratios": ratio, "minimum": RATIO_SLOPE_MIN})


def evaluate_guards(plan: GuardPlan, seconds: dict[str, float]) -> list[Guard]:
    """Every guard from the seconds per call of ``plan.cases`` (by case name)."""
    if plan.skipped:
        return [Guard(g, None, f"{g}: skipped, {plan.skipped}") for g in
                ("forward exponent", "reverse exponent", "reverse J/F", "forward/reverse")]
    by = {}
    for case in plan.cases:
        key = "F" if case.kind == "evaluate" else case.mode
        by.setdefault(key, {})[case.n] = seconds[case.name]
    fwd, rev, f = by.get("forward", {}), by.get("reverse", {}), by.get("F", {})
    return [exponent_guard("forward", plan.forward, fwd),
            exponent_guard("reverse", plan.reverse, rev),
            jf_guard(plan.reverse, rev, f),
            ratio_guard(plan.reverse if plan.ratio is None else plan.ratio, fwd, rev)]
