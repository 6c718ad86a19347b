"""The chain in PyTorch, compiled: ``torch.compile(torch.func.jacfwd(f))`` or ``…jacrev(f)``
of the same function ``torch_peer`` runs eagerly, with the default backend (TorchInductor,
which on the CPU writes C++ and builds it with the machine's compiler: gcc here, nothing
downloaded). Shapes are static (``dynamic=False``), as a user compiling for one chain gets.

The compile happens when the function is built, on a zero x of the chain's shape, so that
a machine where it cannot compile (no C++ compiler, a transformation Dynamo cannot trace)
raises ``PeerUnavailable`` with PyTorch's reason before anything is timed, and the timed
call is the compiled function itself, with nothing of chainbench's around it.
"""

from __future__ import annotations

import warnings

import torch
import torch._dynamo
import torch._inductor.config

from ..errors import PeerUnavailable
from . import torch_peer
from ._common import PeerFunction, ProgramCache

# Every chain is a new closure of the same transformed function, so Dynamo counts each one
# as a recompile of one code object; past its limit (8) it would run the chain eagerly, and
# a sweep compiles a few dozen. Raise the limit; past it, fail (as fullgraph=True does too)
# rather than time an eager call under a compiled mode's name.
torch._dynamo.config.recompile_limit = 10_000
torch._dynamo.config.fail_on_recompile_limit_hit = True
#: What a compile that cannot be done here raises: no C++ compiler (InvalidCxxCompiler,
#: inside BackendCompilerFailed), untraceable code, the recompile limit.
COMPILE_ERRORS = (torch._dynamo.exc.TorchDynamoException,
                  torch._dynamo.exc.FailOnRecompileLimitHit)
# compile in this process: a pool of compile workers would outlive the compile and take
# CPUs from the threads the sweep pinned (its one-time cost is compile_s, timed apart)
torch._inductor.config.compile_threads = 1
# PyTorch's own lowering calls a deprecated helper of its own; nothing for a user to change
warnings.filterwarnings("ignore", message=r"`torch\._prims_common\.check` is deprecated",
                        category=FutureWarning)

#: the eager peer's rules: the compiled function is the same chain
RULES = torch_peer.RULES


def build(program, transform: str) -> PeerFunction:
    """x (tensor, (n,)) -> J (tensor, (m, n)) by ``torch.compile(torch.func.<transform>(f))``,
    compiled now; PeerUnavailable with PyTorch's reason where it cannot compile here."""
    eager = torch_peer.build(program, transform)
    jac = torch.compile(eager.jac, fullgraph=True, dynamic=False)
    try:
        jac(torch.zeros(program.shape.n, dtype=torch.float64))
    except COMPILE_ERRORS as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise PeerUnavailable(f"torch-compile-{transform}: torch.compile cannot compile it "
                              f"here ({reason}); torch-{transform} runs it eagerly") from None
    return PeerFunction(jac=jac, to_peer=eager.to_peer, to_numpy=eager.to_numpy)


_CACHE = ProgramCache()


def jacobian_function(program, transform: str):
    return _CACHE.get(program, transform, build)
