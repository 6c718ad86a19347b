"""Side tools beside the runs: accuracy against a reference, the speed check against
hand-written kernels (``speed``, ``handwritten``), compare, and their time budgets."""
