"""Embeddings cassettes.

One vector was recorded (text-embedding-3-small, base64, against api.openai.com); its float
twin is derived from it. Every other vector here is constructed: a pseudo-random unit vector
computed with integer arithmetic and IEEE basic operations only, so every platform rebuilds
the same bytes. They stand in for a model's output; only their lengths and encodings matter.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import Any

from conformance.suites._requests import (
    EMBEDDING_ADA,
    EMBEDDING_DIMENSIONS,
    EMBEDDING_DOTNET_INPUT,
    EMBEDDING_INPUT,
    EMBEDDING_LARGE,
    EMBEDDING_SMALL,
    EMBEDDING_TEXT,
    EMBEDDING_TOKENS,
)
from conformance.wire import Cassette, Interaction, make_interaction

from .common import BASE, CASSETTES, REQUEST_HEADERS, compact, constructed, example, source

# No embeddings response headers were recorded; only the content type is asserted.
RESPONSE_HEADERS = {"content-type": "application/json"}

RECORDED = source("embeddings.base64.openai.json", "recorded against api.openai.com, not Azure; "
                  "the body schema is the one v1 defines")
RECORDED_REQUEST = source("embeddings.base64.openai.request.json",
                          "the SDK default request (encoding_format base64)")
DERIVED = source("embeddings.float.derived.json", "the recorded vector decoded to floats")
VARIANTS = source("embeddings.request-variants.json")


def float32(values: list[float]) -> list[float]:
    """Round to float32, the precision the service computes in."""
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def shortest(value: float) -> float:
    """The shortest decimal that reads back as the same float32 (as the service prints)."""
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if float32([candidate]) == [value]:
            return candidate
    return value


def unit_vector(seed: str, length: int) -> list[float]:
    """A deterministic pseudo-random float32 unit vector (sha256 counter, no libm calls)."""
    raw = []
    for n in range(length):
        digest = hashlib.sha256(f"{seed}:{n}".encode()).digest()
        raw.append(int.from_bytes(digest[:4], "little") / 2**31 - 1.0)
    norm = math.sqrt(sum(v * v for v in raw))
    return float32([v / norm for v in raw])


def encode(values: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode("ascii")


def body(model: str, vectors: list[Any], tokens: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": n, "embedding": v}
                 for n, v in enumerate(vectors)],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def exchange(request: dict[str, Any], response: Any) -> Interaction:
    return make_interaction(
        method="POST",
        uri=f"{BASE}/embeddings",
        request_json=request,
        request_headers=REQUEST_HEADERS,
        status=200,
        response_headers=RESPONSE_HEADERS,
        body=compact(response),
    )


def encodings() -> Cassette:
    recorded = example("embeddings.base64.openai.request.json")["body"]
    assert recorded["model"] == EMBEDDING_SMALL, recorded
    assert recorded["input"] == EMBEDDING_INPUT, recorded
    floats = dict(recorded, encoding_format="float")
    return Cassette(
        CASSETTES / "embeddings" / "encodings.yaml",
        [
            exchange(recorded, example("embeddings.base64.openai.json")),
            exchange(floats, example("embeddings.float.derived.json")),
        ],
        constructed(
            "the recorded embeddings request (text-embedding-3-small, ['Hello, world!']) with "
            "encoding_format base64, then the same with encoding_format float",
            RECORDED_REQUEST, RECORDED, DERIVED,
        ),
    )


def dimensions() -> Cassette:
    request = example("embeddings.request-variants.json")["reduced_dimensions"]
    assert request == {"model": EMBEDDING_LARGE, "input": EMBEDDING_TEXT,
                       "encoding_format": "float", "dimensions": EMBEDDING_DIMENSIONS}, request
    vector = [shortest(v) for v in unit_vector("dimensions", EMBEDDING_DIMENSIONS)]
    return Cassette(
        CASSETTES / "embeddings" / "dimensions.yaml",
        [exchange(request, body(EMBEDDING_LARGE, [vector], 2))],
        constructed(
            f"text-embedding-3-large, {EMBEDDING_TEXT!r}, dimensions {EMBEDDING_DIMENSIONS}, "
            "encoding_format float (the reduced_dimensions variant)",
            source("embeddings.request-variants.json", "request: reduced_dimensions"),
            vector="constructed: a pseudo-random float32 unit vector, printed as the shortest "
            "decimals that round-trip through float32",
        ),
    )


def vector_lengths() -> Cassette:
    recorded = example("embeddings.base64.openai.request.json")["body"]
    large = {"model": EMBEDDING_LARGE, "input": EMBEDDING_DOTNET_INPUT,
             "encoding_format": "base64"}
    ada = {"model": EMBEDDING_ADA, "input": EMBEDDING_TOKENS, "encoding_format": "base64"}
    return Cassette(
        CASSETTES / "embeddings" / "vector-lengths.yaml",
        [
            exchange(recorded, example("embeddings.base64.openai.json")),
            exchange(large, body(EMBEDDING_LARGE, [encode(unit_vector("large", 3072))], 4)),
            exchange(ada, body(EMBEDDING_ADA, [encode(unit_vector("ada", 1536))], 2)),
        ],
        constructed(
            "one SDK-default call (encoding_format base64) per model family: "
            "text-embedding-3-small with the recorded input, text-embedding-3-large with the "
            ".NET sample's input, text-embedding-ada-002 with the token_array_input variant",
            RECORDED_REQUEST, RECORDED, VARIANTS,
            vector="text-embedding-3-small: recorded; the 3072- and 1536-value vectors of "
            "text-embedding-3-large and ada-002 are constructed pseudo-random unit vectors",
        ),
    )


# embeddings/multiple-inputs.yaml is a real recording (scripts/package_recordings.py).
BUILDERS = [encodings, dimensions, vector_lengths]
