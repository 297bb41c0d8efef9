"""Exit codes and the exceptions that map onto them.

Exit codes a CI can rely on::

    0  OK             no MUST-level conformance failure
    1  FAILURES       at least one MUST-level conformance failure
    2  USAGE          a usage or configuration error (unknown target, missing key variable,
                      malformed URL, unreadable, missing or unused cassette)
    3  ENVIRONMENT    the environment stopped the run (target unreachable, key rejected everywhere)
    4  INTERNAL       the suite itself broke (a bug in a check or in the harness), or the run
                      ended before any check was judged
    5  RUN_TIMEOUT    the run reached its time bound (limits.run_timeout); the report holds what
                      was judged until then
  130  INTERRUPTED    stopped by SIGINT (Ctrl-C); the report holds what was judged until then
  143  TERMINATED     stopped by SIGTERM; likewise

Exceptions::

    ConformanceError
     ├── ConfigError       -> USAGE
     ├── ReplayError       -> USAGE (a recording is missing, stale or unreadable)
     └── EnvironmentFailure -> ENVIRONMENT
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0
    FAILURES = 1
    USAGE = 2
    ENVIRONMENT = 3
    INTERNAL = 4
    RUN_TIMEOUT = 5
    INTERRUPTED = 130
    TERMINATED = 143


class ConformanceError(Exception):
    """A user-facing error: its message is one line, shown without a traceback."""

    exit_code: ExitCode = ExitCode.INTERNAL


class ConfigError(ConformanceError):
    exit_code = ExitCode.USAGE


class ReplayError(ConformanceError):
    exit_code = ExitCode.USAGE


class EnvironmentFailure(ConformanceError):
    exit_code = ExitCode.ENVIRONMENT


class RequestNotSent(Exception):
    """The suite could not even send the request (a bug, or input that slipped past validation);
    the message is redacted."""
