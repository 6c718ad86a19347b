"""Op-code dispatch from the engines' generic loops to each layer's rules, generated from
the registry: one function per rule (``layer_value``, ``layer_vjp``, …), each a chain of
``if op == k`` branches calling layer k's rule. Numba cannot call through a table of
functions, but it compiles generated source like any other; layers sharing one rule (the
activations' VJP) share one branch. Engines call these with a row of the compiled program;
nothing else in the engines knows which layers exist.
"""

from __future__ import annotations

from ..._jit import generate
from . import LAYERS
from .base import ARG, OP, P_OFF, S_OFF, W_IN, W_OUT, Rules  # noqa: F401  (the columns, for engines)

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


def _branches(rule: str) -> list[tuple[list[int], object]]:
    """(op codes, kernel) per distinct kernel of ``rule``, in op-code order but for the
    one most layers share (the activations'), which goes last: it takes no test."""
    groups: dict[int, tuple[list[int], object]] = {}
    for cls in LAYERS.values():
        fn = getattr(cls.rules, rule)
        groups.setdefault(id(fn), ([], fn))[0].append(cls.op)
    ordered = list(groups.values())
    widest = max(ordered, key=lambda group: len(group[0]))
    return [group for group in ordered if group is not widest] + [widest]


def source() -> tuple[str, dict]:
    """The dispatch module's source and the namespace it runs in."""
    namespace, lines = {"OP": OP}, []
    for rule, args in ARGUMENTS.items():
        lines += [f"def layer_{rule}(row, params, {args}):", "    op = row[OP]"]
        branches = _branches(rule)
        for k, (ops, fn) in enumerate(branches):
            name = namespace_name = f"_{rule}_{k}"
            namespace[namespace_name] = fn
            call = f"return {name}(row, params, {args})"
            if k == len(branches) - 1:  # the last needs no test: Chain refuses unknown ops
                lines.append(f"    {call}")
            else:
                test = " or ".join(f"op == {op}" for op in ops)
                lines += [f"    if {test}:", f"        {call}"]
        lines.append("")
    return "\n".join(lines), namespace


def _generate() -> dict:
    text, namespace = source()
    # inlined into the calling kernel at Numba's IR level, as a hand-written dispatch was
    return generate(text, "chainbench.model.layers.dispatch", namespace,
                    [f"layer_{rule}" for rule in ARGUMENTS])


_RULES = _generate()
layer_value = _RULES["layer_value"]
layer_value_complex = _RULES["layer_value_complex"]
layer_jvp = _RULES["layer_jvp"]
layer_record = _RULES["layer_record"]
layer_vjp = _RULES["layer_vjp"]
layer_tangent = _RULES["layer_tangent"]
layer_explicit = _RULES["layer_explicit"]
