"""The measuring planner: bind(..., planner="measure") times the best-predicted candidates,
runs the fastest measured and remembers it per machine and chain shape (wisdom)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import chainbench as cb
from chainbench import planner
from chainbench.cli import main
from chainbench.machine import wisdom
from chainbench.machine.current import current_profile


@pytest.fixture
def fresh_wisdom(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINBENCH_PROFILE_DIR", str(tmp_path))
    monkeypatch.setattr(planner, "TRIAL_S", 0.003)
    wisdom.forget()
    yield tmp_path
    wisdom.forget()


def test_measure_times_candidates_runs_the_fastest_and_remembers_it(fresh_wisdom):
    chain = cb.Chain.from_spec("dense:32 tanh dense:16 tanh dense:32", 32, seed=0)
    bound = cb.bind(chain, "auto", planner="measure")
    planned = bound.planned
    assert not planned.recalled and planned.planning_s > 0 and len(planned.timed) >= 2
    assert (bound.mode, bound.chunk) == (planned.mode, planned.chunk)
    fastest = min(s for _, _, s in planned.timed)
    safe = planned.timed[0]  # the pure mode at its default chunk, timed first
    assert planned.seconds == fastest or (
        (planned.mode, planned.chunk, planned.seconds) == safe
        and safe[2] <= fastest * np.exp(planner.NOISE))
    assert "planner 'measure'" in bound.describe()
    x = np.random.default_rng(1).standard_normal(32)
    np.testing.assert_allclose(bound(x), cb.jacobian(chain, x, "reverse"), rtol=1e-12,
                               atol=1e-12)
    # the same shape (other weights) on this machine: recalled, nothing timed
    path = wisdom.wisdom_path(current_profile().key)
    assert path.exists() and path.parent == fresh_wisdom
    wisdom.forget()
    again = cb.bind(cb.Chain.from_spec("dense:32 tanh dense:16 tanh dense:32", 32, seed=5),
                    "auto", planner="measure")
    assert again.planned.recalled and again.planned.planning_s == 0
    assert (again.mode, again.chunk) == (bound.mode, bound.chunk)


def test_wisdom_is_kept_per_machine_and_per_shape(fresh_wisdom):
    key = current_profile().key
    shape_a = cb.ChainShape.from_spec("dense:8 tanh", 8)
    shape_b = cb.ChainShape.from_spec("dense:8 sigmoid", 8)
    assert planner.entry(shape_a, "auto") != planner.entry(shape_b, "auto")
    assert planner.entry(cb.ChainShape.from_spec("conv:3", 8), "auto") != \
        planner.entry(cb.ChainShape.from_spec("conv:5", 8), "auto")
    wisdom.remember(key, "e", {"mode": "forward", "chunk": 2, "seconds": 1e-6})
    other = dict(key, cpu_model="another CPU")
    assert wisdom.recall(key, "e")["chunk"] == 2 and wisdom.recall(other, "e") is None
    assert wisdom.wisdom_path(key) != wisdom.wisdom_path(other)
    wisdom.forget()
    assert json.loads(wisdom.wisdom_path(key).read_text())["e"]["mode"] == "forward"


def test_damaged_wisdom_is_set_aside_with_one_line(fresh_wisdom, capsys):
    key = current_profile().key
    wisdom.wisdom_path(key).write_text("{not json")
    assert wisdom.recall(key, "anything") is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "damaged planner wisdom" in err
    wisdom.remember(key, "e", {"mode": "reverse", "chunk": 1, "seconds": 1.0})
    wisdom.forget()
    assert wisdom.recall(key, "e")["mode"] == "reverse"  # replaced by a whole file


@pytest.mark.parametrize("bad", ["fast", "", None, 1])
def test_a_planner_that_does_not_exist_is_refused(bad):
    chain = cb.Chain.from_spec("dense:4", 4)
    with pytest.raises(ValueError, match="planner must be one of 'estimate', 'measure'"):
        cb.bind(chain, "auto", planner=bad)
    assert main(["predict", "dense:4", "--n", "4", "--planner", "fast"]) == 2


def test_an_engine_or_a_given_chunk_leaves_the_planner_nothing_to_choose(fresh_wisdom):
    chain = cb.Chain.from_spec("dense:8 tanh", 8)
    assert cb.bind(chain, "reverse", planner="measure").planned is None
    assert cb.bind(chain, "auto", 2, planner="measure").chunk == 2
    assert not wisdom.wisdom_path(current_profile().key).exists()
