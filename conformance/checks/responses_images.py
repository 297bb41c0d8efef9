"""Row ``responses-multimodal``: input_image parts on POST /responses. A data URL image is answered and
reaches the model (it is counted in input_tokens), an image that is not one is refused with 400, and the
model says what it sees (model behaviour, over trials)."""

from __future__ import annotations

from typing import Any

from conformance import images
from conformance.checks._expect import expect_refusal, shown, unsupported_if_refused
from conformance.checks._responses import BASIC, offered, output_text, response_body, responses_request, usage_of
from conformance.checks._trials import measure
from conformance.context import CheckContext
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import Blocked, CheckFailed, Kind, Level, Measured

QUESTION = "What colour is this square? Answer with one word."
RED = "responses-multimodal/data-url"
PLAIN = "responses-multimodal/no-image"
BAD = "responses-multimodal/not-an-image"
ANSWERED = "responses-multimodal.data_url_image_is_answered"


def _image_input(url: str | None) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = [{"type": "input_text", "text": QUESTION}]
    if url is not None:
        parts.append({"type": "input_image", "image_url": url})
    return [{"type": "message", "role": "user", "content": parts}]


@probe(RED)
def red(target: Target) -> Request | None:
    return responses_request(
        target,
        RED,
        "a red square as an input_image data URL (the tester's image-input)",
        _image_input(images.data_url("png")),
        role="vision",
    )


@probe(PLAIN)
def plain(target: Target) -> Request | None:
    return responses_request(target, PLAIN, "the same question with no image", _image_input(None), role="vision")


@probe(BAD, refusal=True)
def bad(target: Target) -> Request | None:
    return responses_request(
        target,
        BAD,
        "an input_image whose data URL holds no image",
        _image_input(images.corrupt_data_url()),
        role="vision",
    )


@check("responses-multimodal", Level.MUST, source="open-responses-compliance", needs=(RED, BASIC))
def data_url_image_is_answered(ctx: CheckContext) -> str | None:
    """A user message with input_text and an input_image data URL (PNG) is answered with a response."""
    offered(ctx)
    exchange = ctx.exchange(RED)
    unsupported_if_refused(exchange, "input_image")
    response = exchange.response
    if response is not None and response.status >= 400:
        raise CheckFailed(
            f"{exchange.describe()}: the input_image was refused with HTTP {response.status}: "
            f"{shown(response.body, 160)}"
        )
    response_body(exchange)
    return None


@check("responses-multimodal", Level.MUST, source="open-responses-spec", needs=(RED, PLAIN, BASIC))
def image_reaches_the_model(ctx: CheckContext) -> str | None:
    """The image is not dropped on the way: usage.input_tokens with it exceeds that of the same question without it."""
    offered(ctx)
    red, plain = ctx.exchange(RED), ctx.exchange(PLAIN)
    with_image = usage_of(response_body(red, answered_by=ANSWERED), "input_tokens")
    without = usage_of(response_body(plain), "input_tokens")
    if with_image is None or without is None:
        raise Blocked("responses.usage_is_reported", "the responses report no usage.input_tokens to compare")
    if with_image <= without:
        raise CheckFailed(
            f"{ctx.exchange(RED).describe()}: {with_image} input tokens with the image and {without} without: the "
            "image is not counted, so it does not reach the model"
        )
    return f"{with_image} input tokens with the image, {without} without"


@check("responses-multimodal", Level.MUST, source="open-responses-spec", needs=(BAD, BASIC))
def image_that_is_not_one_is_refused(ctx: CheckContext) -> str | None:
    """An input_image whose data URL holds no image is refused with 400, not accepted and answered."""
    offered(ctx)
    expect_refusal(
        ctx.exchange(BAD), (400,), "an input_image that is no image", answered="the image is dropped silently"
    )
    return None


@check(
    "responses-multimodal",
    Level.SHOULD,
    source="open-responses-compliance",
    needs=(RED, BASIC),
    trials=(RED,),
    kind=Kind.MODEL,
    threshold=0.8,
)
def reply_names_the_colour(ctx: CheckContext) -> Measured:
    """The answer about a red square says "red", in at least 80 % of trials."""
    offered(ctx)

    def judge(exchange: Exchange) -> str | None:
        text = output_text(exchange, response_body(exchange, answered_by=ANSWERED))
        return None if "red" in text.lower() else f"answered {shown(text, 60)}"

    return measure('the answer about a red square said "red"', [(e.id, e) for e in ctx.trials(RED)], judge)
