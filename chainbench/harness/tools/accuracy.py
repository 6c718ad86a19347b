"""How accurate numerical differentiation is: the error of forward and central differences
and of the complex step against the AD Jacobian as the step h sweeps from 1e-1 down to 1e-16
(and on to 1e-200 for the complex step).

Finite differences trace a U: truncation error falls with h (∝ h forward, ∝ h² central) while
rounding grows as ε/h, so the error is least near h ≈ √ε ≈ 1.5e-8 (forward, error ≈ √ε) and
h ≈ ε^(1/3) ≈ 6e-6 (central, error ≈ ε^(2/3)). The complex step subtracts nothing: once its
h² truncation is gone it stays at machine precision however small h gets.

    >>> from chainbench.harness.tools.accuracy import run
    >>> from chainbench.plots import error_vs_step
    >>> result = run("dense:32 tanh dense:32 tanh dense:1", n=32, seed=0, out="results/accuracy",
    ...              draw=error_vs_step)
"""

from __future__ import annotations

import contextlib
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ... import api
from ...api import jacobian
from ...engines.numerical import BEST_STEP, refuse_unless_complex_safe
from ...errors import NotComplexSafe
from ...model.chain import Chain, ChainShape
from ...provenance import git_commit, machine, now, require_memory, versions
from ..experiment.config import ConfigError
from ..run.memory import planned_bytes
from ..storage.points_csv import POINTS, os_error
from ..storage.results import META
from .budgets import ACCURACY_S

#: Relative steps swept: every decade from 1e-1 to 1e-16, and for the complex step on to 1e-200.
STEPS_FD = tuple(10.0**-k for k in range(1, 17))
STEPS = {
    "fd-forward": STEPS_FD,
    "fd-central": STEPS_FD,
    "complex-step": (*STEPS_FD, 1e-20, 1e-30, 1e-50, 1e-100, 1e-150, 1e-200),
}
DEFAULT_SPEC = "dense:32 tanh dense:32 tanh dense:1"
CSV = "accuracy.csv"


def step_sweep(chain: Chain, x: np.ndarray, steps: dict[str, tuple[float, ...]] | None = None,
               reference: np.ndarray | None = None, announce=None) -> pd.DataFrame:
    """Error of each numerical method at each step against the reverse-mode Jacobian.

    Parameters
    ----------
    chain : Chain
    x : ndarray, shape (n,)
    steps : dict, optional
        method -> relative steps h (h_j = h·max(1, |x_j|)); default ``STEPS``.
    reference : ndarray, shape (m, n), optional
        The Jacobian to compare with; default reverse mode's.
    announce : callable, optional
        Hears ``"METHOD: N steps"`` as each method's sweep starts (progress).

    Returns
    -------
    DataFrame with columns method, h, error = max |J_h − J| / max |J|.
    """
    steps = STEPS if steps is None else steps
    J = jacobian(chain, x, "reverse") if reference is None else reference
    scale = float(np.max(np.abs(J))) or 1.0
    rows = []
    for method, hs in steps.items():
        if announce is not None:
            announce(f"{method}: {len(hs)} steps")
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
        fmt: str = "png", draw=None, budget_s: float = ACCURACY_S,
        announce=None) -> AccuracyResult:
    """Sweep the step for every numerical method on the chain ``spec`` (parameters and x
    drawn from ``seed``), write ``accuracy.csv``, ``meta.json`` and, given ``draw`` (points
    -> Figure, e.g. ``plots.error_vs_step``), the figure into ``out`` (or a fresh sibling
    ``out-2``, … when it already holds accuracy results). Refused (ConfigError) before
    anything is drawn or written: a folder holding another command's results, a sweep that
    would not fit in memory or is predicted to take longer than ``budget_s``.
    ``announce(message)`` hears of each method as its sweep starts."""
    try:
        shape = ChainShape.from_spec(spec, n)
    except (ValueError, TypeError) as err:
        raise ConfigError(str(err)) from None
    steps, skipped = dict(STEPS), {}
    try:
        refuse_unless_complex_safe(shape)
    except NotComplexSafe as err:
        skipped["complex-step"] = str(err)
        del steps["complex-step"]
    _affordable(shape, steps, budget_s)
    folder, made = _fresh(Path(out))
    try:
        chain = Chain.from_spec(spec, n, seed=seed)
        x = np.random.default_rng(seed).standard_normal(n)
        df = step_sweep(chain, x, steps, announce=announce)
        df.insert(0, "spec", chain.spec)
        df.insert(1, "n", chain.n)
        df.insert(2, "m", chain.m)
        df.insert(3, "seed", seed)
        best = minima(df)
        path = folder / f"accuracy.{fmt}" if draw is not None else None
        _write(folder, df, path, fmt, draw, {
            "experiment": "accuracy", "spec": chain.spec, "n": chain.n, "m": chain.m,
            "seed": seed, "reference": "reverse", "skipped": skipped,
            "minima": best.to_dict(orient="records"), "finished_at": now(),
            "versions": versions(), "machine": machine(), "git_commit": git_commit()})
    except BaseException:
        if made:  # the folder made for this sweep goes again, if nothing got into it
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    return AccuracyResult(folder, df, best, path, skipped)


def _write(folder: Path, df: pd.DataFrame, path: Path | None, fmt: str, draw,
           meta: dict) -> None:
    """accuracy.csv, meta.json and the figure; an OSError as one line saying what to do."""
    try:
        df.to_csv(folder / CSV, index=False)
        (folder / META).write_text(json.dumps(meta, indent=2, default=float) + "\n")
        if path is not None:
            draw(df).savefig(path, format=fmt, dpi=110)
    except OSError as err:
        raise os_error("write the accuracy results", Path(err.filename or folder), err,
                       resumable=False) from None


def _affordable(shape: ChainShape, steps: dict, budget_s: float) -> None:
    """ConfigError unless the sweep (the reference, then every method at every step) fits
    in memory and in ``budget_s`` as the time model predicts them."""
    modes = ("reverse", *steps)
    require_memory(max(planned_bytes(shape, api.predict(shape, mode).bytes_held, shape.m)
                       for mode in modes),
                   f"the accuracy sweep at widths {'→'.join(map(str, shape.widths))}",
                   "choose smaller widths")
    seconds = api.predict_time(shape, "reverse").seconds + sum(
        len(hs) * api.predict_time(shape, method).seconds for method, hs in steps.items())
    if not seconds <= budget_s:
        raise ConfigError(f"the accuracy sweep at widths {'→'.join(map(str, shape.widths))} "
                          f"is predicted to take {seconds:.3g} s, over the budget of "
                          f"{budget_s:g} s; choose smaller widths or raise --budget")


def _fresh(out: Path) -> tuple[Path, bool]:
    """The folder to write into, and whether it was made for this sweep: ``out`` when it
    holds no accuracy results yet, else the first free ``out-2``, …; refused when ``out``
    holds another command's results (a run's points.csv, another meta.json), which it
    would overwrite, or cannot be made."""
    if not out.name:  # ".", "/": name its siblings after the real folder
        out = out.resolve()
    candidate, k = out, 1
    try:
        while True:
            if candidate.exists() and not candidate.is_dir():
                if k == 1:
                    raise ConfigError(f"{out}: exists and is not a directory; choose another "
                                      "--out")
            elif (foreign := _foreign(candidate)) is not None:
                if k == 1:
                    raise ConfigError(f"{out}: holds {foreign}, which the accuracy results "
                                      "would overwrite; choose another --out")
            elif not (candidate / CSV).exists():
                made = not candidate.exists()
                candidate.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=candidate):  # writable? (read-only mount)
                    pass
                return candidate, made
            k += 1
            candidate = out.with_name(f"{out.name}-{k}")
    except OSError as err:
        raise os_error("create the results folder", Path(err.filename or candidate), err,
                       resumable=False) from None


def _foreign(folder: Path) -> str | None:
    """What in ``folder`` is another command's data (a run's results), else None."""
    if (folder / POINTS).exists():
        return f"a run's results ({POINTS})"
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):  # none, or no folder (mkdir says why)
        return None
    except (UnicodeDecodeError, ValueError):
        meta = None
    if not isinstance(meta, dict) or meta.get("experiment") != "accuracy":
        return f"another command's {META}"
    return None
