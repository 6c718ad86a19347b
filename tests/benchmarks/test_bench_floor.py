"""Calls at the floor: at n = 8 (four dense 8 × 8 layers each followed by tanh, then
dense:1) a call's own work is about a µs, so what chainbench adds around its kernels shows.
Each call is held beside its hand-written ``@njit`` counterpart (``floor_helpers``), in one
group per figure, so a run reads their ratios directly:

- gradient: a bound reverse-mode gradient (``cb.bind(chain, 'reverse')``) and
  ``cb.jacobian(chain, x, mode='reverse')`` against the hand-written reverse sweep;
- F: ``chain(x)`` and ``cb.bind_value(chain)`` against the hand-written evaluation.

Without ``--benchmark-enable`` each runs once, as a test that the two agree.
"""

from __future__ import annotations

import numpy as np
import pytest
from floor_helpers import floor_chain, hand_gradient, hand_value

import chainbench as cb

CHAIN, X, PARAMS = floor_chain()


def _calls():
    """name -> (group, function, its arguments): each called as ``function(*arguments)``,
    the hand-written ones too, so no call pays a wrapper the others do not."""
    bound = cb.bind(CHAIN, "reverse")
    return {
        "hand-written reverse sweep": ("gradient", hand_gradient, (*PARAMS, X)),
        "bound reverse gradient": ("gradient", bound, (X,)),
        "jacobian(chain, x, 'reverse')": ("gradient", cb.jacobian, (CHAIN, X, "reverse")),
        "hand-written evaluation": ("F", hand_value, (*PARAMS, X)),
        "chain(x)": ("F", CHAIN, (X,)),
        "bind_value(chain)": ("F", cb.bind_value(CHAIN), (X,)),
    }


CALLS = _calls()


@pytest.mark.parametrize("name", list(CALLS))
def test_floor(benchmark, name):
    group, function, arguments = CALLS[name]
    expected = hand_gradient(*PARAMS, X) if group == "gradient" else hand_value(*PARAMS, X)
    np.testing.assert_allclose(np.ravel(function(*arguments)), expected, rtol=1e-12,
                               atol=1e-15)
    benchmark.group = f"n = 8 floor: {group}"
    benchmark.extra_info.update(n=8, spec=CHAIN.spec, call=name)
    benchmark(function, *arguments)
