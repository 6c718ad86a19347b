"""Same-width 1-D convolution y_i = b + Σ_t w_t x_{i+t-h}, odd kernel size K = 2h + 1, zero
padding: its Jacobian is the banded Toeplitz matrix J[i, j] = w_{j-i+h} for |j - i| ≤ h.

Each rule visits only the taps inside the input (``_taps``), so a value, one tangent lane
or one cotangent row costs exactly the Jacobian's nonzeros, K·w − h(h+1) multiply-adds
(h(h+1) taps fall off the two edges); the cost model counts the same.
"""

from __future__ import annotations

import numpy as np

from ..._jit import inlined
from .. import ops
from .base import ARG, P_OFF, W_OUT, Kind, Layer, LayerCost, Rules
from .linear import LINEAR_RULES, linear_second_cost


def nonzeros(width: int, kernel: int) -> int:
    """Structural nonzeros of the (width, width) Jacobian: K·w − h(h+1), for K ≤ w."""
    h = kernel // 2
    return kernel * width - h * (h + 1)


# --- rules; p is the layer's flat parameters: the K weights, then b --------------------------


@inlined
def _taps(i, w, K):
    """The taps t of output i that read inside the input: lo ≤ t < hi."""
    h = K // 2
    return max(0, h - i), min(K, w + h - i)


@inlined
def conv_value(row, params, x, y):
    """y_i = b + Σ_t w_t x_{i+t-h}, for real or complex x (the complex step's rule too: the
    sum accumulates in y, whose type is x's). Returns multiply-adds."""
    p, K, w = params[row[P_OFF] :], row[ARG], row[W_OUT]
    h = K // 2
    for i in range(w):
        lo, hi = _taps(i, w, K)
        y[i] = p[K]
        for t in range(lo, hi):
            y[i] += p[t] * x[i + t - h]
    return K * w - h * (h + 1)


@inlined
def conv_tangent(row, params, saved, X_dot, Y_dot):
    """Y_dot[i] = Σ_t w_t X_dot[i+t-h] for c lanes (the JVP needs nothing from the tape).
    Returns multiply-adds."""
    p, K, w = params[row[P_OFF] :], row[ARG], row[W_OUT]
    h, c = K // 2, X_dot.shape[1]
    for i in range(w):
        lo, hi = _taps(i, w, K)
        y_dot = Y_dot[i]
        for l in range(c):
            y_dot[l] = 0.0
        for t in range(lo, hi):
            a, x_dot = p[t], X_dot[i + t - h]
            for l in range(c):  # along the lanes: contiguous, vectorises
                y_dot[l] += a * x_dot[l]
    return (K * w - h * (h + 1)) * c


@inlined
def conv_jvp(row, params, x, X_dot, y, Y_dot):
    """Value and c tangent lanes. Returns (value, tangent) multiply-adds."""
    return conv_value(row, params, x, y), conv_tangent(row, params, x, X_dot, Y_dot)


@inlined
def conv_record(row, params, x, y, saved):
    """Forward sweep of reverse mode: nothing to save, the weights are parameters."""
    return conv_value(row, params, x, y)


@inlined
def conv_vjp(row, params, saved, Y_bar, X_bar):
    """X_bar[r, j] = Σ_t w_t Y_bar[r, j-t+h]: per tap, one shifted axpy of the whole row
    (contiguous in both, so it vectorises; with the taps innermost it did not). Returns
    multiply-adds."""
    p, K, w = params[row[P_OFF] :], row[ARG], row[W_OUT]
    h, rows = K // 2, Y_bar.shape[0]
    for r in range(rows):
        for j in range(w):
            X_bar[r, j] = 0.0
        for t in range(K):
            a, s = p[t], t - h
            lo, hi = max(0, -s), min(w, w - s)  # the outputs whose tap t reads inside
            # row slices indexed from 0: an index like i + s, which Numba cannot prove
            # non-negative, keeps its wraparound check in the loop and stops it vectorising
            x_bar, y_bar = X_bar[r, lo + s : hi + s], Y_bar[r, lo:hi]
            for i in range(hi - lo):
                x_bar[i] += a * y_bar[i]
    return (K * w - h * (h + 1)) * rows


@inlined
def conv_lowering(row, params, st, x0, y0, t0):
    """y_i = (Σ_t w_t x_{i+t-h}) + b in primitives: per output a chain of mulc and add over
    its taps inside the input, then addc (the bias); one temporary."""
    p, K, w = params[row[P_OFF] :], row[ARG], row[W_OUT]
    h = K // 2
    for i in range(w):
        lo, hi = _taps(i, w, K)
        ops.mulc(st, y0 + i, x0 + i + lo - h, p[lo])
        for t in range(lo + 1, hi):
            ops.mulc(st, t0, x0 + i + t - h, p[t])
            ops.add(st, y0 + i, y0 + i, t0)
        ops.addc(st, y0 + i, y0 + i, p[K])


@inlined
def conv_explicit(row, params, saved, i0, j0, J):
    """J = (the banded Toeplitz matrix)[i0:i0+R, j0:j0+C]. Returns entries written."""
    p, K = params[row[P_OFF] :], row[ARG]
    h = K // 2
    R, C = J.shape
    for i in range(R):
        for j in range(C):
            d = j0 + j - (i0 + i) + h
            J[i, j] = p[d] if 0 <= d < K else 0.0
    return R * C


# --- the layer ------------------------------------------------------------------------------


class Conv(Layer):
    """Same-width 1-D convolution with odd kernel ``w`` (K,) and scalar bias ``b``, zero
    padded; spec token ``conv:K``."""

    name = "conv"
    arguments = ("K",)
    probe = "conv:5"
    structured = True
    complex_safe = True
    rules = Rules(conv_value, conv_value, conv_jvp, conv_record, conv_vjp, conv_tangent,
                  conv_explicit)
    # linear: no second derivative, so no curvature in any Hessian
    rules2 = LINEAR_RULES
    second_cost = classmethod(linear_second_cost)
    lowering = conv_lowering

    @classmethod
    def op_counts(cls, in_width: int, out_width: int, kernel: int = 1) -> dict[str, int]:
        nnz = nonzeros(out_width, kernel)
        return {"mulc": nnz, "add": nnz - out_width, "addc": out_width}

    @classmethod
    def op_temps(cls, in_width: int, out_width: int, kernel: int = 1) -> int:
        return 1

    def __init__(self, w, b: float = 0.0):
        w = np.asarray(w)
        if w.dtype.kind not in "biuf" or w.ndim != 1:
            raise ValueError(f"Conv: w must be a 1-D array of real numbers, got {w.dtype} "
                             f"of shape {w.shape}")
        check_kernel(w.size)
        self.w = np.ascontiguousarray(w, dtype=np.float64)
        self.b = float(b)

    @property
    def kind(self) -> Kind:
        return Kind(Conv, self.w.size)

    @property
    def arg(self) -> int:
        return self.w.size

    def out_width(self, in_width: int) -> int:
        check_kernel(self.w.size, in_width)
        return in_width

    @property
    def params(self) -> np.ndarray:
        return np.append(self.w, self.b)

    @classmethod
    def parameters(cls, in_width: int, out_width: int, kernel: int = 1) -> int:
        return kernel + 1

    @classmethod
    def structure(cls, args, in_width):
        check_kernel(args[0], in_width)
        return Kind(cls, args[0]), in_width

    @classmethod
    def cost(cls, in_width: int, out_width: int, kernel: int = 1) -> LayerCost:
        nnz = nonzeros(out_width, kernel)  # every rule visits the band's entries once
        return LayerCost(value=nnz, tangent=nnz, adjoint=nnz, saved=0,
                         explicit=out_width * in_width)

    @classmethod
    def pattern(cls, in_width: int, out_width: int, kernel: int = 1):
        """The band |j - i| ≤ h."""
        import scipy.sparse as sp

        h = kernel // 2
        offsets = [d for d in range(-h, h + 1) if abs(d) < out_width]
        diagonals = [np.ones(out_width - abs(d), dtype=bool) for d in offsets]
        return sp.diags_array(diagonals, offsets=offsets, shape=(out_width, in_width),
                              format="csr", dtype=bool)

    @classmethod
    def from_spec(cls, width, in_width, rng, kernel: int = 1):
        # scaled by 1/√K, as LeCun-normal dense weights are, so values stay O(1) in depth
        return cls(rng.standard_normal(kernel) / np.sqrt(kernel), 0.1 * rng.standard_normal())

    def __repr__(self) -> str:
        return f"Conv(K={self.w.size})"

    def spec(self) -> str:
        return f"conv:{self.w.size}"


def check_kernel(kernel: int, width: int | None = None) -> None:
    """ValueError unless the kernel size is odd (so it centres on its output) and, given the
    layer's width, no wider than it."""
    if kernel % 2 == 0:
        raise ValueError(f"Conv: kernel size K must be odd (a same-width convolution centres "
                         f"the kernel on each output), got K = {kernel}")
    if width is not None and kernel > width:
        raise ValueError(f"Conv: kernel size K = {kernel} is wider than the layer's width "
                         f"{width}; use K ≤ {width}")
