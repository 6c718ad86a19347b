"""The cost model, from layer kinds and widths alone: each mode's plan, the one description
of its work (``work``: counters, memory and predicted time are read from it; builders per
engine family in ``sweeps``, ``sparse``, ``operations``), the optimal bracketing of a
Jacobian chain (``plan``) and checkpointing schedules (``checkpoint``). Plain Python; it
imports no engine."""
