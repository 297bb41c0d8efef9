"""Feature row `responses-multimodal`."""

from conformance.suite import row_test

test_responses_multimodal = row_test("responses-multimodal")
