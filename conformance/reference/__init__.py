"""The reference server: a small, deterministic implementation of the documented Llama API
compatibility contract (``/compat/v1``: models, chat completions, moderations).

It gives the suite a target that is always there: for the project's own tests, for the bundled
cassettes, and for users who want to see what passing looks like. Its answers are echo-style text,
but the protocol around them follows the contract: bearer keys, ``max_tokens``, usage arithmetic,
streaming, the OpenAI error envelope. Its OpenAI flavour also serves ``/embeddings``, legacy ``/completions``
and ``/responses``. Each endpoint has its own module (``chat``, ``moderation``, ``embeddings``, ``completions``,
``responses_*``); ``incoming`` reads what every request brings (key, body) and ``app`` routes them.
"""

from conformance.reference.app import ReferenceConfig, create_app
from conformance.reference.server import ReferenceServer

__all__ = ["ReferenceConfig", "ReferenceServer", "create_app"]
