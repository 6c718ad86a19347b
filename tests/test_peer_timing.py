"""How peers are timed: each as its own users time it at their best. The timed call takes x
already in the peer's arrays and returns the peer's own J, computed and awaited; converted
to numpy it equals chainbench's Jacobian; the harness times that call as the row's time and
the numpy-in, numpy-out call apart (``time_numpy_s``); torch.compile that cannot compile
here gives a skipped row with PyTorch's reason, never an eager call under its name.
Tests skip with the reason when a peer is not installed (CI installs none)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from chain_helpers import assert_same_jacobian

import chainbench as cb
from chainbench.engines.registry import ENGINES
from chainbench.harness.experiment.config import Measure
from chainbench.harness.run import point
from chainbench.harness.run.point import measure_chain
from chainbench.peers import INSTALL, PEERS

QUICK = Measure(min_sample_ms=0.5, min_samples=2, min_seconds=0.001, max_seconds=0.01,
                memory=False)
#: mode -> (the package whose absence skips its tests, the type of J its users hold)
NATIVE = {"jax-jacfwd": ("jax", "jax.Array"), "jax-jacrev": ("jax", "jax.Array"),
          "torch-jacfwd": ("torch", "torch.Tensor"), "torch-jacrev": ("torch", "torch.Tensor"),
          "torch-compile-jacfwd": ("torch", "torch.Tensor"),
          "torch-compile-jacrev": ("torch", "torch.Tensor"),
          "autograd": ("autograd", "numpy.ndarray"),
          "asdex-forward": ("asdex", "jax.Array"), "asdex-reverse": ("asdex", "jax.Array")}
CHAIN = cb.Chain.from_spec("dense:6 tanh dense:5 sigmoid dense:4 softmax", n=3, seed=4)


def _type(dotted: str) -> type:
    module, name = dotted.rsplit(".", 1)
    return getattr(__import__(module), name)


def _needs(mode: str):
    package = NATIVE[mode][0]
    pytest.importorskip(package, reason=f"{package} not installed ({INSTALL})")


def test_every_peer_says_how_its_users_hold_j():
    assert set(NATIVE) == set(PEERS)
    assert all(PEERS[mode].engine.native is not None for mode in PEERS)


@pytest.mark.parametrize("mode", list(PEERS))
def test_native_call_returns_the_peers_own_j_equal_to_chainbench(mode):
    _needs(mode)
    x = np.random.default_rng(1).standard_normal(CHAIN.n)
    call, to_numpy = ENGINES[mode].native(CHAIN.program, x)
    out = call()
    assert type(out) is not np.ndarray or mode == "autograd"
    assert isinstance(out, _type(NATIVE[mode][1])), type(out)
    J = to_numpy(out)
    assert isinstance(J, np.ndarray) and J.shape == (CHAIN.m, CHAIN.n)
    assert_same_jacobian(J, cb.jacobian(CHAIN, x, mode="reverse"), mode)
    np.testing.assert_array_equal(J, cb.jacobian(CHAIN, x, mode=mode))  # the same function


@pytest.mark.parametrize("mode", ["jax-jacrev", "jax-jacfwd"])
def test_jax_native_call_waits_for_its_result(mode):
    """JAX dispatches asynchronously: the timed call must await J, or it times the dispatch.
    The control shows that work of this size is not ready when its dispatch returns."""
    _needs(mode)
    import jax
    import jax.numpy as jnp

    wide = cb.Chain.from_spec("dense:384 tanh dense:384 tanh dense:384", n=384, seed=0)
    call, _ = ENGINES[mode].native(wide.program, np.ones(wide.n))
    call()  # compiled: what follows is a timed call's
    assert call().is_ready()

    square = jax.jit(lambda a: jnp.tanh(a @ a) @ a)
    a = jnp.ones((384, 384))
    square(a).block_until_ready()
    assert not square(a).is_ready()  # the control: dispatch returns before the work is done


@pytest.mark.parametrize("mode", list(PEERS))
def test_harness_times_the_native_call_and_the_numpy_call_apart(mode, monkeypatch):
    """The row's time is the peer's own call (it returns the peer's array), and
    time_numpy_s the numpy-in, numpy-out jacobian(); chainbench's own modes are timed once."""
    _needs(mode)
    timed = []
    real = point.measure

    def spy(fn, policy):
        timed.append(type(fn()).__module__.split(".")[0])
        return real(fn, policy)

    monkeypatch.setattr(point, "measure", spy)
    row = measure_chain(CHAIN, mode, None, QUICK)
    assert row.status == "ok", row.reason
    native = NATIVE[mode][1].split(".")[0]
    assert timed == [native if native != "jax" else "jaxlib", "numpy", "numpy"]  # J, J, F
    assert row.time_median_s > 0 and row.time_numpy_s > 0 and row.compile_s > 0
    assert row.check_error < 1e-12

    timed.clear()
    own = measure_chain(CHAIN, "reverse", None, QUICK)
    assert own.status == "ok" and own.time_numpy_s is None and timed == ["numpy", "numpy"]


def test_torch_compile_that_cannot_compile_is_skipped_with_its_reason(monkeypatch):
    """What PyTorch raises when it cannot compile (here: no C++ compiler) becomes a skipped
    row naming the reason and the eager mode; nothing eager is timed under the name."""
    _needs("torch-compile-jacrev")
    import torch

    from chainbench.peers import torch_compile_peer

    def cannot(fn, **options):
        def compiled(x):
            raise torch._dynamo.exc.TorchDynamoException(
                "InvalidCxxCompiler: No working C++ compiler found\nmore detail")
        return compiled

    monkeypatch.setattr(torch_compile_peer.torch, "compile", cannot)
    chain = cb.Chain.from_spec("dense:3 tanh dense:2", n=2, seed=9)  # not compiled before
    row = measure_chain(chain, "torch-compile-jacrev", None, QUICK)
    assert row.status == "skipped" and row.time_median_s is None
    assert row.reason == ("torch-compile-jacrev: torch.compile cannot compile it here "
                          "(InvalidCxxCompiler: No working C++ compiler found); torch-jacrev "
                          "runs it eagerly")


@pytest.mark.slow
def test_torch_compile_without_a_cxx_compiler_is_unavailable(tmp_path):
    """The real thing, in a fresh process with an empty Inductor cache (a cached build would
    not need the compiler): PyTorch's own error for a missing compiler reaches the user."""
    _needs("torch-compile-jacrev")
    code = (
        "import numpy as np, torch._inductor.config as ic, chainbench as cb\n"
        "from chainbench.errors import PeerUnavailable\n"
        "ic.cpp.cxx = (None, 'no-such-c++-compiler')\n"
        "chain = cb.Chain.from_spec('dense:3 tanh dense:2', n=2)\n"
        "try:\n"
        "    cb.jacobian(chain, np.ones(2), mode='torch-compile-jacrev')\n"
        "except PeerUnavailable as err:\n"
        "    print(err)\n"
    )
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor")}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # this tree's chainbench
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, env=env, cwd=root, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert ("torch-compile-jacrev: torch.compile cannot compile it here (InvalidCxxCompiler: "
            "No working C++ compiler found") in out.stdout, out.stdout + out.stderr[-2000:]
