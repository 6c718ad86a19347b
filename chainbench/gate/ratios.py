"""The gate's statistics on paired ratios (code under test / reference, one per round): the
median with a distribution-free confidence interval, a one-sided Wilcoxon signed-rank test on
the log ratios, and the verdict they give together. Pure functions, no timing.

    c = compare([1.31, 1.28, 1.33, ...], margin=0.15)
    c.verdict                          # 'REGRESSION': median > 1.15 and p < 0.01
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

#: A case is slower (or faster) only when the one-sided test gives p below this.
ALPHA = 0.01
#: Confidence of the interval shown for the median ratio.
CONFIDENCE = 0.95

VERDICTS = ("ok", "REGRESSION", "improved", "noisy")


@dataclass(frozen=True)
class Comparison:
    """Median ratio with its ``confidence`` interval, one-sided p-values (head slower,
    head faster) and the verdict: 'REGRESSION' (median > 1 + margin and p_slower < alpha),
    'improved' (median < 1 / (1 + margin) and p_faster < alpha), 'noisy' (beyond the
    margin either way without significance), else 'ok'."""

    ratio: float
    low: float
    high: float
    p_slower: float
    p_faster: float
    rounds: int
    margin: float
    verdict: str

    def to_dict(self) -> dict:
        return asdict(self)


def median_ci(values, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Order-statistic interval for the median: [x(k), x(r−k+1)] with the largest k for
    which Binomial(r, ½) puts at most (1 − confidence)/2 below k; it holds for any
    distribution. With too few values for that confidence it is the whole range."""
    from scipy.stats import binom

    x = np.sort(np.asarray(values, dtype=float))
    r = x.size
    if r == 0:
        return math.nan, math.nan
    tail = (1.0 - confidence) / 2.0
    k = 0  # 1-based rank of the lower end; 0: not even the extremes reach the confidence
    while k + 1 <= r // 2 and binom.cdf(k, r, 0.5) <= tail:
        k += 1
    if k == 0:
        return float(x[0]), float(x[-1])
    return float(x[k - 1]), float(x[r - k])


def signed_rank_p(log_ratios, alternative: str) -> float:
    """One-sided Wilcoxon signed-rank p-value that the log ratios sit above 0
    ('greater') or below it ('less'); 1 when every ratio is exactly 1."""
    from scipy.stats import wilcoxon

    d = np.asarray(log_ratios, dtype=float)
    if d.size == 0 or not np.any(d != 0):
        return 1.0
    return float(wilcoxon(d, alternative=alternative).pvalue)


def compare(ratios, margin: float, alpha: float = ALPHA) -> Comparison:
    """The verdict on one case from its paired ratios (head / reference)."""
    r = np.asarray(ratios, dtype=float)
    if r.size == 0 or not np.all(np.isfinite(r) & (r > 0)):
        raise ValueError(f"ratios must be positive and finite, got {r.tolist()}")
    median = float(np.median(r))
    low, high = median_ci(r)
    logs = np.log(r)
    p_slower, p_faster = signed_rank_p(logs, "greater"), signed_rank_p(logs, "less")
    if median > 1.0 + margin:
        verdict = "REGRESSION" if p_slower < alpha else "noisy"
    elif median < 1.0 / (1.0 + margin):
        verdict = "improved" if p_faster < alpha else "noisy"
    else:
        verdict = "ok"
    return Comparison(median, low, high, p_slower, p_faster, int(r.size), margin, verdict)


def min_rounds(alpha: float = ALPHA) -> int:
    """The fewest rounds at which the signed-rank test can reach ``alpha`` at all: with r
    rounds, all ratios above 1 give its smallest p, 2^−r."""
    return math.ceil(math.log2(1.0 / alpha))
