"""The sandbox every input runs in: ``root/work`` (the current folder, holding results
folders, an experiment file and odd paths), ``root/home`` (HOME, with the machine-profile
cache seeded so nothing calibrates unless a case damages it) and ``root/io`` (the
command's stdout and stderr, left out of snapshots). The template is built once per session
— the tiny experiment run and an accuracy sweep made there by chainbench itself — and copied
for each input."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .values import LONG_DIRS

TESTS = Path(__file__).resolve().parents[1]
FIXTURES = TESTS / "fixtures"


@dataclass(frozen=True)
class Sandbox:
    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def io(self) -> Path:
        return self.root / "io"

    @property
    def profile_dir(self) -> Path:
        return self.home / ".cache" / "chainbench"

    def env(self) -> dict[str, str]:
        """What a command run here sees instead of this process's HOME and caches."""
        env = {k: x for k, x in os.environ.items() if k not in ("XDG_CACHE_HOME", "DISPLAY")}
        env.update(HOME=str(self.home), CHAINBENCH_PROFILE_DIR=str(self.profile_dir),
                   TMPDIR=str(self.root / "tmp"), MPLBACKEND="Agg", COLUMNS="100")
        return env

    def remove(self) -> None:
        if os.environ.get("CHAINBENCH_FUZZ_KEEP"):
            return
        for folder, dirs, _ in os.walk(self.root):  # a read-only folder made writable first
            for d in dirs:
                os.chmod(Path(folder) / d, 0o755)
        shutil.rmtree(self.root, ignore_errors=True)


def skeleton(root: Path) -> Sandbox:
    """An empty sandbox with the machine profile cached and the odd paths in place."""
    from machine_helpers import synthetic_profile

    from chainbench.machine import profile as machine_profile

    box = Sandbox(root)
    for folder in (box.work, box.io, box.profile_dir, root / "tmp"):
        folder.mkdir(parents=True)
    profile = synthetic_profile()
    name = machine_profile.cache_path(profile.key).name
    (box.profile_dir / name).write_text(json.dumps(profile.to_dict(), indent=1) + "\n")
    (box.work / "afile").write_text("not a folder\n")
    (box.work / "empty").mkdir()
    (box.work / "notresults").mkdir()
    (box.work / "notresults" / "notes.txt").write_text("no results here\n")
    (box.work / "ro").mkdir()
    return box


def build_template(base: Path) -> Sandbox:
    """The template sandbox in ``base``: fixtures copied, the tiny experiment run into
    results/tiny and an accuracy sweep into results/accuracy (by chainbench itself, so each
    is what this version writes), and every engine's kernels compiled or loaded from Numba's
    cache once (a throwaway compare), so no case pays for a compile."""
    from experiment_helpers import TINY

    from .execute import run_forked

    box = skeleton(base / "template")
    (box.work / "tiny.toml").write_text(TINY)
    for name in ("quick", "beyond"):
        shutil.copytree(FIXTURES / name, box.work / name)
    for name in LONG_DIRS:
        shutil.copytree(FIXTURES / "quick", box.work / name)
    for argv in (["run", "tiny.toml", "--out", "results/tiny", "--quiet"],
                 ["accuracy", "dense:4 tanh dense:1", "--n", "4", "--out", "results/accuracy"],
                 ["compare", "dense:4 tanh conv:3 grouped:4:2 softmax dense:2", "--n", "4"]):
        done = run_forked(argv, box, limit_s=900)
        if done.rc != 0:
            raise RuntimeError(f"fuzz template: chainbench {' '.join(argv)} exited {done.rc}:\n"
                               f"{done.stdout}\n{done.stderr}")
    os.chmod(box.work / "ro", 0o555)
    return box


def copy(template: Sandbox, base: Path) -> Sandbox:
    """A fresh sandbox in ``base``, a copy of ``template``."""
    root = Path(tempfile.mkdtemp(prefix="case-", dir=base))
    os.rmdir(root)
    shutil.copytree(template.root, root, symlinks=True)
    return Sandbox(root)


def snapshot(box: Sandbox) -> dict[str, str]:
    """Every path under the sandbox (but io/) -> 'dir', 'link:TARGET' or the file's hash
    (and, for a points.csv, ':' and its line count)."""
    seen = {}
    for folder, dirs, files in os.walk(box.root):
        here = Path(folder)
        rel = here.relative_to(box.root)
        if rel.parts[:1] == ("io",):
            dirs[:] = []
            continue
        for d in dirs:
            seen[str(rel / d)] = "dir"
        for f in files:
            path = here / f
            if path.is_symlink():
                seen[str(rel / f)] = f"link:{os.readlink(path)}"
            else:
                try:
                    data = path.read_bytes()
                    lines = data.count(b"\n")
                    seen[str(rel / f)] = hashlib.sha1(data).hexdigest() + (
                        f":{lines}" if f == "points.csv" else "")
                except OSError as err:
                    seen[str(rel / f)] = f"unreadable:{err.errno}"
    return seen


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Paths added, removed or changed, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
