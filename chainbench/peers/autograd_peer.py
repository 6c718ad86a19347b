"""The chain in HIPS autograd: ``autograd.jacobian`` of the chain written with
``autograd.numpy``: reverse mode, one VJP per output row, traced anew at every call."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np

from ._common import PeerFunction, ProgramCache, rule_for, unpack


def _softmax(x):
    e = anp.exp(x - anp.max(x))
    return e / anp.sum(e)


def _conv(w, b, x):
    """y_i = b + Σ_t w_t x_{i+t-h}, zero padded: shifted slices of the padded input."""
    h = w.shape[0] // 2
    padded = anp.concatenate([anp.zeros(h), x, anp.zeros(h)])
    return b[0] + sum(w[t] * padded[t : t + x.shape[0]] for t in range(w.shape[0]))


#: layer name -> rule(params, x); each mirrors the layer's value in chainbench.layers
RULES = {
    "dense": lambda p, x: anp.dot(p[0], x) + p[1],
    "tanh": lambda p, x: anp.tanh(x),
    "sigmoid": lambda p, x: 0.5 * (anp.tanh(0.5 * x) + 1.0),  # no overflow for large |x|
    "relu": lambda p, x: anp.where(x > 0, x, 0.0),  # derivative 0 at 0, as chainbench's
    "sin": lambda p, x: anp.sin(x),
    "softplus": lambda p, x: anp.logaddexp(0.0, x),
    "elu": lambda p, x: anp.where(x > 0, x, anp.expm1(anp.minimum(x, 0.0))),
    "softmax": lambda p, x: _softmax(x),
    "conv": lambda p, x: _conv(p[0], p[1], x),
    "grouped": lambda p, x: anp.matmul(p[0], anp.reshape(x, (p[0].shape[0], -1, 1))).ravel() + p[1],
}


def build(program, transform: str) -> PeerFunction:
    """x (numpy, (n,)) -> J (numpy, (m, n)) by ``autograd.jacobian`` of the chain; autograd
    works on numpy arrays, so there is nothing to convert."""
    layers = unpack(program)
    rules = [rule_for(RULES, name, "autograd") for name, _ in layers]
    params = [arrays for _, arrays in layers]

    def f(x):
        for rule, p in zip(rules, params):
            x = rule(p, x)
        return x

    return PeerFunction(jac=getattr(autograd, transform)(f), to_peer=_same, to_numpy=_same)


def _same(a: np.ndarray) -> np.ndarray:
    return a


_CACHE = ProgramCache()


def jacobian_function(program, transform: str):
    return _CACHE.get(program, transform, build)
