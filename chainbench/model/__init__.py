"""The model everything else builds on: layers (each with its rules and its cost), chains
of them, the compiled program the kernels run, and the counters engines fill."""
