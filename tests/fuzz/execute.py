"""Running ``chainbench ARGV`` in a sandbox under a memory limit (RLIMIT_AS) and a time limit.

``run_forked`` forks this (warm) process and calls ``chainbench.cli.main`` in the child, as
``python -m chainbench`` would, stdout and stderr going to files: no interpreter start-up
(numba's import alone takes seconds). ``run_piped`` starts a real ``python -m chainbench``
whose stdout is a pipe the reader closes after the first line, as ``… | head -1`` does."""

from __future__ import annotations

import os
import resource
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .sandbox import Sandbox

GiB = 2**30
#: Address space a command may take beyond what this process holds when it forks.
MEMORY = int(float(os.environ.get("CHAINBENCH_FUZZ_MEMORY_GIB", "3")) * GiB)
#: What the command line's modules import lazily: imported here once, so children start warm.
PRELOAD = ["chainbench.cli", "chainbench.harness.run.sweep", "chainbench.harness.tools.compare",
           "chainbench.harness.tools.accuracy", "chainbench.harness.analysis.tables",
           "chainbench.plots",
           "chainbench.plots.accuracy", "chainbench.report", "chainbench.cost.optimal",
           "chainbench.cost.plan", "chainbench.cost.coloring", "chainbench.model.sparsity",
           "chainbench.engines.registry", "chainbench.machine.current"]


@dataclass(frozen=True)
class Outcome:
    rc: int | None  # None: killed at the time limit; negative: killed by that signal
    stdout: str
    stderr: str
    seconds: float

    @property
    def hung(self) -> bool:
        return self.rc is None


def preload() -> None:
    import importlib

    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in PRELOAD:
        importlib.import_module(name)


def _vm_size() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def run_forked(argv, box: Sandbox, limit_s: float, memory: int = MEMORY) -> Outcome:
    preload()
    out, err = box.io / "stdout", box.io / "stderr"
    limit = _vm_size() + memory
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        _child(list(argv), box, out, err, limit)
    rc = _wait(pid, start + limit_s)
    return Outcome(rc, _read(out), _read(err), time.monotonic() - start)


def _child(argv: list[str], box: Sandbox, out: Path, err: Path, limit: int) -> None:
    code = 70
    try:
        os.setpgid(0, 0)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(os.open(out, flags), 1)
        os.dup2(os.open(err, flags), 2)
        # the streams a fresh interpreter would have on these descriptors
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False, errors="backslashreplace", buffering=1)
        os.environ.clear()
        os.environ.update(box.env())
        os.chdir(box.work)
        import tempfile

        tempfile.tempdir = None
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        from chainbench.cli import main
        from chainbench.machine import current

        current._CURRENT = None
        sys.argv = ["chainbench", *argv]
        code = _exit_code(main, argv)
    finally:
        try:
            sys.stdout.flush()
        except BaseException:  # as the interpreter does at exit: a message and code 120
            print("Exception ignored on flushing sys.stdout", file=sys.stderr)
            code = 120
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _exit_code(main, argv) -> int:
    """What ``sys.exit(main(argv))`` leaves as the exit status, a traceback printed for an
    exception that escapes, as the interpreter prints it."""
    import traceback

    try:
        result = main(argv)
    except SystemExit as stop:
        result = stop.code
    except BaseException:
        traceback.print_exc()
        return 1
    if result is None:
        return 0
    if isinstance(result, int):
        return result & 0xFF
    print(result, file=sys.stderr)
    return 1


def _wait(pid: int, deadline: float) -> int | None:
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            _kill(pid)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.02)


def _kill(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8", "backslashreplace")
    except OSError:
        return ""


def run_piped(argv, box: Sandbox, limit_s: float, memory: int = 2 * MEMORY) -> Outcome:
    """``python -m chainbench ARGV | head -1``: the exit status is python's, not head's."""
    import chainbench

    env = box.env()
    source = str(Path(chainbench.__file__).resolve().parents[1])  # this tree, not another
    env["PYTHONPATH"] = os.pathsep.join([source] + [p for p in [env.get("PYTHONPATH")] if p])
    err = box.io / "stderr-piped"
    start = time.monotonic()
    with open(err, "wb") as err_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "chainbench", *argv], cwd=box.work, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err_file,
            start_new_session=True,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (memory, memory)))
    first = _first_line(proc, start + limit_s)
    proc.stdout.close()  # the reader is gone: the next write meets a broken pipe
    rc = _wait(proc.pid, start + limit_s)
    proc.returncode = -1  # reaped by _wait; keep Popen from waiting again
    return Outcome(rc, first, _read(err), time.monotonic() - start)


def _first_line(proc, deadline: float) -> str:
    line = b""
    fd = proc.stdout.fileno()
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            chunk = os.read(fd, 1)
            if not chunk:
                break
            line += chunk
    return line.decode("utf-8", "backslashreplace")
