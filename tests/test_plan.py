"""Optimal bracketing: the planner against brute force and the theory sheet, and the mixed
engine's Jacobians and counters against reverse mode and the cost model."""

import itertools

from functools import partial

import numpy as np
import pytest
from chain_helpers import random_chain

import chainbench as cb
from chainbench.cost.plan import KINDS, plan, pure_costs
from chainbench.cost.sweeps import engine_costs, pure_engine


def _all_totals(shape, lo, hi, allow):
    """Every way to accumulate J[lo:hi], enumerated without memo or shortcuts: yields totals."""
    w = shape.widths
    costs = [cls.cost(w[k], w[k + 1]) for k, cls in enumerate(shape.layers)]
    tangent = lambda a, b: sum(c.tangent for c in costs[a:b])  # noqa: E731
    adjoint = lambda a, b: sum(c.adjoint for c in costs[a:b])  # noqa: E731
    if "tangents" in allow:
        yield w[lo] * tangent(lo, hi)
    if "adjoints" in allow:
        yield w[hi] * adjoint(lo, hi)
    if hi - lo == 1 and "explicit" in allow:
        yield costs[lo].explicit
    for mid in range(lo + 1, hi):
        below = list(_all_totals(shape, lo, mid, allow))
        above = list(_all_totals(shape, mid, hi, allow))
        if "tangents" in allow:
            yield from (b + w[lo] * tangent(mid, hi) for b in below)
        if "adjoints" in allow:
            yield from (a + w[hi] * adjoint(lo, mid) for a in above)
        if "product" in allow:
            yield from (a + b + w[hi] * w[mid] * w[lo] for a, b in itertools.product(above, below))


def _tree_total(step):
    """Total recomputed from the tree alone, each step's own cost re-derived from widths."""
    return sum(s.cost for s in step.steps())


@pytest.mark.parametrize("seed", range(40))
def test_planner_finds_the_brute_force_optimum(seed):
    chain = random_chain(np.random.default_rng(seed), max_width=24)
    best = plan(chain)
    assert best.total == min(_all_totals(chain.shape, 0, chain.depth, KINDS))
    assert _tree_total(best) == best.total
    assert best.total <= min(pure_costs(chain))
    assert best.total <= min(engine_costs(chain))  # the engines' seeded sweeps are plans too


@pytest.mark.parametrize("seed", range(20))
def test_engine_costs_are_the_engines_counted_derivative_work(seed):
    rng = np.random.default_rng(200 + seed)
    chain = random_chain(rng)
    x = rng.standard_normal(chain.n)
    for mode, cost in zip(("forward", "reverse"), engine_costs(chain)):
        stats = cb.jacobian(chain, x, mode, return_stats=True)[1]
        assert stats.madds - stats.madds_value == cost, mode


def test_dense_chains_reduce_to_matrix_chain_order():
    """With only explicit Jacobians and products, the plan is the classic matrix-chain order:
    A(10×30) B(30×5) C(5×60) costs 4500 as (AB)C, plus writing the three matrices."""
    shape = cb.ChainShape.from_spec("dense:30 dense:5 dense:60", 10)
    best = plan(shape, allow=("explicit", "product"))
    assert best.total == 4500 + (30 * 10 + 5 * 30 + 60 * 5)
    assert best.expression() == "(J3 × (J2 × J1))"
    dims = [10, 30, 5, 60, 20, 40]
    shape = cb.ChainShape.from_spec(" ".join(f"dense:{d}" for d in dims[1:]), dims[0])
    explicit = sum(a * b for a, b in zip(dims, dims[1:]))
    assert plan(shape, allow=("explicit", "product")).total - explicit == _matrix_chain(dims)


def _matrix_chain(d):
    """Textbook O(K³) matrix-chain multiplication for matrices of sizes d[i+1] × d[i]."""
    K = len(d) - 1
    C = {(i, i + 1): 0 for i in range(K)}
    for length in range(2, K + 1):
        for i in range(K - length + 1):
            j = i + length
            C[(i, j)] = min(C[(i, k)] + C[(k, j)] + d[i] * d[k] * d[j] for k in range(i + 1, j))
    return C[(0, K)]


@pytest.mark.parametrize("spec, n, pure, optimum, gain", [
    ("dense:1000 dense:10 dense:1000 dense:1000", 1000, 2.02e9, 3.0e7, 67),
    ("dense:10 dense:1000 dense:10 dense:1000", 1000, 4.0e7, 1.02e7, 3.9),
    ("dense:100 dense:100 dense:100 dense:100", 100, 4.0e6, 3.01e6, 1.3),
])
def test_theory_sheet_examples(spec, n, pure, optimum, gain):
    shape = cb.ChainShape.from_spec(spec, n)
    fwd, rev = pure_costs(shape)
    best = plan(shape)
    assert min(fwd, rev) == pytest.approx(pure, rel=0.01)
    assert best.total == pytest.approx(optimum, rel=0.01)
    assert min(fwd, rev) / best.total == pytest.approx(gain, rel=0.05)  # the sheet rounds


def test_gradient_plan_is_pure_reverse():
    best = plan(cb.ChainShape.from_spec("dense:100 dense:100 dense:100 dense:1", 100))
    assert best.total == pure_costs(cb.ChainShape.from_spec("dense:100 " * 3 + "dense:1", 100))[1]


@pytest.mark.parametrize("seed", range(30))
def test_the_madds_optimal_mode_matches_reverse_and_its_prediction(seed):
    rng = np.random.default_rng(100 + seed)
    chain = random_chain(rng)
    x = rng.standard_normal(chain.n)
    J, stats = cb.jacobian(chain, x, "optimal-madds", return_stats=True)
    np.testing.assert_allclose(J, cb.jacobian(chain, x, "reverse"), rtol=1e-10, atol=1e-12)
    predicted = cb.predict(chain, "optimal-madds")
    for field in ("sweeps_forward", "sweeps_backward", "madds_value", "madds_tangent",
                  "madds_adjoint", "madds_accumulate", "bytes_tape", "bytes_work", "layer_steps"):
        assert getattr(stats, field) == getattr(predicted, field), field
    assert stats.madds - stats.madds_value == plan(chain).total


@pytest.mark.parametrize("spec, n, engine", [
    ("dense:300 tanh dense:300 tanh dense:300", 300, "forward"),  # square: tie, forward first
    ("dense:64 tanh dense:64 dense:1", 64, "reverse"),  # a gradient
    ("dense:10 tanh dense:200 dense:200", 10, "forward"),  # widening
    ("dense:1000 dense:10 dense:1000 dense:1000", 1000, None),  # the hourglass: the plan wins
])
def test_the_madds_optimal_mode_runs_a_pure_engine_where_it_costs_the_optimum(spec, n, engine):
    chain = cb.Chain.from_spec(spec, n, seed=0)
    assert pure_engine(chain) == engine
    if engine is None:
        assert plan(chain).total < min(engine_costs(chain))
        return
    x = np.random.default_rng(0).standard_normal(n)
    J, stats = cb.jacobian(chain, x, "optimal-madds", return_stats=True)
    J_pure, pure = cb.jacobian(chain, x, engine, return_stats=True)
    np.testing.assert_array_equal(J, J_pure)
    assert stats.as_dict() | {"mode": engine, "chunk": 0} == pure.as_dict() | {"chunk": 0}
    assert stats.madds - stats.madds_value == plan(chain).total


def test_optimal_mode_takes_no_chunk():
    chain = cb.Chain.from_spec("dense:4 tanh dense:2", 3)
    with pytest.raises(ValueError, match="takes no chunk"):
        cb.jacobian(chain, np.zeros(3), "optimal", chunk=2)


def test_plan_command(capsys):
    from chainbench.cli import main

    assert main(["plan", "dense:1000 dense:10 dense:1000 dense:1000", "--n", "1000"]) == 0
    out = capsys.readouterr().out
    assert "(fwd[4..4](J3) × rev[1..1](J2))" in out and "67.3× the optimum" in out
    assert "mode=forward 1.021e+09 (34×)" in out and "runs mode=" not in out
    assert main(["plan", "dense:400 dense:400 dense:400", "--n", "400"]) == 0
    assert "fwd[2..3](J1)  (mode=optimal, this machine: runs mode=forward here)" in \
        capsys.readouterr().out
    assert main(["plan", "dense:4 tanhh", "--n", "4"]) == 2


def test_plan_command_prints_a_modes_plan(capsys):
    """--mode prints the passes the mode runs, whose counters are those the mode predicts."""
    from chainbench.cli import main

    assert main(["plan", "dense:6 tanh dense:3", "--n", "5", "--mode", "reverse",
                 "--chunk", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    predicted = cb.predict(cb.ChainShape.from_spec("dense:6 tanh dense:3", 5), "reverse", 2)
    assert f"{predicted.madds} multiply-adds" in out[0] and "2 backward sweeps" in out[0]
    assert out[1].split() == ["pass", "layer", "lanes", "madds", "bytes", "count"]
    rows = [line.split() for line in out[2:]]
    assert [r[0] for r in rows].count("adjoint") == 4 and rows[-1][0] == "copy"
    assert main(["plan", "dense:4", "--n", "4", "--mode", "optimal", "--chunk", "2"]) == 2
    assert "takes no chunk; leave --chunk out" in capsys.readouterr().err
    assert main(["plan", "dense:4", "--n", "4", "--mode", "sideways"]) == 2
    assert main(["plan", "dense:4", "--n", "4", "--chunk", "2"]) == 2


@pytest.mark.parametrize("seed", range(8))
def test_a_pure_mode_is_a_bracketing_whose_cost_is_the_engines(seed):
    """What 'optimal' chooses is always a bracketing: the pure modes are whole-chain steps
    (``Step.whole``) whose multiply-adds are the engines' own, run by the engines' kernels."""
    from chainbench.cost.optimal import time_choice
    from chainbench.cost.plan import Step
    from chainbench.cost.sweeps import madds_choice

    chain = random_chain(np.random.default_rng(seed), depth=1 + seed % 4)
    shape = chain.shape
    fwd, rev = engine_costs(shape)
    forward, reverse = Step.whole(shape, "tangents"), Step.whole(shape, "adjoints")
    assert sum(s.madds for s in forward.steps()) == fwd
    assert sum(s.madds for s in reverse.steps()) == rev
    assert (forward.pure, reverse.pure) == ("tangents", "adjoints")
    x = np.random.default_rng(seed).standard_normal(shape.n)
    reference = cb.jacobian(chain, x, "reverse")
    for mode, choice in (("optimal", time_choice(shape)), ("optimal-madds", madds_choice(shape))):
        assert isinstance(choice, Step) and choice.expression()
        J, stats = cb.jacobian(chain, x, mode, return_stats=True)
        np.testing.assert_allclose(J, reference, rtol=1e-10, atol=1e-12)
        assert stats.madds == cb.predict(chain, mode).madds


@pytest.mark.parametrize("engine, side", [("forward", "n"), ("reverse", "m"),
                                          ("sqrt-checkpoint", "m")])
def test_the_kernel_runs_the_sweeps_its_plan_lists(engine, side):
    """The sweep engines' kernels loop over their plan's lane blocks (``Plan.schedule``):
    a plan with other blocks runs other sweeps, counted as that plan predicts, to the
    same J; a plan whose blocks do not cover the lanes is refused."""
    import importlib

    from chainbench.cost.sweeps import forward_plan, reverse_plan
    from chainbench.model.counters import new_counters

    from chainbench.cost.sweeps import checkpointed_plan
    from chainbench.engines import checkpointed

    if engine == "sqrt-checkpoint":
        def build(shape, chunk=None, starts=None):
            return checkpointed_plan(shape, chunk, starts=starts)

        bind_plan = partial(checkpointed.bind_plan, "sqrt")
    else:
        module = importlib.import_module(f"chainbench.engines.{engine}")
        build = forward_plan if engine == "forward" else reverse_plan
        bind_plan = module.bind_plan
    chain = cb.Chain.from_spec("dense:9 tanh dense:7 sigmoid dense:11", 10, seed=3)
    x = np.random.default_rng(0).standard_normal(10)
    reference = cb.jacobian(chain, x, "reverse")
    total = chain.n if side == "n" else chain.m
    uneven = ((0, 1), (1, 5), (6, 2), (8, total - 8))
    plan = build(chain.shape, starts=uneven)
    assert plan.schedule().tolist() == [list(b) for b in uneven]
    J, counts = np.empty((chain.m, chain.n)), new_counters()
    bind_plan(chain.program, plan)(x, J, counts)
    np.testing.assert_allclose(J, reference, rtol=1e-12, atol=1e-12)
    stats = cb.EngineStats.from_counters(engine, plan.chunk, counts)
    predicted = plan.prediction()
    assert (stats.sweeps_forward, stats.sweeps_backward, stats.madds) == \
        (predicted.sweeps_forward, predicted.sweeps_backward, predicted.madds)
    assert len(uneven) == (predicted.sweeps_forward if side == "n" else predicted.sweeps_backward)
    for bad in (((0, 4),), ((0, 4), (5, total - 5)), ((0, total), (total, 1))):
        with pytest.raises(ValueError, match="lane blocks"):
            build(chain.shape, starts=bad)
