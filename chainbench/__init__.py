"""chainbench: measure what automatic differentiation costs on chains of layers.

Build a ``Chain`` (from layers or a spec string), then differentiate it with ``jvp``,
``vjp`` or ``jacobian(mode='forward' | 'reverse' | 'auto')``.
"""

from .chain import Chain, ChainShape
from .cost import Prediction, predict
from .layers import LAYERS, Dense, ReLU, Sigmoid, Sin, Softmax, Softplus, Tanh
from .modes import MODES, jacobian, jvp, record_tape, vjp
from .reverse import Tape
from .stats import EngineStats

__version__ = "0.1.0"

__all__ = [
    "Chain", "ChainShape", "Dense", "Tanh", "Sigmoid", "ReLU", "Sin", "Softplus", "Softmax",
    "LAYERS", "MODES", "jacobian", "jvp", "vjp", "record_tape", "Tape", "EngineStats",
    "Prediction", "predict",
]
