"""What a fault of the catalogue says about itself: what it does, where it was seen, the rows that
must fail (and the only ones allowed to), and the phrase the failure must contain. ``gap`` marks a
fault the suite does not catch yet, with the reason, so the detection score stays honest; a
``benign`` fault is one the suite must *not* fail at MUST level (a difference the SDKs tolerate)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    id: str
    what: str
    # the rows that must report a failure (and the only ones allowed to)
    rows: tuple[str, ...]
    # a phrase the failure of one of those rows must contain
    expect: str
    source: str
    # the level of the failure that catches it
    level: str = "MUST"
    # why the suite does not catch it yet; None when it does
    gap: str | None = None
    # the official SDKs tolerate it: caught means no MUST failure that the clean server lacks
    benign: bool = False
