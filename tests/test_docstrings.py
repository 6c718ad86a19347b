"""Every public name of ``chainbench`` (``chainbench.__all__``) is documented the numpy way:
a summary line, and for a function that takes parameters a "Parameters" section. Constants
cannot carry a docstring of their own: docs/api.md names them instead."""

import inspect
from pathlib import Path

import pytest

import chainbench as cb

API_MD = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _documented(name: str):
    obj = getattr(cb, name)
    return obj, inspect.getdoc(obj) if callable(obj) else None


@pytest.mark.parametrize("name", [n for n in cb.__all__ if callable(getattr(cb, n))])
def test_a_public_callable_has_a_numpy_docstring(name):
    obj, doc = _documented(name)
    assert doc and doc.strip().splitlines()[0].strip(), f"cb.{name} has no summary line"
    if inspect.isfunction(obj):
        params = [p for p in inspect.signature(obj).parameters.values()
                  if p.kind is not p.VAR_KEYWORD]
        if params:
            assert "Parameters\n----------" in doc, f"cb.{name}: no 'Parameters' section"


@pytest.mark.parametrize("name", [n for n in cb.__all__ if not callable(getattr(cb, n))])
def test_a_public_constant_is_in_the_api_docs(name):
    assert f"`cb.{name}`" in API_MD.read_text(), f"docs/api.md does not name cb.{name}"


def test_the_new_api_documents_its_parameters():  # classes whose constructor users call
    for name in ("Experiment", "Results", "Fit", "Chain"):
        assert "Parameters\n----------" in inspect.getdoc(getattr(cb, name)), name
