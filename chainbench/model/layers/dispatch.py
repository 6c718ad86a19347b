"""Op-code dispatch from the engines' generic loops to each layer's rules.

Engines call these kernels with a row of the compiled program; nothing else in the
engines knows which layers exist. A new non-elementwise layer adds one branch to each.
"""

from __future__ import annotations

from ..._jit import inlined
from .dense import (
    Dense,
    dense_explicit,
    dense_jvp,
    dense_record,
    dense_tangent,
    dense_value,
    dense_value_complex,
    dense_vjp,
)
from .elementwise import (
    elementwise_explicit,
    elementwise_jvp,
    elementwise_record,
    elementwise_tangent,
    elementwise_value,
    elementwise_value_complex,
    elementwise_vjp,
)
from .softmax import (
    Softmax,
    softmax_explicit,
    softmax_jvp,
    softmax_record,
    softmax_tangent,
    softmax_value,
    softmax_value_complex,
    softmax_vjp,
)

DENSE = Dense.op
SOFTMAX = Softmax.op

# Columns of a compiled program row (see chain.Program). Rules that use the tape take the
# layer's slot onward (tape[S_OFF:]), so engines may keep only part of a tape.
OP, W_IN, W_OUT, P_OFF, S_OFF = 0, 1, 2, 3, 4


@inlined
def layer_value(row, params, x, y):
    """y = f_k(x). Returns multiply-adds."""
    op = row[OP]
    if op == DENSE:
        return dense_value(params[row[P_OFF] :], row[W_IN], row[W_OUT], x, y)
    if op == SOFTMAX:
        return softmax_value(x, y)
    return elementwise_value(op, x, y)


@inlined
def layer_value_complex(row, params, x, y):
    """y = f_k(x) for complex x (complex-safe layers only). Returns multiply-adds."""
    op = row[OP]
    if op == DENSE:
        return dense_value_complex(params[row[P_OFF] :], row[W_IN], row[W_OUT], x, y)
    if op == SOFTMAX:
        return softmax_value_complex(x, y)
    return elementwise_value_complex(op, x, y)


@inlined
def layer_jvp(row, params, x, X_dot, y, Y_dot):
    """(y, Y_dot) = (f_k(x), J_k X_dot). Returns (value, tangent) multiply-adds."""
    op = row[OP]
    if op == DENSE:
        return dense_jvp(params[row[P_OFF] :], row[W_IN], row[W_OUT], x, X_dot, y, Y_dot)
    if op == SOFTMAX:
        return softmax_jvp(x, X_dot, y, Y_dot)
    return elementwise_jvp(op, x, X_dot, y, Y_dot)


@inlined
def layer_record(row, params, x, y, saved):
    """y = f_k(x), writing what the VJP needs into ``saved``, the layer's tape slot onward."""
    op = row[OP]
    if op == DENSE:
        return dense_record(params[row[P_OFF] :], row[W_IN], row[W_OUT], x, y, saved)
    if op == SOFTMAX:
        return softmax_record(x, y, saved[: row[W_OUT]])
    return elementwise_record(op, x, y, saved[: row[W_OUT]])


@inlined
def layer_vjp(row, params, saved, Y_bar, X_bar):
    """X_bar = Y_bar J_k from the layer's tape slot ``saved``. Returns multiply-adds."""
    op = row[OP]
    if op == DENSE:
        return dense_vjp(params[row[P_OFF] :], row[W_IN], row[W_OUT], saved, Y_bar, X_bar)
    if op == SOFTMAX:
        return softmax_vjp(saved[: row[W_OUT]], Y_bar, X_bar)
    return elementwise_vjp(saved[: row[W_OUT]], Y_bar, X_bar)


@inlined
def layer_tangent(row, params, saved, X_dot, Y_dot):
    """Y_dot = J_k X_dot from the layer's tape slot ``saved`` (values already recorded).
    Returns multiply-adds."""
    op = row[OP]
    if op == DENSE:
        return dense_tangent(params[row[P_OFF] :], row[W_IN], row[W_OUT], X_dot, Y_dot)
    if op == SOFTMAX:
        return softmax_tangent(saved[: row[W_OUT]], X_dot, Y_dot)
    return elementwise_tangent(saved[: row[W_OUT]], X_dot, Y_dot)


@inlined
def layer_explicit(row, params, saved, i0, j0, J):
    """J = J_k[i0:i0+R, j0:j0+C] for J of shape (R, C), from the tape slot ``saved``: the
    whole Jacobian, or the rows (columns) that seed a backward (forward) sweep.
    Returns entries written."""
    op = row[OP]
    if op == DENSE:
        return dense_explicit(params[row[P_OFF] :], row[W_IN], row[W_OUT], i0, j0, J)
    if op == SOFTMAX:
        return softmax_explicit(saved[: row[W_OUT]], i0, j0, J)
    return elementwise_explicit(saved[: row[W_OUT]], i0, j0, J)
