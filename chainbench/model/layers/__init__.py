"""The layer registry: every layer chainbench knows, by spec name.

Each layer's module holds its class (width, cost) and its rules (value, JVP, VJP) side by
side; ``dispatch`` routes the engines' op codes to those rules. Tests iterate over
``LAYERS``, so a registered layer is checked without a new test.
"""

from .base import Layer, LayerCost
from .dense import Dense
from .elementwise import Elementwise, ReLU, Sigmoid, Sin, Softplus, Tanh
from .softmax import Softmax

LAYERS: dict[str, type[Layer]] = {
    cls.name: cls for cls in (Dense, Tanh, Sigmoid, ReLU, Sin, Softplus, Softmax)
}

__all__ = [
    "LAYERS",
    "Layer",
    "LayerCost",
    "Dense",
    "Elementwise",
    "Tanh",
    "Sigmoid",
    "ReLU",
    "Sin",
    "Softplus",
    "Softmax",
]
