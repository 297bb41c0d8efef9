"""Feature row `embeddings`."""

from conformance.suite import row_test

test_embeddings = row_test("embeddings")
