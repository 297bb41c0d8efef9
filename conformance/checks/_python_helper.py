"""What the Python client's stream helper (chat.completions.stream(), get_final_completion()) hands an app of a
stream, in the few words other checks' messages quote. It joins every string of the deltas: a repeated role or
tool-call id comes out doubled."""

from __future__ import annotations

from typing import Any

from conformance import sdk_oracle
from conformance.checks._expect import brief, shown
from conformance.exchange import Exchange


def first_message(final: Any) -> Any:
    """The message of the first choice of what a helper assembled, or None."""
    choices = getattr(final, "choices", None) or []
    return getattr(choices[0], "message", None) if choices else None


def python_says(exchange: Exchange) -> str:
    """What Python's stream helper hands an app of this stream."""
    verdict = sdk_oracle.judge(exchange, "chat-completion-stream-helper")
    version = sdk_oracle.SDK_VERSION
    if not verdict.accepted:
        return f"Python openai {version}'s get_final_completion() raises {verdict.raised}: {shown(verdict.detail, 80)}"
    message = first_message(verdict.value)
    if message is None:
        return f"Python openai {version}'s get_final_completion() holds no choice"
    held = f"role {brief(message.role, 40)} and content {brief(message.content, 40)}"
    if verdict.raised:  # by design (a stream cut by the cap or the filter): the completion rides on the exception
        return f"Python openai {version}'s get_final_completion() raises {verdict.raised}, carrying {held}"
    return f"Python openai {version}'s get_final_completion() hands the app {held}"


def joined_role(exchange: Exchange) -> str:
    """For a stream that repeats its role: "; Python ... hands the app role 'assistantassistant'", or ""."""
    verdict = sdk_oracle.judge(exchange, "chat-completion-stream-helper")
    message = first_message(verdict.value) if verdict.accepted else None
    role = getattr(message, "role", None)
    if role in (None, "assistant"):
        return ""
    return (
        f"; Python openai {sdk_oracle.SDK_VERSION}'s chat.completions.stream() joins them: get_final_completion() "
        f"hands the app role {brief(role, 40)}"
    )
