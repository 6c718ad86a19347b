"""The operation-level engines: every layer lowered to primitive scalar operations
(``model.lowering``), differentiated through the one table of local partials
(``model.primitives``), as general-purpose AD tools do when they do not know a layer's
structure. ``op-reverse`` records a Wengert list and replays it; ``op-forward`` pushes
dual numbers with c tangent lanes through each operation.
"""
