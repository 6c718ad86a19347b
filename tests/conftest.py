"""Test-suite settings and shared fixtures; importable helpers live in chain_helpers.py,
experiment_helpers.py and machine_helpers.py (conftest is not imported)."""

import pytest
from experiment_helpers import TINY
from hypothesis import settings
from machine_helpers import synthetic_profile

from chainbench.machine import current as machine_current
from chainbench.machine import profile as machine_profile

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


@pytest.fixture(scope="session", autouse=True)
def synthetic_machine_profile(tmp_path_factory):
    """CHAINBENCH_PROFILE_DIR points at a temporary folder holding a synthetic profile for
    this machine's key, so no test spends seconds calibrating unless it asks to (and none
    reads or writes the user's cache)."""
    folder = tmp_path_factory.mktemp("profiles")
    patch = pytest.MonkeyPatch()
    patch.setenv(machine_profile.PROFILE_DIR_ENV, str(folder))
    machine_profile.save(synthetic_profile())
    yield folder
    patch.undo()


@pytest.fixture(autouse=True)
def _no_profile_held_in_process():
    """Each test starts and ends without a profile held in the process (current._CURRENT),
    so one test's profile never leaks into the next."""
    machine_current._CURRENT = None
    yield
    machine_current._CURRENT = None
