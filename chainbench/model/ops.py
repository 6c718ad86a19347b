"""What a layer's lowering calls: one emitting function per primitive of ``model.primitives``
(``ops.mulc(st, out, a, c)``, ``ops.add(st, out, a, b)``, ``ops.tanh(st, out, a)``, …),
each evaluating the primitive on value slots and handing its local partials to the engine
that runs the lowering.

A lowering writes a layer's value in primitives on numbered value slots: it reads its input
from slots x0…, writes its output to slots y0… and may use temporary slots t0… (as many as
its class's ``op_temps`` says); slots may be overwritten in place (``ops.add(st, y, y, t)``).
Every call is one operation. What happens to its partials is the state's business, never
the layer's:

- a *recording* state (``record_state``) appends the operation to the Wengert list: op
  code, output and operand slots (int32 ``index[e]``), ∂y/∂a and ∂y/∂b (``partial[e]``);
- a *dual* state (``dual_state``) pushes c tangent lanes through it: ẏ = ∂y/∂a · ȧ
  (+ ∂y/∂b · ḃ);
- a *second-order recording* state (``record2_state``) records as a recording one does and
  also keeps, for each curved operation (``Primitive.curved``), its entry number and its
  second partials: what reverse-over-reverse differentiates the gradient's sweep with.

Unary operations name the state's sink slot as their second operand, which stays 0 and
whose partial is 0, so that replaying the tape needs no branch on the operation's arity.

Which state it is, is a matter of types (``put``'s overload), not a branch per operation:
a branch in an inlined function that holds arrays keeps Numba from pruning their reference
counts, which cost 35 ns per operation where the work is 4.
"""

from __future__ import annotations

from numba import types
from numba.extending import overload

from .._jit import generate, inlined, kernel
from .primitives import PRIMITIVES

#: Fields of a state tuple: the value slots; the tape's int32 (entries, 4) index block
#: (code, out, a, b) or the tangent lanes (slots, chunk); the partials (entries, 2) or
#: the lanes in use; the cursor; the sink slot; (second-order recording only) the curved
#: entries' second partials (curved, 3) and their entry numbers (curved,).
VALS, BLOCK, DETAIL, CURSOR, SINK, SECOND, WHERE = range(7)
#: Columns of a tape's index block.
CODE, OUT, A, B = range(4)
#: Slots of a state's int64 cursor: operations emitted, partials they took (Σ arity), and
#: (a second-order recording state's third slot) curved operations kept.
ENTRIES, PARTIALS, CURVED = 0, 1, 2
#: Bytes of one tape entry: code, output and two operand slots (int32), two partials.
ENTRY_BYTES = 4 * 4 + 2 * 8
#: Bytes a second-order recording keeps per curved entry: three second partials, its entry.
CURVED_BYTES = 3 * 8 + 8


@inlined
def record_state(vals, index, partial, cursor, sink):
    """A state that records each operation as the next row of ``index`` and ``partial``."""
    return (vals, index, partial, cursor, sink)


@inlined
def record2_state(vals, index, partial, cursor, sink, second, where):
    """A recording state that also keeps each curved operation's second partials (row q of
    ``second``) and entry number (``where[q]``); ``cursor`` has three slots."""
    return (vals, index, partial, cursor, sink, second, where)


@inlined
def dual_state(vals, lanes, c, cursor, sink):
    """A state that pushes the first ``c`` tangent lanes of ``lanes`` (slots × chunk)."""
    return (vals, lanes, c, cursor, sink)


@kernel
def push(lanes, c, out, a, b, da, db, arity):
    """ẏ = ∂y/∂a · ȧ + ∂y/∂b · ḃ on c lanes (rows of ``lanes``). Not inlined, and indexed
    entry by entry rather than through row views: a call borrows its arrays, so its loop
    costs no reference counting."""
    if arity == 2:
        for l in range(c):
            lanes[out, l] = da * lanes[a, l] + db * lanes[b, l]
    else:
        for l in range(c):
            lanes[out, l] = da * lanes[a, l]


def put(st, code, arity, out, a, b, da, db):
    """What becomes of one operation's partials (compiled through the overload below)."""
    raise NotImplementedError("put runs in jitted code only")


@overload(put, inline="always", jit_options={"nogil": True, "error_model": "numpy"})
def _put(st, code, arity, out, a, b, da, db):
    if isinstance(st[BLOCK].dtype, types.Integer):  # a recording state

        def record(st, code, arity, out, a, b, da, db):
            cursor, index, partial = st[CURSOR], st[BLOCK], st[DETAIL]
            e = cursor[ENTRIES]
            # past the end (more operations than the layers' op_counts promised) the last
            # row is overwritten and the count goes on: the engine refuses the mismatch.
            # min, not a branch: see the module's docstring.
            w = min(e, index.shape[0] - 1)
            index[w, CODE], index[w, OUT], index[w, A], index[w, B] = code, out, a, b
            partial[w, 0], partial[w, 1] = da, db
            cursor[ENTRIES] = e + 1
            cursor[PARTIALS] += arity

        return record

    def dual(st, code, arity, out, a, b, da, db):
        push(st[BLOCK], st[DETAIL], out, a, b, da, db, arity)
        cursor = st[CURSOR]
        cursor[ENTRIES] += 1
        cursor[PARTIALS] += arity

    return dual


def _keeper(second):
    """``keep(st, va, vb, c)`` for a curved primitive with second rule ``second``: nothing,
    unless ``st`` is a second-order recording state (a matter of types, as ``put``)."""

    def keep(st, va, vb, c):
        raise NotImplementedError("keep runs in jitted code only")

    @overload(keep, inline="always", jit_options={"nogil": True, "error_model": "numpy"})
    def _keep(st, va, vb, c):
        if len(st.types) <= WHERE:
            return lambda st, va, vb, c: None

        def kept(st, va, vb, c):
            cursor, rows, where = st[CURSOR], st[SECOND], st[WHERE]
            q = cursor[CURVED]
            w = min(q, rows.shape[0] - 1)  # past the end: as ``put``, the engine refuses it
            rows[w, 0], rows[w, 1], rows[w, 2] = second(va, vb, c)
            where[w] = cursor[ENTRIES]
            cursor[CURVED] = q + 1

        return kept

    return keep


def _emitters_source() -> str:
    """One function per primitive, its rule, code and arity fixed: binary ones take slots
    a and b, unary ones a (and the state's sink for b), constant-taking ones c. A curved
    one hands its operands to ``keep_CODE`` before its output may overwrite one of them."""
    lines = []
    for code, p in enumerate(PRIMITIVES):
        args = ["st", "out", "a"] + (["b"] if p.arity == 2 else []) + (["c"] if p.takes_constant else [])
        b = "b" if p.arity == 2 else "st[SINK]"
        c = "c" if p.takes_constant else "0.0"
        lines += [f"def {p.name}({', '.join(args)}):",
                  f"    \"\"\"vals[out] = {p.formula}\"\"\"",
                  "    vals = st[VALS]",
                  f"    va, vb = vals[a], vals[{b}]",
                  f"    y, da, db = rule_{code}(va, vb, {c})"]
        if p.curved:
            lines.append(f"    keep_{code}(st, va, vb, {c})")
        lines += ["    vals[out] = y",
                  f"    put(st, {code}, {p.arity}, out, a, {b}, da, db)", ""]
    return "\n".join(lines)


def _generate() -> dict:
    namespace = {"put": put, "SINK": SINK, "VALS": VALS}
    namespace.update({f"rule_{code}": p.rule for code, p in enumerate(PRIMITIVES)})
    namespace.update({f"keep_{code}": _keeper(p.second) for code, p in enumerate(PRIMITIVES)
                      if p.curved})
    # inlined into the lowerings and through them into the engines' kernels; a call per
    # operation would pass every array of the state by value
    return generate(_emitters_source(), "chainbench.model.ops", namespace,
                    [p.name for p in PRIMITIVES])


_EMITTERS = _generate()

# The emitting functions, as module attributes: a lowering calls ``ops.NAME(st, ...)``.
# Named one by one (tests/test_oplevel.py holds them to PRIMITIVES); ``ops.max`` and
# ``ops.abs`` are primitives here, and this module uses no builtin of theirs.
mulc = _EMITTERS["mulc"]
add = _EMITTERS["add"]
addc = _EMITTERS["addc"]
sub = _EMITTERS["sub"]
mul = _EMITTERS["mul"]
div = _EMITTERS["div"]
max = _EMITTERS["max"]
maxc = _EMITTERS["maxc"]
minc = _EMITTERS["minc"]
abs = _EMITTERS["abs"]
exp = _EMITTERS["exp"]
expm1 = _EMITTERS["expm1"]
log1p = _EMITTERS["log1p"]
tanh = _EMITTERS["tanh"]
sin = _EMITTERS["sin"]
logistic = _EMITTERS["logistic"]

__all__ = ["record_state", "record2_state", "dual_state", "ENTRY_BYTES", "ENTRIES",
           "PARTIALS", "CURVED",
           *(p.name for p in PRIMITIVES)]
