"""Rates over trials: what a model check measures, its interval, its verdict, and when a drop matters.

A model check sends its probe N times and counts the trials that did what it claims: k of N. The
verdict compares that rate with the threshold the check declares, honestly for small N:

- ``pass`` when k/N is at or above the threshold;
- ``fail`` only when so few successes would be beyond chance if the true rate were the threshold
  (an exact test at the *decision* level, below);
- ``inconclusive`` in between (too few trials to say).

A run judges many model checks, and a CI user sees the sum of their chances to fail by chance, so a
failure is controlled family-wise, not per check (Bonferroni): a run judges at most ``FAMILY`` model
checks, each deciding at most ``LOOKS`` times (its first trials, then, when they leave it undecided,
up to ``limits.max_trials``: ``settled``), so each decision is an exact one-sided binomial test at
``FAMILY_ALPHA / (FAMILY * LOOKS)`` (0.02 %): fail when k or fewer successes in N trials would happen
that rarely if the true rate were the threshold. The chance that a run fails any model check whose
true rate meets its threshold is then at most ``FAMILY_ALPHA`` (1 %), whatever the number of checks.
The 95 % Wilson interval is what a report shows.

The gate (conformance.baseline) counts a model check as regressed only when its verdict goes from
pass to fail, or when its new interval lies wholly below its old one, both at the decision
confidence; a change to or from inconclusive is listed, never a regression by itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# the two-sided 95 % normal quantile
Z95 = 1.959963984540054
CONFIDENCE = 0.95
# the chance that an unchanged run fails any model check by chance, at most; the most model checks a run
# judges (tests.test_rates holds the catalogue to it) and the most times each decides
FAMILY_ALPHA = 0.01
FAMILY = 24
LOOKS = 2
# the one-sided error of one decision
DECISION_ALPHA = FAMILY_ALPHA / (FAMILY * LOOKS)


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``successes`` out of ``trials`` (at 95 % by default)."""
    if trials < 1:
        raise ValueError("a rate needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    p = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    centre = (p + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denominator
    # exact at the edges, whatever the rounding: 0/N starts at 0 and N/N ends at 1
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return low, high


def _at_most(successes: int, trials: int, p: float) -> float:
    """P(X <= successes) for X ~ Binomial(trials, p), exactly."""
    return math.fsum(math.comb(trials, i) * p**i * (1 - p) ** (trials - i) for i in range(successes + 1))


def exact_interval(successes: int, trials: int, alpha: float = DECISION_ALPHA) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval, each end one-sided at ``alpha``: unlike the Wilson interval,
    never too narrow, even at a handful of trials (a decision's error is at most ``alpha``)."""
    wilson(successes, trials)  # validates the counts

    def bisect(inside: Callable[[float], bool]) -> float:
        low, high = 0.0, 1.0  # inside(low) holds, inside(high) does not
        for _ in range(60):
            middle = (low + high) / 2
            low, high = (middle, high) if inside(middle) else (low, middle)
        return low

    upper = 1.0 if successes == trials else bisect(lambda p: _at_most(successes, trials, p) > alpha)
    lower = 0.0 if successes == 0 else 1 - bisect(lambda q: 1 - _at_most(successes - 1, trials, 1 - q) > alpha)
    return lower, upper


@dataclass(frozen=True)
class Rate:
    """k of N trials did what the check claims, against the check's threshold."""

    successes: int
    trials: int
    threshold: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"a threshold is a share between 0 and 1, not {self.threshold}")
        wilson(self.successes, self.trials)  # validates the counts

    @property
    def value(self) -> float:
        return self.successes / self.trials

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.successes, self.trials)

    @property
    def decision_interval(self) -> tuple[float, float]:
        """The interval a decision reads: exact, each end at the family-wise one-sided level."""
        return exact_interval(self.successes, self.trials)

    @property
    def verdict(self) -> str:
        """ "pass", "fail" or "inconclusive"; fail is the exact one-sided binomial test at DECISION_ALPHA."""
        if self.value >= self.threshold:
            return "pass"
        if _at_most(self.successes, self.trials, self.threshold) <= DECISION_ALPHA:
            return "fail"
        return "inconclusive"

    @property
    def settled(self) -> bool:
        """More trials would not change the verdict's meaning: the whole 95 % interval meets the
        threshold, or the verdict is fail. Otherwise the interval straddles the threshold (even at
        k = N: 5 of 5 reaches down to 57 %), and a run with trials to spare draws more."""
        return self.interval[0] >= self.threshold or self.verdict == "fail"

    def describe(self) -> str:
        low, high = self.interval
        return (
            f"{self.successes} of {self.trials} trials ({self.value:.0%}; 95 % interval {low:.0%}–{high:.0%}), "
            f"threshold {self.threshold:.0%}"
        )

    def as_dict(self) -> dict[str, Any]:
        low, high = self.interval
        return {
            "successes": self.successes,
            "trials": self.trials,
            "rate": round(self.value, 4),
            "interval": [round(low, 4), round(high, 4)],
            "confidence": CONFIDENCE,
            "threshold": self.threshold,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rate:
        return cls(int(data["successes"]), int(data["trials"]), float(data["threshold"]))


def dropped(before: Rate, after: Rate) -> bool:
    """A drop that is not chance: the new interval lies wholly below the old one, both at the decision level."""
    return after.decision_interval[1] < before.decision_interval[0]


__all__ = [
    "CONFIDENCE",
    "DECISION_ALPHA",
    "FAMILY",
    "FAMILY_ALPHA",
    "LOOKS",
    "Rate",
    "dropped",
    "exact_interval",
    "wilson",
]
