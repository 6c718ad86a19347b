"""Numerical differentiation as engines: forward and central finite differences and the
complex step, the references the lecture starts from ("approximate, n + 1 or 2n evaluations").

Column j of J comes from evaluations of f alone at x moved along e_j by h_j = step·max(1, |x_j|):

    fd-forward    (f(x + h_j e_j) − f(x)) / h_j            n + 1 evaluations, error ≈ h + ε/h
    fd-central    (f(x + h_j e_j) − f(x − h_j e_j)) / 2h_j   2n evaluations,    error ≈ h² + ε/h
    complex-step  Im f(x + i h_j e_j) / h_j                  n complex ones,    error ≈ h², no ε/h

Finite differences divide by the step actually taken, fl(x_j + h_j) − x_j (a step below one
unit in the last place of x_j becomes that unit, the smallest step there is). The complex step
subtracts nothing, so h can be 1e-20 … 1e-200; it needs every layer's value rule continued to
complex numbers (``Layer.complex_safe``) and refuses a chain with a layer that has none.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from .._jit import kernel
from ..cost.sweeps import numerical_plan
from ..errors import NotComplexSafe
from ..model.counters import BYTES_WORK, EVALUATIONS, LAYER_STEPS, MADDS_VALUE, SWEEPS_FORWARD
from ..model.layers.dispatch import W_OUT, layer_value_complex
from ..model.program import advance
from .contract import Engine, Run, one_lane

EPS = float(np.finfo(np.float64).eps)


# --- kernels ---------------------------------------------------------------------------------


@kernel
def _evaluate(table, params, x, vals, counts):
    """f(x) by one value sweep, counted as one evaluation; returns a view into vals."""
    y = advance(table, params, 0, table.shape[0], x, vals, counts)
    counts[SWEEPS_FORWARD] += 1
    counts[EVALUATIONS] += 1
    return y


@kernel
def _evaluate_complex(table, params, x, vals, counts):
    """f(x) for complex x by one value sweep of the layers' complex rules."""
    v = x
    for k in range(table.shape[0]):
        y = vals[k % 2][: table[k, W_OUT]]
        counts[MADDS_VALUE] += layer_value_complex(table[k], params, v, y)
        v = y
    counts[LAYER_STEPS] += table.shape[0]
    counts[SWEEPS_FORWARD] += 1
    counts[EVALUATIONS] += 1
    return v


@kernel
def _moved(xj, step, sign):
    """fl(x_j ± step·max(1, |x_j|)), at least one unit in the last place away from x_j."""
    moved = xj + sign * step * max(1.0, abs(xj))
    if moved == xj:
        moved = np.nextafter(xj, sign * np.inf)
    return moved


@kernel
def _forward_differences(table, params, max_width, x, step, J, counts):
    """J[:, j] = (f(x + h_j e_j) − f(x)) / h_j: n + 1 evaluations."""
    n, m = x.shape[0], J.shape[0]
    vals = np.empty((2, max_width))
    xt = x.copy()
    f0 = _evaluate(table, params, xt, vals, counts).copy()
    counts[BYTES_WORK] += (vals.size + xt.size + f0.size) * 8
    for j in range(n):
        xt[j] = _moved(x[j], step, 1.0)
        h = xt[j] - x[j]
        f = _evaluate(table, params, xt, vals, counts)
        for i in range(m):
            J[i, j] = (f[i] - f0[i]) / h
        xt[j] = x[j]


@kernel
def _central_differences(table, params, max_width, x, step, J, counts):
    """J[:, j] = (f(x + h_j e_j) − f(x − h_j e_j)) / 2h_j: 2n evaluations."""
    n, m = x.shape[0], J.shape[0]
    vals = np.empty((2, max_width))
    xt = x.copy()
    f_up = np.empty(m)
    counts[BYTES_WORK] += (vals.size + xt.size + f_up.size) * 8
    for j in range(n):
        up = _moved(x[j], step, 1.0)
        down = _moved(x[j], step, -1.0)
        xt[j] = up
        f_up[:] = _evaluate(table, params, xt, vals, counts)
        xt[j] = down
        f_down = _evaluate(table, params, xt, vals, counts)
        for i in range(m):
            J[i, j] = (f_up[i] - f_down[i]) / (up - down)
        xt[j] = x[j]


@kernel
def _complex_step(table, params, max_width, x, step, J, counts):
    """J[:, j] = Im f(x + i h_j e_j) / h_j: n complex evaluations, nothing subtracted."""
    n, m = x.shape[0], J.shape[0]
    vals = np.empty((2, max_width), dtype=np.complex128)
    xt = x.astype(np.complex128)
    counts[BYTES_WORK] += (vals.size + xt.size) * 16
    for j in range(n):
        h = step * max(1.0, abs(x[j]))
        xt[j] = complex(x[j], h)
        f = _evaluate_complex(table, params, xt, vals, counts)
        for i in range(m):
            J[i, j] = f[i].imag / h
        xt[j] = x[j]


# --- engines ---------------------------------------------------------------------------------


def check_step(step) -> float:
    """``step`` as a positive finite float, or a clear error."""
    if isinstance(step, bool) or not isinstance(step, int | float | np.floating | np.integer):
        raise TypeError(f"step must be a positive number or None, got {step!r}")
    step = float(step)
    if not (math.isfinite(step) and step > 0.0):
        raise ValueError(f"step must be a positive finite number, got {step!r}")
    return step


def refuse_unless_complex_safe(shape) -> None:
    """Raise NotComplexSafe naming the first layer without a complex value rule."""
    for k, cls in enumerate(shape.layers):
        if not cls.complex_safe:
            raise NotComplexSafe(
                f"complex-step: layer {k} ({cls.name}) is not complex-safe: its value is not an "
                f"analytic function, so Im f(x + ih)/h would not be its derivative; use "
                f"mode='fd-central' (or an AD mode) for chains with {cls.name}"
            )


#: The smallest relative step of the finite differences: below it f(x + h) − f(x) is below
#: f's rounding (error ≈ ε/step > 1, no digit of the derivative left) and any smaller step
#: moves x_j by the same unit in its last place; the accuracy sweep ends there.
MIN_STEP_FD = 1e-16
#: The complex step's: Im f(x + ih) = h·f'(x) must stay a normal float (≥ 2.2e-308) for
#: derivatives down to 1e-8.
MIN_STEP_COMPLEX = 1e-300


class Numerical:
    """A numerical-differentiation method: its kernel, its default relative step, and the
    tolerance the harness checks it to (its expected accuracy, loosely)."""

    def __init__(self, name: str, kernel_, default_step: float, check_tol: float,
                 evaluations: str, is_complex: bool = False, min_step: float = MIN_STEP_FD):
        self.name, self._kernel, self.min_step = name, kernel_, min_step
        self.default_step, self.check_tol, self.is_complex = default_step, check_tol, is_complex
        self.engine = Engine(
            name, f"numerical: {evaluations} evaluations of f, J column by column",
            bind=self.bind, plan=partial(numerical_plan, method=name),
            default_chunk=one_lane, options=("step",), family="numerical",
            check_tol=check_tol,
        )

    def __repr__(self) -> str:
        return f"Numerical({self.name!r}, default_step={self.default_step:.3g})"

    @property
    def _below(self) -> str:
        """What a step below ``min_step`` would give, and what to use instead."""
        if self.is_complex:
            return "below it Im f(x + ih) underflows"
        return ("below it the difference is lost in rounding (error ≈ ε/step > 1); for tiny "
                "steps use mode='complex-step'")

    def bind(self, program, chunk: None = None, step: float | None = None) -> Run:
        """Fill J (m, n) column by column; ``step`` is relative: h_j = step·max(1, |x_j|)."""
        step = self.default_step if step is None else check_step(step)
        if step < self.min_step:
            raise ValueError(f"{self.name}: step must be in [{self.min_step:g}, 1] (relative: "
                             f"h_j = step·max(1, |x_j|)), got {step!r}; {self._below}")
        if self.is_complex:
            refuse_unless_complex_safe(program.shape)

        def run(x, J, counts):  # the kernel looked up per call, so a test can stand in for it
            self._kernel(program.table, program.params, program.max_width, x, step, J, counts)

        return run


#: Steps that balance truncation against rounding (theory sheet): √ε ≈ 1.5e-8 for forward
#: differences, ε^(1/3) ≈ 6e-6 for central ones; the complex step has no rounding term.
FD_FORWARD = Numerical("fd-forward", _forward_differences, math.sqrt(EPS), check_tol=1e-5,
                       evaluations="n + 1")
FD_CENTRAL = Numerical("fd-central", _central_differences, EPS ** (1 / 3), check_tol=1e-7,
                       evaluations="2n")
COMPLEX_STEP = Numerical("complex-step", _complex_step, 1e-20, check_tol=0.0,
                         evaluations="n complex", is_complex=True, min_step=MIN_STEP_COMPLEX)

METHODS = {e.name: e for e in (FD_FORWARD, FD_CENTRAL, COMPLEX_STEP)}
#: The steps theory says balance truncation and rounding: the finite differences' defaults.
BEST_STEP = {e.name: e.default_step for e in (FD_FORWARD, FD_CENTRAL)}
