"""The reference server's rate limits: a window per key over every endpoint (opt-in, ReferenceConfig.key_limit)
and a window per key and model for the models that have a limit (chat completions and /responses share it)."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from conformance.reference.errors import ApiError


class KeyWindow:
    """A sliding window over every request of a key; its state goes out in x-ratelimit-* headers."""

    def __init__(self, count: int, window: float, style: str) -> None:
        self._count, self._window, self._style = count, window, style
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def admit(self, key: str) -> dict[str, str]:
        """The headers of an admitted request; over the limit, a 429."""
        now = time.monotonic()
        seen = self._seen[key]
        while seen and now - seen[0] >= self._window:
            seen.popleft()
        if len(seen) >= self._count:
            wait = max(self._window - (now - seen[0]), 0.0)
            headers = self._headers(0, wait)
            if self._style == "openai":
                headers["retry-after"] = str(max(math.ceil(wait), 1))
            raise ApiError(
                429,
                f"Rate limit reached: {self._count} requests per {self._window:g} s.",
                type="requests",
                code="rate_limit_exceeded",
                headers=headers,
            )
        seen.append(now)
        return self._headers(self._count - len(seen), self._window - (now - seen[0]))

    def _headers(self, remaining: int, reset: float) -> dict[str, str]:
        if self._style == "silent":
            return {}
        headers = {"x-ratelimit-limit-requests": str(self._count), "x-ratelimit-remaining-requests": str(remaining)}
        if self._style == "openai":
            headers["x-ratelimit-reset-requests"] = f"{reset:.3f}s"
        return headers


class RateLimiter:
    """A sliding window per (key, model, faults) for the models that have a limit; over it, a 429
    with Retry-After and the x-ratelimit-* headers."""

    def __init__(self, limits: dict[str, tuple[int, float]]) -> None:
        self._limits = limits
        self._seen: dict[tuple[str, str, frozenset[str]], deque[float]] = defaultdict(deque)

    def admit(self, key: str, model: str, active: frozenset[str]) -> dict[str, str]:
        """The x-ratelimit-* headers of an admitted request (none for a model without a limit, or under the
        no-rate-limit-headers fault); over the limit, a 429."""
        if model not in self._limits:
            return {}
        count, window = self._limits[model]
        now = time.monotonic()
        seen = self._seen[(key, model, active)]
        recovers = "rate-limit-never-recovers" not in active
        while recovers and seen and now - seen[0] >= window:
            seen.popleft()
        if len(seen) >= count:
            wait = max(window - (now - seen[0]), 0.0) if recovers else window
            raise ApiError(
                429,
                f"Rate limit reached for {model}: {count} requests per {window:g} s. Try again in {wait:.1f} s.",
                type="requests",
                code="rate_limit_exceeded",
                headers={
                    "retry-after": str(max(math.ceil(wait), 1)),
                    "x-ratelimit-limit-requests": str(count),
                    "x-ratelimit-remaining-requests": "0",
                    "x-ratelimit-reset-requests": f"{wait:.1f}s",
                },
            )
        seen.append(now)
        if "no-rate-limit-headers" in active:
            return {}
        return {
            "x-ratelimit-limit-requests": str(count),
            "x-ratelimit-remaining-requests": str(count - len(seen)),
            "x-ratelimit-reset-requests": f"{max(window - (now - seen[0]), 0.0):.3f}s",
        }
