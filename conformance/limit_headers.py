"""What a target's rate-limit answers say: durations ("1s", "6m0s", "20ms"), when a 429 says to
retry (``retry-after-ms``, ``Retry-After`` in seconds or as an HTTP date, the reset headers, or only
its message: "try again in 20s"), and counts."""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Mapping

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?")


def parse_duration(value: str) -> float | None:
    """Seconds in a reset header: "1s", "6m0s", "20ms", "1h2m3.5s", or a plain number of seconds."""
    text = value.strip().lower()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    hours, minutes, seconds, millis = (float(group) if group else 0.0 for group in match.groups())
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def retry_after_seconds(headers: Mapping[str, str], now_epoch: float | None = None) -> float | None:
    """When a 429 says to retry: retry-after-ms, Retry-After (seconds or an HTTP date), else the
    later of the reset headers."""
    if "retry-after-ms" in headers:
        try:
            return max(float(headers["retry-after-ms"]) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is not None:
        try:
            return max(float(value), 0.0)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value).timestamp()
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(when - (time.time() if now_epoch is None else now_epoch), 0.0)
    names = ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens")
    resets = [parse_duration(headers[name]) for name in names if name in headers]
    known = [reset for reset in resets if reset is not None]
    return max(known) if known else None


def header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(float(headers[name]))
    except (KeyError, ValueError):
        return None


_TRY_AGAIN = re.compile(r"try again in (\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|seconds?)\b", re.IGNORECASE)


def with_retry_hint(body: bytes, headers: dict[str, str]) -> dict[str, str]:
    """A rate limit that says when to retry only in its message ("Please try again in 20s", as
    OpenAI's own 429s do) is waited out for that long."""
    if any(name in headers for name in ("retry-after", "retry-after-ms", "x-ratelimit-reset-requests")):
        return headers
    match = _TRY_AGAIN.search(body[:4096].decode("utf-8", errors="replace"))
    if match is None:
        return headers
    seconds = float(match.group(1)) / (1000 if match.group(2).lower().startswith("m") else 1)
    return {**headers, "retry-after": f"{seconds:g}"}
