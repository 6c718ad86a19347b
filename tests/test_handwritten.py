"""The hand-written numpy yardstick computes the same Jacobians as the engines."""

import numpy as np
import pytest

import chainbench as cb
from chainbench.harness.tools.handwritten import numpy_forward, numpy_reverse, standard_chain


@pytest.mark.parametrize("n, m, depth", [(5, 1, 4), (7, 7, 2), (3, 9, 1), (6, 2, 0)])
def test_handwritten_matches_engines(n, m, depth):
    chain = standard_chain(n, m, depth, seed=n)
    x = np.random.default_rng(m).standard_normal(n)
    for ref in (numpy_forward, numpy_reverse):
        np.testing.assert_allclose(ref(chain, x), cb.jacobian(chain, x, "forward"), rtol=1e-12,
                                   atol=1e-14)


def test_handwritten_refuses_other_chains():
    with pytest.raises(ValueError, match="dense, tanh"):
        numpy_reverse(cb.Chain.from_spec("dense:3 sin dense:1", 3), np.zeros(3))
