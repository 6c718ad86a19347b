"""Fuzz damaged results folders (fit, plot, report, run --resume) and damaged machine
profiles (predict, plan, compare, run)."""

from . import known
from .draw_results import profile_case, results_case
from .suite import fuzz_tests

test_results_case_fixed_seed, test_results_case_fresh_seed = fuzz_tests(
    results_case, 8, known=known.RESULTS)
# few: a damaged profile is measured again, tens of seconds each
test_profile_case_fixed_seed, test_profile_case_fresh_seed = fuzz_tests(
    profile_case, 1, known=known.PROFILES)
