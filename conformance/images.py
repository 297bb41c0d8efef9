"""Small, deterministic test images, made by the suite with Pillow and sent as data URLs.

Each image is a plain colour square, so a capable model has something to say about it; the bytes
are the same on every run (no timestamps or metadata), so recordings keep matching.

A replay makes no image (and does not import Pillow): a recorded request is matched with its data
URLs reduced to their media type (``conformance.cassettes``), and checks judge the request that was
recorded, so the suite's own copy needs only the media type (see ``conformance.generation``).
"""

from __future__ import annotations

import base64
import importlib
import io
from functools import cache

from conformance import generation

COLOURS = {"red": (220, 30, 30), "green": (30, 160, 60), "blue": (40, 70, 220)}
MEDIA_TYPES = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "tiff": "image/tiff",
    "bmp": "image/bmp",
}
# what a replay puts where the image would be (base64 of "replayed")
PLACEHOLDER = base64.b64encode(b"replayed").decode("ascii")
_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP", "tiff": "TIFF", "bmp": "BMP"}
# the one Pillow plugin each format needs: saving to a format Pillow has not registered yet makes it
# import every plugin it has (a tenth of a replay's time for one TIFF)
_PIL_PLUGINS = {"png": "Png", "jpeg": "Jpeg", "gif": "Gif", "webp": "WebP", "tiff": "Tiff", "bmp": "Bmp"}


@cache
def image_bytes(kind: str, colour: str = "red", size: int = 64) -> bytes:
    from PIL import Image

    importlib.import_module(f"PIL.{_PIL_PLUGINS[kind]}ImagePlugin")
    image = Image.new("RGB", (size, size), COLOURS[colour])
    buffer = io.BytesIO()
    options = {"quality": 90} if kind == "jpeg" else {}
    if kind == "webp":
        options = {"lossless": True}
    image.save(buffer, format=_PIL_FORMATS[kind], **options)
    return buffer.getvalue()


def data_url(kind: str, colour: str = "red", size: int = 64) -> str:
    if generation.placeholders():
        return f"data:{MEDIA_TYPES[kind]};base64,{PLACEHOLDER}"
    encoded = base64.b64encode(image_bytes(kind, colour, size)).decode("ascii")
    return f"data:{MEDIA_TYPES[kind]};base64,{encoded}"


def corrupt_data_url() -> str:
    """A PNG data URL whose payload is not base64 at all."""
    return "data:image/png;base64,this-is-not-base64!!!"


def image_part(url: str, detail: str | None = None) -> dict[str, object]:
    image_url: dict[str, object] = {"url": url}
    if detail is not None:
        image_url["detail"] = detail
    return {"type": "image_url", "image_url": image_url}
