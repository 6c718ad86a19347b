"""Runs the two workers of a gate run (code under test and reference) and measures them in
interleaved pairs: both set up (compile) at once, then in each round every case is timed in
the two workers by turns, repeat by repeat, the one that goes first swapping each repeat and
each round, so a pair shares whatever the machine was doing then.

    with start_pair(head_root, ref_root, slow_flag) as pair:
        head, ref = pair.setup(requests)
        samples = measure_pairs(pair, {name: calls}, rounds=10)
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import GateInputError
from .worker import SLOW_ENV, THREAD_VARS

WORKER = Path(__file__).with_name("worker.py")
#: One repeat (the calls timed back to back) lasts at least this long, so the timer's
#: resolution and the cost of a request vanish in it; short enough that, on a loaded
#: machine, some repeats fall between two preemptions.
SAMPLE_S = 0.002
#: A sample is the least of this many repeats (other processes only ever add time), taken
#: in turns with the other worker; even, so each side goes first equally often.
REPEATS = 4


class WorkerFailed(RuntimeError):
    """A worker died or answered with an error."""


class WorkerProcess:
    """One worker: ``python -P worker.py ROOT`` speaking JSON lines."""

    def __init__(self, label: str, root: Path, slow_flag: str = ""):
        env = {k: v for k, v in os.environ.items() if k != SLOW_ENV}
        env.update({var: "1" for var in THREAD_VARS})
        if slow_flag:
            env[SLOW_ENV] = slow_flag
        env.pop("PYTHONPATH", None)  # ROOT alone decides which chainbench is imported
        # one hash seed for both: string hashing decides dict probing in every call's
        # Python part, a per-process difference of ~1-2 % in a 5 µs call otherwise
        env["PYTHONHASHSEED"] = "0"
        self.label, self.root = label, Path(root)
        self.proc = subprocess.Popen(
            [sys.executable, "-P", str(WORKER), str(self.root)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, bufsize=1, env=env, cwd=str(self.root))

    def send(self, **request) -> None:
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.receive()  # reports how it died

    def receive(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            raise WorkerFailed(f"the {self.label} worker ({self.root}) exited with status "
                               f"{code}; its error is printed above")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise WorkerFailed(f"the {self.label} worker: {reply.get('error')}")
        return reply

    def request(self, **request) -> dict:
        self.send(**request)
        return self.receive()

    def time(self, name: str, calls: int, repeats: int = 1) -> tuple[float, float]:
        """The least (wall, CPU) seconds per call over ``repeats`` repeats of ``calls``
        calls (each clock's least on its own)."""
        reply = self.request(cmd="time", case=name, calls=calls, repeats=repeats)
        return min(reply["seconds"]), min(reply["cpu_seconds"])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Pair:
    head: WorkerProcess
    ref: WorkerProcess
    own_cpus: set | None = None  # this process's CPUs before share_one_cpu, to restore

    def setup(self, cases: list[dict], head_only: list[dict] = ()) -> tuple[dict, dict]:
        """Set up ``cases`` in both workers at once (they compile in parallel) and
        ``head_only`` (the guards' series) in the head worker; return both answers."""
        self.head.send(cmd="setup", cases=[*cases, *head_only])
        self.ref.send(cmd="setup", cases=list(cases))
        return self.head.receive()["cases"], self.ref.receive()["cases"]

    def share_one_cpu(self) -> int | None:
        """Pin both workers to one CPU (and this process to the others), for the timing
        after the set-up: on a VM one vCPU can run slower than another for seconds at a
        time (a neighbour on its host core), which a pair on different CPUs reads as a
        difference between the trees. Returns the CPU, or None where affinity is not
        available."""
        try:
            cpus = sorted(os.sched_getaffinity(0))
            cpu = cpus[-1]
            for worker in (self.head, self.ref):
                os.sched_setaffinity(worker.proc.pid, {cpu})
            if len(cpus) > 1:
                self.own_cpus = set(cpus)
                os.sched_setaffinity(0, set(cpus) - {cpu})
        except (AttributeError, OSError):
            return None
        return cpu

    def restore_cpus(self) -> None:
        """Give this process back the CPUs it had before ``share_one_cpu``."""
        if self.own_cpus:
            os.sched_setaffinity(0, self.own_cpus)
            self.own_cpus = None


@contextmanager
def start_pair(head_root: Path, ref_root: Path, slow_flag: str = ""):
    """Both workers started and ready; the slow flag goes to the code under test only.
    A worker that cannot start is bad input (GateInputError); one that dies later raises
    WorkerFailed (a failure of that tree)."""
    workers, pair = [], None
    try:
        try:
            workers.append(WorkerProcess("code-under-test", head_root, slow_flag))
            workers.append(WorkerProcess("reference", ref_root))
            for w in workers:  # the 'ready' line: chainbench imported, flag accepted
                w.receive()
        except (WorkerFailed, OSError) as err:
            raise GateInputError(str(err)) from None
        pair = Pair(*workers)
        yield pair
    finally:
        if pair is not None:
            pair.restore_cpus()
        for w in workers:
            w.close()


def choose_calls(once_s: float, sample_s: float = SAMPLE_S) -> int:
    """Calls per sample so that one sample lasts at least ``sample_s``."""
    return max(1, math.ceil(sample_s / max(once_s, 1e-9)))


def sample_pair(pair: Pair, name: str, calls: int, repeats: int,
                head_first: bool) -> dict[str, float]:
    """One paired sample of a case: per side and clock ('head', 'reference', 'head_cpu',
    'reference_cpu') the least seconds per call over ``repeats`` repeats of ``calls`` calls,
    the two workers taking turns repeat by repeat (who goes first alternating), so a burst of
    load from elsewhere hits both sides alike."""
    best = dict.fromkeys(("head", "reference", "head_cpu", "reference_cpu"), float("inf"))
    for i in range(repeats):
        first = head_first == (i % 2 == 0)
        for side in (("head", "reference") if first else ("reference", "head")):
            wall, cpu = (pair.head if side == "head" else pair.ref).time(name, calls)
            best[side] = min(best[side], wall)
            best[f"{side}_cpu"] = min(best[f"{side}_cpu"], cpu)
    return best


def measure_pairs(pair: Pair, calls: dict[str, int], rounds: int,
                  repeats: int = REPEATS) -> dict[str, list[dict[str, float]]]:
    """name -> one paired sample (``sample_pair``) per round; the head worker goes first
    in even rounds, the reference in odd ones (ABBA)."""
    out = {name: [] for name in calls}
    for r in range(rounds):
        for name, k in calls.items():
            out[name].append(sample_pair(pair, name, k, repeats, head_first=r % 2 == 0))
    return out


def agree(head: dict, ref: dict, rtol: float) -> tuple[bool, float]:
    """Whether two fingerprints (worker.fingerprint) are of the same result within ``rtol``
    of its norm; and the largest difference found, relative to that norm."""
    if head["shape"] != ref["shape"]:
        return False, math.inf
    scale = max(ref["norm"], 1e-300)
    diffs = [abs(a - b) / scale for a, b in zip(head["sample"], ref["sample"])]
    diffs.append(abs(head["norm"] - ref["norm"]) / scale)
    # |Σ δ w| ≤ ‖δ‖ ‖w‖ (Cauchy–Schwarz): the weighted sum may move by ‖w‖ times as much
    diffs.append(abs(head["weighted"] - ref["weighted"]) / (scale * ref["weights_norm"]))
    worst = max(diffs)
    return worst <= rtol, worst
