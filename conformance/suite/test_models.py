"""Feature row `models`."""

from conformance.suite import row_test

test_models = row_test("models")
