"""A tiny chat application: it asks a deployment a question and streams the answer.

Run it against the stand-in (or your resource) with the two variables the doc's samples use::

    aoai-conformance standin -- python examples/stream_app/app.py "How does rain form?"
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from openai import OpenAI


def make_client() -> OpenAI:
    return OpenAI(base_url=os.environ["AZURE_OPENAI_BASE_URL"],
                  api_key=os.environ["AZURE_OPENAI_API_KEY"])


def collect_text_naive(stream: Iterable[Any]) -> str:
    """What many stream consumers do: the first choice's delta of every chunk, skipping the
    chunk with no choices that Azure sends first (prompt_filter_results only). A deployment
    in Asynchronous Filter mode still breaks it: its annotation chunks carry a choice without
    a delta."""
    return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)


def collect_text(stream: Iterable[Any]) -> str:
    """The same, tolerant of the chunks Azure adds."""
    parts = []
    for chunk in stream:
        for choice in chunk.choices:  # may be empty
            delta = getattr(choice, "delta", None)  # None in a content-filter annotation
            if delta is not None and delta.content:
                parts.append(delta.content)
    return "".join(parts)


def ask(client: OpenAI, deployment: str, question: str,
        consume: Callable[[Iterable[Any]], str] = collect_text) -> str:
    stream = client.chat.completions.create(
        model=deployment, messages=[{"role": "user", "content": question}], stream=True)
    return consume(stream)


if __name__ == "__main__":
    deployment = os.environ.get("AZURE_OPENAI_DEPLOYMENT", "gpt-4o")
    print(ask(make_client(), deployment, " ".join(sys.argv[1:]) or "How does rain form?"))
