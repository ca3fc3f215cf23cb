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

from .mutants import rewrite_json

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


def test_a_release_that_sends_no_default_encoding_is_observed(suite, monkeypatch):
    """openai-python up to 1.61.1 (without numpy) sends no encoding_format: observed, then
    unsupported for such a release, a fail for one that should send it; either way the
    observation differs from a release that sends base64 (what the gate shows at 1.62.0)."""
    import importlib.metadata

    rewrite_json(monkeypatch, _no_default_encoding)
    run = suite.run("embeddings.sdk-default-base64")
    assert run.verdict("embeddings.sdk-default-base64") is Verdict.FAIL
    assert "sent encoding_format None" in run.message("embeddings.sdk-default-base64")
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


def test_big_endian_base64_fails(suite):
    suite.edit_json("embeddings/encodings.yaml", 0, _swap_byte_order)
    run = suite.run("embeddings.sdk-default-base64")
    assert run.verdict("embeddings.sdk-default-base64") is Verdict.FAIL
    assert "little-endian float32" in run.message("embeddings.sdk-default-base64")


def test_garbled_base64_fails(suite):
    def garble(body):
        body["data"][0]["embedding"] = body["data"][0]["embedding"][:-3]

    suite.edit_json("embeddings/encodings.yaml", 0, garble)
    run = suite.run("embeddings.sdk-default-base64")
    assert run.verdict("embeddings.sdk-default-base64") is Verdict.FAIL


def test_a_float_vector_unlike_the_base64_one_fails(suite):
    def nudge(body):
        body["data"][0]["embedding"][7] += 0.001

    suite.edit_json("embeddings/encodings.yaml", 1, nudge)
    run = suite.run("embeddings.sdk-default-base64")
    assert run.verdict("embeddings.sdk-default-base64") is Verdict.FAIL
    assert "1 of 1536 values differ (first at 7" in run.message("embeddings.sdk-default-base64")


def test_wrong_vector_length_fails(suite):
    def truncate(body):
        raw = base64.b64decode(body["data"][0]["embedding"])
        body["data"][0]["embedding"] = base64.b64encode(raw[: 1536 * 4]).decode()

    suite.edit_json("embeddings/vector-lengths.yaml", 1, truncate)
    run = suite.run("embeddings.vector-lengths")
    assert run.verdict("embeddings.vector-lengths") is Verdict.FAIL
    assert "embeddings.default-length" in run.message("embeddings.vector-lengths")


def test_dimensions_ignored_by_the_server_fails(suite):
    def pad(body):
        body["data"][0]["embedding"] += [0.0] * 10

    suite.edit_json("embeddings/dimensions.yaml", 0, pad)
    run = suite.run("embeddings.dimensions")
    assert run.verdict("embeddings.dimensions") is Verdict.FAIL
    assert "embeddings.dimensions" in run.message("embeddings.dimensions")


def test_index_out_of_order_fails(suite):
    def swap(body):
        body["data"].reverse()

    suite.edit_json("embeddings/multiple-inputs.yaml", 0, swap)
    run = suite.run("embeddings.multiple-inputs")
    assert run.verdict("embeddings.multiple-inputs") is Verdict.FAIL
    assert "embeddings.order" in run.message("embeddings.multiple-inputs")


def test_one_item_for_two_inputs_fails(suite):
    def drop_last(body):
        del body["data"][-1]

    suite.edit_json("embeddings/multiple-inputs.yaml", 0, drop_last)
    run = suite.run("embeddings.multiple-inputs")
    assert run.verdict("embeddings.multiple-inputs") is Verdict.FAIL
    assert "embeddings.count" in run.message("embeddings.multiple-inputs")


def test_usage_missing_fails(suite):
    def drop_usage(body):
        del body["usage"]

    suite.edit_json("embeddings/multiple-inputs.yaml", 0, drop_usage)
    run = suite.run("embeddings.usage")
    assert run.verdict("embeddings.usage") is Verdict.FAIL
    assert "embeddings.usage" in run.message("embeddings.usage")


# -- a misbehaving SDK -------------------------------------------------------------------------


def test_sdk_that_keeps_the_wire_default_fails(suite, monkeypatch):
    """openai < 1.62 without numpy: no encoding_format, so the wire default (float)."""

    def drop_default(body):
        if body.get("encoding_format") == "base64" and body.get("input") == ["Hello, world!"]:
            body.pop("encoding_format")

    rewrite_json(monkeypatch, drop_default)
    run = suite.run("embeddings.sdk-default-base64")
    assert run.verdict("embeddings.sdk-default-base64") is Verdict.FAIL


def test_sdk_that_decodes_big_endian_fails(suite, monkeypatch):
    def swapped(typecode, data):
        values = array.array(typecode, data)
        values.byteswap()
        return values

    monkeypatch.setattr(PARSING, "array", types.SimpleNamespace(array=swapped))
    run = suite.run("embeddings.sdk-default-base64", "embeddings.multiple-inputs")
    assert run.verdict("embeddings.sdk-default-base64") is Verdict.FAIL
    assert "little-endian" in run.message("embeddings.sdk-default-base64")
    assert run.verdict("embeddings.multiple-inputs") is Verdict.FAIL


def test_sdk_that_truncates_vectors_fails(suite, monkeypatch):
    def truncated(typecode, data):
        return array.array(typecode, data)[:256]

    monkeypatch.setattr(PARSING, "array", types.SimpleNamespace(array=truncated))
    run = suite.run("embeddings.vector-lengths")
    assert run.verdict("embeddings.vector-lengths") is Verdict.FAIL
    assert "python returned 256 values" in run.message("embeddings.vector-lengths")


def test_sdk_that_decodes_an_explicit_base64_fails(suite, monkeypatch):
    original = PARSING.parse_embedding_response
    monkeypatch.setattr(PARSING, "parse_embedding_response",
                        lambda obj, encoding_format: original(obj, encoding_format=openai.omit))
    run = suite.run("embeddings.explicit-format-untouched")
    assert run.verdict("embeddings.explicit-format-untouched") is Verdict.FAIL
    assert "changed the vector" in run.message("embeddings.explicit-format-untouched")


def test_sdk_that_drops_dimensions_fails(suite, monkeypatch):
    rewrite_json(monkeypatch, lambda body: body.pop("dimensions", None))
    run = suite.run("embeddings.dimensions")
    assert run.verdict("embeddings.dimensions") is Verdict.FAIL


def test_sdk_that_reorders_items_fails(suite, monkeypatch):
    resource = openai.resources.embeddings.Embeddings
    original = resource.create

    def create(self, **kwargs):
        response = original(self, **kwargs)
        response.data.reverse()
        return response

    monkeypatch.setattr(resource, "create", create)
    run = suite.run("embeddings.multiple-inputs")
    assert run.verdict("embeddings.multiple-inputs") is Verdict.FAIL
    assert "indices [1, 0], not their positions" in run.message("embeddings.multiple-inputs")


def test_sdk_that_loses_usage_fails(suite, monkeypatch):
    resource = openai.resources.embeddings.Embeddings
    original = resource.create

    def create(self, **kwargs):
        response = original(self, **kwargs)
        response.usage.total_tokens = 0
        return response

    monkeypatch.setattr(resource, "create", create)
    run = suite.run("embeddings.usage")
    assert run.verdict("embeddings.usage") is Verdict.FAIL


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_is_listed_here(check):
    from conformance.registry import REGISTRY
    from conformance.suites import embeddings  # noqa: F401

    assert {c for c in REGISTRY if c.startswith("embeddings.")} == set(CHECKS)
    assert check in REGISTRY
