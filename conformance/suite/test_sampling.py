"""Feature row `sampling`."""

from conformance.suite import row_test

test_sampling = row_test("sampling")
