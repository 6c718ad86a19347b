"""Checkpointed reverse mode: schedules against the published optimum, Jacobians identical to
plain reverse mode, counters equal to the cost model, memory below plain reverse."""

import numpy as np
import pytest
from chain_helpers import random_chain

import chainbench as cb
from chainbench.cost.checkpoint import ADVANCE, REVERSE, every, revolve, revolve_extra

FIELDS = ("sweeps_forward", "sweeps_backward", "madds_value", "madds_adjoint", "bytes_tape",
          "bytes_work", "bytes_snapshots", "layer_steps")


@pytest.mark.parametrize("depth", [1, 2, 3, 7, 10, 25, 60])
@pytest.mark.parametrize("snapshots", [1, 2, 3, 5, 10])
def test_revolve_recomputes_the_published_minimum(depth, snapshots):
    sched = revolve(depth, snapshots)
    assert sched.advanced_layers == revolve_extra(depth, snapshots)
    assert sched.slots <= snapshots


@pytest.mark.parametrize("depth, snapshots, extra", [(286, 10, 3 * 286 - 78), (10, 1, 45)])
def test_revolve_theory_figures(depth, snapshots, extra):
    assert revolve_extra(depth, snapshots) == extra == revolve(depth, snapshots).advanced_layers


def _replay(sched, depth):
    """Walk a schedule keeping which layer index each slot's value belongs to; returns the
    layers reversed, in order, and fails on reading a slot that holds the wrong value."""
    slots, reversed_ = {0: 0}, []
    for op, a, b, src, dst in sched.actions:
        assert slots.get(src) == a, f"action reads slot {src} holding {slots.get(src)}, not {a}"
        if op == ADVANCE:
            slots[dst] = b
        else:
            assert op == REVERSE
            reversed_.extend(range(b - 1, a - 1, -1))
    return reversed_


@pytest.mark.parametrize("depth", [1, 4, 9, 17, 40])
def test_schedules_reverse_every_layer_once_last_first(depth):
    for sched in (every(depth), *(revolve(depth, s) for s in (1, 2, 4))):
        assert _replay(sched, depth) == list(range(depth - 1, -1, -1))


def test_sqrt_keeps_about_sqrt_k_snapshots():
    sched = every(64)
    assert sched.slots == 8 and sched.longest_segment == 8
    assert sched.advanced_layers == 64 - 8  # one extra sweep but for the last segment


@pytest.mark.parametrize("mode", ["sqrt-checkpoint", "revolve"])
@pytest.mark.parametrize("seed", range(12))
def test_checkpointed_jacobian_equals_reverse_and_prediction(mode, seed):
    rng = np.random.default_rng(seed)
    chain = random_chain(rng)
    x = rng.standard_normal(chain.n)
    for chunk in (None, 1):
        reference = cb.jacobian(chain, x, "reverse", chunk=chunk)
        for snapshots in (None, 1, 2, 3):
            J, stats = cb.jacobian(chain, x, mode, chunk=chunk, snapshots=snapshots,
                                   return_stats=True)
            np.testing.assert_array_equal(J, reference)  # same operations in the same order
            predicted = cb.predict(chain, mode, chunk, snapshots)
            assert {f: getattr(stats, f) for f in FIELDS} == {f: getattr(predicted, f)
                                                              for f in FIELDS}


def test_checkpointing_trades_memory_for_recomputation():
    chain = cb.Chain.from_spec("dense:128 tanh " * 32 + "dense:1", n=128, seed=0)
    x = np.ones(128)
    _, plain = cb.jacobian(chain, x, "reverse", return_stats=True)
    _, sqrt = cb.jacobian(chain, x, "sqrt-checkpoint", return_stats=True)
    _, rev2 = cb.jacobian(chain, x, "revolve", snapshots=2, return_stats=True)
    assert plain.bytes_held > sqrt.bytes_held > rev2.bytes_held
    assert plain.layer_steps < sqrt.layer_steps < rev2.layer_steps
    assert rev2.layer_steps - plain.layer_steps == revolve_extra(chain.depth, 2)


def test_snapshots_are_refused_where_they_mean_nothing():
    chain = cb.Chain.from_spec("dense:4 tanh dense:2", 3)
    with pytest.raises(ValueError, match="mode 'reverse' takes no snapshots"):
        cb.jacobian(chain, np.zeros(3), "reverse", snapshots=2)
    with pytest.raises(ValueError, match="snapshots must be an integer ≥ 1"):
        cb.jacobian(chain, np.zeros(3), "revolve", snapshots=0)


def test_a_call_with_snapshots_or_step_is_bound_once_and_reused():
    """The schedule of a checkpointed mode is built when bound: a call with snapshots (as the
    harness times them) must not rebuild it on every call."""
    chain = cb.Chain.from_spec("dense:16 tanh dense:16 tanh dense:16 tanh dense:4", 8, seed=3)
    x = np.random.default_rng(1).standard_normal(8)
    J = cb.jacobian(chain, x, "reverse")
    for snapshots in (2, 3, 2):
        np.testing.assert_allclose(cb.jacobian(chain, x, "revolve", snapshots=snapshots), J,
                                   rtol=1e-12, atol=1e-12)
    revolve = [key for key in chain.bound_calls if key[0] == "revolve"]
    assert sorted(key[3] for key in revolve) == [2, 3]  # one binding per snapshots, reused
    runs = {key: chain.bound_calls[key]._run for key in revolve}
    cb.jacobian(chain, x, "revolve", snapshots=2)
    assert all(chain.bound_calls[key]._run is run for key, run in runs.items())
    cb.jacobian(chain, x, "fd-forward", step=1.0)
    with pytest.raises((TypeError, ValueError)):  # True == 1.0, but is no step
        cb.jacobian(chain, x, "fd-forward", step=True)
