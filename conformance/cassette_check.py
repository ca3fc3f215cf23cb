"""Judging any vcrpy cassette against the contract: what ``aoai-conformance check-cassettes``
runs.

Each interaction is routed by its request: ``POST .../chat/completions``, ``POST
.../responses`` (and ``GET .../responses/{id}``), ``POST .../embeddings``; a
``text/event-stream`` answer (or ``"stream": true`` in the request) makes it a stream. A 4xx or
5xx answer to one of those, or to any other path under ``/openai/`` or ``/v1/``, is judged as an
error envelope. Request bodies are judged too where the contract has rules for them (image
parts in chat, MCP tool configurations). Anything else (token endpoints, other hosts,
redirects) is skipped, not judged.

A cassette built to misbehave (fault injection) says so in its metadata, ``violates: [rule
ids]``: those findings are expected and dropped, and a listed rule nothing breaks is a finding.

The cassettes are the user's own recordings, so the reader is lenient where the recorder was
free: ``body: {string: ...}`` or ``parsed_body`` (pydantic-ai's serializer), gzip, deflate or
brotli bodies kept as ``!!binary`` (decoded with vcrpy's own decompressors), header names in
any case.

Validators are looked up when an interaction needs them, so a contract module that does not
exist (yet) only leaves its operation unjudged.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vcr.filters import AVAILABLE_DECOMPRESSORS

from .contract import RULES as CONTRACT_RULES
from .contract import WARNING, Rule, Violation, describe
from .wire import (
    Cassette,
    CassetteError,
    CassetteNotFound,
    Interaction,
    is_event_stream,
    iter_cassette_files,
    parse_events,
)

# What the cassette reader itself can find wrong, besides the contract's own rules.
JSON_BODY = "cassette.json-body"
STREAM_FRAMING = "cassette.stream-framing"
UNDECODABLE = "cassette.undecodable-body"
VALIDATOR_ERROR = "cassette.validator-error"
EXPECTED = "cassette.expected-violation"
RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        Rule(JSON_BODY, "a non-streamed answer to a chat, responses or embeddings call is JSON",
             "wire §3.2 (content-type)"),
        Rule(STREAM_FRAMING,
             'a request with "stream": true is answered with a text/event-stream of events',
             "wire §8.1, §12.1"),
        Rule(UNDECODABLE,
             "the recorded body can be read (content-encoding, UTF-8); not a contract rule: "
             "the interaction could not be checked",
             "vcrpy cassette format"),
        Rule(EXPECTED,
             "a cassette whose metadata lists rules it breaks on purpose (violates: [...], for "
             "fault injection) breaks each of them",
             "this project (constructed cassettes)"),
        Rule(VALIDATOR_ERROR,
             "a validator raised instead of judging; not a contract rule: a bug to report",
             "this project"),
    )
}
# Findings that mean "could not check", not "does not conform".
FATAL = frozenset({UNDECODABLE, VALIDATOR_ERROR})

# Operations, by the last segment(s) of the request path.
CHAT, RESPONSES, EMBEDDINGS = "chat", "responses", "embeddings"


@dataclass(frozen=True)
class Finding:
    """One violation in one interaction: ``FILE:INDEX RULE message`` (``FILE:-`` for the
    cassette as a whole)."""

    file: str
    interaction: int | None
    rule: str
    message: str

    @property
    def fatal(self) -> bool:
        """The interaction could not be checked (exit status 2, not 1)."""
        return self.rule in FATAL

    @property
    def warning(self) -> bool:
        """The rule's evidence is mixed or absent: printed and counted, never exit 1."""
        declared = CONTRACT_RULES.get(self.rule)
        return declared is not None and declared.severity == WARNING

    def __str__(self) -> str:
        where = "-" if self.interaction is None else self.interaction
        marker = " (warning)" if self.warning else ""
        return f"{self.file}:{where} {self.rule}{marker} {self.message}"


@dataclass
class CassetteResult:
    """One cassette file: its findings and how many interactions were judged or skipped, or
    why it could not be read."""

    path: Path
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0
    skipped: int = 0
    error: str | None = None
    note: str | None = None  # a file a folder search found that is not a cassette


# -- reading what the recorder wrote ----------------------------------------------------------


def load(path: str | Path) -> Cassette:
    """Load a cassette with vcrpy; if vcrpy refuses it because bodies were stored as
    ``parsed_body`` (pydantic-ai's JSON body serializer), convert them back and retry."""
    try:
        return Cassette.load(path)
    except CassetteNotFound:
        raise
    except CassetteError as first:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise first from None
        if "parsed_body" not in text:
            raise
        return _load_parsed_bodies(Path(path), text, first)


def _load_parsed_bodies(path: Path, text: str, first: CassetteError) -> Cassette:
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serializers import yamlserializer

    class ParsedBodies:
        @staticmethod
        def deserialize(cassette_string: str) -> Any:
            data = yamlserializer.deserialize(cassette_string)
            for interaction in data.get("interactions", []) if isinstance(data, dict) else []:
                for kind in ("request", "response"):
                    part = interaction.get(kind)
                    if isinstance(part, dict) and "parsed_body" in part:
                        dumped = json.dumps(part.pop("parsed_body"))
                        part["body"] = {"string": dumped} if kind == "response" else dumped
            return data

    try:
        requests, responses, *rest = FilesystemPersister.load_cassette(path, ParsedBodies)
        interactions = [Interaction(q, r) for q, r in zip(requests, responses, strict=True)]
        for item in interactions:
            item.status  # noqa: B018  # fail here, on a malformed status
    except Exception:  # vcrpy raises ValueError, YAMLError, KeyError, TypeError...
        raise first from None
    metadata = rest[0] if rest and isinstance(rest[0], dict) else {}
    return Cassette(path, interactions, metadata)


class Undecodable(Exception):
    pass


def _header(headers: Any, name: str) -> str | None:
    """A header from a vcrpy header mapping (lists of values, any case)."""
    for key, value in (headers or {}).items():
        if str(key).lower() == name:
            if isinstance(value, (list, tuple)):
                value = value[0] if value else None
            if isinstance(value, bytes):
                value = value.decode("latin-1")
            return None if value is None else str(value)
    return None


def _decompress(raw: bytes, encoding: str | None) -> bytes:
    """Undo a content-encoding vcrpy kept (``decode_compressed_response`` off), with vcrpy's
    own decompressors (gzip, deflate, and br when brotli is installed), plus zstd when
    ``zstandard`` is installed (vcrpy has none)."""
    codings = [c.strip().lower() for c in (encoding or "").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity" or _looks_decoded(raw):
            # Some recorders decode the body but keep the header: accept it if it reads.
            continue
        decompress = AVAILABLE_DECOMPRESSORS.get("gzip" if coding == "x-gzip" else coding)
        if decompress is None and coding == "zstd":
            decompress = _zstd()
        if decompress is None:
            raise Undecodable(
                f"content-encoding {coding!r} cannot be decoded here"
                + {"br": " (install brotli)", "zstd": " (install zstandard)"}.get(coding, "")
                + "; record with vcrpy's decode_compressed_response=True"
            )
        decoded = bytes(decompress(raw))
        if decoded == raw:  # vcrpy's decompressors hand back what they cannot decompress
            raise Undecodable(f"the body does not decompress as {coding}")
        raw = decoded
    return raw


def _zstd() -> Any:
    try:
        import zstandard  # type: ignore[import-not-found]  # optional
    except ImportError:
        return None
    return zstandard.ZstdDecompressor().decompress


def _looks_decoded(raw: bytes) -> bool:
    head = raw.lstrip()[:6]
    return head[:1] in (b"{", b"[") or head.startswith((b"data:", b"event:", b":"))


def response_bytes(interaction: Interaction) -> bytes:
    """The response body as the client read it: decompressed, ``parsed_body`` dumped."""
    body = interaction.response.get("body") or {}
    if isinstance(body, dict) and "parsed_body" in body:
        return json.dumps(body["parsed_body"]).encode()
    return _decompress(interaction.body, _header(interaction.response.get("headers"),
                                                 "content-encoding"))


def request_json(interaction: Interaction) -> Any:
    """The request body as JSON, or None when there is none or it is not JSON."""
    raw = interaction.request.body
    if not raw:
        return None
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    try:
        raw = _decompress(bytes(raw), _header(interaction.request.headers, "content-encoding"))
        return json.loads(raw)
    except (Undecodable, ValueError, TypeError):
        return None


# -- routing ---------------------------------------------------------------------------------


def operation(interaction: Interaction) -> str | None:
    """``chat``, ``responses`` or ``embeddings`` for the calls the contract covers, else None."""
    method = interaction.request.method.upper()
    path = interaction.request.path.rstrip("/")
    if method == "POST":
        for suffix, name in (("/chat/completions", CHAT), ("/responses", RESPONSES),
                             ("/embeddings", EMBEDDINGS)):
            if path.endswith(suffix):
                return name
    if method == "GET":
        head, _, last = path.rpartition("/")
        if head.endswith("/responses") and last and last != "input_items":
            return RESPONSES  # GET /responses/{id}: the stored response
    return None


def _is_api(interaction: Interaction) -> bool:
    path = interaction.request.path
    return "/openai/" in path or path.startswith("/v1/")


def validate_interaction(interaction: Interaction) -> list[Violation] | None:
    """Judge one interaction; None when the contract does not cover it (skipped).

    Raises :class:`Undecodable` when its body cannot be read.
    """
    kind = operation(interaction)
    status = interaction.status
    if kind is None and not (status >= 400 and _is_api(interaction)):
        return None
    request = request_json(interaction)
    found: list[Violation] = []
    if kind is not None and request is not None:
        found += _validate_request(kind, request)
    if status >= 400:
        return found + _validate_error(status, response_bytes(interaction))
    if not 200 <= status < 300 or kind is None:
        return found or None
    raw = response_bytes(interaction)
    content_type = _header(interaction.response.get("headers"), "content-type")
    wants_stream = isinstance(request, dict) and request.get("stream") is True
    if is_event_stream(content_type) or (
        content_type is None and raw.lstrip().startswith((b"data:", b"event:"))
    ):
        return found + _validate_stream(kind, request, raw)
    if wants_stream:
        return [*found, Violation(STREAM_FRAMING, "", f'the request has "stream": true, the '
                                  f"answer is {content_type or 'not an event stream'}")]
    try:
        body = json.loads(raw)
    except ValueError as exc:
        return [*found, Violation(JSON_BODY, "", f"the body is not JSON ({exc}): "
                                  f"{describe(raw[:80])}")]
    return found + _validate_body(kind, body, request)


def _contract(module: str, name: str) -> Callable[..., list[Violation]] | None:
    """A validator by its agreed name, or None while its module does not provide it."""
    try:
        loaded = importlib.import_module(f"conformance.contract.{module}")
    except ImportError:
        return None
    found = getattr(loaded, name, None)
    return found if callable(found) else None


def _run(
    validator: Callable[..., list[Violation]] | None, *args: Any, prefix: str = "", **kwargs: Any
) -> list[Violation]:
    if validator is None:
        return []
    try:
        violations = validator(*args, **kwargs)
    except Exception as exc:  # a crash must not hide the other interactions' findings
        return [Violation(VALIDATOR_ERROR, prefix.rstrip("."),
                          f"{validator.__module__}.{validator.__name__} raised "
                          f"{type(exc).__name__}: {exc}")]
    if not prefix:
        return list(violations)
    return [Violation(v.rule, f"{prefix}{v.path}" if v.path else prefix.rstrip("."), v.message)
            for v in violations]


def _validate_request(kind: str, request: Any) -> list[Violation]:
    if not isinstance(request, dict):
        return []
    found: list[Violation] = []
    if kind == CHAT and isinstance(request.get("messages"), list):
        found += _run(_contract("image_input", "validate_chat_image_request"), request,
                      prefix="request.")
    if kind == RESPONSES:
        tools = request.get("tools")
        for n, tool in enumerate(tools if isinstance(tools, list) else []):
            if isinstance(tool, dict) and tool.get("type") == "mcp":
                found += _run(_contract("mcp", "validate_mcp_tool"), tool,
                              prefix=f"request.tools[{n}].")
        items = request.get("input")
        for n, item in enumerate(items if isinstance(items, list) else []):
            if isinstance(item, dict) and item.get("type") == "mcp_approval_response":
                found += _run(_contract("mcp", "validate_approval_response"), item,
                              prefix=f"request.input[{n}].")
    return found


def _validate_error(status: int, raw: bytes) -> list[Violation]:
    validator = _contract("errors", "validate_error")
    if validator is None:
        return []
    try:
        body: Any = json.loads(raw)
    except ValueError:
        body = raw.decode("utf-8", "replace")  # non-JSON: the validator says so
    return _run(validator, status, body)


def _validate_stream(kind: str, request: Any, raw: bytes) -> list[Violation]:
    try:
        events = [(e.name, e.data) for e in parse_events(raw)]
    except UnicodeDecodeError as exc:
        raise Undecodable(f"the event stream is not UTF-8: {exc}") from None
    if not events:
        return [Violation(STREAM_FRAMING, "", "the event stream has no events")]
    if kind == CHAT:
        validator = _contract("chat_stream", "validate_chat_stream")
        options = request.get("stream_options") if isinstance(request, dict) else None
        include_usage = options.get("include_usage") if isinstance(options, dict) else None
        if validator is not None and "include_usage" in inspect.signature(validator).parameters:
            return _run(validator, events, include_usage=include_usage)
        return _run(validator, events)
    if kind == RESPONSES:
        return _run(_contract("responses_stream", "validate_responses_stream"), events)
    return [Violation(STREAM_FRAMING, "", f"{kind} answers are never streamed")]


def _validate_body(kind: str, body: Any, request: Any) -> list[Violation]:
    if kind == CHAT:
        return _run(_contract("chat", "validate_completion"), body)
    if kind == RESPONSES:
        return _run(_contract("responses", "validate_response"), body)
    return _run(_contract("embeddings", "validate_embeddings"), body,
                request if isinstance(request, dict) else None)


# -- files -----------------------------------------------------------------------------------


def _message(violation: Violation) -> str:
    return f"{violation.path}: {violation.message}" if violation.path else violation.message


def check_cassette(path: str | Path) -> list[Finding]:
    """Every finding in one cassette file. Raises :class:`CassetteError` if it cannot be read."""
    return _check(load(path), str(path)).findings


def _check(cassette: Cassette, display: str) -> CassetteResult:
    result = CassetteResult(cassette.path)
    declared = cassette.metadata.get("violates") or []
    expected = {str(r) for r in declared} if isinstance(declared, list) else set()
    for index, interaction in enumerate(cassette.interactions):
        try:
            violations = validate_interaction(interaction)
        except Undecodable as exc:
            result.findings.append(Finding(display, index, UNDECODABLE, str(exc)))
            result.checked += 1
            continue
        if violations is None:
            result.skipped += 1
            continue
        result.checked += 1
        result.findings.extend(Finding(display, index, v.rule, _message(v)) for v in violations)
    if expected:
        seen = {f.rule for f in result.findings}
        result.findings = [f for f in result.findings if f.rule not in expected]
        result.findings.extend(
            Finding(display, None, EXPECTED, f"metadata says the cassette breaks {rule}; "
                    "no interaction does") for rule in sorted(expected - seen))
    return result


def check_paths(paths: Iterable[str | Path]) -> Iterator[CassetteResult]:
    """A result for each cassette named by ``paths``; folders are searched for ``*.yaml`` and
    ``*.yml``. A file that cannot be read, or a folder holding no cassette, is a result with
    an ``error``; the others are still checked. YAML files a folder search finds that are not
    cassettes (no ``interactions``) get a ``note`` instead."""
    for given in map(Path, paths):
        files = list(iter_cassette_files([given]))
        if given.is_dir() and not files:
            yield CassetteResult(given, error=f"no cassette (*.yaml, *.yml) under {given}")
        for path in files:
            try:
                yield _check(load(path), str(path))
            except CassetteError as exc:
                if path != given and not _mentions_interactions(path):
                    yield CassetteResult(path, note=f"{path} is not a cassette, skipped")
                else:
                    yield CassetteResult(path, error=str(exc))
            except OSError as exc:  # a folder named *.yaml, a permission problem
                yield CassetteResult(path, error=f"cannot read cassette {path}: {exc}")


def _mentions_interactions(path: Path) -> bool:
    try:
        return "interactions" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True
