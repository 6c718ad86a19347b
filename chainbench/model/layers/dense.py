"""Dense layer y = W x + b, with W shaped (out, in): value, JVP and VJP rules."""

from __future__ import annotations

import numpy as np

from ..._jit import inlined, kernel, kernel_reassoc
from .. import ops
from .base import P_OFF, W_IN, W_OUT, Layer, LayerCost, Rules
from .linear import LINEAR_RULES, linear_second_cost

#: Up to this many entries of W, a matrix-vector product (one lane or row) is a loop here:
#: a BLAS call costs ~100 ns before its first multiply-add (8×8: 17 ns by loop, 83 by BLAS;
#: 32×32: 105 vs 142; equal at 64×64), so small chains would time the calls, not the work.
SMALL = 64 * 64


def _as_float_array(a, what: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"Dense: {what} must hold real numbers convertible to float64, got dtype {arr.dtype}"
        )
    return arr.astype(np.float64)


# --- rules; p is the layer's flat parameters: W row-major, b, (small W) Wᵀ row-major --------


@kernel
def _unpack(p, w_in, w_out):
    W = p[: w_out * w_in].reshape((w_out, w_in))
    b = p[w_out * w_in : w_out * w_in + w_out]
    return W, b


@kernel
def transpose_offset(w_in, w_out):
    """Where a small layer's Wᵀ starts in its parameters: after W and b, rounded up to
    8 floats so that it starts 64-byte aligned when the layer's block does."""
    return (w_out * w_in + w_out + 7) // 8 * 8


@kernel_reassoc
def _small_matvec(p, off, rows, cols, v, y):
    """y = A v for A (rows, cols) stored row-major in p from ``off``, by loops."""
    for i in range(rows):
        # index a row slice by j ≥ 0 only: with p[off + i·cols + j], numba's wraparound
        # check for negative indices stays in the loop and it does not vectorise (7× slower)
        a = p[off + i * cols : off + (i + 1) * cols]
        s = 0.0
        for j in range(cols):
            s += a[j] * v[j]
        y[i] = s


@inlined
def _layer(row, params):
    """The layer's parameters (from its offset) and its widths, from its program row."""
    return params[row[P_OFF] :], row[W_IN], row[W_OUT]


@inlined
def dense_value(row, params, x, y):
    """y = W x + b. Returns multiply-adds."""
    p, w_in, w_out = _layer(row, params)
    if w_out * w_in <= SMALL:
        _small_matvec(p, 0, w_out, w_in, x, y)
        for i in range(w_out):
            y[i] += p[w_out * w_in + i]
    else:
        W, b = _unpack(p, w_in, w_out)
        np.dot(W, x, y)
        y += b
    return w_out * w_in


@inlined
def dense_jvp(row, params, x, X_dot, y, Y_dot):
    """y = W x + b and Y_dot = W X_dot for c tangent lanes (X_dot is (in, c)).
    Returns (value multiply-adds, tangent multiply-adds)."""
    # the tangent rule's tape slot goes unused (W is a parameter): x stands in for it
    return dense_value(row, params, x, y), dense_tangent(row, params, x, X_dot, Y_dot)


@inlined
def dense_tangent(row, params, saved, X_dot, Y_dot):
    """Y_dot = W X_dot (the JVP needs nothing from the tape). Returns multiply-adds."""
    p, w_in, w_out = _layer(row, params)
    W, b = _unpack(p, w_in, w_out)
    np.dot(W, X_dot, Y_dot)
    return w_out * w_in * X_dot.shape[1]


@inlined
def dense_record(row, params, x, y, saved):
    """Forward sweep of reverse mode: nothing to save, W is read-only."""
    return dense_value(row, params, x, y)


@inlined
def dense_vjp(row, params, saved, Y_bar, X_bar):
    """X_bar = Y_bar W for r cotangent rows (Y_bar is (r, out)). Returns multiply-adds."""
    p, w_in, w_out = _layer(row, params)
    if Y_bar.shape[0] == 1 and w_out * w_in <= SMALL:  # x = Wᵀ u, with Wᵀ after b
        _small_matvec(p, transpose_offset(w_in, w_out), w_in, w_out, Y_bar[0], X_bar[0])
    else:
        W, b = _unpack(p, w_in, w_out)
        np.dot(Y_bar, W, X_bar)
    return Y_bar.shape[0] * w_out * w_in


@inlined
def dense_explicit(row, params, saved, i0, j0, J):
    """J = W[i0:i0+R, j0:j0+C], the block of W that J (R, C) has room for.
    Returns entries written."""
    p, w_in, w_out = _layer(row, params)
    R, C = J.shape
    for i in range(R):  # loops: numba's 2-D slice assignment costs ~150 ns before copying
        row = (i0 + i) * w_in + j0
        for j in range(C):
            J[i, j] = p[row + j]
    return R * C


@inlined
def dense_value_complex(row, params, x, y):
    """y = W x + b for complex x (real W and b): the complex step's value rule.
    Returns multiply-adds, counted as for a real value."""
    p, w_in, w_out = _layer(row, params)
    W, b = _unpack(p, w_in, w_out)
    for i in range(w_out):
        s = complex(b[i], 0.0)
        for j in range(w_in):
            s += W[i, j] * x[j]
        y[i] = s
    return w_out * w_in


@inlined
def dense_lowering(row, params, st, x0, y0, t0):
    """y_i = (Σ_j W_ij x_j) + b_i in primitives: per output a chain of mulc (a weight
    times an input) and add, then addc (the bias); 2·out·in operations, one temporary."""
    p, w_in, w_out = _layer(row, params)
    for i in range(w_out):
        y, w = y0 + i, p[i * w_in : (i + 1) * w_in]
        ops.mulc(st, y, x0, w[0])
        for j in range(1, w_in):
            ops.mulc(st, t0, x0 + j, w[j])
            ops.add(st, y, y, t0)
        ops.addc(st, y, y, p[w_out * w_in + i])


# --- the layer ------------------------------------------------------------------------------


class Dense(Layer):
    """Affine map ``y = W @ x + b``; ``W`` is (out, in), ``b`` is (out,), both float64."""

    name = "dense"
    arguments = ("WIDTH",)
    takes_width = True
    complex_safe = True
    matrix_product = True
    rules = Rules(dense_value, dense_value_complex, dense_jvp, dense_record, dense_vjp,
                  dense_tangent, dense_explicit)
    # linear: no second derivative, so no curvature in any Hessian
    rules2 = LINEAR_RULES
    second_cost = classmethod(linear_second_cost)

    lowering = dense_lowering

    @classmethod
    def op_counts(cls, in_width: int, out_width: int) -> dict[str, int]:
        return {"mulc": out_width * in_width, "add": out_width * (in_width - 1),
                "addc": out_width}

    @classmethod
    def op_temps(cls, in_width: int, out_width: int) -> int:
        return 1

    def __init__(self, W, b=None):
        W = _as_float_array(W, "W")
        if W.ndim != 2:
            raise ValueError(f"Dense: W must be 2-D (out, in), got shape {W.shape}")
        if W.shape[0] < 1 or W.shape[1] < 1:
            raise ValueError(f"Dense: W must have at least one row and column, got shape {W.shape}")
        b = np.zeros(W.shape[0]) if b is None else _as_float_array(b, "b")
        if b.shape != (W.shape[0],):
            raise ValueError(
                f"Dense: b has shape {b.shape} but W is {W.shape}; b must have shape ({W.shape[0]},)"
            )
        self.W = np.ascontiguousarray(W)
        self.b = np.ascontiguousarray(b)

    def in_width(self) -> int:
        return self.W.shape[1]

    def out_width(self, in_width: int) -> int:
        if in_width != self.W.shape[1]:
            raise ValueError(
                f"Dense: W has {self.W.shape[1]} columns but the input has width {in_width}"
            )
        return self.W.shape[0]

    @property
    def params(self) -> np.ndarray:
        """W row-major, then b; for a small W (≤ SMALL entries) then Wᵀ row-major too, from
        ``transpose_offset`` (64-byte aligned), so that u W, like W x, runs as dot products
        over contiguous rows (1.7× faster at 32×32 than axpys over the rows of W)."""
        out_, in_ = self.W.shape
        if self.W.size > SMALL:
            return np.concatenate([self.W.ravel(), self.b])
        start = transpose_offset.py_func(in_, out_)  # plain Python: no kernel to load here
        p = np.zeros(start + self.W.size)
        p[: self.W.size], p[self.W.size : self.W.size + out_] = self.W.ravel(), self.b
        p[start:] = self.W.T.ravel()
        return p

    @classmethod
    def parameters(cls, in_width: int, out_width: int) -> int:
        """Entries of ``params``: W and b, and Wᵀ (from its aligned offset) when small."""
        size = out_width * in_width
        if size > SMALL:
            return size + out_width
        return transpose_offset.py_func(in_width, out_width) + size

    @classmethod
    def cost(cls, in_width: int, out_width: int) -> LayerCost:
        return LayerCost(
            value=out_width * in_width,
            tangent=out_width * in_width,
            adjoint=out_width * in_width,
            saved=0,  # the VJP needs only W, which is a parameter, not an intermediate
            explicit=out_width * in_width,
        )

    @classmethod
    def from_spec(cls, width, in_width, rng):
        # LeCun-normal weights keep pre-activations O(1) at any width, so tanh/sigmoid
        # neither saturate nor stay linear and every Jacobian entry matters.
        W = rng.standard_normal((width, in_width)) / np.sqrt(in_width)
        b = 0.1 * rng.standard_normal(width)
        return cls(W, b)

    def __repr__(self) -> str:
        return f"Dense(out={self.W.shape[0]}, in={self.W.shape[1]})"

    def spec(self) -> str:
        return f"dense:{self.W.shape[0]}"
