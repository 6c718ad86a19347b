"""One owner at a time for a results folder: a lock file ``run.lock`` created with
O_CREAT|O_EXCL (so exactly one process creates it) holding who owns the folder — pid,
hostname, boot id, process start time, when, and a random token.

A lock whose owner is gone is *stale* and may be taken over: its pid is dead on this host,
or alive but a different process (pid reused: another start time, or another boot). A
lock from another host cannot be checked from here and is never taken over; the message
says which file to delete once that run is known to be gone. A lock written by this very
process is stale once the object that took it is gone (released, collected); while it
lives, the folder is held, in this process as in any other. Takeover renames the stale
file aside first, so of two processes that find the same stale lock only one gets it.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import sys
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from ...provenance import now

LOCK = "run.lock"
#: A lock file that cannot be read as JSON (cut while being written) counts as stale once it
#: is older than this; younger, it may be a lock being written right now.
UNREADABLE_GRACE_S = 60.0

#: Tokens of the locks this process holds now (FolderLock objects not yet released).
_LIVE: set[str] = set()


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None


def _process_start(pid: int) -> str | None:
    """Clock ticks after boot at which process ``pid`` started (/proc/PID/stat field 22)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, as its file says (fields missing from an unreadable file are None)."""

    pid: int | None
    hostname: str | None
    started_at: str | None
    token: str | None
    boot_id: str | None = None
    process_start: str | None = None
    argv: str | None = None

    def describe(self) -> str:
        who = f"pid {self.pid} on host {self.hostname}" if self.pid else "an unknown process"
        since = f" since {self.started_at}" if self.started_at else ""
        cmd = f" ({self.argv})" if self.argv else ""
        return who + since + cmd

    def stale_reason(self, age_s: float) -> str | None:
        """Why the owner is known to be gone, or None when it may still be running."""
        if self.pid is None:
            if age_s > UNREADABLE_GRACE_S:
                return f"its lock file is unreadable and {age_s:.0f} s old"
            return None
        if self.hostname != platform.node():
            return None  # another host: cannot tell from here
        if self.pid == os.getpid():
            if self.token in _LIVE:
                return None  # held by a live owner in this very process
            return "it was left by an earlier run in this same process"
        boot = _boot_id()
        if self.boot_id and boot and self.boot_id != boot:
            return f"pid {self.pid} ran before this host last booted"
        if not _pid_alive(self.pid):
            return f"pid {self.pid} is no longer running on this host"
        start = _process_start(self.pid)
        if self.process_start and start and start != self.process_start:
            return f"pid {self.pid} is now another process"
        return None


def read_holder(path: Path) -> Holder | None:
    """The holder a lock file names; None if there is no lock file."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError
        pid = data.get("pid")
        return Holder(pid if isinstance(pid, int) else None, data.get("hostname"),
                      data.get("started_at"), data.get("token"), data.get("boot_id"),
                      data.get("process_start"), data.get("argv"))
    except ValueError:
        return Holder(None, None, None, None)


class Held(Exception):
    """The folder's lock is held by a process that may still be running."""

    def __init__(self, path: Path, holder: Holder):
        super().__init__(f"{path} is held by {holder.describe()}")
        self.path, self.holder = path, holder


class FolderLock:
    """The lock of one folder. ``acquire`` creates ``run.lock`` or raises ``Held``;
    ``release`` removes it if it is still ours. Released at the latest when this object is
    garbage collected or the interpreter exits (not when the process is killed: then the
    next owner finds it stale)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK
        self.token: str | None = None
        self.note: str | None = None  # set when acquire took over a stale lock
        self._finalizer = None

    @property
    def held(self) -> bool:
        return self.token is not None

    def try_create(self) -> bool:
        """Create the lock file if there is none (True); False if one exists. Other
        OSErrors (a read-only folder) propagate."""
        token = secrets.token_hex(8)
        info = {"pid": os.getpid(), "hostname": platform.node(), "started_at": now(),
                "boot_id": _boot_id(), "process_start": _process_start(os.getpid()),
                "argv": " ".join(sys.argv)[:300], "token": token}
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, (json.dumps(info) + "\n").encode())
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            _unlink(self.path)
            raise
        os.close(fd)
        self.token = token
        _LIVE.add(token)
        self._finalizer = weakref.finalize(self, _release_file, self.path, token, os.getpid())
        return True

    def acquire(self, take_over_stale: bool = True) -> None:
        """Own the folder, taking over a stale lock (``self.note`` then says whose and why);
        ``Held`` if a live process (or one on another host) holds it."""
        for attempt in range(20):
            if self.try_create():
                return
            holder = read_holder(self.path)
            if holder is None:
                continue  # released meanwhile: try again
            try:
                age = time.time() - self.path.stat().st_mtime
            except FileNotFoundError:
                continue
            if holder.pid is None and age < 1.0 and attempt < 19:
                time.sleep(0.05)  # created, its owner still writing who it is
                continue
            reason = holder.stale_reason(age) if take_over_stale else None
            if reason is None:
                raise Held(self.path, holder)
            if self._remove_stale(holder) and self.try_create():
                self.note = (f"took over the lock of {holder.describe()}: {reason}")
                return
        holder = read_holder(self.path) or Holder(None, None, None, None)
        raise Held(self.path, holder)

    def _remove_stale(self, holder: Holder) -> bool:
        """Move the stale lock aside and delete it; False if another process got there first
        (the file moved aside is then not the one inspected, and is put back)."""
        aside = self.path.with_name(f"{LOCK}.stale-{secrets.token_hex(4)}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return False
        moved = read_holder(aside)
        if moved is not None and moved.token != holder.token:  # a fresh lock: give it back
            try:
                os.link(aside, self.path)
            except OSError:
                pass
            _unlink(aside)
            return False
        _unlink(aside)
        return True

    def release(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # runs _release_file once
        self.token = None


def _release_file(path: Path, token: str, pid: int) -> None:
    _LIVE.discard(token)
    if os.getpid() != pid:  # a forked child exiting: the lock is its parent's
        return
    holder = read_holder(path)
    if holder is not None and holder.token == token:
        _unlink(path)


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
