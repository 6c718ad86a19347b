"""The one jit decorator every chainbench kernel uses, so options live in one place."""

from numba import njit

from . import _cache

_cache.install()  # before any kernel is decorated: its cache stamp sees what it inlines

# cache=True: a second process loads machine code instead of compiling again.
# error_model="numpy": division by zero gives inf/NaN like numpy instead of raising,
# so NaN inputs propagate through a chain rather than crash it.
kernel = njit(cache=True, nogil=True, error_model="numpy")

# For the small loops written in place of BLAS calls: letting LLVM reassociate a sum (and
# fuse multiply-adds) is what vectorises it; BLAS reorders its sums the same way.
# NaN and infinity keep their IEEE meaning (no "nnan"/"ninf"), so NaN still propagates.
kernel_reassoc = njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})

# For the layer rules, their op-code dispatch and reverse mode's per-sweep loops: inlined
# into the calling kernel at Numba's IR level. A call per layer per sweep, each array passed
# as an unpacked struct, cost ~60 ns a layer: a third of a whole n = 32 gradient.
inlined = njit(cache=True, nogil=True, error_model="numpy", inline="always")
