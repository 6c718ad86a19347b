"""Peer AD tools as optional engines: JAX (jit-compiled jacfwd and jacrev), PyTorch
(torch.func jacfwd and jacrev, eager and under ``torch.compile``), HIPS autograd
(jacobian) and asdex (sparse JVPs or VJPs on JAX), all in float64.

Each peer rebuilds the chain in its own framework from the compiled program (layer kinds,
widths and the one parameter buffer, see ``_common.unpack``), so it differentiates exactly
the function chainbench does, with the same parameters. A peer's framework is imported only
when it is first used; one that is not installed raises ``PeerUnavailable`` naming the pip
command, which a sweep records as a skipped point. Install them all with

    pip install -e ".[peers]"

A peer is timed as its own users time it at their best (``Peer.native``: x already in the
peer's arrays, the result awaited and left there); ``jacobian(mode=...)`` calls it with
numpy in and numpy out, and the harness times that apart, so the conversions show as the
difference.

Peers fill none of chainbench's counters; the cost model predicts for them the work of the
algorithm they run (jacfwd: forward mode, all n lanes at once; jacrev: reverse mode, all m
rows at once; autograd: reverse mode, one row per backward sweep; asdex: chainbench's
sparse-forward or sparse-reverse, one lane per color).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from functools import partial
from importlib import metadata

from ..cost.sparse import column_colors, row_colors, sparse_mirror_plan
from ..cost.sweeps import mirror_plan
from ..engines.contract import Engine
from ..errors import PeerUnavailable

INSTALL = 'pip install -e ".[peers]"'


class Peer:
    """One peer transformation, as a chainbench engine (``self.engine``)."""

    def __init__(self, name: str, module: str, package: str, transform: str, mirrors: str,
                 mirror_chunk: str, memory_visible: bool, how: str = ""):
        self.name, self.module, self.package, self.transform = name, module, package, transform
        if mirror_chunk == "colors":  # compressed sweeps: the work of chainbench's sparse mode
            plan = partial(sparse_mirror_plan, mode=name, algorithm=mirrors)
            lanes = column_colors if mirrors == "forward" else row_colors
        else:
            lanes = None
            plan = partial(mirror_plan, mode=name, algorithm=mirrors,
                           all_lanes=mirror_chunk == "all")
        self.engine = Engine(
            name, f"{package} {how or transform}, the chain rebuilt in {package} (optional peer)",
            bind=self.bind, plan=plan,
            algorithm=mirrors, family="peer", counts=False,
            # whether tracemalloc sees its buffers (numpy's, yes; XLA's and libtorch's, no)
            memory_visible=memory_visible, prepare=self.prepare, lane_total=lanes,
            native=self.native,
        )

    def __repr__(self) -> str:
        return f"Peer({self.name!r})"

    def load(self):
        """The peer's module, importing its framework; PeerUnavailable if it is missing."""
        try:
            return importlib.import_module(f"{__name__}.{self.module}")
        except ImportError as err:
            raise PeerUnavailable(
                f"{self.name}: {self.package} is not installed ({err}); install the peers "
                f"with {INSTALL}"
            ) from None

    def prepare(self) -> None:
        """Import the framework now (so its import time is not counted as compile time)
        and hold it to the thread count ``limit_threads`` was given, if any."""
        self.load()
        if _threads is not None:
            limit_threads(_threads, pin_affinity=True)

    def function(self, program):
        """The peer's ``PeerFunction`` of ``program``, built (and compiled, where the peer
        compiles ahead) on first use and kept per program."""
        return self.load().jacobian_function(program, self.transform)

    def bind(self, program, chunk: None = None):
        """run(x, J, counts) filling J (m, n) by the peer from numpy x, its result converted
        to numpy. PeerUnavailable if its framework is missing or cannot compile the chain."""
        fn = self.function(program)

        def run(x, J, counts):
            J[:, :] = fn(x)

        return run

    def native(self, program, x):
        """(call, to_numpy): ``call()`` is the peer's Jacobian at ``x`` as its users time it,
        x converted to the peer's arrays once, beforehand, and the result returned (awaited)
        as the peer's array; ``to_numpy`` converts that to J."""
        fn = self.function(program)
        return partial(fn.jac, fn.to_peer(x)), fn.to_numpy


PEERS: dict[str, Peer] = {
    "jax-jacfwd": Peer("jax-jacfwd", "jax_peer", "JAX", "jacfwd", "forward", "all", False),
    "jax-jacrev": Peer("jax-jacrev", "jax_peer", "JAX", "jacrev", "reverse", "all", False),
    "torch-jacfwd": Peer("torch-jacfwd", "torch_peer", "PyTorch", "jacfwd", "forward", "all",
                         False),
    "torch-jacrev": Peer("torch-jacrev", "torch_peer", "PyTorch", "jacrev", "reverse", "all",
                         False),
    "torch-compile-jacfwd": Peer("torch-compile-jacfwd", "torch_compile_peer", "PyTorch",
                                 "jacfwd", "forward", "all", False,
                                 how="torch.compile(torch.func.jacfwd)"),
    "torch-compile-jacrev": Peer("torch-compile-jacrev", "torch_compile_peer", "PyTorch",
                                 "jacrev", "reverse", "all", False,
                                 how="torch.compile(torch.func.jacrev)"),
    "autograd": Peer("autograd", "autograd_peer", "autograd", "jacobian", "reverse", "one", True),
    # asdex: sparsity detection and coloring on JAX, then compressed JVPs or VJPs
    "asdex-forward": Peer("asdex-forward", "asdex_peer", "asdex", "fwd", "forward", "colors",
                          False),
    "asdex-reverse": Peer("asdex-reverse", "asdex_peer", "asdex", "rev", "reverse", "colors",
                          False),
}


# --- threads ---------------------------------------------------------------------------------

_threads: int | None = None  # what limit_threads was last given
_ALL_CPUS = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
_cpu_offset = 0  # where in _ALL_CPUS this process's n CPUs start


def set_cpu_offset(offset: int) -> None:
    """Pin to CPUs from ``offset`` on (wrapping around), so that the k-th of several worker
    processes on one host, each pinned to n CPUs, takes CPUs k·n … k·n + n − 1."""
    global _cpu_offset
    _cpu_offset = offset


def limit_threads(n: int, pin_affinity: bool = False) -> dict:
    """Hold the peers to ``n`` threads: ``torch.set_num_threads(n)`` once PyTorch is loaded,
    and, with ``pin_affinity`` (or as soon as a peer is prepared), the whole process to ``n``
    CPUs. JAX's CPU backend ignores its XLA thread flags and runs on every core it may;
    restricting the process's CPU affinity is what holds it to n. Returns what is in force."""
    global _threads
    _threads = n
    if pin_affinity and "torch" not in sys.modules and _installed("torch"):
        import torch  # noqa: F401  (loaded now so its thread count is set and recorded)
    if pin_affinity and _ALL_CPUS is not None:
        ordered = sorted(_ALL_CPUS)
        cpus = {ordered[(_cpu_offset + k) % len(ordered)] for k in range(min(n, len(ordered)))}
        # every thread of the process, not only this one: pools started earlier (BLAS,
        # numba, XLA) keep the affinity they were born with
        for tid in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(tid), cpus)
            except OSError:  # a thread that ended meanwhile
                pass
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(n)
    return thread_settings()


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):
        return False


def thread_settings() -> dict:
    """CPUs this process may run on, and PyTorch's thread count if it is loaded."""
    out = {"cpu_affinity": sorted(os.sched_getaffinity(0)) if _ALL_CPUS is not None else None}
    if "torch" in sys.modules:
        out["torch_threads"] = sys.modules["torch"].get_num_threads()
    return out


def versions() -> dict[str, str | None]:
    """Installed versions of the peers' packages (None where missing), without importing them."""
    out = {}
    for package in ("jax", "jaxlib", "torch", "autograd", "asdex"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out


def available() -> dict[str, str | None]:
    """Each peer mode and why it cannot run here (None when it can)."""
    out = {}
    for name, peer in PEERS.items():
        try:
            peer.load()
            out[name] = None
        except PeerUnavailable as err:
            out[name] = str(err)
    return out
