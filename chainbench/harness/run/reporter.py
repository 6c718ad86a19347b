"""What a run reports to as it goes (``loop.sweep``'s ``progress``); light, so that a
display (``cli.progress``) can subclass it without loading the engines."""

from __future__ import annotations

from collections.abc import Callable


class Reporter:
    """What a run reports to as it goes: called ``(done, total, point, row)`` after each
    point (``row`` None: done in an earlier run), and ``started(point)`` as a point is sent
    to be measured, so a display can show the point running rather than the last one done.
    A plain callable passed as ``progress`` is taken as the first alone."""

    def __init__(self, after: Callable | None = None):
        self.after = after

    def started(self, point) -> None:
        """A point was sent to be measured."""

    def __call__(self, done: int, total: int, point, row) -> None:
        if self.after is not None:
            self.after(done, total, point, row)
