"""Measuring points: one point into a row (``point``; ``timing``, ``memory``, ``threads``),
the loop both executors share (``loop``; ``guards``, ``reporter``, ``runs``) and its
executor in this process (``sweep``)."""
