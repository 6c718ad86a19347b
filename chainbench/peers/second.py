"""Second-order peers: JAX's and PyTorch's Hessians and Hessian-vector products of the same
chain (u·f, u all ones, as chainbench's default), timed as their users time them.

    jax-hessian     jax.jit(jax.hessian(f))            jacfwd of jacrev
    jax-hvp         jax.jit of jax.jvp(jax.grad(f))    forward-over-reverse, one direction
    torch-hessian   torch.func.hessian(f)              jacfwd of jacrev
    torch-hvp       torch.func.jvp(torch.func.grad(f)) forward-over-reverse, one direction

Like the first-order peers (``peers.PEERS``), each rebuilds the chain from the compiled
program, is imported only on first use (``PeerUnavailable`` when missing), fills no counter,
and is predicted the work of the algorithm it runs: chainbench's forward-over-reverse, with
all n lanes in one sweep for a Hessian (``cost_mode``, ``all_lanes``). ``native`` gives the
call its users time (x, v already the peer's arrays, the result awaited and left there) and
``gradient`` the peer's own gradient, the HVP's yardstick.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import partial

from ..errors import PeerUnavailable
from . import INSTALL

HESSIAN, HVP = "hessian", "hvp"


@dataclass(frozen=True)
class SecondPeer:
    """One peer's Hessian or HVP of a chain."""

    name: str
    module: str  # chainbench.peers.<module>, which imports the framework
    package: str
    quantity: str  # HESSIAN or HVP
    how: str  # what its users write
    #: chainbench's mode that does the same work (its prediction), all lanes at once for H
    cost_mode: str = "forward-over-reverse"

    @property
    def all_lanes(self) -> bool:
        return self.quantity == HESSIAN

    def load(self):
        """The peer's module, importing its framework; PeerUnavailable if it is missing."""
        try:
            return importlib.import_module(f"{__package__}.{self.module}")
        except ImportError as err:
            raise PeerUnavailable(f"{self.name}: {self.package} is not installed ({err}); "
                                  f"install the peers with {INSTALL}") from None

    def prepare(self) -> None:
        """Import the framework now, so its import time is not counted as compile time."""
        self.load()

    def _parts(self, program) -> dict:
        return self.load().second_function(program, self.quantity)

    def native(self, program, x, v=None):
        """(call, to_numpy): ``call()`` is H at x (or H v) as the peer's users time it, x
        and v converted to the peer's arrays beforehand; ``to_numpy`` converts its result."""
        parts = self._parts(program)
        args = (x,) if self.quantity == HESSIAN else (x, v)
        return partial(parts[self.quantity], *map(parts["to_peer"], args)), parts["to_numpy"]

    def gradient(self, program, x):
        """(call, to_numpy) of the peer's own gradient of u·f at x, timed as ``native``."""
        parts = self._parts(program)
        return partial(parts["grad"], parts["to_peer"](x)), parts["to_numpy"]


SECOND_PEERS: dict[str, SecondPeer] = {
    "jax-hessian": SecondPeer("jax-hessian", "jax_peer", "JAX", HESSIAN,
                              "jax.jit(jax.hessian(f))"),
    "jax-hvp": SecondPeer("jax-hvp", "jax_peer", "JAX", HVP,
                          "jax.jit(lambda x, v: jax.jvp(jax.grad(f), (x,), (v,))[1])"),
    "torch-hessian": SecondPeer("torch-hessian", "torch_peer", "PyTorch", HESSIAN,
                                "torch.func.hessian(f)"),
    "torch-hvp": SecondPeer("torch-hvp", "torch_peer", "PyTorch", HVP,
                            "torch.func.jvp(torch.func.grad(f), (x,), (v,))[1]"),
}


def peers_of(quantity: str) -> tuple[str, ...]:
    """The peers that compute ``quantity`` (HESSIAN or HVP)."""
    return tuple(name for name, p in SECOND_PEERS.items() if p.quantity == quantity)
