"""When the environment, not the target's conformance, decided a live run.

Some outcomes say nothing about conformance: a target that cannot be reached, one that answers
nothing at all (every request hangs or is reset), a key refused on every request, a base URL that
points beside the API (every request 404). Each of these makes the run exit 3 with one line saying
why, instead of dozens of MUST failures that all mean the same thing. Each function reads the
exchanges the run made and returns that line, or None.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from conformance.exchange import Exchange

# transport failures that leave no usable answer
UNANSWERED = frozenset({"connect", "timeout", "protocol", "deadline"})


def unanswered(exchange: Exchange) -> bool:
    return exchange.failure is not None and exchange.failure.kind in UNANSWERED


def preflight(first: Exchange, second: Exchange | None) -> str | None:
    """Whether the run can go on after its first requests: an unreachable target stops it at once;
    one that left the first two requests unanswered (hung, reset, or too slow for the deadline)
    stops it too, since every other request would fare the same."""
    if first.failure is not None and first.failure.kind == "connect":
        return f"the target is unreachable: {first.failure.message}"
    if not unanswered(first) or second is None or not unanswered(second):
        return None
    assert first.failure is not None
    assert second.failure is not None
    return (
        f"the target answered neither of the first two requests: {first.describe()}: {first.failure.message}; "
        f"{second.describe()}: {second.failure.message}"
    )


def key_rejected_everywhere(evidence: Iterable[dict], variable: str | None) -> str | None:
    """When every request that carried the key was refused, the key is the problem, not the target."""
    statuses = [item["response"]["status"] if item["response"] else None for item in evidence if _keyed(item)]
    refused = [status for status in statuses if status in (401, 403)]
    succeeded = [status for status in statuses if status is not None and 200 <= status < 300]
    # nothing succeeded and (nearly) everything was refused: paths that answer 404 before checking
    # keys, such as an unknown route, do not count against the verdict
    if refused and not succeeded and len(refused) >= 0.8 * len(statuses):
        return (
            f"the target rejected the API key on {len(refused)} of the {len(statuses)} requests that used it "
            f"(HTTP {refused[0]}) and accepted none; check {variable or 'the key variable'}"
        )
    return None


def nothing_answered(evidence: Iterable[dict]) -> str | None:
    """When no request got a complete answer, the run judged the network, not the target."""
    items = list(evidence)
    failed = [item for item in items if item["failure"] and item["failure"]["kind"] in UNANSWERED]
    if not items or len(failed) < len(items):
        return None
    kinds = sorted({item["failure"]["kind"] for item in failed})
    return (
        f"the target answered none of the {len(items)} requests completely ({', '.join(kinds)}; first: "
        f"{failed[0]['failure']['message']})"
    )


def not_found_everywhere(evidence: Iterable[dict], base_url: str | None) -> str | None:
    """When (nearly) every request is answered 404 and none succeeds, the base URL is wrong."""
    statuses = [item["response"]["status"] for item in evidence if _keyed(item) and item["response"]]
    missing = [status for status in statuses if status == 404]
    if not statuses or any(200 <= status < 300 for status in statuses) or len(missing) < 0.8 * len(statuses):
        return None
    path = urlsplit(base_url or "").path.rstrip("/")
    hint = (
        " OpenAI-compatible APIs are usually served under /v1 (the Llama API under /compat/v1), "
        f"and this base URL's path is {path or '/'!r}"
        if not path.endswith("/v1")
        else ""
    )
    return (
        f"the target answered 404 to {len(missing)} of the {len(statuses)} requests and accepted none: "
        f"is the base URL right?{hint}"
    )


def _keyed(item: dict) -> bool:
    return item["request"]["auth"] == "key"
