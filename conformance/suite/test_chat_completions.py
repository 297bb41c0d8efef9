"""Feature row `chat-completions`."""

from conformance.suite import row_test

test_chat_completions = row_test("chat-completions")
