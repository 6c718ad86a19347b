"""The engine registry: mode name -> engine.

Every engine has ``jacobian(program, x, chunk, J, counts)`` (checkpointed ones also take
``snapshots``), ``default_chunk(max_width, lanes)`` and ``LANES``: what its chunk counts
('n' input directions, 'm' output rows, None when it takes no chunk).
"""

from . import checkpointed, forward, mixed, reverse

ENGINES = {
    "forward": forward,
    "reverse": reverse,
    "optimal": mixed,
    "sqrt-checkpoint": checkpointed.SQRT,
    "revolve": checkpointed.REVOLVE,
}
