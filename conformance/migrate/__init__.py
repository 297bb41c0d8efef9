"""Gating a migration on an application's own traffic: capture it (``conformance.capture``), replay it
against a candidate and judge every answer (``engine``, ``claims``, ``compare``), report per request
(``report``, ``render``). The commands are in ``command``."""
