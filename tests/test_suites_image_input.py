"""The image-input checks fail when the SDK alters the parts it was given, or the reply breaks.

A mutated request no longer matches the cassette, which fails the check on its own (a replay
miss). To see the check's own judgement fail, most cases also rewrite the cassette's recorded
request to the mutant's body, so the replay matches and only the check can object.
"""

from __future__ import annotations

import copy
import json

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk

DOC_SAMPLE = "image-input/chat-doc-sample.yaml"
BOTH = "image-input/chat-url-and-data-url.yaml"
ALL = ("image-input.chat-doc-sample", "image-input.chat-url-and-data-url")


def rewrite_json(monkeypatch, change):
    """Let ``change`` edit the JSON body of every request the sync client builds."""
    from openai._base_client import SyncAPIClient

    original = SyncAPIClient._build_request

    def build(self, options, *args, **kwargs):
        if isinstance(options.json_data, dict):
            options = options.model_copy()
            options.json_data = copy.deepcopy(options.json_data)
            change(options.json_data)
        return original(self, options, *args, **kwargs)

    monkeypatch.setattr(SyncAPIClient, "_build_request", build)


def rewrite_bytes(monkeypatch, change):
    """Let ``change`` edit the raw body bytes of every request the sync client builds."""
    from openai._base_client import SyncAPIClient

    original = SyncAPIClient._build_request

    def build(self, options, *args, **kwargs):
        request = original(self, options, *args, **kwargs)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
        return type(request)(request.method, request.url, headers=headers,
                             content=change(request.read()), extensions=request.extensions)

    monkeypatch.setattr(SyncAPIClient, "_build_request", build)


def align_cassette(suite, name, change):
    """Make the cassette expect the request ``change`` produces."""

    def apply(interactions):
        request = interactions[0].request
        body = json.loads(request.body)
        change(body)
        request.body = json.dumps(body).encode()

    suite.edit(name, apply)


def image_parts(body):
    return [p for p in body["messages"][0]["content"] if p["type"] == "image_url"]


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run(*ALL)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(ALL, Verdict.PASS)


# -- a misbehaving server ----------------------------------------------------------------------


def a_reply_that_is_not_a_completion(suite, monkeypatch):
    suite.edit_json(DOC_SAMPLE, 0, lambda body: body.update(object="chat.completion.chunk"))


# -- a misbehaving SDK -------------------------------------------------------------------------


@broken_sdk
def adds_a_default_detail(suite, monkeypatch):
    def add_detail(body):
        for part in image_parts(body):
            part["image_url"].setdefault("detail", "auto")

    rewrite_json(monkeypatch, add_detail)
    align_cassette(suite, DOC_SAMPLE, add_detail)


@broken_sdk
def adds_a_detail_the_cassette_does_not_expect(suite, monkeypatch):
    """The cassette left as recorded: the replay alone fails the check."""
    rewrite_json(monkeypatch, lambda body: image_parts(body)[0]["image_url"].update(detail="auto"))


@broken_sdk
def flattens_image_url_to_a_string(suite, monkeypatch):
    def flatten(body):
        for part in image_parts(body):
            part["image_url"] = part["image_url"]["url"]

    rewrite_json(monkeypatch, flatten)
    align_cassette(suite, BOTH, flatten)


@broken_sdk
def percent_encodes_the_data_url(suite, monkeypatch):
    def escape(body):
        part = image_parts(body)[1]["image_url"]
        part["url"] = part["url"].replace("=", "%3D").replace("+", "%2B")

    rewrite_json(monkeypatch, escape)
    align_cassette(suite, BOTH, escape)


@broken_sdk
def reorders_parts(suite, monkeypatch):
    def reorder(body):
        body["messages"][0]["content"].reverse()

    rewrite_json(monkeypatch, reorder)
    align_cassette(suite, BOTH, reorder)


@broken_sdk
def escapes_slashes(suite, monkeypatch):
    """JSON-equal, so the replay matches and the parts compare equal; only the bytes differ."""
    rewrite_bytes(monkeypatch, lambda raw: raw.replace(b"/", b"\\/"))


@broken_sdk
def loses_the_reply_content(suite, monkeypatch):
    import openai

    completions = type(openai.OpenAI(api_key="unused").chat.completions)
    original = completions.create

    def hollow(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        result.choices[0].message.content = None
        return result

    monkeypatch.setattr(completions, "create", hollow)


CAUGHT = [
    (a_reply_that_is_not_a_completion, "image-input.chat-doc-sample", "python", "chat.object"),
    (adds_a_default_detail, "image-input.chat-doc-sample", "python",
     "did not send the messages as given"),
    (adds_a_detail_the_cassette_does_not_expect, "image-input.chat-doc-sample", "python",
     "matched no unplayed"),
    (flattens_image_url_to_a_string, "image-input.chat-url-and-data-url", "python",
     "image-input.part"),
    (percent_encodes_the_data_url, "image-input.chat-url-and-data-url", "python",
     "image-input.data-url"),
    (reorders_parts, "image-input.chat-url-and-data-url", "python",
     "did not send the messages as given"),
    (escapes_slashes, "image-input.chat-url-and-data-url", "python", "byte for byte"),
    (loses_the_reply_content, "image-input.chat-doc-sample", "python",
     "returned other content than the server sent"),
]
test_caught = caught(CAUGHT)
