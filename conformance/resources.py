"""Where the suite's data lives: schemas, dialects, target profiles and bundled cassettes.

In a checkout these are the top-level folders of the repository; an installed wheel carries a
copy under ``conformance/_data``. Target profiles and cassettes are also looked up in the current
directory first, so users can keep their own next to where they run the suite.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_root() -> Path:
    bundled = _PACKAGE / "_data"
    if bundled.is_dir():
        return bundled
    return _PACKAGE.parent


def schemas_dir() -> Path:
    return data_root() / "schemas"


def dialects_dir() -> Path:
    return data_root() / "dialects"


def bundled_targets_dir() -> Path:
    return data_root() / "targets"


def bundled_cassettes_dir() -> Path:
    return data_root() / "cassettes"


def suite_dir() -> Path:
    """The pytest modules that make up the suite."""
    return _PACKAGE / "suite"
