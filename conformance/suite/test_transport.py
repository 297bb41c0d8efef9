"""Feature row `transport`."""

from conformance.suite import row_test

test_transport = row_test("transport")
