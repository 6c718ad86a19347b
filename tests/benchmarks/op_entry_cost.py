"""ns per tape entry of op-reverse at n = 1024 (depth 2, m = 1): the record and replay
kernels on a reused tape, and a whole Jacobian call (a fresh tape each call). Run from the
repository root: python -m tests.benchmarks.op_entry_cost (docs/operation-level.md)."""

import time

import numpy as np
from numba import njit

import chainbench as cb
from chainbench.engines.oplevel._sweeps import replay
from chainbench.engines.oplevel.reverse import new_tape, record
from chainbench.model.counters import new_counters
from chainbench.model.lowering import layout


@njit(cache=False)  # a replay of one row from output slot 1024 % slots, for timing only
def pull(index, partial, adj):
    adj[:, :] = 0.0
    adj[1024 % adj.shape[0], 0] = 1.0
    replay(index, partial, adj, 1)


def best(f, k=7):
    out = []
    for _ in range(k):
        t = time.perf_counter(); f(); out.append(time.perf_counter() - t)
    return min(out)


n = 1024
chain = cb.Chain.from_spec(f"dense:{n} tanh dense:{n} tanh dense:1", n, seed=0)
x = np.random.default_rng(0).standard_normal(n)
p, lay = chain.program, layout(chain.shape)
E, arr = lay.total, lay.array()
index, partial = new_tape(E)
vals, adj, c = np.empty(lay.slots), np.zeros((lay.slots, 1)), new_counters()
record(p.table, p.params, arr, x, vals, index, partial, c); pull(index, partial, adj)
cb.jacobian(chain, x, mode="op-reverse")
t_rec = best(lambda: record(p.table, p.params, arr, x, vals, index, partial, c))
t_rep = best(lambda: pull(index, partial, adj))
t_jac = best(lambda: cb.jacobian(chain, x, mode="op-reverse"))
print(f"n = {n}: {E} entries; record {t_rec / E * 1e9:.2f} ns, replay {t_rep / E * 1e9:.2f} ns, "
      f"together {(t_rec + t_rep) / E * 1e9:.2f} ns per entry on a reused tape; "
      f"a Jacobian call (fresh tape) {t_jac / E * 1e9:.2f} ns per entry")
