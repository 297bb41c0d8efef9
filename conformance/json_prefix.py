"""Is a text the beginning of a JSON document?

An answer cut at the token cap (finish_reason "length") cannot be parsed, but it can still show
whether the target constrained it to JSON: ``{"city": "Pa`` is the start of a JSON document, prose
is not. This is a small recursive-descent recogniser that accepts any prefix of valid JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance import jsonparse

_WHITESPACE = " \t\n\r"
_LITERALS = ("true", "false", "null")


class _End(Exception):
    pass


class _Invalid(Exception):
    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


@dataclass(frozen=True)
class PrefixVerdict:
    ok: bool
    complete: bool  # the text is a whole JSON document (with nothing but whitespace after it)
    position: int = 0
    reason: str = ""


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def peek(self) -> str:
        if self.at >= len(self.text):
            raise _End
        return self.text[self.at]

    def skip_whitespace(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in _WHITESPACE:
            self.at += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise _Invalid(self.at, f"expected {char!r}, found {self.text[self.at]!r}")
        self.at += 1

    def value(self) -> None:
        self.skip_whitespace()
        char = self.peek()
        if char == "{":
            self.container("}", member=True)
        elif char == "[":
            self.container("]", member=False)
        elif char == '"':
            self.string()
        elif char == "-" or char.isdigit():
            self.number()
        elif char in "tfn":
            self.literal()
        else:
            raise _Invalid(self.at, f"{char!r} cannot start a JSON value")

    def container(self, close: str, *, member: bool) -> None:
        self.at += 1
        self.skip_whitespace()
        if self.peek() == close:
            self.at += 1
            return
        while True:
            if member:
                self.skip_whitespace()
                self.string()
                self.skip_whitespace()
                self.expect(":")
            self.value()
            self.skip_whitespace()
            char = self.peek()
            if char == close:
                self.at += 1
                return
            self.expect(",")

    def string(self) -> None:
        self.expect('"')
        while True:
            char = self.peek()
            self.at += 1
            if char == '"':
                return
            if char == "\\":
                escaped = self.peek()
                self.at += 1
                if escaped == "u":
                    for _ in range(4):
                        if self.peek() not in "0123456789abcdefABCDEF":
                            raise _Invalid(self.at, "a \\u escape needs four hex digits")
                        self.at += 1
                elif escaped not in '"\\/bfnrt':
                    raise _Invalid(self.at - 1, f"invalid escape \\{escaped}")
            elif ord(char) < 0x20:
                raise _Invalid(self.at - 1, "a control character inside a string")

    def number(self) -> None:
        start = self.at
        allowed = "0123456789+-.eE"
        while self.at < len(self.text) and self.text[self.at] in allowed:
            self.at += 1
        token = self.text[start : self.at]
        if self.at >= len(self.text):
            raise _End
        try:
            float(token)
        except ValueError:
            raise _Invalid(start, f"{token!r} is not a number") from None

    def literal(self) -> None:
        rest = self.text[self.at : self.at + 5]
        for literal in _LITERALS:
            if literal.startswith(rest) and len(rest) < len(literal) and self.at + len(rest) == len(self.text):
                raise _End
            if rest.startswith(literal):
                self.at += len(literal)
                return
        raise _Invalid(self.at, f"{rest!r} is not true, false or null")


def check_prefix(text: str) -> PrefixVerdict:
    """Whether ``text`` is a JSON document or the beginning of one."""
    if jsonparse.depth_exceeds(text):
        return PrefixVerdict(False, False, 0, f"nested deeper than {jsonparse.MAX_DEPTH} levels")
    try:
        jsonparse.loads(text)
    except ValueError:
        pass
    else:
        return PrefixVerdict(ok=True, complete=True)
    reader = _Reader(text)
    try:
        reader.skip_whitespace()
        if reader.at >= len(text):
            return PrefixVerdict(ok=True, complete=False)
        reader.value()
        reader.skip_whitespace()
        if reader.at < len(text):
            return PrefixVerdict(False, False, reader.at, "text follows the end of the JSON document")
        return PrefixVerdict(ok=True, complete=True)
    except _End:
        return PrefixVerdict(ok=True, complete=False)
    except _Invalid as invalid:
        return PrefixVerdict(False, False, invalid.position, invalid.reason)
