"""Fuzz experiment files: the tiny quick-shaped experiment with hostile fields, run."""

from . import known
from .draw_experiment import experiment_case
from .suite import fuzz_tests

test_experiment_case_fixed_seed, test_experiment_case_fresh_seed = fuzz_tests(
    experiment_case, 8, known=known.EXPERIMENTS)
