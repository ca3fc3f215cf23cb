"""The embeddings checks pass on the packaged cassettes and fail against a server or an SDK
that gets vectors wrong."""

from __future__ import annotations

import array
import base64
import struct
import types

# The SDK imports these lazily. Imported here, before any in-process suite run, they stay the
# modules the SDK uses: pytester drops modules first imported during a run, and a mutant
# patched onto a dropped module would change nothing.
import openai.resources.embeddings
import pytest

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk, rewrite_json

try:
    from openai.lib._parsing import _embeddings as PARSING  # 3.x
except ImportError:  # pragma: no cover - older SDKs decode in resources/embeddings.py
    PARSING = openai.resources.embeddings

CHECKS = (
    "embeddings.sdk-default-base64",
    "embeddings.explicit-format-untouched",
    "embeddings.dimensions",
    "embeddings.vector-lengths",
    "embeddings.multiple-inputs",
    "embeddings.usage",
)


def test_all_pass_on_the_packaged_cassettes(suite):
    run = suite.run(*CHECKS)
    assert {c.id: c.verdict for c in run.results.checks} == dict.fromkeys(CHECKS, Verdict.PASS)
    observed = run.result("embeddings.vector-lengths").observations["lengths"]
    assert observed == {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072,
                        "text-embedding-ada-002": 1536}


def test_base64_default_is_unsupported_below_1_62(suite, monkeypatch):
    import importlib.metadata

    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "1.61.1" if name == "openai" else real(name))
    run = suite.run(*CHECKS)
    for check in ("embeddings.vector-lengths", "embeddings.multiple-inputs", "embeddings.usage"):
        assert run.verdict(check) is Verdict.UNSUPPORTED, run.message(check)
        assert "1.62.0" in run.message(check)
    assert run.verdict("embeddings.dimensions") is Verdict.PASS
    # probed, not read from the table: this SDK sends base64 whatever it calls itself
    assert run.verdict("embeddings.sdk-default-base64") is Verdict.PASS


def _no_default_encoding(body):
    if body.get("encoding_format") == "base64":
        del body["encoding_format"]


def test_a_release_below_1_62_that_sends_no_default_encoding_is_observed(suite, monkeypatch):
    """openai-python up to 1.61.1 (without numpy) sends no encoding_format: observed, then
    unsupported for such a release, a fail for one that should send it (the row of
    sends_no_default_encoding); either way the observation differs from a release that sends
    base64 (what the gate shows at 1.62.0)."""
    import importlib.metadata

    sends_no_default_encoding(suite, monkeypatch)
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "1.61.1" if name == "openai" else real(name))
    run = suite.run("embeddings.sdk-default-base64")
    assert run.verdict("embeddings.sdk-default-base64") is Verdict.UNSUPPORTED
    assert "1.62.0" in run.message("embeddings.sdk-default-base64")
    observed = run.result("embeddings.sdk-default-base64").observations
    assert observed["encoding_format_sent"] is None


# -- a misbehaving server ----------------------------------------------------------------------


def _swap_byte_order(body):
    raw = base64.b64decode(body["data"][0]["embedding"])
    values = struct.unpack(f"<{len(raw) // 4}f", raw)
    body["data"][0]["embedding"] = base64.b64encode(
        struct.pack(f">{len(values)}f", *values)).decode()


def big_endian_base64(suite, monkeypatch):
    suite.edit_json("embeddings/encodings.yaml", 0, _swap_byte_order)


def garbled_base64(suite, monkeypatch):
    def garble(body):
        body["data"][0]["embedding"] = body["data"][0]["embedding"][:-3]

    suite.edit_json("embeddings/encodings.yaml", 0, garble)


def a_float_vector_unlike_the_base64_one(suite, monkeypatch):
    def nudge(body):
        body["data"][0]["embedding"][7] += 0.001

    suite.edit_json("embeddings/encodings.yaml", 1, nudge)


def a_wrong_vector_length(suite, monkeypatch):
    def truncate(body):
        raw = base64.b64decode(body["data"][0]["embedding"])
        body["data"][0]["embedding"] = base64.b64encode(raw[: 1536 * 4]).decode()

    suite.edit_json("embeddings/vector-lengths.yaml", 1, truncate)


def dimensions_ignored_by_the_server(suite, monkeypatch):
    def pad(body):
        body["data"][0]["embedding"] += [0.0] * 10

    suite.edit_json("embeddings/dimensions.yaml", 0, pad)


def indices_out_of_order(suite, monkeypatch):
    def swap(body):
        body["data"].reverse()

    suite.edit_json("embeddings/multiple-inputs.yaml", 0, swap)


def one_item_for_two_inputs(suite, monkeypatch):
    def drop_last(body):
        del body["data"][-1]

    suite.edit_json("embeddings/multiple-inputs.yaml", 0, drop_last)


def usage_missing(suite, monkeypatch):
    def drop_usage(body):
        del body["usage"]

    suite.edit_json("embeddings/multiple-inputs.yaml", 0, drop_usage)


# -- a misbehaving SDK -------------------------------------------------------------------------


@broken_sdk
def sends_no_default_encoding(suite, monkeypatch):
    rewrite_json(monkeypatch, _no_default_encoding)


@broken_sdk
def keeps_the_wire_default(suite, monkeypatch):
    """openai < 1.62 without numpy: no encoding_format, so the wire default (float)."""

    def drop_default(body):
        if body.get("encoding_format") == "base64" and body.get("input") == ["Hello, world!"]:
            body.pop("encoding_format")

    rewrite_json(monkeypatch, drop_default)


@broken_sdk
def decodes_big_endian(suite, monkeypatch):
    def swapped(typecode, data):
        values = array.array(typecode, data)
        values.byteswap()
        return values

    monkeypatch.setattr(PARSING, "array", types.SimpleNamespace(array=swapped))


@broken_sdk
def truncates_vectors(suite, monkeypatch):
    def truncated(typecode, data):
        return array.array(typecode, data)[:256]

    monkeypatch.setattr(PARSING, "array", types.SimpleNamespace(array=truncated))


@broken_sdk
def decodes_an_explicit_base64(suite, monkeypatch):
    original = PARSING.parse_embedding_response
    monkeypatch.setattr(PARSING, "parse_embedding_response",
                        lambda obj, encoding_format: original(obj, encoding_format=openai.omit))


@broken_sdk
def drops_dimensions(suite, monkeypatch):
    rewrite_json(monkeypatch, lambda body: body.pop("dimensions", None))


def _tamper(monkeypatch, change):
    """An SDK whose ``embeddings.create`` hands its result to ``change`` first."""
    resource = openai.resources.embeddings.Embeddings
    original = resource.create

    def create(self, **kwargs):
        response = original(self, **kwargs)
        change(response)
        return response

    monkeypatch.setattr(resource, "create", create)


@broken_sdk
def reorders_items(suite, monkeypatch):
    _tamper(monkeypatch, lambda response: response.data.reverse())


@broken_sdk
def loses_usage(suite, monkeypatch):
    _tamper(monkeypatch, lambda response: setattr(response.usage, "total_tokens", 0))


CAUGHT = [
    (big_endian_base64, "embeddings.sdk-default-base64", "python", "little-endian float32"),
    (garbled_base64, "embeddings.sdk-default-base64", "python", ""),
    (a_float_vector_unlike_the_base64_one, "embeddings.sdk-default-base64", "python",
     "1 of 1536 values differ (first at 7"),
    (a_wrong_vector_length, "embeddings.vector-lengths", "python", "embeddings.default-length"),
    (dimensions_ignored_by_the_server, "embeddings.dimensions", "python",
     "embeddings.dimensions"),
    (indices_out_of_order, "embeddings.multiple-inputs", "python", "embeddings.order"),
    (one_item_for_two_inputs, "embeddings.multiple-inputs", "python", "embeddings.count"),
    (usage_missing, "embeddings.usage", "python", "embeddings.usage"),
    (sends_no_default_encoding, "embeddings.sdk-default-base64", "python",
     "sent encoding_format None"),
    (keeps_the_wire_default, "embeddings.sdk-default-base64", "python", ""),
    (decodes_big_endian, "embeddings.sdk-default-base64", "python", "little-endian"),
    (decodes_big_endian, "embeddings.multiple-inputs", "python", ""),
    (truncates_vectors, "embeddings.vector-lengths", "python", "python returned 256 values"),
    (decodes_an_explicit_base64, "embeddings.explicit-format-untouched", "python",
     "changed the vector"),
    (drops_dimensions, "embeddings.dimensions", "python", ""),
    (reorders_items, "embeddings.multiple-inputs", "python",
     "indices [1, 0], not their positions"),
    (loses_usage, "embeddings.usage", "python", ""),
]
test_caught = caught(CAUGHT)


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_is_listed_here(check):
    from conformance.registry import REGISTRY
    from conformance.suites import embeddings  # noqa: F401

    assert {c for c in REGISTRY if c.startswith("embeddings.")} == set(CHECKS)
    assert check in REGISTRY
