"""The embeddings contract accepts the reference bodies and catches each rule's violation."""

from __future__ import annotations

import base64
import copy
import json
import struct

import pytest

from conformance.contract import RULES
from conformance.contract import embeddings as contract


@pytest.fixture(scope="module")
def recorded(request):
    path = request.config.rootpath / "tests" / "corpus" / "reference"
    return {
        "base64": json.loads((path / "embeddings.base64.openai.json").read_text()),
        "float": json.loads((path / "embeddings.float.derived.json").read_text()),
        "request": json.loads((path / "embeddings.base64.openai.request.json").read_text())["body"],
        "variants": json.loads((path / "embeddings.request-variants.json").read_text()),
    }


def rules(violations):
    return {v.rule for v in violations}


def encode(values):
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def small(vectors, model="text-embedding-3-small", tokens=2):
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": n, "embedding": v}
                 for n, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def test_the_recorded_base64_body_conforms_with_its_request(recorded):
    assert contract.validate_embeddings(recorded["base64"], recorded["request"]) == []


def test_the_derived_float_body_conforms_with_a_float_request(recorded):
    request = dict(recorded["request"], encoding_format="float")
    assert contract.validate_embeddings(recorded["float"], request) == []


def test_the_recorded_base64_decodes_to_the_derived_floats(recorded):
    decoded = contract.decode_base64(recorded["base64"]["data"][0]["embedding"])
    floats = recorded["float"]["data"][0]["embedding"]
    assert struct.pack("<1536f", *decoded) == struct.pack("<1536f", *floats)


def test_unknown_fields_and_azure_extras_are_tolerated(recorded):
    body = copy.deepcopy(recorded["base64"])
    body["system_fingerprint"] = None
    body["prompt_filter_results"] = []
    body["data"][0]["extra"] = {"anything": 1}
    body["usage"]["prompt_tokens_details"] = None
    assert contract.validate_embeddings(body, recorded["request"]) == []


def test_a_dated_model_name_keeps_its_family_length(recorded):
    body = copy.deepcopy(recorded["base64"])
    body["model"] = "text-embedding-3-small-2024-01-25"
    assert contract.validate_embeddings(body, recorded["request"]) == []


@pytest.mark.parametrize(
    ("variant", "count"),
    [("float_default_on_wire", 1), ("base64_explicit", 2), ("reduced_dimensions", 1),
     ("token_array_input", 1)],
)
def test_the_request_variants_are_understood(recorded, variant, count):
    request = recorded["variants"][variant]
    length = request.get("dimensions", 3072 if "large" in request["model"] else 1536)
    vector = [0.0] * (length - 1) + [1.0]
    wire = encode(vector) if request.get("encoding_format") == "base64" else vector
    body = small([wire] * count, model=request["model"])
    assert contract.validate_embeddings(body, request) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AAAAAA", "padded"),  # a missing "=" breaks the SDK's b64decode
        ("AAA=", "multiple of 4"),  # 2 bytes
        ("", "multiple of 4"),
        ("AAAA AAA=", "padded"),
        ("AAAA\nAAAA", "padded"),
    ],
)
def test_decode_base64_is_strict(text, message):
    with pytest.raises(ValueError, match=message):
        contract.decode_base64(text)


def _drop(key):
    return lambda body: body.pop(key)


def _set(path, value):
    def change(body):
        target = body
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


ONE = [0.6, 0.8]
NAN = encode([float("nan"), 1.0])
BIG_ENDIAN = base64.b64encode(struct.pack(">2f", 0.6, 0.8)).decode()


def _swap(body):
    body["data"] = [dict(body["data"][1], index=1), dict(body["data"][0], index=0)]


VIOLATIONS = [
    # (rule, change to a valid two-item float body, request or None)
    ("embeddings.object", _set(["object"], "embedding"), None),
    ("embeddings.object", lambda body: ["not", "an", "object"], None),
    ("embeddings.model", _set(["model"], ""), None),
    ("embeddings.data", _set(["data"], []), None),
    ("embeddings.data", _set(["data"], [ONE]), None),
    ("embeddings.item.object", _set(["data", 0, "object"], "list"), None),
    ("embeddings.index", _set(["data", 1, "index"], 0), None),
    ("embeddings.index", _set(["data", 1, "index"], 2), None),
    ("embeddings.index", _set(["data", 0, "index"], "0"), None),
    ("embeddings.order", _swap, None),
    ("embeddings.vector", _set(["data", 0, "embedding"], []), None),
    ("embeddings.vector", _set(["data", 0, "embedding"], [0.6, "0.8"]), None),
    ("embeddings.vector", _set(["data", 0, "embedding"], [0.6, True]), None),
    ("embeddings.vector", _set(["data", 0, "embedding"], None), None),
    ("embeddings.base64", _set(["data", 0, "embedding"], "not base64!"), None),
    ("embeddings.base64", _set(["data", 0, "embedding"], NAN), None),
    ("embeddings.same-length", _set(["data", 1, "embedding"], [1.0]), None),
    ("embeddings.usage", _drop("usage"), None),
    ("embeddings.usage", _set(["usage", "prompt_tokens"], -1), None),
    ("embeddings.usage", _set(["usage", "total_tokens"], 3), None),
    ("embeddings.usage", _set(["usage"], {"prompt_tokens": 2}), None),
    ("embeddings.count", lambda body: None, {"model": "m", "input": ["a", "b", "c"]}),
    ("embeddings.count", lambda body: None, {"model": "m", "input": "a"}),
    ("embeddings.count", lambda body: None, {"model": "m", "input": [1, 2, 3]}),
    ("embeddings.encoding", lambda body: None,
     {"model": "m", "input": ["a", "b"], "encoding_format": "base64"}),
    ("embeddings.encoding", _set(["data", 1, "embedding"], encode(ONE)),
     {"model": "m", "input": ["a", "b"]}),
    ("embeddings.dimensions", lambda body: None,
     {"model": "m", "input": ["a", "b"], "dimensions": 3}),
    ("embeddings.default-length", _set(["model"], "text-embedding-3-large"),
     {"model": "my-deployment", "input": ["a", "b"]}),
]


@pytest.mark.parametrize(("rule", "change", "request_body"), VIOLATIONS,
                         ids=[f"{r}-{n}" for n, (r, _, _) in enumerate(VIOLATIONS)])
def test_each_violation_is_caught(rule, change, request_body):
    body = small([list(ONE), list(ONE)])
    replaced = change(body)
    body = body if replaced is None else replaced
    found = contract.validate_embeddings(body, request_body)
    assert rule in rules(found), found


def fired_by_table(reference):
    """The rules this module's table fires: a case counts only when its rule fires."""
    fired = set()
    for rule, change, request_body in VIOLATIONS:
        body = small([list(ONE), list(ONE)])
        replaced = change(body)
        body = body if replaced is None else replaced
        fired |= {rule} & rules(contract.validate_embeddings(body, request_body))
    return fired


def test_every_embeddings_rule_has_a_violation():
    declared = {r for r in RULES if r.startswith("embeddings.")}
    assert declared == {rule for rule, _, _ in VIOLATIONS}


def test_a_big_endian_vector_is_not_the_float_one():
    """Big-endian bytes usually decode to finite nonsense; only comparing with the float
    twin exposes them (the checks do); NaNs are caught by the contract itself."""
    assert contract.decode_base64(BIG_ENDIAN) != pytest.approx(ONE)


def test_dimensions_are_not_judged_by_the_deployment_name():
    body = small([[1.0] * 3072], model="text-embedding-3-large")
    request = {"model": "text-embedding-3-small", "input": "x"}  # a deployment so named
    assert contract.validate_embeddings(body, request) == []


def test_no_request_means_no_request_rules():
    body = small([encode(ONE)])
    assert contract.validate_embeddings(body) == []
