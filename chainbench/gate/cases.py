"""What the gate compares and the pytest-benchmark suite (tests/benchmarks) times, written
once: every shipped engine on small-to-moderate standard chains, F, and the scaling series
the guards fit.

    from chainbench.gate.cases import CASES, scaling_cases
    [case.name for case in CASES if case.quick]
"""

from __future__ import annotations

from dataclasses import dataclass


def standard_spec(n: int, m: int = 1, depth: int = 4) -> str:
    """The standard chain n -> [dense(n), tanh] x depth -> dense(m)."""
    return " ".join([f"dense:{n} tanh"] * depth + [f"dense:{m}"])


@dataclass(frozen=True)
class Case:
    """One timed call on the standard chain of input width ``n``: its Jacobian by ``mode``
    (``kind`` 'jacobian', with ``chunk`` lanes per sweep, None for the engine's default),
    F itself (``kind`` 'evaluate'), or at second order the Hessian of u·f (``kind``
    'hessian') or one Hessian-vector product (``kind`` 'hvp') by ``mode`` (one of
    ``HESSIAN_MODES``); a reference tree from before second order skips those.

    ``rtol`` bounds how far the code under test and the reference may differ (relative to
    the result's norm); ``oracle_rtol`` how far the result may be from a second method (the
    benchmark suite's check). ``quick`` puts the case in ``chainbench gate --quick``.
    """

    kind: str
    n: int
    m: int = 1
    depth: int = 4
    mode: str | None = None
    chunk: int | None = None
    rtol: float = 1e-12
    oracle_rtol: float = 1e-9
    quick: bool = False

    @property
    def spec(self) -> str:
        return standard_spec(self.n, self.m, self.depth)

    @property
    def name(self) -> str:
        what = "F" if self.kind == "evaluate" else self.mode if self.kind == "jacobian" \
            else f"{self.kind} {self.mode}"
        chunk = "" if self.chunk is None else f" c{self.chunk}"
        return f"{what} n{self.n} m{self.m} d{self.depth}{chunk}"

    def request(self) -> dict:
        """The case as the worker reads it."""
        return {"name": self.name, "kind": self.kind, "spec": self.spec, "n": self.n,
                "mode": self.mode, "chunk": self.chunk}


def jac(mode: str, n: int, m: int = 1, depth: int = 4, chunk: int | None = None,
        **options) -> Case:
    return Case("jacobian", n, m, depth, mode, chunk, **options)


def second(kind: str, mode: str, n: int, m: int = 1, depth: int = 4, **options) -> Case:
    """A Hessian (``kind`` 'hessian') or an HVP ('hvp') by ``mode``."""
    return Case(kind, n, m, depth, mode, **options)


def evaluate(n: int, m: int = 1, depth: int = 4, **options) -> Case:
    return Case("evaluate", n, m, depth, **options)


#: Every engine that ships (peers aside), each where its own work pattern shows: forward
#: with all lanes and in chunks, reverse for a gradient (the n = 32 one is mostly per-call
#: overhead), for 16 rows and row by row, the two engines on the square n = m = 512 Jacobian,
#: the mixed plan (rev[1..8](J9) here), both checkpointed modes on a deeper chain, central
#: differences (2n evaluations; a changed F moves its result by ~ε/h, hence its rtol), and F;
#: and the floor, F and the gradient at n = 8, where a call is about a µs and what chainbench
#: adds around its kernels (checks, allocation, dispatch) is most of it.
CASES = (
    evaluate(256, quick=True),
    evaluate(8),
    jac("reverse", 8),
    jac("forward", 128, quick=True),
    jac("forward", 128, chunk=8),
    jac("forward", 512, 512),
    jac("reverse", 32, quick=True),
    jac("reverse", 256, quick=True),
    jac("reverse", 128, 16, quick=True),
    jac("reverse", 128, 16, chunk=1),
    jac("reverse", 512, 512),
    jac("optimal", 128, 16, quick=True),
    jac("sqrt-checkpoint", 128, 16, depth=8, quick=True),
    jac("revolve", 128, 16, depth=8, quick=True),
    jac("fd-central", 64, 16, rtol=1e-8, oracle_rtol=1e-6, quick=True),
    # second order: one HVP (dual numbers over the tape: a few gradients' work) and one
    # Hessian (n of those sweeps in chunks), both by forward-over-reverse
    second("hvp", "forward-over-reverse", 256, quick=True),
    second("hessian", "forward-over-reverse", 64),
)

#: Sizes the guards choose from: quarter octaves, 64 … 4096, so that even a narrow memory
#: level holds several.
GRID = tuple(int(round(64 * 2 ** (k / 4))) for k in range(25))

#: The scaling series the benchmark suite records (the guards pick theirs from GRID).
SCALING_N = (64, 128, 256, 512, 1024)


def scaling_cases(sizes, kinds=("forward", "reverse", "F")) -> list[Case]:
    """Forward and reverse Jacobians and F of the gradient chain (m = 1, depth 4) at
    ``sizes``: the series the guards fit."""
    out = []
    for n in sizes:
        for kind in kinds:
            out.append(evaluate(n) if kind == "F" else jac(kind, n))
    return out


def select(quick: bool = False) -> tuple[Case, ...]:
    """The cases of ``chainbench gate`` (``--quick``: those marked quick)."""
    return tuple(c for c in CASES if c.quick) if quick else CASES
