"""Requests the seed doc's samples make, shared by the suites and their cassettes."""

from __future__ import annotations

from typing import Any

# The doc's samples pass the deployment name as `model` ("Replace with your model deployment
# name"); the recordings behind the cassettes used a deployment called gpt-4o.
DEPLOYMENT = "gpt-4o"

# Python / Chat: a system and a user message. The user text is the one in the recorded
# response the chat cassette replays (the doc's own question was never recorded).
CHAT_MESSAGES: list[dict[str, Any]] = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "What is the capital of France?"},
]
