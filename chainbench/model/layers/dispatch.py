"""Op-code dispatch from the engines' generic loops to each layer's rules, generated from
the registry: one function per rule (``layer_value``, ``layer_vjp``, …, and the second-order
``layer_record2``, ``layer_curvature``, ``layer_pairs``), each a chain of
``if op == k`` branches calling layer k's rule. Numba cannot call through a table of
functions, but it compiles generated source like any other; layers sharing one rule (the
activations' VJP) share one branch. Engines call these with a row of the compiled program;
nothing else in the engines knows which layers exist.
"""

from __future__ import annotations

from ..._jit import generate
from . import LAYERS
from .base import ARG, OP, P_OFF, S_OFF, W_IN, W_OUT, Rules, SecondRules  # noqa: F401

#: Each rule's arguments after (row, params), as ``base.Rules`` documents them.
ARGUMENTS = {
    "value": "x, y",
    "value_complex": "x, y",
    "jvp": "x, X_dot, y, Y_dot",
    "record": "x, y, saved",
    "vjp": "saved, Y_bar, X_bar",
    "tangent": "saved, X_dot, Y_dot",
    "explicit": "saved, i0, j0, J",
}
assert tuple(ARGUMENTS) == Rules.names()

#: The second-order rules' arguments after (row, params), as ``base.SecondRules`` says; the
#: dispatch names them layer_record2, layer_curvature, layer_pairs.
SECOND_ARGUMENTS = {
    "record": "x, y, saved, curv",
    "curvature": "saved, curv, X_dot, Y_dot, Y_bar, Z",
    "pairs": "saved, curv, L, R, R_out, S",
}
assert tuple(SECOND_ARGUMENTS) == SecondRules.names()
#: (attribute of a layer class, its rules' arguments, the dispatch name of each rule)
_TABLES = (("rules", ARGUMENTS, {}), ("rules2", SECOND_ARGUMENTS, {"record": "record2"}))


def _branches(rule: str, attr: str = "rules") -> list[tuple[list[int], object]]:
    """(op codes, kernel) per distinct kernel of ``rule``, in op-code order but for the
    one most layers share (the activations'), which goes last: it takes no test."""
    groups: dict[int, tuple[list[int], object]] = {}
    for cls in LAYERS.values():
        fn = getattr(getattr(cls, attr), rule)
        groups.setdefault(id(fn), ([], fn))[0].append(cls.op)
    ordered = list(groups.values())
    widest = max(ordered, key=lambda group: len(group[0]))
    return [group for group in ordered if group is not widest] + [widest]


def source() -> tuple[str, dict]:
    """The dispatch module's source and the namespace it runs in."""
    namespace, lines = {"OP": OP}, []
    for attr, arguments, renamed in _TABLES:
        for rule, args in arguments.items():
            lines += _dispatcher(renamed.get(rule, rule), rule, attr, args, namespace)
    return "\n".join(lines), namespace


def _dispatcher(name: str, rule: str, attr: str, args: str, namespace: dict) -> list[str]:
    """Source lines of ``layer_<name>``, the kernels it calls put into ``namespace``."""
    lines = [f"def layer_{name}(row, params, {args}):", "    op = row[OP]"]
    branches = _branches(rule, attr)
    for k, (ops, fn) in enumerate(branches):
        callee = f"_{attr}_{rule}_{k}"
        namespace[callee] = fn
        call = f"return {callee}(row, params, {args})"
        if k == len(branches) - 1:  # the last needs no test: Chain refuses unknown ops
            lines.append(f"    {call}")
        else:
            test = " or ".join(f"op == {op}" for op in ops)
            lines += [f"    if {test}:", f"        {call}"]
    lines.append("")
    return lines


def _generate() -> dict:
    text, namespace = source()
    # inlined into the calling kernel at Numba's IR level, as a hand-written dispatch was
    names = [f"layer_{renamed.get(rule, rule)}" for _, arguments, renamed in _TABLES
             for rule in arguments]
    return generate(text, "chainbench.model.layers.dispatch", namespace, names)


_RULES = _generate()
layer_value = _RULES["layer_value"]
layer_value_complex = _RULES["layer_value_complex"]
layer_jvp = _RULES["layer_jvp"]
layer_record = _RULES["layer_record"]
layer_vjp = _RULES["layer_vjp"]
layer_tangent = _RULES["layer_tangent"]
layer_explicit = _RULES["layer_explicit"]
layer_record2 = _RULES["layer_record2"]
layer_curvature = _RULES["layer_curvature"]
layer_pairs = _RULES["layer_pairs"]
