"""A conformance suite for OpenAI-compatible HTTP APIs.

It sends each distinct request to a target once (or reads it from a recorded cassette), runs
small checks over the exchanges, and writes a versioned JSON report with one verdict per check
and a status per feature row.
"""

__version__ = "0.1.0"
