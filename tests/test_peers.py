"""Peer AD tools as engines: each installed peer's Jacobian equals chainbench's on random
chains; a peer that is not installed gives a skipped row with the reason (simulated by
hiding its import), never a crash; thread settings reach the peers and are recorded.
Tests that need a peer skip with the reason when it is not installed (CI installs none)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from chain_helpers import KINDS, assert_same_jacobian, seeded_chains

import chainbench as cb
from chainbench import LAYERS, plots
from chainbench.cost.sweeps import forward_plan, reverse_plan
from chainbench.errors import PeerUnavailable, Unsupported
from chainbench.harness.experiment.config import Measure, parse
from chainbench.harness.run.point import measure_chain
from chainbench.harness.run.sweep import run
from chainbench.peers import INSTALL, PEERS
from chainbench.peers._common import rule_for, unpack

CHAINS = seeded_chains(21)
#: mode -> the package whose absence skips its tests
PACKAGE = {"jax-jacfwd": "jax", "jax-jacrev": "jax", "torch-jacfwd": "torch",
           "torch-jacrev": "torch", "torch-compile-jacfwd": "torch",
           "torch-compile-jacrev": "torch", "autograd": "autograd", "asdex-forward": "asdex",
           "asdex-reverse": "asdex"}
#: Modes that compile each chain ahead (seconds each): checked on one chain of every layer
COMPILED = ("torch-compile-jacfwd", "torch-compile-jacrev")
EVERY_LAYER = cb.Chain.from_spec("dense:6 tanh conv:3 dense:6 sigmoid grouped:6:2 dense:5 "
                                 "relu dense:4 sin dense:5 softplus dense:4 elu dense:3 "
                                 "softmax", n=4, seed=3)
QUICK = Measure(min_sample_ms=0.5, min_samples=2, min_seconds=0.001, max_seconds=0.01,
                memory=False)


def test_every_peer_mode_is_a_mode():
    assert set(PEERS) == set(PACKAGE) and set(PEERS) <= set(cb.MODES)


@pytest.mark.parametrize("chain", CHAINS[:8], ids=repr)
def test_unpack_reads_back_every_layers_parameters(chain):
    layers = unpack(chain.program)
    assert [name for name, _ in layers] == [layer.name for layer in chain.layers]
    for (_, arrays), layer in zip(layers, chain.layers):
        if isinstance(layer, cb.Dense | cb.Grouped):
            np.testing.assert_array_equal(arrays[0], layer.W)
            np.testing.assert_array_equal(arrays[1], layer.b)
        elif isinstance(layer, cb.Conv):
            np.testing.assert_array_equal(arrays[0], layer.w)
            np.testing.assert_array_equal(arrays[1], [layer.b])
        else:
            assert arrays == ()


@pytest.mark.parametrize("mode", list(PEERS))
def test_peer_jacobian_equals_chainbench(mode):
    pytest.importorskip(PACKAGE[mode], reason=f"{PACKAGE[mode]} not installed ({INSTALL})")
    chains = [EVERY_LAYER] if mode in COMPILED else CHAINS
    assert {layer.name for chain in chains for layer in chain.layers} == set(KINDS)
    for chain in chains:
        x = np.random.default_rng(chain.n).standard_normal(chain.n)
        J = cb.jacobian(chain, x, mode=mode)
        assert J.shape == (chain.m, chain.n) and J.dtype == np.float64
        assert_same_jacobian(J, cb.jacobian(chain, x, mode="reverse"), f"{mode} {chain!r}")


@pytest.mark.parametrize("mode", list(PEERS))
def test_peer_knows_every_registered_layer(mode):
    module = pytest.importorskip(f"chainbench.peers.{PEERS[mode].module}",
                                 reason=f"{PACKAGE[mode]} not installed ({INSTALL})")
    assert set(module.RULES) == set(LAYERS), f"{mode}: add a rule for each new layer"


@pytest.mark.parametrize("mode", list(PEERS))
def test_peer_is_measured_with_compile_time_apart(mode):
    pytest.importorskip(PACKAGE[mode], reason=f"{PACKAGE[mode]} not installed ({INSTALL})")
    chain = cb.Chain.from_spec("dense:6 tanh dense:6 softmax", n=5, seed=2)
    row = measure_chain(chain, mode, None, QUICK)
    assert row.status == "ok", row.reason
    assert row.check_error < 1e-12 and row.compile_s > 0 and row.time_median_s > 0
    assert row.madds_predicted == cb.predict(chain, mode).madds > 0


def test_missing_peer_is_skipped_with_the_reason(monkeypatch, tmp_path, restore_affinity):
    """Hide JAX (as if not installed): the API raises PeerUnavailable (an ImportError) with
    the pip command; the harness records a skipped row; a sweep carries on around it."""
    monkeypatch.setitem(sys.modules, "jax", None)  # import jax now raises ImportError
    monkeypatch.delitem(sys.modules, "chainbench.peers.jax_peer", raising=False)
    chain = cb.Chain.from_spec("dense:4 tanh dense:1", n=3)
    with pytest.raises(PeerUnavailable, match=r"jax-jacrev: JAX is not installed .*"
                                              r"pip install -e \"\.\[peers\]\""):
        cb.jacobian(chain, np.zeros(3), mode="jax-jacrev")
    assert issubclass(PeerUnavailable, ImportError) and issubclass(PeerUnavailable, Unsupported)
    row = measure_chain(chain, "jax-jacfwd", None, QUICK)
    assert row.status == "skipped" and "JAX is not installed" in row.reason
    assert INSTALL in row.reason

    exp = parse('name = "t"\n[grid]\nn = [4, 8]\nm = [1]\ndepth = [1]\n'
                'modes = ["reverse", "jax-jacrev"]\n[measure]\nmin_sample_ms = 0.5\n'
                'min_samples = 2\nmin_seconds = 0.001\nmax_seconds = 0.01\nmemory = false\n')
    results = run(exp, tmp_path / "res")
    df = pd.read_csv(results.points_file)
    assert df.set_index(["mode", "n"])["status"].to_dict() == {
        ("reverse", 4): "ok", ("reverse", 8): "ok",
        ("jax-jacrev", 4): "skipped", ("jax-jacrev", 8): "skipped"}
    assert df.loc[df["mode"] == "jax-jacrev", "reason"].str.contains(INSTALL, regex=False).all()


def test_a_layer_a_peer_cannot_express_is_unsupported():
    with pytest.raises(PeerUnavailable, match="jax: no rule for layer 'tanh'; it knows dense"):
        rule_for({"dense": None}, "tanh", "jax")


def test_peers_are_predicted_as_the_algorithm_they_run():
    chain = cb.Chain.from_spec("dense:8 tanh dense:3", n=5)
    assert cb.predict(chain, "jax-jacfwd") == replace(forward_plan(chain, 5).prediction(), mode="jax-jacfwd")
    assert cb.predict(chain, "torch-jacrev") == replace(reverse_plan(chain, 3).prediction(),
                                                        mode="torch-jacrev")
    assert cb.predict(chain, "autograd") == replace(reverse_plan(chain, 1).prediction(), mode="autograd")
    with pytest.raises(ValueError, match="mode 'jax-jacrev' takes no chunk"):
        cb.predict(chain, "jax-jacrev", chunk=2)


# --- threads ---------------------------------------------------------------------------------


@pytest.fixture
def restore_affinity():
    """Put every thread back on the CPUs it had (set_threads pins the whole process)."""
    import os

    before = os.sched_getaffinity(0)
    yield
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), before)
        except OSError:
            pass


def test_threads_pin_the_process_affinity_for_peers(restore_affinity):
    import os

    from chainbench.harness.run.threads import set_threads

    settings = set_threads(1, pin_affinity=True)
    assert settings["cpu_affinity"] == sorted(os.sched_getaffinity(0))
    assert len(settings["cpu_affinity"]) == 1
    if "torch" in sys.modules:
        assert settings["torch_threads"] == 1


def test_sweep_with_peers_records_affinity_and_versions(restore_affinity, tmp_path):
    import json

    exp = parse('name = "t"\n[grid]\nn = [3]\ndepth = [1]\nmodes = ["autograd"]\n'
                '[measure]\nmin_sample_ms = 0.5\nmin_samples = 2\nmin_seconds = 0.001\n'
                'max_seconds = 0.01\nmemory = false\n')
    results = run(exp, tmp_path / "res")
    meta = json.loads(results.meta_file.read_text())["runs"][0]
    assert len(meta["threads"]["cpu_affinity"]) == 1
    assert set(meta["peer_versions"]) == {"jax", "jaxlib", "torch", "autograd", "asdex"}


# --- the figure ------------------------------------------------------------------------------


def _fake_results() -> pd.DataFrame:
    """Times made up from the cost model's shape: peers slower at small n, JAX level at large."""
    rows = []
    for m_rule in ("1", "n"):
        for n in (16, 64, 256):
            m = 1 if m_rule == "1" else n
            for mode, t in (("forward", 1e-9 * n**3), ("reverse", 1e-9 * n**2 * m),
                            ("jax-jacrev", 5e-5 + 0.9e-9 * n**2 * m),
                            ("autograd", 3e-4 * m + 2e-9 * n**2 * m)):
                rows.append({"n": n, "m": m, "depth": 4, "width": "square",
                             "activation": "tanh", "seed": 0, "mode": mode,
                             "chunk_spec": "default", "snapshots_spec": "default",
                             "status": "ok", "reason": "", "time_median_s": t})
            rows.append({**rows[-1], "mode": "torch-jacfwd", "status": "skipped",
                         "reason": "torch-jacfwd: PyTorch is not installed (x); install …",
                         "time_median_s": np.nan})
    return pd.DataFrame(rows)


def test_peers_figure_panels_ratios_and_skipped_note():
    fig = plots.peers_vs_n(_fake_results())
    axes = [ax for ax in fig.axes]
    assert len(axes) == 4  # time and ratio, for m = 1 and m = n
    assert [ax.get_title() for ax in axes[:2]] == ["m = 1 (gradient)", "m = n (square Jacobian)"]
    labels = [t.get_text() for leg in fig.legends for t in leg.texts]
    assert labels == ["forward", "reverse", "jax-jacrev", "autograd"]
    assert "not measured: torch-jacfwd (PyTorch is not installed (x))" in fig._suptitle.get_text()
    ratio_lines = axes[2].get_lines()
    assert any(np.allclose(line.get_ydata(), 1.0) for line in ratio_lines)  # the fastest own mode


def test_peers_figure_skips_politely_without_peers():
    quick = pd.read_csv(__import__("pathlib").Path(__file__).parent / "fixtures/quick/points.csv")
    with pytest.raises(plots.CannotPlot, match="^chainbench vs peers: needs times of peer modes"):
        plots.FIGURES["peers_vs_n"].draw(quick)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs two CPUs to tell them apart")
def test_cpu_offset_spreads_worker_processes_over_cpus():
    """A local cluster's k-th worker pins its peers from CPU k on, not all on the first CPU."""
    # the child starts from every CPU: an earlier test may have pinned this process to one
    code = ("import os; os.sched_setaffinity(0, range(os.cpu_count())); "
            "from chainbench import peers; peers.set_cpu_offset(1); "
            "print(peers.limit_threads(1, pin_affinity=True)['cpu_affinity'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.split()[-1] == f"[{sorted(range(os.cpu_count()))[1]}]"
