"""What a cassette interaction must be before anything uses it: the one validator that both
``check-cassettes`` and replay apply.

It works on an interaction as the YAML reader returned it (plain dicts and lists), before
vcrpy or this project builds objects from it, so a wrong type anywhere is a clear defect
instead of a ``KeyError`` later. A response may only carry what can go on the wire verbatim:
a status from 100 to 599, a reason phrase and header values without CR, LF or other control
characters, header names that are HTTP tokens, latin-1 header text, and a body that decodes
as its ``content-encoding`` says (the same decoding replay serves). Sizes are bounded.

An event stream is read with the one SSE parser (:mod:`.sse`), as the SDKs read it: it must be
UTF-8, and on the routes whose SDKs parse every event as JSON (chat completions, responses) each
event's data must be JSON, or ``[DONE]``. Replaying anything else would blame the SDK for the
cassette.
"""

from __future__ import annotations

import io
import json
import re
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .sse import DONE, InvalidUtf8, is_event_stream, parse_events

MAX_INTERACTIONS = 10_000
MAX_BODY_BYTES = 16 * 1024 * 1024  # a body, recorded or decoded
MAX_HEADER_BYTES = 64 * 1024  # all header names and values of one response together

# Defect kinds, as check-cassettes reports them (rule ids).
STRUCTURE = "cassette.structure"
HEADER = "cassette.header"
STATUS = "cassette.status"
SIZE = "cassette.size"
UNDECODABLE = "cassette.undecodable-body"
EVENT_DATA = "cassette.event-data"

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Field values and reason phrases: visible characters, space, tab and obs-text; never CR, LF,
# NUL or another control character.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_REQUEST_KEYS = frozenset({"method", "uri", "body", "headers"})
# Paths whose 2xx event streams the SDKs read as JSON events: POST .../chat/completions,
# POST .../responses, GET .../responses/{id} (a resumed background stream).
_JSON_EVENTS = re.compile(r"/(?:chat/completions|responses(?:/[^/]+)?)/?$")


class Undecodable(ValueError):
    """A body that does not decode as its content-encoding says."""


@dataclass(frozen=True)
class Defect:
    """Why interaction ``index`` (None: the cassette as a whole) cannot be used."""

    index: int | None
    kind: str
    message: str


def control_free(text: str) -> bool:
    return _CONTROL.search(text) is None


def _show(text: str, limit: int = 60) -> str:
    shown = repr(text[:limit])
    return shown + ("..." if len(text) > limit else "")


def interaction_defects(index: int, raw: Any) -> list[Defect]:
    """Every defect of one interaction as read from YAML (an empty list: usable)."""
    found = [Defect(index, kind, message) for kind, message in _defects(raw)]
    return found


def _defects(raw: Any) -> Iterator[tuple[str, str]]:
    if not isinstance(raw, Mapping):
        yield STRUCTURE, f"an interaction is a mapping with request and response, not {_type(raw)}"
        return
    request, response = raw.get("request"), raw.get("response")
    if not isinstance(request, Mapping):
        yield STRUCTURE, f"request is {_type(request)}, not a mapping"
    else:
        yield from _request_defects(request)
    if not isinstance(response, Mapping):
        yield STRUCTURE, f"response is {_type(response)}, not a mapping"
        return
    yield from _response_defects(response, _json_events(request, response))


def _request_defects(request: Mapping[Any, Any]) -> Iterator[tuple[str, str]]:
    extra = sorted(str(k) for k in request if k not in _REQUEST_KEYS)
    if extra:
        yield STRUCTURE, (f"request has unknown keys {extra} (vcrpy's are method, uri, body, "
                          "headers)")
    for key in ("method", "uri"):
        value = request.get(key)
        if not isinstance(value, str) or not value:
            yield STRUCTURE, f"request.{key} is {_type(value)}, not a non-empty string"
    method = request.get("method")
    if isinstance(method, str) and method and not _TOKEN.fullmatch(method):
        yield STRUCTURE, f"request.method {_show(method)} is not an HTTP method"
    body = request.get("body")
    if not isinstance(body, (str, bytes, type(None))):
        yield STRUCTURE, f"request.body is {_type(body)}, not a string"
    elif body is not None and len(body) > MAX_BODY_BYTES:
        yield SIZE, f"request.body has {len(body):,} bytes, more than {MAX_BODY_BYTES:,}"
    elif isinstance(body, str) and not _utf8(body):
        yield UNDECODABLE, "request.body is not UTF-8 text (it holds a lone surrogate)"
    headers = request.get("headers", {})
    if headers is None:
        return
    if not isinstance(headers, Mapping):
        yield STRUCTURE, f"request.headers is {_type(headers)}, not a mapping"
        return
    for name, values in headers.items():
        if not isinstance(name, str) or not _values(values):  # vcrpy needs one value at least
            yield STRUCTURE, f"request header {_show(str(name))} is not a name with string values"


def _json_events(request: Any, response: Mapping[Any, Any]) -> bool:
    """Whether the SDKs read each event of this answer as JSON (a 2xx stream of a route that
    streams JSON events)."""
    status = response.get("status")
    code = status.get("code") if isinstance(status, Mapping) else None
    uri = request.get("uri") if isinstance(request, Mapping) else None
    if not (isinstance(code, int) and 200 <= code < 300 and isinstance(uri, str)):
        return False
    try:
        path = urlsplit(uri).path
    except ValueError:
        return False
    return _JSON_EVENTS.search(path) is not None and not path.endswith("/input_items")


def _response_defects(
    response: Mapping[Any, Any], json_events: bool = False
) -> Iterator[tuple[str, str]]:
    status = response.get("status")
    if not isinstance(status, Mapping):
        yield STRUCTURE, f"response.status is {_type(status)}, not a mapping with code, message"
    else:
        code = status.get("code")
        if isinstance(code, bool) or not isinstance(code, int):
            yield STATUS, f"response.status.code is {_type(code)}, not an integer"
        elif not 100 <= code <= 599:
            yield STATUS, f"response.status.code {code} is not an HTTP status (100-599)"
        reason = status.get("message")
        if reason is not None and not isinstance(reason, str):
            yield STRUCTURE, f"response.status.message is {_type(reason)}, not a string"
        elif reason and not control_free(reason):
            yield HEADER, (f"the reason phrase {_show(reason)} holds CR, LF or another control "
                           "character: it would be written raw into the status line")
        elif reason and not _latin1(reason):
            yield HEADER, f"the reason phrase {_show(reason)} is not latin-1 text"
    yield from _response_header_defects(response.get("headers", {}))
    yield from _body_defects(response, json_events)


def _response_header_defects(headers: Any) -> Iterator[tuple[str, str]]:
    if headers is None:
        return
    if not isinstance(headers, Mapping):
        yield STRUCTURE, f"response.headers is {_type(headers)}, not a mapping"
        return
    total = 0
    for name, values in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            yield HEADER, (f"response header name {_show(str(name))} is not an HTTP token "
                           "(letters, digits, !#$%&'*+-.^_`|~)")
            continue
        texts = _values(values)
        if texts is None:
            yield STRUCTURE, (f"response header {name!r} is {_type(values)}, not a string or "
                              "a list of strings")
            continue
        for text in texts:
            total += len(name) + len(text)
            if not control_free(text):
                yield HEADER, (f"response header {name!r} value {_show(text)} holds CR, LF or "
                               "another control character: it would be written raw on the wire")
            elif not _latin1(text):
                yield HEADER, (f"response header {name!r} value {_show(text)} is not latin-1 "
                               "text (HTTP/1.1 headers are bytes)")
    if total > MAX_HEADER_BYTES:
        yield SIZE, f"the response headers hold {total:,} bytes, more than {MAX_HEADER_BYTES:,}"


def _body_defects(response: Mapping[Any, Any], json_events: bool) -> Iterator[tuple[str, str]]:
    body = response.get("body", {})
    if body is None:
        return
    if not isinstance(body, Mapping):
        yield STRUCTURE, f"response.body is {_type(body)}, not a mapping with string"
        return
    raw = body.get("string")
    if not isinstance(raw, (str, bytes, type(None))):
        yield STRUCTURE, f"response.body.string is {_type(raw)}, not a string"
        return
    if isinstance(raw, str) and not _utf8(raw):
        yield UNDECODABLE, "response.body.string is not UTF-8 text (it holds a lone surrogate)"
        return
    data = raw.encode("utf-8") if isinstance(raw, str) else raw or b""
    if len(data) > MAX_BODY_BYTES:
        yield SIZE, f"the response body has {len(data):,} bytes, more than {MAX_BODY_BYTES:,}"
        return
    headers = response.get("headers")
    encoding = header_value(headers if isinstance(headers, Mapping) else {}, "content-encoding")
    try:
        decoded = decode_body(data, encoding)
    except Undecodable as exc:
        yield UNDECODABLE, str(exc)
        return
    content_type = header_value(headers if isinstance(headers, Mapping) else {}, "content-type")
    if is_event_stream(content_type) or (
        content_type is None and decoded.lstrip().startswith((b"data:", b"event:"))
    ):
        yield from _stream_defects(decoded, json_events)


def _stream_defects(body: bytes, json_events: bool) -> Iterator[tuple[str, str]]:
    """An event stream the SDKs cannot read as recorded: not UTF-8, or (``json_events``) an
    event whose data is neither JSON nor ``[DONE]``."""
    try:
        events = parse_events(body, strict=True)
    except InvalidUtf8 as exc:
        yield UNDECODABLE, f"the event stream is not UTF-8: {exc}"
        return
    if not json_events:
        return
    for n, event in enumerate(events):
        if event.data == DONE:
            continue
        try:
            json.loads(event.data)
        except ValueError as exc:
            yield EVENT_DATA, (f"event {n}'s data {_show(event.data)} is not JSON ({exc}): the "
                               "SDKs read each event of this answer as JSON ([DONE] aside)")
            return


def _values(values: Any) -> list[str] | None:
    """Header values as text (bytes read as latin-1), or None when they are not strings."""
    if isinstance(values, (str, bytes)):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, (str, bytes)) for v in values):
        return None
    return [v.decode("latin-1") if isinstance(v, bytes) else v for v in values]


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _latin1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _type(value: Any) -> str:
    if value is None:
        return "missing"
    return {dict: "a mapping", list: "a list", str: "a string", bytes: "binary", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)


def header_value(headers: Mapping[Any, Any], name: str) -> str | None:
    """The first value of header ``name`` (any case) in a vcrpy header mapping."""
    for key, value in headers.items():
        if str(key).lower() == name:
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return None if value is None else str(value)
    return None


# -- bodies -----------------------------------------------------------------------------------


def decode_body(raw: bytes, encoding: str | None, limit: int = MAX_BODY_BYTES) -> bytes:
    """Undo the ``content-encoding`` a recorder kept (gzip, deflate; br with brotli, zstd with
    zstandard installed), never producing more than ``limit`` bytes (a decompression bomb is
    refused, not inflated). A body that already reads as JSON or an event stream under such a
    header is taken as decoded: some recorders decode the body and keep the header."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity" or _looks_decoded(raw):
            continue
        decompress = _DECOMPRESSORS.get("gzip" if coding == "x-gzip" else coding)
        if decompress is None:
            raise Undecodable(
                f"content-encoding {coding!r} cannot be decoded here"
                + {"br": " (install brotli)", "zstd": " (install zstandard)"}.get(coding, "")
                + "; record with vcrpy's decode_compressed_response=True"
            )
        raw = decompress(raw, limit)
    return raw


def _zlib(wbits: int, name: str, fallback: int | None = None) -> Callable[[bytes, int], bytes]:
    def decompress(raw: bytes, limit: int) -> bytes:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(raw, limit + 1)
        except zlib.error as exc:
            if fallback is not None:  # "deflate" is zlib-wrapped or, from some servers, raw
                return _zlib(fallback, name)(raw, limit)
            raise Undecodable(f"the body does not decompress as {name}: {exc}") from None
        if len(out) > limit:
            raise Undecodable(f"the body decompresses to more than {limit:,} bytes: refused")
        if not inflater.eof:
            raise Undecodable(f"the body is a truncated {name} stream")
        return out

    return decompress


def _brotli(raw: bytes, limit: int) -> bytes:
    import brotli  # type: ignore[import-not-found]  # optional

    try:
        decoder = brotli.Decompressor()
        out = bytes(decoder.process(raw, output_buffer_limit=limit + 1))
    except Exception as exc:  # brotli.error, or TypeError from an old brotli without limits
        raise Undecodable(f"the body does not decompress as br: {exc}") from None
    if len(out) > limit:
        raise Undecodable(f"the body decompresses to more than {limit:,} bytes: refused")
    return out


def _zstd(raw: bytes, limit: int) -> bytes:
    import zstandard  # type: ignore[import-not-found]  # optional

    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)) as reader:
            out = bytes(reader.read(limit + 1))
    except zstandard.ZstdError as exc:
        raise Undecodable(f"the body does not decompress as zstd: {exc}") from None
    if len(out) > limit:
        raise Undecodable(f"the body decompresses to more than {limit:,} bytes: refused")
    return out


def _available() -> dict[str, Callable[[bytes, int], bytes]]:
    found = {"gzip": _zlib(zlib.MAX_WBITS | 16, "gzip"),
             "deflate": _zlib(zlib.MAX_WBITS, "deflate", fallback=-zlib.MAX_WBITS)}
    try:
        import brotli  # noqa: F401
    except ImportError:
        pass
    else:
        found["br"] = _brotli
    try:
        import zstandard  # noqa: F401
    except ImportError:
        pass
    else:
        found["zstd"] = _zstd
    return found


_DECOMPRESSORS = _available()


def _looks_decoded(raw: bytes) -> bool:
    head = raw.lstrip()[:6]
    return head[:1] in (b"{", b"[") or head.startswith((b"data:", b"event:", b":"))


def parsed_bodies(raw: Any) -> Any:
    """pydantic-ai's JSON serializer stores bodies as ``parsed_body``: turn them back into the
    ``body`` vcrpy reads (in place; anything else is left for the validator)."""
    if not isinstance(raw, dict):
        return raw
    for kind in ("request", "response"):
        part = raw.get(kind)
        if isinstance(part, dict) and "parsed_body" in part:
            try:
                dumped = json.dumps(part.pop("parsed_body"))
            except (TypeError, ValueError):
                dumped = ""
            part["body"] = {"string": dumped} if kind == "response" else dumped
    return raw
