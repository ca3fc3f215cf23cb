"""Embeddings (wire §14): the ``list`` of ``embedding`` items, float or base64 vectors.

Without the request, a body is checked on its own: shapes, indices, base64 that decodes to
whole little-endian float32 values, usage. With the request it answered, also: one item per
input, the encoding that was asked for (``float`` when none was), the ``dimensions`` asked
for, and the default length of the model family the body names.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import struct
from collections.abc import Sequence
from typing import Any

from . import Findings, Violation, describe, is_count, is_int, is_object, rule

OBJECT = rule("embeddings.object", 'object is "list"', "wire §14.2")
MODEL = rule("embeddings.model", "model is a non-empty string", "wire §14.2")
DATA = rule("embeddings.data", "data is a non-empty array of objects", "wire §14.2, §14.3")
ITEM_OBJECT = rule("embeddings.item.object", 'each data item has object "embedding"',
                   "wire §14.2")
INDEX = rule(
    "embeddings.index",
    "each item has an integer index, unique, between 0 and the number of items - 1",
    "wire §14.2",
)
ORDER = rule("embeddings.order", "data[i].index == i: items come in input order", "wire §14.2")
VECTOR = rule(
    "embeddings.vector",
    "embedding is a non-empty array of finite numbers or a base64 string",
    "wire §14.2",
)
BASE64 = rule(
    "embeddings.base64",
    "a base64 embedding is standard base64 (padded, no line breaks) of 4*d bytes: d finite "
    "little-endian float32 values, d >= 1",
    "wire §14.3",
)
SAME_LENGTH = rule("embeddings.same-length", "every vector in one response has the same length",
                   "wire §14.2, §14.4")
USAGE = rule(
    "embeddings.usage",
    "usage is {prompt_tokens, total_tokens}: non-negative integers, total_tokens == "
    "prompt_tokens (embeddings have no completion tokens)",
    "wire §14.2",
)
COUNT = rule("embeddings.count", "one data item per input of the request", "wire §14.1, §14.2")
ENCODING = rule(
    "embeddings.encoding",
    "vectors come in the requested encoding_format: arrays for float (the default), strings "
    "for base64",
    "wire §14.1, §14.3",
)
DIMENSIONS = rule("embeddings.dimensions", "with dimensions=N in the request, every vector has "
                  "N values", "wire §14.1, §14.4")
DEFAULT_LENGTH = rule(
    "embeddings.default-length",
    "without dimensions, a text-embedding-3-small or ada-002 vector has 1536 values and a "
    "text-embedding-3-large vector 3072",
    "wire §14.4",
)

# Model families by the prefix of the `model` the response names (a dated or versioned
# suffix may follow). Azure deployment names are free-form, so the request's `model` is
# never used for this.
DEFAULT_LENGTHS = (
    ("text-embedding-3-small", 1536),
    ("text-embedding-3-large", 3072),
    ("text-embedding-ada-002", 1536),
)

_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


def decode_base64(text: str) -> list[float]:
    """Decode a base64 embedding into its little-endian float32 values.

    Raises :class:`ValueError` if the text is not strict base64 of a whole number of floats.
    """
    if not _BASE64.fullmatch(text):
        raise ValueError("not standard padded base64")
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not base64: {exc}") from None
    if not raw or len(raw) % 4:
        raise ValueError(f"decodes to {len(raw)} bytes, not a positive multiple of 4")
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def default_length(model: object) -> int | None:
    """The documented default vector length for the model a response names, if known."""
    if not isinstance(model, str):
        return None
    for prefix, length in DEFAULT_LENGTHS:
        if model == prefix or model.startswith(prefix + "-"):
            return length
    return None


def input_count(value: object) -> int | None:
    """How many embeddings a request ``input`` asks for (wire §14.1), or None if malformed:
    a string or a token array is one input, an array of strings or of token arrays is many."""
    if isinstance(value, str):
        return 1
    if not isinstance(value, list) or not value:
        return None
    if all(is_int(v) for v in value):
        return 1
    if all(isinstance(v, str) for v in value) or all(
        isinstance(v, list) and all(is_int(t) for t in v) for v in value
    ):
        return len(value)
    return None


def validate_embeddings(body: Any, request: Any = None) -> list[Violation]:
    """Validate an embeddings response body, and against ``request`` (the JSON request body)
    when given."""
    found = Findings()
    if not found.require(is_object(body), OBJECT, "", f"expected an object, got {describe(body)}"):
        return found.violations
    found.require(body.get("object") == "list", OBJECT, "object",
                  f"expected 'list', got {describe(body.get('object'))}")
    found.require(isinstance(body.get("model"), str) and body["model"], MODEL, "model",
                  f"expected a non-empty string, got {describe(body.get('model'))}")
    _check_usage(found, body.get("usage"))
    data = body.get("data")
    if not found.require(
        isinstance(data, list) and data and all(is_object(item) for item in data), DATA, "data",
        f"expected a non-empty array of objects, got {describe(data)}",
    ):
        return found.violations
    lengths = _check_items(found, data)
    if len(set(lengths.values())) > 1:
        found.add(SAME_LENGTH, "data", "vector lengths differ: " + ", ".join(
            f"data[{n}] has {length}" for n, length in lengths.items()))
    if is_object(request):
        _check_against_request(found, body, data, lengths, request)
    return found.violations


def _check_usage(found: Findings, usage: Any) -> None:
    ok = is_object(usage) and is_count(usage.get("prompt_tokens")) and is_count(
        usage.get("total_tokens"))
    if not found.require(ok, USAGE, "usage", f"expected {{prompt_tokens, total_tokens}} "
                         f"non-negative integers, got {describe(usage)}"):
        return
    found.require(usage["total_tokens"] == usage["prompt_tokens"], USAGE, "usage.total_tokens",
                  f"{usage['total_tokens']} != prompt_tokens {usage['prompt_tokens']}")


def _check_items(found: Findings, data: Sequence[Any]) -> dict[int, int]:
    """Check each item; returns the vector length of every item whose vector is readable."""
    lengths: dict[int, int] = {}
    seen: set[int] = set()
    for n, item in enumerate(data):
        path = f"data[{n}]"
        found.require(item.get("object") == "embedding", ITEM_OBJECT, f"{path}.object",
                      f"expected 'embedding', got {describe(item.get('object'))}")
        index = item.get("index")
        if found.require(is_int(index) and 0 <= index < len(data) and index not in seen, INDEX,
                         f"{path}.index", f"expected a unique integer in 0..{len(data) - 1}, got "
                         f"{describe(index)}"):
            seen.add(index)
            found.require(index == n, ORDER, f"{path}.index",
                          f"item {n} carries index {index}: items are out of input order")
        vector = item.get("embedding")
        where = f"{path}.embedding"
        if isinstance(vector, str):
            try:
                values = decode_base64(vector)
            except ValueError as exc:
                found.add(BASE64, where, f"{exc} ({len(vector)} characters)")
                continue
            if found.require(all(map(math.isfinite, values)), BASE64, where,
                             "decodes to NaN or infinite float32 values: not little-endian "
                             "float32"):
                lengths[n] = len(values)
        elif found.require(
            isinstance(vector, list) and vector and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in vector),
            VECTOR, where, f"expected an array of finite numbers or a base64 string, got "
            f"{describe(vector)}",
        ):
            lengths[n] = len(vector)
    return lengths


def _check_against_request(
    found: Findings, body: Any, data: Sequence[Any], lengths: dict[int, int], request: Any
) -> None:
    count = input_count(request.get("input"))
    if count is not None:
        found.require(len(data) == count, COUNT, "data",
                      f"the request has {count} input(s), the response {len(data)} item(s)")
    requested = request.get("encoding_format") or "float"
    wanted = str if requested == "base64" else list
    for n, item in enumerate(data):
        vector = item.get("embedding")
        if isinstance(vector, (str, list)):
            found.require(isinstance(vector, wanted), ENCODING, f"data[{n}].embedding",
                          f"encoding_format {requested!r} was requested, got a "
                          f"{'base64 string' if isinstance(vector, str) else 'float array'}")
    dimensions = request.get("dimensions")
    if is_int(dimensions):
        for n, length in lengths.items():
            found.require(length == dimensions, DIMENSIONS, f"data[{n}].embedding",
                          f"dimensions={dimensions} was requested, the vector has {length}")
    elif dimensions is None:
        expected = default_length(body.get("model"))
        if expected is not None:
            for n, length in lengths.items():
                found.require(length == expected, DEFAULT_LENGTH, f"data[{n}].embedding",
                              f"{body['model']} vectors have {expected} values, this one "
                              f"{length}")
