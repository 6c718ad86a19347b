"""The registry: mode name -> ``Engine``.

AD engines first (forward, reverse, optimal bracketing, two checkpointed reverse modes, the
compressed sparse-forward and sparse-reverse, the operation-level reverse and forward modes),
then numerical differentiation (finite differences, the complex step) and the optional
peers (JAX, PyTorch, autograd), so that sweeps, counters and figures treat them all alike.
"""

from __future__ import annotations

from ..peers import PEERS
from . import checkpointed, forward, mixed, numerical, reverse, sparse
from .contract import Engine
from .oplevel import forward as op_forward
from .oplevel import reverse as op_reverse

ENGINES: dict[str, Engine] = {
    engine.name: engine
    for engine in (
        forward.ENGINE, reverse.ENGINE, mixed.ENGINE, mixed.MADDS, checkpointed.SQRT,
        checkpointed.REVOLVE, sparse.FORWARD, sparse.REVERSE, op_reverse.ENGINE,
        op_forward.ENGINE,
        *(method.engine for method in numerical.METHODS.values()),
        *(peer.engine for peer in PEERS.values()),
    )
}

