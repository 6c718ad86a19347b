"""Helpers of the benchmark suite (importable, unlike conftest): gate cases as pytest
params, and each case's chain and input built as the gate's worker builds them."""

from __future__ import annotations

import numpy as np
import pytest

import chainbench as cb
from chainbench.gate.cases import Case


def params(cases) -> list:
    """pytest params of gate cases, one per name, marked quick as the gate marks them."""
    unique = {}
    for case in cases:  # the first of a name wins: the gate's case, with its quick mark
        unique.setdefault(case.name, case)
    return [pytest.param(case, id=name.replace(" ", "-"),
                         marks=[pytest.mark.quick] if case.quick else [])
            for name, case in unique.items()]


def build(case: Case) -> tuple[cb.Chain, np.ndarray]:
    """The case's chain (seed 0) and input point, as the gate's worker builds them."""
    chain = cb.Chain.from_spec(case.spec, n=case.n, seed=0)
    return chain, np.random.default_rng(1).standard_normal(case.n)


def extra_info(case: Case) -> dict:
    return {"kind": case.kind, "mode": case.mode, "n": case.n, "m": case.m,
            "depth": case.depth, "chunk": case.chunk or "auto", "spec": case.spec}
