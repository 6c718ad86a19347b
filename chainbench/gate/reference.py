"""The reference the gate measures the code under test against: a commit recorded in
``results/gate/reference.json`` (set on purpose, with a reason), whose ``chainbench/``
package is extracted once into ``.cache/gate/<sha>/`` (git-ignored), where its Numba cache
survives from one gate run to the next.

    doc = set_reference(root, "HEAD~3", why="engines rewritten; old numbers meaningless")
    tree = reference_tree(root, read_reference(root)["commit"])   # .cache/gate/<sha>
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from datetime import UTC, datetime
from pathlib import Path

from .errors import GateInputError

#: The repository this chainbench was imported from (chainbench/gate/reference.py → root).
REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_FILE = Path("results/gate/reference.json")
CACHE_DIR = Path(".cache/gate")
PACKAGE = "chainbench"


def _git(root: Path, *args: str) -> str:
    """stdout of ``git args`` in ``root``; GateInputError with git's message on failure."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    except OSError as err:
        raise GateInputError(f"cannot run git: {err}") from None
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise GateInputError(f"git {' '.join(args)}: {message}")
    return done.stdout.strip()


def read_reference(root: Path = REPO_ROOT) -> dict:
    """The recorded reference: {"commit": sha, "set_at": ..., "why": ...}."""
    path = Path(root) / REFERENCE_FILE
    hint = "set one with `chainbench gate --set-reference REV --why TEXT`"
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise GateInputError(f"no reference at {path}; {hint}") from None
    except (OSError, ValueError) as err:
        raise GateInputError(f"cannot read the reference {path}: {err}; {hint}") from None
    commit = doc.get("commit") if isinstance(doc, dict) else None
    if not (isinstance(commit, str) and len(commit) == 40
            and all(c in "0123456789abcdef" for c in commit)):
        raise GateInputError(f"the reference {path} has no full commit sha; {hint}")
    return doc


def set_reference(root: Path, rev: str, why: str) -> dict:
    """Record ``rev`` (any git revision) as the reference, with the reason ``why``."""
    if not (why or "").strip():
        raise GateInputError("--set-reference needs --why TEXT: say why the reference moves")
    try:
        sha = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}") if rev else ""
    except GateInputError:
        sha = ""
    if not sha:
        raise GateInputError(f"--set-reference {rev!r}: not a commit of this repository")
    _require_package(root, sha)
    doc = {"commit": sha, "set_at": datetime.now(UTC).isoformat(timespec="seconds"),
           "why": why.strip()}
    path = Path(root) / REFERENCE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1) + "\n")
    return doc


def _require_package(root: Path, sha: str) -> None:
    """GateInputError unless ``sha`` is in the clone and holds the chainbench package."""
    try:
        _git(root, "cat-file", "-e", f"{sha}^{{commit}}")
    except GateInputError:
        raise GateInputError(
            f"the reference commit {sha[:12]} is not in this clone (a shallow clone?); "
            f"fetch it (`git fetch --unshallow` or `git fetch origin {sha}`)") from None
    try:
        _git(root, "cat-file", "-e", f"{sha}:{PACKAGE}")
    except GateInputError:
        raise GateInputError(f"commit {sha[:12]} has no {PACKAGE}/ package") from None


def reference_tree(root: Path, sha: str) -> Path:
    """The folder holding commit ``sha``'s chainbench/ package, extracted on first use."""
    target = Path(root) / CACHE_DIR / sha
    if (target / PACKAGE / "__init__.py").is_file():
        return target
    _require_package(root, sha)
    try:
        archive = subprocess.run(["git", "-C", str(root), "archive", "--format=tar", sha,
                                  PACKAGE], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        raise GateInputError(f"cannot extract commit {sha[:12]}: {err}") from None
    # extract beside the target and rename: a gate stopped half-way leaves no partial tree
    partial = target.with_name(f"{sha}.partial{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(partial, filter="data")
    try:
        partial.rename(target)
    except OSError:  # another gate run extracted it meanwhile
        shutil.rmtree(partial, ignore_errors=True)
    return target


def head_commit(root: Path = REPO_ROOT) -> tuple[str | None, bool | None]:
    """(HEAD's sha, whether the work tree differs from it), or (None, None) outside git."""
    try:
        sha = _git(root, "rev-parse", "HEAD")
        dirty = bool(_git(root, "status", "--porcelain", "--untracked-files=no"))
    except GateInputError:
        return None, None
    return sha, dirty
