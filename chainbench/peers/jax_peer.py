"""The chain in JAX: ``jax.jit(jax.jacfwd(f))`` or ``jax.jit(jax.jacrev(f))`` in float64,
parameters passed as arguments (not baked in as constants) and kept on the device, timed as
JAX's documentation advises: x already on the device (``jax.device_put``), the result
awaited with ``block_until_ready`` and left there. Importing this module turns on
``jax_enable_x64`` for the process."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._common import PeerFunction, ProgramCache, rule_for, unpack

jax.config.update("jax_enable_x64", True)  # chainbench computes in float64; so must the peer


def _softmax(x):
    e = jnp.exp(x - jnp.max(x))
    return e / jnp.sum(e)


def _conv(w, b, x):
    """y_i = b + Σ_t w_t x_{i+t-h}, zero padded: shifted slices of the padded input."""
    h = w.shape[0] // 2
    padded = jnp.concatenate([jnp.zeros(h), x, jnp.zeros(h)])
    return b[0] + sum(w[t] * padded[t : t + x.shape[0]] for t in range(w.shape[0]))


#: layer name -> rule(params, x); each mirrors the layer's value in chainbench.layers
RULES = {
    "dense": lambda p, x: p[0] @ x + p[1],
    "tanh": lambda p, x: jnp.tanh(x),
    "sigmoid": lambda p, x: jax.nn.sigmoid(x),
    "relu": lambda p, x: jnp.where(x > 0, x, 0.0),  # derivative 0 at 0, as chainbench's
    "sin": lambda p, x: jnp.sin(x),
    "softplus": lambda p, x: jax.nn.softplus(x),
    "elu": lambda p, x: jax.nn.elu(x),
    "softmax": lambda p, x: _softmax(x),
    "conv": lambda p, x: _conv(p[0], p[1], x),
    "grouped": lambda p, x: (p[0] @ x.reshape(p[0].shape[0], -1, 1)).reshape(-1) + p[1],
}


def build(program, transform: str) -> PeerFunction:
    """x (jax.Array, (n,)) -> J (jax.Array, (m, n)), awaited, by the jitted ``transform``
    of the chain; the conversions from and to numpy beside it."""
    layers = unpack(program)
    rules = [rule_for(RULES, name, "jax") for name, _ in layers]
    params = [tuple(jax.device_put(a) for a in arrays) for _, arrays in layers]

    def f(params, x):
        for rule, p in zip(rules, params):
            x = rule(p, x)
        return x

    jac = jax.jit(getattr(jax, transform)(f, argnums=1))

    def jacobian(x: jax.Array | np.ndarray) -> jax.Array:
        # dispatch is asynchronous: without the wait a timer would see only the dispatch
        return jac(params, x).block_until_ready()

    # a jitted function converts a numpy argument itself, faster than a device_put before
    # the call (measured on the 2-core VM here: 0.2 ms against 0.8 ms, both under load)
    return PeerFunction(jac=jacobian, to_peer=jax.device_put, to_numpy=np.asarray,
                        numpy_in=_same)


def _same(x: np.ndarray) -> np.ndarray:
    return x


_CACHE = ProgramCache()


def jacobian_function(program, transform: str):
    return _CACHE.get(program, transform, build)


# --- second order: jax.hessian, and jax.jvp of jax.grad ---------------------------------------


def build_second(program, quantity: str):
    """The jitted second-order functions of the chain's u·f (u all ones, as chainbench's
    default): {'hessian': x -> H} (``jax.hessian``: jacfwd of jacrev) or {'hvp': (x, v) ->
    H v} (``jax.jvp`` of ``jax.grad``), and 'grad': x -> ∇(u·f), each awaited."""
    layers = unpack(program)
    rules = [rule_for(RULES, name, "jax") for name, _ in layers]
    params = [tuple(jax.device_put(a) for a in arrays) for _, arrays in layers]
    u = jnp.ones(program.shape.m)

    def g(params, x):
        for rule, p in zip(rules, params):
            x = rule(p, x)
        return jnp.dot(u, x)

    grad = jax.jit(jax.grad(g, argnums=1))
    if quantity == "hessian":
        hess = jax.jit(jax.hessian(g, argnums=1))
        main = lambda x: hess(params, x).block_until_ready()  # noqa: E731
    else:
        @jax.jit
        def hvp(params, x, v):
            return jax.jvp(lambda y: jax.grad(g, argnums=1)(params, y), (x,), (v,))[1]

        main = lambda x, v: hvp(params, x, v).block_until_ready()  # noqa: E731
    return {quantity: main, "grad": lambda x: grad(params, x).block_until_ready(),
            "to_peer": jax.device_put, "to_numpy": np.asarray}


def second_function(program, quantity: str):
    return _CACHE.get(program, f"second-{quantity}",
                      lambda program, _key: build_second(program, quantity))
