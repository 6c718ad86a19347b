"""chainbench from Python: an experiment built or loaded (``Experiment``), run into a
results folder (``run``), opened again (``load``) as ``Results``, fitted, drawn and reported.

The command line's ``run``, ``fit``, ``plot`` and ``report`` are thin layers over these
modules; ``import chainbench as cb`` offers the public names (``cb.run``, ``cb.load``, …).
"""
