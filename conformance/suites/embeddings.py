"""embeddings: embeddings.create against /openai/v1/embeddings, float and base64 vectors, on
every SDK."""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.contract import embeddings as contract
from conformance.drivers.outcome import DriverOutcome
from conformance.drivers.pool import Driver
from conformance.harness import Wire
from conformance.policy import doc_vs_sdk
from conformance.registry import ALL_SDKS, Observations, check, expect, fail
from conformance.wire import Interaction, RecordedRequest, Reply
from conformance.wire import script as actions
from conformance.wire.validation import decode_body

from ._capability import python_needs
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
from ._scenario import no_error, recorded, scenario

ENCODINGS = "embeddings/encodings.yaml"
MULTIPLE = "embeddings/multiple-inputs.yaml"
DEFAULT_LENGTHS = {EMBEDDING_SMALL: 1536, EMBEDDING_LARGE: 3072, EMBEDDING_ADA: 1536}
# What each SDK sends without encoding_format, where it is not the doc's base64:
# openai-go leaves it out, and the service answers floats (sdk-behavior.md, the cross-SDK
# table: "embeddings default"). openai-python, openai-node and openai-java send base64.
OWN_DEFAULT: dict[str, str | None] = {"go": None}
SDK_DEFAULTS_SOURCE = "sdk-behavior.md (cross-SDK table, embeddings default)"
# The SDKs whose vector type keeps a base64 string as the string (the others decode it).
KEEPS_BASE64_STRING = ("python", "javascript")
# openai-java types a vector as List<Float>: the wire's values at float32 precision.
FLOAT32_VECTORS = ("java",)


@dataclass
class _InAskedEncoding:
    """Replays a recorded embeddings cassette in the encoding each request asks for.

    The recordings asked for base64 (what openai-python sends by default). An SDK whose own
    default leaves encoding_format out (openai-go) asks the service for floats: it is answered
    with the recorded vectors as the float arrays they are (the float32 values of the base64
    string, which is what the service answers for the same request: embeddings.encodings.yaml).
    Every other difference from the recorded request is a miss, as in an exact replay."""

    interactions: list[Interaction]
    problems: list[str] = field(default_factory=list)
    served: int = 0

    def respond(self, request: RecordedRequest) -> Any:
        n, self.served = self.served, self.served + 1
        if n >= len(self.interactions):
            self.problems.append(f"request {n}: the recording has no request {n}")
            return actions.EXHAUSTED
        interaction = self.interactions[n]
        want, got = dict(interaction.request_json() or {}), dict(request.json() or {})
        recorded_format, asked = want.pop("encoding_format", None), got.pop("encoding_format", None)
        if request.path != interaction.request.path or got != want:
            self.problems.append(f"request {n} differs from the recording: sent "
                                 f"{json.dumps(got)[:300]}, recorded {json.dumps(want)[:300]}")
            return actions.EXHAUSTED
        body = decode_body(interaction.body, interaction.header("content-encoding"))
        headers = [(k, v) for k, v in interaction.headers if k.lower() not in
                   ("content-encoding", "content-length", "transfer-encoding")]
        if interaction.header("content-type") is None:
            # A recording kept without its headers (multiple-inputs.yaml): the service sends
            # its JSON as application/json, and openai-node parses only a body typed so.
            headers.append(("content-type", "application/json"))
        if (asked or "float") == (recorded_format or "float"):
            return Reply(interaction.status, headers, body)
        if recorded_format == "base64" and asked in (None, "float"):
            data = json.loads(body)
            for item in data.get("data") or []:
                raw = base64.b64decode(item["embedding"])
                item["embedding"] = list(struct.unpack(f"<{len(raw) // 4}f", raw))
            return actions.reply(interaction.status, data, headers=[
                (k, v) for k, v in headers if k.lower() != "content-type"])
        self.problems.append(f"request {n} asks for encoding_format {asked!r}; the recording "
                             f"has {recorded_format!r}")
        return actions.EXHAUSTED


def _replay_in_asked_encoding(wire: Wire) -> _InAskedEncoding | None:
    """Serve a replayed cassette in the encoding each SDK asks for (live: nothing to do)."""
    cassette = wire.cassette
    if cassette is None:
        return None
    responder = _InAskedEncoding(list(cassette.interactions))
    wire.use(responder)
    return responder


def _replayed(responder: _InAskedEncoding | None) -> None:
    """Fail as an exact replay does: a request the recording does not have, or one left out."""
    if responder is None:
        return
    left = len(responder.interactions) - responder.served
    problems = responder.problems + ([f"{left} recorded request(s) were never sent"]
                                     if left > 0 else [])
    if problems:
        fail("the replay was not exact:\n" + "\n".join(problems))


def _embed(wire: Wire, driver: Driver, params: Mapping[str, Any]) -> DriverOutcome:
    outcome = driver.run(scenario(wire, "embeddings.create", params))
    no_error(outcome, driver.sdk)
    return outcome


def _vectors(outcome: DriverOutcome) -> list[Any]:
    """Every vector as user code read it (Data[i].Embedding, embedding(), data[i].embedding)."""
    return list(outcome.read.embeddings or [])


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
    request = recorded(wire, {"model": EMBEDDING_SMALL, "input": EMBEDDING_PAIR})
    if request.get("encoding_format") == "base64":
        del request["encoding_format"]
    return request


def _default_call(wire: Wire, driver: Driver,
                  observe: Observations) -> tuple[dict[str, Any], DriverOutcome, Any]:
    """The default call of several inputs (:func:`_default_request`), replayed exactly in the
    encoding the SDK asks for: the request, the SDK's outcome and the response body, after the
    contract passed."""
    python_needs(driver, "embeddings_base64_default")
    request = _default_request(wire)
    responder = _replay_in_asked_encoding(wire)
    outcome = _embed(wire, driver, request)
    _replayed(responder)
    return request, outcome, _conforms(wire, 0, observe)


def _default_sent(driver: Driver, sent: Any, observe: Observations) -> None:
    """The encoding_format the SDK sent by default: the doc's base64, or the SDK's own
    documented default (a departure from the doc, recorded)."""
    own = OWN_DEFAULT.get(driver.sdk, "base64")
    expect(sent == own, f"{driver.sdk} sent encoding_format {sent!r} by default, not "
           f"{own!r} ({SDK_DEFAULTS_SOURCE})")
    if own != "base64":
        observe("doc_vs_sdk", [doc_vs_sdk(driver.sdk, "embeddings default encoding",
                                          "encoding_format 'base64'", f"encoding_format {own!r}",
                                          SDK_DEFAULTS_SOURCE)])


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
        fail(f"{what}: user code got {type(vector).__name__}, not a list of floats")
    return packed


def _norm(packed: bytes) -> float:
    return math.sqrt(sum(v * v for v in struct.unpack(f"<{len(packed) // 4}f", packed)))


@check(
    "embeddings.sdk-default-base64",
    doc="Python / Embeddings / embeddings.create(); .NET / Embeddings (ToFloats()); Go / "
    "Embeddings",
    claim="Without encoding_format the SDK sends encoding_format 'base64' (openai-go sends "
    "none, its own default: doc_vs_sdk) and user code reads floats equal to the wire vector "
    "read as little-endian float32; that vector is the one the same request returns with "
    "encoding_format 'float'.",
    cassette=ENCODINGS,
    refs=("wire §14.1, §14.3", "sdk-behavior §7"),
    sdks=ALL_SDKS,
)
def sdk_default_base64(wire: Wire, driver: Driver, observe: Observations) -> None:
    sdk = driver.sdk
    responder = _replay_in_asked_encoding(wire)
    # Both calls first: a check that stops half way also leaves its cassette half played.
    default = _embed(wire, driver, {"model": EMBEDDING_SMALL, "input": EMBEDDING_INPUT})
    floats = _embed(wire, driver, {"model": EMBEDDING_SMALL, "input": EMBEDDING_INPUT,
                                   "encoding_format": "float"})
    _replayed(responder)
    sent = observe("encoding_format_sent", wire.requests[0].json().get("encoding_format"))
    if sent is None:
        # Observed first, so a release that starts (or stops) sending it shows in a diff;
        # openai-python before 1.62.0 sends none without numpy: that release's known default.
        python_needs(driver, "embeddings_base64_default")
    _default_sent(driver, sent, observe)
    body = _conforms(wire, 0, observe)
    on_wire = _wire_bytes(body["data"][0]["embedding"])
    read = (_vectors(default) or [None])[0]
    decoded = _sdk_floats(read, "default call")
    observe("dimensions", len(decoded) // 4)
    observe("l2_norm", round(_norm(decoded), 6))
    if decoded != on_wire:
        fail(f"the floats {sdk} handed user code are not the wire's vector read as "
             f"little-endian float32: {_difference(decoded, on_wire)}")
    float_body = _conforms(wire, 1, observe)
    as_float = _sdk_floats((_vectors(floats) or [None])[0], "encoding_format='float'")
    expect(as_float == _wire_bytes(float_body["data"][0]["embedding"]),
           f"with encoding_format='float' {sdk}'s vector differs from the wire")
    if decoded != as_float:
        fail(f"the default call's vector ({sent or 'no encoding_format'}) is not the float "
             f"vector of the same request: {_difference(decoded, as_float)}")


@check(
    "embeddings.explicit-format-untouched",
    doc="Python / Embeddings / embeddings.create()",
    claim="With encoding_format given, the SDK sends it and user code reads the vectors as the "
    "wire had them: the float array for 'float'; for 'base64' the base64 string where the "
    "SDK's type keeps it (Python, JavaScript), else exactly the float32 values it encodes "
    "(openai-go's []float64 and openai-java's embedding() always decode).",
    cassette=ENCODINGS,
    refs=("wire §14.1, §14.3", "sdk-behavior §7"),
    sdks=ALL_SDKS,
)
def explicit_format_untouched(wire: Wire, driver: Driver, observe: Observations) -> None:
    sdk = driver.sdk
    encodings = ("float", "base64")
    outcomes = [_embed(wire, driver, {"model": EMBEDDING_SMALL, "input": EMBEDDING_INPUT,
                                      "encoding_format": encoding}) for encoding in encodings]
    returned: dict[str, Any] = {}
    for n, (encoding, outcome) in enumerate(zip(encodings, outcomes, strict=True)):
        sent = wire.requests[n].json()
        expect(sent.get("encoding_format") == encoding,
               f"encoding_format={encoding!r} went out as {sent.get('encoding_format')!r}")
        body = _conforms(wire, n, observe)
        on_wire = body["data"][0]["embedding"]
        got = (_vectors(outcome) or [None])[0]
        returned[encoding] = type(got).__name__
        if isinstance(on_wire, str) and sdk not in KEEPS_BASE64_STRING:
            decoded = _sdk_floats(got, f"encoding_format={encoding!r}")
            expect(decoded == _wire_bytes(on_wire),
                   f"with encoding_format={encoding!r} {sdk}'s floats are not the wire's "
                   f"base64 vector: {_difference(decoded, _wire_bytes(on_wire))}")
            continue
        if sdk in FLOAT32_VECTORS:
            same = _float32(got) is not None and _float32(got) == _float32(on_wire)
        else:
            same = got == on_wire
        expect(same,
               f"with encoding_format={encoding!r} {sdk} changed the vector (user code got "
               f"{returned[encoding]}; the wire had {type(on_wire).__name__})")
    observe("sdk_types", returned)


@check(
    "embeddings.dimensions",
    doc="Python / Embeddings / embeddings.create(); Go / Embeddings (Embedding dimensions)",
    claim="dimensions=256 goes out in the request and every returned vector has 256 values, "
    "on the wire and in the SDK.",
    refs=("wire §14.1, §14.4",),
    sdks=ALL_SDKS,
)
def dimensions(wire: Wire, driver: Driver, observe: Observations) -> None:
    python_needs(driver, "embeddings_dimensions", observe=observe)
    outcome = _embed(wire, driver, {"model": EMBEDDING_LARGE, "input": EMBEDDING_TEXT,
                                    "dimensions": EMBEDDING_DIMENSIONS,
                                    "encoding_format": "float"})
    sent = wire.requests[0].json()
    observe("dimensions_sent", sent.get("dimensions"))
    expect(sent.get("dimensions") == EMBEDDING_DIMENSIONS,
           f"dimensions went out as {sent.get('dimensions')!r}, not {EMBEDDING_DIMENSIONS}")
    body = _conforms(wire, 0, observe)
    lengths = [len(_sdk_floats(vector, "dimensions")) // 4 for vector in _vectors(outcome)]
    observe("sdk_lengths", lengths)
    expect(lengths == [EMBEDDING_DIMENSIONS] * len(body["data"]),
           f"{driver.sdk} returned vectors of {lengths} values, {EMBEDDING_DIMENSIONS} were "
           "asked for")


@check(
    "embeddings.vector-lengths",
    doc="Go / Embeddings (text-embedding-3-small); .NET / Embeddings (text-embedding-3-large)",
    claim="A default call returns 1536 values for text-embedding-3-small and "
    "text-embedding-ada-002 and 3072 for text-embedding-3-large, on the wire and in the SDK.",
    refs=("wire §14.4", "sdk-behavior §7"),
    sdks=ALL_SDKS,
)
def vector_lengths(wire: Wire, driver: Driver, observe: Observations) -> None:
    python_needs(driver, "embeddings_base64_default")
    responder = _replay_in_asked_encoding(wire)
    calls = ((EMBEDDING_SMALL, EMBEDDING_INPUT), (EMBEDDING_LARGE, EMBEDDING_DOTNET_INPUT),
             (EMBEDDING_ADA, EMBEDDING_TOKENS))
    outcomes = [_embed(wire, driver, {"model": model, "input": text}) for model, text in calls]
    _replayed(responder)
    seen: dict[str, int] = {}
    for n, ((model, _), outcome) in enumerate(zip(calls, outcomes, strict=True)):
        body = _conforms(wire, n, observe)
        wire_length = len(_wire_bytes(body["data"][0]["embedding"])) // 4
        seen[model] = len(_sdk_floats((_vectors(outcome) or [None])[0], model)) // 4
        expect(wire_length == DEFAULT_LENGTHS[model],
               f"{model}: the wire vector has {wire_length} values, not {DEFAULT_LENGTHS[model]}")
        expect(seen[model] == wire_length,
               f"{model}: {driver.sdk} returned {seen[model]} values, the wire had {wire_length}")
    observe("lengths", seen)


@check(
    "embeddings.multiple-inputs",
    doc="Python / Embeddings / embeddings.create() (input as a list)",
    claim="Several inputs in one call return one item per input, in input order with index "
    "matching the position, each decoded by the SDK to its own wire vector.",
    cassette=MULTIPLE,
    refs=("wire §14.1, §14.2", "sdk-behavior §7"),
    sdks=ALL_SDKS,
)
def multiple_inputs(wire: Wire, driver: Driver, observe: Observations) -> None:
    request, outcome, body = _default_call(wire, driver, observe)
    vectors = _vectors(outcome)
    indices = observe("indices", outcome.read.indices)
    expect(len(vectors) == len(request["input"]),
           f"{len(request['input'])} inputs, {driver.sdk} returned {len(vectors)} items")
    expect(indices == list(range(len(vectors))),
           f"{driver.sdk}'s items have indices {indices}, not their positions")
    for n, vector in enumerate(vectors):
        decoded = _sdk_floats(vector, f"item {n}")
        on_wire = _wire_bytes(body["data"][n]["embedding"])
        expect(decoded == on_wire, f"item {n}: {driver.sdk}'s vector is not the wire's: "
               f"{_difference(decoded, on_wire)}")


@check(
    "embeddings.usage",
    doc="Go / Embeddings (Usage - Prompt tokens, Total tokens)",
    claim="usage carries prompt_tokens and total_tokens (equal: embeddings have no completion "
    "tokens) and the SDK exposes both as on the wire (Go Usage.PromptTokens, Java "
    "usage().promptTokens()).",
    cassette=MULTIPLE,
    refs=("wire §14.2",),
    sdks=ALL_SDKS,
)
def usage(wire: Wire, driver: Driver, observe: Observations) -> None:
    _, outcome, body = _default_call(wire, driver, observe)
    wire_usage = body["usage"]
    observe("usage", {k: wire_usage[k] for k in ("prompt_tokens", "total_tokens")})
    parsed = outcome.read.usage
    expect(isinstance(parsed, Mapping), f"the wire had usage, {driver.sdk}'s response has none")
    assert isinstance(parsed, Mapping)
    expect((parsed.get("prompt_tokens"), parsed.get("total_tokens"))
           == (wire_usage["prompt_tokens"], wire_usage["total_tokens"]),
           f"{driver.sdk}'s usage differs from the wire")
