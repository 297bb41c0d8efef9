"""What a replay trusts nothing of: the cassettes it is about to replay, searched for secrets.

A recording run redacts what it writes, but a cassette can be edited or copied in from elsewhere.
Before a replay judges anything, its files are searched for the key of the run (when the key
variable is set: in every encoding the redaction knows) and for a credential's shape (a request
header that carries one, which the suite never records); a file holding either stops the replay in
one line naming the file, so the secret reaches no verdict, report or console line.
"""

from __future__ import annotations

import re
from pathlib import Path

from conformance import files
from conformance.cassette_format import MAX_CASSETTE_BYTES
from conformance.errors import ReplayError
from conformance.redaction import Redactor

# a request header holding a credential, with a value that is not one of the suite's placeholders
_CREDENTIAL = re.compile(
    rb"^\s*-?\s*\[?\s*['\"]?(authorization|proxy-authorization|api-key|x-api-key|x-goog-api-key)['\"]?\s*[:,]\s*"
    rb"['\"]?(?!<API_KEY>)(?:Bearer\s+|Basic\s+)?[A-Za-z0-9._~+/=-]{16,}",
    re.IGNORECASE | re.MULTILINE,
)


def refuse_secrets(paths: list[Path], directory: Path, key: str | None) -> None:
    """``ReplayError`` for the first cassette holding the key or a credential; nothing otherwise."""
    redactor = Redactor(key, None) if key else None
    for path in paths:
        try:
            data = files.read_bytes(path, directory, MAX_CASSETTE_BYTES)
        except (OSError, ValueError):
            continue  # loading the set has said what is wrong with it
        if redactor is not None and redactor.contains_secret(data):
            raise ReplayError(
                f"cassette {path} holds the key of this run (in some encoding); it is not replayed, so "
                "that the key reaches no report: re-record it, or delete it"
            )
        if _CREDENTIAL.search(data):
            raise ReplayError(
                f"cassette {path} holds a credential in a request header, which the suite never records; "
                "it is not replayed: re-record it, or delete it"
            )
