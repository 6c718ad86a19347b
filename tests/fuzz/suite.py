"""How the fuzz tests run under pytest: each generator gets two tests, one on a fixed seed
(the same inputs every run) and one on a fresh seed printed for replay
(``CHAINBENCH_FUZZ_SEED=SEED`` draws that run's inputs again), each with a small number of
inputs so the default ``python -m pytest`` stays within minutes. ``CHAINBENCH_FUZZ_EXAMPLES``
sets the number of inputs of every test."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import HealthCheck, Phase, example, given, seed, settings

from .choose import strategy
from .exercise import describe, exercise

FIXED_SEED = 23
SEED_ENV, EXAMPLES_ENV = "CHAINBENCH_FUZZ_SEED", "CHAINBENCH_FUZZ_EXAMPLES"
FRESH_SEED = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(2**32))


def examples(default: int) -> int:
    return int(os.environ.get(EXAMPLES_ENV) or default)


def fuzz_tests(generator, default_examples: int, *, piped: bool = False, known=()):
    """(fixed-seed test, fresh-seed test) of ``generator``'s inputs; each input runs in a
    sandbox and fails the test with every broken invariant and the input, replayable. The
    fixed-seed test runs the ``known`` cases first (inputs issue 23 reproduced by hand)."""
    quiet = settings(max_examples=examples(default_examples), deadline=None, database=None,
                     phases=[Phase.explicit, Phase.generate],  # no shrinking: minutes a case
                     suppress_health_check=list(HealthCheck), print_blob=False)

    def make(which: str, value: int):
        @pytest.mark.fuzz
        @quiet
        @seed(value)
        @given(case=strategy(generator, salt=value))
        def test(fuzz_template, fuzz_base, case):
            found = exercise(case, fuzz_template, fuzz_base, piped=piped)
            replay = f"{SEED_ENV}={value} " if which == "fresh" else ""
            assert not found, (f"{describe(case, found)}\nreplay: {replay}python -m pytest "
                               f"tests/fuzz -k {name} (seed {value})")
        name = test.__name__ = f"test_{generator.__name__}_{which}_seed"
        for case in known if which == "fixed" else ():
            test = example(case=case)(test)
        return test

    return make("fixed", FIXED_SEED), make("fresh", FRESH_SEED)
