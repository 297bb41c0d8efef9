"""Row ``image-understanding``: image_url parts sent to the vision model.

The images are made by the suite (small plain-colour squares, see ``conformance.images``). What a
model says about them is model behaviour, judged at SHOULD level only.
"""

from __future__ import annotations

from typing import Any

from conformance import images
from conformance.checks._expect import expect_chat_completion, expect_refusal, shown
from conformance.checks._requests import chat_request
from conformance.checks._trials import measure
from conformance.context import CheckContext
from conformance.dialects import load_dialect
from conformance.exchange import Exchange, Request
from conformance.profiles import Target
from conformance.registry import check, probe
from conformance.verdicts import CheckFailed, Kind, Level, Measured

QUESTION = "What colour is this square? Answer with one word."
# without a limit in the dialect, "several" means this many
SEVERAL = 4


def ask(target: Target, exchange_id: str, purpose: str, parts: list[dict[str, Any]], **options: Any) -> Request | None:
    content = [{"type": "text", "text": QUESTION}, *parts]
    return chat_request(
        target,
        exchange_id,
        purpose,
        [{"role": "user", "content": content}],
        role=options.pop("role", "vision"),
        **options,
    )


def _format_probe(kind: str) -> None:
    exchange_id = f"image-understanding/{kind}"

    @probe(exchange_id)
    def build(target: Target) -> Request | None:
        return ask(
            target,
            exchange_id,
            f"a red square as a base64 {kind.upper()} data URL",
            [images.image_part(images.data_url(kind))],
        )


for _kind in ("png", "jpeg", "gif"):
    _format_probe(_kind)


@probe("image-understanding/http-url")
def http_url(target: Target) -> Request | None:
    if not target.image_url:
        return None
    return ask(target, "image-understanding/http-url", "an image by http(s) URL", [images.image_part(target.image_url)])


def _limit(dialect_limits: dict[str, int]) -> int | None:
    return dialect_limits.get("max_images_per_request")


@probe("image-understanding/several")
def several(target: Target) -> Request | None:
    count = _limit(load_dialect(target.dialect).limits) or SEVERAL
    colours = list(images.COLOURS)
    parts = [images.image_part(images.data_url("png", colours[i % len(colours)], 32 + i)) for i in range(count)]
    return ask(target, "image-understanding/several", f"{count} images in one message (the dialect's limit)", parts)


@probe("image-understanding/too-many", refusal=True)
def too_many(target: Target) -> Request | None:
    limit = _limit(load_dialect(target.dialect).limits)
    if limit is None:
        return None
    parts = [images.image_part(images.data_url("png", "green", 32 + i)) for i in range(limit + 1)]
    return ask(target, "image-understanding/too-many", f"{limit + 1} images, one over the dialect's limit", parts)


@probe("image-understanding/detail")
def detail(target: Target) -> Request | None:
    parts = [
        images.image_part(images.data_url("png", colour), level)
        for colour, level in zip(images.COLOURS, ("low", "high", "auto"), strict=True)
    ]
    return ask(target, "image-understanding/detail", "three images with detail low, high and auto", parts)


@probe("image-understanding/text-only-model", refusal=True)
def text_only_model(target: Target) -> Request | None:
    if target.models.text_only is None:
        return None
    return ask(
        target,
        "image-understanding/text-only-model",
        "an image sent to a text-only model",
        [images.image_part(images.data_url("png"))],
        model=target.models.text_only,
    )


@probe("image-understanding/corrupt-base64", refusal=True)
def corrupt(target: Target) -> Request | None:
    return ask(
        target,
        "image-understanding/corrupt-base64",
        "a PNG data URL whose payload is not base64",
        [images.image_part(images.corrupt_data_url())],
    )


@probe("image-understanding/unsupported-type", refusal=True)
def unsupported_type(target: Target) -> Request | None:
    kind = load_dialect(target.dialect).image_type_refused
    if kind is None:
        return None
    return ask(
        target,
        "image-understanding/unsupported-type",
        f"a real {kind.upper()} image, a type the dialect does not accept",
        [images.image_part(images.data_url(kind, size=16))],
    )


def _answered(ctx: CheckContext, probe_id: str) -> str | None:
    expect_chat_completion(ctx, ctx.exchange(probe_id), text=False)
    return None


@check("image-understanding", Level.MUST, source="openai-vision", needs=("image-understanding/png",))
def png_data_url_is_understood(ctx: CheckContext) -> str | None:
    """A base64 PNG data URL in a user message is accepted and answered."""
    return _answered(ctx, "image-understanding/png")


@check("image-understanding", Level.MUST, source="openai-vision", needs=("image-understanding/jpeg",))
def jpeg_data_url_is_understood(ctx: CheckContext) -> str | None:
    """A base64 JPEG data URL is accepted and answered."""
    return _answered(ctx, "image-understanding/jpeg")


@check("image-understanding", Level.MUST, source="openai-vision", needs=("image-understanding/gif",))
def gif_data_url_is_understood(ctx: CheckContext) -> str | None:
    """A base64 GIF data URL is accepted and answered."""
    return _answered(ctx, "image-understanding/gif")


@check("image-understanding", Level.MUST, source="openai-vision", needs=("image-understanding/http-url",))
def http_image_url_is_understood(ctx: CheckContext) -> str | None:
    """An image given by http(s) URL is fetched and answered."""
    return _answered(ctx, "image-understanding/http-url")


@check("image-understanding", Level.MUST, source="llama-images", needs=("image-understanding/several",))
def several_images_up_to_the_limit_are_understood(ctx: CheckContext) -> str | None:
    """As many images in one message as the dialect allows (Llama: 9) are accepted and answered."""
    return _answered(ctx, "image-understanding/several")


@check("image-understanding", Level.MUST, source="openai-vision", needs=("image-understanding/detail",))
def detail_levels_are_accepted(ctx: CheckContext) -> str | None:
    """Images with detail "low", "high" and "auto" are accepted."""
    return _answered(ctx, "image-understanding/detail")


def _refused(ctx: CheckContext, probe_id: str, what: str) -> str | None:
    expect_refusal(ctx.exchange(probe_id), (400,), what)
    return None


@check("image-understanding", Level.MUST, source="llama-images", needs=("image-understanding/too-many",))
def images_over_the_limit_are_refused(ctx: CheckContext) -> str | None:
    """One image more than the dialect's limit is refused with 400."""
    return _refused(ctx, "image-understanding/too-many", "one image over the limit")


@check("image-understanding", Level.MUST, source="openai-vision", needs=("image-understanding/text-only-model",))
def text_only_model_refuses_images(ctx: CheckContext) -> str | None:
    """An image sent to a text-only model is refused with 400, not silently dropped."""
    return _refused(ctx, "image-understanding/text-only-model", "an image for a text-only model")


@check("image-understanding", Level.MUST, source="openai-vision", needs=("image-understanding/corrupt-base64",))
def corrupt_base64_is_refused(ctx: CheckContext) -> str | None:
    """A data URL whose payload is not base64 is refused with 400."""
    return _refused(ctx, "image-understanding/corrupt-base64", "a corrupt base64 image")


@check("image-understanding", Level.MUST, source="llama-images", needs=("image-understanding/unsupported-type",))
def unsupported_image_type_is_refused(ctx: CheckContext) -> str | None:
    """A real image of a type the dialect does not accept (Llama: WebP; OpenAI: TIFF) is refused with 400."""
    return _refused(ctx, "image-understanding/unsupported-type", "an image of an unsupported type")


RED, BLUE = "image-understanding/red-at-zero", "image-understanding/blue-at-zero"
NO_IMAGE = "image-understanding/no-image"
# a refused image is reported by the check of the plain PNG request
PNG_ANSWERED = "image-understanding.png_data_url_is_understood"


@probe(RED)
def red_at_zero(target: Target) -> Request | None:
    return ask(target, RED, "a red square, temperature 0", [images.image_part(images.data_url("png"))], temperature=0)


@probe(BLUE)
def blue_at_zero(target: Target) -> Request | None:
    parts = [images.image_part(images.data_url("png", "blue"))]
    return ask(target, BLUE, "a blue square, temperature 0", parts, temperature=0)


@probe(NO_IMAGE)
def no_image(target: Target) -> Request | None:
    return ask(target, NO_IMAGE, "the same question with no image, temperature 0", [], temperature=0)


def _prompt_tokens(body: dict[str, Any]) -> int | None:
    usage = body.get("usage")
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None


@check("image-understanding", Level.MUST, source="openai-vision", needs=(RED, BLUE, NO_IMAGE))
def images_reach_the_model(ctx: CheckContext) -> str | None:
    """An image is not dropped on the way: with it, usage.prompt_tokens exceeds the same request's without it, and a
    red and a blue square do not both get the answer given with no image (temperature 0)."""
    red, blue, plain = (ctx.exchange(probe_id) for probe_id in (RED, BLUE, NO_IMAGE))
    bodies = [
        expect_chat_completion(ctx, red, answered_by=PNG_ANSWERED),
        expect_chat_completion(ctx, blue, answered_by=PNG_ANSWERED),
        expect_chat_completion(ctx, plain),
    ]
    texts = [body["choices"][0]["message"]["content"] for body in bodies]
    with_image, without = _prompt_tokens(bodies[0]), _prompt_tokens(bodies[2])
    problems = []
    if with_image is not None and without is not None and with_image <= without:
        problems.append(
            f"usage.prompt_tokens is {with_image} with the image and {without} without it: the image is not "
            "counted: it is dropped before the model"
        )
    if texts[0] == texts[2] and texts[1] == texts[2]:
        problems.append(
            f"a red square, a blue square and no image all get the answer {shown(texts[2], 80)}: the images are "
            "dropped before the model"
        )
    if problems:
        raise CheckFailed(f"{red.describe()}: " + "; and ".join(problems))
    counted = f"{with_image} prompt tokens with the image, {without} without" if with_image is not None else ""
    return counted or "the answers differ with the image"


@check(
    "image-understanding",
    Level.SHOULD,
    source="openai-vision",
    needs=("image-understanding/png",),
    kind=Kind.MODEL,
    threshold=0.8,
)
def reply_mentions_the_colour(ctx: CheckContext) -> Measured:
    """The answer about a red square says "red", in at least 80 % of trials."""

    def judge(exchange: Exchange) -> str | None:
        body = expect_chat_completion(ctx, exchange, answered_by=PNG_ANSWERED)
        text = body["choices"][0]["message"]["content"]
        return None if "red" in text.lower() else f"answered {shown(text, 60)}"

    trials = ctx.trials("image-understanding/png")
    return measure('the answer about a red square said "red"', [(e.id, e) for e in trials], judge)
