"""The app against the stand-in: its ordinary answers and the Azure quirks that break stream
consumers. ``aoai_standin`` comes from the aoai-conformance pytest plugin."""

from __future__ import annotations

import app
import pytest
from openai import OpenAI


@pytest.fixture
def client(aoai_standin):
    aoai_standin.clear()  # the stand-in is shared by the session; its log starts over here
    return OpenAI(base_url=aoai_standin.base_url, api_key=aoai_standin.key)


def test_an_ordinary_stream(client):
    assert app.ask(client, "my-gpt-4o", "Say hello").strip()


def test_the_async_filter_stream(client):
    # A first chunk with no choices, then annotation chunks with a choice but no delta.
    text = app.ask(client, "scenario-async-filter--my-gpt-4o", "How does rain form?")
    assert text == "Rain forms when water vapor condenses."


def test_the_log_shows_what_the_app_sent_without_the_key(client, aoai_standin):
    app.ask(client, "my-gpt-4o", "Say hello")
    (sent,) = aoai_standin.requests
    assert sent.body["messages"] == [{"role": "user", "content": "Say hello"}]
    assert sent.body["stream"] is True
    assert sent.header("authorization") == "<redacted>"
    assert aoai_standin.key not in repr(sent)
