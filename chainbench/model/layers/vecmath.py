"""Elementary functions without libm calls, so that LLVM vectorises the loops using them.

Numba compiles ``math.tanh`` to a scalar libm call per entry (vector math libraries such as
SVML are absent from pip's llvmlite), about 10 ns each: at n = 32 the activations of a chain
cost more than its matrix products. ``tanh`` here is plain arithmetic, four entries per
instruction on AVX2, and stays within a few ulp of the correctly rounded value (tested).
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal, localcontext

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ..._jit import kernel


def _cody_waite_ln2() -> tuple[float, float]:
    """ln 2 split as hi + lo, hi with its low 32 mantissa bits zero, so k·hi is exact for
    the |k| < 2^20 a range reduction meets, and lo holds the next 53 bits."""
    with localcontext() as ctx:
        ctx.prec = 50
        ln2 = Decimal(2).ln()
        bits = struct.unpack("<q", struct.pack("<d", float(ln2)))[0] & ~(2**32 - 1)
        hi = struct.unpack("<d", struct.pack("<q", bits))[0]
        return hi, float(ln2 - Decimal(hi))


LN2_HI, LN2_LO = _cody_waite_ln2()
LOG2E = 1.0 / math.log(2.0)
# Taylor coefficients 1/j! of expm1 for j = 2..13: on |r| ≤ ln2/2 the first term left out,
# r^14/14!, is below 1e-17 relative to expm1(r) ≈ r.
C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13 = (1.0 / math.factorial(j) for j in range(2, 14))
#: Beyond this |z|, tanh(z) rounds to ±1 (1 - tanh(20) ≈ 8e-18 < ε/2).
TANH_SATURATES = 20.0


@intrinsic
def _float_from_bits(typingctx, bits):
    """The float64 whose IEEE bits are the int64 ``bits`` (a bitcast, no conversion)."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@kernel
def expm1_nonpositive(s):
    """e^s - 1 for -60 ≤ s ≤ 0, written without a cancelling subtraction: s = k ln2 + r with
    |r| ≤ ln2/2, so e^s - 1 = 2^k·expm1(r) + (2^k - 1), each term exact or rounded once."""
    k = math.floor(s * LOG2E + 0.5)
    r = (s - k * LN2_HI) - k * LN2_LO
    q = r * (1.0 + r * (C2 + r * (C3 + r * (C4 + r * (C5 + r * (C6 + r * (C7 + r * (
        C8 + r * (C9 + r * (C10 + r * (C11 + r * (C12 + r * C13))))))))))))
    f = _float_from_bits((int(k) + 1023) << 52)  # 2^k: k is a small integer here
    return f * q + (f - 1.0)


@kernel
def tanh(z):
    """tanh(z) = -expm1(-2|z|) / (2 + expm1(-2|z|)) with the sign of z; NaN stays NaN.
    Branch-free (selects only), so loops over it vectorise."""
    a = abs(z)
    e = expm1_nonpositive(-2.0 * (a if a < TANH_SATURATES else TANH_SATURATES))
    t = math.copysign(-e / (2.0 + e), z)
    return t if a == a else z
