"""Standard output and error that outlive their reader: once a pipe's reader has gone
(``chainbench run … | head -1``), what a command still prints goes to /dev/null, so the
command finishes its work (rows are written as points finish) and returns its own exit
status, rather than stopping at the first print with a status that is not its own."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager


class _Outliving:
    """A text stream whose writes and flushes survive a broken pipe: the first one points
    the stream's file descriptor at /dev/null, and everything after (the failed write's
    buffer included) lands there."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._discard()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._discard()
            self._stream.flush()

    def _discard(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str):  # fileno, isatty, encoding, …: the stream's own
        return getattr(self._stream, name)


@contextmanager
def reader_may_leave():
    """Within: sys.stdout and sys.stderr outlive their readers; on leaving, both are
    flushed (into /dev/null if the reader left) and restored."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = (_Outliving(s) if s is not None and _has_fd(s) else s
                              for s in saved)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, _Outliving):
                stream.flush()
        sys.stdout, sys.stderr = saved


def _has_fd(stream) -> bool:
    """Whether ``stream`` writes to a file descriptor (pytest's capture does not)."""
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    return True
