"""Feature row `moderation`."""

from conformance.suite import row_test

test_moderation = row_test("moderation")
