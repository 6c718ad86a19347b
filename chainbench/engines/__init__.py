"""The engines: each computes a chain's Jacobian into a given array and fills the counters.

``contract.Engine`` says what an engine is to the rest of chainbench; ``registry.ENGINES``
maps every mode name to one. The sweep kernels engines share are in ``_sweeps``; the
engines meet layers only through the model's dispatch.
"""
