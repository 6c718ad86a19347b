"""docs/lecture.ipynb, the lecture's companion: stored without outputs, and executed top to
bottom in a fresh kernel of this Python (nbclient, from the dev extra); a cell that raises
fails the test."""

import time
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "lecture.ipynb"
#: The notebook must finish well within this (two busy cores, cold Numba cache included).
LIMIT_S = 300
KERNEL = "chainbench-tests"


def test_the_stored_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "no code cells"
    stored = [k for k, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not stored, f"code cells {stored} hold outputs: clear them before committing"


@pytest.mark.slow
def test_the_notebook_runs_top_to_bottom(tmp_path, monkeypatch):
    from ipykernel.kernelspec import write_kernel_spec
    from nbclient import NotebookClient

    # a kernel spec of this very interpreter, found before any the user registered
    write_kernel_spec(tmp_path / "kernels" / KERNEL)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, timeout=LIMIT_S, kernel_name=KERNEL,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    start = time.monotonic()
    client.execute()  # a cell that raises raises CellExecutionError here
    took = time.monotonic() - start
    assert took < LIMIT_S, f"the notebook took {took:.0f} s"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) >= 3, "the figures did not show inline"
