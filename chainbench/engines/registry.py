"""The engine registry: mode name -> engine.

Every engine has ``jacobian(program, x, chunk, J, counts)`` (checkpointed ones also take
``snapshots``, numerical ones ``step``), ``default_chunk(max_width, lanes)`` and ``LANES``:
what its chunk counts ('n' input directions, 'm' output rows, None when it takes no chunk).
Numerical differentiation (``numerical``) and the optional peers (``peers``) sit beside the
AD engines, so sweeps, counters and figures treat them all alike.
"""

from ..peers import PEERS
from . import checkpointed, forward, mixed, numerical, reverse

ENGINES = {
    "forward": forward,
    "reverse": reverse,
    "optimal": mixed,
    "sqrt-checkpoint": checkpointed.SQRT,
    "revolve": checkpointed.REVOLVE,
    **numerical.METHODS,
    **PEERS,
}
