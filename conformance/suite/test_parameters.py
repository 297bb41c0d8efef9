"""Feature row `parameters`."""

from conformance.suite import row_test

test_parameters = row_test("parameters")
