"""The chain in asdex (automatic sparse differentiation on JAX): its sparsity detected from
the traced JAX function and colored by asdex (``asdex.jacobian_coloring``), then compressed
JVPs ('fwd') or VJPs ('rev') decompressed into a dense J, jitted, awaited with
``block_until_ready``. The chain is written with the JAX peer's rules (``jax_peer.RULES``),
parameters passed as arguments.

Detection and coloring happen once per program, when the peer is first bound; their seconds
are kept apart (``preparation_seconds``), so they are reported beside, not inside, the
Jacobian's time (the harness's compile_s holds them with the JIT compile).
"""

from __future__ import annotations

import time
import warnings

import asdex
import jax
import jax.numpy as jnp
import numpy as np

from . import jax_peer
from ._common import PeerFunction, ProgramCache, composed

#: The same rules as the JAX peer: asdex differentiates exactly the JAX chain.
RULES = jax_peer.RULES

#: (id of the program, 'fwd' or 'rev') -> (seconds of detection + coloring, colors).
_PREPARED: dict[tuple[int, str], tuple[float, int]] = {}


def build(program, transform: str) -> PeerFunction:
    """x (jax.Array, (n,)) -> J (jax.Array, (m, n)), awaited, by asdex's compressed
    ``transform`` sweeps; the conversions from and to numpy beside it."""
    f = composed(program, RULES, "asdex", jnp.asarray)
    start = time.perf_counter()
    with warnings.catch_warnings():  # a full pattern is a fair case here, not a mistake
        warnings.simplefilter("ignore", asdex.DenseColoringWarning)
        colored = asdex.jacobian_coloring(f, jnp.zeros(program.shape.n), mode=transform)
    _PREPARED[id(program), transform] = (time.perf_counter() - start, colored.num_colors)
    jac = jax.jit(asdex.jacobian_from_coloring(f, colored, output_format="dense"))

    def jacobian(x):
        # dispatch is asynchronous: without the wait a timer would see only the dispatch
        return jac(x).block_until_ready()

    return PeerFunction(jac=jacobian, to_peer=jax.device_put, to_numpy=np.asarray,
                        numpy_in=jnp.asarray)


def preparation_seconds(program, transform: str) -> tuple[float, int] | None:
    """(seconds asdex took to detect and color, its colors) for a program it was bound to."""
    return _PREPARED.get((id(program), transform))


_CACHE = ProgramCache()


def jacobian_function(program, transform: str):
    return _CACHE.get(program, transform, build)
