"""The reference server's chance: unseeded sampling draws, and the noise of a hosted model spread evenly over
identical requests (``Noise``), so that model checks measured against it never fail by chance."""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.reference.chat import ChatRequest

# draws for unseeded sampling and the phases of the noise (seeded by ReferenceConfig.noise_seed in tests)
CHANCE = random.Random()


class Noise:
    """Whether a draw of probability P comes out, for the k-th of identical requests: at a random phase u
    per request and place, exactly when floor(u + kP) passes an integer. The share is P, and any run of
    1/P identical requests holds at most one, so five trials at P = 0.05 miss at most once, whichever
    of the concurrent runs sends them (independent draws miss three times in one run of 900)."""

    _KEEP = 4096  # phases kept; past that the oldest half is forgotten (a new phase: still the rate P)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, int]] = {}

    def happens(self, request: ChatRequest, place: str, probability: float) -> bool:
        if probability <= 0:
            return False
        key = f"{place}:{_identity(request)}"
        with self._lock:
            phase, count = self._seen.get(key) or (CHANCE.random(), 0)
            if len(self._seen) >= self._KEEP:
                for old in list(self._seen)[: self._KEEP // 2]:
                    del self._seen[old]
            self._seen[key] = (phase, count + 1)
        return math.floor(phase + (count + 1) * probability) > math.floor(phase + count * probability)

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()


def _identity(request: ChatRequest) -> str:
    """What makes two requests the same question to the model."""
    asked = [request.model, request.messages, [tool["name"] for tool in request.tools], request.tool_choice]
    asked += [request.temperature, request.top_p, request.seed, request.response_format, request.fault]
    return hashlib.sha256(json.dumps(asked, sort_keys=True, default=str).encode()).hexdigest()[:24]


NOISE = Noise()
# the words a sampled answer draws two of (32 * 32 answers: two alike are rare)
WORDS = (
    "amber",
    "azure",
    "brisk",
    "calm",
    "cedar",
    "coral",
    "dawn",
    "dusk",
    "ember",
    "fern",
    "frost",
    "glade",
    "harbor",
    "hazel",
    "iris",
    "ivory",
    "jade",
    "lark",
    "maple",
    "mist",
    "moss",
    "noon",
    "opal",
    "pearl",
    "quill",
    "reed",
    "sage",
    "slate",
    "tide",
    "umber",
    "willow",
    "wren",
)
# how a hosted model rewords an answer now and then
REWORDINGS = ("Well, ", "Sure. ", "OK: ")
