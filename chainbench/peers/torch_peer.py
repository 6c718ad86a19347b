"""The chain in PyTorch: ``torch.func.jacfwd`` or ``torch.func.jacrev`` of the chain written
with torch operations, in float64, eager (``torch_compile_peer`` compiles the same function).
x goes in as a tensor and J comes out as one, as a PyTorch user holds them; on the CPU the
conversions from and to numpy share memory. Threads follow ``harness.run.threads.set_threads``
(``torch.set_num_threads``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.func

from ._common import PeerFunction, ProgramCache, composed

#: layer name -> rule(params, x); each mirrors the layer's value in chainbench.layers
RULES = {
    "dense": lambda p, x: torch.mv(p[0], x) + p[1],
    "tanh": lambda p, x: torch.tanh(x),
    "sigmoid": lambda p, x: torch.sigmoid(x),
    "relu": lambda p, x: torch.where(x > 0, x, torch.zeros_like(x)),  # derivative 0 at 0
    "sin": lambda p, x: torch.sin(x),
    "softplus": lambda p, x: torch.nn.functional.softplus(x),
    "elu": lambda p, x: torch.nn.functional.elu(x),
    "softmax": lambda p, x: torch.softmax(x, dim=0),
    # conv1d is a cross-correlation, as chainbench's conv: y_i = b + Σ_t w_t x_{i+t-h}
    "conv": lambda p, x: torch.nn.functional.conv1d(
        x.view(1, 1, -1), p[0].view(1, 1, -1), padding=p[0].shape[0] // 2).view(-1) + p[1],
    "grouped": lambda p, x: torch.bmm(p[0], x.view(p[0].shape[0], -1, 1)).view(-1) + p[1],
}


def chain_function(program):
    """f: x (tensor, (n,)) -> y (tensor, (m,)), the chain in torch operations."""
    return composed(program, RULES, "torch", torch.from_numpy)


def build(program, transform: str) -> PeerFunction:
    """x (tensor, (n,)) -> J (tensor, (m, n)) by ``torch.func.<transform>`` of the chain."""
    # torch.func transforms need no torch.no_grad(): they ignore the outer grad mode
    return PeerFunction(jac=getattr(torch.func, transform)(chain_function(program)),
                        to_peer=torch.from_numpy, to_numpy=to_numpy)


def to_numpy(J: torch.Tensor) -> np.ndarray:
    return J.numpy()


_CACHE = ProgramCache()


def jacobian_function(program, transform: str):
    return _CACHE.get(program, transform, build)


# --- second order: torch.func.hessian, and torch.func.jvp of grad ----------------------------


def build_second(program, quantity: str):
    """The second-order functions of the chain's u·f (u all ones, as chainbench's default):
    {'hessian': x -> H} (``torch.func.hessian``: jacfwd of jacrev) or {'hvp': (x, v) -> H v}
    (``torch.func.jvp`` of ``torch.func.grad``), and 'grad': x -> ∇(u·f)."""
    f = chain_function(program)
    u = torch.ones(program.shape.m, dtype=torch.float64)

    def g(x):
        return torch.dot(u, f(x))

    grad = torch.func.grad(g)
    if quantity == "hessian":
        main = torch.func.hessian(g)
    else:
        def main(x, v):
            return torch.func.jvp(grad, (x,), (v,))[1]
    return {quantity: main, "grad": grad, "to_peer": torch.from_numpy, "to_numpy": to_numpy}


def second_function(program, quantity: str):
    return _CACHE.get(program, f"second-{quantity}",
                      lambda program, _key: build_second(program, quantity))
