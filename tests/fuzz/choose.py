"""One way for the generators to make choices, driven either by hypothesis (the tests) or by
a seeded ``random.Random`` (the census, which collects every failure instead of stopping at
the first): a generator takes a ``Chooser`` and never knows which."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TypeVar

from hypothesis import strategies as st

T = TypeVar("T")


class Chooser:
    """The three choices a generator makes; subclasses say who makes them."""

    def pick(self, options: Sequence[T]) -> T:
        raise NotImplementedError

    def integer(self, lo: int, hi: int) -> int:
        raise NotImplementedError

    def chance(self, p: float) -> bool:
        """True with probability about ``p`` (hypothesis weighs it its own way)."""
        raise NotImplementedError

    def some(self, options: Sequence[T], lo: int, hi: int) -> list[T]:
        """``lo``…``hi`` picks from ``options`` (repeats allowed)."""
        return [self.pick(options) for _ in range(self.integer(lo, hi))]

    def pick_call(self, makers: Sequence[Callable[[Chooser], T]]) -> T:
        """Pick a generator and call it with this chooser."""
        return self.pick(makers)(self)


class RandomChooser(Chooser):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def pick(self, options):
        return options[self.rng.randrange(len(options))]

    def integer(self, lo, hi):
        return self.rng.randint(lo, hi)

    def chance(self, p):
        return self.rng.random() < p


class HypothesisChooser(Chooser):
    """Choices drawn inside ``st.composite``, so hypothesis records (and can replay) them.

    Hypothesis tries the simplest input first (every choice its first option); each choice
    is turned by an offset drawn from ``salt``, so that first input differs from seed to
    seed (the fresh-seed tests run only a few)."""

    def __init__(self, draw, salt: int = 0):
        self.draw = draw
        self.turn = random.Random(salt)

    def pick(self, options):
        options = list(options)
        return options[(self.draw(st.integers(0, len(options) - 1))
                        + self.turn.randrange(len(options))) % len(options)]

    def integer(self, lo, hi):
        span = hi - lo + 1
        return lo + (self.draw(st.integers(0, span - 1)) + self.turn.randrange(span)) % span

    def chance(self, p):
        return (self.draw(st.integers(0, 999)) + self.turn.randrange(1000)) % 1000 < p * 1000


def strategy(generator: Callable[[Chooser], T], salt: int = 0) -> st.SearchStrategy[T]:
    """A hypothesis strategy drawing what ``generator`` makes."""
    return st.composite(lambda draw: generator(HypothesisChooser(draw, salt)))()
