"""What the answers of the rate-limit bursts say: limited (a 429, another status whose words say so, a failed
response), or past the limit the target announced (``x-ratelimit-remaining-*: 0``) and something other than a
429. Pure functions over exchanges, read by the rate-limit checks that judge these answers and by every other row,
which leaves them alone (one defect, one verdict)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from conformance.exchange import Exchange, says_rate_limited
from conformance.limit_headers import header_int, parse_duration

RECOVERY = "errors-rate-limit/recovery"
CHAT_BURST = "errors-rate-limit/burst/"
RESPONSES_BURST = "responses-errors/burst/"
# how long an announced "nothing remains" holds when the target names no reset: short, so that only a
# request sent straight after it counts as past the limit
UNNAMED_RESET = 1.0


def failed_for_the_rate(exchange: Exchange) -> str | None:
    """The error of an HTTP 200 whose response failed because the rate was limited, or None."""
    response = exchange.response
    body = exchange.json_body if response is not None and response.status == 200 else None
    if body is None or not body.ok or not isinstance(body.value, dict) or body.value.get("status") != "failed":
        return None
    error = body.value.get("error")
    if not isinstance(error, dict):
        return None
    code, message = error.get("code"), error.get("message")
    # OpenAI's ResponseError code for it, or the words every other rate limit is recognised by
    if code == "rate_limit_exceeded" or (isinstance(message, str) and says_rate_limited(message)):
        return f"error.code {code!r}, message {message!r}"[:200]
    return None


def limited(exchange: Exchange, past: dict[str, str] | None = None) -> bool:
    """The answer says the rate was limited, in any way (a 429, another status, a failed response), or it
    came past the limit the target announced (``past``, from ``past_the_limit``)."""
    return (
        exchange.rate_limited() is not None
        or failed_for_the_rate(exchange) is not None
        or (past is not None and exchange.id in past)
    )


def _epoch(exchange: Exchange) -> float | None:
    try:
        return datetime.fromisoformat(exchange.started_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _exhausted_until(exchange: Exchange) -> tuple[str, float] | None:
    """When an answer announces that nothing remains (x-ratelimit-remaining-requests or -tokens 0): the
    header that says so, and until when (epoch seconds) a request sent after it is past the limit. The
    window is read short of doubt: the reset divided by the limit (a bucket refills one request in that
    time), or a second when no reset is named."""
    response, started = exchange.response, _epoch(exchange)
    if response is None or started is None:
        return None
    headers = {name.lower(): value for name, value in response.headers}
    for unit in ("requests", "tokens"):
        if header_int(headers, f"x-ratelimit-remaining-{unit}") != 0:
            continue
        named = headers.get(f"x-ratelimit-reset-{unit}")
        reset = parse_duration(named) if named is not None else None
        limit = header_int(headers, f"x-ratelimit-limit-{unit}") if unit == "requests" else None
        window = UNNAMED_RESET if reset is None else reset / max(limit or 1, 1)
        return f"x-ratelimit-remaining-{unit}: 0", started + exchange.elapsed + window
    return None


def instead_of_429(exchange: Exchange) -> str | None:
    """What came back instead of a 429 (a status, an error inside a 200, no answer at all); None for a 429, a
    success, or a failed response the Responses row judges (``failed_for_the_rate``)."""
    for attempt in (*exchange.earlier, exchange):
        response = attempt.response
        if response is None:
            failure = attempt.failure
            return f"no answer ({failure.message if failure else 'none'})"
        if response.status == 429:
            return None
        if not 200 <= response.status < 300:
            return f"HTTP {response.status}"
    body = exchange.json_body
    if not body.ok:
        return "a success whose body is not JSON"
    if isinstance(body.value, dict) and body.value.get("error") and failed_for_the_rate(exchange) is None:
        return "a success with an error object in the body"
    return None


def past_the_limit(burst: Sequence[Exchange]) -> dict[str, str]:
    """The answers of a burst (in the order sent) that came after the target announced that nothing remains
    and before that could have changed, and were not a 429: each exchange's id, with what it was instead."""
    found: dict[str, str] = {}
    exhausted: tuple[int, str, float] | None = None
    for number, exchange in enumerate(burst, 1):
        started = _epoch(exchange)
        if exhausted is not None and started is not None and started < exhausted[2]:
            signal = instead_of_429(exchange)
            if signal is not None:
                found[exchange.id] = f"{signal}, past the limit it announced ({exhausted[1]} on request {exhausted[0]})"
        announced = _exhausted_until(exchange)
        if announced is not None:
            exhausted = (number, *announced)
    return found


def limit_signals(exchanges: Iterable[Exchange]) -> dict[str, str]:
    """Every answer of the bursts that says the rate was limited, or came past the limit the target announced,
    by id, with how: the rate-limit checks' evidence, which no other row judges."""
    chat = sorted((e for e in exchanges if e.id.startswith(CHAT_BURST) or e.id == RECOVERY), key=_burst_order)
    responses = sorted((e for e in exchanges if e.id.startswith(RESPONSES_BURST)), key=_burst_order)
    found: dict[str, str] = {}
    for burst in (chat, responses):
        past = past_the_limit(burst)
        for exchange in burst:
            signal = exchange.rate_limited() or past.get(exchange.id)
            failed = failed_for_the_rate(exchange)
            if signal is not None or failed is not None:
                found[exchange.id] = signal or f"HTTP 200 with a failed response ({failed})"
    return found


def _burst_order(exchange: Exchange) -> tuple[bool, str]:
    return exchange.id == RECOVERY, exchange.id
