"""The parameter sweep both parameter rows share: which parameters it sends, its requests, and what each
answer says of its parameter.

The sweep sends every documented parameter that no other check judges (``conformance.surface.judged``),
one at a time on a baseline request, at realistic valid values and at one invalid value
(``conformance.surface.values``). Parameters the dialect lists as unsupported are left to
``errors-400.unsupported_parameters_are_ignored_or_refused``, which sends them already. Each answer is one
of: *accepted* (HTTP 200; its form is judged with every answer of the run), *refused* (a 4xx), *broken* (a
5xx, or no complete answer); a rate-limited answer is judged by the rate-limit row, no other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from conformance.checks._every import RATE_LIMITS, RESPONSE_FORM
from conformance.checks._expect import error_message, shown
from conformance.context import CheckContext
from conformance.dialects import Dialect
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.surface import judged
from conformance.surface.catalogue import load
from conformance.surface.values import Probe, probes
from conformance.verdicts import Blocked, CheckFailed, Documented, NotApplicable, Note

Baseline = Callable[[Target, str, str], Request | None]


@dataclass(frozen=True)
class Sent:
    probe: Probe
    exchange: Exchange
    # accepted, refused, broken, or limited (rate-limited: the rate-limit row's)
    outcome: str
    why: str


def swept(endpoint: str, dialect: Dialect) -> list[str]:
    """The parameters the sweep sends on ``endpoint``, in the catalogue's order."""
    members = load().members[endpoint, "request"]
    unsupported = set(dialect.unsupported_parameters) if endpoint == "POST /chat/completions" else set()
    return [
        name
        for name in judged.swept(endpoint)
        if "only_in_clients" not in members.get(name, {}) and name not in unsupported
    ]


def _pairs(
    prefix: str, endpoint: str, baseline: Baseline, target: Target, dialect: Dialect
) -> list[tuple[Probe, Request]]:
    pairs = []
    for name in swept(endpoint, dialect):
        for n, probe in enumerate(probes(endpoint, name)):
            exchange_id = f"{prefix}/{name}/{'valid' if probe.valid else 'invalid'}-{n}"
            purpose = f"the parameter {name} at {'a valid' if probe.valid else 'an invalid'} value ({probe.label})"
            request = baseline(target, exchange_id, purpose)
            if request is None:
                return []
            body = {**request.json, **probe.body}
            pairs.append((probe, Request(exchange_id, request.method, request.path, purpose, json=body)))
    return pairs


def plan(prefix: str, endpoint: str, baseline: Baseline, target: Target, dialect: Dialect) -> list[Request]:
    return [request for _, request in _pairs(prefix, endpoint, baseline, target, dialect)]


def sent(ctx: CheckContext, prefix: str, endpoint: str, baseline: Baseline, basic: tuple[str, str]) -> list[Sent]:
    """Every request of the sweep with its outcome; ``basic`` (a probe, and the check that owns its answer) is the
    plain request: unless it was answered, what a parameter changes cannot be told, and the sweep is blocked."""
    probe_id, owner = basic
    plain = ctx.exchange(probe_id)
    if plain.response is None or plain.failure is not None or plain.response.status != 200:
        status = "no answer" if plain.response is None else f"HTTP {plain.response.status}"
        raise Blocked(owner, f"the plain request {plain.describe()} was not answered ({status})")
    pairs = _pairs(prefix, endpoint, baseline, ctx.target, ctx.dialect)
    if not pairs:
        raise NotApplicable(f"nothing to sweep on {endpoint} (no model, or every parameter judged elsewhere)")
    made = ctx.fetch_many([request for _, request in pairs])
    return [_outcome(probe, exchange) for (probe, _), exchange in zip(pairs, made, strict=True)]


def _outcome(probe: Probe, exchange: Exchange) -> Sent:
    response = exchange.response
    if response is None or exchange.failure is not None:
        failure = exchange.failure.message if exchange.failure is not None else "no response"
        return Sent(probe, exchange, "broken", f"no complete answer ({failure})")
    limited = exchange.rate_limited() if response.status != 200 else None
    if limited is not None:
        return Sent(probe, exchange, "limited", f"rate limited ({limited})")
    if response.status >= 500 or response.status < 200 or 300 <= response.status < 400:
        return Sent(probe, exchange, "broken", f"HTTP {response.status}: {shown(response.body, 120)}")
    if response.status == 200:  # its form is judged with every answer of the run, by the form checks
        return Sent(probe, exchange, "accepted", "answered")
    return Sent(probe, exchange, "refused", f"HTTP {response.status}: {shown(error_message(exchange) or '', 120)}")


def _got(item: Sent) -> str:
    return "accepted (HTTP 200)" if item.outcome == "accepted" else item.why


def _where(item: Sent) -> str:
    return f"{item.probe.parameter} = {item.probe.label} ({item.exchange.id})"


def _judgeable(items: list[Sent], valid: bool, never_break: str) -> list[Sent]:
    """The answers a claim about ``valid`` values can read: not broken (``never_break`` judges those), not
    rate limited (the rate-limit row's); none at all blocks the claim on whichever owns the first."""
    mine = [item for item in items if item.probe.valid == valid]
    readable = [item for item in mine if item.outcome in ("accepted", "refused")]
    if not mine:
        raise NotApplicable(f"the sweep has no {'valid' if valid else 'invalid'} value to send")
    if not readable:
        first = mine[0]
        raise Blocked(RATE_LIMITS if first.outcome == "limited" else never_break, f"{_where(first)}: {first.why}")
    return readable


def never_broken(items: list[Sent], endpoint: str) -> Note:
    broken = [item for item in items if item.outcome == "broken"]
    if broken:
        shown_ = "; ".join(f"{_where(item)}: {item.why}" for item in broken[:4])
        more = f" (and {len(broken) - 4} more)" if len(broken) > 4 else ""
        raise CheckFailed(
            f"{len(broken)} of {len(items)} requests of the sweep broke on {endpoint}: {shown_}{more}",
            details={"broken": {item.exchange.id: item.why for item in broken}},
        )
    return Note(f"{len(items)} requests, {len({i.probe.parameter for i in items})} parameters: none broke the server")


def accepted(items: list[Sent], dialect: Dialect, endpoint: str, never_break: str) -> Note:
    valid = _judgeable(items, True, never_break)
    verdicts = {item.probe.parameter: "accepted" for item in valid if item.outcome == "accepted"}
    refused = [item for item in valid if item.outcome == "refused"]
    declared = [item for item in refused if item.probe.parameter in dialect.ignored_or_refused_parameters]
    for item in refused:
        verdicts[item.probe.parameter] = f"refused ({item.why})"
    undeclared = [item for item in refused if item not in declared]
    if undeclared:
        raise CheckFailed(
            f"{len(undeclared)} valid values of documented parameters were refused on {endpoint}: "
            + "; ".join(f"{_where(item)}: {item.why}" for item in undeclared[:4]),
            details={"verdicts": verdicts},
        )
    if declared:
        names = sorted({item.probe.parameter for item in declared})
        raise Documented(f"the {dialect.name} dialect", f"refused, as the dialect allows: {', '.join(names)}")
    return Note(f"{len(valid)} valid values of {len(verdicts)} parameters accepted", {"verdicts": verdicts})


def invalid_refused(items: list[Sent], dialect: Dialect, endpoint: str, never_break: str) -> Note:
    invalid = _judgeable(items, False, never_break)
    statuses = dialect.status_for("invalid_request")
    accepted_ = [item for item in invalid if item.outcome == "accepted"]
    ignored = [item for item in accepted_ if item.probe.parameter in dialect.ignored_or_refused_parameters]
    wrong = [item for item in invalid if item.outcome == "refused" and item.exchange.status not in statuses]
    problems = [item for item in accepted_ if item not in ignored] + wrong
    if problems:
        wanted = " or ".join(map(str, statuses))
        raise CheckFailed(
            f"{len(problems)} of {len(invalid)} invalid values were not refused with HTTP {wanted} on {endpoint}: "
            + "; ".join(f"{_where(item)}: {_got(item)}" for item in problems[:4]),
            details={"not_refused": {item.exchange.id: item.why for item in problems}},
        )
    if ignored:
        names = sorted({item.probe.parameter for item in ignored})
        raise Documented(
            f"the {dialect.name} dialect", f"invalid values ignored, as the dialect allows: {', '.join(names)}"
        )
    return Note(f"{len(invalid)} invalid values refused with HTTP {' or '.join(map(str, statuses))}")


def refusals_named(items: list[Sent], dialect: Dialect, endpoint: str, never_break: str, invalid: str) -> Note:
    judgeable = _judgeable(items, False, never_break)
    refused = [item for item in judgeable if item.outcome == "refused"]
    if not refused:
        if any(item.probe.parameter not in dialect.ignored_or_refused_parameters for item in judgeable):
            raise Blocked(invalid, f"no invalid value was refused on {endpoint}")
        raise NotApplicable(f"no invalid value was refused on {endpoint}: the dialect lets them be ignored")
    unnamed = [item for item in refused if not _names(item)]
    if unnamed:
        raise CheckFailed(
            f"{len(unnamed)} of {len(refused)} refusals of invalid values on {endpoint} name neither the parameter "
            "in error.param nor in the message: " + "; ".join(f"{_where(item)}: {item.why}" for item in unnamed[:4])
        )
    return Note(f"{len(refused)} refusals each name their parameter")


def echoed(
    items: list[Sent], dialect: Dialect, endpoint: str, settings: tuple[str, ...], never_break: str, absent: str
) -> Note:
    """Each accepted valid value of a setting the answer carries comes back as it was sent; an answer without
    the field is ``absent``'s finding (the check of the fields every answer carries), not this one's."""
    mine = [item for item in items if item.probe.parameter in settings]
    answered = [item for item in _judgeable(mine, True, never_break) if item.outcome == "accepted"]
    if not answered:
        raise NotApplicable(f"no setting the answer carries was accepted on {endpoint}")
    dropped: dict[str, str] = {}  # exchange -> what came back instead
    carried = 0
    for item in answered:
        body = item.exchange.json_body.value if item.exchange.json_body.ok else None
        if not isinstance(body, dict):
            raise Blocked(RESPONSE_FORM, f"{_where(item)}: the answer is not a response object")
        name, sent_value = item.probe.parameter, item.probe.body[item.probe.parameter]
        if name not in body:
            continue
        carried += 1
        if body[name] != sent_value or type(body[name]) is not type(sent_value):
            dropped[item.exchange.id] = f"{_where(item)}: the response carries {body[name]!r}"
    if not carried:
        raise Blocked(absent, f"no answer carries the settings sent ({', '.join(settings)}) on {endpoint}")
    declared = {i.exchange.id for i in answered if i.probe.parameter in dialect.ignored_or_refused_parameters}
    undeclared = [text for exchange_id, text in dropped.items() if exchange_id not in declared]
    if undeclared:
        raise CheckFailed(
            f"{len(undeclared)} of {carried} settings accepted on {endpoint} are not echoed as sent (the parameter "
            "was dropped or changed): " + "; ".join(undeclared[:4])
        )
    if dropped:
        shown_dropped = "; ".join(list(dropped.values())[:4])
        raise Documented(f"the {dialect.name} dialect", f"ignored, as the dialect allows: {shown_dropped}")
    missing = len(answered) - carried
    return Note(f"{carried} settings echoed as sent" + (f" ({missing} answers lack the field)" if missing else ""))


def _names(item: Sent) -> bool:
    name = item.probe.parameter
    body = item.exchange.json_body
    error = body.value.get("error") if body.ok and isinstance(body.value, dict) else None
    param = error.get("param") if isinstance(error, dict) else None
    if isinstance(param, str) and (param == name or param.startswith((f"{name}.", f"{name}["))):
        return True
    return name in (error_message(item.exchange) or "")
