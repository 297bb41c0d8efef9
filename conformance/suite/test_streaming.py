"""Feature row `streaming`."""

from conformance.suite import row_test

test_streaming = row_test("streaming")
