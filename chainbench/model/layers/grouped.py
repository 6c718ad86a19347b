"""Block-diagonal dense layer: G independent dense blocks, y = blockdiag(W_1, …, W_G) x + b.
Block g maps inputs g·bi … (g+1)·bi − 1 to outputs g·bo … (g+1)·bo − 1, with bi = in/G and
bo = out/G; its Jacobian is that block-diagonal matrix, out·in/G nonzeros, and a value, a
tangent lane or a cotangent row costs exactly that many multiply-adds.
"""

from __future__ import annotations

import numpy as np

from ..._jit import inlined
from .. import ops
from .base import ARG, P_OFF, W_IN, W_OUT, Kind, Layer, LayerCost, Rules
from .linear import LINEAR_RULES, linear_second_cost

# --- rules; p is the layer's flat parameters: the G blocks (bo, bi) row-major, then b --------


@inlined
def _layer(row, params):
    """Parameters from the layer's offset, G, and the block sizes bi and bo."""
    G = row[ARG]
    return params[row[P_OFF] :], G, row[W_IN] // G, row[W_OUT] // G


@inlined
def grouped_value(row, params, x, y):
    """y_r = b_r + Σ_j W_g[i, j] x[g·bi + j] for output r = g·bo + i. Returns multiply-adds."""
    p, G, bi, bo = _layer(row, params)
    bias = G * bo * bi
    for g in range(G):
        xg = x[g * bi : (g + 1) * bi]
        for i in range(bo):
            # slices indexed from 0: Numba keeps a wraparound check on p[base + j] in the
            # loop (it cannot prove it non-negative), which stops it vectorising
            wi, s = p[(g * bo + i) * bi : (g * bo + i + 1) * bi], 0.0
            for j in range(bi):
                s += wi[j] * xg[j]
            y[g * bo + i] = p[bias + g * bo + i] + s
    return G * bo * bi


@inlined
def grouped_value_complex(row, params, x, y):
    """The value for complex x (real W and b), accumulated in y: the complex step's rule."""
    p, G, bi, bo = _layer(row, params)
    bias = G * bo * bi
    for g in range(G):
        for i in range(bo):
            base = (g * bo + i) * bi
            y[g * bo + i] = p[bias + g * bo + i]
            for j in range(bi):
                y[g * bo + i] += p[base + j] * x[g * bi + j]
    return G * bo * bi


@inlined
def grouped_tangent(row, params, saved, X_dot, Y_dot):
    """Y_dot[g·bo + i] = Σ_j W_g[i, j] X_dot[g·bi + j] for c lanes. Returns multiply-adds."""
    p, G, bi, bo = _layer(row, params)
    c = X_dot.shape[1]
    for g in range(G):
        for i in range(bo):
            r, base = g * bo + i, (g * bo + i) * bi
            for l in range(c):
                Y_dot[r, l] = 0.0
            for j in range(bi):
                a, x_dot, y_dot = p[base + j], X_dot[g * bi + j], Y_dot[r]
                for l in range(c):  # along the lanes: contiguous, vectorises
                    y_dot[l] += a * x_dot[l]
    return G * bo * bi * c


@inlined
def grouped_jvp(row, params, x, X_dot, y, Y_dot):
    """Value and c tangent lanes. Returns (value, tangent) multiply-adds."""
    return grouped_value(row, params, x, y), grouped_tangent(row, params, x, X_dot, Y_dot)


@inlined
def grouped_record(row, params, x, y, saved):
    """Forward sweep of reverse mode: nothing to save, the blocks are parameters."""
    return grouped_value(row, params, x, y)


@inlined
def grouped_vjp(row, params, saved, Y_bar, X_bar):
    """X_bar[r, g·bi + j] = Σ_i Y_bar[r, g·bo + i] W_g[i, j]. Returns multiply-adds."""
    p, G, bi, bo = _layer(row, params)
    rows = Y_bar.shape[0]
    for r in range(rows):
        for j in range(G * bi):
            X_bar[r, j] = 0.0
        for g in range(G):
            x_bar = X_bar[r, g * bi : (g + 1) * bi]
            for i in range(bo):
                a, wi = Y_bar[r, g * bo + i], p[(g * bo + i) * bi : (g * bo + i + 1) * bi]
                for j in range(bi):  # along a row of W_g: contiguous, vectorises
                    x_bar[j] += a * wi[j]
    return G * bo * bi * rows


@inlined
def grouped_lowering(row, params, st, x0, y0, t0):
    """y_r = (Σ_j W_g[i, j] x[g·bi + j]) + b_r in primitives, r = g·bo + i: per output a
    chain of mulc and add over its block's inputs, then addc; one temporary."""
    p, G, bi, bo = _layer(row, params)
    bias = G * bo * bi
    for g in range(G):
        for i in range(bo):
            r, w = g * bo + i, p[(g * bo + i) * bi : (g * bo + i + 1) * bi]
            ops.mulc(st, y0 + r, x0 + g * bi, w[0])
            for j in range(1, bi):
                ops.mulc(st, t0, x0 + g * bi + j, w[j])
                ops.add(st, y0 + r, y0 + r, t0)
            ops.addc(st, y0 + r, y0 + r, p[bias + r])


@inlined
def grouped_explicit(row, params, saved, i0, j0, J):
    """J = blockdiag(W_1, …, W_G)[i0:i0+R, j0:j0+C]. Returns entries written."""
    p, G, bi, bo = _layer(row, params)
    R, C = J.shape
    for i in range(R):
        gi, ii = divmod(i0 + i, bo)
        for j in range(C):
            gj, jj = divmod(j0 + j, bi)
            J[i, j] = p[(gi * bo + ii) * bi + jj] if gi == gj else 0.0
    return R * C


# --- the layer ------------------------------------------------------------------------------


class Grouped(Layer):
    """G independent dense blocks ``W`` (G, bo, bi) and bias ``b`` (G·bo,); spec token
    ``grouped:WIDTH:G`` (WIDTH outputs, G blocks; G divides both widths)."""

    name = "grouped"
    arguments = ("WIDTH", "G")
    probe = "grouped:{w}:{g}"  # blocks of 32
    structured = True
    takes_width = True
    complex_safe = True
    rules = Rules(grouped_value, grouped_value_complex, grouped_jvp, grouped_record,
                  grouped_vjp, grouped_tangent, grouped_explicit)
    # linear: no second derivative, so no curvature in any Hessian
    rules2 = LINEAR_RULES
    second_cost = classmethod(linear_second_cost)
    lowering = grouped_lowering

    @classmethod
    def op_counts(cls, in_width: int, out_width: int, groups: int = 1) -> dict[str, int]:
        nnz = out_width * in_width // groups
        return {"mulc": nnz, "add": nnz - out_width, "addc": out_width}

    @classmethod
    def op_temps(cls, in_width: int, out_width: int, groups: int = 1) -> int:
        return 1

    def __init__(self, W, b=None):
        W = np.asarray(W)
        if W.dtype.kind not in "biuf" or W.ndim != 3 or min(W.shape) < 1:
            raise ValueError(f"Grouped: W must be a 3-D array (G, out/G, in/G) of real "
                             f"numbers, got {W.dtype} of shape {W.shape}")
        out = W.shape[0] * W.shape[1]
        b = np.zeros(out) if b is None else np.asarray(b, dtype=np.float64)
        if b.shape != (out,):
            raise ValueError(f"Grouped: b has shape {b.shape} but W is {W.shape}; b must "
                             f"have shape ({out},)")
        self.W = np.ascontiguousarray(W, dtype=np.float64)
        self.b = np.ascontiguousarray(b)

    @property
    def kind(self) -> Kind:
        return Kind(Grouped, self.W.shape[0])

    @property
    def arg(self) -> int:
        return self.W.shape[0]

    def in_width(self) -> int:
        return self.W.shape[0] * self.W.shape[2]

    def out_width(self, in_width: int) -> int:
        if in_width != self.in_width():
            raise ValueError(f"Grouped: its {self.W.shape[0]} blocks take {self.in_width()} "
                             f"inputs but the input has width {in_width}")
        return self.W.shape[0] * self.W.shape[1]

    @property
    def params(self) -> np.ndarray:
        return np.concatenate([self.W.ravel(), self.b])

    @classmethod
    def parameters(cls, in_width: int, out_width: int, groups: int = 1) -> int:
        return out_width * in_width // groups + out_width

    @classmethod
    def structure(cls, args, in_width):
        width, groups = args
        for what, w in (("input width", in_width), ("width", width)):
            if w % groups:
                raise ValueError(f"Grouped: G = {groups} blocks do not divide the {what} "
                                 f"{w}; G must divide both the input width and WIDTH")
        return Kind(cls, groups), width

    @classmethod
    def cost(cls, in_width: int, out_width: int, groups: int = 1) -> LayerCost:
        nnz = out_width * in_width // groups  # the blocks' entries, each visited once
        return LayerCost(value=nnz, tangent=nnz, adjoint=nnz, saved=0,
                         explicit=out_width * in_width)

    @classmethod
    def pattern(cls, in_width: int, out_width: int, groups: int = 1):
        """G full blocks (out/G, in/G) on the diagonal."""
        import scipy.sparse as sp

        block = np.ones((out_width // groups, in_width // groups), dtype=bool)
        return sp.csr_array(sp.kron(sp.eye_array(groups, dtype=bool), block, format="csr"))

    @classmethod
    def from_spec(cls, width, in_width, rng, groups: int = 1):
        # LeCun-normal within each block, whose fan-in is in/G
        bi, bo = in_width // groups, width // groups
        return cls(rng.standard_normal((groups, bo, bi)) / np.sqrt(bi),
                   0.1 * rng.standard_normal(width))

    def __repr__(self) -> str:
        G, bo, bi = self.W.shape
        return f"Grouped(G={G}, out={G * bo}, in={G * bi})"

    def spec(self) -> str:
        return f"grouped:{self.W.shape[0] * self.W.shape[1]}:{self.W.shape[0]}"
