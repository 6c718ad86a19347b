"""cb.bind: a chain's Jacobian bound once to one engine and chunk, called with x, and
saying what it runs, what its counters will read and what it should cost."""

from __future__ import annotations

import numpy as np
import pytest

import chainbench as cb
from chainbench.cost.time_model import TimePrediction

SPEC = "dense:8 tanh dense:8 tanh dense:8 tanh dense:8 tanh dense:3"


@pytest.fixture(scope="module")
def chain():
    return cb.Chain.from_spec(SPEC, 8, seed=0)


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).standard_normal(8)


def test_a_bound_jacobian_is_bound_once_and_computes_what_jacobian_does(chain, x):
    bound = cb.bind(chain, "reverse", 2)
    assert cb.bind(chain, "reverse", 2) is bound  # bound once per arguments
    assert (bound.mode, bound.chunk) == ("reverse", 2)
    np.testing.assert_allclose(bound(x), cb.jacobian(chain, x, "forward"), rtol=1e-12,
                               atol=1e-14)
    assert np.array_equal(bound(list(x)), bound(x))  # any array-like x, checked


def test_auto_resolves_when_bound_to_a_concrete_engine_and_chunk(chain, x):
    bound = cb.bind(chain)
    assert bound.asked == "auto" and bound.mode in cb.MODES and bound.mode != bound.asked
    assert (bound.mode, bound.chunk) == cb.auto_choice(chain)
    assert "mode='auto' picked it" in bound.describe() and repr(bound) in bound.describe()
    _, stats = cb.jacobian(chain, x, return_stats=True)
    assert (stats.mode, stats.chunk) == (bound.mode, bound.chunk)


def test_out_is_filled_and_checked(chain, x):
    bound = cb.bind(chain, "forward")
    out = np.full((3, 8), np.nan)
    assert bound(x, out=out) is out
    np.testing.assert_array_equal(out, bound(x))
    with pytest.raises(ValueError, match=r"out must have shape \(3, 8\)"):
        bound(x, out=np.empty((8, 3)))
    with pytest.raises(TypeError, match="out must be a writeable C-contiguous float64"):
        bound(x, out=np.empty((3, 8), dtype=np.float32))
    with pytest.raises(TypeError, match="out must be a writeable C-contiguous float64"):
        bound(x, out=np.empty((8, 3)).T)


def test_predict_and_price_are_the_bound_calls(chain, x):
    for mode, chunk in (("forward", 3), ("reverse", 1), ("optimal", None),
                        ("revolve", None)):
        bound = cb.bind(chain, mode, chunk)
        _, stats = bound(x, return_stats=True)
        predicted = bound.predict()
        assert (predicted.madds, predicted.bytes_held) == (stats.madds, stats.bytes_held)
        assert predicted == cb.predict(chain, mode, chunk)
        price = bound.price()
        assert isinstance(price, TimePrediction) and price.seconds > 0
        assert price == cb.predict_time(chain, mode, chunk)
        assert f"{predicted.madds} multiply-adds" in str(bound.plan)


def test_a_bound_jacobian_renders_its_plan_as_html(chain):
    bound = cb.bind(chain)  # 'auto': the pick, the strategy that picked it, and the work
    text = bound._repr_html_()
    assert text.count("<table") == 2 and f"<td>{bound.mode} (&#x27;auto&#x27; picked it)" in text
    assert f"<td>{bound.chunk}</td>" in text
    assert f"multiply-adds</th><td>{bound.predict().madds}</td>" in text
    assert "sweeps_forward</th>" in text  # the counters' breakdown: Prediction's own table
    assert f"<td>{bound.price().seconds:.3g} s, " in text
    text = cb.bind(chain, "revolve", snapshots=2)._repr_html_()
    assert "<td>revolve</td>" in text and "snapshots</th><td>2</td>" in text


def test_bind_value_is_f_alone(chain, x):
    f = cb.bind_value(chain)
    np.testing.assert_array_equal(f(x), chain(x))
    with pytest.raises(ValueError, match=r"x must have shape \(8,\)"):
        f(np.zeros(7))
    with pytest.raises(TypeError, match="chain must be a chainbench.Chain"):
        cb.bind_value("dense:8")


def test_directional_products_are_the_engines_that_offer_them(chain, x):
    v = np.random.default_rng(1).standard_normal(8)
    y, Jv = cb.bind(chain, "forward").jvp(x, v)
    np.testing.assert_allclose(Jv, cb.jacobian(chain, x, "reverse") @ v, rtol=1e-12)
    np.testing.assert_array_equal(y, chain(x))
    with pytest.raises(ValueError, match="mode 'reverse' has no jvp; bind mode='forward'"):
        cb.bind(chain, "reverse").jvp(x, v)


def test_bad_arguments_are_refused_when_bound(chain):
    with pytest.raises(ValueError, match="unknown mode 'sideways'; choose one of: forward"):
        cb.bind(chain, "sideways")
    with pytest.raises(TypeError, match="chain must be a chainbench.Chain"):
        cb.bind(None)
    with pytest.raises(TypeError):  # a keyword no engine takes
        cb.bind(chain, "reverse", colour=2)
    with pytest.raises(ValueError, match="mode 'reverse' takes no snapshots"):
        cb.bind(chain, "reverse", snapshots=2)


def test_a_point_resolves_its_mode_once_and_binds_its_jacobian_once(monkeypatch):
    """The harness's trip from a point to a kernel: 'auto' chosen once, one Bound made,
    whose call is timed and whose predictions fill the row."""
    from chainbench import bound, strategies
    from chainbench.harness.experiment.config import Measure, Point
    from chainbench.harness.run.point import measure_point

    picks, binds = [], []
    auto = strategies.STRATEGIES["auto"]
    monkeypatch.setitem(strategies.STRATEGIES, "auto",
                        lambda shape, profile=None: picks.append(shape) or auto(shape, profile))
    init = bound.Bound.__init__
    monkeypatch.setattr(bound.Bound, "__init__",
                        lambda self, *a, **k: binds.append(a[1].name) or init(self, *a, **k))
    point = Point(n=8, m=1, depth=2, width="square", widths=(8, 8, 8, 1), mode="auto")
    policy = Measure(min_sample_ms=0.1, min_samples=1, min_seconds=1e-3, max_seconds=1e-2,
                     check=False, memory=False)
    row = measure_point(point, policy)
    assert row.status == "ok", row.reason
    assert len(picks) == 1 and binds == [row.engine]
    assert row.madds_predicted == row.madds_counted and row.time_predicted_s > 0
