"""The cost model, from layer kinds and widths alone: what each algorithm's sweeps cost
(``predictions``), the optimal bracketing of a Jacobian chain (``plan``) and checkpointing
schedules (``checkpoint``). Plain Python; it imports no engine."""
