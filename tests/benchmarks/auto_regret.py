"""auto's regret on chains it was not tuned on: for every chain of the shipped experiments
gradient_scaling, square_vs_tall and chunk_size, and for RANDOM seeded random chains (depth
2-6, widths 8-2048), every candidate auto weighs (mode x chunk) is timed, and auto's pick
(the time model's, and the measuring planner's) is compared with the fastest measured.
Regret = time of the pick / fastest - 1; the goal is within 10 % on every chain.

Run from the repository root (a few minutes; nothing else should run meanwhile):
    python -m tests.benchmarks.auto_regret [--random 24] [--seed 0] [--quick]
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np

import chainbench as cb
from chainbench.harness.experiment.config import resolve
from chainbench.machine.pass_kernels import best_seconds
from chainbench.strategies import AUTO_CHOICES, auto_decision, auto_ranked

ACTIVATIONS = ("tanh", "sigmoid", "softplus", "relu", "sin")
#: Chains whose parameters and J pass this many bytes are left out (time and memory), and
#: chains whose fastest candidate is predicted to take longer than MAX_SECONDS.
MAX_BYTES = 256 * 2**20
MAX_SECONDS = 0.05
#: Candidates predicted more than this many times slower than the best are not timed.
SLOWER = 4.0


def best_s(call, x) -> float:
    return best_seconds(partial(call, x), 0.03, 3)


def shipped_specs() -> list[tuple[str, str, int]]:
    """(source, spec, n) of every distinct chain in the three experiments' first-order points
    (auto's choice does not depend on the mode a point asked for)."""
    out = {}
    for name in ("gradient_scaling", "square_vs_tall", "chunk_size"):
        for point in resolve(name).points():
            out.setdefault((point.spec, point.n), name)
    return [(src, spec, n) for (spec, n), src in out.items()]


def random_specs(count: int, seed: int) -> list[tuple[str, str, int]]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        depth = int(rng.integers(2, 7))
        widths = np.exp(rng.uniform(np.log(8), np.log(2048), depth + 1)).astype(int)
        tokens = []
        for k in range(depth):
            tokens.append(f"dense:{widths[k + 1]}")
            tokens.append(str(rng.choice(ACTIVATIONS)))
        out.append((f"random {i}", " ".join(tokens), int(widths[0])))
    return out


def regret_of(spec: str, n: int) -> dict | None:
    shape = cb.ChainShape.from_spec(spec, n)
    params = sum(w_in * w_out for w_in, w_out in zip(shape.widths, shape.widths[1:]))
    if 8 * (params + shape.m * shape.n) > MAX_BYTES:
        return None
    chain = cb.Chain.from_spec(spec, n, seed=0)
    x = 0.5 * np.random.default_rng(1).standard_normal(n)
    ranked = auto_ranked(chain)
    if ranked[0].seconds > MAX_SECONDS:
        return None
    timed = {}
    for c in ranked:  # a candidate predicted far slower than the best cannot be the fastest
        if c.seconds <= SLOWER * ranked[0].seconds or c.value == auto_decision(chain).picked.value:
            name, chunk = c.value
            timed[c.value] = best_s(cb.bind(chain, name, chunk), x)
    fastest = min(timed.values())
    picked = auto_decision(chain).picked.value
    measured = cb.bind(chain, "auto", planner="measure")
    if (measured.mode, measured.chunk) not in timed:
        timed[(measured.mode, measured.chunk)] = best_s(measured, x)
    return {"picked": picked, "regret": timed[picked] / fastest - 1,
            "measured_pick": (measured.mode, measured.chunk),
            "measured_regret": timed[(measured.mode, measured.chunk)] / fastest - 1,
            "fastest": min(timed, key=timed.get), "fastest_s": fastest}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--random", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="random chains only, 4 of them")
    args = parser.parse_args(argv)
    chains = [] if args.quick else shipped_specs()
    chains += random_specs(4 if args.quick else args.random, args.seed)
    print(f"auto chooses among {', '.join(AUTO_CHOICES)}; {len(chains)} chains")
    rows = []
    for source, spec, n in chains:
        r = regret_of(spec, n)
        if r is None:
            print(f"{source:18s} n={n:<5d} {spec[:40]:40s} skipped (over {MAX_BYTES >> 20} MiB "
                  f"or {MAX_SECONDS * 1e3:g} ms predicted)")
            continue
        rows.append(r)
        print(f"{source:18s} n={n:<5d} {spec[:40]:40s} auto {r['picked']} "
              f"{100 * r['regret']:5.1f} %  measure {r['measured_pick']} "
              f"{100 * r['measured_regret']:5.1f} %  fastest {r['fastest']}")
    for key in ("regret", "measured_regret"):
        values = np.array([r[key] for r in rows])
        print(f"{key}: within 10 % on {np.mean(values <= 0.10):.0%} of {len(values)} chains, "
              f"median {100 * np.median(values):.1f} %, worst {100 * values.max():.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
