"""Drawing a fixed handful of values from a hypothesis strategy, the same on every run.

The suite uses hypothesis to invent request bodies and JSON Schemas, not to search for a failing
input, so it needs the first few distinct values of a derandomized generation and nothing more.
Generation stops as soon as it has them: a run pays for the values it uses, not for an
``max_examples`` search.

A replay generates nothing: generated requests are matched to their recordings by route, and their
checks judge the request that was recorded, so ``use_placeholders`` makes every draw return its
placeholder, and hypothesis is not even imported.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

T = TypeVar("T")

_placeholders = False


def use_placeholders(enabled: bool) -> None:
    """Make every draw return its placeholder (for replays)."""
    global _placeholders
    _placeholders = enabled


def placeholders() -> bool:
    return _placeholders


class _Enough(Exception):
    """Raised inside the generation to stop it once enough values are found."""


def first_distinct(
    make_strategy: Callable[[], SearchStrategy[T]],
    count: int,
    *,
    placeholder: T,
    accept: Callable[[T], bool] = lambda _: True,
    budget: int = 200,
) -> list[T]:
    """The first ``count`` distinct values (as JSON) that the strategy generates and ``accept`` takes,
    trying at most ``budget`` examples (fewer values if the budget runs out first); ``count``
    placeholders when placeholders are on."""
    if _placeholders:
        return [placeholder] * count
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings

    found: list[T] = []
    seen: set[str] = set()

    @settings(
        derandomize=True,
        database=None,
        max_examples=budget,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
        print_blob=False,
    )
    @given(make_strategy())
    def collect(value: Any) -> None:
        if len(found) < count and accept(value):
            key = json.dumps(value, sort_keys=True)
            if key not in seen:
                seen.add(key)
                found.append(value)
        if len(found) >= count:
            raise _Enough

    with contextlib.suppress(_Enough):
        collect()
    return found[:count]
