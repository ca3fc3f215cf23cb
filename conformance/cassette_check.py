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

from .contract import RULES as CONTRACT_RULES
from .contract import WARNING, Rule, Violation, describe
from .wire import (
    Cassette,
    CassetteError,
    Interaction,
    InvalidUtf8,
    is_event_stream,
    iter_cassette_files,
    parse_events,
    validation,
)
from .wire.validation import Undecodable, decode_body, header_value

# What the cassette reader itself can find wrong, besides the contract's own rules.
JSON_BODY = "cassette.json-body"
STREAM_FRAMING = "cassette.stream-framing"
UNDECODABLE = validation.UNDECODABLE
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
             "the recorded body decodes as its content-encoding says and is UTF-8 text (replay "
             "refuses one that does not); a violation like the other cassette.* rules",
             "vcrpy cassette format"),
        Rule(EXPECTED,
             "a cassette whose metadata lists rules it breaks on purpose (violates: [...], for "
             "fault injection) breaks each of them",
             "this project (constructed cassettes)"),
        Rule(validation.STRUCTURE,
             "an interaction has vcrpy's shape: request (method, uri, body, headers) and "
             "response (status code and message, headers, body string) of the right types",
             "vcrpy cassette format"),
        Rule(validation.HEADER,
             "response header names are HTTP tokens; header values and the reason phrase are "
             "latin-1 text without CR, LF or other control characters (replay writes them on "
             "the wire)", "RFC 9110 §5.1, §5.5; RFC 9112 §4"),
        Rule(validation.STATUS, "the response status is an integer from 100 to 599",
             "RFC 9110 §15"),
        Rule(validation.EVENT_DATA,
             "each event of a 2xx event stream answering chat completions or responses has "
             "JSON data, or [DONE] (the SDKs parse every other event as JSON: replay refuses "
             "the cassette rather than blame the SDK)",
             "wire §8.1, §12.1; WHATWG HTML server-sent events"),
        Rule(validation.SIZE,
             f"bodies hold at most {validation.MAX_BODY_BYTES:,} bytes (decoded too) and a "
             f"response's headers {validation.MAX_HEADER_BYTES:,}; a cassette at most "
             f"{validation.MAX_INTERACTIONS:,} interactions", "this project (resource limits)"),
        Rule(VALIDATOR_ERROR,
             "a validator raised instead of judging; not a contract rule: a bug to report",
             "this project"),
    )
}
# Findings that mean "could not check", not "does not conform". A body that does not decode
# is a cassette.* violation like the others (replay refuses it): counted, exit 1.
FATAL = frozenset({VALIDATOR_ERROR})

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
    error: str | None = None  # "FILE: why it could not be read"


# -- reading what the recorder wrote ----------------------------------------------------------


def _header(headers: Any, name: str) -> str | None:
    return header_value(headers if isinstance(headers, dict) else {}, name)


def response_bytes(interaction: Interaction) -> bytes:
    """The response body as the client read it (and replay serves it): decompressed."""
    return decode_body(interaction.body, _header(interaction.response.get("headers"),
                                                 "content-encoding"))


def request_bytes(interaction: Interaction) -> bytes:
    """The request body as sent: decompressed (empty when there is none)."""
    raw = interaction.request.body
    if not raw:
        return b""
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    return decode_body(bytes(raw), _header(interaction.request.headers, "content-encoding"))


def request_json(interaction: Interaction) -> Any:
    """The request body as JSON, or None when there is none or it is not JSON."""
    raw = interaction.request.body
    if not raw:
        return None
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    try:
        raw = decode_body(bytes(raw), _header(dict(interaction.request.headers),
                                              "content-encoding"))
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
        events = [(e.name, e.data) for e in parse_events(raw, strict=True)]
    except InvalidUtf8 as exc:
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
    return _check(Cassette.read(path), str(path)).findings


def _check(cassette: Cassette, display: str) -> CassetteResult:
    result = CassetteResult(cassette.path)
    declared = cassette.metadata.get("violates") or []
    expected = {str(r) for r in declared} if isinstance(declared, list) else set()
    for index, interaction in cassette.numbered():
        try:
            violations = validate_interaction(interaction)
        except Undecodable as exc:
            result.findings.append(Finding(display, index, UNDECODABLE, str(exc)))
            result.checked += 1
            continue
        except Exception as exc:  # a bug here must not hide the other interactions' findings
            result.findings.append(Finding(display, index, VALIDATOR_ERROR,
                                           f"judging raised {type(exc).__name__}: {exc}"))
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
    # A defect is never excused by `violates`: replay refuses the cassette whatever it says.
    defects = [Finding(display, d.index, d.kind, d.message) for d in cassette.defects]
    result.findings = sorted(defects + result.findings,
                             key=lambda f: -1 if f.interaction is None else f.interaction)
    result.checked += len({d.index for d in cassette.defects if d.index is not None})
    return result


def check_paths(paths: Iterable[str | Path]) -> Iterator[CassetteResult]:
    """A result for each cassette named by ``paths``; folders are searched for ``*.yaml`` and
    ``*.yml``. A file that cannot be read (missing, empty, not YAML, not a cassette, too
    large), or a folder holding no cassette, is a result with an ``error``, whether it was
    named alone or found in a folder; the other files are still checked."""
    for given in map(Path, paths):
        try:
            files = list(iter_cassette_files([given]))
        except OSError as exc:
            yield CassetteResult(given, error=f"{given}: cannot list: {exc.strerror or exc}")
            continue
        if given.is_dir() and not files:
            yield CassetteResult(given, error=f"{given}: no cassette (*.yaml, *.yml) in this "
                                 "folder")
        for path in files:
            yield check_file(path)


def check_file(path: Path) -> CassetteResult:
    """One file's result; whatever goes wrong is a result with an ``error``, never an
    exception, so one bad file cannot stop the others being checked."""
    try:
        cassette = Cassette.read(path)
    except CassetteError as exc:
        if exc.kind == "missing":
            return CassetteResult(path, error=f"{path}: no such file")
        return CassetteResult(path, error=str(exc) if str(exc).startswith(f"{path}: ")
                              else f"{path}: {exc}")
    except (OSError, MemoryError, RecursionError) as exc:
        return CassetteResult(path, error=f"{path}: cannot read: {type(exc).__name__}: {exc}")
    except Exception as exc:  # the last line of defence: one file, one line, the run goes on
        return CassetteResult(path, error=f"{path}: could not be read: {type(exc).__name__}: "
                              f"{str(exc)[:300]} (a bug in this tool: please report it)")
    try:
        return _check(cassette, str(path))
    except (MemoryError, RecursionError) as exc:
        return CassetteResult(path, error=f"{path}: could not be checked: "
                              f"{type(exc).__name__} (resource limit)")
    except Exception as exc:
        return CassetteResult(path, error=f"{path}: could not be checked: "
                              f"{type(exc).__name__}: {str(exc)[:300]} (a bug in this tool: "
                              "please report it)")
