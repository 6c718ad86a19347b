"""Fuzz with stdout closed early: ``chainbench … | head -1`` ends as the command does
without the pipe, and writes the same files."""

from . import known
from .draw_mix import piped_case
from .suite import fuzz_tests

test_piped_case_fixed_seed, test_piped_case_fresh_seed = fuzz_tests(
    piped_case, 3, piped=True, known=known.PIPED)
