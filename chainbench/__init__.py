"""chainbench: measure what automatic differentiation costs on chains of layers.

Build a ``Chain`` (from layers or a spec string), then differentiate it with ``jvp``,
``vjp`` or ``jacobian(mode='forward' | 'reverse' | 'auto')``, or bind it once with
``bind(chain, mode)`` and call the bound Jacobian with x as often as wanted; measure sweeps
of them with ``run(Experiment(...))`` and read a results folder with ``load(path)``.

The public names load on first use (PEP 562), so ``chainbench`` on the command line starts
without importing Numba until a subcommand needs it: a Ctrl-C in that time is then the
command line's to report in one line.
"""

from importlib import import_module

__version__ = "0.1.0"

#: public name -> the module that defines it; every registered layer class (``Dense``,
#: ``Tanh``, …) is public too, looked up in the layer registry (see ``__getattr__``)
_HOME = {
    "Chain": "model.chain", "ChainShape": "model.chain",
    "LAYERS": "model.layers", "Layer": "model.layers",
    "MODES": "api", "jacobian": "api", "jvp": "api", "record_tape": "api", "vjp": "api",
    "record_op_tape": "api", "OpTape": "engines.oplevel.tape",
    "predict": "api", "predict_time": "api", "auto_choice": "strategies",
    "auto_decision": "strategies",
    "bind": "bound", "bind_value": "bound", "Bound": "bound", "BoundValue": "bound",
    "Prediction": "cost.predictions", "Plan": "cost.work",
    "Tape": "engines.reverse",
    "EngineStats": "model.counters",
    "sparsity": "model.sparsity", "coloring": "cost.coloring", "Coloring": "cost.coloring",
    # experiments, results, fits and figures from Python (what `chainbench run` runs)
    "Experiment": "session.experiment", "run": "session.run",
    "load": "session.results", "Results": "session.results", "Fit": "session.fit",
    "hessian": "second_order", "hvp": "second_order", "HESSIAN_MODES": "second_order",
    "predict_hessian": "second_order", "BoundHessian": "second_order",
    "predict_hessian_time": "second_order",
}

__all__ = [*_HOME]


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is not None:
        value = getattr(import_module(f".{home}", __name__), name)
    elif name[:1].isupper():  # a layer class, by its class name (not a submodule's name)
        layers = import_module(".model.layers", __name__).LAYERS
        value = next((cls for cls in layers.values() if cls.__name__ == name), None)
        if value is None:
            raise AttributeError(f"module 'chainbench' has no attribute {name!r}")
    else:
        raise AttributeError(f"module 'chainbench' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    layers = import_module(".model.layers", __name__).LAYERS
    return sorted({*globals(), *__all__, *(cls.__name__ for cls in layers.values())})
