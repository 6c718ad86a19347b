"""The census: draw N inputs from the fuzz generators with a seeded ``random.Random`` and
run every one, collecting every failure instead of stopping at the first (as a hypothesis
test does), then print the count by kind and each failing input.

    python tests/fuzz/census.py [--inputs 200] [--seed 1] [--out census.txt] [--only I ...]

Input I of seed S is drawn from ``random.Random(f"S/I")`` alone, so ``--seed S --only I``
replays it."""

from __future__ import annotations

import argparse
import collections
import random
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS), str(TESTS.parent)]

from fuzz.choose import RandomChooser  # noqa: E402
from fuzz.draw_mix import MIX  # noqa: E402
from fuzz.exercise import describe, exercise  # noqa: E402
from fuzz.sandbox import build_template  # noqa: E402


def draw(seed: int, index: int):
    """(case, piped) of input ``index`` of ``seed``."""
    rng = random.Random(f"{seed}/{index}")
    generator, _, piped = rng.choices(MIX, weights=[w for _, w, _ in MIX])[0]
    return generator(RandomChooser(rng)), piped


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--inputs", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, help="write the report here too")
    p.add_argument("--only", type=int, nargs="*", help="run these inputs alone")
    args = p.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="chainbench-census-"))
    template = build_template(base)
    kinds, failing, start = collections.Counter(), [], time.monotonic()
    indices = args.only if args.only else range(args.inputs)
    for i in indices:
        case, piped = draw(args.seed, i)
        t = time.monotonic()
        found = exercise(case, template, base, piped=piped)
        kinds.update({f.kind for f in found})
        print(f"[{i}] {time.monotonic() - t:5.1f} s {'FOUND' if found else 'ok   '} "
              f"{case.shell()[:150]}", file=sys.stderr, flush=True)
        if found:
            failing.append(f"#{i}{' (piped)' if piped else ''}\n{describe(case, found)}")
    lines = [f"census: seed {args.seed}, {len(indices)} inputs, {len(failing)} found something "
             f"({time.monotonic() - start:.0f} s)",
             "by kind (inputs): " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()), ""]
    report = "\n".join(lines + failing) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report)
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
