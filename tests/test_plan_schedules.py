"""The sparse and operation-level kernels run their plan: the lane blocks a plan lists are
the sweeps the kernel makes, so a perturbed plan changes the sweep counters, not J."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import chainbench as cb
from chainbench.cost.operations import op_forward_plan, op_reverse_plan
from chainbench.cost.sparse import sparse_forward_plan, sparse_reverse_plan
from chainbench.engines import sparse
from chainbench.engines.oplevel import forward as op_forward
from chainbench.engines.oplevel import reverse as op_reverse
from chainbench.model.counters import SWEEPS_BACKWARD, SWEEPS_FORWARD, new_counters

SPEC = "dense:6 tanh dense:5 sigmoid dense:4"

#: (mode, its plan builder, the kernel run from a plan, the lane rule, the counter it sweeps)
CASES = [
    ("sparse-forward", sparse_forward_plan, sparse.run_forward, "tangent", SWEEPS_FORWARD),
    ("sparse-reverse", sparse_reverse_plan, sparse.run_reverse, "adjoint", SWEEPS_BACKWARD),
    ("op-forward", op_forward_plan, op_forward.run_plan, "tangent", SWEEPS_FORWARD),
    ("op-reverse", op_reverse_plan, op_reverse.run_plan, "adjoint", SWEEPS_BACKWARD),
]


def one_lane_a_sweep(plan, rule):
    """The plan with every lane block of ``rule`` split into one-lane sweeps."""
    passes = tuple(replace(p, lanes=1, count=p.count * p.lanes) if p.rule == rule else p
                   for p in plan.passes)
    lanes = sum(b for _, b in plan.lane_blocks)
    return replace(plan, passes=passes, lane_blocks=tuple((i, 1) for i in range(lanes)))


def test_a_schedule_lists_each_sweep_of_the_plan_blocks():
    plan = op_forward_plan(cb.ChainShape.from_spec(SPEC, 7), 3)
    assert plan.schedule().tolist() == [[0, 3], [3, 3], [6, 1]]


@pytest.mark.parametrize("mode, build, run_plan, rule, slot", CASES, ids=[c[0] for c in CASES])
def test_a_kernel_follows_its_plan_blocks(mode, build, run_plan, rule, slot):
    chain = cb.Chain.from_spec(SPEC, 7, seed=3)
    x = np.random.default_rng(0).standard_normal(7)
    reference = cb.jacobian(chain, x, "reverse")
    plan = build(chain.shape)  # the default chunk: every lane in one sweep here
    runs = {}
    for name, p in (("plan", plan), ("perturbed", one_lane_a_sweep(plan, rule))):
        J, counts = np.empty((chain.m, chain.n)), new_counters()
        run_plan(chain.program, p)(x, J, counts)
        np.testing.assert_allclose(J, reference, rtol=1e-12, atol=1e-12)
        runs[name] = counts[slot]
    lanes = sum(p.lanes * p.count for p in plan.passes if p.rule == rule) // chain.depth
    assert runs["plan"] == 1 < lanes == runs["perturbed"]


def test_even_lane_blocks_are_one_description_per_split_and_refuse_no_lanes():
    from chainbench.cost.work import EvenBlocks, grouped, lane_blocks

    blocks = lane_blocks(7, 3)
    assert list(blocks) == [(0, 3), (3, 3), (6, 1)] and blocks[-1] == (6, 1)
    assert grouped(blocks) == grouped(tuple(blocks)) == [(3, 2), (1, 1)]
    assert lane_blocks(4, 9) == lane_blocks(4, 4) and hash(lane_blocks(4, 9)) == hash(
        lane_blocks(4, 4))  # one block of all lanes, however large the chunk
    assert lane_blocks(0, 3) == lane_blocks(0, 5) and len(lane_blocks(0, 3)) == 0
    for total, chunk in ((5, 0), (-1, 2)):
        with pytest.raises(ValueError, match="chunk ≥ 1"):
            EvenBlocks(total, chunk)
