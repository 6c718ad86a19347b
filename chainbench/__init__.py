"""chainbench: measure what automatic differentiation costs on chains of layers.

Build a ``Chain`` (from layers or a spec string), then differentiate it with ``jvp``,
``vjp`` or ``jacobian(mode='forward' | 'reverse' | 'auto')``.

The public names load on first use (PEP 562), so ``chainbench`` on the command line starts
without importing Numba until a subcommand needs it: a Ctrl-C in that time is then the
command line's to report in one line.
"""

from importlib import import_module

__version__ = "0.1.0"

#: public name -> the module that defines it
_HOME = {
    "Chain": "model.chain", "ChainShape": "model.chain",
    "Prediction": "cost.predictions", "predict": "api",
    "LAYERS": "model.layers", "Layer": "model.layers", "ELU": "model.layers", "Dense": "model.layers", "ReLU": "model.layers",
    "Sigmoid": "model.layers", "Sin": "model.layers", "Softmax": "model.layers",
    "Softplus": "model.layers", "Tanh": "model.layers",
    "MODES": "api", "jacobian": "api", "jvp": "api", "record_tape": "api", "vjp": "api",
    "Tape": "engines.reverse",
    "EngineStats": "model.counters",
}

__all__ = [
    "Chain", "ChainShape", "Dense", "Tanh", "Sigmoid", "ReLU", "Sin", "Softplus", "Softmax", "ELU",
    "LAYERS", "Layer", "MODES", "jacobian", "jvp", "vjp", "record_tape", "Tape", "EngineStats",
    "Prediction", "predict",
]


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'chainbench' has no attribute {name!r}")
    value = getattr(import_module(f".{home}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
