"""The package's shape: imports go one way (no cycle, lazy imports included, and no layer
importing one above it), and no module or function grows past what a reader takes in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "chainbench"

#: Layers from the bottom up: a module may import its own layer and those below it only.
#: A name is a top-level package or module, or a module inside one placed apart from it.
LAYERS = [
    {"errors", "_jit", "_cache", "provenance"},
    {"machine"},
    {"model"},
    {"cost"},
    {"engines", "peers"},
    {"strategies", "planner", "engine_options", "bound", "api", "second_order", "explain"},
    # chainbench's own costs are timed through its API, and stored into the profile below
    {"machine.own_costs", "machine.prediction_errors"},
    # the harness, cut by responsibility: an experiment's points, a results folder's
    # storage, the analysis of one, running points (in this process or on a cluster), and
    # the side tools over all of them
    {"harness", "harness.experiment"},
    {"harness.storage"},
    {"harness.analysis"},
    {"harness.run"},
    {"harness.cluster"},
    {"harness.tools"},
    {"plots"},
    {"report"},
    {"gate"},
    # the Python API (session) and the command line over it share the top layer: a
    # notebook's run shows the command line's progress bar
    {"cli", "session", "__main__", "experiments"},
]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = ["chainbench", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _target(name: str) -> str | None:
    """The chainbench module ``name`` refers to (a module, or the package above a name)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports(module: str) -> set[str]:
    """Every chainbench module ``module`` imports, at load or inside a function."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            target = _target(name) if name.startswith("chainbench") else None
            if target and target != module and not module.startswith(target + "."):
                found.add(target)  # a module's own parent packages load first anyway
    return found


GRAPH = {module: imports(module) for module in MODULES}


def _layer(module: str) -> int:
    """The layer of ``module``: that of the longest name in LAYERS it is or lies in."""
    parts = module.split(".")[1:] or ["__init__"]
    for depth in range(len(parts), 0, -1):
        for k, names in enumerate(LAYERS):
            if ".".join(parts[:depth]) in names:
                return k
    raise AssertionError(f"{module}: add its top-level package to LAYERS in this test")


def test_no_import_cycle():
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH[module]):
            if state.get(target) == 1:
                cycle = path[path.index(target):] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


def test_imports_go_down_the_layers():
    upward = [f"{module} -> {target}" for module, targets in GRAPH.items()
              if module != "chainbench" for target in targets
              if target != "chainbench" and _layer(target) > _layer(module)]
    assert not upward, "imports against the layering:\n" + "\n".join(sorted(upward))


def test_the_cost_model_loads_no_engine():
    assert not {t for m, ts in GRAPH.items() if m.startswith("chainbench.cost") for t in ts
                if t.startswith(("chainbench.engines", "chainbench.peers"))}


def test_the_harness_has_no_module_outside_its_subpackages():
    """harness/ is cut by responsibility: a new module goes into one of its subpackages (or
    a new one, placed in LAYERS), where the layering above sees it."""
    named = {name for layer in LAYERS for name in layer if name.startswith("harness.")}
    loose = [m for m in MODULES if m.startswith("chainbench.harness.")
             and ".".join(m.split(".")[1:3]) not in named]
    assert not loose, f"harness modules outside its subpackages: {sorted(loose)}"


def test_the_checker_sees_imports():  # the tests above could pass on an empty graph
    assert "chainbench.model.layers" in GRAPH["chainbench.model.chain"]
    assert "chainbench.engines.contract" in GRAPH["chainbench.engines.forward"]
    assert "chainbench.cost.predictions" in GRAPH["chainbench.api"]
    # a module placed apart from its package is layered by its own name
    assert _layer("chainbench.machine.own_costs") > _layer("chainbench.api") \
        > _layer("chainbench.machine.profile")
    assert _layer("chainbench.harness.tools.compare") > _layer("chainbench.harness.run.point") \
        > _layer("chainbench.harness.storage.row") > _layer("chainbench.harness.experiment.config")
    assert "chainbench.harness.storage.results" in GRAPH["chainbench.harness.run.loop"]


def _function_lines(node: ast.AST) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]  # the docstring aside
    return 0 if not body else body[-1].end_lineno - body[0].lineno + 1


def test_modules_and_functions_stay_short():
    long = []
    for module, path in sorted(MODULES.items()):
        lines = len(path.read_text().splitlines())
        if lines > MAX_MODULE_LINES:
            long.append(f"{module}: {lines} lines")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if (size := _function_lines(node)) > MAX_FUNCTION_LINES:
                    long.append(f"{module}.{node.name}: {size} lines")
    assert not long, (f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a "
                      "function:\n" + "\n".join(long))


def _strategy_comparisons(source: str, names: set[str]) -> list[int]:
    """Lines of ``source`` that compare something with a strategy's name (``mode ==
    'auto'``, ``mode in ('auto', …)``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Compare):
            continue
        for operand in (node.left, *node.comparators):
            items = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) \
                else [operand]
            if any(isinstance(i, ast.Constant) and i.value in names for i in items):
                found.append(node.lineno)
    return found


def test_only_the_strategies_module_tells_a_strategy_from_an_engine():
    from chainbench.strategies import STRATEGIES

    names = set(STRATEGIES)
    assert _strategy_comparisons('if mode == "auto" or m in ("x", "auto"): pass', names) \
        == [1, 1]  # the checker sees both forms
    found = [f"{module}:{line}" for module, path in sorted(MODULES.items())
             if module != "chainbench.strategies"
             for line in _strategy_comparisons(path.read_text(), names)]
    assert not found, ("a strategy's name compared outside chainbench.strategies (ask "
                       "strategies.is_strategy or resolve instead):\n" + "\n".join(found))
