"""Feature row `errors-auth`."""

from conformance.suite import row_test

test_errors_auth = row_test("errors-auth")
