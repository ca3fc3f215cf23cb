"""embeddings: embeddings.create against /openai/v1/embeddings, float and base64 vectors."""

from __future__ import annotations

import base64
import binascii
import math
import struct
from typing import Any

from conformance.contract import embeddings as contract
from conformance.harness import Wire
from conformance.registry import Observations, check, expect, fail
from conformance.sdk import Sdk, require_capability

from ._recorded import call_sdk, request_params
from ._requests import (
    EMBEDDING_ADA,
    EMBEDDING_DIMENSIONS,
    EMBEDDING_DOTNET_INPUT,
    EMBEDDING_INPUT,
    EMBEDDING_LARGE,
    EMBEDDING_PAIR,
    EMBEDDING_SMALL,
    EMBEDDING_TEXT,
    EMBEDDING_TOKENS,
)

ENCODINGS = "embeddings/encodings.yaml"
MULTIPLE = "embeddings/multiple-inputs.yaml"
DEFAULT_LENGTHS = {EMBEDDING_SMALL: 1536, EMBEDDING_LARGE: 3072, EMBEDDING_ADA: 1536}


def _conforms(wire: Wire, index: int, observe: Observations) -> Any:
    """The response body of request ``index``, after the contract (with its request) passed."""
    body = wire.response_json(index)
    violations = contract.validate_embeddings(body, wire.requests[index].json())
    if violations:
        observe(f"violations[{index}]", [str(v) for v in violations])
        fail(f"response {index} breaks the embeddings contract:\n"
             + "\n".join(map(str, violations)))
    return body


def _default_request(wire: Wire) -> dict[str, Any]:
    """Several inputs, the SDK's default encoding: the doc's sample live, the recorded request
    (multiple-inputs.yaml is a real recording) in replay. The recorded encoding_format
    'base64' is what the SDK adds by default, so it is left for the SDK to add."""
    request = request_params(wire, {"model": EMBEDDING_SMALL, "input": EMBEDDING_PAIR})
    if request.get("encoding_format") == "base64":
        del request["encoding_format"]
    return request


def _float32(values: object) -> bytes | None:
    """``values`` as little-endian float32 bytes; None unless it is a list of numbers."""
    if not isinstance(values, list) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
    ):
        return None
    try:
        return struct.pack(f"<{len(values)}f", *values)
    except (OverflowError, struct.error):
        return None


def _wire_bytes(vector: object) -> bytes:
    """The float32 bytes of a wire vector, base64 or float array."""
    if isinstance(vector, str):
        try:
            return base64.b64decode(vector, validate=True)
        except binascii.Error as exc:
            fail(f"the wire's base64 vector does not decode: {exc}")
    packed = _float32(vector)
    if packed is None:
        fail(f"the wire's vector is neither base64 nor an array of numbers: {vector!r:.60}")
    return packed


def _difference(got: bytes, want: bytes) -> str:
    """Where two float32 vectors differ, for a failure message."""
    if len(got) != len(want):
        return f"{len(got) // 4} values instead of {len(want) // 4}"
    a = struct.unpack(f"<{len(got) // 4}f", got)
    b = struct.unpack(f"<{len(want) // 4}f", want)
    diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if not diffs:
        return "no value differs"
    return (f"{len(diffs)} of {len(a)} values differ (first at {diffs[0]}: {a[diffs[0]]!r} "
            f"instead of {b[diffs[0]]!r})")


def _sdk_floats(vector: object, what: str) -> bytes:
    packed = _float32(vector)
    if packed is None:
        fail(f"{what}: the SDK returned {type(vector).__name__}, not list[float]")
    return packed


def _norm(packed: bytes) -> float:
    return math.sqrt(sum(v * v for v in struct.unpack(f"<{len(packed) // 4}f", packed)))


@check(
    "embeddings.sdk-default-base64",
    doc="Python / Embeddings / embeddings.create(); .NET / Embeddings (ToFloats())",
    claim="Without encoding_format the SDK sends encoding_format 'base64' and returns "
    "list[float] equal to the wire vector read as little-endian float32; that vector is the one "
    "the same request returns with encoding_format 'float'.",
    cassette=ENCODINGS,
    refs=("wire §14.1, §14.3", "sdk-behavior §7"),
)
def sdk_default_base64(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    require_capability("embeddings_base64_default")
    client = sdk.client()
    # Both calls first: a check that stops half way also leaves its cassette half played.
    default = client.embeddings.create(model=EMBEDDING_SMALL, input=EMBEDDING_INPUT)
    floats = client.embeddings.create(model=EMBEDDING_SMALL, input=EMBEDDING_INPUT,
                                      encoding_format="float")
    sent = wire.requests[0].json()
    observe("encoding_format_sent", sent.get("encoding_format"))
    expect(sent.get("encoding_format") == "base64",
           f"the SDK sent encoding_format {sent.get('encoding_format')!r}, not 'base64'")
    body = _conforms(wire, 0, observe)
    on_wire = _wire_bytes(body["data"][0]["embedding"])
    decoded = _sdk_floats(default.data[0].embedding, "default call")
    observe("sdk_type", type(default.data[0].embedding).__name__)
    observe("dimensions", len(decoded) // 4)
    observe("l2_norm", round(_norm(decoded), 6))
    if decoded != on_wire:
        fail("the SDK's list[float] is not the wire's base64 read as little-endian float32: "
             + _difference(decoded, on_wire))
    float_body = _conforms(wire, 1, observe)
    as_float = _sdk_floats(floats.data[0].embedding, "encoding_format='float'")
    expect(as_float == _wire_bytes(float_body["data"][0]["embedding"]),
           "with encoding_format='float' the SDK's vector differs from the wire")
    if decoded != as_float:
        fail("the base64 vector, read as little-endian float32, is not the float vector of the "
             f"same request: {_difference(decoded, as_float)}")


@check(
    "embeddings.explicit-format-untouched",
    doc="Python / Embeddings / embeddings.create()",
    claim="With encoding_format given, the SDK sends it and returns the vectors as the wire had "
    "them: the float array for 'float', the base64 string for 'base64'.",
    cassette=ENCODINGS,
    refs=("wire §14.1, §14.3", "sdk-behavior §7"),
)
def explicit_format_untouched(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    client = sdk.client()
    encodings = ("float", "base64")
    responses = [client.embeddings.create(model=EMBEDDING_SMALL, input=EMBEDDING_INPUT,
                                          encoding_format=encoding) for encoding in encodings]
    returned: dict[str, Any] = {}
    for n, (encoding, response) in enumerate(zip(encodings, responses, strict=True)):
        sent = wire.requests[n].json()
        expect(sent.get("encoding_format") == encoding,
               f"encoding_format={encoding!r} went out as {sent.get('encoding_format')!r}")
        body = _conforms(wire, n, observe)
        returned[encoding] = type(response.data[0].embedding).__name__
        expect(response.data[0].embedding == body["data"][0]["embedding"],
               f"with encoding_format={encoding!r} the SDK changed the vector (it returned "
               f"{returned[encoding]}; the wire had "
               f"{type(body['data'][0]['embedding']).__name__})")
    observe("sdk_types", returned)


@check(
    "embeddings.dimensions",
    doc="Python / Embeddings / embeddings.create(); Go / Embeddings (Embedding dimensions)",
    claim="dimensions=256 goes out in the request and every returned vector has 256 values, "
    "on the wire and in the SDK.",
    refs=("wire §14.1, §14.4",),
)
def dimensions(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    require_capability("embeddings_dimensions")
    response = sdk.client().embeddings.create(
        model=EMBEDDING_LARGE, input=EMBEDDING_TEXT, dimensions=EMBEDDING_DIMENSIONS,
        encoding_format="float",
    )
    sent = wire.requests[0].json()
    observe("dimensions_sent", sent.get("dimensions"))
    expect(sent.get("dimensions") == EMBEDDING_DIMENSIONS,
           f"dimensions went out as {sent.get('dimensions')!r}, not {EMBEDDING_DIMENSIONS}")
    body = _conforms(wire, 0, observe)
    lengths = [len(_sdk_floats(item.embedding, "dimensions")) // 4 for item in response.data]
    observe("sdk_lengths", lengths)
    expect(lengths == [EMBEDDING_DIMENSIONS] * len(body["data"]),
           f"the SDK returned vectors of {lengths} values, {EMBEDDING_DIMENSIONS} were asked for")


@check(
    "embeddings.vector-lengths",
    doc="Go / Embeddings (text-embedding-3-small); .NET / Embeddings (text-embedding-3-large)",
    claim="A default call returns 1536 values for text-embedding-3-small and "
    "text-embedding-ada-002 and 3072 for text-embedding-3-large, on the wire and in the SDK.",
    refs=("wire §14.4", "sdk-behavior §7"),
)
def vector_lengths(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    require_capability("embeddings_base64_default")
    client = sdk.client()
    calls = ((EMBEDDING_SMALL, EMBEDDING_INPUT), (EMBEDDING_LARGE, EMBEDDING_DOTNET_INPUT),
             (EMBEDDING_ADA, EMBEDDING_TOKENS))
    responses = [client.embeddings.create(model=model, input=text) for model, text in calls]
    seen: dict[str, int] = {}
    for n, ((model, _), response) in enumerate(zip(calls, responses, strict=True)):
        body = _conforms(wire, n, observe)
        wire_length = len(_wire_bytes(body["data"][0]["embedding"])) // 4
        seen[model] = len(_sdk_floats(response.data[0].embedding, model)) // 4
        expect(wire_length == DEFAULT_LENGTHS[model],
               f"{model}: the wire vector has {wire_length} values, not {DEFAULT_LENGTHS[model]}")
        expect(seen[model] == wire_length,
               f"{model}: the SDK returned {seen[model]} values, the wire had {wire_length}")
    observe("lengths", seen)


@check(
    "embeddings.multiple-inputs",
    doc="Python / Embeddings / embeddings.create() (input as a list)",
    claim="Several inputs in one call return one item per input, in input order with index "
    "matching the position, each decoded by the SDK to its own wire vector.",
    cassette=MULTIPLE,
    refs=("wire §14.1, §14.2", "sdk-behavior §7"),
)
def multiple_inputs(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    require_capability("embeddings_base64_default")
    request = _default_request(wire)
    response = call_sdk(sdk.client().embeddings.create, request)
    body = _conforms(wire, 0, observe)
    observe("indices", [item.index for item in response.data])
    expect(len(response.data) == len(request["input"]),
           f"{len(request['input'])} inputs, the SDK returned {len(response.data)} items")
    for n, item in enumerate(response.data):
        expect(item.index == n, f"item {n} has index {item.index}")
        decoded = _sdk_floats(item.embedding, f"item {n}")
        on_wire = _wire_bytes(body["data"][n]["embedding"])
        expect(decoded == on_wire, f"item {n}: the SDK vector is not the wire's: "
               f"{_difference(decoded, on_wire)}")


@check(
    "embeddings.usage",
    doc="Go / Embeddings (Usage - Prompt tokens, Total tokens)",
    claim="usage carries prompt_tokens and total_tokens (equal: embeddings have no completion "
    "tokens) and the SDK exposes both as on the wire.",
    cassette=MULTIPLE,
    refs=("wire §14.2",),
)
def usage(wire: Wire, sdk: Sdk, observe: Observations) -> None:
    require_capability("embeddings_base64_default")
    response = call_sdk(sdk.client().embeddings.create, _default_request(wire))
    body = _conforms(wire, 0, observe)
    wire_usage = body["usage"]
    observe("usage", {k: wire_usage[k] for k in ("prompt_tokens", "total_tokens")})
    parsed = response.usage
    expect(parsed is not None, "the wire had usage, the SDK object has none")
    expect((parsed.prompt_tokens, parsed.total_tokens)
           == (wire_usage["prompt_tokens"], wire_usage["total_tokens"]),
           "SDK usage differs from the wire")
