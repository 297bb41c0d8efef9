"""Feature row `model-selection`."""

from conformance.suite import row_test

test_model_selection = row_test("model-selection")
