"""The fuzz tests' sandbox template, built once per session, and the seeds they ran with,
printed at the end of the run for replay."""

import pytest

from .sandbox import build_template
from .suite import EXAMPLES_ENV, FIXED_SEED, FRESH_SEED, SEED_ENV


@pytest.fixture(scope="session")
def fuzz_base(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="session")
def fuzz_template(fuzz_base):
    return build_template(fuzz_base)


def pytest_terminal_summary(terminalreporter):
    if any(r.nodeid.startswith("tests/fuzz/") for k in ("passed", "failed")
           for r in terminalreporter.stats.get(k, [])):
        terminalreporter.write_line(
            f"fuzzing: fixed seed {FIXED_SEED}, fresh seed {FRESH_SEED} (draw the fresh "
            f"inputs again: {SEED_ENV}={FRESH_SEED} python -m pytest tests/fuzz; more inputs "
            f"per test: {EXAMPLES_ENV}=N)")
