"""What an engine did: sweeps, multiply-adds and bytes, read from the kernels' counters."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

# Slots of the int64 counter array every engine kernel increments.
SWEEPS_FORWARD, SWEEPS_BACKWARD = 0, 1
MADDS_VALUE, MADDS_TANGENT, MADDS_ADJOINT = 2, 3, 4
BYTES_TAPE, BYTES_WORK, TAPE_ENTRIES = 5, 6, 7
MADDS_ACCUMULATE, BYTES_SNAPSHOTS, LAYER_STEPS = 8, 9, 10
EVALUATIONS = 11
N_COUNTERS = 12


def new_counters() -> np.ndarray:
    return np.zeros(N_COUNTERS, dtype=np.int64)


@dataclass(frozen=True)
class Counts:
    """Work and memory of one differentiation call, as counted by an engine (``EngineStats``)
    or predicted by the cost model (``cost.Prediction``); the tests prove the two equal.

    sweeps_forward   forward sweeps through the chain (values, with tangent lanes in forward mode)
    sweeps_backward  backward sweeps (reverse mode: one per chunk of output rows)
    madds_value      multiply-adds spent on values (primal evaluation)
    madds_tangent    multiply-adds spent pushing tangent lanes (JVPs)
    madds_adjoint    multiply-adds spent pulling cotangent rows (VJPs)
    bytes_tape       bytes of the reverse-mode tape (intermediates kept for the VJPs)
    bytes_work       bytes of the other buffers the engine held: values, lanes, seeds
    madds_accumulate multiply-adds (and entries written) forming and multiplying explicit
                     Jacobian blocks (mixed mode)
    bytes_snapshots  bytes of the values kept at checkpoints (checkpointed reverse mode)
    layer_steps      layer evaluations in forward sweeps (recomputation shows here)
    evaluations      evaluations of f alone, without derivatives (numerical differentiation:
                     n + 1 forward differences, 2n central, n complex steps)
    """

    mode: str
    chunk: int
    sweeps_forward: int
    sweeps_backward: int
    madds_value: int
    madds_tangent: int
    madds_adjoint: int
    bytes_tape: int
    bytes_work: int
    madds_accumulate: int = 0
    bytes_snapshots: int = 0
    layer_steps: int = 0
    evaluations: int = 0

    @property
    def madds(self) -> int:
        """All multiply-adds: values plus derivatives."""
        return self.madds_value + self.madds_tangent + self.madds_adjoint + self.madds_accumulate

    @property
    def bytes_held(self) -> int:
        return self.bytes_tape + self.bytes_work + self.bytes_snapshots

    def as_dict(self) -> dict:
        d = asdict(self)
        d["madds"], d["bytes_held"] = self.madds, self.bytes_held
        return d


@dataclass(frozen=True)
class EngineStats(Counts):
    """Counters of one differentiation call, read from the kernels (see ``Counts``);
    ``tape_entries``: entries on the tape (one per recorded layer)."""

    tape_entries: int = 0

    @classmethod
    def from_counters(cls, mode: str, chunk: int, counters: np.ndarray) -> EngineStats:
        c = [int(v) for v in counters]
        return cls(
            mode=mode, chunk=chunk, sweeps_forward=c[SWEEPS_FORWARD],
            sweeps_backward=c[SWEEPS_BACKWARD], madds_value=c[MADDS_VALUE],
            madds_tangent=c[MADDS_TANGENT], madds_adjoint=c[MADDS_ADJOINT],
            bytes_tape=c[BYTES_TAPE], bytes_work=c[BYTES_WORK],
            madds_accumulate=c[MADDS_ACCUMULATE], bytes_snapshots=c[BYTES_SNAPSHOTS],
            layer_steps=c[LAYER_STEPS], evaluations=c[EVALUATIONS], tape_entries=c[TAPE_ENTRIES],
        )
