"""The layer registry: every layer chainbench knows, by spec name, and its op code.

A layer's module holds its class, its cost and its rules; registering it here is all the
rest needs: the op code is its place in ``LAYERS``, the kernels' dispatch is generated
from this registry (``dispatch``), and the tests iterate over ``LAYERS``, so a registered
layer is checked against finite differences, the other engines and the cost model without
a new test.
"""

from __future__ import annotations

from .base import Kind, Layer, LayerCost, Rules, SecondCost, SecondRules
from .conv import Conv
from .dense import Dense
from .elementwise import ELU, Elementwise, ReLU, Sigmoid, Sin, Softplus, Tanh, build_rules
from .grouped import Grouped
from .softmax import Softmax


def register(*classes: type[Layer]) -> dict[str, type[Layer]]:
    """Name -> class, each class given its op code (its position here); the activations
    get the rules they share, over an op-code table generated for them."""
    for op, cls in enumerate(classes):
        cls.op = op
    build_rules([cls for cls in classes if issubclass(cls, Elementwise)])
    registry = {}
    for cls in classes:
        if cls.rules is None or cls.rules2 is None or cls.name in registry:
            raise TypeError(f"{cls.__name__}: a layer needs rules, second-order rules "
                            "(rules2) and a name of its own")
        registry[cls.name] = cls
    return registry


#: The registry, one line per layer; op codes follow this order.
LAYERS: dict[str, type[Layer]] = register(Dense, Tanh, Sigmoid, ReLU, Sin, Softplus, ELU, Softmax,
                                          Conv, Grouped)

__all__ = ["LAYERS", "Kind", "Layer", "LayerCost", "Rules", "SecondCost", "SecondRules",
           "Elementwise", "register",
           *(cls.__name__ for cls in LAYERS.values())]
