"""How ``conformance run`` calls pytest: the arguments it passes, and what pytest does without."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

from conformance.resources import suite_dir
from conformance.runconfig import RunConfig, RunOptions

# pytest's own plugins that a run without pytest arguments never uses (debugging serves --pdb,
# logging and warnings fill the failure sections a quiet run does not print): each wraps every test
# in a context of its own, a twentieth of a replay's time together
UNUSED_PLUGINS = (
    "logging",
    "warnings",
    "doctest",
    "pastebin",
    "stepwise",
    "setuponly",
    "setupplan",
    "tmpdir",
    "monkeypatch",
    "recwarn",
    "legacypath",
    "junitxml",
    "nose",
    "unittest",
    "debugging",
    "python_path",
)


def arguments(
    options: RunOptions, config: RunConfig, extra: list[str], *, pytest_output: bool
) -> tuple[list[str], bool]:
    """pytest's arguments for this run (without the suite's folder and the user's own), and whether
    the run is quiet (the suite's progress and summary only)."""
    args = ["-c", str(suite_dir() / "pytest.ini"), "--rootdir", str(suite_dir())]
    for name, value in options.__dict__.items():
        if value is True:
            args.append(f"--conformance-{name.replace('_', '-')}")
        elif value is not None:
            args += [f"--conformance-{name.replace('_', '-')}", str(value)]
    if config.dry_run:
        args += ["-p", "no:terminal"]  # the plan is the whole output
    quiet = not pytest_output and not any(_verbose(arg) for arg in extra)
    if quiet and not config.dry_run:
        args.append("--conformance-quiet")
        if "no:terminal" not in extra:
            # the suite's progress and summary only: no letters, paths, failure sections or warnings
            args += ["-q", "--no-header", "-rN", "--tb=no", "--disable-warnings"]
            args += ["-o", "console_output_style=classic"]
        if not extra:
            args += [arg for name in UNUSED_PLUGINS for arg in ("-p", f"no:{name}")]
    return args, quiet


def _verbose(arg: str) -> bool:
    return arg == "--verbose" or re.fullmatch(r"-v+", arg) is not None


@contextlib.contextmanager
def plugins_autoloaded(wanted: bool) -> Iterator[None]:
    """Without pytest arguments, the suite needs no plugin but its own: pytest does not scan for
    and import the installed ones (pytest-xdist alone costs 40 ms)."""
    name = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"
    previous = os.environ.get(name)
    if not wanted:
        os.environ[name] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous
