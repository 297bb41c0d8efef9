"""Rates over trials: what a model check measures, its interval, its verdict, and when a drop matters.

A model check sends its probe N times and counts the trials that did what it claims: k of N. The
verdict compares that rate with the threshold the check declares, honestly for small N:

- ``pass`` when k/N is at or above the threshold;
- ``fail`` when the whole 95 % Wilson score interval lies below it (the shortfall is not chance);
- ``inconclusive`` in between (too few trials to say).

The gate treats a rate as having regressed only when its new interval lies wholly below its old
one, or when its verdict goes from pass to fail. A two-proportion z-test at 95 % is the textbook
alternative, but at five trials it is too quick for a gate run on a dozen model checks: 2 of 5
against a baseline of 5 of 5 is "significant" (z = 2.07), and a check whose true rate is 0.81
falls to 2 of 5 or fewer in one run of twenty. Two disjoint 95 % intervals are a far stricter test,
which is what a gate that must not fail by chance needs; a real drop still shows, as pass -> fail.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

# the two-sided 95 % normal quantile
Z95 = 1.959963984540054
CONFIDENCE = 0.95


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
    def verdict(self) -> str:
        """ "pass", "fail" or "inconclusive"."""
        if self.value >= self.threshold:
            return "pass"
        if self.interval[1] < self.threshold:
            return "fail"
        return "inconclusive"

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
    """A drop that is not chance: the new interval lies wholly below the old one."""
    return after.interval[1] < before.interval[0]


__all__ = ["CONFIDENCE", "Rate", "dropped", "wilson"]
