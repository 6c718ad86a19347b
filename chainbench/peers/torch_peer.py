"""The chain in PyTorch: ``torch.func.jacfwd`` or ``torch.func.jacrev`` of the chain written
with torch operations, in float64, eager (not ``torch.compile``d). Threads follow
``harness.threads.set_threads`` (``torch.set_num_threads``)."""

from __future__ import annotations

import numpy as np
import torch
import torch.func

from ._common import ProgramCache, rule_for, unpack

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


def build(program, transform: str):
    """x (numpy, (n,)) -> J (numpy, (m, n)) by ``torch.func.<transform>`` of the chain."""
    layers = unpack(program)
    rules = [rule_for(RULES, name, "torch") for name, _ in layers]
    params = [tuple(torch.from_numpy(a) for a in arrays) for _, arrays in layers]

    def f(x):
        for rule, p in zip(rules, params):
            x = rule(p, x)
        return x

    jac = getattr(torch.func, transform)(f)

    def jacobian(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():  # torch.func transforms need no autograd graph of their own
            return jac(torch.from_numpy(x)).numpy()

    return jacobian


_CACHE = ProgramCache()


def jacobian_function(program, transform: str):
    return _CACHE.get(program, transform, build)
