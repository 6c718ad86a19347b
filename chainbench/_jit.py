"""The one jit decorator every chainbench kernel uses, so options live in one place."""

from numba import njit

# cache=True: a second process loads machine code instead of compiling again.
# error_model="numpy": division by zero gives inf/NaN like numpy instead of raising,
# so NaN inputs propagate through a chain rather than crash it.
kernel = njit(cache=True, nogil=True, error_model="numpy")
