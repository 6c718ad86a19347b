"""How accurate numerical differentiation is: the error of forward and central differences
and of the complex step against the AD Jacobian as the step h sweeps from 1e-1 down to 1e-16
(and on to 1e-200 for the complex step).

Finite differences trace a U: truncation error falls with h (∝ h forward, ∝ h² central) while
rounding grows as ε/h, so the error is least near h ≈ √ε ≈ 1.5e-8 (forward, error ≈ √ε) and
h ≈ ε^(1/3) ≈ 6e-6 (central, error ≈ ε^(2/3)). The complex step subtracts nothing: once its
h² truncation is gone it stays at machine precision however small h gets.

    >>> from chainbench.harness.accuracy import run
    >>> from chainbench.plots import error_vs_step
    >>> result = run("dense:32 tanh dense:32 tanh dense:1", n=32, seed=0, out="results/accuracy",
    ...              draw=error_vs_step)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..api import jacobian
from ..engines.numerical import BEST_STEP, refuse_unless_complex_safe
from ..errors import NotComplexSafe
from ..model.chain import Chain
from ..provenance import git_commit, machine, now, versions
from .config import ConfigError

#: Relative steps swept: every decade from 1e-1 to 1e-16, and for the complex step on to 1e-200.
STEPS_FD = tuple(10.0**-k for k in range(1, 17))
STEPS = {
    "fd-forward": STEPS_FD,
    "fd-central": STEPS_FD,
    "complex-step": (*STEPS_FD, 1e-20, 1e-30, 1e-50, 1e-100, 1e-150, 1e-200),
}
DEFAULT_SPEC = "dense:32 tanh dense:32 tanh dense:1"
CSV, META = "accuracy.csv", "meta.json"


def step_sweep(chain: Chain, x: np.ndarray, steps: dict[str, tuple[float, ...]] | None = None,
               reference: np.ndarray | None = None) -> pd.DataFrame:
    """Error of each numerical method at each step against the reverse-mode Jacobian.

    Parameters
    ----------
    chain : Chain
    x : ndarray, shape (n,)
    steps : dict, optional
        method -> relative steps h (h_j = h·max(1, |x_j|)); default ``STEPS``.
    reference : ndarray, shape (m, n), optional
        The Jacobian to compare with; default reverse mode's.

    Returns
    -------
    DataFrame with columns method, h, error = max |J_h − J| / max |J|.
    """
    steps = STEPS if steps is None else steps
    J = jacobian(chain, x, "reverse") if reference is None else reference
    scale = float(np.max(np.abs(J))) or 1.0
    rows = []
    for method, hs in steps.items():
        for h in hs:
            J_h = jacobian(chain, x, method, step=h)
            rows.append({"method": method, "h": float(h),
                         "error": float(np.max(np.abs(J_h - J))) / scale})
    return pd.DataFrame(rows, columns=["method", "h", "error"])


def minima(df: pd.DataFrame) -> pd.DataFrame:
    """Per method, the step with the least error (the first, for a flat complex step) and,
    for finite differences, the step theory predicts and how many decades apart they are."""
    rows = []
    for method, g in df.groupby("method", sort=False):
        best = g.loc[g["error"].idxmin()]
        theory = BEST_STEP.get(method, math.nan)
        rows.append({"method": method, "h_best": best["h"], "error_best": best["error"],
                     "h_theory": theory,
                     "decades_off": math.nan if math.isnan(theory)
                     else abs(math.log10(best["h"] / theory))})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class AccuracyResult:
    folder: Path
    points: pd.DataFrame
    minima: pd.DataFrame
    figure: Path | None
    skipped: dict[str, str]  # method -> why it was left out


def run(spec: str = DEFAULT_SPEC, n: int = 32, seed: int = 0, out="results/accuracy",
        fmt: str = "png", draw=None) -> AccuracyResult:
    """Sweep the step for every numerical method on the chain ``spec`` (parameters and x
    drawn from ``seed``), write ``accuracy.csv``, ``meta.json`` and, given ``draw`` (points
    -> Figure, e.g. ``plots.error_vs_step``), the figure into ``out`` (or a fresh sibling
    ``out-2``, … when it already holds results)."""
    try:
        chain = Chain.from_spec(spec, n, seed=seed)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err)) from None
    x = np.random.default_rng(seed).standard_normal(n)
    steps, skipped = dict(STEPS), {}
    try:
        refuse_unless_complex_safe(chain.shape)
    except NotComplexSafe as err:
        skipped["complex-step"] = str(err)
        del steps["complex-step"]
    df = step_sweep(chain, x, steps)
    df.insert(0, "spec", chain.spec)
    df.insert(1, "n", chain.n)
    df.insert(2, "m", chain.m)
    df.insert(3, "seed", seed)
    folder = _fresh(Path(out))
    df.to_csv(folder / CSV, index=False)
    best = minima(df)
    (folder / META).write_text(json.dumps({
        "experiment": "accuracy", "spec": chain.spec, "n": chain.n, "m": chain.m,
        "seed": seed, "reference": "reverse", "skipped": skipped,
        "minima": best.to_dict(orient="records"), "finished_at": now(),
        "versions": versions(), "machine": machine(), "git_commit": git_commit(),
    }, indent=2, default=float) + "\n")
    path = None
    if draw is not None:
        path = folder / f"accuracy.{fmt}"
        draw(df).savefig(path, format=fmt, dpi=110)
    return AccuracyResult(folder, df, best, path, skipped)


def _fresh(out: Path) -> Path:
    """``out`` when it holds no accuracy results yet, else the first free ``out-2``, …"""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a directory")
    candidate, k = out, 1
    while (candidate / CSV).exists():
        k += 1
        candidate = out.with_name(f"{out.name}-{k}")
    candidate.mkdir(parents=True, exist_ok=True)
    return candidate
