"""chainbench's own costs on this machine, a part of its profile: what a Jacobian call costs
beyond its passes' work, and what the rules of the layers without a parameter matrix cost per
multiply-add. Measured by ``own_costs`` for one version of the code (``code``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The rules ``Overheads.madd_s`` prices, in its order.
RULES = ("value", "record", "tangent", "adjoint")
#: The row of ``Overheads.madd_s`` holding what one primitive operation costs at the
#: operation level, per tape entry (value, record) or per partial and lane (tangent,
#: adjoint): the passes of op-forward and op-reverse (``Pass.level == 'operation'``).
OPERATIONS = "operations"


@dataclass(frozen=True)
class Overheads:
    """``call_s`` once per call (the Python API, the kernel call, allocating J), ``pass_s``
    per layer pass (dispatch and loop bookkeeping); ``measured``: False for the stand-in
    taken from the machine profile's bare call overhead. ``madd_s``: (layer name, seconds
    per multiply-add of its value, record, tangent and adjoint rules) for the layers without
    a parameter matrix, whose rules may cost more than the bytes they move (an activation's
    libm call, a convolution's short loops): measured, not counted. ``code``: the
    fingerprint of the code they were measured with (``_cache.fingerprint``). ``errors``:
    (kind of pass, band) — how far the time model missed on this machine for calls whose
    time goes mostly to that kind of pass, as |ln(measured / predicted)|
    (``machine.prediction_errors``, read by ``cost.bands``)."""

    call_s: float
    pass_s: float
    measured: bool = True
    madd_s: tuple[tuple[str, float, float, float, float], ...] = ()
    code: str = ""
    errors: tuple[tuple[str, float], ...] = ()

    def error(self, kind: str) -> float | None:
        """The measured band of ``kind`` of pass (None: not measured)."""
        for name, band in self.errors:
            if name == kind:
                return band
        return None

    def per_madd(self, layer: str, rule: str) -> float:
        """Seconds per multiply-add of ``layer``'s 'value', 'record', 'tangent' or 'adjoint'
        rule (0: not measured)."""
        for name, *costs in self.madd_s:
            if name == layer:
                return costs[RULES.index(rule)]
        return 0.0

    def to_dict(self) -> dict:
        return {"call_s": self.call_s, "pass_s": self.pass_s,
                "madd_s": [list(row) for row in self.madd_s], "code": self.code,
                "errors": [list(row) for row in self.errors]}

    @classmethod
    def from_dict(cls, doc: dict) -> Overheads:
        """The overheads a profile file holds; a ValueError where a cost is not a finite
        number ≥ 0 or a layer's row does not price every rule."""
        out = cls(float(doc["call_s"]), float(doc["pass_s"]),
                  madd_s=tuple((str(n), *map(float, costs)) for n, *costs in doc.get("madd_s", ())),
                  code=str(doc.get("code", "")),
                  errors=tuple((str(k), float(b)) for k, b in doc.get("errors", ())))
        values = (out.call_s, out.pass_s, *(c for _, *costs in out.madd_s for c in costs),
                  *(b for _, b in out.errors))
        if any(not (math.isfinite(v) and v >= 0) for v in values):
            raise ValueError("overheads: a cost that is not a finite number ≥ 0")
        if any(len(costs) != len(RULES) for _, *costs in out.madd_s):
            raise ValueError(f"overheads: a layer's row without its {len(RULES)} rules")
        return out


def stand_in(call_overhead_s: float) -> Overheads:
    """Until chainbench's costs are measured: the bare call overhead and no per-pass cost."""
    return Overheads(call_overhead_s, 0.0, measured=False)
