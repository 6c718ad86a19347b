"""Fuzz the command line: every quick subcommand with valid and hostile arguments."""

from . import known
from .draw_cli import cli_case
from .suite import fuzz_tests

test_cli_case_fixed_seed, test_cli_case_fresh_seed = fuzz_tests(cli_case, 16, known=known.CLI)
