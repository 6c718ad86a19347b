"""The one jit decorator every chainbench kernel uses, so options live in one place."""

from functools import partial

from numba import njit, typeof
from numba.core.dispatcher import Dispatcher

from . import _cache

_cache.install()  # before any kernel is decorated: its cache stamp sees what it inlines

# cache=True: a second process loads machine code instead of compiling again.
# error_model="numpy": division by zero gives inf/NaN like numpy instead of raising,
# so NaN inputs propagate through a chain rather than crash it.
_OPTIONS = {"nogil": True, "error_model": "numpy"}
kernel = njit(cache=True, **_OPTIONS)

# For the small loops written in place of BLAS calls: letting LLVM reassociate a sum (and
# fuse multiply-adds) is what vectorises it; BLAS reorders its sums the same way.
# NaN and infinity keep their IEEE meaning (no "nnan"/"ninf"), so NaN still propagates.
kernel_reassoc = njit(cache=True, fastmath={"reassoc", "contract"}, **_OPTIONS)

# For the layer rules, their op-code dispatch and reverse mode's per-sweep loops: inlined
# into the calling kernel at Numba's IR level. A call per layer per sweep, each array passed
# as an unpacked struct, cost ~60 ns a layer: a third of a whole n = 32 gradient.
inlined = njit(cache=True, inline="always", **_OPTIONS)

# Generated code (the layers' op-code dispatch, the activations' table, the lowerings'
# dispatch, the primitives' emitters) is compiled where the kernels that call it compile:
# source built at import has no file for Numba's cache, and the cached kernels inline it.
generated = njit(**_OPTIONS)
generated_inlined = njit(inline="always", **_OPTIONS)


def generate(source: str, origin: str, namespace: dict, names, jit=generated_inlined) -> dict:
    """The functions ``names`` of generated ``source`` (``origin`` names it in tracebacks),
    run in ``namespace`` and jitted with ``jit``: name -> dispatcher. The one way
    chainbench turns generated source into kernels."""
    exec(compile(source, f"<{origin} generated>", "exec"), namespace)
    return {name: jit(namespace[name]) for name in names}


def direct(run, *rest):
    """``run`` — a ``functools.partial`` over a jitted kernel, then called with ``rest`` —
    as a partial over the kernel's compiled entry point for exactly these argument types,
    skipping the dispatcher's type resolution of every argument (a few hundred ns of a
    2 µs gradient at n = 8). ``run`` itself where it is no such partial or has not been
    compiled for these types. Only for calls whose arguments keep these types: the caller
    checks them (``bound.Bound``'s fast path)."""
    if not (isinstance(run, partial) and isinstance(run.func, Dispatcher)) or run.keywords:
        return run
    try:
        key = tuple(typeof(a) for a in (*run.args, *rest))
    except ValueError:  # a value numba has no type for
        return run
    compiled = run.func.overloads.get(key)
    return run if compiled is None else partial(compiled.entry_point, *run.args)
