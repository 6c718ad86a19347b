"""Test-suite settings and shared fixtures; importable helpers live in chain_helpers.py and
experiment_helpers.py (conftest is not imported)."""

import pytest
from experiment_helpers import TINY
from hypothesis import settings

# Numba compiles a kernel on its first call with new types (seconds), so per-example deadlines
# would flag compilation, not slowness.
settings.register_profile("chainbench", deadline=None)
settings.load_profile("chainbench")


@pytest.fixture
def tiny(tmp_path):
    """The tiny experiment (experiment_helpers.TINY) written to a file."""
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path
