"""The CI gate: the code under test against a reference commit, both measured in the same
job in interleaved pairs, judged by paired-ratio statistics, plus guards that physics keeps
on any CPU (see docs/gate.md).

    chainbench gate [--quick] [--rounds R] [--margin F] [--reference-tree PATH]
    chainbench gate --set-reference REV --why TEXT

One concept per module: ``cases`` (what is timed, shared with tests/benchmarks),
``reference`` (the recorded commit and its extracted tree), ``worker`` (the timing process of
one tree), ``driver`` (both workers, interleaved), ``ratios`` (statistics), ``guards``,
``report`` and ``run`` (one gate run).
"""
