"""Feature row `responses-streaming`."""

from conformance.suite import row_test

test_responses_streaming = row_test("responses-streaming")
