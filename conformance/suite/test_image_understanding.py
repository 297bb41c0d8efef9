"""Feature row `image-understanding`."""

from conformance.suite import row_test

test_image_understanding = row_test("image-understanding")
