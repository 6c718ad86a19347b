"""The activations' second-order rules, over the generated table ``apply2`` (g'' per entry):
the Hessian of y_i = g(x_i) is diagonal, g''(x_i) on output i's own input."""

from __future__ import annotations

from numba import njit

from .base import OP, W_OUT, SecondRules

_inline = njit(nogil=True, error_model="numpy", inline="always")


def second_rules(apply2) -> SecondRules:
    """The second-order rules of every activation, given the op-code table of g''."""

    @_inline
    def record2(row, params, x, y, saved, curv):
        """curv_i = g''(x_i), from x, y and the tape's g'(x)."""
        w = row[W_OUT]
        apply2(row[OP], x, y, saved[:w], curv[:w])
        return w

    @_inline
    def curvature(row, params, saved, curv, X_dot, Y_dot, Y_bar, Z):
        """Z[l, i] += g''(x_i) ȳ_i ẋ_il: the VJP ȳ·g'(x) differentiated along ẋ_l."""
        w, c = X_dot.shape
        paired = Y_bar.shape[0] > 1
        for l in range(c):
            y_bar = Y_bar[l] if paired else Y_bar[0]
            z = Z[l]
            for i in range(w):
                z[i] += curv[i] * y_bar[i] * X_dot[i, l]
        return 2 * w * c

    @_inline
    def pairs(row, params, saved, curv, L, R, R_out, S):
        """S[i, a·p + b] += g''(x_i) L_ia R_ib."""
        w, c = L.shape
        p = R.shape[1]
        for i in range(w):
            r, s = R[i], S[i]
            for a in range(c):
                t = curv[i] * L[i, a]
                for b in range(p):  # along the right lanes: contiguous, vectorises
                    s[a * p + b] += t * r[b]
        return 2 * w * c * p

    return SecondRules(record2, curvature, pairs)
