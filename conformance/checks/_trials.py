"""Counting trials for model checks: which did what the claim says, which did not, and which say nothing.

A model check judges each trial (or pair of trials) with a small function that returns ``None`` when
the trial did what the check claims, or a few words on what it did instead. A trial that cannot be
read for the claim (the answer was refused, cut, or unreadable: ``NotApplicable`` or ``Blocked``) is
left out of the count, since it says nothing about the model, and the result says how many were.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from conformance.verdicts import Blocked, Measured, NotApplicable

T = TypeVar("T")


def measure(what: str, trials: Iterable[tuple[str, T]], judge: Callable[[T], str | None]) -> Measured:
    """Count the labelled trials ``judge`` finds doing what the claim says. With none left to count,
    the first reason a trial was left out ends the check (blocked, or skipped)."""
    successes, misses, left_out = 0, [], []
    first_out: Exception | None = None
    for label, trial in trials:
        try:
            miss = judge(trial)
        except (NotApplicable, Blocked) as exc:
            first_out = first_out or exc
            left_out.append(f"{label}: {exc}")
            continue
        if miss is None:
            successes += 1
        else:
            misses.append(f"{label} {miss}")
    if not successes and not misses and first_out is not None:
        raise first_out
    note = ""
    if left_out:
        note = f"{len(left_out)} trial{'s' if len(left_out) > 1 else ''} left out, first {left_out[0]}"
    details = {"left_out": left_out} if left_out else {}
    return Measured(successes, successes + len(misses), what, misses, details, note)


def pair_label(number: int) -> str:
    return f"pair {number}"


__all__ = ["measure", "pair_label"]
