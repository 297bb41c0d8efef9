"""The events of a stream as the wire gave them: whether it is an event stream at all, framed as events must
be, where an error event broke it off, and how it ends (``[DONE]`` last). The form checks of
``stream_form`` and ``completions_stream`` read streams through these."""

from __future__ import annotations

from conformance import jsonparse, sse
from conformance.checks._expect import shown
from conformance.exchange import Exchange


def is_event_stream(exchange: Exchange) -> bool:
    response = exchange.response
    return response is not None and response.media_type == "text/event-stream"


def framed(exchange: Exchange) -> bool:
    """An event stream whose events are separated as they must be (what the framing check owns)."""
    return is_event_stream(exchange) and not data_lines_run_together(exchange.stream)


def error_event(data: str | None) -> bool:
    """Whether an event's data is an error object, not a chunk."""
    if not data or not data.startswith("{") or '"error"' not in data:
        return False
    try:
        value = jsonparse.loads(data)
    except ValueError:
        return False
    return isinstance(value, dict) and "error" in value and "choices" not in value


def events_before_the_end(exchange: Exchange) -> list[tuple[int, str]]:
    """The data of every event before [DONE] and before an error event, numbered from 1."""
    found = []
    for number, event in enumerate(exchange.stream.events, start=1):
        data = event.data
        if data is None:
            continue
        if data == "[DONE]" or error_event(data):
            break
        found.append((number, data))
    return found


def broke_off(exchange: Exchange) -> str | None:
    """How a stream broke off with an error event (a server failing mid-answer), or None."""
    event = next((event for event in exchange.stream.events if error_event(event.data)), None)
    if event is None:
        return None
    where = f"{exchange.describe()}: the stream broke off with an error at event {event.index + 1}"
    return f"{where}: {shown(event.data or '', 120)}"


def done_problem(exchange: Exchange) -> str | None:
    """What is wrong with the end of a stream: no ``data: [DONE]`` (unless it ends with an error event), or
    something after it; None when it ends as it must."""
    events = exchange.stream.events
    if exchange.stream.dropped:
        return (
            f"{exchange.describe()}: the stream held more events or comment lines than the {sse.MAX_EVENTS} the suite "
            f"reads ({exchange.stream.dropped} more were counted, not kept); its end was not judged"
        )
    done = [event.index for event in events if event.data == "[DONE]"]
    if not done:
        if events and error_event(events[-1].data):
            return None
        last = shown(events[-1].data or "", 120) if events else "no events at all"
        return f"{exchange.describe()}: no data: [DONE] event; the last event is {last}"
    if done[-1] != len(events) - 1 or len(done) > 1 or exchange.stream.trailing:
        return f"{exchange.describe()}: data: [DONE] is event {done[0] + 1} of {len(events)}; more follows it"
    return None


def data_lines_run_together(stream: sse.Stream) -> int:
    """How many data: lines that are each a whole chunk (or [DONE]) share an event with others: events whose
    blank lines are missing. 0 if there are none (an event split over data: lines is judged elsewhere)."""
    groups = [[value for name, value in event.fields if name == "data"] for event in stream.events]
    trailing = stream.trailing.decode("utf-8", errors="replace").splitlines()
    groups.append([line.removeprefix("data:").removeprefix(" ") for line in trailing if line.startswith("data:")])
    return sum(len(group) for group in groups if len(group) > 1 and all(map(_whole_event, group)))


def _whole_event(data: str) -> bool:
    if data == "[DONE]":
        return True
    try:
        return isinstance(jsonparse.loads(data), dict)
    except ValueError:
        return False
